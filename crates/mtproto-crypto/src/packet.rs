//! MTProto 2.0 message encryption: [`AuthKey`], `msg_key`, the AES key/IV
//! derivation (KDF), and whole-packet encryption and decryption, for both
//! directions. The MTProto 1.0 `msg_key` and KDF are kept for
//! `bind_auth_key_inner` (PFS key binding).
//!
//! Packet layout (description.html, "Schematic Presentation of Messages"):
//!
//! ```text
//! auth_key_id:int64 | msg_key:int128 | encrypted_data
//! encrypted_data = AES-256-IGE(salt:int64 | session_id:int64 | message_id:int64 |
//!                  seq_no:int32 | message_data_length:int32 | message_data | padding 12..1024)
//! ```

use crate::ct_eq;
use crate::ige;
use crate::sha::{sha1, sha256_prefixed, sha256_short};
use aes::cipher::KeyInit;
use aes::{Aes256Dec, Aes256Enc};
use core::fmt;
use rand::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};

/// Length of an authorization key in bytes (2048 bits).
pub const AUTH_KEY_LEN: usize = 256;
/// Length of the external header: `auth_key_id` (8) + `msg_key` (16).
pub const HEADER_LEN: usize = 24;
/// Length of the internal header: salt, session_id, msg_id, seq_no, message_data_length.
pub const INNER_HEADER_LEN: usize = 32;
/// Minimum MTProto 2.0 padding.
pub const MIN_PADDING: usize = 12;
/// Maximum MTProto 2.0 padding.
pub const MAX_PADDING: usize = 1024;

/// Errors of packet encryption and decryption. No variant carries secret data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketError {
    /// An auth key must be exactly 256 bytes.
    WrongAuthKeyLength {
        /// The length that was given.
        len: usize,
    },
    /// The packet is shorter than the external header plus one AES block.
    PacketTooShort {
        /// The packet length.
        len: usize,
    },
    /// The encrypted part (or plaintext + padding) is not a multiple of 16 bytes.
    NotBlockAligned {
        /// The offending length.
        len: usize,
    },
    /// The packet's `auth_key_id` is not the id of the key used to decrypt it.
    AuthKeyIdMismatch,
    /// The `msg_key` does not match the SHA-256 of the decrypted plaintext.
    MsgKeyMismatch,
    /// The inner `message_data_length` is negative, not divisible by 4, or does
    /// not fit into the plaintext.
    InvalidMessageLength {
        /// The value of the length field.
        len: i32,
    },
    /// The padding is not between 12 and 1024 bytes.
    PaddingOutOfRange {
        /// The padding length.
        padding: usize,
    },
    /// A length computation overflowed.
    TooLong,
}

impl fmt::Display for PacketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongAuthKeyLength { len } => write!(f, "auth key must be 256 bytes, got {len}"),
            Self::PacketTooShort { len } => write!(f, "encrypted packet too short ({len} bytes)"),
            Self::NotBlockAligned { len } => {
                write!(f, "encrypted data length {len} is not a multiple of 16")
            }
            Self::AuthKeyIdMismatch => f.write_str("auth_key_id does not match the auth key"),
            Self::MsgKeyMismatch => f.write_str("msg_key check failed"),
            Self::InvalidMessageLength { len } => {
                write!(f, "invalid inner message_data_length {len}")
            }
            Self::PaddingOutOfRange { padding } => {
                write!(f, "padding of {padding} bytes is outside 12..=1024")
            }
            Self::TooLong => f.write_str("message too long"),
        }
    }
}

impl std::error::Error for PacketError {}

/// A 2048-bit MTProto authorization key with its precomputed `auth_key_id`
/// and `auth_key_aux_hash`. Its `Debug` output shows only the (public) id.
#[derive(Clone)]
pub struct AuthKey {
    data: [u8; AUTH_KEY_LEN],
    id: [u8; 8],
    aux_hash: [u8; 8],
}

impl fmt::Debug for AuthKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The id only (hex, wire order); the key and its aux hash are secret.
        f.debug_struct("AuthKey")
            .field("id", &format_args!("{:016x}", u64::from_be_bytes(self.id)))
            .finish_non_exhaustive()
    }
}

impl PartialEq for AuthKey {
    fn eq(&self, other: &Self) -> bool {
        ct_eq(&self.data, &other.data)
    }
}
impl Eq for AuthKey {}

