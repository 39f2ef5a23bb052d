//! Typed tests of the generated `mtproto` and `api` modules against objects
//! serialized by Telethon 1.45.0 (restated from
//! shared/vectors/tl_objects.json, so these run without ../shared). They run
//! on the default subset schema and on the full layer alike.
#![allow(clippy::unwrap_used)]

use mtproto_tl::api::{enums, functions, types};
use mtproto_tl::mtproto;
use mtproto_tl::{
    Bare, BareDeserialize, DecodeErrorKind, Deserialize, Identifiable, RawObject, RawVec,
    RemoteCall, Serialize,
};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// Decodes as `T`, checks the value, and re-encodes to the same bytes.
fn both_ways<T: Serialize + Deserialize + PartialEq + core::fmt::Debug>(
    hex_str: &str,
    expected: &T,
) {
    let bytes = h(hex_str);
    let decoded = T::from_bytes(&bytes).unwrap();
    assert_eq!(&decoded, expected);
    assert_eq!(expected.to_bytes(), bytes, "serialize {expected:?}");
}

fn peer_user() -> enums::InputPeer {
    enums::InputPeer::User(types::InputPeerUser {
        user_id: 777000,
        access_hash: -6045902435384592131,
    })
}

#[test]
fn input_peers() {
    both_ways("ea183b7f", &enums::InputPeer::Empty);
    both_ways("c97ea07d", &enums::InputPeer::InputPeerSelf);
    both_ways(
        "b95ca9359210000000000000",
        &enums::InputPeer::Chat(types::InputPeerChat { chat_id: 4242 }),
    );
    both_ways("4ca5e8dd28db0b0000000000fd783b80c4a318ac", &peer_user());
    both_ways(
        "fcbbbc27d2029649000000000807060504030201",
        &enums::InputPeer::Channel(types::InputPeerChannel {
            channel_id: 1234567890,
            access_hash: 72623859790382856,
        }),
    );
    // The struct alone, boxed.
    both_ways(
        "4ca5e8dd28db0b0000000000fd783b80c4a318ac",
        &types::InputPeerUser {
            user_id: 777000,
            access_hash: -6045902435384592131,
        },
    );
    assert_eq!(types::InputPeerUser::CONSTRUCTOR_ID, 0xdde8a54c);
    assert_eq!(peer_user().constructor_id(), 0xdde8a54c);
}

#[test]
fn set_typing() {
    // SetTypingRequest(peer=InputPeerChannel(...), action=Typing, top_msg_id=100): flags bit 0.
    let st = functions::messages::SetTyping {
        peer: enums::InputPeer::Channel(types::InputPeerChannel {
            channel_id: 1234567890,
            access_hash: 72623859790382856,
        }),
        top_msg_id: Some(100),
        action: enums::SendMessageAction::SendMessageTypingAction,
    };
    both_ways(
        "e23e945801000000fcbbbc27d2029649000000000807060504030201640000004e74bf16",
        &st,
    );
    assert_eq!(functions::messages::SetTyping::CONSTRUCTOR_ID, 0x58943ee2);

    both_ways(
        "e23e945800000000b95ca9359210000000000000264ad3d107000000",
        &functions::messages::SetTyping {
            peer: enums::InputPeer::Chat(types::InputPeerChat { chat_id: 4242 }),
            top_msg_id: None,
            action: enums::SendMessageAction::SendMessageUploadPhotoAction(
                types::SendMessageUploadPhotoAction { progress: 7 },
            ),
        },
    );
    both_ways(
        "e23e9458000000004ca5e8dd28db0b0000000000fd783b80c4a318accb2b972503e29da42a000000048d747d1d7b2276223a312c2261223a5b7b2274223a302e302c2269223a317d5d7d0000",
        &functions::messages::SetTyping {
            peer: peer_user(),
            top_msg_id: None,
            action: enums::SendMessageAction::SendMessageEmojiInteraction(
                types::SendMessageEmojiInteraction {
                    emoticon: "\u{2764}".into(),
                    msg_id: 42,
                    interaction: enums::DataJson::DataJson(types::DataJson {
                        data: r#"{"v":1,"a":[{"t":0.0,"i":1}]}"#.into(),
                    }),
                },
            ),
        },
    );
    // Return type is Bool -> bool.
    fn ret<T: RemoteCall<Return = bool>>(_: &T) {}
    ret(&st);
}

