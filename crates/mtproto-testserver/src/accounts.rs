//! The accounts of the world: who each auth key is, each account's message
//! box (`pts`, `seq`, a bounded log of its messages for
//! `updates.getDifference`), each channel's, and the connections updates
//! are pushed to.

use std::collections::{HashMap, VecDeque};

use mtproto_session::RpcError;
use mtproto_tl::api::{enums, types};
use tokio::sync::mpsc;

use crate::world::{
    basic_group_tl, channel_tl, message_tl, rpc, user, user_tl, Target, ALICE, MEMBERS,
};

/// Pushed updates a connection may have waiting; more are dropped (and
/// counted): a client that does not read loses updates, as with Telegram,
/// and must fetch the difference.
pub const MAX_QUEUED_UPDATES: usize = 64;

/// A connection that can receive pushed updates.
#[derive(Debug)]
struct Listener {
    auth_key_id: u64,
    tx: mpsc::Sender<Vec<u8>>,
}

/// Messages kept per message box for `updates.getDifference`; older ones
/// make the difference `differenceTooLong`.
pub(crate) const MAX_LOGGED: usize = 1000;

/// Messages one difference carries at most (more: a slice, or a channel
/// difference that is not final).
pub(crate) const DIFFERENCE_LIMIT: usize = 100;

/// One event of a message box: the message it created, with the users and
/// chats it mentions.
#[derive(Debug)]
struct Logged {
    pts: i32,
    message: enums::Message,
    users: Vec<enums::User>,
    chats: Vec<enums::Chat>,
}

/// A message box: its `pts`, and its latest events.
#[derive(Debug, Default)]
struct MessageBox {
    pts: i32,
    log: VecDeque<Logged>,
}

impl MessageBox {
    fn add(
        &mut self,
        message: enums::Message,
        users: Vec<enums::User>,
        chats: Vec<enums::Chat>,
    ) -> i32 {
        self.pts = self.pts.saturating_add(1);
        if self.log.len() >= MAX_LOGGED {
            self.log.pop_front();
        }
        self.log.push_back(Logged {
            pts: self.pts,
            message,
            users,
            chats,
        });
        self.pts
    }

    /// The events after `pts`: `None` if some of them are no longer kept.
    fn after(&self, pts: i32) -> Option<Vec<&Logged>> {
        let first_kept = self
            .log
            .front()
            .map_or(self.pts.saturating_add(1), |l| l.pts);
        if pts.saturating_add(1) < first_kept && pts < self.pts {
            return None;
        }
        Some(self.log.iter().filter(|l| l.pts > pts).collect())
    }
}

/// An account: its message box and its `seq`.
#[derive(Debug, Default)]
struct Account {
    messages: MessageBox,
    seq: i32,
}

/// The world's state: who each auth key is, each account's message box and
/// `seq`, each channel's message box, and the connections updates are
/// pushed to.
#[derive(Debug, Default)]
pub(crate) struct WorldState {
    /// auth_key_id → user id (absent: Alice). Set by the embedding program
    /// only ([`TestServer::sign_in`](crate::TestServer::sign_in)).
    accounts: HashMap<u64, i64>,
    /// user id → its message box and seq (world users only: at most 4).
    boxes: HashMap<i64, Account>,
    /// channel id → its message box (world channels only: at most 2).
    channels: HashMap<i64, MessageBox>,
    /// The last message id given.
    last_message_id: i32,
    /// connection id → listener; one per open connection with a key.
    listeners: HashMap<u64, Listener>,
    /// Updates dropped because a connection's queue was full.
    pub(crate) dropped_updates: u64,
    /// Authorizations exported to another DC, not imported yet.
    exports: crate::authorization::Exports,
}

/// A message sent: the answer for the sender (`updateShortSentMessage`).
pub(crate) struct Sent {
    /// The answer.
    pub(crate) answer: enums::Updates,
}

fn state(pts: i32, seq: i32, date: i32) -> enums::updates::State {
    enums::updates::State::State(types::updates::State {
        pts,
        qts: 0,
        date,
        seq,
        unread_count: 0,
    })
}

/// Users and chats of several events, each once.
fn union(events: &[&Logged]) -> (Vec<enums::User>, Vec<enums::Chat>) {
    let mut users: Vec<enums::User> = Vec::new();
    let mut chats: Vec<enums::Chat> = Vec::new();
    for e in events {
        for u in &e.users {
            if !users.contains(u) {
                users.push(u.clone());
            }
        }
        for c in &e.chats {
            if !chats.contains(c) {
                chats.push(c.clone());
            }
        }
    }
    (users, chats)
}

impl WorldState {
    /// The user an auth key acts as.
    pub(crate) fn account(&self, auth_key_id: Option<u64>) -> i64 {
        auth_key_id
            .and_then(|k| self.accounts.get(&k).copied())
            .unwrap_or(ALICE)
    }

    /// The authorizations exported and not yet imported.
    pub(crate) fn exports_mut(&mut self) -> &mut crate::authorization::Exports {
        &mut self.exports
    }

