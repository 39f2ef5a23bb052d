//! [`MessageBox`]: the sequences checked, gaps held and filled.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use mtproto_tl::api::{enums, types};
use mtproto_tl::support::Placeholder;

use crate::sequence::{check, check_seq, position, Check, Position, Sequence};
use crate::state::UpdateState;

/// "It may be useful to wait up to 0.5 seconds in this situation and abort
/// the sync in case a new update arrives, that fills the gap."
pub const GAP_WAIT: Duration = Duration::from_millis(500);

/// After a failed difference call, the wait before the next.
pub const RETRY_WAIT: Duration = Duration::from_secs(1);

/// Updates held per sequence while a gap is open or a difference is in
/// flight; one more drops them all and asks for the difference at once
/// (which brings them again).
pub const MAX_HELD: usize = 1024;

/// Channels followed at most (each has a `pts`); a new one beyond it
/// replaces the lowest id.
pub const MAX_CHANNELS: usize = 100_000;

/// What the caller must fetch from the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fetch {
    /// `updates.getState`: no common state is known yet.
    State,
    /// `updates.getDifference` with this state (covers `pts`, `qts` and
    /// `seq`).
    Difference {
        /// Local `pts`.
        pts: i32,
        /// Local `qts`.
        qts: i32,
        /// Local `date`.
        date: i32,
    },
    /// `updates.getChannelDifference` for this channel from this `pts`.
    ChannelDifference {
        /// The channel.
        channel_id: i64,
        /// Local `pts` of the channel.
        pts: i32,
    },
}

/// What one fetch covers: the common state (`pts`, `qts`, `seq`) or one
/// channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Target {
    Common,
    Channel(i64),
}

impl Target {
    fn of(s: Sequence) -> Self {
        match s {
            Sequence::Common | Sequence::Secondary => Self::Common,
            Sequence::Channel(id) => Self::Channel(id),
        }
    }
}

/// Updates ready to be applied, in order, with the users and chats of the
/// `Updates` they came in.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Batch {
    /// The updates.
    pub updates: Vec<enums::Update>,
    /// Users mentioned.
    pub users: Vec<enums::User>,
    /// Chats mentioned.
    pub chats: Vec<enums::Chat>,
}

/// One item of a packet: an update, or only a position
/// (`updateShortSentMessage` moves `pts` and carries no update to apply).
#[derive(Clone, Debug)]
struct Item {
    position: Option<Position>,
    update: Option<enums::Update>,
}

/// What came in one `Updates`: its `seq` range, and its items.
#[derive(Clone, Debug)]
struct Packet {
    seq_start: i32,
    seq: i32,
    date: i32,
    items: Vec<Item>,
    users: Vec<enums::User>,
    chats: Vec<enums::Chat>,
}

/// The common state: "`pts`, `qts`, `date` and `seq`".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Common {
    pts: i32,
    qts: i32,
    date: i32,
    seq: i32,
}

/// The update sequences of one account, sans-IO: feed it what the server
/// pushes ([`process`](Self::process)) and what difference calls return;
/// it says what to apply, in order, and what to fetch
/// ([`poll_fetch`](Self::poll_fetch)) and when ([`next_deadline`](Self::next_deadline)).
/// Time is a monotonic reading passed in (`now`).
#[derive(Clone, Debug, Default)]
pub struct MessageBox {
    common: Option<Common>,
    channels: BTreeMap<i64, i32>,
    /// Open gaps: when to stop waiting and fetch.
    gaps: BTreeMap<Target, Duration>,
    /// Differences in flight.
    fetching: BTreeSet<Target>,
    /// Fetches due at once.
    urgent: BTreeSet<Target>,
    /// Packets held while a gap is open or a fetch is in flight.
    held: BTreeMap<Target, Vec<Packet>>,
    /// This account's user id (short messages it sent name it as sender).
    self_id: Option<i64>,
}

