//! Diffie-Hellman for the auth-key handshake (auth_key.html steps 5-9 and
//! security_guidelines.html): `dh_prime` and `g` validation, `g_a`/`g_b` range
//! checks, constant-time `pow(x, secret) mod dh_prime`, the temporary AES key
//! and IV from the nonces, `server_salt`, and the `SHA1(data) + data + padding`
//! payloads encrypted with them (`server_DH_inner_data`, `client_DH_inner_data`).

use crate::ct_eq;
use crate::ige;
use crate::modexp::{self, Mont};
use crate::packet::{AesKeyIv, AuthKey};
use crate::prime;
use crate::sha::sha1;
use core::fmt;
use num_bigint::BigUint;
use num_integer::Integer;
use num_traits::One;
use rand::{CryptoRng, RngCore};

/// The 2048-bit safe prime Telegram currently uses (auth_key.html, "current value of dh_prime").
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

/// Default Miller-Rabin rounds when verifying an unknown `dh_prime`
/// ("one might initially run only 15 Miller--Rabin iterations").
pub const DEFAULT_MR_ROUNDS: usize = 15;

/// DH errors, one per violated rule. No variant carries secret data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DhError {
    /// g is not one of 2, 3, 4, 5, 6, 7.
    GOutOfRange {
        /// The value given.
        g: i32,
    },
    /// g fails the quadratic-residue condition on `p mod 4g`.
    GNotQuadraticResidue {
        /// The value given.
        g: i32,
    },
    /// dh_prime is not a 2048-bit number (2^2047 < p < 2^2048).
    PrimeWrongSize,
    /// dh_prime is not prime.
    PrimeNotPrime,
    /// (dh_prime - 1) / 2 is not prime, so dh_prime is not a safe prime.
    PrimeNotSafe,
    /// g_a is not in (1, dh_prime - 1).
    GaOutOfRange,
    /// g_a is not in (2^1984, dh_prime - 2^1984).
    GaUnsafe,
    /// g_b is not in (1, dh_prime - 1).
    GbOutOfRange,
    /// g_b is not in (2^1984, dh_prime - 2^1984).
    GbUnsafe,
    /// A secret exponent must be exactly 256 bytes.
    BadSecretLength,
    /// Encrypted payload length is zero or not a multiple of 16.
    EncryptedNotAligned {
        /// The length.
        len: usize,
    },
    /// Decrypted `answer_with_hash`: no split `SHA1(answer) + answer + 0..15 bytes` matches.
    AnswerHashMismatch,
    /// Padding for `SHA1(data) + data + padding` must be 0..=15 bytes giving a multiple of 16.
    BadPaddingLength {
        /// The given padding length.
        len: usize,
    },
}

impl fmt::Display for DhError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DhError::GOutOfRange { g } => write!(f, "g = {g} is not in 2..=7"),
            DhError::GNotQuadraticResidue { g } => {
                write!(f, "g = {g} is not a quadratic residue mod dh_prime")
            }
            DhError::PrimeWrongSize => f.write_str("dh_prime is not a 2048-bit number"),
            DhError::PrimeNotPrime => f.write_str("dh_prime is not prime"),
            DhError::PrimeNotSafe => f.write_str("(dh_prime - 1) / 2 is not prime"),
            DhError::GaOutOfRange => f.write_str("g_a is not in (1, dh_prime - 1)"),
            DhError::GaUnsafe => f.write_str("g_a is not in (2^1984, dh_prime - 2^1984)"),
            DhError::GbOutOfRange => f.write_str("g_b is not in (1, dh_prime - 1)"),
            DhError::GbUnsafe => f.write_str("g_b is not in (2^1984, dh_prime - 2^1984)"),
            DhError::BadSecretLength => f.write_str("DH secret must be 256 bytes"),
            DhError::EncryptedNotAligned { len } => {
                write!(
                    f,
                    "encrypted payload of {len} bytes is not a multiple of 16"
                )
            }
            DhError::AnswerHashMismatch => {
                f.write_str("SHA1 of the decrypted payload does not match")
            }
            DhError::BadPaddingLength { len } => write!(f, "padding of {len} bytes is invalid"),
        }
    }
}

