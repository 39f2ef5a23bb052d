//! Decoding errors. Encoding cannot fail; only decoding returns an error.

use core::fmt;

/// What went wrong while decoding.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ended while `needed` more bytes were expected.
    UnexpectedEof {
        /// How many bytes the failing read asked for.
        needed: usize,
    },
    /// A constructor id that is not a constructor of the expected type.
    UnknownConstructor {
        /// The id read from the wire.
        id: u32,
        /// The TL type that was expected (e.g. `"InputPeer"`).
        expected: &'static str,
    },
    /// A length prefix larger than the bytes left in the input.
    LengthTooLarge {
        /// The declared length.
        len: usize,
        /// Bytes left in the input.
        remaining: usize,
    },
    /// A vector count that the remaining input cannot possibly hold.
    VectorTooLong {
        /// The declared element count.
        count: usize,
    },
    /// Objects nested deeper than the reader's limit.
    DepthLimitExceeded {
        /// The limit in force.
        limit: u32,
    },
    /// Whole-buffer decoding finished with bytes left over.
    TrailingBytes {
        /// How many bytes were left.
        remaining: usize,
    },
    /// A TL `string` that is not valid UTF-8.
    InvalidUtf8,
    /// A `gzip_packed` payload that could not be inflated.
    Gzip,
    /// A `gzip_packed` payload that inflates beyond the configured cap.
    GzipTooLarge {
        /// The cap in force, in bytes.
        limit: usize,
    },
    /// A negative or otherwise impossible value where a length or count was expected.
    InvalidLength(i64),
    /// A TL `bytes`/`string` in a non-canonical encoding: a padding byte that
    /// is not zero, or the long (254) length form for a length below 254.
    /// Re-encoding could not reproduce such input, so it is refused; the
    /// error's offset is that of the value's first (length) byte.
    NonCanonicalBytes,
}

/// A typed decoding error with the byte offset at which it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// What went wrong.
    pub kind: DecodeErrorKind,
    /// Byte offset into the buffer being decoded (inside a `gzip_packed`
    /// payload, the offset is into the inflated data).
    pub offset: usize,
}

impl DecodeError {
    /// Creates an error of `kind` at `offset`.
    pub fn new(kind: DecodeErrorKind, offset: usize) -> Self {
        Self { kind, offset }
    }
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnexpectedEof { needed } => {
                write!(f, "unexpected end of input ({needed} more bytes needed)")
            }
            Self::UnknownConstructor { id, expected } => {
                write!(f, "unknown constructor id {id:#010x} for type {expected}")
            }
            Self::LengthTooLarge { len, remaining } => {
                write!(f, "length {len} exceeds the {remaining} bytes left")
            }
            Self::VectorTooLong { count } => {
                write!(f, "vector count {count} cannot fit in the input")
            }
            Self::DepthLimitExceeded { limit } => write!(f, "nesting deeper than {limit}"),
            Self::TrailingBytes { remaining } => {
                write!(f, "{remaining} trailing bytes after the object")
            }
            Self::InvalidUtf8 => write!(f, "string is not valid UTF-8"),
            Self::Gzip => write!(f, "gzip_packed payload is not valid gzip"),
            Self::GzipTooLarge { limit } => {
                write!(f, "gzip_packed payload inflates beyond {limit} bytes")
            }
            Self::InvalidLength(v) => write!(f, "invalid length or count {v}"),
            Self::NonCanonicalBytes => f.write_str(
                "non-canonical bytes/string encoding (non-zero padding or long form for a short length)",
            ),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.offset)
    }
}

impl std::error::Error for DecodeError {}

/// Result alias for decoding.
pub type Result<T> = core::result::Result<T, DecodeError>;
