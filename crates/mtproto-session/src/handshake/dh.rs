//! Diffie-Hellman and hashing glue for the handshake.
//!
//! TODO(crypto): move to mtproto-crypto (`dh` module was not published yet
//! when this was written); switch the bodies to `mtproto_crypto::dh` once it lands.

use num_bigint::BigUint;

use mtproto_crypto::ige;
use mtproto_crypto::sha::sha1;

use super::error::{DhCheck, ErrorKind};

/// Telegram's current 2048-bit `dh_prime` (auth_key page, big-endian), a
/// known safe prime: "Another optimization is to embed into the client
/// application code a small table with some known "good" couples (g,p)".
pub const TELEGRAM_DH_PRIME: [u8; 256] = [
    0xc7, 0x1c, 0xae, 0xb9, 0xc6, 0xb1, 0xc9, 0x04, 0x8e, 0x6c, 0x52, 0x2f, 0x70, 0xf1, 0x3f, 0x73,
    0x98, 0x0d, 0x40, 0x23, 0x8e, 0x3e, 0x21, 0xc1, 0x49, 0x34, 0xd0, 0x37, 0x56, 0x3d, 0x93, 0x0f,
    0x48, 0x19, 0x8a, 0x0a, 0xa7, 0xc1, 0x40, 0x58, 0x22, 0x94, 0x93, 0xd2, 0x25, 0x30, 0xf4, 0xdb,
    0xfa, 0x33, 0x6f, 0x6e, 0x0a, 0xc9, 0x25, 0x13, 0x95, 0x43, 0xae, 0xd4, 0x4c, 0xce, 0x7c, 0x37,
    0x20, 0xfd, 0x51, 0xf6, 0x94, 0x58, 0x70, 0x5a, 0xc6, 0x8c, 0xd4, 0xfe, 0x6b, 0x6b, 0x13, 0xab,
    0xdc, 0x97, 0x46, 0x51, 0x29, 0x69, 0x32, 0x84, 0x54, 0xf1, 0x8f, 0xaf, 0x8c, 0x59, 0x5f, 0x64,
    0x24, 0x77, 0xfe, 0x96, 0xbb, 0x2a, 0x94, 0x1d, 0x5b, 0xcd, 0x1d, 0x4a, 0xc8, 0xcc, 0x49, 0x88,
    0x07, 0x08, 0xfa, 0x9b, 0x37, 0x8e, 0x3c, 0x4f, 0x3a, 0x90, 0x60, 0xbe, 0xe6, 0x7c, 0xf9, 0xa4,
    0xa4, 0xa6, 0x95, 0x81, 0x10, 0x51, 0x90, 0x7e, 0x16, 0x27, 0x53, 0xb5, 0x6b, 0x0f, 0x6b, 0x41,
    0x0d, 0xba, 0x74, 0xd8, 0xa8, 0x4b, 0x2a, 0x14, 0xb3, 0x14, 0x4e, 0x0e, 0xf1, 0x28, 0x47, 0x54,
    0xfd, 0x17, 0xed, 0x95, 0x0d, 0x59, 0x65, 0xb4, 0xb9, 0xdd, 0x46, 0x58, 0x2d, 0xb1, 0x17, 0x8d,
    0x16, 0x9c, 0x6b, 0xc4, 0x65, 0xb0, 0xd6, 0xff, 0x9c, 0xa3, 0x92, 0x8f, 0xef, 0x5b, 0x9a, 0xe4,
    0xe4, 0x18, 0xfc, 0x15, 0xe8, 0x3e, 0xbe, 0xa0, 0xf8, 0x7f, 0xa9, 0xff, 0x5e, 0xed, 0x70, 0x05,
    0x0d, 0xed, 0x28, 0x49, 0xf4, 0x7b, 0xf9, 0x59, 0xd9, 0x56, 0x85, 0x0c, 0xe9, 0x29, 0x85, 0x1f,
    0x0d, 0x81, 0x15, 0xf6, 0x35, 0xb1, 0x05, 0xee, 0x2e, 0x4e, 0x15, 0xd0, 0x4b, 0x24, 0x54, 0xbf,
    0x6f, 0x4f, 0xad, 0xf0, 0x34, 0xb1, 0x04, 0x03, 0x11, 0x9c, 0xd8, 0xe3, 0xb9, 0x2f, 0xcc, 0x5b,
];

