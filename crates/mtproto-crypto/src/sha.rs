//! SHA-1 and SHA-256 helpers that hash a list of byte slices as one message
//! (no intermediate concatenation buffer).

use sha1::{Digest, Sha1};
use sha2::Sha256;

/// SHA-1 of the concatenation of `parts`.
pub fn sha1(parts: &[&[u8]]) -> [u8; 20] {
    let mut h = Sha1::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// SHA-256 of the concatenation of `parts`.
pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

type ShaBlock = sha2::digest::generic_array::GenericArray<u8, sha2::digest::consts::U64>;

const SHA256_IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// SHA-256 of `a || b` when the two fit into one block with the padding
/// (`a.len() + b.len() <= 55`), as one direct compression: the MTProto 2.0 KDF
/// hashes two 52-byte strings per packet, where the `Digest` buffering costs
/// about half as much again as the compression itself. Longer input falls
/// back to [`sha256`].
#[inline]
pub fn sha256_short(a: &[u8], b: &[u8]) -> [u8; 32] {
    let len = a.len() + b.len();
    if len > 55 {
        return sha256(&[a, b]);
    }
    let mut blk = ShaBlock::default();
    let (da, rest) = blk.split_at_mut(a.len());
    da.copy_from_slice(a);
    rest[..b.len()].copy_from_slice(b);
    // FIPS 180-4 padding: 0x80, zeros, 64-bit big-endian bit length.
    blk[len] = 0x80;
    blk[56..].copy_from_slice(&((len as u64) * 8).to_be_bytes());
    let mut state = SHA256_IV;
    sha2::compress256(&mut state, core::slice::from_ref(&blk));
    let mut out = [0u8; 32];
    for (o, w) in out.chunks_exact_mut(4).zip(state) {
        o.copy_from_slice(&w.to_be_bytes());
    }
    out
}

/// SHA-256 of `prefix || body` through direct compressions (no `Digest`
/// buffering): the `msg_key` hash, `prefix` being the 32 auth_key bytes.
pub fn sha256_prefixed(prefix: &[u8; 32], body: &[u8]) -> [u8; 32] {
    // Long input: `Digest` hands all full blocks to one compression call, which
    // keeps the state in registers across blocks.
    if body.len() < 32 || body.len() > 1024 {
        return sha256(&[prefix, body]);
    }
    let (head, rest) = body.split_at(32);
    let mut state = SHA256_IV;
    let mut blk = ShaBlock::default();
    blk[..32].copy_from_slice(prefix);
    blk[32..].copy_from_slice(head);
    sha2::compress256(&mut state, core::slice::from_ref(&blk));
    let mut blocks = rest.chunks_exact(64);
    for b in &mut blocks {
        blk.copy_from_slice(b);
        sha2::compress256(&mut state, core::slice::from_ref(&blk));
    }
    let tail = blocks.remainder();
    let bits = (body.len() as u64).wrapping_add(32).wrapping_mul(8);
    // FIPS 180-4 padding: 0x80, zeros, 64-bit big-endian bit length
    // (tail.len() < 64, so the 0x80 always fits in this block).
    let mut last = [0u8; 128];
    last[..tail.len()].copy_from_slice(tail);
    last[tail.len()] = 0x80;
    let end = if tail.len() < 56 { 64 } else { 128 };
    last[end - 8..end].copy_from_slice(&bits.to_be_bytes());
    for b in last[..end].chunks_exact(64) {
        blk.copy_from_slice(b);
        sha2::compress256(&mut state, core::slice::from_ref(&blk));
    }
    let mut out = [0u8; 32];
    for (o, w) in out.chunks_exact_mut(4).zip(state) {
        o.copy_from_slice(&w.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_short_matches_sha256_at_every_length_and_split() {
        let data: Vec<u8> = (0..80u32).map(|i| ((i * 31 + 7) & 0xff) as u8).collect();
        for len in 0..data.len() {
            let want: [u8; 32] = Sha256::digest(&data[..len]).into();
            for split in [0, 1, len / 3, len / 2, len.saturating_sub(1), len] {
                let (a, b) = data[..len].split_at(split.min(len));
                assert_eq!(sha256_short(a, b), want, "len {len} split {split}");
            }
        }
        let mut prefix = [0u8; 32];
        for (b, i) in prefix.iter_mut().zip(0u8..) {
            *b = i ^ 0x5a;
        }
        let long: Vec<u8> = (0..700u32).map(|i| ((i * 13 + 1) & 0xff) as u8).collect();
        for len in 0..long.len() {
            let want: [u8; 32] = Sha256::new()
                .chain_update(prefix)
                .chain_update(&long[..len])
                .finalize()
                .into();
            assert_eq!(sha256_prefixed(&prefix, &long[..len]), want, "len {len}");
        }
        // FIPS 180 "abc".
        assert_eq!(
            hex::encode(sha256_short(b"a", b"bc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn sha_known_answers() {
        // FIPS 180 "abc" examples, split across parts to exercise incremental hashing.
        assert_eq!(
            hex::encode(sha1(&[b"a", b"bc"])),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex::encode(sha256(&[b"ab", b"", b"c"])),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
