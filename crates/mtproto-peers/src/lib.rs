//! Naming peers the way users do ([`PeerRef`]) and the cache of access
//! hashes that makes it possible ([`PeerCache`]). Sans-IO: the one network
//! step, `contacts.resolveUsername` for a username not seen before, is the
//! caller's ([`PeerCache::resolve`] says when; `mtproto-client` does it).
//!
//! A request names a user or a channel with its id *and* the access hash
//! this account was given for it; a basic group needs only its id. The
//! client learns hashes from every result and update carrying `users` or
//! `chats` (`mtproto_tl::api::users_and_chats`) and keeps them in the
//! [`PeerCache`], which is saved with the session. A peer is then named by:
//!
//! | form | example | resolved by |
//! |---|---|---|
//! | username | `@alice`, `alice`, `t.me/alice`, `https://t.me/alice` | the cache, else `contacts.resolveUsername` |
//! | Bot-API chat id | `1001` (user), `-3001` (basic group), `-1002001` (channel or supergroup) | the cache (a basic group needs nothing) |
//! | `Peer` | `peerUser { user_id: 1001 }` | the cache |
//! | `Message` | a received message | its chat (`peer_id`); its sender where a user is wanted |
//! | `Update` | `updateNewMessage`, `updateUserTyping`, ... | the peer it concerns |
//! | `InputPeer` | `self`, `user:1001:HASH`, `chat:3001`, `channel:2001:HASH` | itself |
//!
//! A peer that cannot be resolved is a [`PeerError`] saying which form and
//! why; an access hash is never made up.
//!
//! ```
//! use mtproto_peers::PeerRef;
//! assert_eq!("@alice".parse::<PeerRef>(), Ok(PeerRef::Username("alice".into())));
//! assert_eq!("https://t.me/news".parse::<PeerRef>(), Ok(PeerRef::Username("news".into())));
//! assert_eq!("-1002001".parse::<PeerRef>(), Ok(PeerRef::BotApiId(-1002001)));
//! ```

use core::fmt;
use std::collections::HashMap;

use mtproto_tl::api::{enums, types};
use mtproto_tl::Deserialize;

use mtproto_tl::RpcError;

/// Bot-API ids of channels and supergroups are `-(10^12 + channel_id)`:
/// written `-100` followed by the channel id.
const BOT_API_CHANNEL_BASE: i64 = 1_000_000_000_000;

/// A peer as a user names it. See the [module docs](self).
#[derive(Clone, Debug, PartialEq)]
pub enum PeerRef {
    /// A username, without `@` (`alice`).
    Username(String),
    /// A Bot-API chat id: positive for a user, `-ID` for a basic group,
    /// `-100ID` for a channel or supergroup.
    BotApiId(i64),
    /// A `Peer` (a user, chat or channel id).
    Peer(enums::Peer),
    /// An `InputPeer`, used as it is.
    Input(enums::InputPeer),
    /// A message: its chat, or its sender where a user is wanted.
    Message(Box<enums::Message>),
    /// An update: the peer it concerns.
    Update(Box<enums::Update>),
}

impl From<enums::InputPeer> for PeerRef {
    fn from(p: enums::InputPeer) -> Self {
        Self::Input(p)
    }
}

impl From<enums::Peer> for PeerRef {
    fn from(p: enums::Peer) -> Self {
        Self::Peer(p)
    }
}

impl From<enums::Message> for PeerRef {
    fn from(m: enums::Message) -> Self {
        Self::Message(Box::new(m))
    }
}

impl From<enums::Update> for PeerRef {
    fn from(u: enums::Update) -> Self {
        Self::Update(Box::new(u))
    }
}

