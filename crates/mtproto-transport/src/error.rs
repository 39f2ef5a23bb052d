//! Transport errors.

use std::fmt;

/// Everything that can go wrong while framing or unframing MTProto transport packets.
///
/// "Need more bytes" is **not** an error: decoders return `Ok(None)` for it.
/// Apart from [`TransportError::Remote`], every decode error is fatal: the
/// [`Transport`](crate::Transport) remembers it and returns
/// [`TransportError::Poisoned`] on later calls, because the byte stream can no
/// longer be resynchronised.
///
/// No variant carries key material.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportError {
    /// The peer sent a transport error: a frame whose payload is a single negative
    /// little-endian `i32` (e.g. `-404` auth key not found, `-429` transport flood,
    /// `-444` invalid DC). The value is the negative number as received.
    Remote(TransportErrorCode),
    /// A frame announces (or a payload to encode has) more bytes than the configured
    /// maximum. Raised from the header alone, before anything is allocated.
    FrameTooLarge {
        /// Announced payload length in bytes.
        len: u64,
        /// Configured maximum payload length.
        max: usize,
    },
    /// A length that must be a multiple of 4 is not.
    Misaligned {
        /// The offending length in bytes.
        len: u64,
    },
    /// A full-transport frame whose length field is smaller than the 12-byte envelope.
    FrameTooShort {
        /// The length field.
        len: u64,
    },
    /// Full transport: the sequence number is not the expected one.
    BadSeqno {
        /// The sequence number this side expected.
        expected: u32,
        /// The sequence number in the frame.
        got: u32,
    },
    /// Full transport: the CRC32 trailer does not match the frame.
    BadCrc {
        /// CRC32 computed over length, seqno and payload.
        expected: u32,
        /// CRC32 found in the frame.
        got: u32,
    },
    /// Server side: the client's first bytes are not the tag of the expected transport
    /// (e.g. an intermediate server that did not receive `0xeeeeeeee`), or an
    /// obfuscated init announces another inner transport.
    BadTag,
    /// Server side detection: the client speaks a protocol this crate does not
    /// implement (HTTP, fake-TLS, or an obfuscated init with an unknown protocol tag).
    UnsupportedProtocol(&'static str),
    /// The requested operation is not valid for this transport kind or role
    /// (e.g. obfuscated full transport, quick ACK on the full transport, a client
    /// encoding a quick-ACK token).
    Unsupported(&'static str),
    /// Client side: the 64 random bytes for an obfuscated init hit a forbidden
    /// pattern (first byte `0xef`, a known first int, or zero bytes 4..8), or the
    /// injected RNG produced only forbidden patterns.
    ForbiddenInit,
    /// A previous decode error made the stream unusable.
    Poisoned,
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Remote(code) => write!(f, "transport error {code} from peer"),
            Self::FrameTooLarge { len, max } => {
                write!(f, "frame of {len} bytes exceeds the maximum of {max} bytes")
            }
            Self::Misaligned { len } => write!(f, "length {len} is not a multiple of 4"),
            Self::FrameTooShort { len } => {
                write!(
                    f,
                    "full-transport length {len} is shorter than the 12-byte envelope"
                )
            }
            Self::BadSeqno { expected, got } => {
                write!(f, "wrong transport seqno: expected {expected}, got {got}")
            }
            Self::BadCrc { expected, got } => {
                write!(
                    f,
                    "wrong CRC32: computed {expected:#010x}, frame has {got:#010x}"
                )
            }
            Self::BadTag => write!(f, "unexpected transport tag"),
            Self::UnsupportedProtocol(what) => write!(f, "unsupported protocol: {what}"),
            Self::Unsupported(what) => write!(f, "unsupported operation: {what}"),
            Self::ForbiddenInit => write!(f, "obfuscated init matches a forbidden pattern"),
            Self::Poisoned => write!(f, "transport is unusable after an earlier error"),
        }
    }
}

impl std::error::Error for TransportError {}

/// A transport error code (mtproto-transports, "Transport errors"): the
/// negative number a server sends instead of a payload.
///
/// A newtype, not an enum: an undocumented code survives a round trip.
/// `Debug` prints the name of a known code and the number of an unknown one;
/// `Display` prints the number and, when known, what it means.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TransportErrorCode(pub i32);

impl TransportErrorCode {
    /// `-404`: "if the specified auth key ID cannot be found by the DC"
    /// (also sent for a packet that cannot be processed at all).
    pub const AUTH_KEY_NOT_FOUND: Self = Self(-404);
    /// `-429`: "if too many transport connections are established to the
    /// same IP in a too short lapse of time, or if any of the container/service
    /// message limits are reached".
    pub const TRANSPORT_FLOOD: Self = Self(-429);
    /// `-444`: "if an invalid DC ID is specified".
    pub const INVALID_DC: Self = Self(-444);

    const KNOWN: [(Self, &'static str, &'static str); 3] = [
        (
            Self::AUTH_KEY_NOT_FOUND,
            "AUTH_KEY_NOT_FOUND",
            "auth key not found",
        ),
        (Self::TRANSPORT_FLOOD, "TRANSPORT_FLOOD", "transport flood"),
        (Self::INVALID_DC, "INVALID_DC", "invalid DC"),
    ];

    /// The code's name, if documented.
    pub fn name(self) -> Option<&'static str> {
        Self::KNOWN.iter().find(|k| k.0 == self).map(|k| k.1)
    }

    /// What the code means, if documented.
    pub fn description(self) -> Option<&'static str> {
        Self::KNOWN.iter().find(|k| k.0 == self).map(|k| k.2)
    }
}

impl From<i32> for TransportErrorCode {
    fn from(code: i32) -> Self {
        Self(code)
    }
}

impl PartialEq<i32> for TransportErrorCode {
    fn eq(&self, other: &i32) -> bool {
        self.0 == *other
    }
}

impl fmt::Debug for TransportErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "TransportErrorCode({})", self.0),
        }
    }
}

impl fmt::Display for TransportErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.description() {
            Some(d) => write!(f, "{} ({d})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}
