//! The four plain envelopes (abridged, intermediate, padded intermediate, full).
//!
//! Spec: <https://core.telegram.org/mtproto/mtproto-transports>. Every length taken from
//! the wire is checked against the configured maximum *before* any buffer is reserved,
//! and all length arithmetic is checked.

use bytes::{Buf, BufMut, BytesMut};
use rand::RngCore;

use crate::TransportError;

/// Which end of the connection a [`Transport`](crate::Transport) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Opens the connection, sends the transport tag / obfuscated init first.
    Client,
    /// Accepts the connection, consumes the tag / init.
    Server,
}

/// One decoded transport packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// An MTProto payload.
    ///
    /// For the padded intermediate transport `data` still ends with the 0..15 random
    /// padding bytes: the envelope only carries payload+padding length ("Total length:
    /// payload+padding length"), so only the MTProto layer can tell where the payload
    /// ends.
    Payload {
        /// The payload bytes, split off the input buffer without copying.
        data: BytesMut,
        /// Server side: the client asked for a quick ACK of this payload (MSB of the
        /// length). Always `false` on the client side.
        quick_ack: bool,
    },
    /// Client side: a quick-ACK token sent by the server, as a `u32` whose most
    /// significant bit is set (`msg_key_long[0:4] | (1 << 31)`, little-endian).
    QuickAck(u32),
}

/// Per-connection state of a plain envelope.
#[derive(Debug, Clone)]
pub(crate) enum Framing {
    Abridged,
    Intermediate,
    Padded,
    Full { send_seq: u32, recv_seq: u32 },
}

/// Bit 31, the quick-ACK flag of intermediate lengths and ACK tokens.
const MSB32: u32 = 1 << 31;

/// Largest abridged length in 4-byte words: "encoded as 3 length bytes".
const ABRIDGED_MAX_WORDS: usize = (1 << 24) - 1;

fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// `len` as a `usize` if it is at most `max`.
fn check_max(len: u64, max: usize) -> Result<usize, TransportError> {
    usize::try_from(len)
        .ok()
        .filter(|&l| l <= max)
        .ok_or(TransportError::FrameTooLarge { len, max })
}

/// Payloads of every transport are whole 4-byte words: abridged can only express
/// multiples of 4, and tdlib's intermediate writer asserts it as well
/// ("In case 4-byte data alignment is needed, an intermediate version ... may be used").
fn check_aligned(len: usize) -> Result<(), TransportError> {
    if !len.is_multiple_of(4) {
        return Err(TransportError::Misaligned { len: len as u64 });
    }
    Ok(())
}

/// "a packet ... with a signed little-endian number of 4 bytes, whose absolute value
/// contains the error code (the error itself is actually negative)".
fn check_remote_error(data: &[u8], padded: bool) -> Result<(), TransportError> {
    // Padded intermediate appends 0..15 padding bytes to the 4-byte error; no MTProto
    // message is shorter than 20 bytes, so a short frame is never a real payload.
    let is_error_len = if padded {
        (4..20).contains(&data.len())
    } else {
        data.len() == 4
    };
    if is_error_len {
        if let Some(v) = le_u32(data, 0) {
            let code = v as i32;
            if code < 0 {
                return Err(TransportError::Remote(code.into()));
            }
        }
    }
    Ok(())
}

/// Number of padding bytes for padded intermediate: "A random padding string of length
/// `0-15`". Takes one `u32` from the RNG (`% modulus`, at most 16), then the bytes with
/// `fill_bytes`.
fn write_padding(rng: &mut dyn RngCore, modulus: u32, out: &mut BytesMut) -> u32 {
    let n = rng.next_u32() % modulus;
    let mut pad = [0u8; 16];
    let pad = &mut pad[..n as usize];
    rng.fill_bytes(pad);
    out.put_slice(pad);
    n
}

/// How far beyond the bytes already received a partial frame may make the decoder
/// reserve. A header only *announces* a length; memory follows what actually arrives
/// (50 peers each announcing 16 MiB and sending all but the last bytes must not hold
/// 800 MiB), in steps of at most this much.
pub(crate) const RESERVE_CHUNK: usize = 64 * 1024;

/// Ensures `buf` has `total` bytes. Otherwise ("need more bytes") makes room for the
/// next bytes of the frame, at most [`RESERVE_CHUNK`] of them, when less than half of
/// that is free (so repeated small reads do not double the buffer each time): the
/// caller's appends grow the buffer as the rest arrives.
fn need(buf: &mut BytesMut, total: usize) -> bool {
    if buf.len() < total {
        let want = (total - buf.len()).min(RESERVE_CHUNK);
        if buf.capacity() - buf.len() < want.div_ceil(2) {
            buf.reserve(want);
        }
        false
    } else {
        true
    }
}

