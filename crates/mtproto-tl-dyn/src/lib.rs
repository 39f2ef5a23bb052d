#![doc = include_str!("../README.md")]
//!
//! ## In detail
//!
//! Run-time decoding and re-encoding of TL, driven by a schema parsed at run
//! time (no code generation, no rebuild).
//!
//! ```
//! use mtproto_tl_dyn::{DynSchema, Value};
//!
//! let schema = DynSchema::builtin();
//! let bytes = [
//!     0xe2, 0x3e, 0x94, 0x58, 0, 0, 0, 0, // messages.setTyping, flags = 0
//!     0xc9, 0x7e, 0xa0, 0x7d, // inputPeerSelf
//!     0x4e, 0x74, 0xbf, 0x16, // sendMessageTypingAction
//! ];
//! let v = schema.decode_function(&bytes).unwrap();
//! assert_eq!(
//!     v.to_json(),
//!     r#"{"_": "messages.setTyping", "flags": 0, "peer": {"_": "inputPeerSelf"}, "action": {"_": "sendMessageTypingAction"}}"#
//! );
//! assert_eq!(schema.encode_boxed(&v).unwrap(), bytes);
//! ```
//!
//! Decoding is bounded like `mtproto-tl`'s [`mtproto_tl::Reader`] (lengths
//! checked before allocating, nesting depth limited, `gzip_packed` inflated
//! within a cap) and never panics. `bytes`/`string` must be canonically
//! encoded (short form below 254 bytes, zero padding), so that whatever
//! decodes re-encodes to the very same bytes.
//!
//! Positions typed `Object` (`rpc_result`'s result, a `message` body, `!X`)
//! decode as boxed objects by id; a `message` body is bounded by its
//! `bytes` field. A boxed vector in an `Object` position has no element
//! type: it decodes as boxed objects when every element is one, otherwise as
//! `long`s (or `int`s when exactly 4 bytes per element are left).

mod decode;
mod encode;
mod json;
mod render;
mod schema;
mod value;

pub use json::JsonError;
pub use render::json_string;
pub use schema::{
    Def, DynSchema, ParamDef, ParamKind, SchemaError, TypeRef, BUILTIN_API, BUILTIN_MTPROTO,
};
/// The JSON values [`DynSchema::function_from_json`] reads.
pub use serde_json;
pub use value::{DynError, DynErrorKind, EncodeError, Value};

use decode::{Decoder, Expect};
use encode::Encoder;
use mtproto_tl::Reader;

impl DynSchema {
    fn whole(
        &self,
        bytes: &[u8],
        f: impl FnOnce(&Decoder<'_>, &mut Reader<'_>) -> Result<Value, DynError>,
    ) -> Result<Value, DynError> {
        let mut r = Reader::new(bytes);
        let v = f(&Decoder::new(self, bytes.len()), &mut r)?;
        r.finish()?;
        Ok(v)
    }

    /// Decodes exactly one boxed value (a constructor or a function call,
    /// by its id) from the whole buffer.
    pub fn decode_boxed(&self, bytes: &[u8]) -> Result<Value, DynError> {
        self.whole(bytes, |d, r| d.read_boxed(r, Expect::Any))
    }

    /// Decodes exactly one function call (request) from the whole buffer.
    pub fn decode_function(&self, bytes: &[u8]) -> Result<Value, DynError> {
        self.whole(bytes, |d, r| d.read_boxed(r, Expect::Function))
    }

    /// Decodes the whole buffer as a value of the named type: a bare
    /// constructor (`inputPeerUser`, `%DataJSON`), a builtin (`long`,
    /// `string`, `Vector<long>`, `vector<int>`), or a boxed type
    /// (`InputPeer`, checked against its constructors).
    pub fn decode_bare(&self, type_name: &str, bytes: &[u8]) -> Result<Value, DynError> {
        let ty = TypeRef::parse(type_name)
            .ok_or_else(|| DynError::new(DynErrorKind::UnknownType(type_name.to_owned()), 0))?;
        self.whole(bytes, |d, r| d.read_type(r, &ty, &decode::Ctx::TOP))
    }

    /// Encodes a boxed value (object by its id, `Bool`, vector, ...).
    pub fn encode_boxed(&self, value: &Value) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        Encoder { schema: self }.write_any(&mut out, value)?;
        Ok(out)
    }

    /// Encodes a value as the named type (the inverse of
    /// [`DynSchema::decode_bare`]).
    pub fn encode_bare(&self, type_name: &str, value: &Value) -> Result<Vec<u8>, EncodeError> {
        let ty = TypeRef::parse(type_name)
            .ok_or_else(|| EncodeError::UnknownType(type_name.to_owned()))?;
        let mut out = Vec::new();
        Encoder { schema: self }.write_type(&mut out, &ty, value, &decode::Ctx::TOP)?;
        Ok(out)
    }
}

/// Fuzz entry points (not part of the stable API; feature `testing`).
#[cfg(feature = "testing")]
#[doc(hidden)]
pub mod fuzz {
    use crate::DynSchema;

    /// Fuzz entry point: decodes arbitrary bytes with the built-in schema (as a
    /// boxed value and as a bare `msg_container`, whose `%message`s are the
    /// MTProto ones); whenever decoding succeeds, re-encoding
    /// must give back the same bytes.
    ///
    /// # Panics
    ///
    /// Only if that round-trip property is broken (a bug for the fuzzer to find).
    pub fn decode(data: &[u8]) {
        let schema = DynSchema::builtin();
        if let Ok(v) = schema.decode_boxed(data) {
            let again = schema.encode_boxed(&v);
            assert_eq!(
                again.as_deref().ok(),
                Some(data),
                "boxed round trip of {v:?}"
            );
            let _ = v.to_json();
            let _ = v.to_tree();
        }
        if let Ok(v) = schema.decode_bare("msg_container", data) {
            let again = schema.encode_bare("msg_container", &v);
            assert_eq!(
                again.as_deref().ok(),
                Some(data),
                "message round trip of {v:?}"
            );
        }
    }
}
