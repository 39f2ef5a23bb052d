//! Runtime primitives against the padding examples of `tl_objects.json`
//! (bytes/string serialization, checked with Telethon), and the decoder's
//! bounds: truncation, oversized lengths, vector counts, depth, gzip caps.
#![allow(clippy::unwrap_used)]

use mtproto_tl::{
    deflate, read_gzip_packed, Bare, BareDeserialize, DecodeErrorKind, Deserialize, Limits,
    RawObject, RawVec, Reader, Result, Serialize, GZIP_PACKED_ID, VECTOR_ID,
};

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// The input rule of the vectors: byte i = (7*i + 1) mod 256.
fn rule_bytes(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| u8::try_from((7 * i + 1) % 256).unwrap())
        .collect()
}

/// (input length, length header as serialized, total serialized length),
/// restated from `tl_objects.json` `bytes_serialization`.
const BYTES_CASES: &[(usize, &str, usize)] = &[
    (0, "", 4),
    (1, "01", 4),
    (2, "02", 4),
    (3, "03", 4),
    (4, "04", 8),
    (7, "07", 8),
    (253, "fd", 256),
    (254, "fefe0000", 260),
    (255, "feff0000", 260),
    (256, "fe000100", 260),
    (300, "fe2c0100", 304),
];

#[test]
fn bytes_padding_matches_telethon() {
    for &(len, header, total) in BYTES_CASES {
        let data = rule_bytes(len);
        let header = if len == 0 { hex("00") } else { hex(header) };
        let mut expected = header.clone();
        expected.extend_from_slice(&data);
        expected.resize(total, 0);
        let got = data.to_bytes();
        assert_eq!(got, expected, "bytes of length {len}");
        assert_eq!(got.len() % 4, 0);
        assert_eq!(
            Vec::<u8>::from_bytes(&got).unwrap(),
            data,
            "decode length {len}"
        );
    }
    // Spot-check exact full encodings given in the file.
    assert_eq!(rule_bytes(4).to_bytes(), hex("0401080f16000000"));
    assert_eq!(rule_bytes(7).to_bytes(), hex("0701080f161d242b"));
}

#[test]
fn strings_match_telethon() {
    let cases = [
        ("", "00000000"),
        ("a", "01610000"),
        ("abc", "03616263"),
        ("Hello, world!", "0d48656c6c6f2c20776f726c64210000"),
        ("Привет", "0cd09fd180d0b8d0b2d0b5d182000000"),
        ("😀", "04f09f9880000000"),
    ];
    for (s, h) in cases {
        assert_eq!(s.to_string().to_bytes(), hex(h), "{s:?}");
        assert_eq!(String::from_bytes(&hex(h)).unwrap(), s);
    }
}

/// serialize.html: padding is "0 to 3 characters containing 0", and the
/// long form (254, then 3 length bytes) is for L >= 254. Anything else could
/// not be reproduced by encoding again, so it is refused with a typed error
/// at the value's first byte.
#[test]
fn non_canonical_bytes_rejected() {
    // "abc" is canonical with no padding; "a" needs two zero padding bytes.
    assert_eq!(String::from_bytes(&hex("01610000")).unwrap(), "a");
    // Non-zero padding after a short string, each padding position.
    for (h, what) in [
        ("01610100", "first of two padding bytes"),
        ("01610001", "second of two padding bytes"),
        ("00000001", "last of three padding bytes (empty string)"),
        ("0561626364650080", "last padding byte of a 5-byte string"),
    ] {
        let e = String::from_bytes(&hex(h)).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::NonCanonicalBytes, "{what}: {e}");
        assert_eq!(e.offset, 0, "{what}");
        let e = Vec::<u8>::from_bytes(&hex(h)).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::NonCanonicalBytes, "{what}: {e}");
    }
    // The long form for short lengths: 0, 3 and 253 bytes.
    for len in [0usize, 3, 253] {
        let data = rule_bytes(len);
        let mut enc = vec![254, u8::try_from(len).unwrap(), 0, 0];
        enc.extend_from_slice(&data);
        enc.resize(enc.len().next_multiple_of(4), 0);
        let e = Vec::<u8>::from_bytes(&enc).unwrap_err();
        assert_eq!(
            e.kind,
            DecodeErrorKind::NonCanonicalBytes,
            "long form, L={len}"
        );
        assert_eq!(e.offset, 0);
        // The canonical short form of the same data decodes.
        assert_eq!(Vec::<u8>::from_bytes(&data.to_bytes()).unwrap(), data);
    }
    // Long form with non-zero padding (L = 255: one padding byte).
    let mut enc = hex("feff0000");
    enc.extend_from_slice(&rule_bytes(255));
    enc.push(7);
    let e = Vec::<u8>::from_bytes(&enc).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::NonCanonicalBytes);
    *enc.last_mut().unwrap() = 0;
    assert_eq!(Vec::<u8>::from_bytes(&enc).unwrap(), rule_bytes(255));
    // Inside an object the offset is that of the string's length byte:
    // rpc_error#2144ca19 error_code:int error_message:string with
    // "FLOOD_WAIT_30" and a non-zero last padding byte (the fuzz finding).
    let rpc = hex("19ca4421a40100000d464c4f4f445f574149545f33300001");
    let e = mtproto_tl::mtproto::decode_and_reencode(&rpc).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::NonCanonicalBytes, "{e}");
    assert_eq!(e.offset, 8);
    let mut ok = rpc.clone();
    *ok.last_mut().unwrap() = 0;
    assert_eq!(mtproto_tl::mtproto::decode_and_reencode(&ok).unwrap(), ok);
}

