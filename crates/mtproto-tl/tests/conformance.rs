//! Conformance with a real peer: objects serialized by Telethon 1.45.0
//! (shared/vectors/tl_objects.json).
//!
//! - Always on: the `bytes`/`string` padding examples of that file, restated
//!   here (they need no schema).
//! - Built with `MTPROTO_FULL_SCHEMA=1` (build.rs then enables
//!   `cfg(mtproto_full_schema_tests)`) and `MTPROTO_TL_SCHEMA_DIR=<shared>/tl`
//!   (which enables `cfg(mtproto_full_schema)`): every one of the 50 objects
//!   decodes with our generated types and re-encodes to identical bytes, plus
//!   typed decodes of a few of them. Missing files or a subset build fail
//!   loudly. Without `MTPROTO_FULL_SCHEMA=1` these tests are reported as
//!   ignored.
#![allow(clippy::unwrap_used)]

use mtproto_tl::{Deserialize, Serialize};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// tl_objects.json `bytes_serialization`: input byte i = (7*i+1) mod 256;
/// (length, serialized length, first 4 serialized bytes as hex).
const BYTES_CASES: &[(usize, usize, &str)] = &[
    (0, 4, "00000000"),
    (1, 4, "01010000"),
    (2, 4, "02010800"),
    (3, 4, "0301080f"),
    (4, 8, "0401080f"),
    (7, 8, "0701080f"),
    (253, 256, "fd01080f"),
    (254, 260, "fefe0000"),
    (255, 260, "feff0000"),
    (256, 260, "fe000100"),
    (300, 304, "fe2c0100"),
];

fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| u8::try_from((7 * i + 1) % 256).unwrap())
        .collect()
}

#[test]
fn bytes_padding_examples() {
    for &(len, ser_len, head) in BYTES_CASES {
        let data = pattern(len);
        let ser = data.to_bytes();
        assert_eq!(ser.len(), ser_len, "len {len}");
        assert_eq!(hex::encode(&ser[..4]), head, "len {len}");
        let header = if len < 254 { 1 } else { 4 };
        assert_eq!(&ser[header..header + len], &data[..]);
        assert!(ser[header + len..].iter().all(|&b| b == 0), "zero padding");
        assert_eq!(Vec::<u8>::from_bytes(&ser).unwrap(), data);
    }
}

#[test]
fn string_examples() {
    for (s, hex_str) in [
        ("", "00000000"),
        ("a", "01610000"),
        ("abc", "03616263"),
        ("Hello, world!", "0d48656c6c6f2c20776f726c64210000"),
        ("Привет", "0cd09fd180d0b8d0b2d0b5d182000000"),
        ("😀", "04f09f9880000000"),
    ] {
        assert_eq!(s.to_owned().to_bytes(), h(hex_str), "{s}");
        assert_eq!(String::from_bytes(&h(hex_str)).unwrap(), s);
    }
}

/// A subset build has no full-schema types to test: stand-ins with the same
/// names are reported as ignored, and fail loudly if run (`MTPROTO_FULL_SCHEMA=1`
/// without `MTPROTO_TL_SCHEMA_DIR`, or `--include-ignored`).
#[cfg(not(mtproto_full_schema))]
mod full {
    const SUBSET_BUILD: &str = "mtproto-tl was built from the subset schema: \
        build with MTPROTO_TL_SCHEMA_DIR=<shared>/tl MTPROTO_FULL_SCHEMA=1";

    #[test]
    #[cfg_attr(
        not(mtproto_full_schema_tests),
        ignore = "needs the full schema: run with MTPROTO_TL_SCHEMA_DIR=<shared>/tl MTPROTO_FULL_SCHEMA=1"
    )]
    fn all_telethon_objects_round_trip() {
        panic!("{SUBSET_BUILD}");
    }

    #[test]
    #[cfg_attr(
        not(mtproto_full_schema_tests),
        ignore = "needs the full schema: run with MTPROTO_TL_SCHEMA_DIR=<shared>/tl MTPROTO_FULL_SCHEMA=1"
    )]
    fn typed_decodes() {
        panic!("{SUBSET_BUILD}");
    }
}

#[cfg(mtproto_full_schema)]
mod full {
    use super::*;
    use mtproto_tl::api::{enums, functions, types};
    use std::path::PathBuf;