impl MessageBox {
    /// A box with no state: the first fetch is `updates.getState`, and
    /// until then every update is applied as it comes.
    pub fn new() -> Self {
        Self::default()
    }

    /// A box resuming a saved state (a session store's).
    pub fn from_state(s: &UpdateState) -> Self {
        let mut b = Self::new();
        b.common = Some(Common {
            pts: s.pts,
            qts: s.qts,
            date: s.date,
            seq: s.seq,
        });
        for (id, pts) in s.channels.iter().take(MAX_CHANNELS) {
            b.channels.insert(*id, *pts);
        }
        b
    }

    /// The state to save.
    pub fn state(&self) -> UpdateState {
        let c = self.common.unwrap_or_default();
        UpdateState {
            pts: c.pts,
            qts: c.qts,
            date: c.date,
            seq: c.seq,
            channels: self.channels.iter().map(|(k, v)| (*k, *v)).collect(),
        }
    }

    /// Whether the common state is known (`updates.getState` answered, or
    /// a state was restored).
    pub fn has_state(&self) -> bool {
        self.common.is_some()
    }

    /// Sets this account's user id.
    pub fn set_self(&mut self, user_id: i64) {
        self.self_id = Some(user_id);
    }

    /// The answer to `updates.getState`.
    pub fn set_state(&mut self, state: &enums::updates::State) {
        let enums::updates::State::State(s) = state;
        self.common = Some(Common {
            pts: s.pts,
            qts: s.qts,
            date: s.date,
            seq: s.seq,
        });
        self.fetching.remove(&Target::Common);
    }

    /// Asks for the common difference at once: after a reconnect, a new
    /// server session ("Session loss on the server"), an update that
    /// cannot be decoded, or a long time without updates.
    pub fn resync(&mut self) {
        self.urgent.insert(Target::Common);
    }

    /// How many packets are held (waiting for a gap to fill or a fetch).
    pub fn held(&self) -> usize {
        self.held.values().map(Vec::len).sum()
    }

    /// When [`poll_fetch`](Self::poll_fetch) has something next, if ever.
    pub fn next_deadline(&self) -> Option<Duration> {
        if self.urgent.iter().any(|t| !self.fetching.contains(t)) {
            return Some(Duration::ZERO);
        }
        self.gaps
            .iter()
            .filter(|(t, _)| !self.fetching.contains(t))
            .map(|(_, d)| *d)
            .min()
    }

    /// The next fetch to make, if one is due at `now`. Each target has at
    /// most one fetch in flight; the caller reports the answer with
    /// [`apply_difference`](Self::apply_difference) /
    /// [`apply_channel_difference`](Self::apply_channel_difference), or a
    /// failure with [`fetch_failed`](Self::fetch_failed).
    pub fn poll_fetch(&mut self, now: Duration) -> Option<Fetch> {
        let due = self
            .urgent
            .iter()
            .copied()
            .find(|t| !self.fetching.contains(t))
            .or_else(|| {
                self.gaps
                    .iter()
                    .filter(|(t, d)| **d <= now && !self.fetching.contains(t))
                    .map(|(t, _)| *t)
                    .next()
            })?;
        self.urgent.remove(&due);
        self.gaps.remove(&due);
        self.fetching.insert(due);
        Some(match due {
            Target::Common => match self.common {
                None => Fetch::State,
                Some(c) => Fetch::Difference {
                    pts: c.pts,
                    qts: c.qts,
                    date: c.date,
                },
            },
            Target::Channel(id) => Fetch::ChannelDifference {
                channel_id: id,
                pts: self.channels.get(&id).copied().unwrap_or(0),
            },
        })
    }

    /// A fetch failed (timeout, error): tried again after [`RETRY_WAIT`].
    pub fn fetch_failed(&mut self, fetch: Fetch, now: Duration) {
        let t = match fetch {
            Fetch::State | Fetch::Difference { .. } => Target::Common,
            Fetch::ChannelDifference { channel_id, .. } => Target::Channel(channel_id),
        };
        self.fetching.remove(&t);
        self.gaps.insert(t, now.saturating_add(RETRY_WAIT));
    }

