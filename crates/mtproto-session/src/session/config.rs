//! Tunables of a session.

use core::time::Duration;

/// Bytes a packet adds around a request body, at most: the encrypted
/// envelope (24), the internal header (32), a container's header and the
/// message's header inside it (8 + 16), padding (27), and room for a
/// connection wrapper such as `invokeWithLayer(initConnection(..))`.
pub const REQUEST_OVERHEAD: usize = 4096;

/// The default [`Config::max_request_len`]: a 16 MiB transport frame less
/// [`REQUEST_OVERHEAD`].
pub const DEFAULT_MAX_REQUEST_LEN: usize = 16 * 1024 * 1024 - REQUEST_OVERHEAD;

/// Tunables of a session. [`Config::default`] follows the spec and tdlib.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// How long a request may stay unanswered before it fails with
    /// [`RequestError::Timeout`](super::RequestError::Timeout) (default 60 s).
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
    /// reported dead with [`SessionEvent::ConnectionDead`](super::SessionEvent::ConnectionDead) (default 20 s; `None`
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
    /// Largest request body (as the caller gives it) the session accepts. A
    /// larger one fails at once with [`RequestError::TooLarge`](super::RequestError::TooLarge)
    /// instead of being sent: no transport could carry it. Default
    /// [`DEFAULT_MAX_REQUEST_LEN`]; a connection lowers it to what its
    /// transport carries.
    pub max_request_len: usize,
    /// How many times one request is re-sent (salt, time, msg_id problems)
    /// before it fails with [`RequestError::TooManyResends`](super::RequestError::TooManyResends).
    pub max_resends: u32,
    /// The amplification bound: the most bytes one incoming packet may make
    /// the session inflate (`gzip_packed`, however nested, in however many
    /// messages of a container) and copy out of the packet, in total.
    /// Beyond it the packet fails with
    /// [`IncomingError::AmplificationBound`](super::IncomingError::AmplificationBound)
    /// and nothing in it is processed. Default [`DEFAULT_MAX_PACKET_INFLATION`]
    /// (16 MiB).
    pub max_packet_inflation: usize,
}

/// The default [`Config::max_packet_inflation`]: 16 MiB.
pub const DEFAULT_MAX_PACKET_INFLATION: usize = 16 * 1024 * 1024;

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
            max_request_len: DEFAULT_MAX_REQUEST_LEN,
            max_packet_inflation: DEFAULT_MAX_PACKET_INFLATION,
        }
    }
}
