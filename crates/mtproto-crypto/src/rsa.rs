//! RSA for the MTProto handshake: key fingerprints, PEM loading, textbook RSA,
//! `RSA_PAD` (auth_key.html step 4.1) and its inverse, and the legacy
//! `SHA1(data) + data + padding` scheme (still used by Telethon 1.x).
//! Client side uses [`RsaPublicKey`]; server side uses [`RsaPrivateKey`].

#[path = "rsa_keys.rs"]
pub mod keys;

use crate::ct_eq;
use crate::ige;
use crate::modexp::{self, Mont};
use crate::pem::{self, PemError};
use crate::prime;
use crate::sha::{sha1, sha256};
use core::fmt;
use num_bigint::BigUint;
use num_integer::Integer;
use num_traits::One;
use rand::{CryptoRng, RngCore};

/// Modulus size required by `RSA_PAD` and the private-key operations (2048 bits).
pub const RSA_LEN: usize = 256;
/// Maximum `data` length for `RSA_PAD` ("One has to check that data is not longer than 144 bytes").
pub const RSA_PAD_MAX_DATA: usize = 144;
/// Maximum `data` length for the legacy scheme (255 - 20 bytes of SHA-1).
pub const LEGACY_MAX_DATA: usize = 235;
/// `RSA_PAD` gives up after this many `temp_key` attempts (each fails with probability < 1/2
/// for a 2048-bit modulus with the top bit set).
pub const RSA_PAD_MAX_ATTEMPTS: usize = 256;

/// RSA errors. No variant carries secret data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsaError {
    /// PEM/DER could not be read.
    Pem(PemError),
    /// The modulus is even, zero, or not of the size this operation needs.
    BadModulus,
    /// The public exponent is invalid (even or < 3).
    BadExponent,
    /// Input to a raw RSA operation is not smaller than the modulus (or too long).
    InputOutOfRange,
    /// `RSA_PAD` data longer than 144 bytes, or legacy data longer than 235 bytes.
    DataTooLong {
        /// The given length.
        len: usize,
    },
    /// `RSA_PAD` random padding has the wrong length (must be 192 - data.len()).
    BadPaddingLength {
        /// The given length.
        len: usize,
    },
    /// No `temp_key` gave a value below the modulus within [`RSA_PAD_MAX_ATTEMPTS`].
    TooManyAttempts,
    /// `RSA_PAD` inverse: the SHA-256 of `temp_key + data_with_padding` did not match.
    RsaPadHashMismatch,
    /// Legacy inverse: no prefix of the data matches the leading SHA-1.
    LegacyHashMismatch,
    /// Key generation or loading produced inconsistent parameters.
    BadPrivateKey,
}

impl fmt::Display for RsaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RsaError::Pem(e) => write!(f, "RSA key: {e}"),
            RsaError::BadModulus => f.write_str("invalid RSA modulus"),
            RsaError::BadExponent => f.write_str("invalid RSA public exponent"),
            RsaError::InputOutOfRange => f.write_str("RSA input is not below the modulus"),
            RsaError::DataTooLong { len } => write!(f, "data of {len} bytes is too long"),
            RsaError::BadPaddingLength { len } => write!(f, "padding of {len} bytes is wrong"),
            RsaError::TooManyAttempts => f.write_str("RSA_PAD: too many temp_key attempts"),
            RsaError::RsaPadHashMismatch => f.write_str("RSA_PAD: hash mismatch"),
            RsaError::LegacyHashMismatch => f.write_str("legacy RSA: SHA-1 mismatch"),
            RsaError::BadPrivateKey => f.write_str("invalid RSA private key"),
        }
    }
}

impl std::error::Error for RsaError {}

impl From<PemError> for RsaError {
    fn from(e: PemError) -> Self {
        RsaError::Pem(e)
    }
}

