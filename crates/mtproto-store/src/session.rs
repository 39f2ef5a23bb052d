//! What is stored: [`StoredSession`], [`StoredDc`], and the
//! [`UpdateState`] of `mtproto-updates`.

use std::net::SocketAddr;

use mtproto_crypto::AuthKey;
use mtproto_peers::PeerCache;
pub use mtproto_updates::UpdateState;

/// One data centre as the client knows it.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredDc {
    /// DC id.
    pub id: i32,
    /// Where it was reached, if known.
    pub addr: Option<SocketAddr>,
    /// The permanent auth key made with it, if any.
    pub auth_key: Option<AuthKey>,
    /// The latest server salt.
    pub salt: i64,
    /// Server time minus local time, seconds.
    pub time_offset: i64,
}

impl core::fmt::Debug for StoredDc {
    // Never the key: its id only.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StoredDc")
            .field("id", &self.id)
            .field("addr", &self.addr)
            .field(
                "auth_key_id",
                &self
                    .auth_key
                    .as_ref()
                    .map(|k| format!("{:016x}", k.id_u64())),
            )
            .field("time_offset", &self.time_offset)
            .finish_non_exhaustive()
    }
}

impl StoredDc {
    /// A DC with nothing known but its id.
    pub fn new(id: i32) -> Self {
        Self {
            id,
            addr: None,
            auth_key: None,
            salt: 0,
            time_offset: 0,
        }
    }
}

/// Everything a client keeps between runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSession {
    /// The DC the account lives on (requests go there first).
    pub home_dc: i32,
    /// Every DC known, with its key if one was made; at most
    /// [`MAX_DCS`](crate::format::MAX_DCS).
    pub dcs: Vec<StoredDc>,
    /// Access hashes and usernames seen.
    pub peers: PeerCache,
    /// The update state.
    pub updates: UpdateState,
}

impl StoredSession {
    /// A session homed on `home_dc`, with nothing else known yet.
    pub fn new(home_dc: i32) -> Self {
        Self {
            home_dc,
            dcs: vec![StoredDc::new(home_dc)],
            peers: PeerCache::new(),
            updates: UpdateState::default(),
        }
    }

    /// The entry of DC `id`, if known.
    pub fn dc(&self, id: i32) -> Option<&StoredDc> {
        self.dcs.iter().find(|d| d.id == id)
    }

    /// The entry of DC `id`, added if missing.
    pub fn dc_mut(&mut self, id: i32) -> &mut StoredDc {
        let at = match self.dcs.iter().position(|d| d.id == id) {
            Some(i) => i,
            None => {
                self.dcs.push(StoredDc::new(id));
                self.dcs.len() - 1
            }
        };
        &mut self.dcs[at]
    }

    /// The home DC's entry, if known.
    pub fn home(&self) -> Option<&StoredDc> {
        self.dc(self.home_dc)
    }
}
