//! Exact-bytes tests for the plain envelopes, both directions, and error cases.
#![allow(clippy::unwrap_used)]

mod common;

use bytes::BytesMut;
use common::*;
use mtproto_transport::{
    Frame, Transport, TransportConfig, TransportError, TransportErrorCode, TransportKind,
};

const P4: [u8; 4] = [1, 2, 3, 4];

fn enc(t: &mut Transport, payload: &[u8]) -> Vec<u8> {
    let mut out = BytesMut::new();
    t.encode(payload, &mut out).unwrap();
    out.to_vec()
}

// The low byte of 7i + 3, on purpose: the pattern wraps every 256 bytes.
#[allow(clippy::cast_possible_truncation)]
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + 3) as u8).collect()
}

// ---------------------------------------------------------------- abridged

#[test]
fn abridged_client_short_frame_with_tag() {
    let mut c = client(TransportKind::Abridged);
    // "the client must first send 0xef"; then "Length: payload length, divided by four
    // ... encoded as a single byte"
    assert_eq!(enc(&mut c, &P4), h("ef 01 01020304"));
    // the tag is sent only once
    assert_eq!(enc(&mut c, &P4), h("01 01020304"));
}

#[test]
fn abridged_0x7f_boundary() {
    let mut c = client(TransportKind::Abridged);
    let _ = enc(&mut c, &[]); // tag + empty frame
                              // 126 words: still one byte
    let p = pattern(126 * 4);
    let out = enc(&mut c, &p);
    assert_eq!(out[0], 0x7e);
    assert_eq!(&out[1..], &p[..]);
    // 127 words: 0x7f + 3-byte little-endian length
    let p = pattern(127 * 4);
    let out = enc(&mut c, &p);
    assert_eq!(&out[..4], &h("7f 7f0000")[..]);
    assert_eq!(&out[4..], &p[..]);
    // 0x012345 words
    let p = pattern(0x012345 * 4);
    let out = enc(&mut c, &p);
    assert_eq!(&out[..4], &h("7f 452301")[..]);
    assert_eq!(out.len(), 4 + p.len());

    // and the server decodes them back
    let mut s = server(TransportKind::Abridged);
    let mut wire = BytesMut::new();
    let mut c = client(TransportKind::Abridged);
    for n in [0usize, 126, 127, 128, 300] {
        c.encode(&pattern(n * 4), &mut wire).unwrap();
    }
    let frames = decode_all(&mut s, &mut wire).unwrap();
    let lens: Vec<usize> = frames.iter().map(Vec::len).collect();
    assert_eq!(lens, vec![0, 504, 508, 512, 1200]);
    assert_eq!(frames[2], pattern(508));
    assert!(wire.is_empty());
}

#[test]
fn abridged_quick_ack_request() {
    let mut c = client(TransportKind::Abridged);
    let mut out = BytesMut::new();
    // "(length >> 2) | (1 << 7)"
    c.encode_with(&P4, true, &mut out).unwrap();
    assert_eq!(out.to_vec(), h("ef 81 01020304"));
    // "Header: A single byte of value 0xff (255)" for long frames
    let p = pattern(127 * 4);
    let mut out = BytesMut::new();
    c.encode_with(&p, true, &mut out).unwrap();
    assert_eq!(&out[..4], &h("ff 7f0000")[..]);

    let mut s = server(TransportKind::Abridged);
    let mut wire = bm(&h("ef 81 01020304 ff 7f0000"));
    wire.extend_from_slice(&p);
    wire.extend_from_slice(&h("01 05060708"));
    let f1 = s.decode_frame(&mut wire).unwrap().unwrap();
    assert_eq!(
        f1,
        Frame::Payload {
            data: bm(&P4),
            quick_ack: true
        }
    );
    match s.decode_frame(&mut wire).unwrap().unwrap() {
        Frame::Payload { data, quick_ack } => {
            assert!(quick_ack);
            assert_eq!(data.to_vec(), p);
        }
        f => panic!("unexpected {f:?}"),
    }
    match s.decode_frame(&mut wire).unwrap().unwrap() {
        Frame::Payload { data, quick_ack } => {
            assert!(!quick_ack);
            assert_eq!(data.to_vec(), h("05060708"));
        }
        f => panic!("unexpected {f:?}"),
    }
}