/// TL `bytes` serialization: 1-byte length (< 254) or 0xfe + 3-byte LE length, then padding to 4.
///
/// Never panics. TL has no length for 2^24 bytes or more; such input (RSA
/// values are at most 1024 bytes) is written cut to 2^24 - 1 bytes with a
/// matching length, so the output stays well-formed.
pub fn tl_bytes(data: &[u8], out: &mut Vec<u8>) {
    let data = data.get(..(1 << 24) - 1).unwrap_or(data);
    let len = data.len();
    let header = match u8::try_from(len) {
        Ok(short) if short < 254 => {
            out.push(short);
            1
        }
        _ => {
            // len < 2^24: the low three bytes hold all of it.
            let [b0, b1, b2, _] = u32::try_from(len).unwrap_or(0x00ff_ffff).to_le_bytes();
            out.extend_from_slice(&[254, b0, b1, b2]);
            4
        }
    };
    out.extend_from_slice(data);
    let pad = (4 - (header + len) % 4) % 4;
    out.resize(out.len() + pad, 0);
}

/// Fingerprint bytes as on the wire: the last 8 bytes of
/// `SHA1(TL bytes(n) + TL bytes(e))` (`n`, `e` big-endian without leading zeros).
pub fn fingerprint_bytes(n_be: &[u8], e_be: &[u8]) -> [u8; 8] {
    // auth_key.html: "64 lower-order bits of SHA1 (server_public_key); the public key is
    // represented as a bare type rsa_public_key n:string e:string = RSAPublicKey"
    let mut tl = Vec::with_capacity(n_be.len() + e_be.len() + 8);
    tl_bytes(trim(n_be), &mut tl);
    tl_bytes(trim(e_be), &mut tl);
    let h = sha1(&[&tl]);
    let mut fp = [0u8; 8];
    fp.copy_from_slice(&h[12..20]);
    fp
}

fn trim(b: &[u8]) -> &[u8] {
    let skip = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    b.get(skip..).unwrap_or(&[])
}

fn to_fixed_be(x: &BigUint) -> Result<[u8; RSA_LEN], RsaError> {
    let b = x.to_bytes_be();
    let mut out = [0u8; RSA_LEN];
    let start = RSA_LEN
        .checked_sub(b.len())
        .ok_or(RsaError::InputOutOfRange)?;
    out[start..].copy_from_slice(&b);
    Ok(out)
}

/// The rule grammers uses when `key_aes_encrypted >= n`: the next `temp_key` is the
/// previous one plus one, as a 256-bit big-endian number (wrapping).
pub fn increment_temp_key(temp_key: &mut [u8; 32]) {
    for b in temp_key.iter_mut().rev() {
        let (v, carry) = b.overflowing_add(1);
        *b = v;
        if !carry {
            break;
        }
    }
}

/// An RSA public key with its MTProto fingerprint. Clones share one copy
/// (a client configuration holds several keys, and each connection's
/// handshake a clone of them).
#[derive(Clone, PartialEq, Eq)]
pub struct RsaPublicKey {
    inner: std::sync::Arc<PublicParts>,
}

/// What an [`RsaPublicKey`] holds.
#[derive(PartialEq, Eq)]
struct PublicParts {
    n: BigUint,
    e: BigUint,
    n_be: Vec<u8>,
    e_be: Vec<u8>,
    fingerprint: [u8; 8],
}

impl fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RsaPublicKey {{ bits: {}, fingerprint: {} }}",
            self.inner.n.bits(),
            self.fingerprint()
        )
    }
}

impl RsaPublicKey {
    /// Builds a key from big-endian `n` and `e`. `n` must be odd and at least
    /// 512 bits; `e` odd and >= 3.
    pub fn new(n_be: &[u8], e_be: &[u8]) -> Result<Self, RsaError> {
        let (n_be, e_be) = (trim(n_be), trim(e_be));
        let n = BigUint::from_bytes_be(n_be);
        let e = BigUint::from_bytes_be(e_be);
        if n.is_even() || n.bits() < 512 || n_be.len() > 1024 {
            return Err(RsaError::BadModulus);
        }
        if e.is_even() || e < BigUint::from(3u32) || e >= n {
            return Err(RsaError::BadExponent);
        }
        Ok(Self {
            inner: std::sync::Arc::new(PublicParts {
                fingerprint: fingerprint_bytes(n_be, e_be),
                n,
                e,
                n_be: n_be.to_vec(),
                e_be: e_be.to_vec(),
            }),
        })
    }

