//! The auth-key store: permanent and temporary keys, at most
//! `limits.max_auth_keys`, the least recently used evicted first; which
//! temporary key is bound to which permanent one (api/pfs).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;

use mtproto_connection::KeyStore;
use mtproto_crypto::AuthKey;
use mtproto_session::pfs::BindError;
use mtproto_session::session::{Config, KeyReplayWindow};
use rand::RngCore;

use crate::limits::lock;
use crate::server::{now, Inner, FUTURE_SALT_WINDOW_SECS};

/// Server time, seconds.
pub(crate) fn now_secs() -> i64 {
    i64::try_from(now().as_secs()).unwrap_or(i64::MAX)
}

/// One stored auth key.
#[derive(Debug)]
pub(crate) struct KeyEntry {
    key: AuthKey,
    salt: i64,
    /// When it was last used (a tick of [`Keys::tick`]).
    used: u64,
    /// (valid_since, valid_until, salt), server time, consecutive windows.
    future: Vec<(i32, i32, i64)>,
    /// The key's replay window, shared by its connections and sessions
    /// (evicted with the key).
    replay: KeyReplayWindow,
    /// A temporary key (api/pfs): until when it lives, and the permanent
    /// key it is bound to.
    temp: Option<TempKey>,
    /// A permanent key: the temporary key bound to it ("Each permanent key
    /// may only be bound to one temporary key at a time").
    bound_temp: Option<u64>,
}

/// What the server knows of a temporary key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TempKey {
    /// Its handshake's time plus `expires_in` (server time): then it is
    /// forgotten.
    pub(crate) expires_at: i64,
    /// The permanent key it is bound to.
    pub(crate) bound: Option<u64>,
}

/// The auth-key store: at most `max_auth_keys`, least recently used first out.
#[derive(Debug, Default)]
pub(crate) struct Keys {
    map: HashMap<u64, KeyEntry>,
    /// Last-use tick → key id, oldest first.
    lru: BTreeMap<u64, u64>,
    tick: u64,
}

impl Keys {
    /// Marks `id` used now.
    fn touch(&mut self, id: u64) {
        self.tick += 1;
        let tick = self.tick;
        if let Some(e) = self.map.get_mut(&id) {
            self.lru.remove(&e.used);
            e.used = tick;
            self.lru.insert(tick, id);
        }
    }

    /// Stores a key, evicting the least recently used ones beyond `max`;
    /// returns how many were evicted.
    fn insert(&mut self, key: AuthKey, salt: i64, max: usize) -> u64 {
        let id = key.id_u64();
        let mut evicted = 0;
        if !self.map.contains_key(&id) {
            while self.map.len() >= max.max(1) {
                let Some((_, old)) = self.lru.pop_first() else {
                    break;
                };
                self.map.remove(&old);
                evicted += 1;
            }
        }
        let future = Vec::new();
        if let Some(e) = self.map.insert(
            id,
            KeyEntry {
                key,
                salt,
                used: 0,
                future,
                replay: KeyReplayWindow::new(Config::default().replay_window),
                temp: None,
                bound_temp: None,
            },
        ) {
            self.lru.remove(&e.used);
        }
        self.tick += 1;
        let tick = self.tick;
        if let Some(e) = self.map.get_mut(&id) {
            e.used = tick;
        }
        self.lru.insert(tick, id);
        evicted
    }
}

/// The server's auth keys, shared by its connections: at most
/// `limits.max_auth_keys`, the least recently used evicted first.
impl KeyStore for Inner {
    fn get(&self, auth_key_id: u64) -> Option<(AuthKey, i64)> {
        let mut st = lock(&self.store);
        st.forget_if_expired(auth_key_id, now_secs());
        let found = st.map.get(&auth_key_id).map(|e| (e.key.clone(), e.salt))?;
        st.touch(auth_key_id);
        Some(found)
    }

    fn contains(&self, auth_key_id: u64) -> bool {
        let mut st = lock(&self.store);
        st.forget_if_expired(auth_key_id, now_secs());
        st.map.contains_key(&auth_key_id)
    }

