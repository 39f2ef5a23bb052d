//! The `error_code` of `bad_msg_notification`, by name.

use core::fmt;

/// A `bad_msg_notification` `error_code` (service_messages_about_messages).
///
/// A newtype, not an enum: a code the spec does not define survives a round
/// trip unchanged. `Debug` prints the name of a known code and the number of
/// an unknown one; `Display` prints the spec's description.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BadMsgCode(pub i32);

impl BadMsgCode {
    /// "16: msg_id too low (most likely, client time is wrong [...])".
    pub const MSG_ID_TOO_LOW: Self = Self(16);
    /// "17: msg_id too high (similar to the previous case, the client time
    /// has to be synchronized, and the message re-sent with the correct
    /// msg_id)".
    pub const MSG_ID_TOO_HIGH: Self = Self(17);
    /// "18: incorrect two lower order msg_id bits (the server expects client
    /// message msg_id to be divisible by 4)".
    pub const MSG_ID_BAD_LOW_BITS: Self = Self(18);
    /// "19: container msg_id is the same as msg_id of a previously received
    /// message (this must never happen)".
    pub const CONTAINER_MSG_ID_REUSED: Self = Self(19);
    /// "20: message too old, and it cannot be verified whether the server
    /// has received a message with this msg_id or not".
    pub const MESSAGE_TOO_OLD: Self = Self(20);
    /// "32: msg_seqno too low (the server has already received a message
    /// with a lower msg_id but with either a higher or an equal and odd
    /// seqno)".
    pub const SEQNO_TOO_LOW: Self = Self(32);
    /// "33: msg_seqno too high (similarly, there is a message with a higher
    /// msg_id but with either a lower or an equal and odd seqno)".
    pub const SEQNO_TOO_HIGH: Self = Self(33);
    /// "34: an even msg_seqno expected (irrelevant message), but odd
    /// received".
    pub const EVEN_SEQNO_EXPECTED: Self = Self(34);
    /// "35: odd msg_seqno expected (relevant message), but even received".
    pub const ODD_SEQNO_EXPECTED: Self = Self(35);
    /// "48: incorrect server salt (in this case, the bad_server_salt
    /// response is received with the correct salt, and the message is to be
    /// re-sent with it)".
    pub const BAD_SERVER_SALT: Self = Self(48);
    /// "64: invalid container."
    pub const INVALID_CONTAINER: Self = Self(64);

    const KNOWN: [(Self, &'static str, &'static str); 11] = [
        (Self::MSG_ID_TOO_LOW, "MSG_ID_TOO_LOW", "msg_id too low"),
        (Self::MSG_ID_TOO_HIGH, "MSG_ID_TOO_HIGH", "msg_id too high"),
        (
            Self::MSG_ID_BAD_LOW_BITS,
            "MSG_ID_BAD_LOW_BITS",
            "incorrect two lower order msg_id bits",
        ),
        (
            Self::CONTAINER_MSG_ID_REUSED,
            "CONTAINER_MSG_ID_REUSED",
            "container msg_id is the same as msg_id of a previously received message",
        ),
        (Self::MESSAGE_TOO_OLD, "MESSAGE_TOO_OLD", "message too old"),
        (Self::SEQNO_TOO_LOW, "SEQNO_TOO_LOW", "msg_seqno too low"),
        (Self::SEQNO_TOO_HIGH, "SEQNO_TOO_HIGH", "msg_seqno too high"),
        (
            Self::EVEN_SEQNO_EXPECTED,
            "EVEN_SEQNO_EXPECTED",
            "an even msg_seqno expected, but odd received",
        ),
        (
            Self::ODD_SEQNO_EXPECTED,
            "ODD_SEQNO_EXPECTED",
            "odd msg_seqno expected, but even received",
        ),
        (
            Self::BAD_SERVER_SALT,
            "BAD_SERVER_SALT",
            "incorrect server salt",
        ),
        (
            Self::INVALID_CONTAINER,
            "INVALID_CONTAINER",
            "invalid container",
        ),
    ];

    /// The code's name (`MSG_ID_TOO_LOW`), if the spec defines it.
    pub fn name(self) -> Option<&'static str> {
        Self::KNOWN.iter().find(|k| k.0 == self).map(|k| k.1)
    }

    /// The spec's description of the code, if it defines it.
    pub fn description(self) -> Option<&'static str> {
        Self::KNOWN.iter().find(|k| k.0 == self).map(|k| k.2)
    }

    /// Whether it is one of the seqno codes 32..=35.
    pub fn is_seqno_error(self) -> bool {
        (32..=35).contains(&self.0)
    }
}

impl From<i32> for BadMsgCode {
    fn from(code: i32) -> Self {
        Self(code)
    }
}

impl From<BadMsgCode> for i32 {
    fn from(code: BadMsgCode) -> Self {
        code.0
    }
}

impl fmt::Debug for BadMsgCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "BadMsgCode({})", self.0),
        }
    }
}

impl fmt::Display for BadMsgCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.description() {
            Some(d) => write!(f, "{} ({d})", self.0),
            None => write!(f, "{} (undefined code)", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::BadMsgCode;

    #[test]
    fn names_and_unknown_codes() {
        assert_eq!(format!("{:?}", BadMsgCode(16)), "MSG_ID_TOO_LOW");
        assert_eq!(format!("{:?}", BadMsgCode(64)), "INVALID_CONTAINER");
        assert_eq!(format!("{:?}", BadMsgCode(99)), "BadMsgCode(99)");
        assert_eq!(i32::from(BadMsgCode::from(-7)), -7);
        assert_eq!(BadMsgCode(48).to_string(), "48 (incorrect server salt)");
        assert!(BadMsgCode(33).is_seqno_error());
        assert!(!BadMsgCode(48).is_seqno_error());
    }
}
