//! The run-time decoder agrees with the generated types.
//!
//! - Many objects are built with the generated `mtproto_tl` types (random,
//!   via `arbitrary`, from a fixed seed), serialized, decoded dynamically
//!   with the parsed `tl-schema/*.tl`, and re-encoded dynamically: the bytes
//!   must be identical and the names must match the generated `name_for_id`.
//! - Objects serialized by Telethon 1.45.0 (shared/vectors/tl_objects.json),
//!   restated here, decode to the expected trees and re-encode exactly.
//! - With `MTPROTO_FULL_SCHEMA=1` at build time (build.rs then enables
//!   `cfg(mtproto_full_schema_tests)`): all 50 Telethon objects with the
//!   shared layer-228 `api.tl` + `mtproto.tl` (fails loudly if they are
//!   missing). Without it that test is reported as ignored.
#![allow(clippy::unwrap_used)]

use arbitrary::{Arbitrary, Unstructured};
use mtproto_tl::api::{enums, functions, types};
use mtproto_tl::{mtproto, Deserialize, Serialize};
use mtproto_tl_dyn::{DynErrorKind, DynSchema, Value};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// The schema the generated types were built from: `mtproto-tl`'s build
/// reads `$MTPROTO_TL_SCHEMA_DIR` (and `$MTPROTO_TL_API`) when set, else
/// our `tl-schema/` (CI builds layer 228 and layer 230 that way).
fn schema() -> DynSchema {
    let ours = concat!(env!("CARGO_MANIFEST_DIR"), "/../mtproto-tl/schema");
    let root = option_env!("MTPROTO_TL_SCHEMA_DIR")
        .filter(|d| !d.is_empty())
        .unwrap_or(ours);
    let api_path = option_env!("MTPROTO_TL_API")
        .filter(|p| !p.is_empty())
        .map_or_else(|| format!("{root}/api.tl"), str::to_owned);
    let api = std::fs::read_to_string(&api_path).unwrap();
    let mt = std::fs::read_to_string(format!("{root}/mtproto.tl")).unwrap();
    DynSchema::from_texts(&[&api, &mt]).unwrap()
}

/// xorshift64*, for reproducible random input to `arbitrary`.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// The low byte of the next value.
    fn byte(&mut self) -> u8 {
        (self.next() & 0xff) as u8
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.byte()).collect()
    }
    /// An index below `n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }
}

/// Generates `n` values of `T`, and checks each one both ways. Returns how
/// many were compared.
fn agree<T>(
    s: &DynSchema,
    rng: &mut Rng,
    n: usize,
    name_for_id: fn(u32) -> Option<&'static str>,
) -> usize
where
    T: for<'a> Arbitrary<'a> + Serialize + Deserialize + PartialEq + core::fmt::Debug,
{
    let mut compared = 0;
    for _ in 0..n {
        let len = 16 + (rng.next() % 600) as usize;
        let raw = rng.bytes(len);
        let Ok(value) = T::arbitrary(&mut Unstructured::new(&raw)) else {
            continue;
        };
        let bytes = value.to_bytes();
        // Values the generated code itself cannot read back (two fields on
        // one flag bit with only one set) are not valid TL; skip them.
        match T::from_bytes(&bytes) {
            Ok(back) if back.to_bytes() == bytes => {}
            _ => continue,
        }
        let dynv = s
            .decode_boxed(&bytes)
            .unwrap_or_else(|e| panic!("dyn decode of {value:?} ({}): {e}", hex::encode(&bytes)));
        let id = u32::from_le_bytes(bytes[..4].try_into().unwrap());
        match &dynv {
            Value::Object { name, .. } => assert_eq!(Some(name.as_str()), name_for_id(id)),
            Value::Bool(_) => {}
            other => panic!("unexpected {other:?}"),
        }
        let again = s.encode_boxed(&dynv).unwrap();
        assert_eq!(
            hex::encode(&again),
            hex::encode(&bytes),
            "{value:?}\n{dynv:?}"
        );
        compared += 1;
    }
    compared
}

