//! The encrypted session, sans-IO, in the shape of quinn-proto's
//! `Connection`: the caller enqueues requests, feeds incoming packets with
//! the current time, and polls for packets to transmit
//! ([`ClientSession::poll_transmit`]), for events
//! ([`ClientSession::poll_event`]) and for the next deadline
//! ([`ClientSession::poll_timeout`], then [`ClientSession::handle_timeout`]).
//!
//! [`ClientSession`] is the library's role. [`ServerSession`] is a test
//! server: it decrypts client packets (x = 0), encrypts its own (x = 8),
//! answers pings, issues salts and can inject faults, so that a client and a
//! server can run against each other in memory on a virtual clock.
//!
//! Packets here are whole encrypted MTProto packets (`auth_key_id`,
//! `msg_key`, encrypted data); framing them is the transport's job.

mod client;
mod replay;
mod server;
pub(crate) mod wire;

use core::fmt;
use core::time::Duration;

pub use client::{ClientSession, ClientStats, ConnectionWrapper};
pub use mtproto_crypto::{AuthKey, PacketError};
pub use mtproto_tl::DecodeError;
pub use server::{Fault, ServerSession, ServerStats};

/// Identifies one request enqueued on a [`ClientSession`]. Stays the same
/// when the request is re-sent under a new msg_id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub u64);

/// `rpc_error#2144ca19 error_code:int error_message:string = RpcError;`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpcError {
    /// `error_code`.
    pub code: i32,
    /// `error_message`, e.g. `FLOOD_WAIT_3`.
    pub message: String,
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rpc error {}: {}", self.code, self.message)
    }
}

/// Why a request ended without an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestError {
    /// No answer before the request's deadline.
    Timeout,
    /// The server rejected the message (bad_msg_notification) with a code
    /// for which re-sending cannot help (18, or an unknown code).
    BadMessage {
        /// The bad_msg_notification `error_code`.
        code: i32,
    },
    /// "64: invalid container" — the container carrying the request was
    /// rejected as a whole.
    InvalidContainer,
    /// The request was re-sent [`Config::max_resends`] times without success.
    TooManyResends,
    /// The answer arrived but could not be decoded (e.g. a `gzip_packed`
    /// result that does not inflate).
    MalformedAnswer(DecodeError),
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout => f.write_str("request timed out"),
            Self::BadMessage { code } => write!(f, "server rejected the message (code {code})"),
            Self::InvalidContainer => f.write_str("server rejected the container (code 64)"),
            Self::TooManyResends => f.write_str("request re-sent too many times"),
            Self::MalformedAnswer(e) => write!(f, "malformed answer: {e}"),
        }
    }
}

impl std::error::Error for RequestError {}

/// Something the server sent that the session could not use. Reported as
/// [`Event::ProtocolViolation`]; the session keeps running.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// An answer (`rpc_result`, `pong`, `future_salts`) for a msg_id that is
    /// not a pending request: already answered, timed out, or never sent.
    UnknownRequest {
        /// The `req_msg_id` (or `pong.msg_id`) in the answer.
        req_msg_id: i64,
    },
    /// A bad_msg_notification / bad_server_salt about a msg_id this session
    /// did not recently send (ignored, so a forged or stale one cannot move
    /// the clock or the salt).
    UnknownBadMsgId {
        /// The `bad_msg_id`.
        bad_msg_id: i64,
        /// The `error_code`.
        code: i32,
    },
    /// A message from the wrong direction: "server message identifiers
    /// modulo 4 yield 1 [...] and 3 otherwise" (or, for the server role,
    /// a client msg_id not divisible by 4).
    BadMsgIdParity {
        /// The offending msg_id.
        msg_id: i64,
    },
    /// A container inside a container ("may not carry other simple
    /// containers"), or `gzip_packed` nested deeper than allowed.
    Nesting {
        /// The msg_id of the message.
        msg_id: i64,
    },
    /// A contained message whose msg_id is not lower than its container's.
    ContainerOrder {
        /// The contained msg_id.
        msg_id: i64,
    },
    /// A message body that does not decode.
    Malformed {
        /// The msg_id of the message.
        msg_id: i64,
        /// The decoding error.
        error: DecodeError,
    },
}

