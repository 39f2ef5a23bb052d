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
///
/// The value is computed unsigned: from 2038 (unixtime 2^31) on it no longer
/// fits a signed 64-bit `long` and wraps to a negative one on the wire; every
/// comparison of msg_ids goes through [`msg_id_key`].
pub fn raw_msg_id(now: Timestamp, offset_secs: i64) -> i64 {
    let secs = i64::try_from(now.as_secs())
        .unwrap_or(i64::MAX)
        .saturating_add(offset_secs)
        .clamp(0, i64::from(u32::MAX));
    let secs = u64::try_from(secs).unwrap_or(0);
    let frac = (u64::from(now.subsec_nanos()) << 32) / 1_000_000_000;
    from_key((secs << 32) | frac)
}

/// A msg_id as the unsigned number it stands for (unixtime * 2^32 + fraction):
/// the order in which msg_ids compare, past 2038 too.
pub fn msg_id_key(msg_id: i64) -> u64 {
    u64::from_le_bytes(msg_id.to_le_bytes())
}

/// The msg_id (a TL `long`) of the unsigned value `key`.
pub fn from_key(key: u64) -> i64 {
    i64::from_le_bytes(key.to_le_bytes())
}

/// The Unix time (seconds) encoded in a msg_id.
pub fn msg_id_secs(msg_id: i64) -> i64 {
    i64::from(u32::try_from(msg_id_key(msg_id) >> 32).unwrap_or(u32::MAX))
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
    /// local time `now` (see [`resync_secs`](Self::resync_secs)).
    pub fn resync(&mut self, now: Timestamp, server_msg_id: i64) -> bool {
        self.resync_secs(now, msg_id_secs(server_msg_id))
    }

    /// Replaces the offset with one learned from a server time in Unix
    /// seconds (e.g. `future_salts.now`) received at local time `now`.
    ///
    /// "Client message identifiers must increase monotonically (within a
    /// single session)": the floor is kept even when the correction moves
    /// time backwards, so the next identifier is still above every earlier
    /// one. Returns `true` when that floor is now more than 30 s ahead of
    /// the corrected clock: the server refuses such identifiers ("msg_id
    /// values that belong over 30 seconds in the future [...] are to be
    /// ignored"), so the caller must start a new session (which may start
    /// its identifiers from the corrected clock) before sending again.
    pub fn resync_secs(&mut self, now: Timestamp, server_secs: i64) -> bool {
        let local = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        self.offset_secs = server_secs.saturating_sub(local);
        msg_id_secs(self.last) > server_secs.saturating_add(30)
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
        let residue: u64 = match kind {
            MsgIdKind::Client => 0,
            MsgIdKind::ServerResponse => 1,
            MsgIdKind::ServerOther => 3,
        };
        let mut id = (msg_id_key(raw_msg_id(now, self.offset_secs)) & !3) | residue;
        let last = msg_id_key(self.last);
        if id <= last {
            id = (last & !3).wrapping_add(4) | residue;
        }
        // Never a fraction of exactly zero: a msg_id whose low 32 bits are
        // all zero is refused (it does not look like a real clock reading).
        if id & 0xffff_ffff == 0 {
            id |= 4;
        }
        self.last = from_key(id);
        self.last
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
    fn a_backwards_resync_keeps_ids_increasing() {
        let mut g = MsgIdGenerator::new(MsgIdKind::Client);
        let now = Timestamp::from_secs(1_000_000);
        let before = g.next(now);
        // The server says it is one second earlier than we thought.
        assert!(!g.resync_secs(now, 999_999));
        assert_eq!(g.time_offset(), -1);
        let after = g.next(now);
        assert!(after > before, "{after:#x} <= {before:#x}");
        // Far back: the floor is out of the server's window; a new session
        // must start (and may then start from the corrected clock).
        assert!(g.resync_secs(now, 999_000));
        g.reset();
        assert_eq!(msg_id_secs(g.next(now)), 999_000);
    }

    #[test]
    fn past_2038() {
        // 2^31 + 100 s: after the signed 32-bit Unix time runs out.
        let t = (1u64 << 31) + 100;
        let mut g = MsgIdGenerator::new(MsgIdKind::Client);
        let id = g.next(Timestamp::from_secs(t));
        // A negative TL long on the wire, ordered as the unsigned value.
        assert!(id < 0);
        assert_eq!(msg_id_secs(id), i64::try_from(t).unwrap_or(0));
        assert!(msg_id_key(g.next(Timestamp::from_secs(t))) > msg_id_key(id));
    }

    #[test]
    fn official_sample_msg_id_shape() {
        // samples-auth_key (2025): req_pq_multi msg_id 0x6777e5eb00059760,
        // i.e. unixtime 0x6777e5eb = 1735910891 in the high half.
        assert_eq!(msg_id_secs(0x6777_e5eb_0005_9760), 1_735_910_891);
    }
}
