#![doc = include_str!("../README.md")]
//!
//! ## In detail
//!
//! One sans-IO MTProto connection, for either role, in the shape of
//! quinn-proto's `Connection`.
//!
//! A [`Connection`] owns the three layers between a socket and the caller:
//! the transport codec (`mtproto-transport`: framing, obfuscation, padding),
//! the auth-key handshake and the encrypted session (`mtproto-session`).
//! The transport and the session do not know each other; this crate joins
//! them. It performs no I/O and reads no clock:
//!
//! - [`handle_bytes`](Connection::handle_bytes): bytes read from the socket;
//! - [`poll_transmit`](Connection::poll_transmit): bytes to write, appended
//!   to the caller's buffer;
//! - [`poll_event`](Connection::poll_event): what happened;
//! - [`poll_timeout`](Connection::poll_timeout) and
//!   [`handle_timeout`](Connection::handle_timeout): timers, on the
//!   monotonic clock of [`Now`].
//!
//! The shells (the tokio client in `mtproto-client`, the test server in
//! `mtproto-testserver`) keep only socket reads and writes, sleeping until
//! the next timeout, and policy (reconnecting, limits, faults).
//!
//! ```
//! use mtproto_connection::{ClientParams, ClientStart, Connection};
//! use mtproto_session::session::{ClientSession, Config};
//! use mtproto_session::{testing, Now, Timestamp};
//! use mtproto_transport::TransportKind;
//!
//! // A client whose key the server already knows (a saved session).
//! let now = Now::from(Timestamp::from_secs(testing::START));
//! let session = ClientSession::new(testing::key(1), testing::SALT, Config::default(), [1; 32]);
//! let params = ClientParams::new(TransportKind::Intermediate, [2; 32]);
//! let mut conn = Connection::client(now, params, ClientStart::Resume(session)).unwrap();
//! let request = conn.enqueue(now, testing::req(7), None).unwrap();
//! let mut wire = Vec::new();
//! assert!(conn.poll_transmit(now, &mut wire));
//! // intermediate: the 0xeeeeeeee tag, then a length-prefixed packet.
//! assert_eq!(&wire[..4], &[0xee; 4]);
//! # let _ = request;
//! ```

// Without the `server` feature `Role` has one variant: matching on it is
// irrefutable.
#![cfg_attr(not(feature = "server"), allow(irrefutable_let_patterns))]

mod client;
mod event;
mod link;
#[cfg(feature = "server")]
mod server;

use std::collections::VecDeque;

use bytes::BytesMut;
use mtproto_session::handshake::decode_plain;
use mtproto_session::{Monotonic, Now};
use mtproto_transport::TransportError;
use rand_chacha::ChaCha20Rng;

pub use client::{ClientParams, ClientStart, TempKeys};
pub use event::{ClientKey, ConnectionError, EnqueueError, Event, ServerKey};
#[cfg(feature = "server")]
pub use server::{
    AdmissionPolicy, KeyStore, PacketTamper, ServerParams, Tampered, MAX_FUTURE_SALTS,
};

use client::ClientRole;
use link::Link;
#[cfg(feature = "server")]
use server::ServerRole;

/// One MTProto connection (sans-IO), client or server. `Debug` shows the
/// role's state and the buffers' sizes, never the RNG or key material.
pub struct Connection {
    link: Link,
    role: Role,
    rng: ChaCha20Rng,
    events: VecDeque<Event>,
    closed: bool,
    /// One packet at a time, reused (no allocation per packet).
    scratch: Vec<u8>,
    /// Transport frames received whole (see [`Connection::frames_received`]).
    frames_in: u64,
}

impl core::fmt::Debug for Connection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Connection")
            .field("link", &self.link)
            .field("role", &self.role)
            .field("events", &self.events.len())
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

// A connection keeps one role for its whole life; the roles differ by a
// few hundred bytes, and boxing one would put an indirection on every call.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Role {
    Client(ClientRole),
    #[cfg(feature = "server")]
    Server(ServerRole),
}

impl Connection {
    /// Feeds bytes read from the socket at `now`.
    pub fn handle_bytes(&mut self, now: Now, data: &[u8]) {
        if self.closed {
            return;
        }
        self.link.push(data);
        #[cfg(feature = "server")]
        if let Role::Server(_) = self.role {
            match self.link.detect() {
                Ok(false) => return,
                Ok(true) => {
                    if let (Role::Server(s), Some(kind)) = (&mut self.role, self.link.kind()) {
                        if s.note_detected() {
                            self.events.push_back(Event::TransportDetected(kind));
                        }
                    }
                }
                Err(e) => return self.close(ConnectionError::Transport(e)),
            }
        }
        while !self.closed {
            match self.link.next_payload() {
                Ok(Some(payload)) => {
                    self.frames_in += 1;
                    self.handle_payload(now, payload);
                }
                Ok(None) => break,
                // mtproto-transports, "Transport errors": a frame holding only
                // a negative code. Reported; what to do is the owner's policy.
                Err(TransportError::Remote(code)) => {
                    self.frames_in += 1;
                    self.events.push_back(Event::TransportError(code));
                }
                Err(e) => self.close(ConnectionError::Transport(e)),
            }
        }
        self.pump();
    }