/// What the session reports to its owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The answer to a request: the raw bytes of the result object (inflated
    /// if it came `gzip_packed`), or the decoded `rpc_error`. For a ping the
    /// bytes are the `pong`; for get_future_salts, the `future_salts`.
    Response {
        /// The request.
        request: RequestId,
        /// The result.
        result: Result<Vec<u8>, RpcError>,
    },
    /// The request ended without an answer.
    RequestFailed {
        /// The request.
        request: RequestId,
        /// Why.
        error: RequestError,
    },
    /// new_session_created: the server (re)created its session state; there
    /// may be a gap in updates.
    NewSession {
        /// `first_msg_id`.
        first_msg_id: i64,
        /// `unique_id`.
        unique_id: i64,
    },
    /// The session now sends with a new server salt.
    SaltChanged {
        /// The new salt.
        salt: i64,
    },
    /// The client started a new session (new session_id, seqno reset)
    /// after a seqno error (bad_msg_notification 32..=35); pending requests
    /// are re-sent in it.
    SessionReset {
        /// The new session_id.
        session_id: i64,
        /// The error code that caused it.
        code: i32,
    },
    /// The time offset (server time minus local time, seconds) changed.
    TimeOffsetChanged {
        /// The new offset.
        offset_secs: i64,
    },
    /// A server message that is not a response nor a service message
    /// (an update), inflated if it came `gzip_packed`.
    Update(Vec<u8>),
    /// A server message the session could not use.
    ProtocolViolation(Violation),
    /// The keepalive `ping_delay_disconnect` got no `pong` within
    /// [`Config::pong_timeout`]: the connection is presumed dead. The owner
    /// should close it, call [`ClientSession::connection_lost`], reconnect
    /// and call [`ClientSession::resume_on_new_connection`].
    ConnectionDead,
}

/// Why an incoming packet was rejected as a whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IncomingError {
    /// Decryption or one of its checks failed (auth_key_id, msg_key,
    /// length, padding).
    Crypto(PacketError),
    /// "Under no circumstances can a message meant for one session be sent
    /// into a different session": the packet's session_id is not ours.
    WrongSession {
        /// The session_id in the packet.
        session_id: i64,
    },
}

impl fmt::Display for IncomingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Crypto(e) => write!(f, "packet rejected: {e}"),
            Self::WrongSession { session_id } => {
                write!(f, "packet for another session ({session_id:#x})")
            }
        }
    }
}

impl std::error::Error for IncomingError {}

impl From<PacketError> for IncomingError {
    fn from(e: PacketError) -> Self {
        Self::Crypto(e)
    }
}

/// Tunables of a session. [`Config::default`] follows the spec and tdlib.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// How long a request may stay unanswered before it fails with
    /// [`RequestError::Timeout`] (default 60 s).
    pub request_timeout: Duration,
    /// How long a received content-related message may wait for its
    /// `msgs_ack` to ride along with another message (default 5 s).
    pub ack_delay: Duration,
    /// Send a stand-alone `msgs_ack` once this many are pending: "if there
    /// is a large number of unacknowledged messages from the server (say,
    /// over 16), the client transmits a stand-alone acknowledgment".
    pub max_pending_acks: usize,
    /// Send a keepalive `ping_delay_disconnect` this often (default 60 s;
    /// `None` disables keepalive).
    pub ping_interval: Option<Duration>,
    /// The `disconnect_delay` of the keepalive: "If the client sends these
    /// pings once every 60 seconds, for example, it may set disconnect_delay
    /// equal to 75 seconds."
    pub disconnect_delay_secs: i32,
    /// How long the keepalive's `pong` may take before the connection is
    /// reported dead with [`Event::ConnectionDead`] (default 20 s; `None`
    /// disables the check).
    pub pong_timeout: Option<Duration>,
    /// Request bodies longer than this are sent as `gzip_packed` when that
    /// is smaller (default 512 bytes).
    pub gzip_threshold: usize,
    /// How many recent incoming msg_ids to remember against replays
    /// ("the identifiers (msg_id) of the last N messages received from the
    /// other side must be stored"). Default 1024.
    pub replay_window: usize,
    /// Most requests per container. tdlib (SessionConnection::flush_packet):
    /// "send at most 1020 queries, of total size 2^15"; the spec's hard
    /// limit is 1024 messages, which leaves room for acks and a ping.
    pub max_container_messages: usize,
    /// Most request bytes per container (2^15, as tdlib). A single larger
    /// request is sent on its own.
    pub max_container_bytes: usize,
    /// How many times one request is re-sent (salt, time, msg_id problems)
    /// before it fails with [`RequestError::TooManyResends`].
    pub max_resends: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(60),
            ack_delay: Duration::from_secs(5),
            max_pending_acks: 16,
            ping_interval: Some(Duration::from_secs(60)),
            disconnect_delay_secs: 75,
            pong_timeout: Some(Duration::from_secs(20)),
            gzip_threshold: 512,
            replay_window: 1024,
            max_container_messages: 1020,
            max_container_bytes: 1 << 15,
            max_resends: 5,
        }
    }
}

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