impl AuthKey {
    /// Wraps 256 key bytes and computes the id and aux hash.
    pub fn from_bytes(data: [u8; AUTH_KEY_LEN]) -> Self {
        let h = sha1(&[&data]);
        let mut id = [0u8; 8];
        let mut aux_hash = [0u8; 8];
        // "auth_key_id: The 64 lower-order bits of the SHA1 hash of the authorization key"
        id.copy_from_slice(&h[12..20]);
        // "auth_key_aux_hash is the 64 higher-order bits of SHA1(auth_key)"
        aux_hash.copy_from_slice(&h[0..8]);
        Self { data, id, aux_hash }
    }

    /// Like [`AuthKey::from_bytes`], from a slice that must be exactly 256 bytes long.
    pub fn from_slice(data: &[u8]) -> Result<Self, PacketError> {
        let arr: [u8; AUTH_KEY_LEN] = data
            .try_into()
            .map_err(|_| PacketError::WrongAuthKeyLength { len: data.len() })?;
        Ok(Self::from_bytes(arr))
    }

    /// The raw key bytes (secret).
    pub fn as_bytes(&self) -> &[u8; AUTH_KEY_LEN] {
        &self.data
    }

    /// `auth_key_id` as it appears on the wire (`SHA1(auth_key)[12..20]`).
    pub fn id(&self) -> [u8; 8] {
        self.id
    }

    /// `auth_key_id` as a little-endian 64-bit integer (the TL `long` value).
    pub fn id_u64(&self) -> u64 {
        u64::from_le_bytes(self.id)
    }

    /// `auth_key_aux_hash` (`SHA1(auth_key)[0..8]`), as bytes.
    pub fn aux_hash(&self) -> [u8; 8] {
        self.aux_hash
    }

    /// `new_nonce_hashN = SHA1(new_nonce + [N] + auth_key_aux_hash)[4..20]`
    /// (N = 1 for dh_gen_ok, 2 for dh_gen_retry, 3 for dh_gen_fail).
    pub fn new_nonce_hash(&self, new_nonce: &[u8; 32], number: u8) -> [u8; 16] {
        // "new_nonce_hash1, new_nonce_hash2, and new_nonce_hash3 are obtained as the 128
        // lower-order bits of SHA1 of the byte string derived from the new_nonce string by
        // adding a single byte with the value of 1, 2, or 3, and followed by another 8 bytes
        // with auth_key_aux_hash."
        let h = sha1(&[new_nonce, &[number], &self.aux_hash]);
        let mut out = [0u8; 16];
        out.copy_from_slice(&h[4..20]);
        out
    }

    /// `substr(auth_key, 88 + x, 32)`, the `msg_key` hash prefix.
    #[inline]
    fn msg_key_prefix(&self, dir: Direction) -> &[u8; 32] {
        // Constant in-range offsets into the 256-byte array; never the fallback.
        let part = match dir {
            Direction::ClientToServer => self.data[88..120].try_into(),
            Direction::ServerToClient => self.data[96..128].try_into(),
        };
        part.unwrap_or(&[0u8; 32])
    }

    #[inline]
    fn part(&self, start: usize, len: usize) -> &[u8] {
        // Callers only pass constant in-range offsets (max 96 + 8 + 32 <= 256);
        // `get` keeps this panic-free regardless.
        self.data.get(start..start + len).unwrap_or(&[])
    }
}

/// Which way a packet travels; selects `x` in the KDF (0 client→server, 8 server→client).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Sent by the client (x = 0).
    ClientToServer,
    /// Sent by the server (x = 8).
    ServerToClient,
}

impl Direction {
    /// The KDF offset `x`.
    pub fn x(self) -> usize {
        match self {
            Direction::ClientToServer => 0,
            Direction::ServerToClient => 8,
        }
    }
}

/// An AES-256 key and IGE IV (secret; `Debug` is redacted).
#[derive(Clone, PartialEq, Eq)]
pub struct AesKeyIv {
    /// AES-256 key.
    pub key: [u8; 32],
    /// 32-byte IGE IV.
    pub iv: [u8; 32],
}

impl fmt::Debug for AesKeyIv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Both fields are secret.
        f.debug_struct("AesKeyIv").finish_non_exhaustive()
    }
}

/// MTProto 2.0 `msg_key` of a plaintext that already includes its padding.
pub fn msg_key(auth_key: &AuthKey, dir: Direction, plaintext_with_padding: &[u8]) -> [u8; 16] {
    // "msg_key_large = SHA256 (substr (auth_key, 88+x, 32) + plaintext + random_padding);"
    let large = sha256_prefixed(auth_key.msg_key_prefix(dir), plaintext_with_padding);
    msg_key_from_large(&large)
}