/// Why a peer could not be resolved: the form it was given in, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerError {
    /// The text is no peer form (see [`PeerRef`]'s `FromStr`).
    Unparsable {
        /// The text.
        text: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The serialized bytes are no Update, Message, Peer or InputPeer.
    UnknownTl {
        /// Why.
        reason: String,
    },
    /// The peer's access hash is not in the cache: name it once by
    /// username, or from a result or update that carries it.
    NotCached {
        /// The form the peer was given in (`"Bot-API id"`, `"Peer"`, ...).
        form: &'static str,
        /// `user`, `channel`.
        kind: &'static str,
        /// Its id.
        id: i64,
    },
    /// The update or message names no peer (`updateDeleteMessages`,
    /// `messageEmpty` without `peer_id`, ...).
    NoPeer {
        /// The form.
        form: &'static str,
        /// The constructor.
        what: &'static str,
    },
    /// A user was wanted, and the peer is a group or channel.
    NotAUser {
        /// The form.
        form: &'static str,
    },
    /// The Bot-API id is 0 or outside every range.
    InvalidBotApiId(i64),
    /// The server refused the username (`USERNAME_NOT_OCCUPIED`,
    /// `USERNAME_INVALID`, ...).
    Username {
        /// The username.
        username: String,
        /// The server's error.
        error: RpcError,
    },
    /// `contacts.resolveUsername` answered with a peer it did not describe.
    Unresolved {
        /// The username.
        username: String,
    },
}

impl fmt::Display for PeerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unparsable { text, reason } => write!(f, "peer {text:?}: {reason}"),
            Self::UnknownTl { reason } => {
                write!(
                    f,
                    "tl peer: not an Update, Message, Peer or InputPeer ({reason})"
                )
            }
            Self::NotCached { form, kind, id } => write!(
                f,
                "{form}: {kind} {id} has no known access hash (name it by username first, \
                 or from a result or update that carries it)"
            ),
            Self::NoPeer { form, what } => write!(f, "{form}: {what} names no peer"),
            Self::NotAUser { form } => {
                write!(f, "{form}: a user is wanted, this is a group or channel")
            }
            Self::InvalidBotApiId(id) => {
                write!(f, "Bot-API id {id}: not a user, group or channel id")
            }
            Self::Username { username, error } => write!(f, "username @{username}: {error}"),
            Self::Unresolved { username } => {
                write!(
                    f,
                    "username @{username}: the answer did not describe the peer"
                )
            }
        }
    }
}

impl std::error::Error for PeerError {}

fn unparsable(text: &str, reason: &'static str) -> PeerError {
    PeerError::Unparsable {
        text: text.to_owned(),
        reason,
    }
}