    /// Binds an auth key to a world user; `false` if there is no such user.
    pub(crate) fn sign_in(&mut self, auth_key_id: u64, user_id: i64) -> bool {
        if user(user_id).is_none() {
            return false;
        }
        self.accounts.insert(auth_key_id, user_id);
        true
    }

    /// Registers (or re-registers, under another key) connection `conn`.
    pub(crate) fn listen(&mut self, conn: u64, auth_key_id: u64, tx: mpsc::Sender<Vec<u8>>) {
        self.listeners.insert(conn, Listener { auth_key_id, tx });
    }

    /// Forgets connection `conn`.
    pub(crate) fn unlisten(&mut self, conn: u64) {
        self.listeners.remove(&conn);
    }

    /// `updates.getState` for `me`.
    pub(crate) fn get_state(&self, me: i64, date: i32) -> enums::updates::State {
        let a = self.boxes.get(&me);
        state(
            a.map_or(0, |a| a.messages.pts),
            a.map_or(0, |a| a.seq),
            date,
        )
    }

    /// `updates.getDifference` for `me` from `pts`.
    pub(crate) fn get_difference(
        &self,
        me: i64,
        pts: i32,
        date: i32,
    ) -> enums::updates::Difference {
        let (current, seq) = self
            .boxes
            .get(&me)
            .map_or((0, 0), |a| (a.messages.pts, a.seq));
        let empty = MessageBox::default();
        let mbox = self.boxes.get(&me).map_or(&empty, |a| &a.messages);
        let Some(events) = mbox.after(pts) else {
            return enums::updates::Difference::TooLong(types::updates::DifferenceTooLong {
                pts: current,
            });
        };
        if events.is_empty() {
            return enums::updates::Difference::Empty(types::updates::DifferenceEmpty {
                date,
                seq,
            });
        }
        let slice = events.len() > DIFFERENCE_LIMIT;
        let events = &events[..events.len().min(DIFFERENCE_LIMIT)];
        let (users, chats) = union(events);
        let new_messages = events.iter().map(|e| e.message.clone()).collect();
        let last = events.last().map_or(pts, |e| e.pts);
        if slice {
            enums::updates::Difference::Slice(types::updates::DifferenceSlice {
                new_messages,
                new_encrypted_messages: Vec::new(),
                other_updates: Vec::new(),
                chats,
                users,
                intermediate_state: state(last, seq, date),
            })
        } else {
            enums::updates::Difference::Difference(types::updates::Difference {
                new_messages,
                new_encrypted_messages: Vec::new(),
                other_updates: Vec::new(),
                chats,
                users,
                state: state(current, seq, date),
            })
        }
    }

    /// `updates.getChannelDifference` for a world channel from `pts`.
    pub(crate) fn get_channel_difference(
        &self,
        channel_id: i64,
        pts: i32,
        limit: usize,
    ) -> enums::updates::ChannelDifference {
        let empty = MessageBox::default();
        let mbox = self.channels.get(&channel_id).unwrap_or(&empty);
        // What is no longer kept is skipped: the pts moves past it.
        let events = mbox.after(pts).unwrap_or_else(|| mbox.log.iter().collect());
        if events.is_empty() {
            return enums::updates::ChannelDifference::Empty(
                types::updates::ChannelDifferenceEmpty {
                    final_: true,
                    pts: mbox.pts.max(pts),
                    timeout: None,
                },
            );
        }
        let limit = limit.clamp(1, DIFFERENCE_LIMIT);
        let final_ = events.len() <= limit;
        let events = &events[..events.len().min(limit)];
        let (users, chats) = union(events);
        enums::updates::ChannelDifference::ChannelDifference(types::updates::ChannelDifference {
            final_,
            pts: events.last().map_or(pts, |e| e.pts),
            timeout: None,
            new_messages: events.iter().map(|e| e.message.clone()).collect(),
            other_updates: Vec::new(),
            chats,
            users,
        })
    }