#[inline]
fn msg_key_from_large(large: &[u8; 32]) -> [u8; 16] {
    // "msg_key = substr (msg_key_large, 8, 16);"
    let mut k = [0u8; 16];
    k.copy_from_slice(&large[8..24]);
    k
}

/// MTProto 2.0 KDF: `aes_key` and `aes_iv` from `auth_key` and `msg_key`.
pub fn kdf(auth_key: &AuthKey, msg_key: &[u8; 16], dir: Direction) -> AesKeyIv {
    let x = dir.x();
    // "sha256_a = SHA256 (msg_key + substr (auth_key, x, 36));"
    let a = sha256_short(msg_key, auth_key.part(x, 36));
    // "sha256_b = SHA256 (substr (auth_key, 40+x, 36) + msg_key);"
    let b = sha256_short(auth_key.part(40 + x, 36), msg_key);
    let mut key = [0u8; 32];
    let mut iv = [0u8; 32];
    // "aes_key = substr (sha256_a, 0, 8) + substr (sha256_b, 8, 16) + substr (sha256_a, 24, 8);"
    key[..8].copy_from_slice(&a[..8]);
    key[8..24].copy_from_slice(&b[8..24]);
    key[24..].copy_from_slice(&a[24..]);
    // "aes_iv = substr (sha256_b, 0, 8) + substr (sha256_a, 8, 16) + substr (sha256_b, 24, 8);"
    iv[..8].copy_from_slice(&b[..8]);
    iv[8..24].copy_from_slice(&a[8..24]);
    iv[24..].copy_from_slice(&b[24..]);
    AesKeyIv { key, iv }
}

/// MTProto 1.0 `msg_key`: `SHA1(plaintext)[4..20]`, padding excluded
/// (still used for `bind_auth_key_inner`).
pub fn msg_key_v1(plaintext: &[u8]) -> [u8; 16] {
    let h = sha1(&[plaintext]);
    let mut k = [0u8; 16];
    k.copy_from_slice(&h[4..20]);
    k
}

/// MTProto 1.0 KDF (description_v1), `x` = 0 client→server, 8 server→client.
pub fn kdf_v1(auth_key: &AuthKey, msg_key: &[u8; 16], dir: Direction) -> AesKeyIv {
    let x = dir.x();
    let a = sha1(&[msg_key, auth_key.part(x, 32)]);
    let b = sha1(&[
        auth_key.part(32 + x, 16),
        msg_key,
        auth_key.part(48 + x, 16),
    ]);
    let c = sha1(&[auth_key.part(64 + x, 32), msg_key]);
    let d = sha1(&[msg_key, auth_key.part(96 + x, 32)]);
    let mut key = [0u8; 32];
    let mut iv = [0u8; 32];
    key[..8].copy_from_slice(&a[..8]);
    key[8..20].copy_from_slice(&b[8..20]);
    key[20..].copy_from_slice(&c[4..16]);
    iv[..12].copy_from_slice(&a[8..20]);
    iv[12..20].copy_from_slice(&b[..8]);
    iv[20..24].copy_from_slice(&c[16..20]);
    iv[24..].copy_from_slice(&d[..8]);
    AesKeyIv { key, iv }
}

/// The internal header of an MTProto 1.0 message: `salt` and `session_id`
/// (for `bind_auth_key_inner`, 16 random bytes), `msg_id`, `seqno`, `msg_len`.
pub const V1_HEADER_LEN: usize = 32;

/// MTProto 1.0 encryption of one message (description_v1), still used for
/// `auth.bindTempAuthKey`'s `encrypted_message`: `auth_key_id`, then
/// `msg_key = SHA1(plaintext)[4..20]` over the plaintext *without* padding,
/// then `AES-256-IGE(plaintext + padding)` under [`kdf_v1`]. `plaintext` is
/// the internal header ([`V1_HEADER_LEN`] bytes) and the message; `padding`
/// (0..=15 bytes) brings it to a multiple of 16.
pub fn encrypt_v1(
    auth_key: &AuthKey,
    dir: Direction,
    plaintext: &[u8],
    padding: &[u8],
) -> Result<Vec<u8>, PacketError> {
    let total = plaintext
        .len()
        .checked_add(padding.len())
        .ok_or(PacketError::TooLong)?;
    // description_v1: "the data is padded with random bytes to the smallest
    // length divisible by 16 bytes" (padding 0..15).
    if padding.len() > 15 {
        return Err(PacketError::PaddingOutOfRange {
            padding: padding.len(),
        });
    }
    if total % 16 != 0 || total == 0 {
        return Err(PacketError::NotBlockAligned { len: total });
    }
    let mk = msg_key_v1(plaintext);
    let kiv = kdf_v1(auth_key, &mk, dir);
    let mut out = Vec::with_capacity(HEADER_LEN + total);
    out.extend_from_slice(&auth_key.id);
    out.extend_from_slice(&mk);
    out.extend_from_slice(plaintext);
    out.extend_from_slice(padding);
    let body = out.get_mut(HEADER_LEN..).unwrap_or_default();
    ige::encrypt_with(&Aes256Enc::new((&kiv.key).into()), &kiv.iv, body)
        .map_err(|_| PacketError::NotBlockAligned { len: total })?;
    Ok(out)
}