#[test]
fn primitives_exact_bytes() {
    assert_eq!(0x0102_0304i32.to_bytes(), hex("04030201"));
    assert_eq!((-1i64).to_bytes(), hex("ffffffffffffffff"));
    assert_eq!(1.5f64.to_bytes(), hex("000000000000f83f"));
    assert_eq!(true.to_bytes(), hex("b5757299"));
    assert_eq!(false.to_bytes(), hex("379779bc"));
    assert_eq!(
        vec![1i64, 2].to_bytes(),
        hex("15c4b51c0200000001000000000000000200000000000000")
    );
    assert_eq!(RawVec(vec![7i32]).to_bytes(), hex("0100000007000000"));
    let n: [u8; 16] = core::array::from_fn(|i| u8::try_from(i).unwrap());
    assert_eq!(n.to_bytes(), (0..16).collect::<Vec<u8>>());
    assert!(bool::from_bytes(&hex("b5757299")).unwrap());
    assert!(!bool::from_bytes(&hex("379779bc")).unwrap());
    assert_eq!(
        Vec::<i64>::from_bytes(&hex("15c4b51c0200000001000000000000000200000000000000")).unwrap(),
        vec![1, 2]
    );
}

#[test]
fn truncated_input_is_a_typed_error_with_offset() {
    let e = i64::from_bytes(&[1, 2, 3]).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::UnexpectedEof { needed: 5 });
    assert_eq!(e.offset, 0);
    // 0x10 bytes declared, 3 present.
    let e = Vec::<u8>::from_bytes(&hex("10616263")).unwrap_err();
    assert!(
        matches!(
            e.kind,
            DecodeErrorKind::LengthTooLarge {
                len: 16,
                remaining: 3
            }
        ),
        "{e:?}"
    );
    // Long form declaring 16 MiB - 1 with nothing after it must not allocate.
    let e = Vec::<u8>::from_bytes(&hex("feffffff")).unwrap_err();
    assert!(
        matches!(e.kind, DecodeErrorKind::LengthTooLarge { .. }),
        "{e:?}"
    );
    // 255 is not a valid first length byte.
    assert!(Vec::<u8>::from_bytes(&hex("ff000000")).is_err());
}

#[test]
fn trailing_bytes_rejected() {
    let e = i32::from_bytes(&hex("0100000000")).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::TrailingBytes { remaining: 1 });
    assert_eq!(e.offset, 4);
}

#[test]
fn invalid_utf8_and_bool() {
    assert_eq!(
        String::from_bytes(&hex("02c32800")).unwrap_err().kind,
        DecodeErrorKind::InvalidUtf8
    );
    let e = bool::from_bytes(&hex("01020304")).unwrap_err();
    assert!(matches!(
        e.kind,
        DecodeErrorKind::UnknownConstructor {
            id: 0x0403_0201,
            expected: "Bool"
        }
    ));
}

#[test]
fn vector_count_sanity() {
    // count = 2^31 - 1 longs, with 8 bytes of input: rejected before allocating.
    let e = Vec::<i64>::from_bytes(&hex("15c4b51cffffff7f0000000000000000")).unwrap_err();
    assert!(
        matches!(
            e.kind,
            DecodeErrorKind::VectorTooLong { count: 0x7fff_ffff }
        ),
        "{e:?}"
    );
    assert_eq!(e.offset, 4);
    // Negative count.
    let e = Vec::<i32>::from_bytes(&hex("15c4b51cffffffff")).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::InvalidLength(-1));
    // Wrong vector id.
    let e = Vec::<i32>::from_bytes(&hex("0000000000000000")).unwrap_err();
    assert!(matches!(
        e.kind,
        DecodeErrorKind::UnknownConstructor {
            expected: "Vector",
            ..
        }
    ));
}