    /// Something the server pushed (or a method answered with): what can
    /// be applied now, in order. Updates that leave a gap are held until
    /// the gap fills or the difference is fetched.
    pub fn process(&mut self, now: Duration, updates: enums::Updates) -> Vec<Batch> {
        let one = |update: enums::Update, date| Packet {
            seq_start: 0,
            seq: 0,
            date,
            items: vec![item(update)],
            users: Vec::new(),
            chats: Vec::new(),
        };
        let packet = match updates {
            // "updatesTooLong indicates that there are too many events
            // pending to be pushed to the client, so one needs to fetch
            // them manually."
            enums::Updates::TooLong => {
                self.urgent.insert(Target::Common);
                return Vec::new();
            }
            enums::Updates::UpdateShort(u) => one(u.update, u.date),
            enums::Updates::UpdateShortMessage(s) => {
                let date = s.date;
                one(self.short_message(s), date)
            }
            enums::Updates::UpdateShortChatMessage(s) => {
                let date = s.date;
                one(short_chat_message(s), date)
            }
            // Answers our own message: it moves pts, nothing to apply.
            enums::Updates::UpdateShortSentMessage(s) => Packet {
                seq_start: 0,
                seq: 0,
                date: s.date,
                items: vec![Item {
                    position: Some(Position {
                        sequence: Sequence::Common,
                        pts: s.pts,
                        count: s.pts_count,
                    }),
                    update: None,
                }],
                users: Vec::new(),
                chats: Vec::new(),
            },
            // "For updates, the seq_start attribute is omitted, because it
            // is assumed that it is always equal to seq."
            enums::Updates::Updates(u) => Packet {
                seq_start: u.seq,
                seq: u.seq,
                date: u.date,
                items: u.updates.into_iter().map(item).collect(),
                users: u.users,
                chats: u.chats,
            },
            enums::Updates::Combined(u) => Packet {
                seq_start: u.seq_start,
                seq: u.seq,
                date: u.date,
                items: u.updates.into_iter().map(item).collect(),
                users: u.users,
                chats: u.chats,
            },
        };
        let mut out = Vec::new();
        self.packet(now, packet, &mut out);
        out
    }

    /// Applies `p` and then whatever it unblocks.
    fn packet(&mut self, now: Duration, p: Packet, out: &mut Vec<Batch>) {
        let advanced = self.apply_packet(now, p, out);
        self.settle(now, advanced, out);
    }

    /// Drains every target in `work`, and those that draining advances,
    /// without recursion (a long chain of held packets stays flat).
    fn settle(&mut self, now: Duration, mut work: BTreeSet<Target>, out: &mut Vec<Batch>) {
        while let Some(t) = work.pop_first() {
            work.extend(self.drain(now, t, out));
        }
    }

