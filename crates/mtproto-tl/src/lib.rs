#![doc = include_str!("../README.md")]
//!
//! ## In detail
//!
//! TL runtime for MTProto.
//!
//! Encoding cannot fail: every value writes itself into a `Vec<u8>`. (The
//! one exception is a length TL has no encoding for: a `bytes`/`string` of
//! 2^24 bytes or more, or a vector of more than `i32::MAX` elements, panics
//! rather than being written with a cut-off length; see [`write_tl_bytes`].)
//! Decoding is bounded: a [`Reader`] checks every length against the bytes
//! left before it allocates, limits nesting, and reports typed errors with
//! the byte offset. `gzip_packed` is inflated transparently (with a size cap)
//! wherever a boxed object is expected.
//!
//! Boxed values (a constructor id then the fields) implement [`Serialize`] and
//! [`Deserialize`]; the fields alone implement [`BareSerialize`] and
//! [`BareDeserialize`].
//!
//! ## Generated schema modules
//!
//! `build.rs` generates [`mtproto`] and [`api`] (with `mtproto-tl-gen`) from
//! `schema/{mtproto,api}.tl` (in this crate's package; the workspace's
//! `tl-schema/` links there); the shipped `api.tl` is a subset
//! of layer 230 (made by `mtproto-tl-subset` from `schema/api.subset`).
//! Set `MTPROTO_TL_SCHEMA_DIR` to a folder holding `api.tl` and `mtproto.tl`
//! (e.g. `../shared/tl`, layer 228) to build the whole layer instead, and
//! `MTPROTO_TL_API` to another API file (e.g.
//! `../shared/tl/api_layer230_grammers.tl`); that also enables
//! `cfg(mtproto_full_schema)`. If that `mtproto.tl` has
//! `rpc_result`, `message`, `msg_container`, `msg_copy` or `gzip_packed` only
//! as comments (as the published schema does), build.rs appends our own
//! declarations of them. Of definitions sharing an id, the one whose written
//! id equals the CRC32 of its line is kept (tdlib's `api.tl` declares
//! `invokeWith*Prefix` pseudo-constructors with the ids of the real
//! `invokeWith*` methods); if none or several match, the first is kept. A
//! `cargo:warning` names each skipped one.
//!
//! ```
//! use mtproto_tl::api::{enums, functions, types};
//! use mtproto_tl::{Deserialize, Serialize};
//!
//! let req = functions::messages::SetTyping {
//!     peer: enums::InputPeer::User(types::InputPeerUser { user_id: 777000, access_hash: 1 }),
//!     top_msg_id: None,
//!     action: enums::SendMessageAction::SendMessageTypingAction,
//! };
//! let bytes = req.to_bytes();
//! assert_eq!(&bytes[..8], &[0xe2, 0x3e, 0x94, 0x58, 0, 0, 0, 0]);
//! assert_eq!(functions::messages::SetTyping::from_bytes(&bytes).unwrap(), req);
//! assert_eq!(mtproto_tl::api::name_for_id(0x58943ee2), Some("messages.setTyping"));
//! ```

pub mod error;
mod primitives;
pub mod reader;
pub mod rpc_error;
pub mod support;

/// The MTProto service layer (`tl-schema/mtproto.tl`): auth-key creation,
/// service messages, and the core `rpc_result`, `message`, `msg_container`,
/// `msg_copy` and `gzip_packed` constructors.
///
/// Submodules: `types` (a struct per constructor), `enums` (an enum per
/// boxed type), `functions` (a struct per method), `errors` (a typed error
/// enum per method, [`Method`]); plus `LAYER`, `name_for_id` and
/// `decode_and_reencode`.
#[allow(
    clippy::large_enum_variant,
    clippy::too_many_arguments,
    clippy::match_single_binding,
    clippy::single_match
)]
pub mod mtproto {
    include!(concat!(env!("OUT_DIR"), "/mtproto.rs"));
}

/// The Telegram API (`tl-schema/api.tl`, a subset of layer 230 by default;
/// set `MTPROTO_TL_SCHEMA_DIR` at build time to generate a full schema).
/// Same layout as [`mtproto`]; namespaces are nested modules
/// (`api::functions::messages::SetTyping`).
#[allow(
    clippy::large_enum_variant,
    clippy::too_many_arguments,
    clippy::match_single_binding,
    clippy::single_match
)]
pub mod api {
    include!(concat!(env!("OUT_DIR"), "/api.rs"));
}

/// The schema files this crate ships (`schema/` in its package; the
/// workspace's `tl-schema/` links to it), as text: what the generated
/// modules are made of unless `MTPROTO_TL_SCHEMA_DIR` named others at build
/// time. `mtproto-tl-dyn` parses them to decode without a rebuild.
pub mod schema {
    /// `schema/api.tl`: the part of the Telegram API layer built by default.
    pub const API_TL: &str = include_str!("../schema/api.tl");
    /// `schema/mtproto.tl`: the MTProto service layer.
    pub const MTPROTO_TL: &str = include_str!("../schema/mtproto.tl");
}

