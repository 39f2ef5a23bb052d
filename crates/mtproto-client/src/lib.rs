#![doc = include_str!("../README.md")]
//!
//! ## In detail
//!
//! An async MTProto 2.0 client on tokio, built on the sans-IO crates
//! (`mtproto-transport`, `mtproto-session`, `mtproto-crypto`, `mtproto-tl`).
//!
//! - [`Client::connect`] opens a TCP connection with the chosen
//!   [`TransportKind`](mtproto_transport::TransportKind), runs the auth-key
//!   handshake (or resumes a saved [`SessionData`]) and spawns ONE task that
//!   owns the socket and the [`ClientSession`](mtproto_session::session::ClientSession).
//! - [`Client::invoke`] sends any [`RemoteCall`](mtproto_tl::RemoteCall) and
//!   decodes its answer; many tasks may call it at once (the handle is
//!   `Clone`; an mpsc goes to the task, a oneshot comes back). Dropping the
//!   future only discards the answer.
//! - When the connection drops, the task reconnects with exponential backoff
//!   and re-sends every unanswered request in a new session.
//! - With an `api_id`, the first request of each connection is wrapped in
//!   `invokeWithLayer(initConnection(..))`.
//! - [`ConnectEvent`]s report each handshake step (name, size, time).
//! - [`methods`] has typed methods whose documented errors are enum variants.
//!
//! ```no_run
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! use mtproto_client::{methods, Client, ClientConfig};
//! use mtproto_tl::api::enums::{InputPeer, SendMessageAction};
//! let cfg = ClientConfig::new("127.0.0.1:4430".parse()?, "intermediate".parse()?);
//! let client = Client::connect(cfg).await?;
//! let ok = methods::set_typing(&client, InputPeer::InputPeerSelf,
//!     SendMessageAction::SendMessageTypingAction, None).await?;
//! std::fs::write("session.hex", client.session_data().to_hex())?;
//! # let _ = ok; Ok(()) }
//! ```

mod client;
mod config;
mod dcs;
mod driver;
mod error;
pub mod methods;
mod net;
/// Naming peers as users do, and the peer cache (the `mtproto-peers` crate).
pub use mtproto_peers as peers;
/// Session storage: the file format, file and memory stores, Telethon
/// `StringSession` (the `mtproto-store` crate).
pub use mtproto_store as store;
mod session_data;
mod updates;

pub use client::{Client, ClientStats};
pub use config::{
    ClientConfig, ConnectEvent, FloodWaitPolicy, InitParams, MessageDirection, ReconnectPolicy,
    DEFAULT_TEMP_KEY_LIFETIME,
};
pub use dcs::Migration;
pub use driver::{PfsStatus, PEER_FAULT_CONNECTIONS};
pub use error::{ConnectError, InvocationError, ResolveError, RpcError};
/// Updates in order (the `mtproto-updates` crate).
pub use mtproto_updates::Batch;
pub use peers::{PeerCache, PeerError, PeerRef};
pub use session_data::{SessionData, SessionDataError};
pub use updates::{Updates, UPDATES_BUFFERED};

/// The README's code examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
