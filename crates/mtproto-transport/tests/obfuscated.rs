//! Obfuscated2: deterministic init, known-answer keystream check, both roles.
#![allow(clippy::unwrap_used)]

mod common;

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use bytes::BytesMut;
use common::*;
use mtproto_transport::{
    check_init_random, detect, Frame, ObfuscatedInit, ObfuscatedInner, Transport, TransportConfig,
    TransportError, TransportKind,
};

/// AES-256-CTR keystream computed by hand from single-block AES: block i is
/// AES(key, iv + i) with the IV as a 128-bit big-endian counter.
fn keystream(key: &[u8], iv: &[u8], len: usize) -> Vec<u8> {
    let cipher = aes::Aes256::new_from_slice(key).unwrap();
    let mut ctr = u128::from_be_bytes(iv.try_into().unwrap());
    let mut out = Vec::with_capacity(len + 16);
    while out.len() < len {
        let mut block = aes::Block::from(ctr.to_be_bytes());
        cipher.encrypt_block(&mut block);
        out.extend_from_slice(&block);
        ctr = ctr.wrapping_add(1);
    }
    out.truncate(len);
    out
}

fn xor(a: &[u8], b: &[u8]) -> Vec<u8> {
    a.iter().zip(b).map(|(x, y)| x ^ y).collect()
}

/// Fixed "random" bytes: 0x00, 0x01, ..., 0x3f (first byte 0, bytes 4..8 non-zero).
fn fixed_random() -> [u8; 64] {
    core::array::from_fn(|i| u8::try_from(i).unwrap())
}

#[test]
fn known_answer_key_derivation_both_directions() {
    let inner = ObfuscatedInner::PaddedIntermediate;
    // media DC 4 as in the spec's pseudocode: "dc := 0xfcff"
    let init = ObfuscatedInit::from_random(fixed_random(), inner, Some(-4)).unwrap();
    let mut plain = fixed_random();
    plain[56..60].copy_from_slice(&[0xdd; 4]);
    plain[60..62].copy_from_slice(&[0xfc, 0xff]);
    assert_eq!(init.plaintext(), &plain);

    // Primary payload: encryption key = init[8..40], IV = init[40..56].
    let ks_enc = keystream(&plain[8..40], &plain[40..56], 64 + 64);
    // Secondary (reversed) payload: decryption key/IV.
    let mut rev = plain;
    rev.reverse();
    let ks_dec = keystream(&rev[8..40], &rev[40..56], 64);

    let mut c = Transport::obfuscated_client(init, cfg(), ByteRng::boxed(&h("00000000")));
    let mut wire = BytesMut::new();
    let payload: Vec<u8> = (0..24u8).map(|i| i.wrapping_mul(13)).collect();
    c.encode(&payload, &mut wire).unwrap();

    // "finalInit := substr(init, 0, 56) + substr(encryptedInit, 56, 8)"
    assert_eq!(&wire[..56], &plain[..56]);
    assert_eq!(&wire[56..64], &xor(&plain[56..64], &ks_enc[56..64])[..]);
    // The frame continues the same keystream after the 64 init bytes.
    let mut frame = h("18000000"); // padded: tlen 24, 0 padding bytes
    frame.extend_from_slice(&payload);
    assert_eq!(&wire[64..], &xor(&frame, &ks_enc[64..64 + frame.len()])[..]);

    // Server side accepts and reports the DC id.
    assert_eq!(
        detect(&wire).unwrap(),
        Some(TransportKind::Obfuscated(inner))
    );
    let mut s = Transport::server(
        TransportKind::Obfuscated(inner),
        cfg(),
        ByteRng::boxed(&h("00000000")),
    )
    .unwrap();
    assert_eq!(s.decode(&mut wire).unwrap().unwrap().to_vec(), payload);
    assert_eq!(s.peer_dc_id(), Some(-4));

    // Server → client is encrypted with the reversed-init key from counter 0.
    let mut back = BytesMut::new();
    s.encode(&payload, &mut back).unwrap();
    assert_eq!(&back[..], &xor(&frame, &ks_dec[..frame.len()])[..]);
    assert_eq!(c.decode(&mut back).unwrap().unwrap().to_vec(), payload);
}

#[test]
fn fixed_init_gives_deterministic_bytes() {
    let run = || {
        let init =
            ObfuscatedInit::from_random(fixed_random(), ObfuscatedInner::Abridged, None).unwrap();
        let mut c = Transport::obfuscated_client(init, cfg(), ByteRng::boxed(&[0]));
        let mut out = BytesMut::new();
        c.encode(&[9; 8], &mut out).unwrap();
        out.to_vec()
    };
    let a = run();
    assert_eq!(a, run());
    assert_eq!(a.len(), 64 + 1 + 8);
    // tag "0xef => 0xefefefef" is encrypted at 56..60; 60..64 stay random (no DC id)
    let plain = fixed_random();
    let ks = keystream(&plain[8..40], &plain[40..56], 64 + 9);
    assert_eq!(&a[56..60], &xor(&[0xef; 4], &ks[56..60])[..]);
    assert_eq!(&a[60..64], &xor(&plain[60..64], &ks[60..64])[..]);
    // the standalone tag is not sent again: frame = 02 + payload
    assert_eq!(&a[64..], &xor(&h("02 0909090909090909"), &ks[64..])[..]);
}