    /// Loads a PEM public key: PKCS#1 `RSA PUBLIC KEY` or SPKI `PUBLIC KEY`
    /// (a PKCS#1 `RSA PRIVATE KEY` yields its public half).
    pub fn from_pem(pem: &str) -> Result<Self, RsaError> {
        let (n, e) = pem::parse_public_pem(pem)?;
        Self::new(&n, &e)
    }

    /// The PKCS#1 `RSA PUBLIC KEY` PEM of this key.
    pub fn to_pkcs1_pem(&self) -> String {
        pem::pem_encode(
            "RSA PUBLIC KEY",
            &pem::der_uint_sequence(&[&self.inner.n_be, &self.inner.e_be]),
        )
    }

    /// Fingerprint as the TL `long` value (the wire bytes read little-endian).
    pub fn fingerprint(&self) -> i64 {
        i64::from_le_bytes(self.inner.fingerprint)
    }

    /// Fingerprint bytes as they appear on the wire.
    pub fn fingerprint_bytes(&self) -> [u8; 8] {
        self.inner.fingerprint
    }

    /// Modulus, big-endian, no leading zeros.
    pub fn n_be(&self) -> &[u8] {
        &self.inner.n_be
    }

    /// Public exponent, big-endian, no leading zeros.
    pub fn e_be(&self) -> &[u8] {
        &self.inner.e_be
    }

    /// Modulus size in bytes.
    pub fn len(&self) -> usize {
        self.inner.n_be.len()
    }

    /// Always false (a key has a modulus); present for API symmetry with `len`.
    pub fn is_empty(&self) -> bool {
        self.inner.n_be.is_empty()
    }

    /// Textbook RSA: `m^e mod n` for a big-endian `m < n`, output left-padded
    /// to the modulus length.
    pub fn encrypt_raw(&self, m_be: &[u8]) -> Result<Vec<u8>, RsaError> {
        let m = BigUint::from_bytes_be(m_be);
        if m >= self.inner.n {
            return Err(RsaError::InputOutOfRange);
        }
        let c = m.modpow(&self.inner.e, &self.inner.n).to_bytes_be();
        let mut out = vec![0u8; self.inner.n_be.len()];
        let start = out.len().saturating_sub(c.len());
        if let Some(dst) = out.get_mut(start..) {
            dst.copy_from_slice(c.get(..dst.len()).unwrap_or(&[]));
        }
        Ok(out)
    }

    fn require_2048(&self) -> Result<(), RsaError> {
        if self.inner.n_be.len() == RSA_LEN {
            Ok(())
        } else {
            Err(RsaError::BadModulus)
        }
    }

