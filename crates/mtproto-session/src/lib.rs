//! Sans-IO MTProto 2.0 core.
//!
//! Nothing here performs I/O, reads a clock or draws OS randomness: bytes,
//! the current [`Timestamp`] and an RNG go in; bytes, events and the next
//! timeout come out. Every transcript is replayable.
//!
//! - [`handshake`]: the auth-key exchange, client and server roles.
//! - [`session`]: the encrypted session (msg_id/seqno, salts, acks,
//!   containers, rpc routing, service messages).
//! - [`msg_id`]: message identifiers.

pub mod handshake;
pub mod msg_id;
pub mod session;
pub mod time;

pub use time::Timestamp;