#[test]
fn abridged_server_to_client() {
    let mut s = server(TransportKind::Abridged);
    // the server sends no tag ("the server will not send 0xef as the first byte")
    assert_eq!(enc(&mut s, &P4), h("01 01020304"));
    let p = pattern(127 * 4);
    let out = enc(&mut s, &p);
    assert_eq!(&out[..4], &h("7f 7f0000")[..]);
    // quick ACK token: "by bswapping them ... standalone 4-byte packet"
    let mut out = BytesMut::new();
    s.encode_quick_ack(0x1234_5678, &mut out).unwrap();
    assert_eq!(out.to_vec(), h("92345678"));

    let mut c = client(TransportKind::Abridged);
    let mut wire = bm(&h("92345678 01 01020304"));
    assert_eq!(
        c.decode_frame(&mut wire).unwrap(),
        Some(Frame::QuickAck(0x9234_5678))
    );
    assert_eq!(c.decode(&mut wire).unwrap().unwrap().to_vec(), P4.to_vec());
    // `decode` skips quick ACKs
    let mut wire = bm(&h("92345678 01 01020304"));
    assert_eq!(c.decode(&mut wire).unwrap().unwrap().to_vec(), P4.to_vec());
}

// ---------------------------------------------------------------- intermediate

#[test]
fn intermediate_both_directions() {
    let mut c = client(TransportKind::Intermediate);
    assert_eq!(enc(&mut c, &P4), h("eeeeeeee 04000000 01020304"));
    assert_eq!(enc(&mut c, &P4), h("04000000 01020304"));
    let mut out = BytesMut::new();
    // "len = len | (1 << 31)"
    c.encode_with(&P4, true, &mut out).unwrap();
    assert_eq!(out.to_vec(), h("04000080 01020304"));

    let mut s = server(TransportKind::Intermediate);
    let mut wire = bm(&h("eeeeeeee 04000000 01020304 04000080 05060708"));
    assert_eq!(
        s.decode_frame(&mut wire).unwrap(),
        Some(Frame::Payload {
            data: bm(&P4),
            quick_ack: false
        })
    );
    assert_eq!(
        s.decode_frame(&mut wire).unwrap(),
        Some(Frame::Payload {
            data: bm(&h("05060708")),
            quick_ack: true
        })
    );
    assert_eq!(s.decode_frame(&mut wire).unwrap(), None);

    assert_eq!(enc(&mut s, &P4), h("04000000 01020304"));
    let mut out = BytesMut::new();
    s.encode_quick_ack(0x1234_5678, &mut out).unwrap();
    assert_eq!(out.to_vec(), h("78563492"));

    let mut c = client(TransportKind::Intermediate);
    let mut wire = bm(&h("78563492 04000000 01020304"));
    assert_eq!(
        c.decode_frame(&mut wire).unwrap(),
        Some(Frame::QuickAck(0x9234_5678))
    );
    assert_eq!(c.decode(&mut wire).unwrap().unwrap().to_vec(), P4.to_vec());
}

// ---------------------------------------------------------------- padded

