//! Property tests: arbitrary payloads and split points, both directions, every kind;
//! arbitrary garbage never panics.
#![allow(clippy::unwrap_used)]

mod common;

use bytes::BytesMut;
use mtproto_transport::fuzz::{decode as fuzz_decode, decode_kind as fuzz_decode_kind};
use mtproto_transport::{Transport, TransportConfig, TransportKind};
use proptest::prelude::*;
use rand::{rngs::StdRng, SeedableRng};

fn kind_strategy() -> impl Strategy<Value = TransportKind> {
    (0..TransportKind::ALL.len()).prop_map(|i| TransportKind::ALL[i])
}

/// MTProto-like payloads: whole words, at least 20 bytes (no MTProto message is
/// shorter, so they never look like a transport error or a padded quick ACK); lengths
/// cross the abridged 0x7f-word boundary.
fn payloads() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(
        (5usize..200).prop_flat_map(|w| prop::collection::vec(any::<u8>(), w * 4)),
        1..6,
    )
}

/// Feeds `wire` to `t` in chunks of the given sizes (cycled), collecting frames.
fn feed(t: &mut Transport, wire: &[u8], chunks: &[usize]) -> Vec<Vec<u8>> {
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let mut rest = wire;
    let mut i = 0;
    while !rest.is_empty() {
        let n = chunks[i % chunks.len()].clamp(1, rest.len());
        i += 1;
        buf.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        // Raw frames: these payloads are not MTProto-shaped, so the padded
        // transport's padding is kept (decode_frame does not trim).
        while let Some(f) = t.decode_frame(&mut buf).unwrap() {
            if let mtproto_transport::Frame::Payload { data, .. } = f {
                frames.push(data.to_vec());
            }
        }
    }
    assert!(buf.is_empty());
    frames
}

fn check_same(kind: TransportKind, sent: &[Vec<u8>], got: &[Vec<u8>]) {
    assert_eq!(sent.len(), got.len());
    let padded = matches!(
        kind,
        TransportKind::PaddedIntermediate
            | TransportKind::Obfuscated(mtproto_transport::ObfuscatedInner::PaddedIntermediate)
    );
    for (s, g) in sent.iter().zip(got) {
        if padded {
            assert!(g.len() >= s.len() && g.len() - s.len() <= 15);
            assert_eq!(&g[..s.len()], &s[..]);
        } else {
            assert_eq!(g, s);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn any_split_decodes_the_same(
        kind in kind_strategy(),
        sent in payloads(),
        back in payloads(),
        chunks in prop::collection::vec(1usize..300, 1..20),
        seed in any::<u64>(),
    ) {
        let cfg = TransportConfig::default();
        let mut c = Transport::client(kind, cfg, Box::new(StdRng::seed_from_u64(seed))).unwrap();
        let mut s = Transport::server(kind, cfg, Box::new(StdRng::seed_from_u64(!seed))).unwrap();

        // client → server
        let mut wire = BytesMut::new();
        for p in &sent {
            c.encode(p, &mut wire).unwrap();
        }
        // the whole buffer at once gives the same frames as any chunking
        let mut s_whole = Transport::server(kind, cfg, Box::new(StdRng::seed_from_u64(1))).unwrap();
        let whole = feed(&mut s_whole, &wire, &[usize::MAX]);
        check_same(kind, &sent, &whole);
        let got = feed(&mut s, &wire, &chunks);
        prop_assert_eq!(&got, &whole);

        // server → client
        let mut wire = BytesMut::new();
        for p in &back {
            s.encode(p, &mut wire).unwrap();
        }
        let got = feed(&mut c, &wire, &chunks);
        check_same(kind, &back, &got);
    }

    #[test]
    fn garbage_never_panics(kind in kind_strategy(), data in prop::collection::vec(any::<u8>(), 0..2000)) {
        fuzz_decode_kind(kind, &data);
        fuzz_decode(&data);
    }

    #[test]
    fn garbage_after_valid_header_never_panics(
        kind in kind_strategy(),
        data in prop::collection::vec(any::<u8>(), 0..600),
        chunks in prop::collection::vec(1usize..64, 1..8),
    ) {
        // a real client header, then random bytes: exercises the framing decoders
        let cfg = TransportConfig { max_frame_len: 4096, dc_id: None };
        let mut c = Transport::client(kind, cfg, Box::new(StdRng::seed_from_u64(7))).unwrap();
        let mut wire = BytesMut::new();
        c.write_header(&mut wire);
        wire.extend_from_slice(&data);
        let mut s = Transport::server(kind, cfg, Box::new(StdRng::seed_from_u64(8))).unwrap();
        let mut buf = BytesMut::new();
        let mut rest = &wire[..];
        let mut i = 0;
        while !rest.is_empty() {
            let n = chunks[i % chunks.len()].min(rest.len());
            i += 1;
            buf.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
            while let Ok(Some(_)) = s.decode_frame(&mut buf) {}
            prop_assert!(buf.capacity() <= 64 * 1024);
        }
    }
}