/// Whether `name` can be a username: 3 to 32 of `a-z`, `0-9`, `_`, starting
/// with a letter (Telegram's own checks are the server's).
fn username_chars(name: &str) -> bool {
    let b = name.as_bytes();
    (3..=32).contains(&b.len())
        && b[0].is_ascii_alphabetic()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

fn parse_id(text: &str, s: &str) -> Result<i64, PeerError> {
    s.parse()
        .map_err(|_| unparsable(text, "the id or access hash is not a number"))
}

impl core::str::FromStr for PeerRef {
    type Err = PeerError;

    /// `@name`, `name`, `t.me/name` (`https://`, `telegram.me`, a trailing
    /// message number allowed), a Bot-API id, or an `InputPeer` spec:
    /// `self`, `empty`, `user:ID:HASH`, `chat:ID`, `channel:ID:HASH`.
    fn from_str(text: &str) -> Result<Self, PeerError> {
        let t = text.trim();
        let parts: Vec<&str> = t.split(':').collect();
        let input = match parts.as_slice() {
            ["self"] => Some(enums::InputPeer::InputPeerSelf),
            ["empty"] => Some(enums::InputPeer::Empty),
            ["user", id, hash] => Some(enums::InputPeer::User(types::InputPeerUser {
                user_id: parse_id(text, id)?,
                access_hash: parse_id(text, hash)?,
            })),
            ["chat", id] => Some(enums::InputPeer::Chat(types::InputPeerChat {
                chat_id: parse_id(text, id)?,
            })),
            ["channel", id, hash] => Some(enums::InputPeer::Channel(types::InputPeerChannel {
                channel_id: parse_id(text, id)?,
                access_hash: parse_id(text, hash)?,
            })),
            _ => None,
        };
        if let Some(p) = input {
            return Ok(Self::Input(p));
        }
        if let Ok(id) = t.parse::<i64>() {
            return Ok(Self::BotApiId(id));
        }
        let link = ["https://", "http://", ""].iter().find_map(|scheme| {
            let rest = t.strip_prefix(scheme)?;
            ["t.me/", "telegram.me/", "telegram.dog/"]
                .iter()
                .find_map(|host| rest.strip_prefix(host))
        });
        let name = match (link, t.strip_prefix('@')) {
            // t.me/name, t.me/name/123 (a message in it), t.me/name?start=x
            (Some(path), _) => path.split(['/', '?', '#']).next().unwrap_or_default(),
            (None, Some(n)) => n,
            (None, None) => t,
        };
        if username_chars(name) {
            Ok(Self::Username(name.to_ascii_lowercase()))
        } else {
            Err(unparsable(
                text,
                "not a username, t.me link, Bot-API id or InputPeer spec \
                 (self, empty, user:ID:HASH, chat:ID, channel:ID:HASH)",
            ))
        }
    }
}

impl PeerRef {
    /// A TL-serialized (boxed) `Update`, `Message`, `Peer` or `InputPeer`.
    pub fn from_tl(bytes: &[u8]) -> Result<Self, PeerError> {
        let mut why = Vec::new();
        match enums::InputPeer::from_bytes(bytes) {
            Ok(p) => return Ok(Self::Input(p)),
            Err(e) => why.push(e),
        }
        match enums::Peer::from_bytes(bytes) {
            Ok(p) => return Ok(Self::Peer(p)),
            Err(e) => why.push(e),
        }
        match enums::Message::from_bytes(bytes) {
            Ok(m) => return Ok(Self::from(m)),
            Err(e) => why.push(e),
        }
        match enums::Update::from_bytes(bytes) {
            Ok(u) => Ok(Self::from(u)),
            Err(e) => Err(PeerError::UnknownTl {
                reason: if bytes.len() < 4 {
                    format!("{} bytes", bytes.len())
                } else {
                    e.to_string()
                },
            }),
        }
    }

    /// The form's name, for errors.
    pub fn form(&self) -> &'static str {
        match self {
            Self::Username(_) => "username",
            Self::BotApiId(_) => "Bot-API id",
            Self::Peer(_) => "Peer",
            Self::Input(_) => "InputPeer",
            Self::Message(_) => "Message",
            Self::Update(_) => "Update",
        }
    }
}

/// A `Peer` from a Bot-API id.
pub fn peer_from_bot_api_id(id: i64) -> Result<enums::Peer, PeerError> {
    let invalid = PeerError::InvalidBotApiId(id);
    if id > 0 {
        return Ok(enums::Peer::User(types::PeerUser { user_id: id }));
    }
    // 0 and i64::MIN (whose negation overflows) name nothing.
    let n = id.checked_neg().filter(|n| *n > 0).ok_or(invalid.clone())?;
    match n.cmp(&BOT_API_CHANNEL_BASE) {
        core::cmp::Ordering::Less => Ok(enums::Peer::Chat(types::PeerChat { chat_id: n })),
        core::cmp::Ordering::Equal => Err(invalid),
        core::cmp::Ordering::Greater => Ok(enums::Peer::Channel(types::PeerChannel {
            channel_id: n - BOT_API_CHANNEL_BASE,
        })),
    }
}

/// A known access hash: `min` when it came from a `min` object (valid
/// only in the context it was seen in).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Known {
    access_hash: i64,
    min: bool,
}

/// Which kind of peer a username names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Named {
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
    users: HashMap<i64, Known>,
    channels: HashMap<i64, Known>,
    usernames: HashMap<String, Named>,
}

