//! Fuzz targets for the TL layer: the schema parser (`tl_schema_parse`), the
//! generated decoders of every boxed type (`tl_decode_any`) and
//! structure-aware round trips of generated types (`tl_roundtrip_structured`).

use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use mtproto_tl::{Deserialize, Serialize};
use mtproto_tl_dyn::DynSchema;

use super::cli_decode::{is_depth_limit, shares_flag_bit};

/// The TL schema parser on arbitrary text (lossily decoded as UTF-8); the
/// run-time schema builder of `mtproto-tl-dyn` on the same text.
pub fn tl_schema_parse(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = mtproto_tl_parser::parse(&text);
    let _ = DynSchema::from_texts(&[&text]);
}

/// Whether `data` contains the `gzip_packed` constructor id anywhere (then a
/// successful decode may legitimately re-encode differently: inflated).
pub(super) fn mentions_gzip(data: &[u8]) -> bool {
    let id = mtproto_tl::GZIP_PACKED_ID.to_le_bytes();
    data.windows(4).any(|w| w == id)
}

/// Whether [`tl_decode_any`] insists that re-encoding reproduces the input
/// byte for byte. Off by default: a flags word with bits no field uses
/// decodes, and re-encoding computes the word from the fields, so those bits
/// are dropped (by design). By default the target checks that re-encoding
/// is a fixed point of the same length as the input; the generated decoders
/// refuse non-canonical `bytes`/`string` encodings (the former finding in
/// `fuzz/regressions/tl_decode_any/`). Set env `MTPROTO_FUZZ_STRICT_TL=1`
/// for the byte-for-byte property.
fn strict_tl() -> bool {
    static STRICT: OnceLock<bool> = OnceLock::new();
    *STRICT.get_or_init(|| std::env::var_os("MTPROTO_FUZZ_STRICT_TL").is_some_and(|v| v == "1"))
}

/// Every boxed type of both generated schemas (`api`, `mtproto`), chosen by
/// the leading constructor id: when decoding succeeds, decoding the
/// re-encoded bytes gives them back (a fixed point) and, with no
/// `gzip_packed` inside, they are as long as the input; with
/// `MTPROTO_FUZZ_STRICT_TL=1`, re-encoding must give the input bytes
/// themselves.
pub fn tl_decode_any(data: &[u8]) {
    type Reencode = fn(&[u8]) -> mtproto_tl::Result<Vec<u8>>;
    let decoders: [Reencode; 2] = [
        mtproto_tl::api::decode_and_reencode,
        mtproto_tl::mtproto::decode_and_reencode,
    ];
    for (i, f) in decoders.into_iter().enumerate() {
        if let Ok(out) = f(data) {
            if !strict_tl() || mentions_gzip(data) {
                let again = f(&out);
                assert_eq!(
                    again.as_deref().ok(),
                    Some(&out[..]),
                    "schema {i}: re-encoding is not a fixed point"
                );
                if !mentions_gzip(data) {
                    assert_eq!(
                        out.len(),
                        data.len(),
                        "schema {i}: re-encoding changes the length"
                    );
                }
            } else {
                assert_eq!(out, data, "schema {i}: re-encoding differs from the input");
            }
        }
    }
}

