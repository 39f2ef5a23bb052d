//! `trim_mtproto_padding` and `TransportKind::is_padded`.
#![allow(clippy::unwrap_used)]

use bytes::BytesMut;
use mtproto_transport::{
    trim_mtproto_padding, ObfuscatedInner, Transport, TransportConfig, TransportKind,
};

/// The unencrypted req_pq_multi of the official samples (samples-auth_key,
/// 2025; /work/shared/vectors/auth_key_exchange.json
/// official_samples_2025.unencrypted_messages_hex.req_pq_multi): auth_key_id
/// 0, message_id 0x6777e5eb00059760, message_data_length 20, then
/// req_pq_multi#be7e8ef1 nonce.
const REQ_PQ: &str =
    "000000000000000060970500ebe5776714000000f18e7ebe79f0afb50252e5fc96924bfcecda4f05";

#[test]
fn plain_message_ends_at_its_declared_length() {
    let msg = hex::decode(REQ_PQ).unwrap();
    for pad in 0..16 {
        let mut p = BytesMut::from(&msg[..]);
        p.extend_from_slice(&vec![0xa5; pad]);
        trim_mtproto_padding(&mut p);
        assert_eq!(&p[..], &msg[..], "padding {pad}");
    }
}

#[test]
fn encrypted_message_is_24_plus_a_multiple_of_16() {
    for pad in 0..16 {
        let mut p = BytesMut::from(&[0x42u8; 24 + 64][..]);
        p.extend_from_slice(&vec![0x17; pad]);
        trim_mtproto_padding(&mut p);
        assert_eq!(p.len(), 24 + 64, "padding {pad}");
    }
}

#[test]
fn nonsense_is_left_alone() {
    // Too short for either rule, negative or oversized declared length,
    // and a declared length far below the payload (not padding).
    let mut cases: Vec<Vec<u8>> = vec![vec![], vec![0; 7], vec![0; 19], vec![1; 24]];
    let mut neg = vec![0u8; 20];
    neg[16..20].copy_from_slice(&(-4i32).to_le_bytes());
    cases.push(neg);
    let mut big = vec![0u8; 30];
    big[16..20].copy_from_slice(&100i32.to_le_bytes());
    cases.push(big);
    let mut short = vec![0u8; 60];
    short[16..20].copy_from_slice(&4i32.to_le_bytes());
    cases.push(short);
    for c in cases {
        let mut p = BytesMut::from(&c[..]);
        trim_mtproto_padding(&mut p);
        assert_eq!(&p[..], &c[..]);
    }
}

#[test]
fn padded_transport_round_trip_then_trim() {
    let msg = hex::decode(REQ_PQ).unwrap();
    for kind in TransportKind::ALL {
        let cfg = TransportConfig::default();
        let mut c = Transport::client(kind, cfg, mtproto_transport::os_rng()).unwrap();
        let mut s = Transport::server(kind, cfg, mtproto_transport::os_rng()).unwrap();
        let mut wire = BytesMut::new();
        c.encode(&msg, &mut wire).unwrap();
        let mut got = s.decode(&mut wire).unwrap().unwrap();
        if kind.is_padded() {
            trim_mtproto_padding(&mut got);
        }
        assert_eq!(&got[..], &msg[..], "{kind}");
    }
    assert!(TransportKind::Obfuscated(ObfuscatedInner::PaddedIntermediate).is_padded());
    assert!(!TransportKind::Intermediate.is_padded());
}
