//! The server side of RSA (feature `server`): private keys (PKCS#1 PEM,
//! generation), constant-time decryption by the Chinese remainder theorem,
//! and the inverses of `RSA_PAD` and of the legacy scheme. A client never
//! needs any of it.

use super::{trim, RsaError, RsaPublicKey, LEGACY_MAX_DATA, RSA_LEN};
use crate::ct_eq;
use crate::ige;
use crate::modexp::{self, Mont};
use crate::pem;
use crate::prime;
use crate::sha::{sha1, sha256};
use core::fmt;
use num_bigint::BigUint;
use num_integer::Integer;
use num_traits::One;
use rand::{CryptoRng, RngCore};

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

    /// Textbook RSA decryption `c^d mod n` in constant time (the private `modexp` module,
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