/// One structure-aware round trip of `T`: encode, decode (equal value and
/// equal bytes), then run-time decode and re-encode give the same bytes.
fn roundtrip_one<T>(u: &mut Unstructured<'_>)
where
    T: for<'a> Arbitrary<'a> + Serialize + Deserialize + core::fmt::Debug,
{
    let Ok(value) = T::arbitrary(u) else {
        return;
    };
    let bytes = value.to_bytes();
    // Values that are not valid TL (a value field on a flag bit without the
    // value, e.g. `flags.9?Vector<..>` absent where its bit is needed) may
    // not be readable; the generated decoder must then fail cleanly, which
    // it just did.
    let Ok(back) = T::from_bytes(&bytes) else {
        return;
    };
    assert_eq!(
        back.to_bytes(),
        bytes,
        "encode(decode(encode(v))) != encode(v)"
    );
    // Debug, not PartialEq: `double` fields may hold NaN. Parameters that
    // share a flag bit (channel's `restricted:flags.9?true` and
    // `restriction_reason:flags.9?Vector<..>`, config's three `flags.2?`
    // fields) are independent in the generated types, so `arbitrary` builds
    // values the wire cannot hold (one set, the other not); encoding sets the
    // bit and decoding reads all of them: a different value, but the same
    // bytes (checked above). A value mismatch is allowed only for such types
    // (`regressions/tl_roundtrip_structured/`).
    let back_dbg = format!("{back:?}");
    // In-place decoding over whatever `out` held (another arbitrary value,
    // possibly another variant with heap data) gives the same value; a
    // truncated input fails and leaves `out` valid for the next decode.
    if let Ok(mut prev) = T::arbitrary(u) {
        let cut = bytes
            .len()
            .saturating_sub(1 + usize::from(u.arbitrary::<u8>().unwrap_or(0)));
        let mut r = mtproto_tl::Reader::new(bytes.get(..cut).unwrap_or_default());
        let _ = T::deserialize_into(&mut r, &mut prev);
        let mut r = mtproto_tl::Reader::new(&bytes);
        assert!(T::deserialize_into(&mut r, &mut prev).is_ok() && r.finish().is_ok());
        assert_eq!(
            format!("{prev:?}"),
            back_dbg,
            "deserialize_into != from_bytes"
        );
    }
    if back_dbg != format!("{value:?}") {
        assert!(
            shares_flag_bit(&bytes),
            "decode(encode(v)) != v: {back_dbg} vs {value:?}"
        );
    }
    let schema = DynSchema::builtin();
    match schema.decode_boxed(&bytes) {
        Ok(v) => {
            let again = schema.encode_boxed(&v);
            assert_eq!(
                again.as_deref().ok(),
                Some(&bytes[..]),
                "dyn re-encode of {v:?}"
            );
        }
        // Both decoders bound nesting at `max_depth` 64 but count levels
        // differently (the run-time decoder also counts vectors), so deep
        // values (nested JsonArray, RichText) may pass one and not the other
        // (`regressions/tl_roundtrip_structured/json_array_deep`).
        Err(e) if is_depth_limit(&e) => {}
        // The generated types were built from another layer than the
        // run-time decoder's built-in schema (the full layer 228 in CI):
        // a constructor only the generated code knows is no disagreement.
        Err(e) if super::cli_decode::only_generated_knows(schema, &e) => {}
        Err(e) => panic!("run-time decoder rejects {value:?}: {e}"),
    }
}

/// Structure-aware TL: `arbitrary` builds a value of a generated type (the
/// first byte picks which), see [`roundtrip_one`].
pub fn tl_roundtrip_structured(data: &[u8]) {
    use mtproto_tl::api::{enums, functions};
    use mtproto_tl::mtproto;
    let mut u = Unstructured::new(data);
    let Ok(sel) = u.arbitrary::<u8>() else {
        return;
    };
    macro_rules! pick {
        ($($t:ty),* $(,)?) => {{
            let all: &[fn(&mut Unstructured<'_>)] = &[$(roundtrip_one::<$t>),*];
            if let Some(f) = all.get(usize::from(sel) % all.len()) {
                f(&mut u);
            }
        }};
    }
    pick!(
        functions::messages::SetTyping,
        functions::messages::DeleteMessages,
        functions::help::GetConfig,
        functions::InvokeWithLayer<functions::InitConnection<functions::messages::SetTyping>>,
        enums::InputPeer,
        enums::SendMessageAction,
        enums::MessageEntity,
        enums::RichText,
        enums::PageBlock,
        enums::JsonValue,
        enums::Document,
        enums::Photo,
        enums::PhotoSize,
        enums::Chat,
        enums::Config,
        enums::DcOption,
        enums::DocumentAttribute,
        enums::ChatBannedRights,
        enums::TextWithEntities,
        enums::messages::AffectedMessages,
        mtproto::enums::BadMsgNotification,
        mtproto::enums::MsgDetailedInfo,
        mtproto::enums::MsgsAck,
        mtproto::enums::NewSession,
        mtproto::enums::FutureSalts,
        mtproto::enums::RpcError,
        mtproto::enums::ResPq,
        mtproto::enums::PQInnerData,
        mtproto::enums::ServerDhParams,
        mtproto::enums::ServerDhInnerData,
        mtproto::enums::ClientDhInnerData,
        mtproto::enums::SetClientDhParamsAnswer,
        mtproto::enums::DestroySessionRes,
        mtproto::functions::PingDelayDisconnect,
        mtproto::functions::ReqDhParams,
        bool,
    );
}