#[test]
fn padded_exact_bytes_with_injected_padding() {
    // rng: next_u32 = 3 → 3 % 16 = 3 padding bytes, then aa bb cc
    let rng = ByteRng::boxed(&h("03000000 aabbcc"));
    let mut c = Transport::client(TransportKind::PaddedIntermediate, cfg(), rng).unwrap();
    assert_eq!(enc(&mut c, &P4), h("dddddddd 07000000 01020304 aabbcc"));

    let mut s = server(TransportKind::PaddedIntermediate);
    let mut wire = bm(&h("dddddddd 07000000 01020304 aabbcc"));
    // the payload keeps its padding: only the MTProto layer knows the real length
    assert_eq!(
        s.decode(&mut wire).unwrap().unwrap().to_vec(),
        h("01020304aabbcc")
    );

    // quick ACK request sets the MSB of tlen; 0 padding here
    let rng = ByteRng::boxed(&h("00000000"));
    let mut c = Transport::client(TransportKind::PaddedIntermediate, cfg(), rng).unwrap();
    let mut out = BytesMut::new();
    c.encode_with(&P4, true, &mut out).unwrap();
    assert_eq!(out.to_vec(), h("dddddddd 04000080 01020304"));
}

#[test]
fn padded_server_quick_ack() {
    // next_u32 = 2 → 2 % 9 = 2 padding bytes 11 22
    let rng = ByteRng::boxed(&h("02000000 1122"));
    let mut s = Transport::server(TransportKind::PaddedIntermediate, cfg(), rng).unwrap();
    let mut out = BytesMut::new();
    s.encode_quick_ack(0x1234_5678, &mut out).unwrap();
    // "tlen|FFFF|abcd|padding"
    assert_eq!(out.to_vec(), h("0a000000 ffffffff 78563492 1122"));
    let mut c = client(TransportKind::PaddedIntermediate);
    assert_eq!(
        c.decode_frame(&mut out).unwrap(),
        Some(Frame::QuickAck(0x9234_5678))
    );
}

#[test]
fn padded_padding_is_0_to_15() {
    for n in 0u32..40 {
        let rng = ByteRng::boxed(&n.to_le_bytes());
        let mut c = Transport::client(TransportKind::PaddedIntermediate, cfg(), rng).unwrap();
        let out = enc(&mut c, &pattern(24));
        assert_eq!(out.len(), 4 + 4 + 24 + (n % 16) as usize);
    }
}

// ---------------------------------------------------------------- full

#[test]
fn full_exact_bytes_and_crc() {
    let mut c = client(TransportKind::Full);
    let out = enc(&mut c, &P4);
    // hand-built frame; CRC computed independently
    let body = h("10000000 00000000 01020304");
    let crc = crc32fast::hash(&body);
    // same value from Python's zlib.crc32
    assert_eq!(crc, 0xe0b5_0f42);
    let mut want = body.clone();
    want.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(out, want);
    // no tag for the full transport; seqno increments
    let out = enc(&mut c, &h("deadbeef cafebabe"));
    assert_eq!(out, h("14000000 01000000 deadbeef cafebabe a909fe6e"));

    let mut s = server(TransportKind::Full);
    let mut wire = bm(&want);
    wire.extend_from_slice(&h("14000000 01000000 deadbeef cafebabe a909fe6e"));
    let frames = decode_all(&mut s, &mut wire).unwrap();
    assert_eq!(frames, vec![P4.to_vec(), h("deadbeefcafebabe")]);

    // server → client uses its own seqno sequence starting at 0
    assert_eq!(enc(&mut s, &P4), want);
}

#[test]
fn full_wrong_crc() {
    let mut s = server(TransportKind::Full);
    let mut wire = bm(&h("10000000 00000000 01020304 420fb5e1"));
    assert_eq!(
        s.decode(&mut wire),
        Err(TransportError::BadCrc {
            expected: 0xe0b5_0f42,
            got: 0xe1b5_0f42
        })
    );
    // fatal: the stream cannot be resynchronised
    assert_eq!(s.decode(&mut wire), Err(TransportError::Poisoned));
}

#[test]
fn full_wrong_seqno() {
    let mut s = server(TransportKind::Full);
    // valid CRC, but seqno 1 where 0 is expected
    let mut wire = bm(&h("14000000 01000000 deadbeef cafebabe a909fe6e"));
    assert_eq!(
        s.decode(&mut wire),
        Err(TransportError::BadSeqno {
            expected: 0,
            got: 1
        })
    );
}