#[test]
fn agrees_with_generated_types_on_random_objects() {
    let s = schema();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let api = mtproto_tl::api::name_for_id;
    let mt = mtproto_tl::mtproto::name_for_id;
    let mut total = 0;
    macro_rules! each {
        ($f:expr, $n:expr; $($t:ty),* $(,)?) => {
            $( let c = agree::<$t>(&s, &mut rng, $n, $f); assert!(c > 0, "no {} compared", stringify!($t)); total += c; )*
        };
    }
    each!(api, 60;
        enums::Chat, enums::ChatAdminRights, enums::ChatBannedRights, enums::ChatPhoto,
        enums::Config, enums::DataJson, enums::DcOption, enums::Document, enums::DocumentAttribute,
        enums::EmojiStatus, enums::Error, enums::GeoPoint, enums::InputChannel,
        enums::InputClientProxy, enums::InputDocument, enums::InputGeoPoint, enums::InputPeer,
        enums::InputPhoto, enums::InputRichFile, enums::InputRichMessage, enums::InputStickerSet,
        enums::InputUser, enums::JsonObjectValue, enums::JsonValue, enums::MaskCoords,
        enums::MessageEntity, enums::PageBlock, enums::PageCaption, enums::PageListItem,
        enums::PageListOrderedItem, enums::PageRelatedArticle, enums::PageTableCell,
        enums::PageTableRow, enums::PeerColor, enums::Photo, enums::PhotoSize, enums::Reaction,
        enums::RecentStory, enums::RestrictionReason, enums::RichMessage, enums::RichText,
        enums::SendMessageAction, enums::TextWithEntities, enums::True, enums::Username,
        enums::VideoSize, enums::messages::AffectedMessages, bool,
        functions::messages::SetTyping, functions::messages::DeleteMessages,
        functions::help::GetConfig,
        functions::InvokeWithLayer<functions::InitConnection<functions::messages::SetTyping>>,
        functions::InvokeAfterMsg<functions::InvokeWithoutUpdates<functions::help::GetConfig>>,
    );
    each!(mt, 40;
        mtproto::enums::BadMsgNotification, mtproto::enums::BindAuthKeyInner,
        mtproto::enums::ClientDhInnerData, mtproto::enums::DestroyAuthKeyRes,
        mtproto::enums::DestroySessionRes, mtproto::enums::FutureSalt, mtproto::enums::FutureSalts,
        mtproto::enums::HttpWait, mtproto::enums::MsgDetailedInfo, mtproto::enums::MsgResendReq,
        mtproto::enums::MsgsAck, mtproto::enums::MsgsAllInfo, mtproto::enums::MsgsStateInfo,
        mtproto::enums::MsgsStateReq, mtproto::enums::NewSession, mtproto::enums::PQInnerData,
        mtproto::enums::Pong, mtproto::enums::ResPq, mtproto::enums::RpcDropAnswer,
        mtproto::enums::RpcError, mtproto::enums::ServerDhInnerData,
        mtproto::enums::ServerDhParams, mtproto::enums::SetClientDhParamsAnswer,
        mtproto::functions::Ping, mtproto::functions::PingDelayDisconnect,
        mtproto::functions::ReqPqMulti, mtproto::functions::ReqDhParams,
        mtproto::functions::SetClientDhParams, mtproto::functions::DestroySession,
        mtproto::functions::GetFutureSalts, mtproto::functions::RpcDropAnswer,
    );
    assert!(total > 1500, "only {total} objects compared");
}

/// Telethon: `messages.setTyping(peer=inputPeerUser(777000,
/// -6045902435384592131), action=typing)`.
const SET_TYPING: &str = "e23e9458000000004ca5e8dd28db0b0000000000fd783b80c4a318ac4e74bf16";

#[test]
fn telethon_set_typing_json_and_tree() {
    let s = schema();
    let v = s.decode_function(&h(SET_TYPING)).unwrap();
    assert_eq!(
        v.to_json(),
        r#"{"_": "messages.setTyping", "flags": 0, "peer": {"_": "inputPeerUser", "user_id": 777000, "access_hash": -6045902435384592131}, "action": {"_": "sendMessageTypingAction"}}"#
    );
    assert_eq!(
        v.to_tree(),
        "messages.setTyping#58943ee2\n  flags: 0\n  peer: inputPeerUser#dde8a54c\n    user_id: 777000\n    access_hash: -6045902435384592131\n  action: sendMessageTypingAction#16bf744e\n"
    );
    assert_eq!(s.encode_boxed(&v).unwrap(), h(SET_TYPING));
    // The same bytes through the generated type.
    let typed = functions::messages::SetTyping::from_bytes(&h(SET_TYPING)).unwrap();
    assert_eq!(
        typed.peer,
        enums::InputPeer::User(types::InputPeerUser {
            user_id: 777000,
            access_hash: -6045902435384592131
        })
    );
    // A function is not a boxed InputPeer.
    let e = s.decode_bare("InputPeer", &h(SET_TYPING)).unwrap_err();
    assert_eq!(e.offset, 0);
}