/// Decrypts an MTProto 1.0 message made by [`encrypt_v1`] and checks it:
/// `auth_key_id` is `auth_key`'s, `msg_len` (bytes 28..32 of the plaintext)
/// is a multiple of 4 that fits with 0..=15 bytes of padding after it, and
/// `msg_key` is `SHA1(plaintext)[4..20]` of the plaintext up to the padding
/// (compared in constant time). Returns that plaintext (header and message,
/// padding cut off).
pub fn decrypt_v1(
    auth_key: &AuthKey,
    dir: Direction,
    packet: &[u8],
) -> Result<Vec<u8>, PacketError> {
    let len = packet.len();
    if len < HEADER_LEN + V1_HEADER_LEN {
        return Err(PacketError::PacketTooShort { len });
    }
    if !(len - HEADER_LEN).is_multiple_of(16) {
        return Err(PacketError::NotBlockAligned {
            len: len - HEADER_LEN,
        });
    }
    let (header, body) = packet.split_at(HEADER_LEN);
    if !ct_eq(&header[..8], &auth_key.id) {
        return Err(PacketError::AuthKeyIdMismatch);
    }
    let mut mk = [0u8; 16];
    mk.copy_from_slice(&header[8..24]);
    let kiv = kdf_v1(auth_key, &mk, dir);
    let mut plain = body.to_vec();
    ige::decrypt_with(&Aes256Dec::new((&kiv.key).into()), &kiv.iv, &mut plain)
        .map_err(|_| PacketError::NotBlockAligned { len: body.len() })?;
    let field: [u8; 4] = plain
        .get(28..32)
        .and_then(|b| b.try_into().ok())
        .ok_or(PacketError::PacketTooShort { len })?;
    let msg_len = i32::from_le_bytes(field);
    let end = usize::try_from(msg_len)
        .ok()
        .filter(|n| n % 4 == 0)
        .and_then(|n| n.checked_add(V1_HEADER_LEN))
        .filter(|&end| end <= plain.len() && plain.len() - end < 16)
        .ok_or(PacketError::InvalidMessageLength { len: msg_len })?;
    plain.truncate(end);
    // description_v1: "msg_key [...] the lower-order 128 bits of the SHA1
    // hash of the part of the message to be encrypted (including the
    // internal header and excluding the alignment bytes)".
    if !ct_eq(&msg_key_v1(&plain), &mk) {
        return Err(PacketError::MsgKeyMismatch);
    }
    Ok(plain)
}

/// The smallest valid padding (12..=27 bytes) for a plaintext of `len` bytes.
pub fn min_padding_len(len: usize) -> usize {
    // "MTProto 2.0 requires from 12 to 1024 bytes of padding, still subject to the
    // condition that the resulting message length be divisible by 16 bytes."
    MIN_PADDING + (16 - (len + MIN_PADDING) % 16) % 16
}

fn check_padding(plaintext_len: usize, padding_len: usize) -> Result<usize, PacketError> {
    if !(MIN_PADDING..=MAX_PADDING).contains(&padding_len) {
        return Err(PacketError::PaddingOutOfRange {
            padding: padding_len,
        });
    }
    let total = plaintext_len
        .checked_add(padding_len)
        .ok_or(PacketError::TooLong)?;
    if total % 16 != 0 {
        return Err(PacketError::NotBlockAligned { len: total });
    }
    Ok(total)
}