fn bounded_insert<K: Eq + core::hash::Hash + Clone, V>(map: &mut HashMap<K, V>, k: K, v: V) {
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
        let names = u.username.iter().cloned().chain(
            u.usernames
                .iter()
                .flatten()
                .map(|enums::Username::Username(n)| n.username.clone()),
        );
        for n in names {
            bounded_insert(
                &mut self.usernames,
                n.to_ascii_lowercase(),
                Named::User(u.id),
            );
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
                let names = c.username.iter().cloned().chain(
                    c.usernames
                        .iter()
                        .flatten()
                        .map(|enums::Username::Username(n)| n.username.clone()),
                );
                for n in names {
                    bounded_insert(
                        &mut self.usernames,
                        n.to_ascii_lowercase(),
                        Named::Channel(c.id),
                    );
                }
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

/// `"MTPC"`, then the version.
const MAGIC: &[u8; 4] = b"MTPC";
const VERSION: u8 = 1;

/// Why saved cache bytes were refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerCacheError {
    /// Not `"MTPC"`.
    Magic,
    /// A version this build does not know.
    Version(u8),
    /// Cut short, or a count larger than the bytes left.
    Truncated,
    /// A username that is not UTF-8, or bytes after the end.
    Malformed,
}

impl fmt::Display for PeerCacheError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Magic => f.write_str("not a peer cache (bad magic)"),
            Self::Version(v) => write!(f, "unsupported peer cache version {v}"),
            Self::Truncated => f.write_str("peer cache cut short"),
            Self::Malformed => f.write_str("malformed peer cache"),
        }
    }
}

impl std::error::Error for PeerCacheError {}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], PeerCacheError> {
        if self.0.len() < n {
            return Err(PeerCacheError::Truncated);
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u32(&mut self) -> Result<u32, PeerCacheError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn i64(&mut self) -> Result<i64, PeerCacheError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_le_bytes(a))
    }
    /// A count whose entries take at least `min_each` bytes each.
    fn count(&mut self, min_each: usize) -> Result<usize, PeerCacheError> {
        let n = usize::try_from(self.u32()?).map_err(|_| PeerCacheError::Truncated)?;
        if n.saturating_mul(min_each) > self.0.len() {
            return Err(PeerCacheError::Truncated);
        }
        Ok(n)
    }
}

impl PeerCache {
    /// The binary form: `"MTPC"`, version `1`, then (little-endian) the
    /// users and the channels, each a `u32` count of `(id:i64,
    /// access_hash:i64, min:u8)`, then the usernames, a `u32` count of
    /// `(kind:u8 (0 user, 1 channel), id:i64, len:u8, UTF-8 name)`. Entries
    /// are sorted, so equal caches give equal bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        for map in [&self.users, &self.channels] {
            let mut rows: Vec<(&i64, &Known)> = map.iter().collect();
            rows.sort();
            out.extend_from_slice(&u32::try_from(rows.len()).unwrap_or(0).to_le_bytes());
            for (id, k) in rows {
                out.extend_from_slice(&id.to_le_bytes());
                out.extend_from_slice(&k.access_hash.to_le_bytes());
                out.push(u8::from(k.min));
            }
        }
        let mut names: Vec<(&String, &Named)> = self
            .usernames
            .iter()
            .filter(|(n, _)| n.len() <= usize::from(u8::MAX))
            .collect();
        names.sort_by(|a, b| a.0.cmp(b.0));
        out.extend_from_slice(&u32::try_from(names.len()).unwrap_or(0).to_le_bytes());
        for (name, named) in names {
            let (kind, id) = match *named {
                Named::User(id) => (0u8, id),
                Named::Channel(id) => (1u8, id),
            };
            out.push(kind);
            out.extend_from_slice(&id.to_le_bytes());
            out.push(u8::try_from(name.len()).unwrap_or(0));
            out.extend_from_slice(name.as_bytes());
        }
        out
    }

    /// Reads [`to_bytes`](Self::to_bytes)'s form; a typed error for
    /// anything else, never a panic.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PeerCacheError> {
        let mut c = Cursor(bytes);
        if c.take(4)? != MAGIC {
            return Err(PeerCacheError::Magic);
        }
        let v = c.take(1)?[0];
        if v != VERSION {
            return Err(PeerCacheError::Version(v));
        }
        let mut cache = Self::new();
        for which in 0..2 {
            let n = c.count(17)?;
            for _ in 0..n {
                let id = c.i64()?;
                let access_hash = c.i64()?;
                let min = c.take(1)?[0] != 0;
                let map = if which == 0 {
                    &mut cache.users
                } else {
                    &mut cache.channels
                };
                bounded_insert(map, id, Known { access_hash, min });
            }
        }
        let n = c.count(10)?;
        for _ in 0..n {
            let kind = c.take(1)?[0];
            let id = c.i64()?;
            let len = usize::from(c.take(1)?[0]);
            let name = core::str::from_utf8(c.take(len)?).map_err(|_| PeerCacheError::Malformed)?;
            let named = match kind {
                0 => Named::User(id),
                1 => Named::Channel(id),
                _ => return Err(PeerCacheError::Malformed),
            };
            bounded_insert(&mut cache.usernames, name.to_owned(), named);
        }
        if !c.0.is_empty() {
            return Err(PeerCacheError::Malformed);
        }
        Ok(cache)
    }
}