#[test]
fn full_short_and_misaligned_lengths() {
    let mut s = server(TransportKind::Full);
    assert_eq!(
        s.decode(&mut bm(&h("08000000 00000000"))),
        Err(TransportError::FrameTooShort { len: 8 })
    );
    let mut s = server(TransportKind::Full);
    assert_eq!(
        s.decode(&mut bm(&h("11000000 00000000"))),
        Err(TransportError::Misaligned { len: 5 })
    );
}

// ---------------------------------------------------------------- transport errors

#[test]
fn remote_error_codes_every_transport() {
    for kind in TransportKind::ALL {
        for code in [-404, -429, -444] {
            let mut c = client(kind);
            let mut s = server(kind);
            let mut wire = BytesMut::new();
            c.encode(&pattern(40), &mut wire).unwrap();
            assert!(s.decode(&mut wire).unwrap().unwrap().len() >= 40);
            let mut back = BytesMut::new();
            s.encode_error(TransportErrorCode(code), &mut back).unwrap();
            s.encode(&pattern(56), &mut back).unwrap();
            assert_eq!(
                c.decode(&mut back),
                Err(TransportError::Remote(TransportErrorCode(code))),
                "{kind}"
            );
            // not fatal: the next frame still decodes
            assert!(c.decode(&mut back).unwrap().unwrap().len() >= 56, "{kind}");
        }
    }
}

#[test]
fn remote_error_exact_bytes() {
    // -404 = 0xfffffe6c, -429 = 0xfffffe53 (little-endian on the wire)
    let mut c = client(TransportKind::Abridged);
    assert_eq!(
        c.decode(&mut bm(&h("01 6cfeffff"))),
        Err(TransportError::Remote(TransportErrorCode(-404)))
    );
    let mut c = client(TransportKind::Intermediate);
    assert_eq!(
        c.decode(&mut bm(&h("04000000 53feffff"))),
        Err(TransportError::Remote(TransportErrorCode(-429)))
    );
    let mut c = client(TransportKind::PaddedIntermediate);
    assert_eq!(
        c.decode(&mut bm(&h("07000000 6cfeffff 0a0b0c"))),
        Err(TransportError::Remote(TransportErrorCode(-404)))
    );
    let mut body = h("10000000 00000000 6cfeffff");
    let crc = crc32fast::hash(&body);
    body.extend_from_slice(&crc.to_le_bytes());
    let mut c = client(TransportKind::Full);
    assert_eq!(
        c.decode(&mut bm(&body)),
        Err(TransportError::Remote(TransportErrorCode(-404)))
    );
    // a positive 4-byte payload is just a payload
    let mut c = client(TransportKind::Intermediate);
    assert_eq!(
        c.decode(&mut bm(&h("04000000 01000000")))
            .unwrap()
            .unwrap()
            .to_vec(),
        h("01000000")
    );
}

// ---------------------------------------------------------------- limits

#[test]
fn oversized_rejected_before_allocation() {
    let cases: [(TransportKind, &str, Role); 5] = [
        (TransportKind::Abridged, "ef 7f ffffff", Role::Server),
        (
            TransportKind::Intermediate,
            "eeeeeeee ffffff7f",
            Role::Server,
        ),
        (
            TransportKind::PaddedIntermediate,
            "dddddddd 10000001",
            Role::Server,
        ),
        (TransportKind::Full, "ffffffff 00000000", Role::Server),
        (TransportKind::Intermediate, "ffffff7f", Role::Client),
    ];
    for (kind, bytes, role) in cases {
        let mut t = match role {
            Role::Server => server(kind),
            Role::Client => client(kind),
        };
        let mut buf = BytesMut::with_capacity(16);
        buf.extend_from_slice(&h(bytes));
        let r = t.decode(&mut buf);
        assert!(
            matches!(r, Err(TransportError::FrameTooLarge { .. })),
            "{kind}: {r:?}"
        );
        assert!(buf.capacity() < 1024, "{kind}: reserved {}", buf.capacity());
    }
}

