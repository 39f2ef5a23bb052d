//! The encrypted session, sans-IO, in the shape of quinn-proto's
//! `Connection`: the caller enqueues requests, feeds incoming packets with
//! the current time, and polls for packets to transmit
//! ([`ClientSession::poll_transmit`]), for events
//! ([`ClientSession::poll_event`]) and for the next deadline
//! ([`ClientSession::poll_timeout`], then [`ClientSession::handle_timeout`]).
//!
//! [`ClientSession`] is the library's role. [`ServerSession`] is enough of
//! a server for tests: it decrypts client packets (x = 0), encrypts its own
//! (x = 8), answers pings, issues salts and lets an admission policy drop
//! or reject packets, so that a client and a server can run against each
//! other in memory on a virtual clock (`mtproto_session::testing::Pair`,
//! feature `testing`).
//!
//! Packets here are whole encrypted MTProto packets (`auth_key_id`,
//! `msg_key`, encrypted data); framing them is the transport's job.

mod client;
mod config;
mod errors;
mod events;
mod replay;
#[cfg(feature = "server")]
mod server;

pub use client::{ClientSession, ConnectionWrapper, SessionStats};
pub use config::{Config, DEFAULT_MAX_PACKET_INFLATION, DEFAULT_MAX_REQUEST_LEN, REQUEST_OVERHEAD};
pub use errors::{Check, IncomingError, RequestError, RequestId};
pub use events::{BindFailure, SessionEvent, Violation};
pub use mtproto_crypto::{AuthKey, PacketError};
pub use mtproto_tl::DecodeError;
#[cfg(feature = "server")]
pub use replay::KeyReplayWindow;
#[cfg(feature = "server")]
pub use server::{Admission, ServerSession, ServerSessionStats};

pub use crate::RpcError;

/// Whether `msg_id` lies in the window the spec accepts around the
/// (offset-corrected) current time.
///
/// description, "Important Checks": "msg_id values that belong over 30
/// seconds in the future or over 300 seconds in the past are to be ignored."
/// The comparison uses local time corrected by the learned server time
/// offset, so a local clock that is hours off still works once synced.
pub(crate) fn in_time_window(msg_id: i64, now: crate::Timestamp, offset_secs: i64) -> bool {
    let t = i128::from(crate::msg_id::msg_id_secs(msg_id));
    let server_now = i128::from(now.as_secs()) + i128::from(offset_secs);
    t >= server_now - 300 && t <= server_now + 30
}