    /// The `seq` check, then each item's; returns the targets it advanced.
    fn apply_packet(&mut self, now: Duration, p: Packet, out: &mut Vec<Batch>) -> BTreeSet<Target> {
        if p.seq_start != 0 {
            if self.blocked(Target::Common) {
                self.hold(now, Target::Common, p);
                return BTreeSet::new();
            }
            if let Some(c) = self.common {
                match check_seq(c.seq, p.seq_start) {
                    Check::AlreadyApplied => return BTreeSet::new(),
                    Check::Gap => {
                        self.hold(now, Target::Common, p);
                        return BTreeSet::new();
                    }
                    Check::Apply => {}
                }
            }
        }
        let mut batch = Batch {
            updates: Vec::new(),
            users: p.users,
            chats: p.chats,
        };
        let mut advanced = BTreeSet::new();
        for it in p.items {
            let Some(pos) = it.position else {
                batch.updates.extend(it.update);
                continue;
            };
            let target = Target::of(pos.sequence);
            // Waiting for a difference, or a gap: held on its own, with
            // the users and chats it came with.
            let verdict = if self.blocked(target) {
                Check::Gap
            } else {
                self.local(pos.sequence)
                    .map_or(Check::Apply, |l| check(l, pos.pts, pos.count))
            };
            match verdict {
                // (No state for it yet: taken as it comes.)
                Check::Apply => {
                    self.set_local(pos.sequence, pos.pts);
                    batch.updates.extend(it.update);
                    advanced.insert(target);
                }
                Check::AlreadyApplied => {}
                Check::Gap => {
                    let held = Packet {
                        seq_start: 0,
                        seq: 0,
                        date: p.date,
                        items: vec![it],
                        users: batch.users.clone(),
                        chats: batch.chats.clone(),
                    };
                    self.hold(now, target, held);
                }
            }
        }
        // "If the updates were applied, local Updates state must be
        // updated with seq (unless it's 0) and date from the constructor."
        if p.seq_start != 0 {
            if let Some(c) = &mut self.common {
                if p.seq != 0 {
                    c.seq = p.seq;
                }
                c.date = p.date;
            }
            advanced.insert(Target::Common);
        }
        if !batch.updates.is_empty() {
            out.push(batch);
        }
        advanced
    }

    /// Whether updates of `t` must wait for a difference (in flight, or
    /// due at once). With only a gap open they are still checked: the one
    /// that fills it applies, and the held ones after it.
    fn blocked(&self, t: Target) -> bool {
        self.fetching.contains(&t) || self.urgent.contains(&t)
    }

    fn local(&self, s: Sequence) -> Option<i32> {
        match s {
            Sequence::Common => self.common.map(|c| c.pts),
            Sequence::Secondary => self.common.map(|c| c.qts),
            Sequence::Channel(id) => self.channels.get(&id).copied(),
        }
    }

    fn set_local(&mut self, s: Sequence, pts: i32) {
        match s {
            Sequence::Common => {
                if let Some(c) = &mut self.common {
                    c.pts = pts;
                }
            }
            Sequence::Secondary => {
                if let Some(c) = &mut self.common {
                    c.qts = pts;
                }
            }
            Sequence::Channel(id) => self.set_channel(id, pts),
        }
    }

    fn set_channel(&mut self, id: i64, pts: i32) {
        if !self.channels.contains_key(&id) && self.channels.len() >= MAX_CHANNELS {
            self.channels.pop_first();
        }
        self.channels.insert(id, pts);
    }

    /// Holds `p` under `t`, opening a gap that waits [`GAP_WAIT`].
    fn hold(&mut self, now: Duration, t: Target, p: Packet) {
        let held = self.held.entry(t).or_default();
        if held.len() >= MAX_HELD {
            // The difference brings them again.
            held.clear();
            self.urgent.insert(t);
            return;
        }
        held.push(p);
        if !self.fetching.contains(&t) && !self.urgent.contains(&t) {
            self.gaps
                .entry(t)
                .or_insert_with(|| now.saturating_add(GAP_WAIT));
        }
    }

    /// Applies what was held under `t` and now fits, until nothing does;
    /// the gap closes when nothing is left. Returns the other targets the
    /// packets applied advanced.
    fn drain(&mut self, now: Duration, t: Target, out: &mut Vec<Batch>) -> BTreeSet<Target> {
        let mut more = BTreeSet::new();
        if self.fetching.contains(&t) || self.urgent.contains(&t) {
            return more;
        }
        loop {
            let held = self.held.get(&t).map(Vec::as_slice).unwrap_or_default();
            if held.is_empty() {
                self.held.remove(&t);
                self.gaps.remove(&t);
                return more;
            }
            // The first held packet that applies (or was applied already).
            let Some((i, apply)) = held
                .iter()
                .enumerate()
                .find_map(|(i, p)| self.fits(p).map(|a| (i, a)))
            else {
                // Still a gap: keep waiting (its deadline stands).
                return more;
            };
            let p = match self.held.get_mut(&t) {
                Some(h) if i < h.len() => h.remove(i),
                _ => return more,
            };
            if apply {
                // `t` is unblocked for this packet while it is applied.
                let deadline = self.gaps.remove(&t);
                more.extend(self.apply_packet(now, p, out));
                more.remove(&t);
                if let Some(d) = deadline {
                    if self.held.get(&t).is_some_and(|h| !h.is_empty()) {
                        self.gaps.entry(t).or_insert(d);
                    }
                }
            }
        }
    }