pub use error::{DecodeError, DecodeErrorKind, Result};
pub use primitives::{
    deflate, inflate_limited, write_tl_bytes, Bare, RawObject, RawVec, BOOL_FALSE_ID, BOOL_TRUE_ID,
    GZIP_PACKED_ID, MAX_TL_BYTES, VECTOR_ID,
};
pub use reader::{Limits, Reader};
pub use rpc_error::{Method, RpcError, TypedError};

/// A value that can write its boxed TL form.
pub trait Serialize {
    /// Appends the serialized form to `out`.
    fn serialize(&self, out: &mut Vec<u8>);

    /// Serializes into a fresh buffer.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.serialize(&mut out);
        out
    }
}

/// A value that can read its boxed TL form.
pub trait Deserialize: Sized {
    /// The fewest bytes one value can occupy on the wire; used to reject
    /// vector counts the input cannot hold.
    const MIN_LEN: usize = 4;

    /// Reads one value from `r`.
    fn deserialize(r: &mut Reader<'_>) -> Result<Self>;

    /// Reads one value from `r` into `out`, replacing what it held.
    ///
    /// Generated types decode in place: each field (and each enum's
    /// variant) is written straight into `out` instead of being built in a
    /// temporary and moved, which for large values costs more than the
    /// decoding itself. If decoding fails, `out` holds a valid value of no
    /// particular content.
    #[inline]
    fn deserialize_into(r: &mut Reader<'_>, out: &mut Self) -> Result<()> {
        *out = Self::deserialize(r)?;
        Ok(())
    }

    /// Decodes a whole buffer: exactly one value, no trailing bytes.
    #[inline]
    fn from_bytes(buf: &[u8]) -> Result<Self> {
        let mut r = Reader::new(buf);
        // One variable returned on every path, so the value is decoded
        // straight into the caller's slot instead of being copied out of a
        // temporary `Result`.
        let mut v = Self::deserialize(&mut r);
        if v.is_ok() {
            if let Err(e) = r.finish() {
                v = Err(e);
            }
        }
        v
    }
}

/// A constructor's fields without its id (TL's bare form, `%T`).
pub trait BareSerialize {
    /// Appends the bare serialized form to `out`.
    fn serialize_bare(&self, out: &mut Vec<u8>);
}

/// Reads a constructor's fields without its id.
pub trait BareDeserialize: Sized {
    /// The fewest bytes the bare form can occupy on the wire; a bare vector
    /// (`vector<%T>`) checks its count against the bytes left with it.
    const MIN_BARE_LEN: usize = 0;

    /// Reads the bare form from `r`.
    fn deserialize_bare(r: &mut Reader<'_>) -> Result<Self>;

    /// Reads the bare form from `r` into `out`, replacing what it held (see
    /// [`Deserialize::deserialize_into`]).
    #[inline]
    fn deserialize_bare_into(r: &mut Reader<'_>, out: &mut Self) -> Result<()> {
        *out = Self::deserialize_bare(r)?;
        Ok(())
    }
}

/// A TL constructor or function with a fixed id.
pub trait Identifiable {
    /// The 32-bit constructor id.
    const CONSTRUCTOR_ID: u32;
}

/// A TL function: a request whose answer decodes as `Return`.
pub trait RemoteCall: Serialize {
    /// The type of the answer.
    type Return: Deserialize;
}

/// Reads the body of a `gzip_packed` (its id already consumed) and inflates
/// it, within `r.limits().max_gzip_size` for this payload and
/// `r.limits().max_inflated_total` for everything `r` inflated so far (the
/// inflated bytes are counted in `r`): the amplification bound.
pub fn inflate_gzip_packed(r: &mut Reader<'_>) -> Result<Vec<u8>> {
    let start = r.offset();
    let packed = r.read_tl_bytes()?;
    let inflated = primitives::inflate_limited(packed, r.inflate_allowance())
        .map_err(|kind| DecodeError::new(kind, start))?;
    r.add_inflated(inflated.len());
    Ok(inflated)
}

/// Reads the body of a `gzip_packed` (its id already consumed), inflates it
/// (see [`inflate_gzip_packed`] for the bounds), and decodes exactly one
/// value from the inflated bytes with `decode`. What that inner decoding
/// inflates counts against the same total.
pub fn read_gzip_packed<T>(
    r: &mut Reader<'_>,
    decode: impl FnOnce(&mut Reader<'_>) -> Result<T>,
) -> Result<T> {
    let inflated = inflate_gzip_packed(r)?;
    let mut inner = Reader::with_limits(&inflated, r.limits());
    inner.add_inflated(r.inflated());
    // The payload is one level deeper than the wrapper, so `gzip_packed`
    // nested in `gzip_packed` (however it inflates) hits the depth limit.
    for _ in 0..=r.depth() {
        inner.enter()?;
    }
    let v = decode(&mut inner);
    r.add_inflated(inner.inflated().saturating_sub(r.inflated()));
    let v = v?;
    inner.finish()?;
    Ok(v)
}