    /// `messages.sendMessage` from `me` on connection `conn`: logs the
    /// message in every recipient's message box (or the channel's), pushes
    /// `updates` with it to every other connection of every recipient
    /// (`seq` counted per account; channel updates carry `seq` 0), and
    /// returns the sender's `updateShortSentMessage`.
    pub(crate) fn send_message(
        &mut self,
        me: i64,
        conn: u64,
        target: Target,
        text: &str,
        date: i32,
    ) -> Result<Sent, RpcError> {
        if text.is_empty() {
            return Err(rpc(400, "MESSAGE_EMPTY"));
        }
        if text.chars().count() > 4096 {
            return Err(rpc(400, "MESSAGE_TOO_LONG"));
        }
        let sender = user(me).ok_or_else(|| rpc(400, "PEER_ID_INVALID"))?;
        let recipients: Vec<i64> = match target {
            Target::User(u) if u.bot && sender.bot => return Err(rpc(400, "USER_IS_BOT")),
            Target::User(u) if u.id == me => vec![me],
            Target::User(u) => vec![me, u.id],
            Target::Channel(c) if !c.megagroup && me != ALICE => {
                return Err(rpc(403, "CHAT_WRITE_FORBIDDEN"))
            }
            Target::BasicGroup | Target::Channel(_) => MEMBERS.to_vec(),
        };
        self.last_message_id = self.last_message_id.saturating_add(1);
        let id = self.last_message_id;
        let mut chats = Vec::new();
        let mut users: Vec<enums::User> = Vec::new();
        match target {
            Target::User(u) => {
                users.push(user_tl(sender, u.id));
                if u.id != me {
                    users.push(user_tl(u, me));
                }
            }
            Target::BasicGroup => {
                users.push(user_tl(sender, 0));
                chats.push(basic_group_tl());
            }
            Target::Channel(c) => {
                users.push(user_tl(sender, 0));
                chats.push(channel_tl(c));
            }
        }
        // A channel has one box for everyone.
        let channel_pts = match target {
            Target::Channel(c) => {
                let m = message_tl(id, false, me, target.peer(), date, text);
                Some(
                    self.channels
                        .entry(c.id)
                        .or_default()
                        .add(m, users.clone(), chats.clone()),
                )
            }
            _ => None,
        };
        let mut my_pts = 0;
        for r in recipients {
            let peer = match target {
                Target::User(u) if r == me => Target::User(u).peer(),
                Target::User(_) => Target::User(sender).peer(),
                t => t.peer(),
            };
            let message = message_tl(id, r == me, me, peer, date, text);
            let (update, seq) = match channel_pts {
                Some(pts) => (
                    enums::Update::NewChannelMessage(types::UpdateNewChannelMessage {
                        message,
                        pts,
                        pts_count: 1,
                    }),
                    0,
                ),
                None => {
                    let account = self.boxes.entry(r).or_default();
                    let pts = account
                        .messages
                        .add(message.clone(), users.clone(), chats.clone());
                    if r == me {
                        my_pts = pts;
                    }
                    account.seq = account.seq.saturating_add(1);
                    (
                        enums::Update::NewMessage(types::UpdateNewMessage {
                            message,
                            pts,
                            pts_count: 1,
                        }),
                        account.seq,
                    )
                }
            };
            let updates = enums::Updates::Updates(types::Updates {
                updates: vec![update],
                users: users.clone(),
                chats: chats.clone(),
                date,
                seq,
            });
            self.push(r, conn, &mtproto_tl::Serialize::to_bytes(&updates));
        }
        let pts = channel_pts.unwrap_or(my_pts);
        Ok(Sent {
            answer: enums::Updates::UpdateShortSentMessage(types::UpdateShortSentMessage {
                out: true,
                id,
                pts,
                pts_count: 1,
                date,
                media: None,
                entities: None,
                ttl_period: None,
            }),
        })
    }

    /// Queues `body` on every connection of `account` but `except`.
    fn push(&mut self, account: i64, except: u64, body: &[u8]) {
        let accounts = &self.accounts;
        let mut dropped = 0;
        for (conn, l) in &self.listeners {
            let who = accounts.get(&l.auth_key_id).copied().unwrap_or(ALICE);
            if *conn != except && who == account && l.tx.try_send(body.to_vec()).is_err() {
                dropped += 1;
            }
        }
        self.dropped_updates += dropped;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::world::user;

    #[test]
    fn messages_go_to_the_other_sessions_of_each_recipient() {
        use mtproto_tl::Deserialize;
        let mut w = WorldState::default();
        let (tx1, mut rx1) = mpsc::channel(4);
        let (tx2, mut rx2) = mpsc::channel(4);
        let (tx3, mut rx3) = mpsc::channel(4);
        w.listen(1, 11, tx1);
        w.listen(2, 12, tx2);
        w.listen(3, 13, tx3);
        assert!(w.sign_in(13, 1002));
        assert!(!w.sign_in(14, 999));
        let bob = Target::User(user(1002).unwrap());
        let sent = w.send_message(ALICE, 1, bob, "hi", 7).unwrap();
        let enums::Updates::UpdateShortSentMessage(s) = sent.answer else {
            panic!("not updateShortSentMessage");
        };
        assert_eq!((s.id, s.pts, s.out), (1, 1, true));
        // Connection 1 sent it; 2 is Alice's other session, 3 is Bob's.
        assert!(rx1.try_recv().is_err());
        let mine = enums::Updates::from_bytes(&rx2.try_recv().unwrap()).unwrap();
        let theirs = enums::Updates::from_bytes(&rx3.try_recv().unwrap()).unwrap();
        let out_flag = |u: &enums::Updates| match u {
            enums::Updates::Updates(x) => match &x.updates[0] {
                enums::Update::NewMessage(n) => match &n.message {
                    enums::Message::Message(m) => (m.out, m.peer_id.clone()),
                    _ => panic!(),
                },
                _ => panic!(),
            },
            _ => panic!(),
        };
        assert_eq!(out_flag(&mine), (true, bob.peer()));
        let alice_peer = enums::Peer::User(types::PeerUser { user_id: ALICE });
        assert_eq!(out_flag(&theirs), (false, alice_peer));
        assert_eq!(
            w.send_message(ALICE, 1, bob, "", 7).err(),
            Some(rpc(400, "MESSAGE_EMPTY"))
        );
    }
}