    /// `RSA_PAD(data, key)` with explicit randomness (replayable). `random_padding`
    /// must be exactly `192 - data.len()` bytes. `temp_key` is the first attempt;
    /// whenever `key_aes_encrypted >= n` the spec repeats with a new `temp_key`,
    /// which `next_temp_key` produces in place (pass [`increment_temp_key`] to
    /// reproduce grammers, or a closure drawing fresh random bytes as the spec says).
    pub fn rsa_pad_encrypt_with(
        &self,
        data: &[u8],
        random_padding: &[u8],
        temp_key: &[u8; 32],
        mut next_temp_key: impl FnMut(&mut [u8; 32]),
    ) -> Result<[u8; RSA_LEN], RsaError> {
        self.require_2048()?;
        // "One has to check that data is not longer than 144 bytes."
        if data.len() > RSA_PAD_MAX_DATA {
            return Err(RsaError::DataTooLong { len: data.len() });
        }
        // "data_with_padding := data + random_padding_bytes; -- where random_padding_bytes
        // are chosen so that the resulting length of data_with_padding is precisely 192 bytes"
        if data.len() + random_padding.len() != 192 {
            return Err(RsaError::BadPaddingLength {
                len: random_padding.len(),
            });
        }
        let mut data_with_padding = [0u8; 192];
        data_with_padding[..data.len()].copy_from_slice(data);
        data_with_padding[data.len()..].copy_from_slice(random_padding);
        let mut temp_key = *temp_key;
        for _ in 0..RSA_PAD_MAX_ATTEMPTS {
            let kae = rsa_pad_key_aes_encrypted(&data_with_padding, &temp_key);
            // "If key_aes_encrypted turns out to be greater than or equal to the RSA modulus,
            // the previous steps starting from the generation of new random temp_key are
            // repeated."
            if BigUint::from_bytes_be(&kae) < self.inner.n {
                // "encrypted_data := RSA(key_aes_encrypted, server_pubkey); ... stored as a
                // big-endian integer consisting of exactly 256 bytes"
                let c = BigUint::from_bytes_be(&kae).modpow(&self.inner.e, &self.inner.n);
                return to_fixed_be(&c);
            }
            next_temp_key(&mut temp_key);
        }
        Err(RsaError::TooManyAttempts)
    }

    /// `RSA_PAD(data, key)` drawing the padding and every `temp_key` from `rng`.
    pub fn rsa_pad_encrypt<R: RngCore + CryptoRng>(
        &self,
        data: &[u8],
        rng: &mut R,
    ) -> Result<[u8; RSA_LEN], RsaError> {
        if data.len() > RSA_PAD_MAX_DATA {
            return Err(RsaError::DataTooLong { len: data.len() });
        }
        let mut padding = [0u8; 192];
        let padding = padding.get_mut(data.len()..).unwrap_or(&mut []);
        rng.fill_bytes(padding);
        let mut temp_key = [0u8; 32];
        rng.fill_bytes(&mut temp_key);
        self.rsa_pad_encrypt_with(data, padding, &temp_key, |k| rng.fill_bytes(k))
    }

    /// Legacy (pre-`RSA_PAD`) encryption as done by Telethon 1.x:
    /// `RSA(SHA1(data) + data + random_padding)` where the padding fills the
    /// plaintext to 255 bytes (`random_padding.len() == 235 - data.len()`).
    pub fn legacy_encrypt_with(
        &self,
        data: &[u8],
        random_padding: &[u8],
    ) -> Result<[u8; RSA_LEN], RsaError> {
        self.require_2048()?;
        if data.len() > LEGACY_MAX_DATA {
            return Err(RsaError::DataTooLong { len: data.len() });
        }
        if data.len() + random_padding.len() != LEGACY_MAX_DATA {
            return Err(RsaError::BadPaddingLength {
                len: random_padding.len(),
            });
        }
        let mut m = [0u8; 255];
        m[..20].copy_from_slice(&sha1(&[data]));
        m[20..20 + data.len()].copy_from_slice(data);
        m[20 + data.len()..].copy_from_slice(random_padding);
        // 255 bytes < 2^2040 < n for a 2048-bit modulus
        let c = BigUint::from_bytes_be(&m).modpow(&self.inner.e, &self.inner.n);
        to_fixed_be(&c)
    }

    /// Legacy encryption with padding drawn from `rng`.
    pub fn legacy_encrypt<R: RngCore + CryptoRng>(
        &self,
        data: &[u8],
        rng: &mut R,
    ) -> Result<[u8; RSA_LEN], RsaError> {
        if data.len() > LEGACY_MAX_DATA {
            return Err(RsaError::DataTooLong { len: data.len() });
        }
        let mut pad = [0u8; LEGACY_MAX_DATA];
        let pad = pad.get_mut(data.len()..).unwrap_or(&mut []);
        rng.fill_bytes(pad);
        self.legacy_encrypt_with(data, pad)
    }
}