/// What [`PeerCache::resolve`] found.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolved {
    /// The `InputPeer` to send.
    Ready(enums::InputPeer),
    /// A username the cache has not seen: ask the server.
    AskServer(String),
}

/// The peer a message is in (its chat).
fn message_chat(m: &enums::Message) -> Option<&enums::Peer> {
    match m {
        enums::Message::Message(m) => Some(&m.peer_id),
        enums::Message::Service(m) => Some(&m.peer_id),
        enums::Message::Empty(m) => m.peer_id.as_ref(),
    }
}

/// The message's sender: `from_id`, or the chat itself in a private chat
/// (where Telegram may leave `from_id` out).
fn message_sender(m: &enums::Message) -> Option<(&enums::Peer, i32)> {
    match m {
        enums::Message::Message(x) => Some((x.from_id.as_ref().unwrap_or(&x.peer_id), x.id)),
        enums::Message::Service(x) => Some((x.from_id.as_ref().unwrap_or(&x.peer_id), x.id)),
        enums::Message::Empty(_) => None,
    }
}

/// What an update concerns: its message, or a peer.
enum Concern<'a> {
    Message(&'a enums::Message),
    Peer(enums::Peer),
    /// A user acting in a chat (`updateChatUserTyping`, ...): the chat and
    /// the user.
    UserIn(enums::Peer, enums::Peer),
}

fn update_concern(u: &enums::Update) -> Result<Concern<'_>, PeerError> {
    let no_peer = |what| PeerError::NoPeer {
        form: "Update",
        what,
    };
    match u {
        enums::Update::NewMessage(x) => Ok(Concern::Message(&x.message)),
        enums::Update::NewChannelMessage(x) => Ok(Concern::Message(&x.message)),
        enums::Update::UserTyping(x) => Ok(Concern::Peer(enums::Peer::User(types::PeerUser {
            user_id: x.user_id,
        }))),
        enums::Update::ChatUserTyping(x) => Ok(Concern::UserIn(
            enums::Peer::Chat(types::PeerChat { chat_id: x.chat_id }),
            x.from_id.clone(),
        )),
        enums::Update::ChannelUserTyping(x) => Ok(Concern::UserIn(
            enums::Peer::Channel(types::PeerChannel {
                channel_id: x.channel_id,
            }),
            x.from_id.clone(),
        )),
        enums::Update::MessageId(_) => Err(no_peer("updateMessageID")),
        enums::Update::DeleteMessages(_) => Err(no_peer("updateDeleteMessages")),
        // The full layer's other updates (the default schema has only the
        // ones above).
        #[allow(unreachable_patterns)]
        _ => Err(no_peer("this update")),
    }
}

