//! Which event sequence an update belongs to, and its place in it.
//!
//! core.telegram.org/api/updates: "Each channel and supergroup has its
//! message box and its event sequence as a result; private chats and basic
//! groups of one user have another common event sequence. Secret chats,
//! certain bot events and other kinds of updates have yet another common
//! secondary event sequence."

use mtproto_tl::api::enums;

/// An event sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sequence {
    /// The common message box (`pts`): private chats and basic groups.
    Common,
    /// The secondary sequence (`qts`): secret chats, certain bot events.
    Secondary,
    /// One channel's or supergroup's message box (`pts`).
    Channel(i64),
}

/// Where an update stands in its sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    /// The sequence.
    pub sequence: Sequence,
    /// The remote state after the update (`pts` or `qts`).
    pub pts: i32,
    /// How many events it holds ("it's assumed that `qts_count` is always
    /// equal to 1").
    pub count: i32,
}

/// The channel a message is in.
fn channel_of(m: &enums::Message) -> Option<i64> {
    let peer = match m {
        enums::Message::Message(m) => &m.peer_id,
        enums::Message::Service(m) => &m.peer_id,
        enums::Message::Empty(m) => m.peer_id.as_ref()?,
    };
    match peer {
        enums::Peer::Channel(c) => Some(c.channel_id),
        _ => None,
    }
}

/// The position of an update in its sequence, or `None` for an update
/// outside every sequence (typing, `updateMessageID`, ...), handled with
/// the `seq` of the `Updates` it came in.
///
/// The updates of the default schema are all known; with the full layer,
/// the sequenced updates listed here are checked and the others are
/// delivered in the order they come.
pub fn position(u: &enums::Update) -> Option<Position> {
    let common = |pts, count| Position {
        sequence: Sequence::Common,
        pts,
        count,
    };
    let channel = |id, pts, count| Position {
        sequence: Sequence::Channel(id),
        pts,
        count,
    };
    #[allow(unreachable_patterns)]
    match u {
        enums::Update::NewMessage(x) => Some(common(x.pts, x.pts_count)),
        enums::Update::DeleteMessages(x) => Some(common(x.pts, x.pts_count)),
        enums::Update::EditMessage(x) => Some(common(x.pts, x.pts_count)),
        enums::Update::NewChannelMessage(x) => {
            channel_of(&x.message).map(|id| channel(id, x.pts, x.pts_count))
        }
        enums::Update::EditChannelMessage(x) => {
            channel_of(&x.message).map(|id| channel(id, x.pts, x.pts_count))
        }
        enums::Update::DeleteChannelMessages(x) => Some(channel(x.channel_id, x.pts, x.pts_count)),
        enums::Update::NewEncryptedMessage(x) => Some(Position {
            sequence: Sequence::Secondary,
            pts: x.qts,
            count: 1,
        }),
        _ => None,
    }
}

/// What checking `pts` against the local state says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// "If `local_pts + pts_count === pts`, the update can be applied."
    Apply,
    /// "If `local_pts + pts_count > pts`, the update was already applied,
    /// and must be ignored."
    AlreadyApplied,
    /// "If `local_pts + pts_count < pts`, there's an update gap that must
    /// be filled."
    Gap,
}

/// The pts rule of core.telegram.org/api/updates ("pts: checking and
/// applying"), with wrapping arithmetic: a hostile `pts_count` never
/// overflows.
pub fn check(local: i32, pts: i32, count: i32) -> Check {
    let expected = i64::from(local) + i64::from(count);
    match expected.cmp(&i64::from(pts)) {
        core::cmp::Ordering::Equal => Check::Apply,
        core::cmp::Ordering::Greater => Check::AlreadyApplied,
        core::cmp::Ordering::Less => Check::Gap,
    }
}

/// The seq rule ("seq: checking and applying") for `updates` and
/// `updatesCombined`: `seq_start` 0 is applied at once ("updates that
/// aren't ordered"); else `local_seq + 1` is compared with `seq_start`
/// like `local_pts + pts_count` with `pts`.
pub fn check_seq(local_seq: i32, seq_start: i32) -> Check {
    if seq_start == 0 {
        return Check::Apply;
    }
    check(local_seq, seq_start, 1)
}