#[test]
fn flags_are_computed_on_encode() {
    let s = schema();
    // Telethon `messages.setTyping/top_msg_id`: flags = 1, top_msg_id = 12345.
    let v = Value::object(
        "messages.setTyping",
        0x58943ee2,
        vec![
            ("flags", Value::Int(0)),
            ("peer", Value::object("inputPeerSelf", 0x7da07ec9, vec![])),
            ("top_msg_id", Value::Int(12345)),
            (
                "action",
                Value::object("sendMessageTypingAction", 0x16bf744e, vec![]),
            ),
        ],
    );
    let b = s.encode_boxed(&v).unwrap();
    assert_eq!(hex::encode(&b), "e23e945801000000c97ea07d393000004e74bf16");
    let back = s.decode_boxed(&b).unwrap();
    assert_eq!(back.field("flags"), Some(&Value::Int(1)));
}

#[test]
fn telethon_core_objects() {
    let s = schema();
    // rpc_result(req_msg_id=0x5e308b91c2c1a801, rpc_error(420, 'FLOOD_WAIT_30'))
    let rpc = "016d5cf301a8c1c2918b305e19ca4421a40100000d464c4f4f445f574149545f33300000";
    let v = s.decode_boxed(&h(rpc)).unwrap();
    assert_eq!(
        v.to_json(),
        r#"{"_": "rpc_result", "req_msg_id": 6787078096601327617, "result": {"_": "rpc_error", "error_code": 420, "error_message": "FLOOD_WAIT_30"}}"#
    );
    assert_eq!(s.encode_boxed(&v).unwrap(), h(rpc));
    // msg_container [msgs_ack([..a801]), ping(7)]
    let cont = "dcf8f1730200000005a8c1c2918b305e000000001400000059b4d66215c4b51c0100000001a8c1c2918b305e09a8c1c2918b305e010000000c000000ec77be7a0700000000000000";
    let v = s.decode_boxed(&h(cont)).unwrap();
    assert_eq!(
        v.to_json(),
        r#"{"_": "msg_container", "messages": [{"_": "message", "msg_id": 6787078096601327621, "seqno": 0, "bytes": 20, "body": {"_": "msgs_ack", "msg_ids": [6787078096601327617]}}, {"_": "message", "msg_id": 6787078096601327625, "seqno": 1, "bytes": 12, "body": {"_": "ping", "ping_id": 7}}]}"#
    );
    assert_eq!(s.encode_boxed(&v).unwrap(), h(cont));
    // gzip_packed(msgs_ack([1..64])), Python's gzip.compress(mtime=0).
    let gz = "a1cf7230941f8b08000000000002032dc5592202010000d069918410136dd2a2428b56dae71a7e3b63dda033741e1fbdf7f3fef6a75d783c94a3200862c159dc09277de1942f9df69533bef68d6f9df59deffde09c1ffde4d0793ffbc505175d72d915bfbaea37d75c77c34dbfbbe5b63bfef0a7bfdc75cf7d0ffceda1471e7be2a967fef1afe75e78e995d7de78ebc8ff440aa6650c020000000000";
    let v = s.decode_boxed(&h(gz)).unwrap();
    assert_eq!(v.name(), Some("msgs_ack"));
    let Some(Value::Vector(ids)) = v.field("msg_ids") else {
        panic!("{v:?}")
    };
    assert_eq!(ids.len(), 64);
    assert_eq!(ids[63], Value::Long(64));
    assert_eq!(
        s.encode_boxed(&v).unwrap(),
        h(gz),
        "original gzip stream kept"
    );
    // Changing the content re-compresses; the result still decodes.
    let mut changed = v.clone();
    if let Value::Gzip { inner, .. } = &mut changed {
        **inner = Value::object(
            "msgs_ack",
            0x62d6b459,
            vec![("msg_ids", Value::Vector(vec![Value::Long(5)]))],
        );
    }
    let b = s.encode_boxed(&changed).unwrap();
    assert_eq!(
        s.decode_boxed(&b).unwrap().to_json(),
        r#"{"_": "msgs_ack", "msg_ids": [5]}"#
    );
    // boolTrue / boolFalse / true
    assert_eq!(s.decode_boxed(&h("b5757299")).unwrap(), Value::Bool(true));
    assert_eq!(s.decode_boxed(&h("379779bc")).unwrap(), Value::Bool(false));
    assert_eq!(s.decode_boxed(&h("39d3ed3f")).unwrap().name(), Some("true"));
}