#[test]
fn vectors_doubles_true_flags() {
    both_ways(
        "d2958ee50100000015c4b51c0200000064000000c8000000",
        &functions::messages::DeleteMessages {
            revoke: true,
            id: vec![100, 200],
        },
    );
    both_ways(
        "af2f2248000000008d28ed0dbee04b4010e9b7af03cf4240",
        &enums::InputGeoPoint::InputGeoPoint(types::InputGeoPoint {
            lat: 55.7558,
            long: 37.6173,
            accuracy_radius: None,
        }),
    );
    both_ways("b5757299", &true);
    both_ways("379779bc", &false);
    both_ways("39d3ed3f", &enums::True::True);
}

#[test]
fn invoke_with_layer_init_connection() {
    let q = functions::InvokeWithLayer {
        layer: 228,
        query: functions::InitConnection {
            api_id: 12345,
            device_model: "PC".into(),
            system_version: "Linux".into(),
            app_version: "1.0".into(),
            system_lang_code: "en".into(),
            lang_pack: "".into(),
            lang_code: "en".into(),
            proxy: None,
            params: None,
            query: functions::help::GetConfig,
        },
    };
    both_ways(
        "0d0d9bdae4000000a95ecdc1000000003930000002504300054c696e7578000003312e3002656e000000000002656e006b18f9c4",
        &q,
    );
    // The answer type comes from the innermost query.
    fn ret<T: RemoteCall<Return = enums::Config>>(_: &T) {}
    ret(&q);
    // The shipped subset is layer 230 (`invokeWithLayer` sends it); a
    // full-schema build has its own schema's layer.
    #[cfg(not(mtproto_full_schema))]
    assert_eq!(mtproto_tl::api::LAYER, 230);
}

#[test]
fn mtproto_service_messages() {
    both_ways(
        "19ca4421a40100000d464c4f4f445f574149545f33300000",
        &mtproto::enums::RpcError::RpcError(mtproto::types::RpcError {
            error_code: 420,
            error_message: "FLOOD_WAIT_30".into(),
        }),
    );
    both_ways(
        "c5737734c4fd33ad918b305e6408300000000000",
        &mtproto::types::Pong {
            msg_id: 6787078096239721924,
            ping_id: 3147876,
        },
    );
    both_ways(
        "7b44abed01f0c1c2918b305e02000000300000008877665544332211",
        &mtproto::enums::BadMsgNotification::BadServerSalt(mtproto::types::BadServerSalt {
            bad_msg_id: 6787078096601346049,
            bad_msg_seqno: 2,
            error_code: 48,
            new_server_salt: 1234605616436508552,
        }),
    );
    let nonce: [u8; 16] = h("fce2ec8fa401b366e927ca8c8249053e").try_into().unwrap();
    both_ways(
        "f18e7ebefce2ec8fa401b366e927ca8c8249053e",
        &mtproto::functions::ReqPqMulti { nonce },
    );
    fn ret<T: RemoteCall<Return = mtproto::enums::ResPq>>(_: &T) {}
    ret(&mtproto::functions::ReqPqMulti { nonce });
}

