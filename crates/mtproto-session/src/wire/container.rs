//! `msg_container#73f1f8dc messages:vector<%Message> = MessageContainer;`
//! with `message msg_id:long seqno:int bytes:int body:Object = Message;`.
//!
//! service_messages lists the container among the objects "parsed
//! manually"; this is the hot path, so it is read and written by hand,
//! every read through the bounded [`Reader`].

use mtproto_tl::mtproto::types;
use mtproto_tl::{DecodeError, DecodeErrorKind, Identifiable, Reader};

use super::objects::MAX_CONTAINER_MESSAGES;

/// Size of a `message` header inside a container: msg_id, seqno, bytes.
pub const MESSAGE_HEADER_LEN: usize = 16;

/// One message inside a `msg_container` (or a top-level message).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InnerMessage<'a> {
    /// Its msg_id.
    pub msg_id: i64,
    /// Its seqno.
    pub seqno: i32,
    /// Its body (exactly `bytes` bytes).
    pub body: &'a [u8],
}

fn invalid(offset: usize, v: i64) -> DecodeError {
    DecodeError::new(DecodeErrorKind::InvalidLength(v), offset)
}

/// Parses the body of a `msg_container` (its constructor id already
/// consumed): `messages:vector<%message>`.
pub fn parse_container<'a>(r: &mut Reader<'a>) -> Result<Vec<InnerMessage<'a>>, DecodeError> {
    // Each message is at least its 16-byte header plus a 4-byte body, so
    // the count is checked against the bytes left before allocating.
    let count = r.read_vector_len(MESSAGE_HEADER_LEN + 4)?;
    // "MTProto container can have at have at most 1024 messages."
    if count > MAX_CONTAINER_MESSAGES {
        return Err(DecodeError::new(
            DecodeErrorKind::VectorTooLong { count },
            r.offset(),
        ));
    }
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let msg_id = r.read_i64()?;
        let seqno = r.read_i32()?;
        let at = r.offset();
        let bytes = r.read_i32()?;
        // "bytes is the number of bytes in the body serialization": a TL
        // object is a whole number of 4-byte words.
        let len = usize::try_from(bytes).map_err(|_| invalid(at, i64::from(bytes)))?;
        if len % 4 != 0 || len < 4 {
            return Err(invalid(at, i64::from(bytes)));
        }
        let body = r.take(len)?;
        out.push(InnerMessage {
            msg_id,
            seqno,
            body,
        });
    }
    Ok(out)
}

/// Why a message could not be added to a container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContainerError {
    /// "MTProto container can have at have at most 1024 messages."
    Full,
    /// A body longer than the `bytes:int` field can say.
    BodyTooLong {
        /// The body's length.
        len: usize,
    },
}

impl core::fmt::Display for ContainerError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Full => write!(
                f,
                "container already holds {MAX_CONTAINER_MESSAGES} messages"
            ),
            Self::BodyTooLong { len } => write!(f, "message body of {len} bytes is too long"),
        }
    }
}

impl std::error::Error for ContainerError {}

/// Writes a `msg_container` straight into a buffer (typically a packet
/// prepared by [`packet_start`](super::packet_start)): the count and each
/// message's `bytes` are left as placeholders and filled in afterwards, so
/// bodies can be serialized in place.
#[derive(Debug)]
pub struct ContainerWriter<'a> {
    out: &'a mut Vec<u8>,
    /// Where the count field is.
    count_at: usize,
    count: u32,
}

impl<'a> ContainerWriter<'a> {
    /// Starts a container at the end of `out`.
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        out.extend_from_slice(&types::MsgContainer::CONSTRUCTOR_ID.to_le_bytes());
        let count_at = out.len();
        out.extend_from_slice(&0u32.to_le_bytes());
        Self {
            out,
            count_at,
            count: 0,
        }
    }

    /// Adds one message whose body `write` appends to the buffer.
    pub fn push_with(
        &mut self,
        msg_id: i64,
        seqno: i32,
        write: impl FnOnce(&mut Vec<u8>),
    ) -> Result<(), ContainerError> {
        if self.len() >= MAX_CONTAINER_MESSAGES {
            return Err(ContainerError::Full);
        }
        let start = self.out.len();
        self.out.extend_from_slice(&msg_id.to_le_bytes());
        self.out.extend_from_slice(&seqno.to_le_bytes());
        let len_at = self.out.len();
        self.out.extend_from_slice(&0u32.to_le_bytes());
        write(self.out);
        let len = self.out.len() - len_at - 4;
        let Ok(bytes) = i32::try_from(len) else {
            self.out.truncate(start);
            return Err(ContainerError::BodyTooLong { len });
        };
        self.out[len_at..len_at + 4].copy_from_slice(&bytes.to_le_bytes());
        self.count += 1;
        Ok(())
    }

    /// Adds one message with `body`.
    pub fn push(&mut self, msg_id: i64, seqno: i32, body: &[u8]) -> Result<(), ContainerError> {
        self.push_with(msg_id, seqno, |out| out.extend_from_slice(body))
    }

    /// Messages added so far.
    pub fn len(&self) -> usize {
        // At most MAX_CONTAINER_MESSAGES: always fits.
        usize::try_from(self.count).unwrap_or(usize::MAX)
    }

    /// Whether no message was added yet.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Fills in the count; returns how many messages the container holds.
    pub fn finish(self) -> usize {
        self.out[self.count_at..self.count_at + 4].copy_from_slice(&self.count.to_le_bytes());
        self.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn written_container_parses_back() {
        let mut out = vec![0xaa; 3];
        let mut w = ContainerWriter::new(&mut out);
        w.push(100, 1, &[1, 2, 3, 4]).unwrap();
        w.push_with(104, 2, |o| o.extend_from_slice(&[5; 8]))
            .unwrap();
        assert_eq!(w.finish(), 2);
        assert_eq!(&out[..3], &[0xaa; 3]);
        // msg_container#73f1f8dc, count 2, then msg_id seqno bytes body.
        assert_eq!(&out[3..11], &[0xdc, 0xf8, 0xf1, 0x73, 2, 0, 0, 0]);
        assert_eq!(&out[11 + 12..11 + 16], &[4, 0, 0, 0]);
        let mut r = Reader::new(&out[7..]);
        let msgs = parse_container(&mut r).unwrap();
        r.finish().unwrap();
        assert_eq!(msgs.len(), 2);
        assert_eq!(
            (msgs[0].msg_id, msgs[0].seqno, msgs[0].body),
            (100, 1, &[1u8, 2, 3, 4][..])
        );
        assert_eq!(
            (msgs[1].msg_id, msgs[1].seqno, msgs[1].body),
            (104, 2, &[5u8; 8][..])
        );
    }

    #[test]
    fn at_most_1024_messages() {
        let mut out = Vec::new();
        let mut w = ContainerWriter::new(&mut out);
        for i in 0..1024 {
            w.push(i * 4, 0, &[0; 4]).unwrap();
        }
        assert_eq!(w.push(9999, 0, &[0; 4]), Err(ContainerError::Full));
        assert_eq!(w.finish(), 1024);
    }
}