#[test]
fn untyped_vectors_in_object_positions() {
    let s = schema();
    // rpc_result whose result is Vector<long> [1, 2] and Vector<int> [7].
    let longs =
        "016d5cf30100000000000000".to_owned() + "15c4b51c0200000001000000000000000200000000000000";
    let v = s.decode_boxed(&h(&longs)).unwrap();
    assert_eq!(
        v.field("result"),
        Some(&Value::Vector(vec![Value::Long(1), Value::Long(2)]))
    );
    assert_eq!(s.encode_boxed(&v).unwrap(), h(&longs));
    let ints = "016d5cf30100000000000000".to_owned() + "15c4b51c0100000007000000";
    let v = s.decode_boxed(&h(&ints)).unwrap();
    assert_eq!(v.field("result"), Some(&Value::Vector(vec![Value::Int(7)])));
}

#[test]
fn errors_are_typed_with_offsets() {
    let s = schema();
    let full = h(SET_TYPING);
    for n in 0..full.len() {
        let e = s.decode_boxed(&full[..n]).unwrap_err();
        assert!(
            matches!(
                e.kind,
                DynErrorKind::Tl(mtproto_tl::DecodeErrorKind::UnexpectedEof { .. })
            ),
            "{n}: {e}"
        );
    }
    // Unknown peer constructor at byte 8.
    let mut bad = full.clone();
    bad[8] ^= 0xff;
    let e = s.decode_boxed(&bad).unwrap_err();
    assert_eq!(e.offset, 8);
    assert!(e.to_string().contains("expected InputPeer"), "{e}");
    // A wrong-type constructor (sendMessageTypingAction where InputPeer goes).
    let mut wrong = full.clone();
    wrong[8..12].copy_from_slice(&h("4e74bf16"));
    let e = s.decode_boxed(&wrong).unwrap_err();
    assert!(matches!(e.kind, DynErrorKind::WrongType { .. }), "{e}");
    // Trailing bytes.
    let mut long = full.clone();
    long.extend_from_slice(&[0; 4]);
    assert!(matches!(
        s.decode_boxed(&long).unwrap_err().kind,
        DynErrorKind::Tl(mtproto_tl::DecodeErrorKind::TrailingBytes { .. })
    ));
    // Non-zero padding in a string: rejected (it could not round-trip).
    let rpc = h("19ca4421a40100000d464c4f4f445f574149545f33300001");
    assert_eq!(
        s.decode_boxed(&rpc).unwrap_err().kind,
        DynErrorKind::NonCanonicalBytes
    );
    // Huge vector count.
    let e = s.decode_boxed(&h("59b4d66215c4b51cffffff7f")).unwrap_err();
    assert!(
        matches!(
            e.kind,
            DynErrorKind::Tl(mtproto_tl::DecodeErrorKind::VectorTooLong { .. })
        ),
        "{e}"
    );
    // Deep nesting: textBold(textBold(...)) 1000 deep.
    let mut deep = Vec::new();
    for _ in 0..1000 {
        deep.extend_from_slice(&h("c4ab2467"));
    }
    deep.extend_from_slice(&h("4f823ddc"));
    let e = s.decode_boxed(&deep).unwrap_err();
    assert!(
        matches!(
            e.kind,
            DynErrorKind::Tl(mtproto_tl::DecodeErrorKind::DepthLimitExceeded { .. })
        ),
        "{e}"
    );
}