#[test]
fn rpc_result_gzip_and_container() {
    // rpc_result(boolTrue): the result stays raw (Object).
    both_ways(
        "016d5cf301a8c1c2918b305eb5757299",
        &mtproto::types::RpcResult {
            req_msg_id: 0x5e308b91c2c1a801,
            result: RawObject(h("b5757299")),
        },
    );
    let gz = "a1cf7230941f8b08000000000002032dc5592202010000d069918410136dd2a2428b56dae71a7e3b63dda033741e1fbdf7f3fef6a75d783c94a3200862c159dc09277de1942f9df69533bef68d6f9df59deffde09c1ffde4d0793ffbc505175d72d915bfbaea37d75c77c34dbfbbe5b63bfef0a7bfdc75cf7d0ffceda1471e7be2a967fef1afe75e78e995d7de78ebc8ff440aa6650c020000000000";
    // gzip_packed as itself round-trips byte for byte.
    let packed = mtproto::types::GzipPacked::from_bytes(&h(gz)).unwrap();
    assert_eq!(packed.to_bytes(), h(gz));
    // Where a MsgsAck is expected, gzip_packed is inflated transparently.
    let ack = mtproto::enums::MsgsAck::from_bytes(&h(gz)).unwrap();
    let mtproto::enums::MsgsAck::MsgsAck(ack) = ack;
    assert!(!ack.msg_ids.is_empty());
    assert_eq!(mtproto::decode_and_reencode(&h(gz)).unwrap(), h(gz));

    // msg_container with msgs_ack([..a801]) and ping(7); `bytes` is computed.
    let container = mtproto::types::MsgContainer {
        messages: RawVec(vec![
            Bare(mtproto::types::Message {
                msg_id: 0x5e308b91c2c1a805,
                seqno: 0,
                body: RawObject(h("59b4d66215c4b51c0100000001a8c1c2918b305e")),
            }),
            Bare(mtproto::types::Message {
                msg_id: 0x5e308b91c2c1a809,
                seqno: 1,
                body: RawObject(h("ec77be7a0700000000000000")),
            }),
        ]),
    };
    let hexs = "dcf8f1730200000005a8c1c2918b305e000000001400000059b4d66215c4b51c0100000001a8c1c2918b305e09a8c1c2918b305e010000000c000000ec77be7a0700000000000000";
    both_ways(hexs, &container);
    let ping = mtproto::functions::Ping::from_bytes(&container.messages.0[1].0.body.0).unwrap();
    assert_eq!(ping.ping_id, 7);
    // A body length past the end of the container is an error, not a panic.
    let mut bad = h(hexs);
    bad[20] = 0xff;
    let e = mtproto::types::MsgContainer::from_bytes(&bad).unwrap_err();
    assert!(
        matches!(e.kind, DecodeErrorKind::LengthTooLarge { .. }),
        "{e:?}"
    );
}

#[test]
fn errors_and_names() {
    let e = enums::InputPeer::from_bytes(&h("11223344")).unwrap_err();
    assert_eq!(
        e.kind,
        DecodeErrorKind::UnknownConstructor {
            id: 0x44332211,
            expected: "InputPeer"
        }
    );
    assert!(enums::InputPeer::from_bytes(&h("4ca5e8dd28db0b")).is_err());
    assert_eq!(
        mtproto_tl::api::name_for_id(0x58943ee2),
        Some("messages.setTyping")
    );
    assert_eq!(
        mtproto_tl::mtproto::name_for_id(0x5bb8e511),
        Some("message")
    );
    assert_eq!(mtproto_tl::mtproto::name_for_id(0x12345678), None);
    assert!(mtproto_tl::api::decode_and_reencode(&h("78563412")).is_err());
    // Bare decoding skips the id.
    let u = types::InputPeerUser::deserialize_bare(&mut mtproto_tl::Reader::new(&h(
        "28db0b0000000000fd783b80c4a318ac",
    )))
    .unwrap();
    assert_eq!(u.user_id, 777000);
}

#[test]
fn nesting_depth_is_bounded() {
    // inputPeerUserFromMessage peer:InputPeer msg_id:int user_id:long, nested 100 deep.
    let mut buf = Vec::new();
    for _ in 0..100 {
        buf.extend_from_slice(&0xa87b0a1cu32.to_le_bytes());
    }
    buf.extend_from_slice(&h("ea183b7f"));
    for _ in 0..100 {
        buf.extend_from_slice(&[0; 12]);
    }
    let e = enums::InputPeer::from_bytes(&buf).unwrap_err();
    assert!(
        matches!(e.kind, DecodeErrorKind::DepthLimitExceeded { .. }),
        "{e:?}"
    );
}

/// tdlib's `api.tl` declares `invokeWithReCaptchaPrefix#adbb0f94 token:string
/// = Error` (a pseudo-constructor) before the real method with that id; the
/// real method, whose written id is the CRC32 of its line, must be kept.
#[cfg(mtproto_full_schema)]
#[test]
fn full_schema_keeps_the_real_invoke_with_methods() {
    let req = functions::InvokeWithReCaptcha {
        token: "t".to_owned(),
        query: functions::help::GetConfig,
    };
    // id, string "t" padded to 4, then help.getConfig#c4f9186b.
    assert_eq!(req.to_bytes(), h("940fbbad017400006b18f9c4"));
    assert_eq!(
        mtproto_tl::api::name_for_id(0xadbb_0f94),
        Some("invokeWithReCaptcha")
    );
    assert_eq!(
        mtproto_tl::api::name_for_id(0xdd28_9f8e),
        Some("invokeWithBusinessConnection")
    );
    let back = functions::InvokeWithReCaptcha::<RawObject>::from_bytes(&req.to_bytes()).unwrap();
    assert_eq!(back.token, "t");
    assert_eq!(back.query, RawObject(h("6b18f9c4")));
}