    fn insert(&self, key: AuthKey, salt: i64) {
        let evicted = lock(&self.store).insert(key, salt, self.limits.max_auth_keys);
        self.stats
            .evicted_keys
            .fetch_add(evicted, Ordering::Relaxed);
    }

    /// Consecutive one-hour windows from `now_secs` on, as many as a
    /// `get_future_salts` may ask for (64), kept per key: the same salts for
    /// every connection, the expired ones dropped, new ones added at the end.
    fn future_salts(&self, auth_key_id: u64, now_secs: i64) -> Vec<(i32, i32, i64)> {
        let mut st = lock(&self.store);
        let Some(e) = st.map.get_mut(&auth_key_id) else {
            return Vec::new();
        };
        let now = i32::try_from(now_secs).unwrap_or(i32::MAX);
        e.future.retain(|&(_, until, _)| until > now);
        while e.future.len() < mtproto_connection::MAX_FUTURE_SALTS {
            let since = e.future.last().map_or(now, |&(_, until, _)| until);
            let Some(until) = since.checked_add(FUTURE_SALT_WINDOW_SECS) else {
                break;
            };
            let salt = i64::from_le_bytes(rand::rngs::OsRng.next_u64().to_le_bytes());
            e.future.push((since, until, salt));
        }
        e.future.clone()
    }

    fn replay_window(&self, auth_key_id: u64) -> Option<KeyReplayWindow> {
        lock(&self.store)
            .map
            .get(&auth_key_id)
            .map(|e| e.replay.clone())
    }
}

impl Keys {
    /// How many keys are stored.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// How many permanent keys are stored.
    pub(crate) fn permanent(&self) -> usize {
        self.map.values().filter(|e| e.temp.is_none()).count()
    }

    /// The future salts held for a key.
    pub(crate) fn future_of(&self, id: u64) -> Vec<(i32, i32, i64)> {
        self.map
            .get(&id)
            .map(|e| e.future.clone())
            .unwrap_or_default()
    }

    /// api/pfs: "A temporary authorization key may expire at any moment
    /// before expires_at, since such keys are also stored only in the RAM
    /// on the server-side": one past its expiry is forgotten (a packet
    /// under it then draws transport error -404).
    fn forget_if_expired(&mut self, id: u64, now: i64) {
        let expired = self
            .map
            .get(&id)
            .and_then(|e| e.temp)
            .is_some_and(|t| now > t.expires_at);
        if expired {
            if let Some(e) = self.map.remove(&id) {
                self.lru.remove(&e.used);
            }
        }
    }
}

/// What a key is, for the dispatcher.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// A permanent key (or one the store no longer holds).
    Permanent,
    /// A temporary key.
    Temporary(TempKey),
}

impl Inner {
    /// Records a key's new salt (for the next connection with it).
    pub(crate) fn set_salt(&self, auth_key_id: u64, salt: i64) {
        if let Some(e) = lock(&self.store).map.get_mut(&auth_key_id) {
            e.salt = salt;
        }
    }

    /// Records that the handshake that made `id` asked for a temporary key
    /// (`p_q_inner_data_temp*`) living `expires_in` seconds.
    pub(crate) fn mark_temporary(&self, id: u64, expires_in: i32) {
        let expires_at = now_secs().saturating_add(i64::from(expires_in));
        if let Some(e) = lock(&self.store).map.get_mut(&id) {
            e.temp = Some(TempKey {
                expires_at,
                bound: None,
            });
        }
    }

    /// What `id` is.
    pub(crate) fn key_kind(&self, id: u64) -> KeyKind {
        match lock(&self.store).map.get(&id).and_then(|e| e.temp) {
            Some(t) => KeyKind::Temporary(t),
            None => KeyKind::Permanent,
        }
    }

