//! What a session reports to its owner.

use super::{RequestError, RequestId};
use crate::wire::BadMsgCode;
use crate::RpcError;

/// Something in a server packet that passed every integrity check (see
/// [`IncomingError`](super::IncomingError)) but that the session cannot use.
/// Reported as [`SessionEvent::ProtocolViolation`]; the rest of the packet is
/// processed and the session keeps running.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
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
        code: BadMsgCode,
    },
}

/// What the session reports to its owner.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionEvent {
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
        code: BadMsgCode,
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
    /// [`Config::pong_timeout`](super::Config::pong_timeout): the connection is presumed dead. The owner
    /// should close it, call [`ClientSession::connection_lost`](super::ClientSession::connection_lost), reconnect
    /// and call [`ClientSession::resume_on_new_connection`](super::ClientSession::resume_on_new_connection).
    ConnectionDead,
    /// `auth.bindTempAuthKey` was answered `boolTrue`: the temporary key
    /// is bound until `expires_at` (server time), and the queries held for
    /// it go out (see [`ClientSession::bind_temp_key`](super::ClientSession::bind_temp_key)).
    TempKeyBound {
        /// The expiry the binding named.
        expires_at: i32,
    },
    /// The binding failed; the queries stay held until a new key is bound.
    BindFailed {
        /// Why.
        error: BindFailure,
    },
}

/// Why [`SessionEvent::BindFailed`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BindFailure {
    /// The server answered an `rpc_error` (`ENCRYPTED_MESSAGE_INVALID`,
    /// `EXPIRES_AT_INVALID`, `TEMP_AUTH_KEY_ALREADY_BOUND`, ...).
    Rpc(RpcError),
    /// The answer was not `boolTrue`.
    NotTrue,
    /// No answer (timeout, too many re-sends).
    Request(RequestError),
}

impl core::fmt::Display for BindFailure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Rpc(e) => write!(f, "auth.bindTempAuthKey: {e}"),
            Self::NotTrue => f.write_str("auth.bindTempAuthKey: the answer was not boolTrue"),
            Self::Request(e) => write!(f, "auth.bindTempAuthKey: {e}"),
        }
    }
}
