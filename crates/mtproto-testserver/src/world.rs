//! The test server's small world: a few users, a basic group, a channel and
//! a supergroup, each with a fixed id and access hash, so that naming peers
//! (by username, by Bot-API id, from an update) can be tested end to end.
//!
//! | peer | kind | id | access hash | username |
//! |---|---|---|---|---|
//! | Alice | user | 1001 | `ALICE_HASH` = 7310010010011001 | `alice` |
//! | Bob | user | 1002 | 7310010010021002 | `bob` |
//! | Helper | bot | 1003 | 7310010010031003 | `helper_bot` |
//! | (deleted account) | user, deleted | 1004 | 7310010010041004 | — |
//! | Test group | basic group | 3001 | — (basic groups have none) | — |
//! | News | channel (broadcast) | 2001 | 7320010020012001 | `news` |
//! | Devs | supergroup | 2002 | 7320010020022002 | `devs` |
//!
//! Every connection acts as Alice unless
//! [`TestServer::sign_in`](crate::TestServer::sign_in) binds its auth key to
//! another user. Alice, Bob and Helper are members of the three groups.
//!
//! A username is 3 to 32 characters of `a-z`, `0-9` and `_`, starting with
//! a letter and not ending with `_` (Telegram asks 5 for new usernames;
//! shorter ones exist, and the world has `bob`); case does not matter.

use std::collections::HashMap;

use mtproto_session::RpcError;
use mtproto_tl::api::{enums, types};
use mtproto_tl::support::Placeholder;
use tokio::sync::mpsc;

/// Alice's user id: every connection acts as Alice by default.
pub const ALICE: i64 = 1001;

/// A user of the world.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorldUser {
    /// User id.
    pub id: i64,
    /// Access hash (the same for every viewer).
    pub access_hash: i64,
    /// First name.
    pub first_name: &'static str,
    /// Username, if any.
    pub username: Option<&'static str>,
    /// A bot.
    pub bot: bool,
    /// A deleted account.
    pub deleted: bool,
}

/// A channel or supergroup of the world.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorldChannel {
    /// Channel id.
    pub id: i64,
    /// Access hash.
    pub access_hash: i64,
    /// Title.
    pub title: &'static str,
    /// Username.
    pub username: &'static str,
    /// A supergroup (else a broadcast channel).
    pub megagroup: bool,
}

/// The users (see the module docs).
pub const USERS: &[WorldUser] = &[
    WorldUser {
        id: ALICE,
        access_hash: 7_310_010_010_011_001,
        first_name: "Alice",
        username: Some("alice"),
        bot: false,
        deleted: false,
    },
    WorldUser {
        id: 1002,
        access_hash: 7_310_010_010_021_002,
        first_name: "Bob",
        username: Some("bob"),
        bot: false,
        deleted: false,
    },
    WorldUser {
        id: 1003,
        access_hash: 7_310_010_010_031_003,
        first_name: "Helper",
        username: Some("helper_bot"),
        bot: true,
        deleted: false,
    },
    WorldUser {
        id: 1004,
        access_hash: 7_310_010_010_041_004,
        first_name: "",
        username: None,
        bot: false,
        deleted: true,
    },
];

/// The channel and the supergroup.
pub const CHANNELS: &[WorldChannel] = &[
    WorldChannel {
        id: 2001,
        access_hash: 7_320_010_020_012_001,
        title: "News",
        username: "news",
        megagroup: false,
    },
    WorldChannel {
        id: 2002,
        access_hash: 7_320_010_020_022_002,
        title: "Devs",
        username: "devs",
        megagroup: true,
    },
];

/// The basic group: (id, title).
pub const BASIC_GROUP: (i64, &str) = (3001, "Test group");

/// Members of every group of the world.
const MEMBERS: &[i64] = &[ALICE, 1002, 1003];

/// A world user by id.
pub fn user(id: i64) -> Option<&'static WorldUser> {
    USERS.iter().find(|u| u.id == id)
}

/// A world channel by id.
pub fn channel(id: i64) -> Option<&'static WorldChannel> {
    CHANNELS.iter().find(|c| c.id == id)
}

fn rpc(code: i32, message: &str) -> RpcError {
    RpcError::parse(code, message)
}

