//! The unencrypted (plain) message envelope used during the handshake.
//!
//! Spec (mtproto/description, "Unencrypted Messages"): "Special plain-text
//! messages may be used to create an authorization key as well as to perform
//! a time synchronization. They begin with auth_key_id = 0 (64 bits) which
//! means that there is no auth_key. This is followed directly by the message
//! body in serialized format without internal or external headers. A message
//! identifier (64 bits) and body length in bytes (32 bytes) are added before
//! the message body."
//!
//! Layout: `auth_key_id:int64 = 0 | message_id:int64 | message_data_length:int32 | message_data`.

use super::error::EnvelopeError;

/// Size of the plain-message header: auth_key_id, message_id, length.
pub const PLAIN_HEADER_LEN: usize = 20;

/// A decoded unencrypted message that borrows its body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlainMessage<'a> {
    /// `message_id`.
    pub msg_id: i64,
    /// `message_data`: the TL-serialized body.
    pub body: &'a [u8],
}

/// Wraps `body` in the unencrypted envelope with `msg_id`.
///
/// Bodies longer than `i32::MAX` cannot occur in a handshake; their length is
/// saturated rather than wrapped.
pub fn encode_plain(msg_id: i64, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(PLAIN_HEADER_LEN + body.len());
    out.extend_from_slice(&0i64.to_le_bytes());
    out.extend_from_slice(&msg_id.to_le_bytes());
    let len = i32::try_from(body.len()).unwrap_or(i32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(body);
    out
}

/// Parses an unencrypted message: checks that `auth_key_id` is 0 and that
/// `message_data_length` equals the number of bytes that follow.
pub fn decode_plain(buf: &[u8]) -> Result<PlainMessage<'_>, EnvelopeError> {
    let (header, body) = match buf.split_at_checked(PLAIN_HEADER_LEN) {
        Some(parts) => parts,
        None => return Err(EnvelopeError::TooShort { len: buf.len() }),
    };
    let mut auth_key_id = [0u8; 8];
    let mut msg_id = [0u8; 8];
    let mut len = [0u8; 4];
    auth_key_id.copy_from_slice(&header[0..8]);
    msg_id.copy_from_slice(&header[8..16]);
    len.copy_from_slice(&header[16..20]);
    // "They begin with auth_key_id = 0 (64 bits) which means that there is no auth_key."
    if auth_key_id != [0u8; 8] {
        return Err(EnvelopeError::NonZeroAuthKeyId);
    }
    let declared = i32::from_le_bytes(len);
    // "A message identifier (64 bits) and body length in bytes [...] are added
    // before the message body": the length must describe exactly the body.
    if usize::try_from(declared).ok() != Some(body.len()) {
        return Err(EnvelopeError::LengthMismatch {
            declared,
            actual: body.len(),
        });
    }
    Ok(PlainMessage {
        msg_id: i64::from_le_bytes(msg_id),
        body,
    })
}