#[test]
fn builtin_schema_parses_and_bare_types() {
    let s = DynSchema::builtin();
    assert!(s.function("messages.setTyping").is_some());
    // Two constructors are named `message`: the API's (api.tl, text 0) and
    // the MTProto one (mtproto.tl, text 1), each found from its own text.
    assert_eq!(s.constructor("message").unwrap().id, 0x7600b9d3);
    assert_eq!(s.constructor_from("message", 1).unwrap().id, 0x5bb8e511);
    let v = s
        .decode_bare("inputPeerUser", &h("2a00000000000000d204000000000000"))
        .unwrap();
    assert_eq!(
        v.to_json(),
        r#"{"_": "inputPeerUser", "user_id": 42, "access_hash": 1234}"#
    );
    assert_eq!(
        s.encode_bare("inputPeerUser", &v).unwrap(),
        h("2a00000000000000d204000000000000")
    );
    let v = s
        .decode_bare("Vector<long>", &h("15c4b51c010000000500000000000000"))
        .unwrap();
    assert_eq!(v.to_json(), "[5]");
    let v = s.decode_bare("int128", &[7; 16]).unwrap();
    assert_eq!(v.to_json(), "\"07070707070707070707070707070707\"");
    assert!(s.decode_bare("NoSuchType", &[0; 4]).is_err());
}

#[test]
fn fuzz_decode_on_random_and_mutated_input() {
    let mut rng = Rng(42);
    let seeds = [
        h(SET_TYPING),
        h("dcf8f1730200000005a8c1c2918b305e000000001400000059b4d66215c4b51c0100000001a8c1c2918b305e09a8c1c2918b305e010000000c000000ec77be7a0700000000000000"),
        h("016d5cf301a8c1c2918b305e19ca4421a40100000d464c4f4f445f574149545f33300000"),
    ];
    for i in 0..20000 {
        let mut data = seeds[i % seeds.len()].clone();
        let muts = 1 + rng.next() % 4;
        for _ in 0..muts {
            let at = rng.below(data.len());
            match rng.next() % 3 {
                0 => data[at] = rng.byte(),
                1 => data.truncate(at.max(1)),
                _ => data.insert(at, rng.byte()),
            }
        }
        mtproto_tl_dyn::fuzz::decode(&data);
        let n = (rng.next() % 64) as usize;
        mtproto_tl_dyn::fuzz::decode(&rng.bytes(n));
    }
}

fn shared_dir() -> std::path::PathBuf {
    match std::env::var_os("MTPROTO_SHARED_DIR") {
        Some(d) => d.into(),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    }
}

#[test]
#[cfg_attr(
    not(mtproto_full_schema_tests),
    ignore = "needs the full schema: run with MTPROTO_FULL_SCHEMA=1 (and MTPROTO_SHARED_DIR=<shared>), or --include-ignored"
)]
fn telethon_objects_with_full_schema() {
    let dir = shared_dir();
    let read = |p: &str| {
        std::fs::read_to_string(dir.join(p)).unwrap_or_else(|e| {
            panic!(
                "{} is missing (set MTPROTO_SHARED_DIR): {e}",
                dir.join(p).display()
            )
        })
    };
    let api = read("tl/api.tl");
    let mt = read("tl/mtproto.tl");
    let s = DynSchema::from_texts(&[&api, &mt]).unwrap();
    let vectors: serde_json::Value =
        serde_json::from_str(&read("vectors/tl_objects.json")).unwrap();
    let objects = vectors["objects"].as_array().unwrap();
    assert_eq!(objects.len(), 50);
    for o in objects {
        let name = o["name"].as_str().unwrap();
        let bytes = h(o["hex"].as_str().unwrap());
        let v = s
            .decode_boxed(&bytes)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let base = name.split('/').next().unwrap();
        match &v {
            Value::Bool(b) => assert_eq!(base, if *b { "boolTrue" } else { "boolFalse" }),
            Value::Gzip { .. } => assert_eq!(base, "gzip_packed"),
            _ => assert_eq!(v.name(), Some(base), "{name}"),
        }
        assert_eq!(
            hex::encode(s.encode_boxed(&v).unwrap()),
            hex::encode(&bytes),
            "{name}"
        );
    }
}