/// Steps of RSA_PAD up to `key_aes_encrypted` (256 bytes).
fn rsa_pad_key_aes_encrypted(data_with_padding: &[u8; 192], temp_key: &[u8; 32]) -> [u8; 256] {
    let mut data_with_hash = [0u8; 224];
    // "data_pad_reversed := BYTE_REVERSE(data_with_padding);"
    for (dst, src) in data_with_hash[..192]
        .iter_mut()
        .zip(data_with_padding.iter().rev())
    {
        *dst = *src;
    }
    // "data_with_hash := data_pad_reversed + SHA256(temp_key + data_with_padding);"
    data_with_hash[192..].copy_from_slice(&sha256(&[temp_key, data_with_padding]));
    // "aes_encrypted := AES256_IGE(data_with_hash, temp_key, 0); -- AES256-IGE encryption with zero IV."
    // 224 is a multiple of 16, so this cannot fail.
    let _ = ige::encrypt(&mut data_with_hash, temp_key, &[0u8; 32]);
    // "temp_key_xor := temp_key XOR SHA256(aes_encrypted);"
    let h = sha256(&[&data_with_hash]);
    let mut out = [0u8; 256];
    for i in 0..32 {
        out[i] = temp_key[i] ^ h[i];
    }
    // "key_aes_encrypted := temp_key_xor + aes_encrypted; -- exactly 256 bytes"
    out[32..].copy_from_slice(&data_with_hash);
    out
}

/// The result of the server-side `RSA_PAD` inverse (secret; `Debug` is redacted).
#[derive(Clone, PartialEq, Eq)]
pub struct RsaPadPlaintext {
    /// `data_with_padding` (192 bytes): the TL-serialized `p_q_inner_data*`
    /// followed by random padding. Its TL parse tells where `data` ends.
    pub data_with_padding: [u8; 192],
}

impl fmt::Debug for RsaPadPlaintext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The handshake plaintext (nonces included) is secret.
        f.debug_struct("RsaPadPlaintext").finish_non_exhaustive()
    }
}

/// An RSA private key (server side). Only 2048-bit moduli are supported.
/// `Debug` shows the public part only.
#[derive(Clone)]
pub struct RsaPrivateKey {
    public: RsaPublicKey,
    d: BigUint,
    p: BigUint,
    q: BigUint,
    /// The private exponentiation, set up once.
    op: PrivateOp,
    /// Arithmetic modulo `n`, for checking each result (`m^e = c`).
    n_mont: Box<Mont<32>>,
}

/// How `c^d mod n` is computed, chosen when the key is loaded.
#[derive(Clone)]
enum PrivateOp {
    /// The Chinese remainder theorem: two exponentiations of half the size
    /// (about a quarter of the work), for keys whose primes fit 1024 bits.
    Crt(Box<Crt>),
    /// One exponentiation by `d` modulo `n`: keys with uneven primes.
    Plain(Box<Mont<32>>, Box<[u64; 32]>),
}

/// The CRT parameters (all secret): the arithmetic modulo `p` and `q`,
/// `dp = d mod (p - 1)`, `dq = d mod (q - 1)`, `qinv = q^-1 mod p`.
#[derive(Clone)]
struct Crt {
    p: Mont<16>,
    q: Mont<16>,
    dp: [u64; 16],
    dq: [u64; 16],
    qinv: [u64; 16],
}

impl PrivateOp {
    fn new(n: &BigUint, d: &BigUint, p: &BigUint, q: &BigUint) -> Result<Self, RsaError> {
        let one = BigUint::one();
        let crt = || -> Option<Crt> {
            Some(Crt {
                p: Mont::new(p)?,
                q: Mont::new(q)?,
                dp: modexp::limbs(&(d % (p - &one)))?,
                dq: modexp::limbs(&(d % (q - &one)))?,
                qinv: modexp::limbs(&q.modinv(p)?)?,
            })
        };
        if let Some(c) = crt() {
            return Ok(Self::Crt(Box::new(c)));
        }
        let m = Mont::new(n).ok_or(RsaError::BadModulus)?;
        let d = modexp::limbs(d).ok_or(RsaError::BadPrivateKey)?;
        Ok(Self::Plain(Box::new(m), Box::new(d)))
    }

