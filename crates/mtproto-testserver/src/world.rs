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

use mtproto_session::RpcError;
use mtproto_tl::api::{enums, types};
use mtproto_tl::support::Placeholder;

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
pub use crate::accounts::MAX_QUEUED_UPDATES;

/// Members of every group of the world.
pub(crate) const MEMBERS: &[i64] = &[ALICE, 1002, 1003];

/// A world user by id.
pub fn user(id: i64) -> Option<&'static WorldUser> {
    USERS.iter().find(|u| u.id == id)
}

/// A world channel by id.
pub fn channel(id: i64) -> Option<&'static WorldChannel> {
    CHANNELS.iter().find(|c| c.id == id)
}

pub(crate) fn rpc(code: i32, message: &str) -> RpcError {
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
pub(crate) fn message_tl(
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
}