/// The fixed key used by [`fuzz_incoming`]: bytes 0x00..=0xff.
fn fuzz_key() -> AuthKey {
    let mut k = [0u8; 256];
    for (i, b) in k.iter_mut().enumerate() {
        *b = i as u8;
    }
    AuthKey::from_bytes(k)
}

/// Fuzz entry point: feeds `data` to both roles, raw and as validly
/// encrypted plaintext (so it gets past the msg_key check), with a fixed
/// auth key and seed. Must never panic.
pub fn fuzz_incoming(data: &[u8]) {
    use mtproto_crypto::packet::{encrypt_into_rng, Direction};
    use rand::SeedableRng;

    let key = fuzz_key();
    let now = crate::Timestamp::from_secs(1_700_000_000);
    let mut client = ClientSession::new(key.clone(), 0x1111, Config::default(), [7; 32]);
    let mut server = ServerSession::new(key.clone(), 0x1111, Config::default(), [9; 32]);
    let _ = client.handle_incoming(now, data);
    let _ = server.handle_incoming(now, data);

    let mut rng = rand_chacha::ChaCha20Rng::from_seed([3; 32]);
    let mut out = Vec::new();
    // 1. `data` as the whole plaintext (header included).
    for dir in [Direction::ServerToClient, Direction::ClientToServer] {
        if encrypt_into_rng(&key, dir, data, &mut rng, &mut out).is_ok() {
            match dir {
                Direction::ServerToClient => {
                    let _ = client.handle_incoming(now, &out);
                }
                Direction::ClientToServer => {
                    let _ = server.handle_incoming(now, &out);
                }
            }
        }
    }
    // 2. `data` as the body of a well-formed message of the right session,
    //    with a msg_id in the time window.
    let (seq, body) = match data.split_first() {
        Some((s, rest)) => (i32::from(*s), rest),
        None => (0, data),
    };
    let body = &body[..body.len() - body.len() % 4];
    let server_id = (crate::msg_id::raw_msg_id(now, 0) & !3) | 1;
    let plain = |salt: i64, session: i64, msg_id: i64| {
        let mut p = Vec::with_capacity(32 + body.len());
        p.extend_from_slice(&salt.to_le_bytes());
        p.extend_from_slice(&session.to_le_bytes());
        p.extend_from_slice(&msg_id.to_le_bytes());
        p.extend_from_slice(&seq.to_le_bytes());
        p.extend_from_slice(&(body.len() as u32).to_le_bytes());
        p.extend_from_slice(body);
        p
    };
    let p = plain(0x1111, client.session_id(), server_id);
    if encrypt_into_rng(&key, Direction::ServerToClient, &p, &mut rng, &mut out).is_ok() {
        let _ = client.handle_incoming(now, &out);
    }
    let p = plain(0x1111, 0x2222, server_id & !3);
    if encrypt_into_rng(&key, Direction::ClientToServer, &p, &mut rng, &mut out).is_ok() {
        let _ = server.handle_incoming(now, &out);
    }
    // Drive both after the input.
    let later = now.add(Duration::from_secs(3600));
    for t in [now, later] {
        client.handle_timeout(t);
        server.handle_timeout(t);
        while client.poll_event().is_some() {}
        let _ = client.poll_transmit(t);
        let _ = server.poll_transmit(t);
        while server.poll_request().is_some() {}
    }
}