#[test]
fn forbidden_inits_rejected() {
    let mut bad: Vec<[u8; 64]> = Vec::new();
    let mut r = fixed_random();
    r[0] = 0xef;
    bad.push(r);
    for first in [
        *b"HEAD",
        *b"POST",
        *b"GET ",
        *b"OPTI",
        [0xdd; 4],
        [0xee; 4],
        [0x16, 0x03, 0x01, 0x02],
    ] {
        let mut r = fixed_random();
        r[..4].copy_from_slice(&first);
        bad.push(r);
    }
    let mut r = fixed_random();
    r[4..8].copy_from_slice(&[0; 4]);
    bad.push(r);
    for r in bad {
        assert_eq!(check_init_random(&r), Err(TransportError::ForbiddenInit));
        for inner in [
            ObfuscatedInner::Abridged,
            ObfuscatedInner::Intermediate,
            ObfuscatedInner::PaddedIntermediate,
        ] {
            assert_eq!(
                ObfuscatedInit::from_random(r, inner, None),
                Err(TransportError::ForbiddenInit)
            );
        }
    }
    assert_eq!(check_init_random(&fixed_random()), Ok(()));
}

#[test]
fn generate_skips_forbidden_draws() {
    // first draw starts with 0xef (forbidden), second is the fixed valid one
    let mut data = vec![0xef; 64];
    data.extend_from_slice(&fixed_random());
    let mut rng = ByteRng::boxed(&data);
    let init =
        ObfuscatedInit::generate(rng.as_mut(), ObfuscatedInner::Intermediate, Some(2)).unwrap();
    assert_eq!(&init.plaintext()[..56], &fixed_random()[..56]);
    assert_eq!(&init.plaintext()[56..62], &h("eeeeeeee 0200")[..]);
    // an RNG that only yields zeros (bytes 4..8 zero) never gives a valid init
    let mut zeros = ByteRng::boxed(&[0]);
    assert_eq!(
        ObfuscatedInit::generate(zeros.as_mut(), ObfuscatedInner::Intermediate, None),
        Err(TransportError::ForbiddenInit)
    );
    // and the client constructor reports it
    assert!(matches!(
        Transport::client(
            TransportKind::Obfuscated(ObfuscatedInner::Abridged),
            cfg(),
            ByteRng::boxed(&[0xef])
        ),
        Err(TransportError::ForbiddenInit)
    ));
}

#[test]
fn client_and_server_talk_every_inner() {
    for inner in [
        ObfuscatedInner::Abridged,
        ObfuscatedInner::Intermediate,
        ObfuscatedInner::PaddedIntermediate,
    ] {
        let kind = TransportKind::Obfuscated(inner);
        let mut c = client(kind);
        let mut s = server(kind);
        let mut wire = BytesMut::new();
        c.encode(&[1; 8], &mut wire).unwrap();
        c.encode_with(&[2; 600], true, &mut wire).unwrap();
        assert_eq!(&s.decode(&mut wire).unwrap().unwrap()[..8], &[1; 8]);
        match s.decode_frame(&mut wire).unwrap().unwrap() {
            Frame::Payload { data, quick_ack } => {
                assert!(quick_ack, "{kind}");
                assert_eq!(&data[..600], &[2; 600][..]);
            }
            f => panic!("{f:?}"),
        }
        assert_eq!(s.decode(&mut wire), Ok(None));

        let mut back = BytesMut::new();
        s.encode(&[3; 12], &mut back).unwrap();
        s.encode_quick_ack(0x0102_0304, &mut back).unwrap();
        s.encode(&[4; 1000], &mut back).unwrap();
        assert_eq!(&c.decode(&mut back).unwrap().unwrap()[..12], &[3; 12]);
        assert_eq!(
            c.decode_frame(&mut back).unwrap(),
            Some(Frame::QuickAck(0x8102_0304))
        );
        assert_eq!(
            &c.decode(&mut back).unwrap().unwrap()[..1000],
            &[4; 1000][..]
        );
    }
}

#[test]
fn server_rejects_init_for_other_inner() {
    let init =
        ObfuscatedInit::from_random(fixed_random(), ObfuscatedInner::Intermediate, None).unwrap();
    let mut wire = BytesMut::from(&init.wire_bytes()[..]);
    let mut s = server(TransportKind::Obfuscated(ObfuscatedInner::Abridged));
    assert_eq!(s.decode(&mut wire), Err(TransportError::BadTag));
    // garbage init: unknown tag
    let mut s = server(TransportKind::Obfuscated(ObfuscatedInner::Abridged));
    assert_eq!(
        s.decode(&mut BytesMut::from(&fixed_random()[..])),
        Err(TransportError::BadTag)
    );
    assert!(matches!(
        detect(&fixed_random()),
        Err(TransportError::UnsupportedProtocol(_))
    ));
}

#[test]
fn debug_hides_keys() {
    let init =
        ObfuscatedInit::from_random(fixed_random(), ObfuscatedInner::Intermediate, None).unwrap();
    let d = format!("{init:?}");
    assert!(!d.contains("63"), "{d}");
    let t = Transport::obfuscated_client(init, TransportConfig::default(), ByteRng::boxed(&[0]));
    let d = format!("{t:?}");
    assert!(d.contains("Obfuscated") && !d.contains("63,"), "{d}");
}
