#![doc = include_str!("../README.md")]
//!
//! ## In detail
//!
//! Sans-IO MTProto 2.0 core.
//!
//! Nothing here performs I/O, reads a clock or draws OS randomness: bytes,
//! the current time ([`Now`]: a wall-clock [`Timestamp`] for msg_ids and a
//! [`Monotonic`] reading for timers) and an RNG go in; bytes, events and the
//! next timeout come out. Every transcript is replayable.
//!
//! - [`handshake`]: the auth-key exchange, client and server roles.
//! - [`session`]: the encrypted session (client and server roles).
//! - [`wire`]: the one wire layer both roles use: message headers,
//!   sealing and opening packets, containers, seqnos, bad_msg codes.
//! - [`msg_id`]: message identifiers.
//! - [`pfs`]: perfect forward secrecy: binding a temporary key to the
//!   permanent one (`auth.bindTempAuthKey`), both roles.

pub mod handshake;
pub mod msg_id;
pub mod pfs;
pub mod session;
pub mod time;
pub mod wire;

#[cfg(feature = "testing")]
#[doc(hidden)]
pub mod fuzz;

pub use mtproto_tl::RpcError;
pub use time::{Monotonic, Now, Timestamp};

#[cfg(feature = "testing")]
pub mod testing;
