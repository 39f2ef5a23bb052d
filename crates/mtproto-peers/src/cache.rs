//! [`PeerCache`]: access hashes and usernames learned from results and
//! updates.

use std::collections::HashMap;

use mtproto_tl::api::{enums, types};
use mtproto_tl::Deserialize;

/// A known access hash: `min` when it came from a `min` object (valid
/// only in the context it was seen in).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Known {
    pub(crate) access_hash: i64,
    pub(crate) min: bool,
}

/// Which kind of peer a username names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Named {
    User(i64),
    Channel(i64),
}

/// Most entries of each map in a [`PeerCache`]; a new entry then replaces
/// an arbitrary one.
pub const MAX_CACHED_PEERS: usize = 100_000;

/// Access hashes and usernames learned from results and updates.
///
/// `min` objects (whose hash is only valid in the message they came with)
/// never overwrite full ones. Each map holds at most [`MAX_CACHED_PEERS`].
/// The binary form ([`to_bytes`](Self::to_bytes)) is saved with the
/// session.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerCache {
    pub(crate) users: HashMap<i64, Known>,
    pub(crate) channels: HashMap<i64, Known>,
    pub(crate) usernames: HashMap<String, Named>,
}

pub(crate) fn bounded_insert<K: Eq + core::hash::Hash + Clone, V>(
    map: &mut HashMap<K, V>,
    k: K,
    v: V,
) {
    if !map.contains_key(&k) && map.len() >= MAX_CACHED_PEERS {
        if let Some(old) = map.keys().next().cloned() {
            map.remove(&old);
        }
    }
    map.insert(k, v);
}

fn remember(map: &mut HashMap<i64, Known>, id: i64, new: Known) {
    // "min" objects never overwrite full ones.
    if new.min && map.get(&id).is_some_and(|k| !k.min) {
        return;
    }
    bounded_insert(map, id, new);
}

impl PeerCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Users and channels known.
    pub fn len(&self) -> usize {
        self.users.len() + self.channels.len()
    }

    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Learns from one user.
    pub fn add_user(&mut self, user: &enums::User) {
        let enums::User::User(u) = user else {
            return;
        };
        if let Some(h) = u.access_hash {
            remember(
                &mut self.users,
                u.id,
                Known {
                    access_hash: h,
                    min: u.min,
                },
            );
        }
        self.learn_names(
            u.username.as_deref(),
            u.usernames.as_deref(),
            Named::User(u.id),
        );
    }

    /// Records a peer's username and its other (collectible) usernames.
    fn learn_names(&mut self, main: Option<&str>, more: Option<&[enums::Username]>, named: Named) {
        let more = more
            .unwrap_or_default()
            .iter()
            .map(|enums::Username::Username(n)| n.username.as_str());
        for n in main.into_iter().chain(more) {
            bounded_insert(&mut self.usernames, n.to_ascii_lowercase(), named);
        }
    }

    /// Learns from one chat (channels and supergroups carry hashes; basic
    /// groups need none).
    pub fn add_chat(&mut self, chat: &enums::Chat) {
        match chat {
            enums::Chat::Channel(c) => {
                if let Some(h) = c.access_hash {
                    remember(
                        &mut self.channels,
                        c.id,
                        Known {
                            access_hash: h,
                            min: c.min,
                        },
                    );
                }
                self.learn_names(
                    c.username.as_deref(),
                    c.usernames.as_deref(),
                    Named::Channel(c.id),
                );
            }
            enums::Chat::ChannelForbidden(c) => remember(
                &mut self.channels,
                c.id,
                Known {
                    access_hash: c.access_hash,
                    min: false,
                },
            ),
            _ => {}
        }
    }

    /// Learns from any boxed object with `users`/`chats` at its top level
    /// (a result, or a pushed update), and from a `Vector<User>` or
    /// `Vector<Chat>`. Returns whether anything was read.
    pub fn absorb(&mut self, bytes: &[u8]) -> bool {
        if let Some(Ok((users, chats))) = mtproto_tl::api::users_and_chats(bytes) {
            users.iter().for_each(|u| self.add_user(u));
            chats.iter().for_each(|c| self.add_chat(c));
            return true;
        }
        // vector#1cb5c415 count, then the first element's constructor id.
        let id_at = |at: usize| {
            bytes
                .get(at..at + 4)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map(u32::from_le_bytes)
        };
        if id_at(0) != Some(0x1cb5c415) {
            return false;
        }
        let Some(first) = id_at(8) else {
            return false;
        };
        if mtproto_tl::api::name_for_id(first).is_some_and(|n| n.starts_with("user")) {
            if let Ok(v) = Vec::<enums::User>::from_bytes(bytes) {
                v.iter().for_each(|u| self.add_user(u));
                return true;
            }
        }
        if let Ok(v) = Vec::<enums::Chat>::from_bytes(bytes) {
            v.iter().for_each(|c| self.add_chat(c));
            return true;
        }
        false
    }

    /// The `InputPeer` of a `Peer`, if its hash is known (a basic group
    /// needs none). `min` hashes are not used outside their message.
    pub fn input_peer(&self, peer: &enums::Peer) -> Option<enums::InputPeer> {
        match peer {
            enums::Peer::User(u) => self.users.get(&u.user_id).filter(|k| !k.min).map(|k| {
                enums::InputPeer::User(types::InputPeerUser {
                    user_id: u.user_id,
                    access_hash: k.access_hash,
                })
            }),
            enums::Peer::Chat(c) => Some(enums::InputPeer::Chat(types::InputPeerChat {
                chat_id: c.chat_id,
            })),
            enums::Peer::Channel(c) => {
                self.channels
                    .get(&c.channel_id)
                    .filter(|k| !k.min)
                    .map(|k| {
                        enums::InputPeer::Channel(types::InputPeerChannel {
                            channel_id: c.channel_id,
                            access_hash: k.access_hash,
                        })
                    })
            }
        }
    }

    /// The peer a username names, if it was seen.
    pub fn username(&self, name: &str) -> Option<enums::Peer> {
        self.usernames
            .get(&name.to_ascii_lowercase())
            .map(|n| match *n {
                Named::User(id) => enums::Peer::User(types::PeerUser { user_id: id }),
                Named::Channel(id) => enums::Peer::Channel(types::PeerChannel { channel_id: id }),
            })
    }
}
