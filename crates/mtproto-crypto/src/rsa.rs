//! RSA for the MTProto handshake: key fingerprints, PEM loading, textbook RSA,
//! `RSA_PAD` (auth_key.html step 4.1) and its inverse, and the legacy
//! `SHA1(data) + data + padding` scheme (still used by Telethon 1.x).
//! Client side uses [`RsaPublicKey`]; server side uses `RsaPrivateKey`
//! (feature `server`).

#[path = "rsa_keys.rs"]
pub mod keys;
#[cfg(feature = "server")]
#[path = "rsa_private.rs"]
mod private;

#[cfg(feature = "server")]
pub use private::{legacy_unpad, rsa_pad_unpad, RsaPadPlaintext, RsaPrivateKey};

use crate::ige;
use crate::pem::{self, PemError};
use crate::sha::{sha1, sha256};
use core::fmt;
use num_bigint::BigUint;
use num_integer::Integer;
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
