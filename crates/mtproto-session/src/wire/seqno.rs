//! The message sequence number.

/// Counts content-related messages and hands out seqnos.
///
/// description, "Message Sequence Number": "The seqno of a content-related
/// message is thus msg.seqNo = (current_seqno*2)+1 (and after generating
/// it, the local current_seqno counter must be incremented by 1), the seqno
/// of a non-content related message is msg.seqNo = (current_seqno*2)".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeqNo {
    /// `current_seqno`: content-related messages sent so far.
    content_sent: i32,
}

impl SeqNo {
    /// A counter at zero (a new session).
    pub const fn new() -> Self {
        Self { content_sent: 0 }
    }

    /// The seqno for the next message: odd (and counted) if it is
    /// content-related, even otherwise.
    pub fn next(&mut self, content_related: bool) -> i32 {
        let s = self.content_sent.wrapping_mul(2);
        if content_related {
            self.content_sent = self.content_sent.wrapping_add(1);
            s.wrapping_add(1)
        } else {
            s
        }
    }

    /// How many content-related messages were counted.
    pub const fn content_sent(&self) -> i32 {
        self.content_sent
    }

    /// Back to zero, for a new session.
    pub fn reset(&mut self) {
        self.content_sent = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::SeqNo;

    #[test]
    fn odd_for_content_even_otherwise() {
        // The spec's rule: content-related = current*2+1, then current += 1;
        // other = current*2.
        let mut s = SeqNo::new();
        assert_eq!(s.next(false), 0);
        assert_eq!(s.next(true), 1);
        assert_eq!(s.next(true), 3);
        assert_eq!(s.next(false), 4);
        assert_eq!(s.next(true), 5);
        assert_eq!(s.content_sent(), 3);
        s.reset();
        assert_eq!(s.next(true), 1);
    }
}
