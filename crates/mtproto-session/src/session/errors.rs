//! Why a request or a packet failed.

use core::fmt;

use mtproto_crypto::PacketError;
use mtproto_tl::DecodeError;

use crate::wire::BadMsgCode;

/// Identifies one request enqueued on a [`ClientSession`](super::ClientSession). Stays the same
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
    /// The request was re-sent [`Config::max_resends`](super::Config::max_resends) times without success.
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

/// The integrity check an incoming packet failed (see
/// [`IncomingError::check`]). Two failures of the same check are the same
/// `Check`, whatever the packet's details: a client counts them to decide
/// when reconnecting cannot help.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Check {
    /// The packet's `auth_key_id` is not the session's key.
    AuthKeyId,
    /// The `msg_key` does not match the decrypted plaintext.
    MsgKey,
    /// The packet or its `message_data_length` has an impossible length.
    Length,
    /// The padding is outside 12..=1024 bytes.
    Padding,
    /// The packet belongs to another session.
    SessionId,
    /// A msg_id with the other direction's parity.
    MsgIdParity,
    /// A msg_id more than 300 s in the past or 30 s in the future.
    TimeWindow,
    /// A msg_id already received on this connection, again.
    Replay,
    /// A container that breaks the container rules.
    Container,
    /// A message body that is not valid TL.
    Malformed,
    /// More inflated (`gzip_packed`) than the amplification bound allows.
    AmplificationBound,
}

impl Check {
    /// The check's name, as errors and the CLI print it.
    pub fn name(self) -> &'static str {
        match self {
            Self::AuthKeyId => "auth_key_id mismatch",
            Self::MsgKey => "msg_key mismatch",
            Self::Length => "bad message length",
            Self::Padding => "bad padding length",
            Self::SessionId => "session_id mismatch",
            Self::MsgIdParity => "msg_id with the wrong parity",
            Self::TimeWindow => "msg_id outside the time window",
            Self::Replay => "msg_id replayed",
            Self::Container => "container rules broken",
            Self::Malformed => "malformed TL in an authenticated packet",
            Self::AmplificationBound => "amplification bound exceeded",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an incoming packet was rejected as a whole.
///
/// security_guidelines: a packet that fails one of these checks is
/// discarded **completely**: nothing in it is processed or acknowledged,
/// not even the well-formed neighbours of a bad message in its container.
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
    /// description, "Important Checks": server msg_ids are odd ("modulo 4
    /// yield 1 [...] and 3 otherwise"), client msg_ids divisible by 4.
    MsgIdParity {
        /// The offending msg_id.
        msg_id: i64,
    },
    /// "msg_id values that belong over 30 seconds in the future or over 300
    /// seconds in the past are to be ignored".
    TimeWindow {
        /// The offending msg_id.
        msg_id: i64,
    },
    /// A top-level msg_id already received on this connection: a replayed
    /// packet (a byte stream does not duplicate packets by itself).
    Replayed {
        /// The replayed msg_id.
        msg_id: i64,
    },
    /// A container that breaks a rule of service_messages, "Simple
    /// Container" (quoted in `rule`).
    Container {
        /// The msg_id of the offending message.
        msg_id: i64,
        /// The rule.
        rule: &'static str,
    },
    /// A message body that does not decode.
    Malformed {
        /// The msg_id of the message.
        msg_id: i64,
        /// The decoding error.
        error: DecodeError,
    },
    /// The packet would inflate (`gzip_packed`, however nested and in
    /// however many messages) or copy out more than
    /// [`Config::max_packet_inflation`](super::Config::max_packet_inflation).
    AmplificationBound {
        /// The bound in force, in bytes.
        limit: usize,
    },
}

impl IncomingError {
    /// The check that failed.
    pub fn check(&self) -> Check {
        match self {
            Self::Crypto(e) => match e {
                PacketError::AuthKeyIdMismatch => Check::AuthKeyId,
                PacketError::MsgKeyMismatch => Check::MsgKey,
                PacketError::PaddingOutOfRange { .. } => Check::Padding,
                _ => Check::Length,
            },
            Self::WrongSession { .. } => Check::SessionId,
            Self::MsgIdParity { .. } => Check::MsgIdParity,
            Self::TimeWindow { .. } => Check::TimeWindow,
            Self::Replayed { .. } => Check::Replay,
            Self::Container { .. } => Check::Container,
            Self::Malformed { .. } => Check::Malformed,
            Self::AmplificationBound { .. } => Check::AmplificationBound,
        }
    }
}

impl fmt::Display for IncomingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let check = self.check();
        match self {
            Self::Crypto(e) => write!(f, "{check}: {e}"),
            Self::WrongSession { session_id } => {
                write!(f, "{check}: packet for session {session_id:#x}")
            }
            Self::MsgIdParity { msg_id }
            | Self::TimeWindow { msg_id }
            | Self::Replayed { msg_id } => write!(f, "{check}: msg_id {msg_id:#x}"),
            Self::Container { msg_id, rule } => {
                write!(f, "{check}: msg_id {msg_id:#x}: \"{rule}\"")
            }
            Self::Malformed { msg_id, error } => write!(f, "{check}: msg_id {msg_id:#x}: {error}"),
            Self::AmplificationBound { limit } => write!(f, "{check}: over {limit} bytes"),
        }
    }
}

impl std::error::Error for IncomingError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Crypto(e) => Some(e),
            Self::Malformed { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl From<PacketError> for IncomingError {
    fn from(e: PacketError) -> Self {
        Self::Crypto(e)
    }
}
