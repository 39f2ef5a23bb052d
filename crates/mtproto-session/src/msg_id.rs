//! Message identifiers.
//!
//! Spec (mtproto/description, "Message Identifier (msg_id)"): "A (time-dependent)
//! 64-bit number used uniquely to identify a message within a session. Client
//! message identifiers are divisible by 4, server message identifiers modulo 4
//! yield 1 if the message is a response to a client message, and 3 otherwise.
//! Client message identifiers must increase monotonically (within a single
//! session) [...] and must approximately equal unixtime*2^32."

use crate::Timestamp;

/// Which kind of message identifier to produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MsgIdKind {
    /// A client message: `msg_id % 4 == 0`.
    Client,
    /// A server response to a client message: `msg_id % 4 == 1`.
    ServerResponse,
    /// A server message that is not a response: `msg_id % 4 == 3`.
    ServerOther,
}

/// `unixtime * 2^32` for `now` shifted by `offset_secs`, with the fraction of
/// the second in the low 32 bits.
pub fn raw_msg_id(now: Timestamp, offset_secs: i64) -> i64 {
    let secs = i64::try_from(now.as_secs())
        .unwrap_or(i64::MAX)
        .saturating_add(offset_secs);
    let frac = (u64::from(now.subsec_nanos()) << 32) / 1_000_000_000;
    secs.wrapping_shl(32) | i64::try_from(frac).unwrap_or(0)
}

/// The Unix time (seconds) encoded in a msg_id.
pub fn msg_id_secs(msg_id: i64) -> i64 {
    msg_id >> 32
}

/// Generates strictly increasing message identifiers corrected by the
/// server time offset.
#[derive(Clone, Debug)]
pub struct MsgIdGenerator {
    kind: MsgIdKind,
    /// Server time minus local time, in seconds.
    offset_secs: i64,
    last: i64,
}

impl MsgIdGenerator {
    /// A generator for `kind` with no time offset.
    pub fn new(kind: MsgIdKind) -> Self {
        Self {
            kind,
            offset_secs: 0,
            last: 0,
        }
    }

    /// Server time minus local time, in seconds.
    pub fn time_offset(&self) -> i64 {
        self.offset_secs
    }

    /// Sets the time offset (server time minus local time, seconds).
    pub fn set_time_offset(&mut self, offset_secs: i64) {
        self.offset_secs = offset_secs;
    }

    /// Learns the offset from a server msg_id received at local time `now`.
    pub fn sync_with_server_msg_id(&mut self, now: Timestamp, server_msg_id: i64) {
        let local = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        self.offset_secs = msg_id_secs(server_msg_id).saturating_sub(local);
    }

    /// Replaces the offset with one learned from `server_msg_id` received at
    /// local time `now`. When the correction moves time backwards, the
    /// monotonic floor is reset to the corrected clock: the identifiers above
    /// it were rejected by the server as "too high" (bad_msg_notification 17),
    /// so it never recorded them, and keeping the floor would make every new
    /// identifier inherit the wrong clock.
    pub fn resync(&mut self, now: Timestamp, server_msg_id: i64) {
        let before = self.offset_secs;
        self.sync_with_server_msg_id(now, server_msg_id);
        if self.offset_secs < before {
            self.last = 0;
        }
    }

    /// Like [`resync`](Self::resync), from a server time in Unix seconds
    /// (e.g. `future_salts.now`) received at local time `now`.
    pub fn resync_secs(&mut self, now: Timestamp, server_secs: i64) {
        let before = self.offset_secs;
        let local = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        self.offset_secs = server_secs.saturating_sub(local);
        if self.offset_secs < before {
            self.last = 0;
        }
    }

    /// Forgets the monotonic floor (for a new session: "Client message
    /// identifiers must increase monotonically (within a single session)").
    pub fn reset(&mut self) {
        self.last = 0;
    }

    /// The next identifier: strictly greater than every earlier one, with
    /// the residue modulo 4 that `kind` requires.
    pub fn next(&mut self, now: Timestamp) -> i64 {
        let kind = self.kind;
        self.next_of_kind(now, kind)
    }

    /// Like [`MsgIdGenerator::next`] with an explicit kind (a server sends
    /// both responses, `% 4 == 1`, and other messages, `% 4 == 3`, from one
    /// increasing sequence).
    pub fn next_of_kind(&mut self, now: Timestamp, kind: MsgIdKind) -> i64 {
        let residue = match kind {
            MsgIdKind::Client => 0,
            MsgIdKind::ServerResponse => 1,
            MsgIdKind::ServerOther => 3,
        };
        let mut id = (raw_msg_id(now, self.offset_secs) & !3) | residue;
        if id <= self.last {
            id = (self.last & !3).wrapping_add(4) | residue;
        }
        self.last = id;
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_divisible_by_four_and_increase() {
        let mut g = MsgIdGenerator::new(MsgIdKind::Client);
        let now = Timestamp::from_secs(1_735_910_891);
        let mut last = 0;
        for _ in 0..1000 {
            let id = g.next(now);
            assert_eq!(id % 4, 0);
            assert!(id > last);
            assert_eq!(msg_id_secs(id), 1_735_910_891);
            last = id;
        }
    }

    #[test]
    fn server_residues() {
        let now = Timestamp(1_707_425_105_123_456_789);
        assert_eq!(
            MsgIdGenerator::new(MsgIdKind::ServerResponse).next(now) % 4,
            1
        );
        assert_eq!(MsgIdGenerator::new(MsgIdKind::ServerOther).next(now) % 4, 3);
    }

    #[test]
    fn offset_corrects_time() {
        let mut g = MsgIdGenerator::new(MsgIdKind::Client);
        let now = Timestamp::from_secs(1_000_000);
        // The server's clock is an hour ahead.
        g.sync_with_server_msg_id(now, (1_003_600i64 << 32) | 1);
        assert_eq!(g.time_offset(), 3600);
        assert_eq!(msg_id_secs(g.next(now)), 1_003_600);
    }

    #[test]
    fn official_sample_msg_id_shape() {
        // samples-auth_key (2025): req_pq_multi msg_id 0x6777e5eb00059760,
        // i.e. unixtime 0x6777e5eb = 1735910891 in the high half.
        assert_eq!(msg_id_secs(0x6777_e5eb_0005_9760), 1_735_910_891);
    }
}
