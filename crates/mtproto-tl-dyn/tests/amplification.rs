//! The run-time decoder's amplification bound: a vector of `gzip_packed`
//! payloads, each well within the per-payload cap, that together inflate to
//! more than `Limits::max_inflated_total` (16 MiB) fails with a typed error
//! instead of inflating them all.
#![allow(clippy::unwrap_used)]

use mtproto_tl::{DecodeErrorKind, GZIP_PACKED_ID, VECTOR_ID};
use mtproto_tl_dyn::{DynErrorKind, DynSchema, Value};

/// `rpc_error#2144ca19 error_code:int error_message:string` with a message
/// of `len` bytes of 'a'.
fn rpc_error(len: usize) -> Vec<u8> {
    let mut out = 0x2144_ca19u32.to_le_bytes().to_vec();
    out.extend_from_slice(&500i32.to_le_bytes());
    mtproto_tl::write_tl_bytes(&vec![b'a'; len], &mut out);
    out
}

/// `Vector<Object>` of `n` copies of `gzip_packed(rpc_error(2 MiB))` (the
/// payload deflated once).
fn vector_of_gzip(n: u32) -> Vec<u8> {
    let mut packed = GZIP_PACKED_ID.to_le_bytes().to_vec();
    mtproto_tl::write_tl_bytes(&mtproto_tl::deflate(&rpc_error(2 << 20)), &mut packed);
    let mut out = VECTOR_ID.to_le_bytes().to_vec();
    out.extend_from_slice(&n.to_le_bytes());
    for _ in 0..n {
        out.extend_from_slice(&packed);
    }
    out
}

#[test]
fn many_gzip_payloads_over_16_mib_in_total_fail_typed() {
    let schema = DynSchema::builtin();
    // 9 × 2 MiB = 18 MiB > 16 MiB, in a few kilobytes.
    let bytes = vector_of_gzip(9);
    assert!(bytes.len() < 64 << 10, "{} bytes", bytes.len());
    let e = schema.decode_bare("Vector<Object>", &bytes).unwrap_err();
    assert!(
        matches!(
            e.kind,
            DynErrorKind::Tl(DecodeErrorKind::GzipTooLarge { .. })
        ),
        "{e}"
    );
}

#[test]
fn gzip_payloads_within_16_mib_in_total_decode() {
    let schema = DynSchema::builtin();
    // 7 × 2 MiB = 14 MiB: within the bound.
    let v = schema
        .decode_bare("Vector<Object>", &vector_of_gzip(7))
        .unwrap();
    let Value::Vector(items) = v else {
        panic!("not a vector: {v:?}")
    };
    assert_eq!(items.len(), 7);
}