    /// Whether a held packet now applies (`Some(true)`), was applied
    /// already (`Some(false)`), or still leaves a gap (`None`).
    fn fits(&self, p: &Packet) -> Option<bool> {
        if p.seq_start != 0 {
            let c = self.common?;
            return match check_seq(c.seq, p.seq_start) {
                Check::Gap => None,
                Check::Apply => Some(true),
                Check::AlreadyApplied => Some(false),
            };
        }
        let pos = p.items.first()?.position?;
        match self
            .local(pos.sequence)
            .map(|l| check(l, pos.pts, pos.count))
        {
            Some(Check::Gap) => None,
            Some(Check::AlreadyApplied) => Some(false),
            None | Some(Check::Apply) => Some(true),
        }
    }

    /// The answer to `updates.getDifference`: what to apply, in order.
    pub fn apply_difference(&mut self, now: Duration, d: enums::updates::Difference) -> Vec<Batch> {
        self.fetching.remove(&Target::Common);
        let mut out = Vec::new();
        let (messages, others, users, chats, state, more) = match d {
            enums::updates::Difference::Empty(e) => {
                let c = self.common.get_or_insert_with(Common::default);
                c.date = e.date;
                c.seq = e.seq;
                self.settle(now, BTreeSet::from([Target::Common]), &mut out);
                return out;
            }
            enums::updates::Difference::TooLong(t) => {
                let c = self.common.get_or_insert_with(Common::default);
                c.pts = t.pts;
                self.settle(now, BTreeSet::from([Target::Common]), &mut out);
                return out;
            }
            enums::updates::Difference::Difference(d) => (
                d.new_messages,
                d.other_updates,
                d.users,
                d.chats,
                d.state,
                false,
            ),
            // "The intermediate status, intermediate_state, must be saved
            // on the client and the query must be repeated."
            enums::updates::Difference::Slice(d) => (
                d.new_messages,
                d.other_updates,
                d.users,
                d.chats,
                d.intermediate_state,
                true,
            ),
        };
        let enums::updates::State::State(s) = state;
        let mut batch = Batch {
            updates: messages
                .into_iter()
                .map(|message| {
                    enums::Update::NewMessage(types::UpdateNewMessage {
                        message,
                        pts: s.pts,
                        pts_count: 0,
                    })
                })
                .collect(),
            users,
            chats,
        };
        self.common = Some(Common {
            pts: s.pts,
            qts: s.qts,
            date: s.date,
            seq: s.seq,
        });
        for u in others {
            match (&u, position(&u)) {
                (enums::Update::ChannelTooLong(c), _) => {
                    self.urgent.insert(Target::Channel(c.channel_id));
                    batch.updates.push(u);
                }
                // Channel updates keep their own sequence.
                (_, Some(pos)) if matches!(pos.sequence, Sequence::Channel(_)) => {
                    let mut tmp = Vec::new();
                    self.packet(
                        now,
                        Packet {
                            seq_start: 0,
                            seq: 0,
                            date: s.date,
                            items: vec![item(u)],
                            users: Vec::new(),
                            chats: Vec::new(),
                        },
                        &mut tmp,
                    );
                    batch
                        .updates
                        .extend(tmp.into_iter().flat_map(|b| b.updates));
                }
                // The common sequence's are covered by `state`.
                _ => batch.updates.push(u),
            }
        }
        if !batch.updates.is_empty() {
            out.push(batch);
        }
        if more {
            self.urgent.insert(Target::Common);
        } else {
            self.settle(now, BTreeSet::from([Target::Common]), &mut out);
        }
        out
    }

