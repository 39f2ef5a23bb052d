//! AES-IGE (Infinite Garble Extension), encryption and decryption in place.
//!
//! **Hazmat: IGE is not authenticated.** Flipping ciphertext bits garbles the
//! plaintext unpredictably but is not detected here; MTProto detects tampering
//! through `msg_key` (see [`crate::packet`]) or the SHA-1 / SHA-256 hashes carried
//! inside the handshake payloads.
//!
//! IV convention (Telegram and OpenSSL `AES_ige_encrypt`): the IV is 32 bytes;
//! `iv[0..16]` plays the role of the "previous ciphertext block" (XORed into the
//! first plaintext block before the block cipher) and `iv[16..32]` the role of
//! the "previous plaintext block" (XORed into the first block-cipher output):
//!
//! ```text
//! c_i = E(p_i ^ c_{i-1}) ^ p_{i-1}        p_i = D(c_i ^ p_{i-1}) ^ c_{i-1}
//! ```
//!
//! Both directions are inherently sequential, so the speed limit is the latency
//! of one AES block operation per 16 bytes. The loops run inside the `aes`
//! crate's backend closure (`encrypt_with_backend`), which `aes` 0.9 invokes
//! from a function compiled with the AES-NI target feature: the AES rounds are
//! inlined into the loop and the chaining block stays in a vector register
//! (no store-to-load round trip per block, no per-block CPU-feature dispatch).

use aes::cipher::consts::U16;
use aes::cipher::{
    BlockCipherDecBackend, BlockCipherDecClosure, BlockCipherDecrypt, BlockCipherEncBackend,
    BlockCipherEncClosure, BlockCipherEncrypt, BlockSizeUser, KeyInit,
};
use aes::{Aes128, Aes256, Aes256Dec, Aes256Enc};
use core::fmt;

/// AES block size in bytes.
pub const BLOCK_LEN: usize = 16;

/// Error returned by the IGE functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgeError {
    /// The data length is not a multiple of the 16-byte AES block.
    NotBlockAligned {
        /// The offending length.
        len: usize,
    },
}

impl fmt::Display for IgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IgeError::NotBlockAligned { len } => {
                write!(f, "AES-IGE data length {len} is not a multiple of 16")
            }
        }
    }
}

impl std::error::Error for IgeError {}

#[inline(always)]
fn check_len(len: usize) -> Result<(), IgeError> {
    if len.is_multiple_of(BLOCK_LEN) {
        Ok(())
    } else {
        Err(IgeError::NotBlockAligned { len })
    }
}

type Block = aes::Block;

/// `a ^= b` on 16 bytes; compiles to one SIMD XOR, so the block stays in a
/// vector register (no split stores on the AES latency chain).
#[inline(always)]
fn xor_into(a: &mut [u8], b: &[u8]) {
    for (x, y) in a.iter_mut().zip(b.iter()) {
        *x ^= *y;
    }
}

#[inline(always)]
fn iv_halves(iv: &[u8; 32]) -> (Block, Block) {
    let mut a = Block::default();
    let mut b = Block::default();
    a.copy_from_slice(&iv[..16]);
    b.copy_from_slice(&iv[16..]);
    (a, b)
}

/// The IGE encryption loop, run inside the cipher's backend closure: the `aes`
/// crate calls it from a function compiled with the AES-NI target feature, so
/// the whole loop (AES rounds included) is one inlined body and the chaining
/// block never leaves its vector register.
struct EncLoop<'a> {
    iv: &'a [u8; 32],
    data: &'a mut [u8],
}

impl BlockSizeUser for EncLoop<'_> {
    type BlockSize = U16;
}

impl BlockCipherEncClosure for EncLoop<'_> {
    #[inline(always)]
    fn call<B: BlockCipherEncBackend<BlockSize = U16>>(self, backend: &B) {
        let (mut prev_c, mut prev_p) = iv_halves(self.iv);
        for chunk in self.data.chunks_exact_mut(BLOCK_LEN) {
            // block = p_i ^ c_{i-1}; remember p_i
            let mut block = Block::default();
            block.copy_from_slice(chunk);
            let p = block;
            xor_into(&mut block, &prev_c);
            backend.encrypt_block((&mut block).into());
            // c_i = E(..) ^ p_{i-1}
            xor_into(&mut block, &prev_p);
            chunk.copy_from_slice(&block);
            prev_c = block;
            prev_p = p;
        }
    }
}

/// The IGE decryption loop (see [`EncLoop`]).
struct DecLoop<'a> {
    iv: &'a [u8; 32],
    data: &'a mut [u8],
}

impl BlockSizeUser for DecLoop<'_> {
    type BlockSize = U16;
}

impl BlockCipherDecClosure for DecLoop<'_> {
    #[inline(always)]
    fn call<B: BlockCipherDecBackend<BlockSize = U16>>(self, backend: &B) {
        let (mut prev_c, mut prev_p) = iv_halves(self.iv);
        for chunk in self.data.chunks_exact_mut(BLOCK_LEN) {
            // block = c_i ^ p_{i-1}; remember c_i
            let mut block = Block::default();
            block.copy_from_slice(chunk);
            let c = block;
            xor_into(&mut block, &prev_p);
            backend.decrypt_block((&mut block).into());
            // p_i = D(..) ^ c_{i-1}
            xor_into(&mut block, &prev_c);
            chunk.copy_from_slice(&block);
            prev_c = c;
            prev_p = block;
        }
    }
}