impl std::error::Error for DhError {}

/// True if `dh_prime` is the known Telegram prime (leading zero bytes ignored).
pub fn is_known_prime(dh_prime: &[u8]) -> bool {
    trim(dh_prime) == TELEGRAM_DH_PRIME
}

fn trim(b: &[u8]) -> &[u8] {
    let skip = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    b.get(skip..).unwrap_or(&[])
}

/// Checks `g` against `dh_prime`: the range 2..=7 and the quadratic-residue condition.
pub fn check_g(g: i32, dh_prime: &[u8]) -> Result<(), DhError> {
    // "Since g is always equal to 2, 3, 4, 5, 6 or 7"
    if !(2..=7).contains(&g) {
        return Err(DhError::GOutOfRange { g });
    }
    let p = BigUint::from_bytes_be(dh_prime);
    let m = |k: u32| -> u32 {
        let r = &p % k;
        r.to_u32_digits().first().copied().unwrap_or(0)
    };
    // "p mod 8 = 7 for g = 2; p mod 3 = 2 for g = 3; no extra condition for g = 4;
    // p mod 5 = 1 or 4 for g = 5; p mod 24 = 19 or 23 for g = 6; and p mod 7 = 3, 5 or 6
    // for g = 7."
    let ok = match g {
        2 => m(8) == 7,
        3 => m(3) == 2,
        4 => true,
        5 => matches!(m(5), 1 | 4),
        6 => matches!(m(24), 19 | 23),
        _ => matches!(m(7), 3 | 5 | 6),
    };
    if ok {
        Ok(())
    } else {
        Err(DhError::GNotQuadraticResidue { g })
    }
}

/// Checks that `dh_prime` is a 2048-bit safe prime: the known Telegram prime is
/// accepted at once; any other value must pass `rounds` Miller-Rabin rounds for
/// `(p - 1) / 2` (random bases from `rng`) and then a Pocklington test for `p`
/// (base 2: if q = (p-1)/2 is prime and q > sqrt(p), `2^(p-1) = 1 mod p` and
/// gcd(2^2 - 1, p) = 1 prove p prime).
pub fn check_dh_prime<R: RngCore + CryptoRng>(
    dh_prime: &[u8],
    rounds: usize,
    rng: &mut R,
) -> Result<(), DhError> {
    let p = BigUint::from_bytes_be(dh_prime);
    // "check whether p = dh_prime is a safe 2048-bit prime (meaning that both p and (p-1)/2
    // are prime, and that 2^2047 < p < 2^2048)"
    if p.bits() != 2048 {
        return Err(DhError::PrimeWrongSize);
    }
    // "embed into the client application code a small table with some known "good" couples
    // (g,p) (or just known safe primes p ...)"
    if is_known_prime(dh_prime) {
        return Ok(());
    }
    let one = BigUint::one();
    if p.is_even() || prime::has_small_factor(&p) {
        return Err(DhError::PrimeNotPrime);
    }
    let p_minus_1 = &p - &one;
    // Fermat base 2 first: rejects composite p before the expensive test of q.
    let two = BigUint::from(2u32);
    if two.modpow(&p_minus_1, &p) != one {
        return Err(DhError::PrimeNotPrime);
    }
    let q = &p_minus_1 >> 1;
    if !prime::is_probable_prime(&q, rounds, rng) {
        return Err(DhError::PrimeNotSafe);
    }
    // Pocklington with q prime, q > sqrt(p): 2^(p-1) = 1 (checked above) and
    // gcd(2^((p-1)/q) - 1, p) = gcd(3, p) = 1 (no small factor) prove p prime.
    Ok(())
}