#[test]
fn nesting_depth_is_bounded() {
    // Vector<Vector<...<int>>> nested 100 deep, empty at the bottom.
    let mut buf = Vec::new();
    for _ in 0..100 {
        buf.extend_from_slice(&hex("15c4b51c01000000"));
    }
    buf.extend_from_slice(&hex("15c4b51c00000000"));
    // Decode as a deeply nested type through a recursive helper.
    #[derive(Debug)]
    struct Nest;
    impl Deserialize for Nest {
        fn deserialize(r: &mut Reader<'_>) -> Result<Self> {
            Vec::<Nest>::deserialize(r).map(|_| Nest)
        }
    }
    let e = Nest::from_bytes(&buf).unwrap_err();
    assert_eq!(
        e.kind,
        DecodeErrorKind::DepthLimitExceeded {
            limit: Limits::DEFAULT.max_depth
        }
    );
    // With a higher limit it decodes.
    let mut r = Reader::with_limits(
        &buf,
        Limits {
            max_depth: 200,
            ..Limits::DEFAULT
        },
    );
    Nest::deserialize(&mut r).unwrap();
    r.finish().unwrap();
}

fn gzip_packed(inner: &[u8]) -> Vec<u8> {
    let mut out = GZIP_PACKED_ID.to_bytes();
    deflate(inner).serialize(&mut out);
    out
}

#[test]
fn gzip_packed_is_transparent() {
    let inner = vec![5i64; 1000].to_bytes();
    let packed = gzip_packed(&inner);
    assert!(packed.len() < inner.len() / 4);
    assert_eq!(Vec::<i64>::from_bytes(&packed).unwrap(), vec![5i64; 1000]);
    let packed_bool = gzip_packed(&true.to_bytes());
    assert!(bool::from_bytes(&packed_bool).unwrap());
}

#[test]
fn inflation_is_bounded_in_total() {
    // A vector of 8 gzip_packed objects, each inflating to 4 MiB (under the
    // 16 MiB per-payload cap): together 32 MiB, over the 16 MiB total.
    let bomb = gzip_packed(&RawObject(vec![0u8; 4 << 20]).to_bytes());
    assert!(bomb.len() < 8 << 10, "{} bytes on the wire", bomb.len());
    let mut buf = VECTOR_ID.to_bytes();
    8i32.serialize(&mut buf);
    for _ in 0..8 {
        buf.extend_from_slice(&bomb);
    }
    let mut r = Reader::new(&buf);
    r.read_u32().unwrap();
    let count = r.read_vector_len(4).unwrap();
    let (mut got, mut payloads) = (0usize, 0usize);
    let err = loop {
        assert!(
            payloads < count,
            "every payload inflated: the total was not enforced"
        );
        let id = r.read_u32().unwrap();
        assert_eq!(id, GZIP_PACKED_ID);
        match read_gzip_packed(&mut r, |inner| Ok(inner.take_rest().len())) {
            Ok(n) => {
                got += n;
                payloads += 1;
            }
            Err(e) => break e,
        }
    };
    // Four payloads (16 MiB) fit; the fifth is refused.
    assert_eq!(got, 16 << 20);
    assert_eq!(r.inflated(), 16 << 20);
    assert!(
        matches!(err.kind, DecodeErrorKind::GzipTooLarge { limit: 0 }),
        "{err:?}"
    );
    // Nested payloads count against the same total.
    let inner = gzip_packed(&RawObject(vec![1u8; 12 << 20]).to_bytes());
    let mut outer = Vec::new();
    deflate(&inner).serialize(&mut outer);
    let mut r = Reader::with_limits(
        &outer,
        Limits {
            max_inflated_total: 12 << 20,
            ..Limits::DEFAULT
        },
    );
    let e = read_gzip_packed(&mut r, |inner| {
        inner.read_u32()?;
        read_gzip_packed(inner, |i| Ok(i.take_rest().len()))
    })
    .unwrap_err();
    assert!(
        matches!(e.kind, DecodeErrorKind::GzipTooLarge { .. }),
        "{e:?}"
    );
}