/// Encrypts in place. On entry `buf` holds [`HEADER_LEN`] bytes of room
/// (any content) followed by the plaintext (internal header + message).
/// `padding` (12..=1024 bytes, making the plaintext a multiple of 16) is
/// appended, then the plaintext is encrypted and the external header
/// (`auth_key_id`, `msg_key`) is written into the first 24 bytes.
///
/// This is the replayable form: the caller supplies the padding bytes.
pub fn encrypt_in_place(
    auth_key: &AuthKey,
    dir: Direction,
    buf: &mut Vec<u8>,
    padding: &[u8],
) -> Result<(), PacketError> {
    let plain_len = buf
        .len()
        .checked_sub(HEADER_LEN)
        .ok_or(PacketError::PacketTooShort { len: buf.len() })?;
    check_padding(plain_len, padding.len())?;
    buf.extend_from_slice(padding);
    let (header, body) = buf.split_at_mut(HEADER_LEN);
    let large = sha256_prefixed(auth_key.msg_key_prefix(dir), body);
    let mk = msg_key_from_large(&large);
    let kiv = kdf(auth_key, &mk, dir);
    ige::encrypt_with(&Aes256Enc::new((&kiv.key).into()), &kiv.iv, body)
        .map_err(|_| PacketError::NotBlockAligned { len: body.len() })?;
    header[..8].copy_from_slice(&auth_key.id);
    header[8..].copy_from_slice(&mk);
    Ok(())
}

/// Like [`encrypt_in_place`], drawing the minimal valid padding (12..=27 bytes)
/// from `rng`.
pub fn encrypt_in_place_rng<R: RngCore + CryptoRng>(
    auth_key: &AuthKey,
    dir: Direction,
    buf: &mut Vec<u8>,
    rng: &mut R,
) -> Result<(), PacketError> {
    let plain_len = buf.len().saturating_sub(HEADER_LEN);
    let mut pad = [0u8; 32];
    let n = min_padding_len(plain_len);
    let pad = pad.get_mut(..n).unwrap_or(&mut []);
    rng.fill_bytes(pad);
    encrypt_in_place(auth_key, dir, buf, pad)
}

/// Encrypts `plaintext` (internal header + message) with explicit `padding`
/// into `out` (cleared first; reuse it to avoid allocations).
pub fn encrypt_into(
    auth_key: &AuthKey,
    dir: Direction,
    plaintext: &[u8],
    padding: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), PacketError> {
    let total = check_padding(plaintext.len(), padding.len())?;
    out.clear();
    out.reserve(HEADER_LEN.saturating_add(total));
    out.extend_from_slice(&[0u8; HEADER_LEN]);
    out.extend_from_slice(plaintext);
    encrypt_in_place(auth_key, dir, out, padding)
}

/// Encrypts `plaintext` into `out` with minimal random padding drawn from `rng`.
pub fn encrypt_into_rng<R: RngCore + CryptoRng>(
    auth_key: &AuthKey,
    dir: Direction,
    plaintext: &[u8],
    rng: &mut R,
    out: &mut Vec<u8>,
) -> Result<(), PacketError> {
    let mut pad = [0u8; 32];
    let n = min_padding_len(plaintext.len());
    let pad = pad.get_mut(..n).unwrap_or(&mut []);
    rng.fill_bytes(pad);
    encrypt_into(auth_key, dir, plaintext, pad, out)
}

/// Decrypts a whole packet in place and checks `auth_key_id` and `msg_key`
/// (constant-time) but does not look inside the plaintext. Returns the
/// plaintext including padding. Use [`decrypt_in_place`] for MTProto messages.
pub fn decrypt_raw_in_place<'a>(
    auth_key: &AuthKey,
    dir: Direction,
    packet: &'a mut [u8],
) -> Result<&'a mut [u8], PacketError> {
    let len = packet.len();
    if len < HEADER_LEN + 16 {
        return Err(PacketError::PacketTooShort { len });
    }
    if !(len - HEADER_LEN).is_multiple_of(16) {
        return Err(PacketError::NotBlockAligned {
            len: len - HEADER_LEN,
        });
    }
    let (header, body) = packet.split_at_mut(HEADER_LEN);
    if header[..8] != auth_key.id {
        return Err(PacketError::AuthKeyIdMismatch);
    }
    let mut mk = [0u8; 16];
    mk.copy_from_slice(&header[8..24]);
    let kiv = kdf(auth_key, &mk, dir);
    let cipher = Aes256Dec::new((&kiv.key).into());

    if body.len() <= SMALL_BODY {
        // Short packets: decrypt, then hash with direct compressions.
        ige::decrypt_with(&cipher, &kiv.iv, body)
            .map_err(|_| PacketError::NotBlockAligned { len: body.len() })?;
        let large = sha256_prefixed(auth_key.msg_key_prefix(dir), body);
        return check_msg_key(&large, &mk).map(|()| body);
    }
    // Decrypt and hash interleaved, 64 bytes at a time, inside one backend
    // closure: IGE is bound by the AES latency chain and SHA-256 by its own,
    // so the CPU overlaps the two.
    let mut hasher = Sha256::new();
    hasher.update(auth_key.part(88 + dir.x(), 32));
    ige::decrypt_with_then(&cipher, &kiv.iv, body, 64, |piece| hasher.update(piece))
        .map_err(|_| PacketError::NotBlockAligned { len: body.len() })?;
    let large: [u8; 32] = hasher.finalize().into();
    check_msg_key(&large, &mk)?;
    Ok(body)
}