/// Whether `name` is a well-formed username (see the module docs).
pub fn username_is_valid(name: &str) -> bool {
    let b = name.as_bytes();
    (3..=32).contains(&b.len())
        && b[0].is_ascii_alphabetic()
        && b.last() != Some(&b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// A peer of the world, as a request named it (access hash checked).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// A user.
    User(&'static WorldUser),
    /// The basic group.
    BasicGroup,
    /// A channel or supergroup.
    Channel(&'static WorldChannel),
}

impl Target {
    /// The TL peer.
    pub(crate) fn peer(self) -> enums::Peer {
        match self {
            Self::User(u) => enums::Peer::User(types::PeerUser { user_id: u.id }),
            Self::BasicGroup => enums::Peer::Chat(types::PeerChat {
                chat_id: BASIC_GROUP.0,
            }),
            Self::Channel(c) => enums::Peer::Channel(types::PeerChannel { channel_id: c.id }),
        }
    }
}

/// What `messages.setTyping` and `messages.sendMessage` make of an
/// `InputPeer` naming a world peer: `Ok(None)` when it names none (the
/// earlier peer table decides), the documented error of that kind of peer
/// for a wrong access hash.
pub(crate) fn input_peer(me: i64, peer: &enums::InputPeer) -> Result<Option<Target>, RpcError> {
    match peer {
        enums::InputPeer::InputPeerSelf => Ok(user(me).map(Target::User)),
        enums::InputPeer::User(p) => match user(p.user_id) {
            Some(u) if u.access_hash != p.access_hash => Err(rpc(400, "PEER_ID_INVALID")),
            Some(u) if u.deleted => Err(rpc(400, "INPUT_USER_DEACTIVATED")),
            Some(u) => Ok(Some(Target::User(u))),
            None => Ok(None),
        },
        enums::InputPeer::Chat(c) if c.chat_id == BASIC_GROUP.0 => Ok(Some(Target::BasicGroup)),
        enums::InputPeer::Channel(p) => match channel(p.channel_id) {
            Some(c) if c.access_hash != p.access_hash => Err(rpc(400, "CHANNEL_INVALID")),
            Some(c) => Ok(Some(Target::Channel(c))),
            None => Ok(None),
        },
        _ => Ok(None),
    }
}

/// The boxed TL `user` as `viewer` sees it.
pub(crate) fn user_tl(u: &WorldUser, viewer: i64) -> enums::User {
    let mut x = types::User::placeholder();
    x.id = u.id;
    x.self_ = u.id == viewer;
    x.access_hash = Some(u.access_hash);
    x.deleted = u.deleted;
    if !u.deleted {
        x.first_name = Some(u.first_name.to_owned());
        x.username = u.username.map(str::to_owned);
    }
    if u.bot {
        x.bot = true;
        x.bot_info_version = Some(1);
    }
    enums::User::User(x)
}

/// The boxed TL `channel`.
pub(crate) fn channel_tl(c: &WorldChannel) -> enums::Chat {
    let mut x = types::Channel::placeholder();
    x.id = c.id;
    x.access_hash = Some(c.access_hash);
    x.title = c.title.to_owned();
    x.username = Some(c.username.to_owned());
    x.broadcast = !c.megagroup;
    x.megagroup = c.megagroup;
    x.photo = enums::ChatPhoto::Empty;
    x.date = 1_700_000_000;
    x.participants_count = i32::try_from(MEMBERS.len()).ok();
    enums::Chat::Channel(x)
}

/// The boxed TL `chat` (the basic group).
pub(crate) fn basic_group_tl() -> enums::Chat {
    let mut x = types::Chat::placeholder();
    x.id = BASIC_GROUP.0;
    x.title = BASIC_GROUP.1.to_owned();
    x.photo = enums::ChatPhoto::Empty;
    x.participants_count = i32::try_from(MEMBERS.len()).unwrap_or(0);
    x.date = 1_700_000_000;
    x.version = 1;
    enums::Chat::Chat(x)
}

/// The boxed TL `message` with the fields the world sets.
fn message_tl(
    id: i32,
    out: bool,
    from: i64,
    peer: enums::Peer,
    date: i32,
    text: &str,
) -> enums::Message {
    let mut m = types::Message::placeholder();
    m.id = id;
    m.out = out;
    m.from_id = Some(enums::Peer::User(types::PeerUser { user_id: from }));
    m.peer_id = peer;
    m.date = date;
    m.message = text.to_owned();
    enums::Message::Message(m)
}

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

/// The world's state: who each auth key is, message ids and `pts` per
/// account, and the connections updates are pushed to.
#[derive(Debug, Default)]
pub(crate) struct WorldState {
    /// auth_key_id → user id (absent: Alice). Set by the embedding program
    /// only ([`TestServer::sign_in`](crate::TestServer::sign_in)).
    accounts: HashMap<u64, i64>,
    /// user id → pts of its message box.
    pts: HashMap<i64, i32>,
    /// channel id → pts.
    channel_pts: HashMap<i64, i32>,
    /// The last message id given.
    last_message_id: i32,
    /// connection id → listener; one per open connection with a key.
    listeners: HashMap<u64, Listener>,
    /// Updates dropped because a connection's queue was full.
    pub(crate) dropped_updates: u64,
}

/// A message sent: the answer for the sender (`updateShortSentMessage`).
pub(crate) struct Sent {
    /// The answer.
    pub(crate) answer: enums::Updates,
}

impl WorldState {
    /// The user an auth key acts as.
    pub(crate) fn account(&self, auth_key_id: Option<u64>) -> i64 {
        auth_key_id
            .and_then(|k| self.accounts.get(&k).copied())
            .unwrap_or(ALICE)
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

    /// `messages.sendMessage` from `me` on connection `conn`: stores
    /// nothing but counters, pushes `updates` with the new message to every
    /// other connection of every recipient, and returns the sender's
    /// `updateShortSentMessage`.
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
        let mut channel_pts = None;
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
                let p = self.channel_pts.entry(c.id).or_insert(0);
                *p = p.saturating_add(1);
                channel_pts = Some(*p);
            }
        }
        let mut my_pts = 0;
        for r in recipients {
            let peer = match target {
                Target::User(u) if r == me => Target::User(u).peer(),
                Target::User(_) => Target::User(sender).peer(),
                t => t.peer(),
            };
            let message = message_tl(id, r == me, me, peer, date, text);
            let update = match channel_pts {
                Some(pts) => enums::Update::NewChannelMessage(types::UpdateNewChannelMessage {
                    message,
                    pts,
                    pts_count: 1,
                }),
                None => {
                    let p = self.pts.entry(r).or_insert(0);
                    *p = p.saturating_add(1);
                    if r == me {
                        my_pts = *p;
                    }
                    enums::Update::NewMessage(types::UpdateNewMessage {
                        message,
                        pts: *p,
                        pts_count: 1,
                    })
                }
            };
            let updates = enums::Updates::Updates(types::Updates {
                updates: vec![update],
                users: users.clone(),
                chats: chats.clone(),
                date,
                seq: 0,
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

    #[test]
    fn world_objects_round_trip() {
        use mtproto_tl::{Deserialize, Serialize};
        for u in USERS {
            let t = user_tl(u, ALICE);
            assert_eq!(enums::User::from_bytes(&t.to_bytes()).unwrap(), t);
        }
        for c in CHANNELS {
            let t = channel_tl(c);
            assert_eq!(enums::Chat::from_bytes(&t.to_bytes()).unwrap(), t);
        }
        let g = basic_group_tl();
        assert_eq!(enums::Chat::from_bytes(&g.to_bytes()).unwrap(), g);
        let peer = enums::Peer::User(types::PeerUser { user_id: 1002 });
        let m = message_tl(1, true, ALICE, peer, 5, "hi");
        assert_eq!(enums::Message::from_bytes(&m.to_bytes()).unwrap(), m);
    }

    #[test]
    fn usernames() {
        for ok in ["alice", "bob", "helper_bot", "News", "a1_b"] {
            assert!(username_is_valid(ok), "{ok}");
        }
        for bad in ["", "ab", "1abc", "abc_", "a-b-c", "ab c", &"a".repeat(33)] {
            assert!(!username_is_valid(bad), "{bad}");
        }
    }

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