    /// `c^d mod n` for a public `c < n`, constant time in `d`, `p`, `q` and
    /// the result.
    fn apply(&self, c: &BigUint, p: &BigUint, q: &BigUint) -> Result<[u64; 32], RsaError> {
        match self {
            Self::Plain(m, d) => {
                let c = modexp::limbs::<32>(c).ok_or(RsaError::InputOutOfRange)?;
                Ok(m.pow(&c, &d[..]))
            }
            Self::Crt(k) => {
                // c is public: reducing it is allowed to take variable time.
                let cp = modexp::reduce_public::<16>(c, p).ok_or(RsaError::BadPrivateKey)?;
                let cq = modexp::reduce_public::<16>(c, q).ok_or(RsaError::BadPrivateKey)?;
                let m1 = k.p.pow(&cp, &k.dp);
                let m2 = k.q.pow(&cq, &k.dq);
                // h = (m1 - m2) qinv mod p, in the Montgomery domain of p:
                // (m1 R - m2 R) * qinv / R. m2 < q < 2^1024 = R, so to_mont
                // reduces it modulo p too.
                let diff = k.p.sub(&k.p.mont_in(&m1), &k.p.mont_in(&m2));
                let h = k.p.mul(&diff, &k.qinv);
                // m = m2 + h q < q + (p - 1) q = n.
                Ok(modexp::mul_add_16(&h, k.q.modulus(), &m2))
            }
        }
    }
}

