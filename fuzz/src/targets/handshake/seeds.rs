//! Seed inputs for the handshake targets, from the valid in-process run of
//! the fixture.

use mtproto_crypto::rsa::tl_bytes;
use mtproto_session::handshake::encode_plain;
use mtproto_tl::Reader;

use super::fixture;

/// Seed inputs derived from a valid in-process handshake (for the checked-in
/// corpus: `handshake_client`, `handshake_server`), as (target, input).
pub fn handshake_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let Some(f) = fixture() else {
        return Vec::new();
    };
    let [b1, r1, b2, r2, b3, r3] = &f.bodies;
    let with = |sel: u8, body: &[u8]| {
        let mut v = vec![sel];
        v.extend_from_slice(body);
        v
    };
    let framed = |sel: u8, msgs: &[&Vec<u8>]| {
        let mut v = vec![sel];
        for (i, m) in msgs.iter().enumerate() {
            let msg = encode_plain(0x6000_0000_0000_0001 + (i as i64) * 4, m);
            v.extend_from_slice(&u16::try_from(msg.len()).unwrap_or(0).to_le_bytes());
            v.extend_from_slice(&msg);
        }
        v
    };
    let mut out = vec![
        ("handshake_client", framed(0, &[r1, r2, r3])),
        ("handshake_client", with(1, r1)),
        ("handshake_client", with(2, r2)),
        ("handshake_client", with(4, r3)),
        ("handshake_server", framed(0, &[b1, b2, b3])),
        ("handshake_server", with(1, b1)),
        ("handshake_server", with(2, b2)),
        ("handshake_server", with(3, b3)),
    ];
    // Plaintext server_DH_inner_data / client_DH_inner_data, decrypted back
    // from the valid run; and a p_q_inner_data_dc built from the fixture.
    if let Ok(plain) = mtproto_crypto::dh::decrypt_answer_with_hash(
        r2.get(40..).map_or(&[][..], strip_tl_bytes),
        &f.tmp,
    ) {
        out.push(("handshake_client", with(3, &plain)));
    }
    if let Ok(plain) = mtproto_crypto::dh::decrypt_answer_with_hash(
        b3.get(36..).map_or(&[][..], strip_tl_bytes),
        &f.tmp,
    ) {
        out.push(("handshake_server", with(5, &plain)));
    }
    let (pq, p, q) = f.s1.pq();
    let mut inner = 0xa9f5_5f95_u32.to_le_bytes().to_vec();
    for x in [pq, p, q] {
        tl_bytes(&mtproto_crypto::pq::to_be_bytes_trimmed(x), &mut inner);
    }
    inner.extend_from_slice(&f.nonce);
    inner.extend_from_slice(&f.server_nonce);
    inner.extend_from_slice(&f.new_nonce);
    inner.extend_from_slice(&2i32.to_le_bytes());
    out.push(("handshake_server", with(4, &inner)));
    out
}

/// The content of a TL `bytes` field at the start of `b` (empty if malformed).
fn strip_tl_bytes(b: &[u8]) -> &[u8] {
    let mut r = Reader::new(b);
    r.read_tl_bytes().unwrap_or(&[])
}