/// `tmp_aes_key` and `tmp_aes_iv` from the nonces.
pub(crate) fn tmp_aes(new_nonce: &[u8; 32], server_nonce: &[u8; 16]) -> ([u8; 32], [u8; 32]) {
    // "tmp_aes_key := SHA1(new_nonce + server_nonce) + substr (SHA1(server_nonce + new_nonce), 0, 12);
    //  tmp_aes_iv := substr (SHA1(server_nonce + new_nonce), 12, 8) + SHA1(new_nonce + new_nonce)
    //  + substr (new_nonce, 0, 4);"
    let h1 = sha1(&[new_nonce, server_nonce]);
    let h2 = sha1(&[server_nonce, new_nonce]);
    let h3 = sha1(&[new_nonce, new_nonce]);
    let mut key = [0u8; 32];
    key[..20].copy_from_slice(&h1);
    key[20..].copy_from_slice(&h2[..12]);
    let mut iv = [0u8; 32];
    iv[..8].copy_from_slice(&h2[12..]);
    iv[8..28].copy_from_slice(&h3);
    iv[28..].copy_from_slice(&new_nonce[..4]);
    (key, iv)
}

/// `new_nonce_hash` of `server_DH_params_fail`: "128 lower-order bits of SHA1 (new_nonce)".
pub(crate) fn new_nonce_hash(new_nonce: &[u8; 32]) -> [u8; 16] {
    let h = sha1(&[new_nonce]);
    let mut out = [0u8; 16];
    out.copy_from_slice(&h[4..]);
    out
}

/// "server_salt is initially set to substr(new_nonce, 0, 8) XOR substr(server_nonce, 0, 8)".
pub(crate) fn initial_salt(new_nonce: &[u8; 32], server_nonce: &[u8; 16]) -> i64 {
    let mut s = [0u8; 8];
    for (i, b) in s.iter_mut().enumerate() {
        *b = new_nonce[i] ^ server_nonce[i];
    }
    i64::from_le_bytes(s)
}

/// `x` as exactly 256 big-endian bytes (left-padded); `None` if it is larger.
pub(crate) fn to_256(x: &BigUint) -> Option<[u8; 256]> {
    let b = x.to_bytes_be();
    let start = 256usize.checked_sub(b.len())?;
    let mut out = [0u8; 256];
    out[start..].copy_from_slice(&b);
    Some(out)
}

/// `base^exp mod modulus` as 256 big-endian bytes.
// TODO(crypto): use the constant-time exponentiation of mtproto-crypto for secret exponents.
pub(crate) fn mod_pow(base: &BigUint, exp_be: &[u8], modulus: &BigUint) -> Option<[u8; 256]> {
    if modulus.bits() == 0 {
        return None;
    }
    to_256(&base.modpow(&BigUint::from_bytes_be(exp_be), modulus))
}

/// Small primes for trial division before Miller-Rabin.
const SMALL_PRIMES: [u32; 24] = [
    3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97,
];

/// Miller-Rabin with fixed bases (the first `rounds` primes). Deterministic, so
/// a transcript never depends on extra randomness. "one might initially run
/// only 15 Miller--Rabin iterations for verifying primeness of p and (p - 1)/2
/// with error probability not exceeding one billionth".
fn is_probable_prime(n: &BigUint, rounds: usize) -> bool {
    let one = BigUint::from(1u32);
    let two = BigUint::from(2u32);
    if n < &two {
        return false;
    }
    for &sp in SMALL_PRIMES.iter() {
        let spb = BigUint::from(sp);
        if n == &spb {
            return true;
        }
        if (n % &spb).bits() == 0 {
            return false;
        }
    }
    if !n.bit(0) {
        return n == &two;
    }
    let n1 = n - &one;
    let s = n1.trailing_zeros().unwrap_or(0);
    let d = &n1 >> s;
    'bases: for &a in [2u32, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47]
        .iter()
        .take(rounds)
    {
        let mut x = BigUint::from(a).modpow(&d, n);
        if x == one || x == n1 {
            continue;
        }
        for _ in 1..s {
            x = x.modpow(&two, n);
            if x == n1 {
                continue 'bases;
            }
        }
        return false;
    }
    true
}

