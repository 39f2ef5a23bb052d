//! Fuzz target for `gzip_packed` bodies (`gzip_packed`): inflation under a
//! size cap, boxed decoding, deflate/inflate round trip.

use mtproto_tl::{Limits, Reader};

/// The inflation cap this target configures for `read_gzip_packed`.
const GZIP_LIMIT: usize = 1 << 20;

/// `gzip_packed` bodies: (1) arbitrary bytes as the body (TL `bytes` holding
/// the gzip stream), inflated within a 1 MiB cap; (2) arbitrary bytes boxed
/// as `gzip_packed` through the generated decoders; (3) round trip: the
/// deflated input inflates back to exactly the input.
pub fn gzip_packed(data: &[u8]) {
    let limits = Limits {
        max_depth: 64,
        max_gzip_size: GZIP_LIMIT,
        max_inflated_total: GZIP_LIMIT,
    };
    let mut r = Reader::with_limits(data, limits);
    let _ = mtproto_tl::read_gzip_packed(&mut r, |inner| Ok(inner.take_rest().to_vec()));

    let mut boxed = mtproto_tl::GZIP_PACKED_ID.to_le_bytes().to_vec();
    boxed.extend_from_slice(data);
    let _ = mtproto_tl::api::decode_and_reencode(&boxed);
    let _ = mtproto_tl::mtproto::decode_and_reencode(&boxed);

    let mut body = Vec::new();
    mtproto_tl::write_tl_bytes(&mtproto_tl::deflate(data), &mut body);
    let mut r = Reader::with_limits(&body, limits);
    let back = mtproto_tl::read_gzip_packed(&mut r, |inner| Ok(inner.take_rest().to_vec()));
    assert_eq!(
        back.as_deref().ok(),
        Some(data),
        "deflate/inflate round trip"
    );
}