impl Framing {
    /// Appends one framed payload to `out`. Validates before writing, so `out` is
    /// untouched on error.
    pub(crate) fn encode(
        &mut self,
        role: Role,
        payload: &[u8],
        quick_ack: bool,
        max: usize,
        rng: &mut dyn RngCore,
        out: &mut BytesMut,
    ) -> Result<(), TransportError> {
        let len = payload.len();
        check_max(len as u64, max)?;
        if quick_ack && role == Role::Server {
            return Err(TransportError::Unsupported(
                "quick ACK requests are sent by clients",
            ));
        }
        match self {
            Framing::Abridged => {
                // "Length: payload length, divided by four"
                check_aligned(len)?;
                let words = len / 4;
                if words > ABRIDGED_MAX_WORDS {
                    return Err(TransportError::FrameTooLarge {
                        len: len as u64,
                        max: ABRIDGED_MAX_WORDS * 4,
                    });
                }
                // "(length >> 2) | (1 << 7); i.e. the most significant bit must be set."
                let flag = if quick_ack { 0x80u8 } else { 0 };
                out.reserve(len.saturating_add(4));
                // "If the packet length divided by four is smaller than 127: Length: ...
                // encoded as a single byte"
                match u8::try_from(words) {
                    Ok(short) if short < 0x7f => out.put_u8(short | flag),
                    _ => {
                        // "Header: A single byte of value 0x7f (127) ... Length: payload
                        // length, divided by four, and encoded as 3 length bytes (little
                        // endian)" (0xff with quick ACK). words <= ABRIDGED_MAX_WORDS
                        // (checked above), so its 3 low bytes are all of it.
                        let [w0, w1, w2, ..] = words.to_le_bytes();
                        out.put_slice(&[0x7f | flag, w0, w1, w2]);
                    }
                }
                out.put_slice(payload);
            }
            Framing::Intermediate | Framing::Padded => {
                check_aligned(len)?;
                let padded = matches!(self, Framing::Padded);
                let mut tlen = u32::try_from(len)
                    .ok()
                    .filter(|l| l.checked_add(15).is_some_and(|l| l < MSB32))
                    .ok_or(TransportError::FrameTooLarge {
                        len: len as u64,
                        max,
                    })?;
                out.reserve(len.saturating_add(4 + 15));
                let at = out.len();
                out.put_u32_le(0);
                out.put_slice(payload);
                if padded {
                    // "Total length: payload+padding length encoded as 4 length bytes"
                    tlen += write_padding(rng, 16, out);
                }
                // "add 0x80000000 to the len field before encoding it"
                if quick_ack {
                    tlen |= MSB32;
                }
                out[at..at + 4].copy_from_slice(&tlen.to_le_bytes());
            }
            Framing::Full { send_seq, .. } => {
                if quick_ack {
                    return Err(TransportError::Unsupported(
                        "the full transport has no quick ACK",
                    ));
                }
                check_aligned(len)?;
                // "Length: length+seqno+payload+crc length encoded as 4 length bytes"
                let total = u32::try_from(len)
                    .ok()
                    .and_then(|l| l.checked_add(12))
                    .ok_or(TransportError::FrameTooLarge {
                        len: len as u64,
                        max,
                    })?;
                out.reserve(len.saturating_add(12));
                let at = out.len();
                out.put_u32_le(total);
                // "Seqno: the TCP sequence number for this TCP connection ... the first
                // packet sent is numbered 0, the next one 1, etc."
                out.put_u32_le(*send_seq);
                out.put_slice(payload);
                // "crc: 4 CRC32 bytes computed using length, sequence number, and payload
                // together."
                let crc = crc32fast::hash(&out[at..]);
                out.put_u32_le(crc);
                *send_seq = send_seq.wrapping_add(1);
            }
        }
        Ok(())
    }