/// [`DecLoop`] that hands every decrypted `chunk`-byte piece to `f` while still
/// inside the backend closure (used to interleave decryption with hashing
/// without a backend dispatch per piece).
struct DecLoopThen<'a, F: FnMut(&[u8])> {
    iv: &'a [u8; 32],
    data: &'a mut [u8],
    chunk: usize,
    f: F,
}

impl<F: FnMut(&[u8])> BlockSizeUser for DecLoopThen<'_, F> {
    type BlockSize = U16;
}

impl<F: FnMut(&[u8])> BlockCipherDecClosure for DecLoopThen<'_, F> {
    #[inline(always)]
    fn call<B: BlockCipherDecBackend<BlockSize = U16>>(mut self, backend: &B) {
        let (mut prev_c, mut prev_p) = iv_halves(self.iv);
        for piece in self.data.chunks_mut(self.chunk.max(BLOCK_LEN)) {
            for chunk in piece.chunks_exact_mut(BLOCK_LEN) {
                let mut block = Block::default();
                block.copy_from_slice(chunk);
                let c = block;
                xor_into(&mut block, &prev_p);
                backend.decrypt_block((&mut block).into());
                xor_into(&mut block, &prev_c);
                chunk.copy_from_slice(&block);
                prev_c = c;
                prev_p = block;
            }
            (self.f)(piece);
        }
    }
}

/// IGE-decrypts `data` in place and calls `f` on every decrypted piece of
/// `chunk` bytes (the last one may be shorter), in order.
pub(crate) fn decrypt_with_then<C, F>(
    cipher: &C,
    iv: &[u8; 32],
    data: &mut [u8],
    chunk: usize,
    f: F,
) -> Result<(), IgeError>
where
    C: BlockCipherDecrypt<BlockSize = U16>,
    F: FnMut(&[u8]),
{
    check_len(data.len())?;
    cipher.decrypt_with_backend(DecLoopThen { iv, data, chunk, f });
    Ok(())
}

/// IGE-encrypts `data` in place with an already keyed block cipher
/// (any `BlockCipherEncrypt` with 16-byte blocks, e.g. [`aes::Aes256Enc`] or [`aes::Aes128`]).
///
/// Errors if `data.len()` is not a multiple of 16; `data` is then left untouched.
#[inline]
pub fn encrypt_with<C>(cipher: &C, iv: &[u8; 32], data: &mut [u8]) -> Result<(), IgeError>
where
    C: BlockCipherEncrypt<BlockSize = U16>,
{
    check_len(data.len())?;
    cipher.encrypt_with_backend(EncLoop { iv, data });
    Ok(())
}

/// IGE-decrypts `data` in place with an already keyed block cipher
/// (any `BlockCipherDecrypt` with 16-byte blocks, e.g. [`aes::Aes256Dec`] or [`aes::Aes128`]).
///
/// Errors if `data.len()` is not a multiple of 16; `data` is then left untouched.
#[inline]
pub fn decrypt_with<C>(cipher: &C, iv: &[u8; 32], data: &mut [u8]) -> Result<(), IgeError>
where
    C: BlockCipherDecrypt<BlockSize = U16>,
{
    check_len(data.len())?;
    cipher.decrypt_with_backend(DecLoop { iv, data });
    Ok(())
}

/// AES-256-IGE encryption in place (the MTProto cipher).
pub fn encrypt(data: &mut [u8], key: &[u8; 32], iv: &[u8; 32]) -> Result<(), IgeError> {
    check_len(data.len())?;
    encrypt_with(&Aes256Enc::new(key.into()), iv, data)
}

/// AES-256-IGE decryption in place (the MTProto cipher).
pub fn decrypt(data: &mut [u8], key: &[u8; 32], iv: &[u8; 32]) -> Result<(), IgeError> {
    check_len(data.len())?;
    decrypt_with(&Aes256Dec::new(key.into()), iv, data)
}

/// AES-128-IGE encryption in place (not used by MTProto; matches OpenSSL's test vectors).
pub fn encrypt_128(data: &mut [u8], key: &[u8; 16], iv: &[u8; 32]) -> Result<(), IgeError> {
    check_len(data.len())?;
    encrypt_with(&Aes128::new(key.into()), iv, data)
}

/// AES-128-IGE decryption in place (not used by MTProto; matches OpenSSL's test vectors).
pub fn decrypt_128(data: &mut [u8], key: &[u8; 16], iv: &[u8; 32]) -> Result<(), IgeError> {
    check_len(data.len())?;
    decrypt_with(&Aes128::new(key.into()), iv, data)
}

/// A keyed AES-256 context holding both key schedules, for callers that run
/// IGE repeatedly with the same key.
#[derive(Clone)]
pub struct Aes256Ige {
    cipher: Aes256,
}

impl fmt::Debug for Aes256Ige {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key schedule is secret.
        f.debug_struct("Aes256Ige").finish_non_exhaustive()
    }
}

impl Aes256Ige {
    /// Expands `key` into the encryption and decryption key schedules.
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: Aes256::new(key.into()),
        }
    }

    /// IGE-encrypts `data` in place.
    pub fn encrypt(&self, iv: &[u8; 32], data: &mut [u8]) -> Result<(), IgeError> {
        encrypt_with(&self.cipher, iv, data)
    }

    /// IGE-decrypts `data` in place.
    pub fn decrypt(&self, iv: &[u8; 32], data: &mut [u8]) -> Result<(), IgeError> {
        decrypt_with(&self.cipher, iv, data)
    }
}
