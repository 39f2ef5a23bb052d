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
    Remote(i32),
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