    /// Server side: appends a standalone quick-ACK packet for `token` (its MSB is forced).
    pub(crate) fn encode_quick_ack(
        &self,
        token: u32,
        rng: &mut dyn RngCore,
        out: &mut BytesMut,
    ) -> Result<(), TransportError> {
        let token = token | MSB32;
        match self {
            // "The server will send quick ACK tokens by bswapping them ... as a standalone
            // 4-byte packet without a length header."
            Framing::Abridged => out.put_u32(token),
            // "The server will send quick ACK tokens as a standalone 4-byte packet without
            // a length header."
            Framing::Intermediate => out.put_u32_le(token),
            // "a standalone 8 to 16-byte packet (excluding the length of the packet itself,
            // encoded as usual), containing a 4-byte header with all bits set, followed by
            // the ACK token (abcd), followed by 0 to 8 random padding bytes."
            Framing::Padded => {
                let at = out.len();
                out.put_u32_le(0);
                out.put_u32_le(u32::MAX);
                out.put_u32_le(token);
                let n = write_padding(rng, 9, out);
                out[at..at + 4].copy_from_slice(&(8 + n).to_le_bytes());
            }
            Framing::Full { .. } => {
                return Err(TransportError::Unsupported(
                    "the full transport has no quick ACK",
                ))
            }
        }
        Ok(())
    }

    /// Splits the next frame off `buf`. `Ok(None)` means more bytes are needed (and
    /// room for the next of them, at most [`RESERVE_CHUNK`], has been reserved).
    pub(crate) fn decode(
        &mut self,
        role: Role,
        max: usize,
        buf: &mut BytesMut,
    ) -> Result<Option<Frame>, TransportError> {
        match self {
            Framing::Abridged => decode_abridged(role, max, buf),
            Framing::Intermediate => decode_intermediate(role, max, buf, false),
            Framing::Padded => decode_intermediate(role, max, buf, true),
            Framing::Full { recv_seq, .. } => decode_full(recv_seq, max, buf),
        }
    }
}

fn decode_abridged(
    role: Role,
    max: usize,
    buf: &mut BytesMut,
) -> Result<Option<Frame>, TransportError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    if role == Role::Client && first & 0x80 != 0 {
        // "These quick ACK packets can be easily distinguished from normal abridged packets
        // because the first byte will always have the most-significant bit set ... and the
        // length/header of normal payload packets coming from the server is always less
        // than or equal to 127"
        if !need(buf, 4) {
            return Ok(None);
        }
        let token = buf.get_u32();
        return Ok(Some(Frame::QuickAck(token)));
    }
    let quick_ack = role == Role::Server && first & 0x80 != 0;
    let short = first & 0x7f;
    // "If the packet length divided by four is smaller than 127" → one byte; otherwise
    // "A single byte of value 0x7f (127)" followed by "3 length bytes (little endian)".
    let (header, words) = if short < 0x7f {
        (1usize, u64::from(short))
    } else {
        let Some(h) = buf.get(..4) else {
            buf.reserve(4 - buf.len());
            return Ok(None);
        };
        (4, u64::from(u32::from_le_bytes([h[1], h[2], h[3], 0])))
    };
    // "payload length, divided by four": lengths are always multiples of 4 here.
    let len = check_max(words * 4, max)?; // words * 4 < 2^26, cannot overflow
    let total = header + len;
    if !need(buf, total) {
        return Ok(None);
    }
    buf.advance(header);
    let data = buf.split_to(len);
    check_remote_error(&data, false)?;
    Ok(Some(Frame::Payload { data, quick_ack }))
}

fn decode_intermediate(
    role: Role,
    max: usize,
    buf: &mut BytesMut,
    padded: bool,
) -> Result<Option<Frame>, TransportError> {
    let Some(raw) = le_u32(buf, 0) else {
        buf.reserve(4 - buf.len());
        return Ok(None);
    };
    let mut quick_ack = false;
    if raw & MSB32 != 0 {
        if role == Role::Client {
            if padded {
                // Padded servers frame quick ACKs as ordinary packets; an MSB length from
                // a server is invalid.
                return Err(TransportError::FrameTooLarge {
                    len: u64::from(raw),
                    max,
                });
            }
            // "trying to decode an ACK token as a little-endian 32-bit integer will always
            // yield a value bigger than or equal to 0x80000000, which can never be a valid
            // packet length."
            buf.advance(4);
            return Ok(Some(Frame::QuickAck(raw)));
        }
        // "To request a quick ACK ... set the most-significant bit of the length"
        quick_ack = true;
    }
    let len = raw & !MSB32;
    // Padded: "Total length: payload+padding length" — padding is 0..15 bytes, so the
    // total may exceed the payload maximum by at most 15.
    let limit = if padded { max.saturating_add(15) } else { max };
    let len = check_max(u64::from(len), limit).map_err(|_| TransportError::FrameTooLarge {
        len: u64::from(len),
        max,
    })?;
    if !padded {
        check_aligned(len)?;
    }
    if !need(buf, 4 + len) {
        return Ok(None);
    }
    buf.advance(4);
    let data = buf.split_to(len);
    if padded && role == Role::Client && (8..=16).contains(&data.len()) && data[..4] == [0xff; 4] {
        // "These quick ACK packets can be easily distinguished ... because their length
        // will be always smaller than or equal to 16 ... They can be distinguished from
        // transport errors because the first 4 bytes of the payload are equal to
        // 0xFFFFFFFF"
        let token = le_u32(&data, 4).unwrap_or(0);
        return Ok(Some(Frame::QuickAck(token)));
    }
    check_remote_error(&data, padded)?;
    Ok(Some(Frame::Payload { data, quick_ack }))
}

