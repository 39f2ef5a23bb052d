#![doc = include_str!("../README.md")]
//!
//! ## In detail
//!
//! A loopback MTProto 2.0 test server on tokio, a thin shell over the
//! sans-IO server role of `mtproto-connection` (transport detection, the
//! server handshake, a server session per auth key).
//!
//! The crate is split by job: [`server`](crate) (settings, events,
//! counters, the key store, the accept loop), `conn` (one connection's
//! socket I/O over a `Connection`), `dispatch` (a table from constructor id
//! to handler) and `faults` (scripted faults, fired through the
//! connection's admission policy and plain server operations).
//!
//! - Listens on `config.bind` (port 0 → [`TestServer::addr`] reports the port).
//! - Detects the transport of every connection (`mtproto_transport::detect`):
//!   abridged, intermediate, padded, full, obfuscated.
//! - Uses its own RSA key ([`TestServerConfig::rsa_key`], or one generated at
//!   start); legacy Telethon RSA is accepted too.
//! - Keeps an auth-key store shared by all connections: a client that comes
//!   back with a saved key needs no second handshake. Unknown keys get the
//!   transport error `-404`.
//! - A task per connection; a bad client (garbage, half handshake, sudden
//!   disconnect) only ends its own task.
//! - Survives abuse: connections, handshakes (in progress, per second, time
//!   to finish), stored keys, buffered input and output, time without a
//!   whole frame are all bounded by [`Limits`]; the crate's README has the
//!   table of defaults and what happens at each limit.
//! - Answers `get_future_salts` with real salts (per key, consecutive
//!   one-hour windows) and accepts them in their window; a client may start
//!   the handshake over on the same connection.
//!
//! # Requests
//!
//! `invokeWithLayer`, `initConnection`, `invokeWithoutUpdates` and
//! `invokeAfterMsg` wrappers are unwrapped first. Then:
//!
//! | request | answer |
//! |---|---|
//! | `ping` | `pong` (by the session) |
//! | `help.getConfig` | a `config` with this server as DC 2 |
//! | `contacts.resolveUsername` | the [`world`]'s user or channel; unknown `400 USERNAME_NOT_OCCUPIED`, malformed `400 USERNAME_INVALID` |
//! | `users.getUsers` | the world's users named with their access hash (others left out) |
//! | `channels.getChannels` | the world's channels; a wrong access hash `400 CHANNEL_INVALID` |
//! | `messages.sendMessage` | `updateShortSentMessage`; `updates` with `updateNewMessage` (`updateNewChannelMessage` in a channel) pushed to every other connection of every recipient |
//! | `auth.bindTempAuthKey` | `boolTrue` once every field of `bind_auth_key_inner` checks out (api/pfs); else `400 ENCRYPTED_MESSAGE_INVALID`, `EXPIRES_AT_INVALID`, `TEMP_AUTH_KEY_ALREADY_BOUND` or `TEMP_AUTH_KEY_EMPTY` |
//! | `auth.exportAuthorization` | a one-use token for another DC of the cluster (`400 DC_ID_INVALID` otherwise) |
//! | `auth.importAuthorization` | signs the key in as the token's user: `auth.authorization`; `400 AUTH_BYTES_INVALID`, `400 USER_ID_INVALID` |
//! | any other method under a temporary key not bound yet | `401 AUTH_KEY_UNREGISTERED` (only the binding and `help.getConfig` are allowed) |
//! | `messages.setTyping` | for the world's peers, `boolTrue` or the documented error of a wrong access hash (`400 PEER_ID_INVALID` for a user, `400 CHANNEL_INVALID` for a channel; the deleted user `400 INPUT_USER_DEACTIVATED`); for others, `boolTrue` or the error of the peer table below |
//! | anything else | `400 INPUT_METHOD_INVALID_<constructor id, decimal>` |
//! | a known method that does not decode | `400 INPUT_REQUEST_INVALID` |
//!
//! # The small world
//!
//! Alice (1001, `alice`), Bob (1002, `bob`), the bot Helper (1003,
//! `helper_bot`), a deleted account (1004), a basic group (3001), the
//! channel News (2001, `news`) and the supergroup Devs (2002, `devs`), each
//! with a fixed access hash: see [`world`]. Every connection acts as Alice
//! unless [`TestServer::sign_in`] (or `auth.importAuthorization`) binds its
//! key to another user; a bound temporary key acts for its permanent key.
//!
//! # Peer → error table (`messages.setTyping`, peers outside the world)
//!
//! | peer | error |
//! |---|---|
//! | `inputPeerEmpty` | `400 PEER_ID_INVALID` |
//! | `inputPeerChat` chat_id `400001` | `400 CHAT_ID_INVALID` |
//! | `inputPeerChat` chat_id `400002` | `400 CHAT_ADMIN_REQUIRED` |
//! | `inputPeerChat` chat_id `403001` | `403 CHAT_WRITE_FORBIDDEN` |
//! | `inputPeerChannel` channel_id `400101` | `400 CHANNEL_INVALID` |
//! | `inputPeerChannel` channel_id `400102` | `400 CHANNEL_PRIVATE` |
//! | `inputPeerChannel` channel_id `400103` | `400 USER_BANNED_IN_CHANNEL` |
//! | `inputPeerUser` user_id `400201` | `400 USER_IS_BLOCKED` |
//! | `inputPeerUser` user_id `400202` | `400 USER_IS_BOT` |
//! | `inputPeerUser` user_id `400203` | `400 INPUT_USER_DEACTIVATED` |
//! | `inputPeerUser` user_id `406001` | `406 AUTH_KEY_DUPLICATED` |
//! | `inputPeerUser` user_id `400299` | `400 YOU_BLOCKED_USER` (not documented for setTyping: tests `Other`) |
//! | `inputPeerUser` user_id `420000 + N` (N ≤ 999), access_hash `K` | `420 FLOOD_WAIT_N` for the first `K` such calls (server-wide, per (user_id, K)), then `true`; `K ≤ 0`: always |
//! | anything else | `true` |
//!
//! # Faults ([`Faults`])
//!
//! Drop a connection after N requests (a bounded number of times), rotate the
//! salt after N requests, run the clock skewed, send a `bad_msg_notification`
//! for the Nth packet, delay every answer.
//!
//! # A hostile server ([`Rule`])
//!
//! With [`Faults::violate`] set, the server breaks one rule of the
//! handshake, the packet layer or the transport on every occurrence
//! (`mtproto serve --violate RULE`; `--list-violations` prints them), so a
//! client can be checked to refuse each by name. See the README's table.

mod accounts;
mod authorization;
mod cluster;
mod conn;
mod dispatch;
mod faults;
pub mod hostile;
mod keys;
mod limits;
mod server;
pub mod world;

pub use cluster::{TestCluster, MAX_DCS};
pub use faults::Faults;
pub use hostile::Rule;
pub use limits::Limits;
pub use server::{ServerEvent, StatsSnapshot, TestServer, TestServerConfig, TEST_RSA_PRIVATE_PEM};
