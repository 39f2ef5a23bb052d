//! Thin glue over `mtproto_crypto::dh` for the handshake states.

use mtproto_crypto::dh::{self as cdh, DhError};
use mtproto_crypto::sha::sha1;
use mtproto_crypto::AesKeyIv;
use mtproto_tl::Deserialize;

use super::error::ErrorKind;
use super::wire;

/// Maps a crypto DH error to the handshake error kind.
pub(crate) fn dh_error(e: DhError) -> ErrorKind {
    match e {
        DhError::AnswerHashMismatch => ErrorKind::BadAnswerHash,
        DhError::EncryptedNotAligned { len } => ErrorKind::EncryptedLength { len },
        other => ErrorKind::Dh(other),
    }
}

/// `new_nonce_hash` of `server_DH_params_fail`: "128 lower-order bits of SHA1 (new_nonce)".
pub(crate) fn new_nonce_hash(new_nonce: &[u8; 32]) -> [u8; 16] {
    let h = sha1(&[new_nonce]);
    let mut out = [0u8; 16];
    out.copy_from_slice(&h[4..]);
    out
}

/// `SHA1(data) + data + padding` encrypted with the temporary key; the padding
/// is the prefix of `pad` that makes the length a multiple of 16.
pub(crate) fn seal_with_hash(
    data: &[u8],
    pad: &[u8; 16],
    tmp: &AesKeyIv,
) -> Result<Vec<u8>, ErrorKind> {
    // "SHA1(data) + data + (0-15 random bytes); such that length be divisible by 16"
    let n = (16 - (20 + data.len()) % 16) % 16;
    cdh::encrypt_with_hash(data, &pad[..n], tmp).map_err(dh_error)
}

/// Decrypts `SHA1(data) + data + (0-15 bytes)`, verifies the hash (crypto
/// finds the split), then decodes exactly one boxed `T` from `data`.
pub(crate) fn open_with_hash<T: Deserialize>(
    encrypted: &[u8],
    tmp: &AesKeyIv,
) -> Result<T, ErrorKind> {
    // "the first 20 bytes of answer_with_hash must be equal to SHA1 of the
    // remainder of the decrypted message without the padding random bytes."
    let data = cdh::decrypt_answer_with_hash(encrypted, tmp).map_err(dh_error)?;
    wire::decode(&data)
}
