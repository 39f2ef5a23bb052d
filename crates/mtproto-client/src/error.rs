//! Errors of the client: RPC errors as parsed, invocation and connection errors.

use core::fmt;

use mtproto_session::handshake::HandshakeError;
use mtproto_session::session::RequestError;
use mtproto_tl::DecodeError;
use mtproto_transport::TransportError;

pub use mtproto_session::RpcError;

/// Why [`Client::invoke`](crate::Client::invoke) failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvocationError {
    /// The server answered with an `rpc_error`.
    Rpc(RpcError),
    /// No answer within the request timeout.
    Timeout,
    /// The client's connection task is gone (all handles dropped, or it gave
    /// up reconnecting).
    Disconnected,
    /// A `*_MIGRATE_X` error named DC `dc`, which could not be reached.
    DcUnreachable {
        /// The DC.
        dc: i32,
        /// Why.
        reason: String,
    },
    /// The session gave up on the request (e.g. too many re-sends, a
    /// `bad_msg_notification` that re-sending cannot fix).
    Dropped(RequestError),
    /// The answer arrived but does not decode as the method's return type.
    Decode(DecodeError),
    /// The server broke the same protocol rule on
    /// [`PEER_FAULT_CONNECTIONS`](crate::PEER_FAULT_CONNECTIONS) connections
    /// in a row (each time the client discarded the packet, closed the
    /// connection and reconnected): reconnecting cannot help.
    PeerFault {
        /// The rule, by name (e.g. "msg_key mismatch: ...").
        rule: String,
        /// Connections in a row that ended on it.
        connections: u32,
    },
}

impl fmt::Display for InvocationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rpc(e) => write!(f, "{e}"),
            Self::Timeout => f.write_str("request timed out"),
            Self::Disconnected => f.write_str("client disconnected"),
            Self::DcUnreachable { dc, reason } => write!(f, "cannot reach DC {dc}: {reason}"),
            Self::Dropped(e) => write!(f, "request dropped: {e}"),
            Self::Decode(e) => write!(f, "cannot decode the answer: {e}"),
            Self::PeerFault { rule, connections } => write!(
                f,
                "the server broke a protocol rule on {connections} connections in a row: {rule}"
            ),
        }
    }
}

impl std::error::Error for InvocationError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Rpc(e) => Some(e),
            Self::Dropped(e) => Some(e),
            Self::Decode(e) => Some(e),
            Self::Timeout
            | Self::Disconnected
            | Self::DcUnreachable { .. }
            | Self::PeerFault { .. } => None,
        }
    }
}

impl From<RpcError> for InvocationError {
    fn from(e: RpcError) -> Self {
        Self::Rpc(e)
    }
}

/// Why [`Client::connect`](crate::Client::connect) (or a reconnect) failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConnectError {
    /// TCP connect, read or write failed.
    Io(std::io::Error),
    /// Connecting or the handshake took longer than the connect timeout.
    Timeout,
    /// The peer closed the connection.
    Closed,
    /// The transport codec rejected the stream.
    Transport(TransportError),
    /// The auth-key handshake failed.
    Handshake(HandshakeError),
    /// The configuration is unusable (e.g. no RSA key).
    Config(&'static str),
    /// The session store could not be read (a corrupt file, a future
    /// version, ...): nothing was reset.
    Store(mtproto_store::StoreError),
    /// Perfect forward secrecy: the server refused to bind the temporary
    /// key (`auth.bindTempAuthKey`).
    Bind(mtproto_session::session::BindFailure),
    /// A server packet failed a check while the connection was being
    /// brought up (the answer to the binding of a temporary key).
    PacketRejected(mtproto_session::session::IncomingError),
    /// The server sent a transport error code while the connection was
    /// being brought up (`-404`: it does not know the key).
    ServerError(mtproto_transport::TransportErrorCode),
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "i/o error: {e}"),
            Self::Timeout => f.write_str("connect timed out"),
            Self::Closed => f.write_str("connection closed by the server"),
            Self::Transport(e) => write!(f, "transport error: {e}"),
            Self::Handshake(e) => write!(f, "handshake failed: {e}"),
            Self::Config(e) => write!(f, "bad configuration: {e}"),
            Self::Store(e) => write!(f, "{e}"),
            Self::Bind(e) => write!(f, "binding the temporary key failed: {e}"),
            Self::PacketRejected(e) => write!(f, "server packet refused: {e}"),
            Self::ServerError(code) => write!(f, "transport error {code} from the server"),
        }
    }
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::Transport(e) => Some(e),
            Self::Handshake(e) => Some(e),
            Self::Store(e) => Some(e),
            Self::PacketRejected(e) => Some(e),
            Self::Timeout
            | Self::Closed
            | Self::Config(_)
            | Self::Bind(_)
            | Self::ServerError(_) => None,
        }
    }
}

impl From<std::io::Error> for ConnectError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

impl From<TransportError> for ConnectError {
    fn from(e: TransportError) -> Self {
        Self::Transport(e)
    }
}

impl From<HandshakeError> for ConnectError {
    fn from(e: HandshakeError) -> Self {
        Self::Handshake(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_trailing_number() {
        let e = RpcError::parse(420, "FLOOD_WAIT_17");
        assert_eq!(e.name, "FLOOD_WAIT");
        assert_eq!(e.value, Some(17));
        assert_eq!(e.flood_wait_secs(), Some(17));
        assert_eq!(e.message(), "FLOOD_WAIT_17");
        let e = RpcError::parse(400, "PEER_ID_INVALID");
        assert_eq!(e.name, "PEER_ID_INVALID");
        assert_eq!(e.value, None);
        let e = RpcError::parse(400, "_12");
        assert_eq!((e.name.as_str(), e.value), ("_12", None));
        let e = RpcError::parse(400, "X_99999999999");
        assert_eq!((e.name.as_str(), e.value), ("X_99999999999", None));
        let e = RpcError::parse(303, "FILE_MIGRATE_2");
        assert_eq!((e.name.as_str(), e.value), ("FILE_MIGRATE", Some(2)));
    }
}

/// Why a peer could not be resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResolveError {
    /// Which form, and why (not cached, unknown username, ...).
    Peer(crate::PeerError),
    /// Looking the username up failed on the way (timeout, disconnect).
    Invocation(InvocationError),
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Peer(e) => write!(f, "{e}"),
            Self::Invocation(e) => write!(f, "looking the username up: {e}"),
        }
    }
}

impl std::error::Error for ResolveError {}

impl From<crate::PeerError> for ResolveError {
    fn from(e: crate::PeerError) -> Self {
        Self::Peer(e)
    }
}
