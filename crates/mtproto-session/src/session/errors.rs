//! Why a request or a packet failed.

use core::fmt;

use mtproto_crypto::PacketError;
use mtproto_tl::DecodeError;

use crate::wire::BadMsgCode;

/// Identifies one request enqueued on a [`ClientSession`]. Stays the same
/// when the request is re-sent under a new msg_id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub u64);

/// Why a request ended without an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestError {
    /// No answer before the request's deadline.
    Timeout,
    /// The server rejected the message (bad_msg_notification) with a code
    /// for which re-sending cannot help (18, or an unknown code).
    BadMessage {
        /// The bad_msg_notification `error_code`.
        code: BadMsgCode,
    },
    /// "64: invalid container" — the container carrying the request was
    /// rejected as a whole.
    InvalidContainer,
    /// The request was re-sent [`Config::max_resends`] times without success.
    TooManyResends,
    /// The request body is longer than [`Config::max_request_len`](super::Config::max_request_len):
    /// it failed at once and was never sent.
    TooLarge {
        /// The body's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The answer arrived but could not be decoded (e.g. a `gzip_packed`
    /// result that does not inflate).
    MalformedAnswer(DecodeError),
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout => f.write_str("request timed out"),
            Self::BadMessage { code } => write!(f, "server rejected the message: code {code}"),
            Self::InvalidContainer => f.write_str("server rejected the container (code 64)"),
            Self::TooManyResends => f.write_str("request re-sent too many times"),
            Self::TooLarge { len, max } => {
                write!(f, "request of {len} bytes is over the {max}-byte limit")
            }
            Self::MalformedAnswer(e) => write!(f, "malformed answer: {e}"),
        }
    }
}

impl std::error::Error for RequestError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::MalformedAnswer(e) => Some(e),
            _ => None,
        }
    }
}

/// Why an incoming packet was rejected as a whole.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
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

impl std::error::Error for IncomingError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Crypto(e) => Some(e),
            _ => None,
        }
    }
}

impl From<PacketError> for IncomingError {
    fn from(e: PacketError) -> Self {
        Self::Crypto(e)
    }
}