fn not_cached(form: &'static str, peer: &enums::Peer) -> PeerError {
    let (kind, id) = match peer {
        enums::Peer::User(u) => ("user", u.user_id),
        enums::Peer::Chat(c) => ("chat", c.chat_id),
        enums::Peer::Channel(c) => ("channel", c.channel_id),
    };
    PeerError::NotCached { form, kind, id }
}

impl PeerCache {
    fn known(&self, form: &'static str, peer: &enums::Peer) -> Result<enums::InputPeer, PeerError> {
        self.input_peer(peer).ok_or_else(|| not_cached(form, peer))
    }

    /// The sender of message `msg_id` in `chat`: from the cache, else
    /// `inputPeerUserFromMessage` (how Telegram names a user seen only in
    /// a message).
    fn sender(
        &self,
        form: &'static str,
        chat: &enums::Peer,
        sender: &enums::Peer,
        msg_id: i32,
    ) -> Result<enums::InputPeer, PeerError> {
        if let Some(p) = self.input_peer(sender) {
            return Ok(p);
        }
        let enums::Peer::User(u) = sender else {
            return Err(not_cached(form, sender));
        };
        let chat = self.known(form, chat)?;
        Ok(enums::InputPeer::UserFromMessage(
            types::InputPeerUserFromMessage {
                peer: Box::new(chat),
                msg_id,
                user_id: u.user_id,
            },
        ))
    }

    /// Resolves a peer without the network: everything but a username not
    /// seen before, for which it answers [`Resolved::AskServer`] (call
    /// `contacts.resolveUsername`, [`absorb`](Self::absorb) the answer,
    /// then take its `peer` to [`input_peer`](Self::input_peer)). With
    /// `want_user`, a message or update gives its sender.
    pub fn resolve(&self, peer: &PeerRef, want_user: bool) -> Result<Resolved, PeerError> {
        Ok(match self.resolve_offline(peer, want_user)? {
            Some(p) => Resolved::Ready(p),
            None => Resolved::AskServer(match peer {
                PeerRef::Username(n) => n.clone(),
                _ => String::new(),
            }),
        })
    }