/// [`check_g`] and [`check_dh_prime`] with [`DEFAULT_MR_ROUNDS`].
pub fn check_dh_params<R: RngCore + CryptoRng>(
    g: i32,
    dh_prime: &[u8],
    rng: &mut R,
) -> Result<(), DhError> {
    check_g(g, dh_prime)?;
    check_dh_prime(dh_prime, DEFAULT_MR_ROUNDS, rng)
}

fn check_range(x: &[u8], dh_prime: &[u8]) -> (bool, bool) {
    let x = BigUint::from_bytes_be(x);
    let p = BigUint::from_bytes_be(dh_prime);
    let one = BigUint::one();
    // "both sides are to check that g, g_a and g_b are greater than 1 and less than
    // dh_prime - 1"
    let basic = x > one && p > one && x < &p - &one;
    // "We recommend checking that g_a and g_b are between 2^{2048-64} and
    // dh_prime - 2^{2048-64} as well."
    let bound = one << (2048 - 64);
    let safe = basic && x > bound && p > bound && x < &p - &bound;
    (basic, safe)
}

/// Checks `g_a` (received from the server) against `dh_prime`.
pub fn check_g_a(g_a: &[u8], dh_prime: &[u8]) -> Result<(), DhError> {
    match check_range(g_a, dh_prime) {
        (false, _) => Err(DhError::GaOutOfRange),
        (true, false) => Err(DhError::GaUnsafe),
        _ => Ok(()),
    }
}

/// Checks `g_b` (received from the client, or computed by it) against `dh_prime`.
pub fn check_g_b(g_b: &[u8], dh_prime: &[u8]) -> Result<(), DhError> {
    match check_range(g_b, dh_prime) {
        (false, _) => Err(DhError::GbOutOfRange),
        (true, false) => Err(DhError::GbUnsafe),
        _ => Ok(()),
    }
}

/// A 2048-bit DH secret exponent (`a` on the server, `b` on the client).
/// `Debug` is redacted.
#[derive(Clone)]
pub struct DhSecret([u8; 256]);

impl fmt::Debug for DhSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DhSecret").finish_non_exhaustive()
    }
}

impl DhSecret {
    /// Draws 256 random bytes from `rng` ("random 2048-bit number b").
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut b = [0u8; 256];
        rng.fill_bytes(&mut b);
        DhSecret(b)
    }

    /// Wraps given bytes (for replaying a transcript).
    pub fn from_bytes(b: [u8; 256]) -> Self {
        DhSecret(b)
    }

    /// Like [`DhSecret::from_bytes`], from a slice of exactly 256 bytes.
    pub fn from_slice(b: &[u8]) -> Result<Self, DhError> {
        Ok(DhSecret(
            b.try_into().map_err(|_| DhError::BadSecretLength)?,
        ))
    }
}

/// `base^secret mod dh_prime` in constant time with respect to `secret`
/// (the private `modexp` module: Montgomery arithmetic, fixed 5-bit windows, masked
/// table reads). `dh_prime` must be an odd 2048-bit number, `base` at most
/// 256 bytes (it is public, and is reduced modulo `dh_prime` first).
pub fn pow_secret(base: &[u8], secret: &DhSecret, dh_prime: &[u8]) -> Result<[u8; 256], DhError> {
    let (m, p) = prime_arith(dh_prime)?;
    let base = trim(base);
    if base.len() > 256 {
        return Err(DhError::GaOutOfRange);
    }
    let b = modexp::reduce_public::<32>(&BigUint::from_bytes_be(base), &p)
        .ok_or(DhError::PrimeWrongSize)?;
    let e = modexp::limbs_from_be::<32>(&secret.0).ok_or(DhError::BadSecretLength)?;
    let mut out = [0u8; 256];
    modexp::limbs_to_be(&m.pow(&b, &e), &mut out);
    Ok(out)
}

/// Montgomery arithmetic modulo `dh_prime`, which must be odd and 2048 bits.
fn prime_arith(dh_prime: &[u8]) -> Result<(Mont<32>, BigUint), DhError> {
    let p = trim(dh_prime);
    if p.len() != 256 || p.last().is_none_or(|b| b & 1 == 0) {
        return Err(DhError::PrimeWrongSize);
    }
    let p = BigUint::from_bytes_be(p);
    let m = Mont::<32>::new(&p).ok_or(DhError::PrimeWrongSize)?;
    Ok((m, p))
}