/// Bodies up to this size are decrypted first and hashed afterwards; longer
/// ones interleave the two.
const SMALL_BODY: usize = 512;

fn check_msg_key(large: &[u8; 32], mk: &[u8; 16]) -> Result<(), PacketError> {
    let ours = msg_key_from_large(large);
    // security_guidelines: "After decryption, the client MUST check that msg_key is indeed
    // equal to SHA256 of the plaintext obtained as the result of decryption (including the
    // final 12…1024 padding bytes), prepended with 32 bytes taken from the auth_key"
    if !ct_eq(&ours, mk) {
        return Err(PacketError::MsgKeyMismatch);
    }
    Ok(())
}

/// A decrypted and checked MTProto 2.0 message (borrowing the packet buffer).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct DecryptedMessage<'a> {
    /// `salt` (int64).
    pub salt: i64,
    /// `session_id` (int64).
    pub session_id: i64,
    /// `message_id` (int64).
    pub msg_id: i64,
    /// `seq_no` (int32).
    pub seq_no: i32,
    /// `message_data`, exactly `message_data_length` bytes.
    pub body: &'a [u8],
    /// Number of padding bytes that followed the message (12..=1024).
    pub padding_len: usize,
}

impl fmt::Debug for DecryptedMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecryptedMessage")
            .field("msg_id", &self.msg_id)
            .field("seq_no", &self.seq_no)
            .field("body_len", &self.body.len())
            .field("padding_len", &self.padding_len)
            .finish_non_exhaustive()
    }
}

fn le_i64(b: &[u8], at: usize) -> i64 {
    let mut a = [0u8; 8];
    if let Some(s) = b.get(at..at + 8) {
        a.copy_from_slice(s);
    }
    i64::from_le_bytes(a)
}

fn le_i32(b: &[u8], at: usize) -> i32 {
    let mut a = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        a.copy_from_slice(s);
    }
    i32::from_le_bytes(a)
}

/// Decrypts an MTProto 2.0 packet in place and runs every check of the
/// security guidelines that needs no session state: `auth_key_id`, block
/// alignment, `msg_key` (constant-time), `message_data_length` and padding.
/// (msg_id parity/replay and session_id checks belong to the session layer.)
pub fn decrypt_in_place<'a>(
    auth_key: &AuthKey,
    dir: Direction,
    packet: &'a mut [u8],
) -> Result<DecryptedMessage<'a>, PacketError> {
    let plain: &'a [u8] = decrypt_raw_in_place(auth_key, dir, packet)?;
    let data_len = le_i32(plain, 28);
    // security_guidelines: "The client must check that the length of the message or
    // container obtained from the decrypted message (computed from its length field) does
    // not exceed the total size of the plaintext, and that the difference (i.e. the length
    // of the random padding) lies in the range from 12 to 1024 bytes."
    // "The length should be always divisible by 4 and non-negative."
    if data_len < 0 || data_len % 4 != 0 {
        return Err(PacketError::InvalidMessageLength { len: data_len });
    }
    let body_end = INNER_HEADER_LEN.saturating_add(data_len as usize);
    let padding = plain
        .len()
        .checked_sub(body_end)
        .ok_or(PacketError::InvalidMessageLength { len: data_len })?;
    if !(MIN_PADDING..=MAX_PADDING).contains(&padding) {
        return Err(PacketError::PaddingOutOfRange { padding });
    }
    let body = plain
        .get(INNER_HEADER_LEN..body_end)
        .ok_or(PacketError::InvalidMessageLength { len: data_len })?;
    Ok(DecryptedMessage {
        salt: le_i64(plain, 0),
        session_id: le_i64(plain, 8),
        msg_id: le_i64(plain, 16),
        seq_no: le_i32(plain, 24),
        body,
        padding_len: padding,
    })
}
