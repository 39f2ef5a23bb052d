#![doc = include_str!("../README.md")]
//!
//! ## In detail
//!
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
//! | Bot-API chat id | `1001` (user), `-3001` (basic group), `-1000000002001` (channel or supergroup) | the cache (a basic group needs nothing) |
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

mod cache;
mod error;
mod peer_ref;
mod resolve;
mod saved;
#[cfg(test)]
mod tests;

pub use cache::{PeerCache, MAX_CACHED_PEERS};
pub use error::PeerError;
pub use peer_ref::{peer_from_bot_api_id, PeerRef, BOT_API_CHANNEL_BASE};
pub use resolve::Resolved;
pub use saved::PeerCacheError;