    /// The answer to `updates.getChannelDifference` for `channel_id`.
    pub fn apply_channel_difference(
        &mut self,
        now: Duration,
        channel_id: i64,
        d: enums::updates::ChannelDifference,
    ) -> Vec<Batch> {
        let t = Target::Channel(channel_id);
        self.fetching.remove(&t);
        let new_message = |message| {
            enums::Update::NewChannelMessage(types::UpdateNewChannelMessage {
                message,
                pts: 0,
                pts_count: 0,
            })
        };
        let (is_final, batch) = match d {
            enums::updates::ChannelDifference::Empty(e) => {
                self.set_channel(channel_id, e.pts);
                (e.final_, None)
            }
            enums::updates::ChannelDifference::TooLong(x) => {
                if let enums::Dialog::Dialog(dialog) = &x.dialog {
                    if let Some(pts) = dialog.pts {
                        self.set_channel(channel_id, pts);
                    }
                }
                let updates = x.messages.into_iter().map(new_message).collect();
                (
                    x.final_,
                    Some(Batch {
                        updates,
                        users: x.users,
                        chats: x.chats,
                    }),
                )
            }
            enums::updates::ChannelDifference::ChannelDifference(x) => {
                self.set_channel(channel_id, x.pts);
                let mut updates: Vec<enums::Update> =
                    x.new_messages.into_iter().map(new_message).collect();
                updates.extend(x.other_updates);
                (
                    x.final_,
                    Some(Batch {
                        updates,
                        users: x.users,
                        chats: x.chats,
                    }),
                )
            }
        };
        let mut out: Vec<Batch> = batch
            .into_iter()
            .filter(|b| !b.updates.is_empty())
            .collect();
        if is_final {
            self.settle(now, BTreeSet::from([t]), &mut out);
        } else {
            // "If the returned difference is non-final, the method should
            // be called immediately with the new parameters."
            self.urgent.insert(t);
        }
        out
    }

    /// `updateShortMessage` as the `updateNewMessage` it stands for
    /// ("They should be transformed to updateShort upon receival").
    fn short_message(&self, s: types::UpdateShortMessage) -> enums::Update {
        let other = enums::Peer::User(types::PeerUser { user_id: s.user_id });
        let from = if s.out {
            self.self_id
                .map(|id| enums::Peer::User(types::PeerUser { user_id: id }))
        } else {
            Some(other.clone())
        };
        expand_short!(s, from, other)
    }
}

/// The `updateNewMessage` a short form stands for: its message built from
/// the fields both short forms share, with `from_id` and `peer_id` given.
macro_rules! expand_short {
    ($s:ident, $from:expr, $peer:expr) => {{
        let mut m = types::Message::placeholder();
        m.out = $s.out;
        m.mentioned = $s.mentioned;
        m.media_unread = $s.media_unread;
        m.silent = $s.silent;
        m.id = $s.id;
        m.from_id = $from;
        m.peer_id = $peer;
        m.message = $s.message;
        m.date = $s.date;
        m.fwd_from = $s.fwd_from;
        m.via_bot_id = $s.via_bot_id;
        m.reply_to = $s.reply_to;
        m.entities = $s.entities;
        m.ttl_period = $s.ttl_period;
        enums::Update::NewMessage(types::UpdateNewMessage {
            message: enums::Message::Message(m),
            pts: $s.pts,
            pts_count: $s.pts_count,
        })
    }};
}
use expand_short;

/// `updateShortChatMessage` as the `updateNewMessage` it stands for.
fn short_chat_message(s: types::UpdateShortChatMessage) -> enums::Update {
    let from = Some(enums::Peer::User(types::PeerUser { user_id: s.from_id }));
    let chat = enums::Peer::Chat(types::PeerChat { chat_id: s.chat_id });
    expand_short!(s, from, chat)
}

fn item(update: enums::Update) -> Item {
    Item {
        position: position(&update),
        update: Some(update),
    }
}
