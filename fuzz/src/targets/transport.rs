//! Fuzz targets for the transport framings (`transport_abridged`,
//! `transport_intermediate`, `transport_padded`, `transport_full`,
//! `transport_obfuscated`): raw decoding, split-point invariance, round trips.

use bytes::BytesMut;
use mtproto_transport::{
    Frame, ObfuscatedInit, ObfuscatedInner, Transport, TransportConfig, TransportKind,
};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

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
        mtproto_transport::fuzz::decode_kind(kind, rest);
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