fn decode_full(
    recv_seq: &mut u32,
    max: usize,
    buf: &mut BytesMut,
) -> Result<Option<Frame>, TransportError> {
    let Some(total) = le_u32(buf, 0) else {
        buf.reserve(4 - buf.len());
        return Ok(None);
    };
    // "Minimum envelope length: 12 bytes (length+seqno+crc)"
    let Some(payload_len) = total.checked_sub(12) else {
        return Err(TransportError::FrameTooShort {
            len: u64::from(total),
        });
    };
    let payload_len = check_max(u64::from(payload_len), max)?;
    check_aligned(payload_len)?;
    let total = payload_len + 12; // the u32 `total`, which fits in a usize
    if !need(buf, total) {
        return Ok(None);
    }
    let body_end = total - 4;
    let got_crc = le_u32(buf, body_end).unwrap_or(0);
    // "crc: 4 CRC32 bytes computed using length, sequence number, and payload together."
    let want_crc = crc32fast::hash(buf.get(..body_end).unwrap_or_default());
    if got_crc != want_crc {
        return Err(TransportError::BadCrc {
            expected: want_crc,
            got: got_crc,
        });
    }
    // "the first packet sent is numbered 0, the next one 1, etc."
    let seq = le_u32(buf, 4).unwrap_or(0);
    if seq != *recv_seq {
        return Err(TransportError::BadSeqno {
            expected: *recv_seq,
            got: seq,
        });
    }
    *recv_seq = recv_seq.wrapping_add(1);
    buf.advance(8);
    let data = buf.split_to(payload_len);
    buf.advance(4);
    check_remote_error(&data, false)?;
    Ok(Some(Frame::Payload {
        data,
        quick_ack: false,
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn remote_error_detection_boundaries() {
        let neg = (-404i32).to_le_bytes();
        assert_eq!(
            check_remote_error(&neg, false),
            Err(TransportError::Remote((-404).into()))
        );
        // positive value or other lengths: a payload
        assert_eq!(check_remote_error(&404i32.to_le_bytes(), false), Ok(()));
        let mut eight = neg.to_vec();
        eight.extend_from_slice(&[0; 4]);
        assert_eq!(check_remote_error(&eight, false), Ok(()));
        // padded: 4 + up to 15 padding bytes
        assert_eq!(
            check_remote_error(&eight, true),
            Err(TransportError::Remote((-404).into()))
        );
        let mut twenty = neg.to_vec();
        twenty.extend_from_slice(&[0; 16]);
        assert_eq!(check_remote_error(&twenty, true), Ok(()));
        assert_eq!(check_remote_error(&[0xff; 3], true), Ok(()));
    }

    #[test]
    fn need_reserves_the_rest_of_a_small_frame() {
        let mut b = BytesMut::from(&[1u8, 2][..]);
        assert!(!need(&mut b, 100));
        assert!(b.capacity() >= 100);
        assert!(need(&mut b, 2));
    }

    #[test]
    fn need_reserves_at_most_one_chunk_beyond_what_arrived() {
        let mut b = BytesMut::from(&[0u8; 10][..]);
        assert!(!need(&mut b, 16 << 20));
        assert!(b.capacity() >= 10);
        assert!(b.capacity() <= 10 + 2 * RESERVE_CHUNK, "{}", b.capacity());
        // More small reads: no further growth until half the room is used.
        let cap = b.capacity();
        for _ in 0..100 {
            b.extend_from_slice(&[0; 7]);
            assert!(!need(&mut b, 16 << 20));
        }
        assert_eq!(b.capacity(), cap);
    }

    #[test]
    fn abridged_max_words_is_enforced_on_encode() {
        let mut f = Framing::Abridged;
        let mut rng = rand::rngs::mock::StepRng::new(0, 0);
        let mut out = BytesMut::new();
        let big = vec![0u8; 4 * (ABRIDGED_MAX_WORDS + 1)];
        assert!(matches!(
            f.encode(Role::Client, &big, false, usize::MAX, &mut rng, &mut out),
            Err(TransportError::FrameTooLarge { .. })
        ));
        assert!(out.is_empty());
    }
}
