//! [`PeerRef`]: the forms a peer is named in, parsed from text or TL.

use mtproto_tl::api::{enums, types};
use mtproto_tl::Deserialize;

use crate::error::{unparsable, PeerError};

/// Bot-API ids of channels and supergroups are `-(10^12 + channel_id)`:
/// written `-100` followed by the channel id.
pub const BOT_API_CHANNEL_BASE: i64 = 1_000_000_000_000;

/// A peer as a user names it. See the [crate docs](crate).
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