impl fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // d, p and q are secret.
        f.debug_struct("RsaPrivateKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl RsaPrivateKey {
    fn from_parts(
        n: BigUint,
        e: BigUint,
        d: BigUint,
        p: BigUint,
        q: BigUint,
    ) -> Result<Self, RsaError> {
        let public = RsaPublicKey::new(&n.to_bytes_be(), &e.to_bytes_be())?;
        public.require_2048()?;
        let one = BigUint::one();
        // consistency: n = p q, e d = 1 mod lcm(p-1, q-1)
        if &p * &q != n || p <= one || q <= one {
            return Err(RsaError::BadPrivateKey);
        }
        let lambda = (&p - 1u32).lcm(&(&q - 1u32));
        if (&e * &d) % &lambda != one {
            return Err(RsaError::BadPrivateKey);
        }
        let op = PrivateOp::new(&n, &d, &p, &q)?;
        let n_mont = Box::new(Mont::new(&n).ok_or(RsaError::BadModulus)?);
        Ok(Self {
            public,
            d,
            p,
            q,
            op,
            n_mont,
        })
    }

    /// Loads a PKCS#1 `RSA PRIVATE KEY` PEM (2048-bit modulus, two primes).
    pub fn from_pkcs1_pem(pem: &str) -> Result<Self, RsaError> {
        let parts = pem::parse_private_pem(pem)?;
        Self::from_parts(
            BigUint::from_bytes_be(&parts.n),
            BigUint::from_bytes_be(&parts.e),
            BigUint::from_bytes_be(&parts.d),
            BigUint::from_bytes_be(&parts.p),
            BigUint::from_bytes_be(&parts.q),
        )
    }

    /// The PKCS#1 `RSA PRIVATE KEY` PEM of this key (secret!).
    pub fn to_pkcs1_pem(&self) -> String {
        let one = BigUint::one();
        let dp = &self.d % (&self.p - &one);
        let dq = &self.d % (&self.q - &one);
        let qinv = self.q.modinv(&self.p).unwrap_or_default();
        let ints: [Vec<u8>; 9] = [
            vec![],
            self.public.inner.n_be.clone(),
            self.public.inner.e_be.clone(),
            self.d.to_bytes_be(),
            self.p.to_bytes_be(),
            self.q.to_bytes_be(),
            dp.to_bytes_be(),
            dq.to_bytes_be(),
            qinv.to_bytes_be(),
        ];
        let refs: Vec<&[u8]> = ints.iter().map(|v| v.as_slice()).collect();
        pem::pem_encode("RSA PRIVATE KEY", &pem::der_uint_sequence(&refs))
    }

    /// Generates a 2048-bit key with e = 65537 from `rng` (Miller-Rabin prime search).
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Result<Self, RsaError> {
        let e = BigUint::from(65537u32);
        for _ in 0..64 {
            let p = random_prime_1024(&e, rng);
            let q = random_prime_1024(&e, rng);
            if p == q {
                continue;
            }
            let n = &p * &q;
            if n.bits() != 2048 {
                continue;
            }
            let lambda = (&p - 1u32).lcm(&(&q - 1u32));
            let Some(d) = e.modinv(&lambda) else { continue };
            return Self::from_parts(n, e, d, p, q);
        }
        Err(RsaError::BadPrivateKey)
    }

    /// The public half.
    pub fn public_key(&self) -> &RsaPublicKey {
        &self.public
    }

    /// Textbook RSA decryption `c^d mod n` in constant time ([`crate::modexp`],
    /// with the Chinese remainder theorem); `c` is big-endian and must be
    /// below `n`. Each result is checked (`m^e = c`) before it is returned,
    /// so a fault in the computation cannot leak a factor of `n`.
    pub fn decrypt_raw(&self, c_be: &[u8]) -> Result<[u8; RSA_LEN], RsaError> {
        let c = trim(c_be);
        let c_big = BigUint::from_bytes_be(c);
        if c.len() > RSA_LEN || c_big >= self.public.inner.n {
            return Err(RsaError::InputOutOfRange);
        }
        let m = self.op.apply(&c_big, &self.p, &self.q)?;
        // The check runs on the secret m in constant time too (a public
        // exponent: square and multiply over its bits).
        let e = modexp::limbs::<1>(&self.public.inner.e).ok_or(RsaError::BadPrivateKey)?;
        let back = self.n_mont.pow_public_exp(&m, e[0]);
        if modexp::limbs::<32>(&c_big) != Some(back) {
            return Err(RsaError::BadPrivateKey);
        }
        let mut out = [0u8; RSA_LEN];
        modexp::limbs_to_be(&m, &mut out);
        Ok(out)
    }

    /// Server side of `RSA_PAD`: decrypts `encrypted_data`, recovers `temp_key`,
    /// undoes AES-IGE, checks `SHA256(temp_key + data_with_padding)` (constant-time)
    /// and returns `data_with_padding`.
    pub fn rsa_pad_decrypt(&self, encrypted: &[u8]) -> Result<RsaPadPlaintext, RsaError> {
        if encrypted.len() != RSA_LEN {
            return Err(RsaError::InputOutOfRange);
        }
        rsa_pad_unpad(&self.decrypt_raw(encrypted)?)
    }

    /// Server side of the legacy scheme: decrypts, then finds the `data` whose
    /// SHA-1 is the leading 20 bytes (the plaintext must fit in 255 bytes).
    /// Returns `data` without hash and padding.
    pub fn legacy_decrypt(&self, encrypted: &[u8]) -> Result<Vec<u8>, RsaError> {
        if encrypted.len() != RSA_LEN {
            return Err(RsaError::InputOutOfRange);
        }
        legacy_unpad(&self.decrypt_raw(encrypted)?)
    }
}