#[derive(Clone, Copy)]
enum Role {
    Client,
    Server,
}

#[test]
fn configurable_max_frame_len() {
    let cfg = TransportConfig {
        max_frame_len: 1024,
        ..TransportConfig::default()
    };
    let mut s = Transport::server(TransportKind::Intermediate, cfg, ByteRng::boxed(&[0])).unwrap();
    let mut ok = bm(&h("eeeeeeee 00040000"));
    assert_eq!(s.decode(&mut ok), Ok(None)); // exactly 1024: fine, needs more
    let mut s = Transport::server(TransportKind::Intermediate, cfg, ByteRng::boxed(&[0])).unwrap();
    assert_eq!(
        s.decode(&mut bm(&h("eeeeeeee 04040000"))),
        Err(TransportError::FrameTooLarge {
            len: 1028,
            max: 1024
        })
    );
    // encode enforces it too, and leaves `out` untouched
    let mut c = Transport::client(TransportKind::Intermediate, cfg, ByteRng::boxed(&[0])).unwrap();
    let mut out = BytesMut::new();
    assert!(matches!(
        c.encode(&pattern(1028), &mut out),
        Err(TransportError::FrameTooLarge { .. })
    ));
    assert!(out.is_empty());
    // the tag is still sent with the first successful frame
    c.encode(&P4, &mut out).unwrap();
    assert_eq!(out.to_vec(), h("eeeeeeee 04000000 01020304"));
}

#[test]
fn misaligned_lengths() {
    let mut c = client(TransportKind::Abridged);
    let mut out = BytesMut::new();
    assert_eq!(
        c.encode(&[1, 2, 3], &mut out),
        Err(TransportError::Misaligned { len: 3 })
    );
    assert!(out.is_empty());
    let mut s = server(TransportKind::Intermediate);
    assert_eq!(
        s.decode(&mut bm(&h("eeeeeeee 05000000"))),
        Err(TransportError::Misaligned { len: 5 })
    );
    // padded: any total length is fine (padding is random)
    let mut s = server(TransportKind::PaddedIntermediate);
    assert_eq!(
        s.decode(&mut bm(&h("dddddddd 05000000 0102030405")))
            .unwrap()
            .unwrap()
            .to_vec(),
        h("0102030405")
    );
}

#[test]
fn truncated_needs_more_then_completes() {
    for kind in TransportKind::ALL {
        let mut c = client(kind);
        let mut wire = BytesMut::new();
        let p = pattern(600);
        c.encode(&p, &mut wire).unwrap();
        let wire = wire.to_vec();
        let mut s = server(kind);
        let mut buf = BytesMut::new();
        for (i, b) in wire.iter().enumerate() {
            buf.extend_from_slice(&[*b]);
            let r = s.decode(&mut buf).unwrap();
            if i + 1 < wire.len() {
                assert_eq!(r, None, "{kind} at {i}");
            } else {
                assert_eq!(&r.unwrap()[..600], &p[..], "{kind}");
            }
        }
    }
}

#[test]
fn server_rejects_wrong_tag() {
    let mut s = server(TransportKind::Intermediate);
    assert_eq!(
        s.decode(&mut bm(&h("ee ee dd"))),
        Err(TransportError::BadTag)
    );
    let mut s = server(TransportKind::Abridged);
    assert_eq!(s.decode(&mut bm(&h("01"))), Err(TransportError::BadTag));
    // partial correct tag: need more
    let mut s = server(TransportKind::PaddedIntermediate);
    assert_eq!(s.decode(&mut bm(&h("dd dd"))), Ok(None));
}

