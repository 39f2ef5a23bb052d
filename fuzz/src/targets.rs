//! The fuzz targets as plain functions: `fn(&[u8])`, panicking only on a bug.
//!
//! Shared by the libFuzzer binaries (`fuzz/fuzz_targets/*.rs`) and by the
//! workspace replay test (`tests/tests/fuzz_replay.rs`, which includes this
//! file with `#[path]`), so it depends only on our crates, `arbitrary`,
//! `bytes`, `rand` and `rand_chacha` — never on `libfuzzer-sys`.

use std::collections::HashSet;
use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use bytes::BytesMut;
use mtproto_crypto::dh::{encrypt_with_hash_rng, tmp_aes_key_iv};
use mtproto_crypto::packet::AesKeyIv;
use mtproto_crypto::rsa::{tl_bytes, RsaPrivateKey};
use mtproto_session::handshake::client::{self, DhGenResult};
use mtproto_session::handshake::server::{self, ServerConfig, SetClientDhResult};
use mtproto_session::handshake::{
    encode_plain, AuthKey, ClientEvent, ClientHandshake, FixedMsgIds, HandshakeConfig, ServerEvent,
    ServerHandshake,
};
use mtproto_session::Timestamp;
use mtproto_tl::{Deserialize, Limits, Reader, Serialize};
use mtproto_tl_dyn::{Def, DynSchema, ParamDef, ParamKind, TypeRef};
use mtproto_transport::{
    Frame, ObfuscatedInit, ObfuscatedInner, Transport, TransportConfig, TransportKind,
};
use rand::{CryptoRng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

/// A fuzz target: must not panic on any input unless it found a bug.
pub type Target = fn(&[u8]);

/// Every target by name (the names of the `fuzz_targets/*.rs` binaries and of
/// the `corpus/<name>/` folders).
pub const TARGETS: &[(&str, Target)] = &[
    ("tl_schema_parse", tl_schema_parse),
    ("tl_decode_any", tl_decode_any),
    ("gzip_packed", gzip_packed),
    ("transport_abridged", transport_abridged),
    ("transport_intermediate", transport_intermediate),
    ("transport_padded", transport_padded),
    ("transport_full", transport_full),
    ("transport_obfuscated", transport_obfuscated),
    ("session_incoming", session_incoming),
    ("handshake_client", handshake_client),
    ("handshake_server", handshake_server),
    ("cli_decode", cli_decode),
    ("tl_roundtrip_structured", tl_roundtrip_structured),
];

// ---------------------------------------------------------------------------
// TL
// ---------------------------------------------------------------------------

/// The TL schema parser on arbitrary text (lossily decoded as UTF-8); the
/// run-time schema builder of `mtproto-tl-dyn` on the same text.
pub fn tl_schema_parse(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = mtproto_tl_parser::parse(&text);
    let _ = DynSchema::from_texts(&[&text]);
}

/// Whether `data` contains the `gzip_packed` constructor id anywhere (then a
/// successful decode may legitimately re-encode differently: inflated).
fn mentions_gzip(data: &[u8]) -> bool {
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

/// `gzip_packed` bodies: (1) arbitrary bytes as the body (TL `bytes` holding
/// the gzip stream), inflated within a 1 MiB cap; (2) arbitrary bytes boxed
/// as `gzip_packed` through the generated decoders; (3) round trip: the
/// deflated input inflates back to exactly the input.
pub fn gzip_packed(data: &[u8]) {
    let limits = Limits {
        max_depth: 64,
        max_gzip_size: 1 << 20,
    };
    let mut r = Reader::with_limits(data, limits);
    let _ = mtproto_tl::read_gzip_packed(&mut r, |inner| Ok(inner.take_rest().to_vec()));

    let mut boxed = mtproto_tl::GZIP_PACKED_ID.to_le_bytes().to_vec();
    boxed.extend_from_slice(data);
    let _ = mtproto_tl::api::decode_and_reencode(&boxed);
    let _ = mtproto_tl::mtproto::decode_and_reencode(&boxed);

    let mut body = Vec::new();
    mtproto_tl::write_tl_bytes(&mtproto_tl::deflate(data), &mut body);
    let mut r = Reader::with_limits(&body, limits);
    let back = mtproto_tl::read_gzip_packed(&mut r, |inner| Ok(inner.take_rest().to_vec()));
    assert_eq!(
        back.as_deref().ok(),
        Some(data),
        "deflate/inflate round trip"
    );
}

/// The run-time schema-driven decoder (`mtproto-cli decode`): its own fuzz
/// entry point (boxed and `%Message` round trips), plus agreement with the
/// generated code: bytes the generated decoders read back exactly must also
/// decode and re-encode exactly at run time.
pub fn cli_decode(data: &[u8]) {
    mtproto_tl_dyn::fuzz_decode(data);
    if mentions_gzip(data) {
        return;
    }
    let typed = mtproto_tl::api::decode_and_reencode(data)
        .or_else(|_| mtproto_tl::mtproto::decode_and_reencode(data));
    if typed.as_deref().ok() == Some(data) {
        let schema = DynSchema::builtin();
        match schema.decode_boxed(data) {
            Ok(v) => {
                let again = schema.encode_boxed(&v);
                assert_eq!(again.as_deref().ok(), Some(data), "dyn re-encode of {v:?}");
            }
            // The generated code keeps `Object` fields and `!X` queries
            // (rpc_result's result, a message body, invokeWithLayer's query)
            // opaque: it takes the rest of the input without looking at it.
            // The run-time decoder decodes them, so any error in there
            // (unknown id, truncation, bad length) is no disagreement
            // (`fuzz/regressions/cli_decode/`).
            Err(_) if holds_opaque(data) => {}
            // Nesting is bounded by both decoders, counted differently.
            Err(e) if is_depth_limit(&e) => {}
            // The generated types were built from a larger schema than the
            // run-time decoder's built-in one (MTPROTO_TL_SCHEMA_DIR, e.g. the
            // full layer): a constructor only the generated code knows is no
            // disagreement.
            Err(e) if only_generated_knows(schema, &e) => {}
            Err(e) => panic!("generated code decodes these bytes, run-time decoder fails: {e}"),
        }
    }
}

/// Whether the run-time decoder failed on a constructor id that the generated
/// code knows but the run-time decoder's schema does not define.
fn only_generated_knows(schema: &DynSchema, e: &mtproto_tl_dyn::DynError) -> bool {
    match e.kind {
        mtproto_tl_dyn::DynErrorKind::UnknownConstructor { id, .. } => {
            schema.by_id(id).is_none()
                && (mtproto_tl::api::name_for_id(id).is_some()
                    || mtproto_tl::mtproto::name_for_id(id).is_some())
        }
        _ => false,
    }
}

/// Whether the run-time decoder stopped at its nesting limit.
fn is_depth_limit(e: &mtproto_tl_dyn::DynError) -> bool {
    matches!(
        e.kind,
        mtproto_tl_dyn::DynErrorKind::Tl(mtproto_tl::DecodeErrorKind::DepthLimitExceeded { .. })
    )
}

/// The constructor id at the start of `data`.
fn leading_id(data: &[u8]) -> Option<u32> {
    data.get(..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_le_bytes)
}

/// Whether the definition whose id starts `data` may hold (directly or
/// nested) an `Object` or `!X` parameter, which the generated code decodes as
/// an opaque `RawObject`.
fn holds_opaque(data: &[u8]) -> bool {
    static IDS: OnceLock<HashSet<u32>> = OnceLock::new();
    let ids = IDS.get_or_init(|| {
        ids_reaching(
            DynSchema::builtin(),
            |_| false,
            |t| t.generic_ref || t.name == "Object",
        )
    });
    leading_id(data).is_some_and(|id| ids.contains(&id))
}

/// Whether the definition whose id starts `data` may hold (directly, nested,
/// or through a `!X` query) a constructor with two parameters on the same
/// flag bit (channel's `restricted:flags.9?true` and
/// `restriction_reason:flags.9?Vector<..>`; config's `suggested_lang_code`,
/// `lang_pack_version` and `base_lang_pack_version` on `flags.2`).
fn shares_flag_bit(data: &[u8]) -> bool {
    static IDS: OnceLock<HashSet<u32>> = OnceLock::new();
    let ids = IDS.get_or_init(|| {
        ids_reaching(
            DynSchema::builtin(),
            |d| {
                let flag = |p: &ParamDef| match &p.kind {
                    ParamKind::Normal { flag, .. } => flag.clone(),
                    ParamKind::Flags => None,
                };
                d.params.iter().enumerate().any(|(i, a)| {
                    flag(a).is_some() && d.params.iter().skip(i + 1).any(|b| flag(b) == flag(a))
                })
            },
            |t| t.generic_ref,
        )
    });
    leading_id(data).is_some_and(|id| ids.contains(&id))
}

/// Ids of every definition that is `base` or has a parameter whose type is
/// `base_type` or (nested in a vector, transitively) a type / bare
/// constructor with such a definition: a fixed point over the schema.
fn ids_reaching(
    schema: &DynSchema,
    base: impl Fn(&Def) -> bool,
    base_type: impl Fn(&TypeRef) -> bool,
) -> HashSet<u32> {
    fn mentions(
        t: &TypeRef,
        names: &HashSet<String>,
        base_type: &dyn Fn(&TypeRef) -> bool,
    ) -> bool {
        base_type(t)
            || names.contains(&t.name)
            || t.arg
                .as_deref()
                .is_some_and(|a| mentions(a, names, base_type))
    }
    // Type names and constructor names (for bare `%message` references).
    let mut names: HashSet<String> = HashSet::new();
    let mut ids = HashSet::new();
    loop {
        let before = ids.len();
        for d in schema.definitions() {
            let hit = base(d)
                || d.params.iter().any(|p| match &p.kind {
                    ParamKind::Normal { ty, .. } => mentions(ty, &names, &base_type),
                    ParamKind::Flags => false,
                });
            if hit && ids.insert(d.id) {
                names.insert(d.name.clone());
                if !d.is_function {
                    names.insert(d.result.name.clone());
                }
            }
        }
        if ids.len() == before {
            return ids;
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

// ---------------------------------------------------------------------------
// Transports
// ---------------------------------------------------------------------------

const FUZZ_FRAME_MAX: usize = 1 << 16;

fn cfg() -> TransportConfig {
    TransportConfig {
        max_frame_len: FUZZ_FRAME_MAX,
        dc_id: None,
    }
}

fn seeded(seed: u64) -> Box<ChaCha20Rng> {
    Box::new(ChaCha20Rng::seed_from_u64(seed))
}

/// A client of `kind`; obfuscated clients use a fixed init so they are
/// deterministic (`init` if it is an acceptable init, else 0x42 bytes).
fn client_of(kind: TransportKind, init: Option<[u8; 64]>) -> Option<Transport> {
    match kind {
        TransportKind::Obfuscated(inner) => {
            let init = init
                .and_then(|r| ObfuscatedInit::from_random(r, inner, None).ok())
                .or_else(|| ObfuscatedInit::from_random([0x42; 64], inner, None).ok())?;
            Some(Transport::obfuscated_client(init, cfg(), seeded(1)))
        }
        _ => Transport::client(kind, cfg(), seeded(1)).ok(),
    }
}

/// Decodes `stream` fed in chunks of the given sizes (cycled; one chunk if
/// empty). Returns the frames and whether decoding ended in an error.
fn decode_chunked(t: &mut Transport, stream: &[u8], sizes: &[usize]) -> (Vec<Frame>, bool) {
    let mut frames = Vec::new();
    let mut buf = BytesMut::new();
    let mut rest = stream;
    let mut i = 0usize;
    while !rest.is_empty() {
        let step = sizes
            .get(i % sizes.len().max(1))
            .copied()
            .unwrap_or(rest.len())
            .clamp(1, rest.len());
        i = i.wrapping_add(1);
        let (chunk, tail) = rest.split_at(step);
        rest = tail;
        buf.extend_from_slice(chunk);
        loop {
            match t.decode_frame(&mut buf) {
                Ok(Some(f)) => {
                    frames.push(f);
                    // Every frame consumes at least one byte: no endless loop.
                    assert!(frames.len() <= stream.len(), "more frames than input bytes");
                }
                Ok(None) => break,
                Err(_) => return (frames, true),
            }
        }
    }
    (frames, false)
}

/// Split-point invariance: the same bytes decoded in one piece and in
/// arbitrary pieces give the same frames and the same outcome, for the
/// server and the client role.
fn transport_split(kind: TransportKind, header: u8, data: &[u8]) {
    let n = usize::from(header >> 1 & 7).min(data.len());
    let (spec, stream) = data.split_at(n);
    let sizes: Vec<usize> = spec.iter().map(|&b| usize::from(b) + 1).collect();
    let make: [&dyn Fn() -> Option<Transport>; 2] =
        [&|| Transport::server(kind, cfg(), seeded(2)).ok(), &|| {
            client_of(kind, None)
        }];
    for m in make {
        let (Some(mut whole), Some(mut split)) = (m(), m()) else {
            continue;
        };
        let a = decode_chunked(&mut whole, stream, &[]);
        let b = decode_chunked(&mut split, stream, &sizes);
        assert_eq!(a, b, "{kind}: frames depend on the split points {sizes:?}");
    }
}

/// Encode/decode round trip in both directions with arbitrary payloads
/// (multiples of 4, at least 24 bytes), quick-ACK requests and tokens, and
/// arbitrary split points on the receiving side.
fn transport_roundtrip(kind: TransportKind, header: u8, data: &[u8]) {
    let full = kind == TransportKind::Full;
    let padded = matches!(
        kind,
        TransportKind::PaddedIntermediate
            | TransportKind::Obfuscated(ObfuscatedInner::PaddedIntermediate)
    );
    let (init, data) = match kind {
        TransportKind::Obfuscated(_) if data.len() >= 64 && header & 2 != 0 => {
            let (a, b) = data.split_at(64);
            (<[u8; 64]>::try_from(a).ok(), b)
        }
        _ => (None, data),
    };
    // Payloads: a length byte then that many words (zero-filled past the end).
    let mut payloads: Vec<(Vec<u8>, bool)> = Vec::new();
    let mut rest = data;
    while let Some((&b, tail)) = rest.split_first() {
        // At least 24 bytes: shorter frames are transport error codes for
        // padded intermediate ("no MTProto message is shorter than 20 bytes").
        let len = (usize::from(b & 0x3f) + 6) * 4;
        let (head, tail) = tail.split_at(len.min(tail.len()));
        let mut p = head.to_vec();
        p.resize(len, 0);
        rest = tail;
        payloads.push((p, b & 0x80 != 0 && !full));
        if payloads.len() >= 32 {
            break;
        }
    }
    let sizes: Vec<usize> = data
        .iter()
        .take(5)
        .map(|&b| usize::from(b % 97) + 1)
        .collect();
    let (Some(mut client), Ok(mut server)) = (
        client_of(kind, init),
        Transport::server(kind, cfg(), seeded(3)),
    ) else {
        return;
    };
    let check = |got: &[Frame], want: &[(Vec<u8>, bool)], server_side: bool| {
        let payload_frames: Vec<&Frame> = got
            .iter()
            .filter(|f| matches!(f, Frame::Payload { .. }))
            .collect();
        assert_eq!(payload_frames.len(), want.len(), "{kind}: frame count");
        for (f, (p, qa)) in payload_frames.iter().zip(want) {
            let Frame::Payload { data, quick_ack } = f else {
                continue;
            };
            if padded {
                assert!(
                    data.starts_with(p) && data.len() - p.len() <= 15,
                    "{kind}: padded payload"
                );
            } else {
                assert_eq!(&data[..], &p[..], "{kind}: payload");
            }
            assert_eq!(*quick_ack, server_side && *qa, "{kind}: quick-ACK flag");
        }
    };
    // Client -> server.
    let mut wire = BytesMut::new();
    for (p, qa) in &payloads {
        if let Err(e) = client.encode_with(p, *qa, &mut wire) {
            panic!("{kind}: client encode: {e}");
        }
    }
    if payloads.is_empty() {
        client.write_header(&mut wire);
    }
    let (frames, err) = decode_chunked(&mut server, &wire, &sizes);
    assert!(!err, "{kind}: server rejects what the client encoded");
    check(&frames, &payloads, true);
    // Server -> client, with a quick-ACK token before every flagged payload.
    let mut wire = BytesMut::new();
    let mut tokens = Vec::new();
    for (i, (p, qa)) in payloads.iter().enumerate() {
        if *qa {
            let token = u32::try_from(i).unwrap_or(0).wrapping_mul(0x9e37_79b9);
            if let Err(e) = server.encode_quick_ack(token, &mut wire) {
                panic!("{kind}: quick ack: {e}");
            }
            tokens.push(token | 1 << 31);
        }
        if let Err(e) = server.encode(p, &mut wire) {
            panic!("{kind}: server encode: {e}");
        }
    }
    let (frames, err) = decode_chunked(&mut client, &wire, &sizes);
    assert!(!err, "{kind}: client rejects what the server encoded");
    let want: Vec<(Vec<u8>, bool)> = payloads.iter().map(|(p, _)| (p.clone(), false)).collect();
    check(&frames, &want, false);
    let got_tokens: Vec<u32> = frames
        .iter()
        .filter_map(|f| match f {
            Frame::QuickAck(t) => Some(*t),
            Frame::Payload { .. } => None,
        })
        .collect();
    assert_eq!(got_tokens, tokens, "{kind}: quick-ACK tokens");
}

/// Shared transport driver: byte 0 picks the mode (bit 0: round trip or
/// raw decode with split-point invariance) and, for obfuscated, the inner
/// transport (bits 4..).
fn transport(kinds: &[TransportKind], data: &[u8]) {
    let Some((&header, rest)) = data.split_first() else {
        return;
    };
    let Some(&kind) = kinds.get(usize::from(header >> 4) % kinds.len().max(1)) else {
        return;
    };
    if header & 1 == 0 {
        mtproto_transport::fuzz_decode_kind(kind, rest);
        transport_split(kind, header, rest);
    } else {
        transport_roundtrip(kind, header, rest);
    }
}

/// Abridged framing (see `transport`).
pub fn transport_abridged(data: &[u8]) {
    transport(&[TransportKind::Abridged], data);
}

/// Intermediate framing.
pub fn transport_intermediate(data: &[u8]) {
    transport(&[TransportKind::Intermediate], data);
}

/// Padded intermediate framing.
pub fn transport_padded(data: &[u8]) {
    transport(&[TransportKind::PaddedIntermediate], data);
}

/// Full framing (seqno, CRC32).
pub fn transport_full(data: &[u8]) {
    transport(&[TransportKind::Full], data);
}

/// Obfuscated2 around abridged / intermediate / padded intermediate.
pub fn transport_obfuscated(data: &[u8]) {
    transport(
        &[
            TransportKind::Obfuscated(ObfuscatedInner::Abridged),
            TransportKind::Obfuscated(ObfuscatedInner::Intermediate),
            TransportKind::Obfuscated(ObfuscatedInner::PaddedIntermediate),
        ],
        data,
    );
}

// ---------------------------------------------------------------------------
// Session
// ---------------------------------------------------------------------------

/// The encrypted session, both roles, fixed auth key: raw packets and the
/// input as validly encrypted plaintext (`mtproto_session::fuzz::session_incoming`).
pub fn session_incoming(data: &[u8]) {
    mtproto_session::fuzz::session_incoming(data);
}

// ---------------------------------------------------------------------------
// Handshake
// ---------------------------------------------------------------------------

/// A test-only RSA key (the one of the session crate's handshake tests).
pub const FUZZ_RSA_PRIVATE_PEM: &str = "\
-----BEGIN RSA PRIVATE KEY-----\n\
MIIEogIBAAKCAQEArm+yT6o7Qvw+rKlQMhCFpDERCHN6rtjzdVxxiToxZ7UmG8Jz\n\
H8+py9QTf4nxxiViQu1vVdcTwrklZuW4ZO3BN/lo13+8SnMc9VrFdSp/9gCngvqg\n\
BiftD/ANxtuQonQQrviEBlmcC2oFlDt2dPJm5Q67FKR+ZZiyBEBIWAuSzJfyY3c9\n\
1T9xCQEkfShnMxfIR36sQqt/8SKvexYnhAIHN+HJwVuUy6rr7x7PRUmA2JkkzsUg\n\
pBbgXnNnu7hso01A8zldAOweX51KOAs2igeupw24DsRjMa609t58pey6o1ZQJd16\n\
2Si7M39plp33CUJwEUakOQ9ENdD7BQv0cK85rwIDAQABAoIBABq0+0X7OEuPN0FU\n\
QvUHVo7G/Gag153BlbTYTIHIKRxJveXuJZYvQz3z4HBcfGnr+1ln5O3tmhbsJe/V\n\
KCA7zqN1SjoEUp3LdhmSpjzEHwdZHkyNdsa6gi84f8N8hm54+rzvS7d1LNEKkIQb\n\
fo11N4/Ga5pDfR6s/ERuWyUv0HAGat4bpa4IB6bNy5ERtS2zeFtnu1zBfHamLpAG\n\
CuEqH9csW1GeRr/ox9r0Jr2tMAIeDQearVpKcOrEVPFPkfpude+124P7UL10SGdg\n\
v16j4TCLr6hxTOWqwDQu9SnoYPIsQ7tYVKH7JmCJgLwfwRZeHwTNNs1BIQc+D+Hl\n\
dqdI5kECgYEA1Qo1SZ6WWBA90ZyRiW2/BNjNAZu6ik747qfADrGNCRnRWyq5TZl1\n\
xSQkYRoTX1UXBwMgU4TNzLXxdlNR/11KhVxHuTFgHWe6xd4qJ93jrNzpGCs4RnnF\n\
mmRBs5ABQ70jrazrNUz6wFILDxxcPLTvLGTPAdIddmFHX+XhAn4ofp8CgYEA0Zym\n\
iFoHgTKXEwVl3+DITk3htsiy+3Jv1S4Lx4GN60Frp6L+Hc8TOZPRg871FIUJnRB8\n\
ajVIfBQkRAdiuFVbw7/fV1N68UiVKhgGivAGanw0B4U50sGdVS2nAeg2Mk41v+y5\n\
U595Igan6KWd5t9XdtRqRoredTANH6N/BdQgOvECgYA7YVQHCCAJvcUtVsGuF5vl\n\
ovRJXXm6MVbrVnCO5+hSwBJ9ocPyoDKWV4OYWSdLLDF17+YjwWGHjLMX8xNo5Tzv\n\
PRB0yxFqQM5rdogzgoKCXTTPWsSdyDVO2mEBxsLDecWnFAqfWayOzI9uj84Z0ajU\n\
q+iTLlit9WFqlm2IP1fUKwKBgECOVlu4HoeT5SNejjmdKRO0uMdqmHUIkZi+TbJs\n\
HCFQTK+ca1cS54DcHbLSknh3YLaW1TqAnopYSbMJ80WCRHjNJyPl+f9Fs2r7a0hv\n\
FArHpd6LEXvvVV1eagkUU1y66aLqbUlr3Aq2sg/csfzg3DckxHZlXo4I9oHAAOby\n\
pdqBAoGAIrQN0Pqk6sraeO57cvMzV5lx+InpXGtLYTgCsN6Ry/2rbwwYu/7IEgAA\n\
vp3K1JjHYAPY9m6q4xe70ftKT/srix7ikHsmLc0Is/Sts6Vc7AeCZ4mI6G5unwV+\n\
jK0whB9UskVFrKDTgKYzHGZpStSAim4LAzlCn9uwvHYfSwYfM/A=\n\
-----END RSA PRIVATE KEY-----\n\
";

/// Local time used by the handshake targets.
const NOW: u64 = 1_700_000_000;

/// An RNG that records everything it hands out (to learn the client's
/// `nonce` and `new_nonce`).
struct Recorder(ChaCha20Rng, Vec<u8>);

impl RngCore for Recorder {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, d: &mut [u8]) {
        self.0.fill_bytes(d);
        self.1.extend_from_slice(d);
    }
    fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(d);
        Ok(())
    }
}
impl CryptoRng for Recorder {}

/// One valid handshake between our client and our server, with every
/// intermediate state kept so targets can start at any step.
struct Fixture {
    key: RsaPrivateKey,
    c1: client::AwaitingResPq,
    c2: client::AwaitingServerDhParams,
    c3: client::AwaitingDhGen,
    s0: server::AwaitingReqPq,
    s1: server::AwaitingReqDhParams,
    s2: server::AwaitingSetClientDhParams,
    nonce: [u8; 16],
    server_nonce: [u8; 16],
    new_nonce: [u8; 32],
    tmp: AesKeyIv,
    auth_key: AuthKey,
    /// The bodies exchanged: req_pq_multi, resPQ, req_DH_params,
    /// server_DH_params_ok, set_client_DH_params, dh_gen_ok.
    bodies: [Vec<u8>; 6],
}

fn client_config(key: &RsaPrivateKey) -> HandshakeConfig {
    HandshakeConfig::new(vec![key.public_key().clone()], 2)
}

fn fixture() -> Option<&'static Fixture> {
    static F: OnceLock<Option<Fixture>> = OnceLock::new();
    F.get_or_init(build_fixture).as_ref()
}

fn build_fixture() -> Option<Fixture> {
    let key = RsaPrivateKey::from_pkcs1_pem(FUZZ_RSA_PRIVATE_PEM).ok()?;
    let now = Timestamp::from_secs(NOW);
    let mut crng = Recorder(ChaCha20Rng::seed_from_u64(11), Vec::new());
    let mut srng = ChaCha20Rng::seed_from_u64(12);
    let s0 = server::AwaitingReqPq::new(ServerConfig::new(vec![key.clone()]));
    let (c1, b1) = client::start(client_config(&key), &mut crng);
    let (s1, r1) = s0.clone().handle_req_pq(&b1, &mut srng).ok()?;
    let (c2, b2) = c1.clone().handle_res_pq(&r1, &mut crng).ok()?;
    let (s2, r2) = s1.clone().handle_req_dh_params(&b2, &mut srng, now).ok()?;
    let (c3, b3) = c2
        .clone()
        .handle_server_dh_params(&r2, &mut crng, now)
        .ok()?;
    let SetClientDhResult::Done(r3, _) = s2
        .clone()
        .handle_set_client_dh_params(&b3, |_| false)
        .ok()?
    else {
        return None;
    };
    let DhGenResult::Done(outcome) = c3.clone().handle_dh_gen(&r3, &mut crng).ok()? else {
        return None;
    };
    let nonce: [u8; 16] = crng.1.get(..16)?.try_into().ok()?;
    let new_nonce: [u8; 32] = crng.1.get(16..48)?.try_into().ok()?;
    let server_nonce: [u8; 16] = r1.get(20..36)?.try_into().ok()?;
    Some(Fixture {
        tmp: tmp_aes_key_iv(&server_nonce, &new_nonce),
        auth_key: outcome.auth_key,
        key,
        c1,
        c2,
        c3,
        s0,
        s1,
        s2,
        nonce,
        server_nonce,
        new_nonce,
        bodies: [b1, r1, b2, r2, b3, r3],
    })
}

/// Overwrites the `nonce` (bytes 4..20) and `server_nonce` (20..36) fields
/// after a constructor id with the right ones, where the input is long
/// enough, so mutations get past the nonce checks.
fn fix_nonces(f: &Fixture, body: &[u8], server_nonce: bool) -> Vec<u8> {
    let mut b = body.to_vec();
    if let Some(n) = b.get_mut(4..20) {
        n.copy_from_slice(&f.nonce);
    }
    if server_nonce {
        if let Some(n) = b.get_mut(20..36) {
            n.copy_from_slice(&f.server_nonce);
        }
    }
    b
}

/// Splits `data` into messages, each prefixed by a 2-byte little-endian length.
fn messages(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while rest.len() >= 2 && out.len() < 8 {
        let n = usize::from(u16::from_le_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        out.push(&rest[2..2 + n]);
        rest = &rest[2 + n..];
    }
    out
}

/// The client handshake against arbitrary server answers. Byte 0 picks:
/// 0 the `ClientHandshake` driver fed length-prefixed whole messages;
/// 1 `resPQ` body, 2 `server_DH_params` body, 4 `dh_gen_*` body (nonces
/// and the `new_nonce_hash` fixed up), each at the right step after valid
/// earlier steps; 3 the plaintext `server_DH_inner_data`, encrypted with the
/// right temporary key so it gets past the SHA1 check.
pub fn handshake_client(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let Some(f) = fixture() else {
        panic!("handshake fixture failed");
    };
    let now = Timestamp::from_secs(NOW);
    let mut rng = ChaCha20Rng::seed_from_u64(u64::from(sel));
    match sel % 5 {
        0 => {
            let mut hs = ClientHandshake::with_msg_ids(client_config(&f.key), FixedMsgIds::new([]));
            if hs.start(&mut rng, now).is_err() {
                return;
            }
            for m in messages(rest) {
                match hs.feed(m, &mut rng, now) {
                    Ok(ClientEvent::Send(_)) => {}
                    Ok(ClientEvent::Done(_)) | Err(_) => break,
                }
            }
        }
        1 => {
            let _ =
                f.c1.clone()
                    .handle_res_pq(&fix_nonces(f, rest, false), &mut rng);
        }
        2 => {
            let _ =
                f.c2.clone()
                    .handle_server_dh_params(&fix_nonces(f, rest, true), &mut rng, now);
        }
        3 => {
            let inner = fix_nonces(f, rest, true);
            let Ok(enc) = encrypt_with_hash_rng(&inner, &f.tmp, &mut rng) else {
                return;
            };
            let mut body = 0xd0e8_075c_u32.to_le_bytes().to_vec();
            body.extend_from_slice(&f.nonce);
            body.extend_from_slice(&f.server_nonce);
            tl_bytes(&enc, &mut body);
            if let Ok((c3, _)) = f.c2.clone().handle_server_dh_params(&body, &mut rng, now) {
                // Accepted: the last step must then also not panic.
                let last = f.bodies[5].clone();
                let _ = c3.handle_dh_gen(&last, &mut rng);
            }
        }
        _ => {
            let mut b = fix_nonces(f, rest, true);
            let number = match b.get(..4) {
                Some([0x34, 0xf7, 0xcb, 0x3b]) => 1,
                Some([0xb9, 0x1f, 0xdc, 0x46]) => 2,
                Some([0x02, 0xae, 0x9d, 0xa6]) => 3,
                _ => 0,
            };
            if number > 0 {
                if let Some(h) = b.get_mut(36..52) {
                    h.copy_from_slice(&f.auth_key.new_nonce_hash(&f.new_nonce, number));
                }
            }
            let mut state = f.c3.clone();
            // Follow retries a few times, feeding the same answer.
            for _ in 0..3 {
                match state.handle_dh_gen(&b, &mut rng) {
                    Ok(DhGenResult::Retry(next, _)) => state = next,
                    Ok(DhGenResult::Done(_)) | Err(_) => break,
                }
            }
        }
    }
}

/// The server handshake against arbitrary client requests. Byte 0 picks:
/// 0 the `ServerHandshake` driver fed length-prefixed whole messages;
/// 1 `req_pq_multi` body; 2 `req_DH_params` body; 3 `set_client_DH_params`
/// body (nonces fixed up); 4 the plaintext `p_q_inner_data*`, RSA_PAD
/// encrypted for the server's key; 5 the plaintext `client_DH_inner_data`,
/// encrypted with the right temporary key.
pub fn handshake_server(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let Some(f) = fixture() else {
        panic!("handshake fixture failed");
    };
    let now = Timestamp::from_secs(NOW);
    let mut rng = ChaCha20Rng::seed_from_u64(u64::from(sel));
    match sel % 6 {
        0 => {
            let mut hs = ServerHandshake::with_msg_ids(
                ServerConfig::new(vec![f.key.clone()]),
                FixedMsgIds::new([]),
            );
            for m in messages(rest) {
                match hs.feed(m, &mut rng, now, |_| false) {
                    Ok(ServerEvent::Send(_)) => {}
                    Ok(ServerEvent::Done { .. }) | Err(_) => break,
                }
            }
        }
        1 => {
            let _ = f.s0.clone().handle_req_pq(rest, &mut rng);
        }
        2 => {
            let _ =
                f.s1.clone()
                    .handle_req_dh_params(&fix_nonces(f, rest, true), &mut rng, now);
        }
        3 => {
            let _ =
                f.s2.clone()
                    .handle_set_client_dh_params(&fix_nonces(f, rest, true), |_| false);
        }
        4 => {
            let Ok(enc) = f.key.public_key().rsa_pad_encrypt(rest, &mut rng) else {
                return;
            };
            let (_, p, q) = f.s1.pq();
            let mut body = 0xd712_e4be_u32.to_le_bytes().to_vec();
            body.extend_from_slice(&f.nonce);
            body.extend_from_slice(&f.server_nonce);
            tl_bytes(&mtproto_crypto::pq::to_be_bytes_trimmed(p), &mut body);
            tl_bytes(&mtproto_crypto::pq::to_be_bytes_trimmed(q), &mut body);
            body.extend_from_slice(&f.key.public_key().fingerprint().to_le_bytes());
            tl_bytes(&enc, &mut body);
            let _ = f.s1.clone().handle_req_dh_params(&body, &mut rng, now);
        }
        _ => {
            let inner = fix_nonces(f, rest, true);
            let Ok(enc) = encrypt_with_hash_rng(&inner, &f.tmp, &mut rng) else {
                return;
            };
            let mut body = 0xf504_5f1f_u32.to_le_bytes().to_vec();
            body.extend_from_slice(&f.nonce);
            body.extend_from_slice(&f.server_nonce);
            tl_bytes(&enc, &mut body);
            let mut state = f.s2.clone();
            let mut taken = 0;
            for _ in 0..3 {
                match state.handle_set_client_dh_params(&body, |_| {
                    taken += 1;
                    taken < 2
                }) {
                    Ok(SetClientDhResult::Retry(next, _)) => state = next,
                    Ok(SetClientDhResult::Done(..)) | Err(_) => break,
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Seeds
// ---------------------------------------------------------------------------

/// Seed inputs derived from a valid in-process handshake (for the checked-in
/// corpus: `handshake_client`, `handshake_server`), as (target, input).
pub fn handshake_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let Some(f) = fixture() else {
        return Vec::new();
    };
    let [b1, r1, b2, r2, b3, r3] = &f.bodies;
    let with = |sel: u8, body: &[u8]| {
        let mut v = vec![sel];
        v.extend_from_slice(body);
        v
    };
    let framed = |sel: u8, msgs: &[&Vec<u8>]| {
        let mut v = vec![sel];
        for (i, m) in msgs.iter().enumerate() {
            let msg = encode_plain(0x6000_0000_0000_0001 + (i as i64) * 4, m);
            v.extend_from_slice(&u16::try_from(msg.len()).unwrap_or(0).to_le_bytes());
            v.extend_from_slice(&msg);
        }
        v
    };
    let mut out = vec![
        ("handshake_client", framed(0, &[r1, r2, r3])),
        ("handshake_client", with(1, r1)),
        ("handshake_client", with(2, r2)),
        ("handshake_client", with(4, r3)),
        ("handshake_server", framed(0, &[b1, b2, b3])),
        ("handshake_server", with(1, b1)),
        ("handshake_server", with(2, b2)),
        ("handshake_server", with(3, b3)),
    ];
    // Plaintext server_DH_inner_data / client_DH_inner_data, decrypted back
    // from the valid run; and a p_q_inner_data_dc built from the fixture.
    if let Ok(plain) = mtproto_crypto::dh::decrypt_answer_with_hash(
        r2.get(40..).map_or(&[][..], strip_tl_bytes),
        &f.tmp,
    ) {
        out.push(("handshake_client", with(3, &plain)));
    }
    if let Ok(plain) = mtproto_crypto::dh::decrypt_answer_with_hash(
        b3.get(36..).map_or(&[][..], strip_tl_bytes),
        &f.tmp,
    ) {
        out.push(("handshake_server", with(5, &plain)));
    }
    let (pq, p, q) = f.s1.pq();
    let mut inner = 0xa9f5_5f95_u32.to_le_bytes().to_vec();
    for x in [pq, p, q] {
        tl_bytes(&mtproto_crypto::pq::to_be_bytes_trimmed(x), &mut inner);
    }
    inner.extend_from_slice(&f.nonce);
    inner.extend_from_slice(&f.server_nonce);
    inner.extend_from_slice(&f.new_nonce);
    inner.extend_from_slice(&2i32.to_le_bytes());
    out.push(("handshake_server", with(4, &inner)));
    out
}

/// The content of a TL `bytes` field at the start of `b` (empty if malformed).
fn strip_tl_bytes(b: &[u8]) -> &[u8] {
    let mut r = Reader::new(b);
    r.read_tl_bytes().unwrap_or(&[])
}