/// Checks `g` and `dh_prime` as the spec demands.
pub(crate) fn check_dh_params(g: i32, dh_prime: &[u8]) -> Result<(), DhCheck> {
    // "Since g is always equal to 2, 3, 4, 5, 6 or 7"
    if !(2..=7).contains(&g) {
        return Err(DhCheck::GeneratorUnsupported);
    }
    let p = BigUint::from_bytes_be(dh_prime);
    // "p = dh_prime is a safe 2048-bit prime (meaning that both p and (p-1)/2
    // are prime, and that 2^2047 < p < 2^2048)"
    if p.bits() != 2048 {
        return Err(DhCheck::PrimeSize);
    }
    // "g generates a cyclic subgroup of prime order (p-1)/2, i.e. is a quadratic
    // residue mod p [...] p mod 8 = 7 for g = 2; p mod 3 = 2 for g = 3; no extra
    // condition for g = 4; p mod 5 = 1 or 4 for g = 5; p mod 24 = 19 or 23 for
    // g = 6; and p mod 7 = 3, 5 or 6 for g = 7."
    let rem = |m: u32| -> u32 { (&p % m).to_u32_digits().first().copied().unwrap_or(0) };
    let qr = match g {
        2 => rem(8) == 7,
        3 => rem(3) == 2,
        4 => true,
        5 => matches!(rem(5), 1 | 4),
        6 => matches!(rem(24), 19 | 23),
        _ => matches!(rem(7), 3 | 5 | 6),
    };
    if !qr {
        return Err(DhCheck::GeneratorNotQuadraticResidue);
    }
    // "embed into the client application code a small table with some known
    // "good" couples (g,p) [...] so as to avoid doing such verification during
    // runtime altogether."
    if dh_prime == TELEGRAM_DH_PRIME.as_slice() {
        return Ok(());
    }
    let half = (&p - 1u32) >> 1u32;
    if !is_probable_prime(&half, 15) || !is_probable_prime(&p, 15) {
        return Err(DhCheck::PrimeNotSafe);
    }
    Ok(())
}

/// The range rule for `g_a`/`g_b`: "both sides are to check that g, g_a and
/// g_b are greater than 1 and less than dh_prime - 1. We recommend checking
/// that g_a and g_b are between 2^{2048-64} and dh_prime - 2^{2048-64} as well."
pub(crate) fn in_dh_range(g_x: &BigUint, dh_prime: &BigUint) -> bool {
    let one = BigUint::from(1u32);
    let bound = &one << (2048 - 64);
    if dh_prime <= &bound {
        return false;
    }
    let upper = dh_prime - &bound;
    g_x > &one && g_x < &(dh_prime - &one) && g_x >= &bound && g_x <= &upper
}

/// `SHA1(inner) + inner + padding`, padded to a multiple of 16 with a prefix
/// of `pad` (0..=15 bytes), then AES-256-IGE encrypted.
pub(crate) fn seal_with_hash(
    inner: &[u8],
    pad: &[u8; 16],
    key: &[u8; 32],
    iv: &[u8; 32],
) -> Vec<u8> {
    let mut buf = Vec::with_capacity(20 + inner.len() + 16);
    buf.extend_from_slice(&sha1(&[inner]));
    buf.extend_from_slice(inner);
    let need = (16 - buf.len() % 16) % 16;
    buf.extend_from_slice(&pad[..need]);
    // The length is a multiple of 16 by construction; ige only fails otherwise.
    let _ = ige::encrypt(&mut buf, key, iv);
    buf
}

/// Decrypts `enc` with AES-256-IGE, lets `parse` read the inner object from
/// the bytes after the 20-byte hash (it returns the object and its length),
/// checks "the first 20 bytes of answer_with_hash must be equal to SHA1 of
/// the remainder of the decrypted message without the padding random bytes",
/// and that the padding is 0..15 bytes.
pub(crate) fn open_with_hash<T>(
    enc: &[u8],
    key: &[u8; 32],
    iv: &[u8; 32],
    parse: impl FnOnce(&[u8]) -> Result<(T, usize), ErrorKind>,
) -> Result<T, ErrorKind> {
    if enc.is_empty() || enc.len() % 16 != 0 || enc.len() < 32 {
        return Err(ErrorKind::EncryptedLength { len: enc.len() });
    }
    let mut buf = enc.to_vec();
    ige::decrypt(&mut buf, key, iv).map_err(|_| ErrorKind::EncryptedLength { len: enc.len() })?;
    let (hash, rest) = buf.split_at(20);
    let (value, used) = parse(rest)?;
    let inner = rest.get(..used).ok_or(ErrorKind::BadAnswerHash)?;
    if sha1(&[inner]) != hash {
        return Err(ErrorKind::BadAnswerHash);
    }
    let pad = rest.len() - used;
    // "answer_with_hash := SHA1(answer) + answer + (0-15 random bytes)"
    if pad > 15 {
        return Err(ErrorKind::BadPadding { len: pad });
    }
    Ok(value)
}