/// `g^secret mod dh_prime`: the client's `g_b` (or the server's `g_a`), checked
/// against the safety range before it is returned.
pub fn public_value(g: i32, secret: &DhSecret, dh_prime: &[u8]) -> Result<[u8; 256], DhError> {
    let g_byte = u8::try_from(g)
        .ok()
        .filter(|g| (2..=7).contains(g))
        .ok_or(DhError::GOutOfRange { g })?;
    // The base is small and public: a square and a cheap multiplication by
    // g per bit of the secret (constant time in the secret).
    let (m, _) = prime_arith(dh_prime)?;
    let e = modexp::limbs_from_be::<32>(&secret.0).ok_or(DhError::BadSecretLength)?;
    let r = m
        .pow_small_base(u64::from(g_byte), &e)
        .ok_or(DhError::GOutOfRange { g })?;
    let mut v = [0u8; 256];
    modexp::limbs_to_be(&r, &mut v);
    check_g_b(&v, dh_prime)?;
    Ok(v)
}

/// The client's two exponentiations with `b`, [`public_value`] (`g_b`) and
/// [`compute_auth_key`] (`g_a^b`), on two threads when the machine has
/// more than one core: they are independent, and the server waits for both,
/// so this halves the client's share of a handshake's latency (not its CPU
/// time). Same results, same errors as the two calls one after the other.
pub fn client_values(
    g: i32,
    g_a: &[u8],
    b: &DhSecret,
    dh_prime: &[u8],
) -> Result<([u8; 256], AuthKey), DhError> {
    let parallel = std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
    if !parallel {
        return Ok((
            public_value(g, b, dh_prime)?,
            compute_auth_key(g_a, b, dh_prime)?,
        ));
    }
    std::thread::scope(|s| {
        // A thread that cannot be made (the system's limit) is no error:
        // the two are then computed one after the other.
        let spawned = std::thread::Builder::new()
            .name("mtproto-dh".into())
            .spawn_scoped(s, || public_value(g, b, dh_prime));
        let key = compute_auth_key(g_a, b, dh_prime);
        let g_b = match spawned {
            // public_value does not panic; were it to, the answer would be
            // the range error its result is checked by.
            Ok(h) => h.join().unwrap_or(Err(DhError::GaOutOfRange))?,
            Err(_) => public_value(g, b, dh_prime)?,
        };
        Ok((g_b, key?))
    })
}

/// The shared key `peer^secret mod dh_prime` as an [`AuthKey`]; on the client
/// `peer = g_a` ("on the client as (g_a)^b mod dh_prime"), on the server `peer = g_b`.
/// `peer` is range-checked first (reported as a `g_a` error).
pub fn compute_auth_key(
    peer: &[u8],
    secret: &DhSecret,
    dh_prime: &[u8],
) -> Result<AuthKey, DhError> {
    check_g_a(peer, dh_prime)?;
    Ok(AuthKey::from_bytes(pow_secret(peer, secret, dh_prime)?))
}

/// `tmp_aes_key` and `tmp_aes_iv` from the nonces (auth_key.html step 6).
pub fn tmp_aes_key_iv(server_nonce: &[u8; 16], new_nonce: &[u8; 32]) -> AesKeyIv {
    let a = sha1(&[new_nonce, server_nonce]);
    let b = sha1(&[server_nonce, new_nonce]);
    let c = sha1(&[new_nonce, new_nonce]);
    let mut key = [0u8; 32];
    let mut iv = [0u8; 32];
    // "tmp_aes_key := SHA1(new_nonce + server_nonce) + substr (SHA1(server_nonce + new_nonce), 0, 12);"
    key[..20].copy_from_slice(&a);
    key[20..].copy_from_slice(&b[..12]);
    // "tmp_aes_iv := substr (SHA1(server_nonce + new_nonce), 12, 8) + SHA1(new_nonce + new_nonce)
    // + substr (new_nonce, 0, 4);"
    iv[..8].copy_from_slice(&b[12..20]);
    iv[8..28].copy_from_slice(&c);
    iv[28..].copy_from_slice(&new_nonce[..4]);
    AesKeyIv { key, iv }
}

