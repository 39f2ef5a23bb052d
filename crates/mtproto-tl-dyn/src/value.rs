//! The decoded value tree and its errors.

use std::fmt;

use mtproto_tl::DecodeErrorKind;

/// A decoded TL value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `int` (also a `#` flags word, as its bit pattern).
    Int(i32),
    /// `long`.
    Long(i64),
    /// `double`.
    Double(f64),
    /// `int128`, in wire order.
    Int128([u8; 16]),
    /// `int256`, in wire order.
    Int256([u8; 32]),
    /// `bytes`, or a `string` that is not valid UTF-8 (kept as its bytes).
    Bytes(Vec<u8>),
    /// A valid UTF-8 `string`.
    String(String),
    /// `Bool` (`boolTrue` / `boolFalse`).
    Bool(bool),
    /// A set `flags.N?true` bit (or a bare `true`).
    True,
    /// `Vector<T>` or bare `vector<T>`.
    Vector(Vec<Value>),
    /// A constructor or a function call.
    Object {
        /// Full TL name (`messages.setTyping`).
        name: String,
        /// Its id.
        id: u32,
        /// The present fields in schema order (unset `flags.N?` fields are
        /// absent; `#` words are included as [`Value::Int`]).
        fields: Vec<(String, Value)>,
    },
    /// A `gzip_packed` wrapper, inflated transparently: `inner` is the value
    /// it holds; `packed` is the original gzip stream, written back
    /// unchanged while `inner` still encodes to the inflated bytes.
    Gzip {
        /// The decoded content.
        inner: Box<Value>,
        /// The original `packed_data`.
        packed: Vec<u8>,
    },
}

impl Value {
    /// A short name of the variant (for errors).
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Long(_) => "long",
            Value::Double(_) => "double",
            Value::Int128(_) => "int128",
            Value::Int256(_) => "int256",
            Value::Bytes(_) => "bytes",
            Value::String(_) => "string",
            Value::Bool(_) => "Bool",
            Value::True => "true",
            Value::Vector(_) => "vector",
            Value::Object { .. } => "object",
            Value::Gzip { .. } => "gzip_packed",
        }
    }

    /// The value with any `gzip_packed` wrappers removed.
    pub fn unpacked(&self) -> &Value {
        match self {
            Value::Gzip { inner, .. } => inner.unpacked(),
            v => v,
        }
    }

    /// The TL name of an object (through gzip wrappers).
    pub fn name(&self) -> Option<&str> {
        match self.unpacked() {
            Value::Object { name, .. } => Some(name),
            _ => None,
        }
    }

    /// A field of an object by name (through gzip wrappers).
    pub fn field(&self, key: &str) -> Option<&Value> {
        match self.unpacked() {
            Value::Object { fields, .. } => fields.iter().find(|(n, _)| n == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Builds an object value.
    pub fn object(name: &str, id: u32, fields: Vec<(&str, Value)>) -> Value {
        Value::Object {
            name: name.to_owned(),
            id,
            fields: fields.into_iter().map(|(n, v)| (n.to_owned(), v)).collect(),
        }
    }
}

/// What went wrong while decoding with a run-time schema.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DynErrorKind {
    /// A runtime-level error (end of input, bad length, depth, gzip, trailing
    /// bytes).
    Tl(DecodeErrorKind),
    /// An id that is not a constructor (or function) the position accepts.
    UnknownConstructor {
        /// The id read.
        id: u32,
        /// What was expected (a type name, `a function`, `any object`).
        expected: String,
    },
    /// A known constructor of another type than the one expected.
    WrongType {
        /// The constructor found.
        name: String,
        /// The type expected.
        expected: String,
    },
    /// A type name the schema does not define.
    UnknownType(String),
    /// A `flags.N?` condition on a flags field that was not read before.
    UnknownFlagsField(String),
    /// A `bytes`/`string` whose encoding is not canonical (long form for a
    /// short length, or non-zero padding); re-encoding could not reproduce it.
    NonCanonicalBytes,
    /// The input needed more decoding work than its size justifies (nested
    /// untyped vectors decoded by trial); see `Decoder::new`.
    WorkLimitExceeded,
}

impl fmt::Display for DynErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tl(k) => write!(f, "{k}"),
            Self::UnknownConstructor { id, expected } => {
                write!(f, "unknown constructor id {id:#010x} (expected {expected})")
            }
            Self::WrongType { name, expected } => {
                write!(f, "constructor {name} is not of type {expected}")
            }
            Self::UnknownType(t) => write!(f, "unknown type {t}"),
            Self::UnknownFlagsField(n) => write!(f, "condition on unknown flags field {n}"),
            Self::NonCanonicalBytes => f.write_str("non-canonical bytes/string encoding"),
            Self::WorkLimitExceeded => f.write_str("decoding work limit exceeded"),
        }
    }
}

/// A decoding error with the byte offset where it happened (inside a
/// `gzip_packed` payload, the offset is into the inflated data).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DynError {
    /// What went wrong.
    pub kind: DynErrorKind,
    /// Byte offset.
    pub offset: usize,
}

impl DynError {
    pub(crate) fn new(kind: DynErrorKind, offset: usize) -> Self {
        DynError { kind, offset }
    }
}

impl From<mtproto_tl::DecodeError> for DynError {
    fn from(e: mtproto_tl::DecodeError) -> Self {
        DynError::new(DynErrorKind::Tl(e.kind), e.offset)
    }
}

impl fmt::Display for DynError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.offset)
    }
}

impl std::error::Error for DynError {}

/// An encoding error: the value does not fit the schema.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// A value of the wrong kind for its type.
    TypeMismatch {
        /// The schema type.
        expected: String,
        /// The value's kind.
        found: &'static str,
    },
    /// An object whose id is not in the schema.
    UnknownId(u32),
    /// A type name the schema does not define.
    UnknownType(String),
    /// A required field is missing.
    MissingField {
        /// The object.
        object: String,
        /// The field.
        field: String,
    },
    /// A vector or bytes value too long for TL.
    TooLong,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TypeMismatch { expected, found } => {
                write!(f, "expected a value of type {expected}, found {found}")
            }
            Self::UnknownId(id) => write!(f, "unknown constructor id {id:#010x}"),
            Self::UnknownType(t) => write!(f, "unknown type {t}"),
            Self::MissingField { object, field } => write!(f, "{object}: missing field {field}"),
            Self::TooLong => f.write_str("value too long for TL"),
        }
    }
}

impl std::error::Error for EncodeError {}