/// The `RSA_PAD` inverse after the exponentiation: `kae` is
/// [`RsaPrivateKey::decrypt_raw`] of `encrypted_data`. Recovers `temp_key`,
/// undoes AES-IGE, checks `SHA256(temp_key + data_with_padding)` (constant-time)
/// and returns `data_with_padding`. With [`legacy_unpad`], a server tries both
/// schemes on one exponentiation.
pub fn rsa_pad_unpad(kae: &[u8; RSA_LEN]) -> Result<RsaPadPlaintext, RsaError> {
    let mut aes_encrypted = [0u8; 224];
    aes_encrypted.copy_from_slice(&kae[32..]);
    // temp_key = temp_key_xor XOR SHA256(aes_encrypted)
    let h = sha256(&[&aes_encrypted]);
    let mut temp_key = [0u8; 32];
    for i in 0..32 {
        temp_key[i] = kae[i] ^ h[i];
    }
    let _ = ige::decrypt(&mut aes_encrypted, &temp_key, &[0u8; 32]);
    let mut data_with_padding = [0u8; 192];
    for (dst, src) in data_with_padding
        .iter_mut()
        .zip(aes_encrypted[..192].iter().rev())
    {
        *dst = *src;
    }
    let want = sha256(&[&temp_key, &data_with_padding]);
    if !ct_eq(&want, &aes_encrypted[192..]) {
        return Err(RsaError::RsaPadHashMismatch);
    }
    Ok(RsaPadPlaintext { data_with_padding })
}

/// The legacy scheme's inverse after the exponentiation: `m` is
/// [`RsaPrivateKey::decrypt_raw`] of `encrypted_data`; finds the `data` whose
/// SHA-1 is the leading 20 bytes and returns it without hash and padding.
pub fn legacy_unpad(m: &[u8; RSA_LEN]) -> Result<Vec<u8>, RsaError> {
    if m[0] != 0 {
        return Err(RsaError::LegacyHashMismatch);
    }
    let hash = &m[1..21];
    let rest = &m[21..];
    // data is TL, so its length is a multiple of 4; the hash fixes it.
    (0..=LEGACY_MAX_DATA)
        .step_by(4)
        .find_map(|len| {
            let d = rest.get(..len)?;
            ct_eq(&sha1(&[d]), hash).then(|| d.to_vec())
        })
        .ok_or(RsaError::LegacyHashMismatch)
}

fn random_prime_1024<R: RngCore + CryptoRng>(e: &BigUint, rng: &mut R) -> BigUint {
    loop {
        let mut c = prime::random_bits(1024, rng);
        // top two bits set (so p*q has 2048 bits), odd
        c.set_bit(1023, true);
        c.set_bit(1022, true);
        c.set_bit(0, true);
        if prime::has_small_factor(&c) {
            continue;
        }
        if (&c - 1u32).gcd(e) != BigUint::one() {
            continue;
        }
        if prime::is_probable_prime(&c, 8, rng) {
            return c;
        }
    }
}

/// Telegram's production-DC public key (fingerprint `85fd64de851d9dd0`).
pub fn telegram_production_key() -> Result<RsaPublicKey, RsaError> {
    RsaPublicKey::from_pem(keys::PRODUCTION_KEY_PEM)
}

/// Telegram's test-DC public key (fingerprint `03268d20df9858b2`).
pub fn telegram_test_key() -> Result<RsaPublicKey, RsaError> {
    RsaPublicKey::from_pem(keys::TEST_KEY_PEM)
}

/// All built-in keys servers may offer: production, test DC, and the keys
/// Telethon ships (current and old). Excludes tdlib's unit-test key.
pub fn builtin_keys() -> Vec<RsaPublicKey> {
    [
        keys::PRODUCTION_KEY_PEM,
        keys::TEST_KEY_PEM,
        keys::TELETHON_1_KEY_PEM,
        keys::TELETHON_2_KEY_PEM,
        keys::TELETHON_3_KEY_PEM,
        keys::TELETHON_4_KEY_PEM,
        keys::TELETHON_OLD_1_KEY_PEM,
        keys::TELETHON_OLD_2_KEY_PEM,
        keys::TELETHON_OLD_3_KEY_PEM,
        keys::TELETHON_OLD_4_KEY_PEM,
    ]
    .iter()
    .filter_map(|p| RsaPublicKey::from_pem(p).ok())
    .collect()
}

/// The built-in key with this fingerprint (TL `long` value), if any.
pub fn find_builtin_key(fingerprint: i64) -> Option<RsaPublicKey> {
    builtin_keys()
        .into_iter()
        .find(|k| k.fingerprint() == fingerprint)
}
