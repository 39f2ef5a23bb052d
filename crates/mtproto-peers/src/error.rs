//! Why a peer could not be resolved.

use core::fmt;

use mtproto_tl::RpcError;

/// Why a peer could not be resolved: the form it was given in, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerError {
    /// The text is no peer form (see [`PeerRef`](crate::PeerRef)'s `FromStr`).
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

pub(crate) fn unparsable(text: &str, reason: &'static str) -> PeerError {
    PeerError::Unparsable {
        text: text.to_owned(),
        reason,
    }
}