    /// The key whose account a request under `id` acts for: a bound
    /// temporary key acts for its permanent key.
    pub(crate) fn account_key(&self, id: u64) -> u64 {
        match self.key_kind(id) {
            KeyKind::Temporary(TempKey {
                bound: Some(perm), ..
            }) => perm,
            _ => id,
        }
    }

    /// A permanent key by id (a temporary key is no permanent key).
    pub(crate) fn permanent_key(&self, id: u64) -> Option<AuthKey> {
        let st = lock(&self.store);
        st.map
            .get(&id)
            .filter(|e| e.temp.is_none())
            .map(|e| e.key.clone())
    }

    /// Binds temporary key `temp` to permanent key `perm`: "Each permanent
    /// key may only be bound to one temporary key at a time, binding a new
    /// temporary key overwrites the previous one." Binding again to the
    /// same permanent key (a re-sent request whose answer was lost) is
    /// accepted; to another one is `TEMP_AUTH_KEY_ALREADY_BOUND`.
    pub(crate) fn bind(&self, temp: u64, perm: u64) -> Result<(), BindError> {
        let mut st = lock(&self.store);
        let t = st.map.get(&temp).and_then(|e| e.temp);
        match t.and_then(|t| t.bound) {
            Some(p) if p != perm => return Err(BindError::AlreadyBound),
            _ => {}
        }
        let old = st
            .map
            .get_mut(&perm)
            .and_then(|e| e.bound_temp.replace(temp));
        if let Some(old) = old.filter(|o| *o != temp) {
            if let Some(t) = st.map.get_mut(&old).and_then(|e| e.temp.as_mut()) {
                t.bound = None;
            }
        }
        if let Some(t) = st.map.get_mut(&temp).and_then(|e| e.temp.as_mut()) {
            t.bound = Some(perm);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! The server's side of api/pfs through the dispatcher: a binding is
    //! checked field by field and answered with the documented errors; an
    //! unbound temporary key may only bind or ask for the config; a bound
    //! one acts for its permanent key's account; an expired one is
    //! forgotten.
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::dispatch::{handle_request, Caller};
    use mtproto_session::pfs::{bind_request, BindTempKey};
    use mtproto_tl::api::{enums, functions};
    use mtproto_tl::Serialize;
    use rand::SeedableRng;

    fn inner() -> Inner {
        Inner::for_tests(std::net::SocketAddr::from(([127, 0, 0, 1], 4430)))
    }

    fn key(b: u8) -> AuthKey {
        AuthKey::from_bytes([b; 256])
    }

    /// A server holding permanent keys 1 and 3 and temporary keys 2 and 4
    /// (a day to live).
    fn setup() -> Inner {
        let i = inner();
        for b in 1..=4 {
            i.insert(key(b), 0);
        }
        i.mark_temporary(key(2).id_u64(), 86_400);
        i.mark_temporary(key(4).id_u64(), 86_400);
        i
    }

    fn caller(temp: u8) -> Caller {
        Caller {
            conn: 1,
            auth_key_id: Some(key(temp).id_u64()),
            key: Some(key(temp).id_u64()),
            session_id: 99,
            msg_id: (now_secs() << 32) | 4,
        }
    }

    fn bind_body(perm: u8, c: &Caller, expires_at: i64) -> Vec<u8> {
        let bind = BindTempKey {
            perm_key: key(perm),
            nonce: 7,
            expires_at: i32::try_from(expires_at).unwrap(),
        };
        let mut rng = rand::rngs::StdRng::from_seed([1; 32]);
        bind_request(&bind, c.key.unwrap(), c.session_id, c.msg_id, &mut rng)
    }

    fn error(result: &Result<Vec<u8>, mtproto_session::RpcError>) -> String {
        match result {
            Ok(_) => "ok".into(),
            Err(e) => format!("{} {}", e.code, e.message()),
        }
    }

    fn typing() -> Vec<u8> {
        functions::messages::SetTyping {
            peer: enums::InputPeer::InputPeerSelf,
            top_msg_id: None,
            action: enums::SendMessageAction::SendMessageTypingAction,
        }
        .to_bytes()
    }

    #[test]
    fn an_unbound_key_may_only_bind_or_ask_for_the_config() {
        let i = setup();
        let c = caller(2);
        let r = handle_request(&i, c, &typing()).result;
        assert_eq!(error(&r), "401 AUTH_KEY_UNREGISTERED");
        let r = handle_request(&i, c, &functions::help::GetConfig {}.to_bytes()).result;
        assert_eq!(error(&r), "ok");
        // Bound: its requests act for the permanent key.
        let later = now_secs() + 3600;
        let h = handle_request(&i, c, &bind_body(1, &c, later));
        assert_eq!((error(&h.result), h.bound), ("ok".into(), true));
        assert_eq!(h.result.unwrap(), true.to_bytes());
        assert_eq!(i.account_key(key(2).id_u64()), key(1).id_u64());
        assert_eq!(error(&handle_request(&i, c, &typing()).result), "ok");
        // Bound again to the same permanent key (an answer was lost): fine.
        let h = handle_request(&i, c, &bind_body(1, &c, later));
        assert_eq!(error(&h.result), "ok");
        // To another one: refused.
        let h = handle_request(&i, c, &bind_body(3, &c, later));
        assert_eq!(error(&h.result), "400 TEMP_AUTH_KEY_ALREADY_BOUND");
        // "binding a new temporary key overwrites the previous one".
        let c4 = caller(4);
        let h = handle_request(&i, c4, &bind_body(1, &c4, later));
        assert_eq!(error(&h.result), "ok");
        assert_eq!(i.account_key(key(4).id_u64()), key(1).id_u64());
        assert_eq!(i.account_key(key(2).id_u64()), key(2).id_u64());
        assert_eq!(
            error(&handle_request(&i, c, &typing()).result),
            "401 AUTH_KEY_UNREGISTERED"
        );
    }

    #[test]
    fn a_bad_binding_gets_the_documented_error() {
        let i = setup();
        let c = caller(2);
        let later = now_secs() + 3600;
        let mut other_session = c;
        other_session.session_id += 1;
        let mut other_msg = c;
        other_msg.msg_id += 4;
        for (what, body, at, want) in [
            (
                "another session",
                bind_body(1, &other_session, later),
                c,
                "400 ENCRYPTED_MESSAGE_INVALID",
            ),
            (
                "another msg_id",
                bind_body(1, &other_msg, later),
                c,
                "400 ENCRYPTED_MESSAGE_INVALID",
            ),
            (
                "a permanent key nobody has",
                bind_body(9, &c, later),
                c,
                "400 ENCRYPTED_MESSAGE_INVALID",
            ),
            (
                "a temporary key as the permanent one",
                bind_body(4, &c, later),
                c,
                "400 ENCRYPTED_MESSAGE_INVALID",
            ),
            (
                "past",
                bind_body(1, &c, now_secs() - 1),
                c,
                "400 EXPIRES_AT_INVALID",
            ),
            (
                "beyond the key's life",
                bind_body(1, &c, now_secs() + 86_400 + 60),
                c,
                "400 EXPIRES_AT_INVALID",
            ),
            (
                "under a permanent key",
                bind_body(1, &caller(3), later),
                caller(3),
                "400 TEMP_AUTH_KEY_EMPTY",
            ),
        ] {
            let h = handle_request(&i, at, &body);
            assert_eq!(error(&h.result), want, "{what}");
            assert!(!h.bound);
        }
        assert_eq!(i.account_key(key(2).id_u64()), key(2).id_u64());
    }

    #[test]
    fn an_expired_temporary_key_is_forgotten() {
        let i = inner();
        i.insert(key(5), 0);
        i.insert(key(6), 0);
        i.mark_temporary(key(5).id_u64(), -1);
        // mtproto-transports: -404 for a key the server does not know.
        assert!(i.get(key(5).id_u64()).is_none());
        assert!(!i.contains(key(5).id_u64()));
        assert!(i.get(key(6).id_u64()).is_some());
    }
}
