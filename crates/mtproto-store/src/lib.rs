#![doc = include_str!("../README.md")]
//!
//! ## In detail
//!
//! Session storage for MTProto clients: what a client must keep to come
//! back without a new handshake, without losing its peers or its place in
//! the update sequence.
//!
//! - [`StoredSession`]: every DC's auth key, salt, time offset and address,
//!   the home DC, the peer cache ([`mtproto_peers::PeerCache`]) and the
//!   update state ([`UpdateState`]).
//! - Its file format ([`StoredSession::to_bytes`], [`format`](mod@crate::format)): versioned
//!   and checksummed; a file from an unknown version, a truncated or a
//!   corrupted one is refused with a [`StoreError`] saying which (never a
//!   panic, never a silent reset).
//! - [`SessionStore`]: where it lives. [`MemoryStore`] and [`FileStore`]
//!   (written atomically: a fresh temporary file, `fsync`, `rename`, then
//!   the folder synced; mode 0600).
//! - [`telethon`]: Telethon's `StringSession` strings, imported and
//!   exported.
//!
//! ```
//! use mtproto_store::{FileStore, SessionStore, StoredSession};
//! let dir = std::env::temp_dir().join(format!("mtproto-store-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let store = FileStore::new(dir.join("session.mtrs"));
//! assert_eq!(store.load().unwrap(), None); // nothing saved yet
//! let mut s = StoredSession::new(2);
//! s.dc_mut(2).salt = 7;
//! store.save(&s).unwrap();
//! assert_eq!(store.load().unwrap(), Some(s));
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

mod base64;
mod error;
mod file;
pub mod format;
mod session;
pub mod telethon;

pub use error::StoreError;
pub use file::{write_atomic, FileStore};
pub use session::{StoredDc, StoredSession, UpdateState};

use std::sync::Mutex;

/// Where a client keeps its [`StoredSession`]. Implementations must be
/// usable from several threads; `save` replaces what was saved whole.
pub trait SessionStore: Send + Sync + core::fmt::Debug {
    /// What was saved last, or `None` if nothing was ever saved.
    fn load(&self) -> Result<Option<StoredSession>, StoreError>;
    /// Saves `session`, replacing what was there.
    fn save(&self, session: &StoredSession) -> Result<(), StoreError>;
}

/// A store in memory (tests, or programs that persist on their own).
#[derive(Debug, Default)]
pub struct MemoryStore {
    saved: Mutex<Option<StoredSession>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl SessionStore for MemoryStore {
    fn load(&self) -> Result<Option<StoredSession>, StoreError> {
        Ok(self
            .saved
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone())
    }

    fn save(&self, session: &StoredSession) -> Result<(), StoreError> {
        *self
            .saved
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(session.clone());
        Ok(())
    }
}
