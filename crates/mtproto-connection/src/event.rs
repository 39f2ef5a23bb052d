//! What a connection reports, and why it closed.

use core::fmt;

use mtproto_crypto::AuthKey;
use mtproto_session::handshake::{HandshakeError, PqInnerVariant, RsaScheme};
use mtproto_session::session::{IncomingError, SessionEvent};
use mtproto_transport::{TransportError, TransportErrorCode, TransportKind};

/// The key a client handshake made.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientKey {
    /// The new authorization key (its `Debug` shows only its id).
    pub auth_key: AuthKey,
    /// The first server salt.
    pub salt: i64,
    /// Server time minus local time, seconds.
    pub time_offset: i32,
    /// Fingerprint of the server's RSA key that was used.
    pub rsa_fingerprint: i64,
    /// For a temporary key ([`ClientParams::pfs`](crate::ClientParams::pfs)):
    /// until when it lives, server time (the handshake's time plus
    /// `expires_in`); its binding is under way.
    pub expires_at: Option<i32>,
}

/// The key a server handshake made.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerKey {
    /// The new key's id.
    pub auth_key_id: u64,
    /// The RSA scheme the client used.
    pub rsa_scheme: RsaScheme,
    /// Which `p_q_inner_data` the client sent.
    pub inner: PqInnerVariant,
    /// Fingerprint of the RSA key the client chose.
    pub rsa_fingerprint: i64,
}

/// What a [`Connection`](crate::Connection) reports.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Server: the client's first bytes named its transport.
    TransportDetected(TransportKind),
    /// An unencrypted handshake message went out or came in.
    HandshakeMessage {
        /// `true` for an outgoing message.
        sent: bool,
        /// Its TL name (`req_pq_multi`, ...), or `?`.
        name: &'static str,
        /// Its size in bytes.
        bytes: usize,
    },
    /// Client: the handshake made a new key; the session runs on it now.
    KeyReady(Box<ClientKey>),
    /// Server: the handshake made a new key (stored in the key store).
    ServerKeyReady(ServerKey),
    /// Client: the session is running on this connection; `resent` requests
    /// from earlier connections will be re-sent or state-checked.
    Resumed {
        /// How many.
        resent: usize,
    },
    /// Client: something the session reports (answers, failures, salt and
    /// time changes, updates, violations).
    Session(SessionEvent),
    /// Server: a request from the client, to answer with
    /// [`Connection::respond`](crate::Connection::respond).
    Request {
        /// Its msg_id.
        msg_id: i64,
        /// Its body (inflated if it came `gzip_packed`).
        body: Vec<u8>,
    },
    /// Server: an encrypted packet failed a check and was ignored. (A client
    /// connection closes instead: [`ConnectionError::PacketRejected`].)
    PacketRejected(IncomingError),
    /// The peer sent a transport error code (`-404`: auth key not found,
    /// `-429`: transport flood, ...).
    TransportError(TransportErrorCode),
    /// The connection is closed; what is already framed can still be
    /// flushed with [`poll_transmit`](crate::Connection::poll_transmit).
    Closed(ConnectionError),
}

/// Why a connection closed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionError {
    /// The byte stream cannot be framed (garbage, an oversized frame, ...).
    Transport(TransportError),
    /// The auth-key handshake failed.
    Handshake(HandshakeError),
    /// Server: a packet under an auth key the server does not know; it was
    /// answered with transport error `-404`.
    UnknownAuthKey {
        /// The key id in the packet.
        auth_key_id: u64,
    },
    /// Client: a server packet failed an integrity check (named by
    /// [`IncomingError::check`]); it was discarded whole and, as
    /// security_guidelines recommend, the connection closed.
    PacketRejected(IncomingError),
}

impl fmt::Display for ConnectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Transport(e) => write!(f, "transport: {e}"),
            Self::Handshake(e) => write!(f, "handshake: {e}"),
            Self::UnknownAuthKey { auth_key_id } => {
                write!(f, "unknown auth key {auth_key_id:#018x}")
            }
            Self::PacketRejected(e) => write!(f, "server packet refused: {e}"),
        }
    }
}

impl std::error::Error for ConnectionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Transport(e) => Some(e),
            Self::Handshake(e) => Some(e),
            Self::PacketRejected(e) => Some(e),
            Self::UnknownAuthKey { .. } => None,
        }
    }
}

/// Why a request could not be enqueued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnqueueError {
    /// A server connection sends no requests.
    NotClient,
    /// No session yet: the first handshake is still running.
    NotReady,
}

impl fmt::Display for EnqueueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotClient => f.write_str("a server connection sends no requests"),
            Self::NotReady => f.write_str("no session yet (handshake running)"),
        }
    }
}

impl std::error::Error for EnqueueError {}