    fn handle_payload(&mut self, now: Now, mut payload: BytesMut) {
        // An unencrypted message has auth_key_id 0 (mtproto/description,
        // "Unencrypted Message"): the handshake.
        let plain = payload.get(..8) == Some(&[0u8; 8][..]);
        if plain {
            self.events.push_back(Event::HandshakeMessage {
                sent: false,
                name: plain_name(&payload),
                bytes: payload.len(),
            });
        }
        let mut cx = Cx {
            link: &mut self.link,
            rng: &mut self.rng,
            events: &mut self.events,
        };
        let result = match &mut self.role {
            Role::Client(c) => c.handle_payload(now, plain, &mut payload, &mut cx),
            #[cfg(feature = "server")]
            Role::Server(s) => s.handle_payload(now, plain, &mut payload, &mut cx),
        };
        if let Err(e) = result {
            self.close(e);
        }
    }

    /// Appends the bytes to write to the socket to `out` and returns whether
    /// there were any: everything the session has to send at `now`, framed.
    pub fn poll_transmit(&mut self, now: Now, out: &mut Vec<u8>) -> bool {
        if !self.closed {
            let mut sent = false;
            loop {
                let more = match &mut self.role {
                    Role::Client(c) => c.poll_packet(now, &mut self.scratch),
                    #[cfg(feature = "server")]
                    Role::Server(s) => s.poll_packet(now, &mut self.scratch),
                };
                if !more {
                    break;
                }
                sent = true;
                if let Err(e) = self.send_scratch() {
                    self.close(ConnectionError::Transport(e));
                    break;
                }
            }
            if sent {
                self.pump();
            }
        }
        self.link.take_outbound(out)
    }

    /// Frames the packet in `scratch` (a server's tamper policy may change
    /// or replace it first).
    fn send_scratch(&mut self) -> Result<(), TransportError> {
        #[cfg(feature = "server")]
        if let Role::Server(s) = &mut self.role {
            match s.tamper(&self.scratch) {
                None => {}
                Some(Tampered::Send(packets)) => {
                    return packets.iter().try_for_each(|p| self.link.send(p));
                }
                Some(Tampered::TransportError(code)) => return self.link.send_error(code),
            }
        }
        self.link.send(&self.scratch)
    }

    /// The next event, if any.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.pump();
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Monotonic> {
        match &self.role {
            Role::Client(c) if !self.closed => c.poll_timeout(),
            _ => None,
        }
    }

    /// Runs the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Now) {
        if let Role::Client(c) = &mut self.role {
            c.handle_timeout(now);
        }
        self.pump();
    }

    /// Whether the connection closed (see [`Event::Closed`]).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// How many transport frames arrived whole so far: progress, as opposed to
    /// bytes (a peer trickling a frame byte by byte makes none).
    pub fn frames_received(&self) -> u64 {
        self.frames_in
    }

    /// Bytes received and not yet part of a whole frame (a partial frame, or
    /// a transport tag / obfuscated init still incomplete).
    pub fn buffered_inbound(&self) -> usize {
        self.link.buffered_inbound()
    }

    /// The transport, once known (a server learns it from the first bytes).
    pub fn transport(&self) -> Option<mtproto_transport::TransportKind> {
        self.link.kind()
    }

    /// Moves the session's events into the connection's queue.
    fn pump(&mut self) {
        if let Role::Client(c) = &mut self.role {
            c.drain_events(&mut self.events);
        }
    }

    fn close(&mut self, error: ConnectionError) {
        if !self.closed {
            self.closed = true;
            self.events.push_back(Event::Closed(error));
        }
    }
}

/// What a role's payload handler may touch besides its own state.
struct Cx<'a> {
    link: &'a mut Link,
    rng: &'a mut ChaCha20Rng,
    events: &'a mut VecDeque<Event>,
}

impl Cx<'_> {
    /// Frames an unencrypted handshake message and reports it.
    fn send_plain(&mut self, msg: &[u8]) -> Result<(), ConnectionError> {
        self.events.push_back(Event::HandshakeMessage {
            sent: true,
            name: plain_name(msg),
            bytes: msg.len(),
        });
        self.link.send(msg).map_err(ConnectionError::Transport)
    }
}

/// The TL name of an unencrypted message's body.
fn plain_name(msg: &[u8]) -> &'static str {
    decode_plain(msg)
        .ok()
        .and_then(|m| m.body.get(..4).map(|b| [b[0], b[1], b[2], b[3]]))
        .and_then(|id| mtproto_tl::mtproto::name_for_id(u32::from_le_bytes(id)))
        .unwrap_or("?")
}

/// Draws an independent 32-byte seed (for a session or a transport).
fn sub_seed(rng: &mut ChaCha20Rng) -> [u8; 32] {
    let mut s = [0u8; 32];
    rand::RngCore::fill_bytes(rng, &mut s);
    s
}