    fn vectors() -> serde_json::Value {
        let dir = match std::env::var_os("MTPROTO_SHARED_DIR") {
            Some(d) => PathBuf::from(d),
            None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        };
        let p = dir.join("vectors/tl_objects.json");
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| {
            panic!(
                "{} is unreadable (set MTPROTO_SHARED_DIR): {e}",
                p.display()
            )
        });
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    #[cfg_attr(
        not(mtproto_full_schema_tests),
        ignore = "needs the shared vectors: run with MTPROTO_FULL_SCHEMA=1 (and MTPROTO_SHARED_DIR=<shared>), or --include-ignored"
    )]
    fn all_telethon_objects_round_trip() {
        let v = vectors();
        let objects = v["objects"].as_array().unwrap();
        assert_eq!(objects.len(), 50);
        for o in objects {
            let name = o["name"].as_str().unwrap();
            let bytes = h(o["hex"].as_str().unwrap());
            assert_eq!(bytes.len() as u64, o["length"].as_u64().unwrap(), "{name}");
            let id = u32::from_le_bytes(bytes[..4].try_into().unwrap());
            let schema = o["schema_file"].as_str().unwrap();
            let (reencoded, tl_name) = if schema.ends_with("mtproto.tl") {
                (
                    mtproto_tl::mtproto::decode_and_reencode(&bytes),
                    mtproto_tl::mtproto::name_for_id(id),
                )
            } else {
                (
                    mtproto_tl::api::decode_and_reencode(&bytes),
                    mtproto_tl::api::name_for_id(id),
                )
            };
            let reencoded = reencoded.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(hex::encode(&reencoded), hex::encode(&bytes), "{name}");
            let base = name.split('/').next().unwrap();
            assert_eq!(tl_name, Some(base), "{name}");
        }
    }

    #[test]
    #[cfg_attr(
        not(mtproto_full_schema_tests),
        ignore = "needs the shared vectors: run with MTPROTO_FULL_SCHEMA=1 (and MTPROTO_SHARED_DIR=<shared>), or --include-ignored"
    )]
    fn typed_decodes() {
        let v = vectors();
        let hex_of = |n: &str| -> Vec<u8> {
            let o = v["objects"]
                .as_array()
                .unwrap()
                .iter()
                .find(|o| o["name"] == n)
                .unwrap_or_else(|| panic!("no object {n}"));
            h(o["hex"].as_str().unwrap())
        };
        // SetTyping with top_msg_id (flags bit 0).
        let b = hex_of("messages.setTyping/top_msg_id");
        let st = functions::messages::SetTyping::from_bytes(&b).unwrap();
        assert_eq!(st.top_msg_id, Some(100));
        assert_eq!(
            st.peer,
            enums::InputPeer::Channel(types::InputPeerChannel {
                channel_id: 1234567890,
                access_hash: 72623859790382856
            })
        );
        assert_eq!(st.action, enums::SendMessageAction::SendMessageTypingAction);
        assert_eq!(st.to_bytes(), b);

        let b = hex_of("inputPeerUser");
        match enums::InputPeer::from_bytes(&b).unwrap() {
            enums::InputPeer::User(u) => {
                assert_eq!(u.user_id, 777000);
                assert_eq!(u.access_hash, -6045902435384592131);
            }
            other => panic!("{other:?}"),
        }

        // sendMessage: true flags, UTF-8, reply_to.
        let b = hex_of("messages.sendMessage/flags");
        let m = functions::messages::SendMessage::from_bytes(&b).unwrap();
        assert!(m.no_webpage && m.silent && !m.background);
        assert_eq!(m.message, "Hello, world!");
        assert_eq!(m.random_id, 1234567890123456789);
        assert_eq!(m.entities, None);
        assert_eq!(m.to_bytes(), b);
        let b = hex_of("messages.sendMessage/reply_to");
        let m = functions::messages::SendMessage::from_bytes(&b).unwrap();
        assert_eq!(m.message, "Привет 😀");
        assert_eq!(m.random_id, -1);
        match m.reply_to {
            Some(enums::InputReplyTo::Message(ref r)) => assert_eq!(r.reply_to_msg_id, 10),
            ref other => panic!("{other:?}"),
        }
        assert_eq!(m.to_bytes(), b);

        let b = hex_of("messages.getMessages/vector");
        let g = functions::messages::GetMessages::from_bytes(&b).unwrap();
        assert_eq!(g.id.len(), 3);
        assert_eq!(g.to_bytes(), b);

        let b = hex_of("invokeWithLayer/initConnection");
        let q = functions::InvokeWithLayer::<
            functions::InitConnection<functions::help::GetConfig>,
        >::from_bytes(&b)
        .unwrap();
        assert_eq!(q.layer, 228);
        assert_eq!(q.query.api_id, 12345);
        assert_eq!(q.query.device_model, "PC");
        assert_eq!(q.to_bytes(), b);

        let b = hex_of("msg_container");
        let c = mtproto_tl::mtproto::types::MsgContainer::from_bytes(&b).unwrap();
        assert_eq!(c.messages.0.len(), 2);
        assert_eq!(c.messages.0[1].0.seqno, 1);
        assert_eq!(c.to_bytes(), b);
    }
}
