//! Cutting the padded-intermediate padding off an MTProto payload.

use bytes::BytesMut;

/// Length of `auth_key_id` + `msg_key` in front of an encrypted message.
const ENCRYPTED_HEADER: usize = 8 + 16;
/// Length of `auth_key_id` + `message_id` + `message_data_length` in front of
/// an unencrypted message.
const PLAIN_HEADER: usize = 8 + 8 + 4;

/// Removes the random padding the padded intermediate transport appends to
/// a payload, using the MTProto framing rules.
///
/// mtproto-transports, "Padded intermediate": the payload is followed by
/// "random padding ... 0-15 bytes" inside the frame length, so the transport
/// cannot know where the MTProto message ends; the message itself says so:
///
/// - an unencrypted message (`auth_key_id` = 0) is `auth_key_id:long
///   message_id:long message_data_length:int message_data`, so it ends
///   `20 + message_data_length` bytes in;
/// - an encrypted one is `auth_key_id` (8) + `msg_key` (16) + AES-IGE data,
///   a multiple of 16 bytes, so its length is `24 + 16k`.
///
/// A payload that fits neither rule (too short, a negative or oversized
/// declared length) is left as is for the MTProto layer to reject. Never
/// panics; only ever shortens by at most 15 bytes.
pub fn trim_mtproto_padding(payload: &mut BytesMut) {
    let len = payload.len();
    if payload.get(..8) == Some(&[0u8; 8][..]) {
        let Some(d) = payload.get(16..20) else {
            return;
        };
        let declared = i32::from_le_bytes([d[0], d[1], d[2], d[3]]);
        let Ok(declared) = usize::try_from(declared) else {
            return;
        };
        let want = declared.saturating_add(PLAIN_HEADER);
        if want <= len && len - want < 16 {
            payload.truncate(want);
        }
    } else if len > ENCRYPTED_HEADER {
        payload.truncate(len - (len - ENCRYPTED_HEADER) % 16);
    }
}