/// The first `server_salt` bytes: `substr(new_nonce, 0, 8) XOR substr(server_nonce, 0, 8)`.
pub fn server_salt_bytes(new_nonce: &[u8; 32], server_nonce: &[u8; 16]) -> [u8; 8] {
    core::array::from_fn(|i| new_nonce[i] ^ server_nonce[i])
}

/// The first `server_salt` as the TL `long` (bytes read little-endian).
pub fn server_salt(new_nonce: &[u8; 32], server_nonce: &[u8; 16]) -> i64 {
    i64::from_le_bytes(server_salt_bytes(new_nonce, server_nonce))
}

/// Builds and encrypts `SHA1(data) + data + padding` with the temporary key
/// (the server's `encrypted_answer`, the client's `set_client_DH_params.encrypted_data`).
/// `padding` must be 0..=15 bytes and make the length a multiple of 16.
pub fn encrypt_with_hash(data: &[u8], padding: &[u8], tmp: &AesKeyIv) -> Result<Vec<u8>, DhError> {
    let total = 20usize
        .saturating_add(data.len())
        .saturating_add(padding.len());
    // "data_with_hash := SHA1(data) + data + (0-15 random bytes); such that length be divisible by 16;"
    if padding.len() > 15 || !total.is_multiple_of(16) {
        return Err(DhError::BadPaddingLength { len: padding.len() });
    }
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&sha1(&[data]));
    out.extend_from_slice(data);
    out.extend_from_slice(padding);
    ige::encrypt(&mut out, &tmp.key, &tmp.iv)
        .map_err(|_| DhError::EncryptedNotAligned { len: total })?;
    Ok(out)
}

/// [`encrypt_with_hash`] with the minimal padding drawn from `rng`.
pub fn encrypt_with_hash_rng<R: RngCore + CryptoRng>(
    data: &[u8],
    tmp: &AesKeyIv,
    rng: &mut R,
) -> Result<Vec<u8>, DhError> {
    let n = (16 - (20 + data.len()) % 16) % 16;
    let mut pad = [0u8; 16];
    let pad = pad.get_mut(..n).unwrap_or(&mut []);
    rng.fill_bytes(pad);
    encrypt_with_hash(data, pad, tmp)
}

/// Decrypts `SHA1(data) + data + (0..15 bytes)` and verifies the hash
/// (security_guidelines: "the first 20 bytes of answer_with_hash must be equal to SHA1 of
/// the remainder of the decrypted message without the padding random bytes").
/// Returns `data` (e.g. the serialized `server_DH_inner_data`).
pub fn decrypt_answer_with_hash(encrypted: &[u8], tmp: &AesKeyIv) -> Result<Vec<u8>, DhError> {
    let len = encrypted.len();
    if len < 32 || !len.is_multiple_of(16) {
        return Err(DhError::EncryptedNotAligned { len });
    }
    let mut buf = encrypted.to_vec();
    ige::decrypt(&mut buf, &tmp.key, &tmp.iv).map_err(|_| DhError::EncryptedNotAligned { len })?;
    let (hash, rest) = buf.split_at(20);
    // The padding is 0..15 bytes; the hash fixes the split.
    let found = (0..16usize).find_map(|pad| {
        let data = rest.get(..rest.len().checked_sub(pad)?)?;
        ct_eq(&sha1(&[data]), hash).then_some(data.len())
    });
    match found {
        Some(n) => {
            buf.truncate(20 + n);
            buf.drain(..20);
            Ok(buf)
        }
        None => Err(DhError::AnswerHashMismatch),
    }
}
