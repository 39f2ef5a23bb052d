//! A message's internal header, and sealing a message into an encrypted
//! packet (or opening one).
//!
//! description, "Encrypted Message": the plaintext is `salt:int64
//! session_id:int64 message_id:int64 seq_no:int32 message_data_length:int32
//! message_data padding`, encrypted under `auth_key_id:int64 msg_key:int128`.

use mtproto_crypto::packet::{decrypt_in_place, encrypt_in_place_rng, Direction};
use mtproto_crypto::{AuthKey, PacketError};
use rand::{CryptoRng, RngCore};

/// `auth_key_id` + `msg_key`: the external header.
const EXTERNAL_HEADER_LEN: usize = 24;
/// `salt`, `session_id`, `message_id`, `seq_no`, `message_data_length`.
const INTERNAL_HEADER_LEN: usize = 32;
/// Where a message body starts in a buffer prepared by [`packet_start`].
pub const PACKET_BODY_OFFSET: usize = EXTERNAL_HEADER_LEN + INTERNAL_HEADER_LEN;

/// The internal header of one encrypted message (its length is the body's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessageHeader {
    /// `salt`: the server salt the message is sent with.
    pub salt: i64,
    /// `session_id`.
    pub session_id: i64,
    /// `message_id`.
    pub msg_id: i64,
    /// `seq_no`.
    pub seqno: i32,
}

/// An opened packet: its header and the message body (borrowing the
/// decrypted buffer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenedMessage<'a> {
    /// The internal header.
    pub header: MessageHeader,
    /// `message_data`, exactly `message_data_length` bytes.
    pub body: &'a [u8],
}

/// Prepares `out` for a packet: clears it and leaves room for both headers,
/// so the body can be written straight after them and [`seal`] can encrypt
/// in place (no copy, no allocation once `out` has grown).
pub fn packet_start(out: &mut Vec<u8>) {
    out.clear();
    out.resize(PACKET_BODY_OFFSET, 0);
}

/// Seals the message whose body follows [`packet_start`]'s room in `out`:
/// writes the internal header, pads (12..=27 random bytes from `rng`) and
/// encrypts in place, leaving the whole packet in `out`.
///
/// Fails only if `out` was not prepared or the body does not fit the
/// `message_data_length` field.
pub fn seal<R: RngCore + CryptoRng>(
    key: &AuthKey,
    dir: Direction,
    header: &MessageHeader,
    out: &mut Vec<u8>,
    rng: &mut R,
) -> Result<(), PacketError> {
    let body_len = out
        .len()
        .checked_sub(PACKET_BODY_OFFSET)
        .ok_or(PacketError::PacketTooShort { len: out.len() })?;
    // "message_data_length:int32"
    let len = i32::try_from(body_len).map_err(|_| PacketError::TooLong)?;
    let h = &mut out[EXTERNAL_HEADER_LEN..PACKET_BODY_OFFSET];
    h[..8].copy_from_slice(&header.salt.to_le_bytes());
    h[8..16].copy_from_slice(&header.session_id.to_le_bytes());
    h[16..24].copy_from_slice(&header.msg_id.to_le_bytes());
    h[24..28].copy_from_slice(&header.seqno.to_le_bytes());
    h[28..32].copy_from_slice(&len.to_le_bytes());
    encrypt_in_place_rng(key, dir, out, rng)
}

/// [`packet_start`], `body`, [`seal`]: one message as one packet in `out`.
pub fn seal_message<R: RngCore + CryptoRng>(
    key: &AuthKey,
    dir: Direction,
    header: &MessageHeader,
    body: &[u8],
    out: &mut Vec<u8>,
    rng: &mut R,
) -> Result<(), PacketError> {
    packet_start(out);
    out.extend_from_slice(body);
    seal(key, dir, header, out, rng)
}

/// Decrypts `packet` in place and checks everything that needs no session
/// state (auth_key_id, msg_key, length, padding: security_guidelines).
pub fn open<'a>(
    key: &AuthKey,
    dir: Direction,
    packet: &'a mut [u8],
) -> Result<OpenedMessage<'a>, PacketError> {
    let m = decrypt_in_place(key, dir, packet)?;
    Ok(OpenedMessage {
        header: MessageHeader {
            salt: m.salt,
            session_id: m.session_id,
            msg_id: m.msg_id,
            seqno: m.seq_no,
        },
        body: m.body,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn seal_then_open_round_trips() {
        let key = AuthKey::from_bytes([7; 256]);
        let mut rng = rand_chacha::ChaCha20Rng::from_seed([1; 32]);
        let header = MessageHeader {
            salt: -5,
            session_id: 0x1122_3344_5566_7788,
            msg_id: 0x6777_e5eb_0005_9760,
            seqno: 3,
        };
        let mut out = Vec::new();
        seal_message(
            &key,
            Direction::ClientToServer,
            &header,
            &[1, 2, 3, 4],
            &mut out,
            &mut rng,
        )
        .unwrap();
        // 24 + 32 + 4 bytes, padded by 12..=27 to a multiple of 16.
        assert_eq!((out.len() - 24) % 16, 0);
        let opened = open(&key, Direction::ClientToServer, &mut out).unwrap();
        assert_eq!(opened.header, header);
        assert_eq!(opened.body, &[1, 2, 3, 4]);
    }

    #[test]
    fn unprepared_buffer_is_an_error() {
        let key = AuthKey::from_bytes([7; 256]);
        let mut rng = rand_chacha::ChaCha20Rng::from_seed([1; 32]);
        let header = MessageHeader {
            salt: 0,
            session_id: 0,
            msg_id: 0,
            seqno: 0,
        };
        let mut out = vec![0; 10];
        assert!(seal(&key, Direction::ClientToServer, &header, &mut out, &mut rng).is_err());
    }
}