#[test]
fn gzip_bomb_is_capped() {
    // 64 MiB of zeros inflates past the 16 MiB default cap.
    let bomb = deflate(&vec![0u8; 64 << 20]);
    let mut buf = Vec::new();
    bomb.serialize(&mut buf);
    let mut r = Reader::new(&buf);
    let e = read_gzip_packed(&mut r, RawObject::deserialize).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::GzipTooLarge { limit: 16 << 20 });
    // A smaller cap applies too.
    let small = deflate(&[0u8; 100]).to_bytes();
    let mut r = Reader::with_limits(
        &small,
        Limits {
            max_gzip_size: 99,
            ..Limits::DEFAULT
        },
    );
    assert!(matches!(
        read_gzip_packed(&mut r, RawObject::deserialize)
            .unwrap_err()
            .kind,
        DecodeErrorKind::GzipTooLarge { limit: 99 }
    ));
    // Garbage is a typed error.
    let garbage = vec![1u8, 2, 3, 4, 5].to_bytes();
    let mut r = Reader::new(&garbage);
    assert_eq!(
        read_gzip_packed(&mut r, RawObject::deserialize)
            .unwrap_err()
            .kind,
        DecodeErrorKind::Gzip
    );
}

#[test]
fn large_bytes_roundtrip() {
    let data: Vec<u8> = (0..(1usize << 20))
        .map(|i| u8::try_from(i * 31 % 251).unwrap())
        .collect();
    let enc = data.to_bytes();
    assert_eq!(&enc[..4], &hex("fe000010")[..]);
    assert_eq!(enc.len(), 4 + (1 << 20));
    assert_eq!(Vec::<u8>::from_bytes(&enc).unwrap(), data);
}

/// The longest `bytes` TL can express, 2^24 - 1, uses all 3 length bytes.
#[test]
fn longest_bytes_roundtrip() {
    let data = vec![0x5au8; (1 << 24) - 1];
    let enc = data.to_bytes();
    assert_eq!(&enc[..4], &hex("feffffff")[..]);
    assert_eq!(enc.len(), 4 + (1 << 24));
    assert_eq!(Vec::<u8>::from_bytes(&enc).unwrap(), data);
}

/// 2^24 bytes have no TL length. No panic, and never a cut-off length that
/// would turn the rest of the data into other fields: the value is written
/// cut to 2^24 - 1 bytes, well-formed, so the next field still decodes.
#[test]
fn bytes_of_16_mib_stay_well_formed() {
    let mut out = Vec::new();
    mtproto_tl::write_tl_bytes(&vec![0x11u8; (1 << 24) + 5], &mut out);
    7i32.serialize(&mut out);
    assert_eq!(&out[..4], &hex("feffffff")[..]);
    let mut r = Reader::new(&out);
    assert_eq!(r.read_tl_bytes().unwrap().len(), (1 << 24) - 1);
    assert_eq!(r.read_i32().unwrap(), 7);
    r.finish().unwrap();
}

#[test]
fn bare_wrapper_and_sub_reader() {
    #[derive(Debug, PartialEq)]
    struct Pair(i32, i32);
    impl BareDeserialize for Pair {
        fn deserialize_bare(r: &mut Reader<'_>) -> Result<Self> {
            Ok(Pair(r.read_i32()?, r.read_i32()?))
        }
    }
    let buf = hex("0100000002000000");
    assert_eq!(Bare::<Pair>::from_bytes(&buf).unwrap().0, Pair(1, 2));
    let mut r = Reader::new(&buf);
    let mut sub = r.sub(4).unwrap();
    assert_eq!(sub.read_i32().unwrap(), 1);
    assert!(
        sub.read_i32().is_err(),
        "a sub-reader never reads past its bound"
    );
    assert_eq!(r.read_i32().unwrap(), 2);
}

/// Random garbage never panics, for every primitive decoder.
#[test]
fn garbage_never_panics() {
    let mut state = 0x1234_5678_9abc_def0u64;
    for len in 0..2000usize {
        let buf: Vec<u8> = (0..len % 97)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state & 0xff) as u8
            })
            .collect();
        let _ = Vec::<u8>::from_bytes(&buf);
        let _ = String::from_bytes(&buf);
        let _ = Vec::<Vec<i64>>::from_bytes(&buf);
        let _ = Vec::<String>::from_bytes(&buf);
        let _ = bool::from_bytes(&buf);
        let _ = RawVec::<i32>::from_bytes(&buf);
        let _ = <[u8; 32]>::from_bytes(&buf);
    }
}