/// `deserialize_into` (the in-place decoding behind `deserialize`) must give
/// the same value whatever `out` held before, including another variant
/// with heap data, and after a failed decode `out` must still be a valid
/// value that a later decode fully replaces.
#[test]
fn decode_into_replaces_any_previous_value() {
    use functions::messages::SetTyping;
    use mtproto_tl::Reader;
    let encodings = [
        // Telethon: channel peer, top_msg_id 100, typing.
        h("e23e945801000000fcbbbc27d2029649000000000807060504030201640000004e74bf16"),
        // Telethon: chat peer, upload photo 7.
        h("e23e945800000000b95ca9359210000000000000264ad3d107000000"),
        // Telethon: user peer, emoji interaction (strings on the heap).
        h("e23e9458000000004ca5e8dd28db0b0000000000fd783b80c4a318accb2b972503e29da42a000000048d747d1d7b2276223a312c2261223a5b7b2274223a302e302c2269223a317d5d7d0000"),
    ];
    let values: Vec<SetTyping> = encodings
        .iter()
        .map(|e| SetTyping::from_bytes(e).unwrap())
        .collect();
    for (bytes, want) in encodings.iter().zip(&values) {
        for previous in &values {
            let mut out = previous.clone();
            let mut r = Reader::new(bytes);
            SetTyping::deserialize_into(&mut r, &mut out).unwrap();
            r.finish().unwrap();
            assert_eq!(&out, want);

            // Every truncation fails with a typed error and leaves a value
            // that the full input then overwrites completely.
            for cut in 0..bytes.len() {
                let mut out = previous.clone();
                let mut r = Reader::new(&bytes[..cut]);
                let err = SetTyping::deserialize_into(&mut r, &mut out).unwrap_err();
                assert!(
                    matches!(
                        err.kind,
                        DecodeErrorKind::UnexpectedEof { .. }
                            | DecodeErrorKind::LengthTooLarge { .. }
                    ),
                    "cut {cut}: {err}"
                );
                let mut r = Reader::new(bytes);
                SetTyping::deserialize_into(&mut r, &mut out).unwrap();
                assert_eq!(&out, want);
            }
        }
    }
    // The enum alone, in place over a variant holding strings.
    let mut action = values[2].action.clone();
    let mut r = Reader::new(&[0x26, 0x4a, 0xd3, 0xd1, 7, 0, 0, 0]);
    enums::SendMessageAction::deserialize_into(&mut r, &mut action).unwrap();
    assert_eq!(action, values[1].action);
}

#[test]
fn bare_vector_counts_are_checked_against_the_bytes_left() {
    use mtproto_tl::mtproto::types::{FutureSalt, FutureSalts};
    use mtproto_tl::{BareDeserialize, DecodeErrorKind, Reader};
    // future_salts#ae500895 req_msg_id:long now:int salts:vector<future_salt>,
    // future_salt = valid_since:int valid_until:int salt:long: 16 bytes each
    // when bare.
    assert_eq!(<FutureSalt as BareDeserialize>::MIN_BARE_LEN, 16);
    let mut body = Vec::new();
    body.extend_from_slice(&7i64.to_le_bytes());
    body.extend_from_slice(&1i32.to_le_bytes());
    // A count of 100,000 salts with room for 3: refused before allocating.
    body.extend_from_slice(&100_000i32.to_le_bytes());
    body.extend_from_slice(&[0u8; 48]);
    let mut r = Reader::new(&body);
    let e = FutureSalts::deserialize_bare(&mut r).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::VectorTooLong { count: 100_000 });
    // Exactly 3 decode.
    let n = body.len();
    body[12..16].copy_from_slice(&3i32.to_le_bytes());
    let mut r = Reader::new(&body[..n]);
    let f = FutureSalts::deserialize_bare(&mut r).unwrap();
    assert_eq!(f.salts.0.len(), 3);
    // Four claimed, three there: too long by one element's worth.
    body[12..16].copy_from_slice(&4i32.to_le_bytes());
    let mut r = Reader::new(&body);
    assert_eq!(
        FutureSalts::deserialize_bare(&mut r).unwrap_err().kind,
        DecodeErrorKind::VectorTooLong { count: 4 }
    );
}
