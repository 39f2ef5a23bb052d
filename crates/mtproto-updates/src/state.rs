//! [`UpdateState`]: where the client stands in every sequence.

/// Where the client stands in the update sequences (core.telegram.org/api/updates:
/// `pts`, `qts`, `seq` and `date` of the common state, one `pts` per
/// channel). What a session store keeps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpdateState {
    /// The common message box's `pts`.
    pub pts: i32,
    /// The secondary sequence's `qts`.
    pub qts: i32,
    /// The date of the last update applied.
    pub date: i32,
    /// The `seq` of the last `updates`/`updatesCombined` applied.
    pub seq: i32,
    /// `(channel_id, pts)` of every channel followed, sorted by id.
    pub channels: Vec<(i64, i32)>,
}