    fn resolve_offline(
        &self,
        peer: &PeerRef,
        want_user: bool,
    ) -> Result<Option<enums::InputPeer>, PeerError> {
        let form = peer.form();
        let chat_or_sender = |m: &enums::Message| -> Result<enums::InputPeer, PeerError> {
            let chat = message_chat(m).ok_or(PeerError::NoPeer {
                form,
                what: "messageEmpty",
            })?;
            if !want_user {
                return self.known(form, chat);
            }
            let (sender, id) = message_sender(m).ok_or(PeerError::NoPeer {
                form,
                what: "messageEmpty",
            })?;
            self.sender(form, chat, sender, id)
        };
        Ok(Some(match peer {
            PeerRef::Input(p) => p.clone(),
            PeerRef::Username(name) => match self.username(name) {
                Some(p) => self.known(form, &p)?,
                None => return Ok(None),
            },
            PeerRef::BotApiId(id) => self.known(form, &peer_from_bot_api_id(*id)?)?,
            PeerRef::Peer(p) => self.known(form, p)?,
            PeerRef::Message(m) => chat_or_sender(m)?,
            PeerRef::Update(u) => match update_concern(u)? {
                Concern::Message(m) => chat_or_sender(m)?,
                Concern::Peer(p) => self.known(form, &p)?,
                Concern::UserIn(_, user) if want_user => self.known(form, &user)?,
                Concern::UserIn(chat, _) => self.known(form, &chat)?,
            },
        }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn user(id: i64, hash: i64, min: bool, name: Option<&str>) -> enums::User {
        // user#b1b8cc83 with flags, flags2, id = 0, then typed.
        let mut b = 0xb1b8cc83_u32.to_le_bytes().to_vec();
        b.extend_from_slice(&[0; 16]);
        let enums::User::User(mut u) = enums::User::from_bytes(&b).unwrap() else {
            panic!()
        };
        u.id = id;
        u.access_hash = Some(hash);
        u.min = min;
        u.username = name.map(str::to_owned);
        enums::User::User(u)
    }

    #[test]
    fn string_forms() {
        let p = |s: &str| s.parse::<PeerRef>();
        for s in [
            "@alice",
            "alice",
            "ALICE",
            "t.me/alice",
            "https://t.me/alice/12",
            "http://telegram.me/alice?start=1",
        ] {
            assert_eq!(p(s), Ok(PeerRef::Username("alice".into())), "{s}");
        }
        assert_eq!(p("1001"), Ok(PeerRef::BotApiId(1001)));
        assert_eq!(p("-3001"), Ok(PeerRef::BotApiId(-3001)));
        assert_eq!(
            p("self"),
            Ok(PeerRef::Input(enums::InputPeer::InputPeerSelf))
        );
        assert_eq!(
            p("chat:3001"),
            Ok(PeerRef::Input(enums::InputPeer::Chat(
                types::InputPeerChat { chat_id: 3001 }
            )))
        );
        for bad in [
            "", "@", "@a", "t.me/", "user:1", "user:x:1", "a b", "1abc", "@al-ice",
        ] {
            assert!(p(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bot_api_ids() {
        let peer = |id| peer_from_bot_api_id(id).unwrap();
        assert_eq!(
            peer(1001),
            enums::Peer::User(types::PeerUser { user_id: 1001 })
        );
        assert_eq!(
            peer(-3001),
            enums::Peer::Chat(types::PeerChat { chat_id: 3001 })
        );
        assert_eq!(
            peer(-1002001),
            enums::Peer::Chat(types::PeerChat { chat_id: 1002001 })
        );
        assert_eq!(
            peer(-1_000_000_002_001),
            enums::Peer::Channel(types::PeerChannel { channel_id: 2001 })
        );
        assert!(peer_from_bot_api_id(0).is_err());
        assert!(peer_from_bot_api_id(-BOT_API_CHANNEL_BASE).is_err());
        assert!(peer_from_bot_api_id(i64::MIN).is_err());
        assert!(peer_from_bot_api_id(i64::MIN + 1).is_ok());
    }

    #[test]
    fn min_never_overwrites_full_and_the_form_round_trips() {
        let mut c = PeerCache::new();
        c.add_user(&user(7, 70, false, Some("Seven")));
        c.add_user(&user(7, 71, true, None));
        let seven = enums::Peer::User(types::PeerUser { user_id: 7 });
        let want = enums::InputPeer::User(types::InputPeerUser {
            user_id: 7,
            access_hash: 70,
        });
        assert_eq!(c.input_peer(&seven), Some(want.clone()));
        assert_eq!(c.username("seven"), Some(seven.clone()));
        // A min user alone is not used outside its message.
        c.add_user(&user(8, 80, true, None));
        let eight = enums::Peer::User(types::PeerUser { user_id: 8 });
        assert_eq!(c.input_peer(&eight), None);
        // A full one replaces a min one.
        c.add_user(&user(8, 81, false, None));
        assert!(c.input_peer(&eight).is_some());
        let again = PeerCache::from_bytes(&c.to_bytes()).unwrap();
        assert_eq!(again, c);
        assert_eq!(again.to_bytes(), c.to_bytes());
    }

    #[test]
    fn saved_caches_are_checked() {
        let c = {
            let mut c = PeerCache::new();
            c.add_user(&user(7, 70, false, Some("seven")));
            c.to_bytes()
        };
        for cut in 0..c.len() {
            assert!(PeerCache::from_bytes(&c[..cut]).is_err(), "{cut}");
        }
        let mut v = c.clone();
        v[4] = 9;
        assert_eq!(PeerCache::from_bytes(&v), Err(PeerCacheError::Version(9)));
        let mut extra = c.clone();
        extra.push(0);
        assert_eq!(
            PeerCache::from_bytes(&extra),
            Err(PeerCacheError::Malformed)
        );
        // A count far beyond the bytes is refused before anything is read.
        let mut huge = b"MTPC\x01".to_vec();
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(PeerCache::from_bytes(&huge), Err(PeerCacheError::Truncated));
    }
}