#[test]
fn quick_ack_misuse_is_an_error() {
    let mut s = server(TransportKind::Intermediate);
    let mut out = BytesMut::new();
    assert!(s.encode_with(&P4, true, &mut out).is_err());
    let mut c = client(TransportKind::Intermediate);
    assert!(c.encode_quick_ack(1, &mut out).is_err());
    let mut c = client(TransportKind::Full);
    assert!(c.encode_with(&P4, true, &mut out).is_err());
    assert!(out.is_empty());
}

#[test]
fn transport_error_codes_by_name_and_unknown_ones_survive() {
    assert_eq!(
        format!("{:?}", TransportErrorCode(-404)),
        "AUTH_KEY_NOT_FOUND"
    );
    assert_eq!(format!("{:?}", TransportErrorCode(-429)), "TRANSPORT_FLOOD");
    assert_eq!(
        format!("{:?}", TransportErrorCode(-7)),
        "TransportErrorCode(-7)"
    );
    assert_eq!(
        TransportErrorCode(-404).to_string(),
        "-404 (auth key not found)"
    );
    // An undocumented code goes through the wire unchanged.
    let mut c = client(TransportKind::Intermediate);
    let mut s = server(TransportKind::Intermediate);
    let mut wire = BytesMut::new();
    c.encode(&pattern(8), &mut wire).unwrap();
    s.decode(&mut wire).unwrap();
    let mut back = BytesMut::new();
    s.encode_error(TransportErrorCode(-7), &mut back).unwrap();
    assert_eq!(
        c.decode(&mut back),
        Err(TransportError::Remote(TransportErrorCode(-7)))
    );
}

#[test]
fn padded_payloads_come_out_trimmed() {
    // An encrypted MTProto packet is 24 + 16k bytes; the padded transport
    // adds 0..15 random bytes inside the frame, and decode cuts them off.
    for n in 0u32..16 {
        let rng = ByteRng::boxed(&[n.to_le_bytes().to_vec(), vec![0xab; 15]].concat());
        let mut c = Transport::client(TransportKind::PaddedIntermediate, cfg(), rng).unwrap();
        let packet = pattern(24 + 32);
        let mut wire = BytesMut::new();
        c.encode(&packet, &mut wire).unwrap();
        assert_eq!(wire.len(), 8 + 56 + n as usize);
        let mut s = server(TransportKind::PaddedIntermediate);
        assert_eq!(s.decode(&mut wire).unwrap().unwrap().to_vec(), packet);
    }
}

/// A header announcing a 16 MiB frame, then a few bytes: the server's buffer
/// grows with what arrived, not with what the header announced.
#[test]
fn announced_length_reserves_nothing_like_it() {
    let big = vec![0x5au8; 16 * 1024 * 1024 - 64];
    for kind in [
        TransportKind::Abridged,
        TransportKind::Intermediate,
        TransportKind::PaddedIntermediate,
        TransportKind::Full,
    ] {
        let cfg = TransportConfig::default();
        let mut c = Transport::client(kind, cfg, ByteRng::boxed(&[0])).unwrap();
        let mut wire = BytesMut::new();
        c.write_header(&mut wire);
        c.encode(&big, &mut wire).unwrap();
        let mut s = Transport::server(kind, cfg, ByteRng::boxed(&[0])).unwrap();
        let mut buf = BytesMut::new();
        // tag + length header + 40 payload bytes, in small reads
        for chunk in wire[..wire.len().min(48)].chunks(7) {
            buf.extend_from_slice(chunk);
            assert_eq!(s.decode(&mut buf), Ok(None), "{kind}");
        }
        assert!(
            buf.capacity() <= 128 * 1024,
            "{kind}: {} bytes reserved for {} received",
            buf.capacity(),
            buf.len()
        );
        // The rest arriving still completes the frame.
        buf.extend_from_slice(&wire[48..]);
        let Some(Frame::Payload { data, .. }) = s.decode_frame(&mut buf).unwrap() else {
            panic!("{kind}: no payload");
        };
        assert_eq!(data.len(), big.len(), "{kind}");
    }
}
