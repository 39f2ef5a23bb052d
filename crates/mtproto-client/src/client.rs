//! The [`Client`] handle.

use core::time::Duration;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use mtproto_tl::api::{enums, functions};
use mtproto_tl::{Deserialize, RemoteCall};
use tokio::sync::{mpsc, oneshot};

use crate::config::ClientConfig;
use crate::dcs::{migration, DcHandle, Dcs, Migration, MAX_MIGRATIONS};
use crate::driver::{first_start, lock, perm_key_refused, Command, Driver, PfsStatus, Shared};
use crate::net;
use crate::peers::{PeerCache, PeerError, PeerRef, Resolved};
use crate::updates::Updates;
use crate::{ConnectError, InvocationError, ResolveError, SessionData};
use mtproto_store::{StoreError, StoredSession};

/// Counters of a client (for tests and a CLI).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Handshakes for a permanent auth key this client performed.
    pub handshakes: u64,
    /// Temporary keys made and bound (perfect forward secrecy).
    pub temp_keys: u64,
    /// Successful reconnects.
    pub reconnects: u64,
    /// Requests re-sent on a new connection.
    pub resent: u64,
}

/// Loads the store (when `config.session` is not set): the key, salt and
/// time offset of the DC being connected to, and the peer cache (when
/// `config.peers` is empty). Returns what is kept for saving.
fn load_store(config: &mut ClientConfig) -> Result<StoredSession, ConnectError> {
    let loaded = match (&config.store, &config.session) {
        (Some(store), None) => store.load().map_err(ConnectError::Store)?,
        _ => None,
    };
    let Some(stored) = loaded else {
        return Ok(StoredSession::new(config.dc_id));
    };
    if let Some(dc) = stored.dc(config.dc_id) {
        if let Some(key) = &dc.auth_key {
            config.session = Some(SessionData {
                dc_id: dc.id,
                auth_key: key.clone(),
                salt: dc.salt,
                time_offset: dc.time_offset,
            });
        }
    }
    if config.peers.is_empty() {
        config.peers = stored.peers.clone();
    }
    Ok(stored)
}

/// A connected MTProto client. Cheap to clone; every clone talks to the same
/// connection task. [`invoke`](Self::invoke) may be called from many tasks at
/// once, and dropping its future only discards the answer.
#[derive(Clone)]
pub struct Client {
    pub(crate) tx: mpsc::UnboundedSender<Command>,
    pub(crate) cfg: Arc<ClientConfig>,
    pub(crate) shared: Arc<Shared>,
    /// The DC table, the home DC, the other DCs' connections.
    pub(crate) dcs: Arc<Dcs>,
}

/// What the DC connections of one client share: the peer cache, the
/// stored session, the DC table, and the updates (pushed on whichever DC
/// connection, followed by one task).
struct Parts {
    peers: Arc<Mutex<PeerCache>>,
    stored: Arc<Mutex<StoredSession>>,
    dcs: Arc<Dcs>,
    pushed: crate::updates::LazyBroadcast<crate::updates::Pushed>,
    batches: crate::updates::LazyBroadcast<Arc<mtproto_updates::Batch>>,
    updates_started: Arc<std::sync::atomic::AtomicBool>,
}

impl core::fmt::Debug for Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("addr", &self.cfg.addr)
            .field("transport", &self.cfg.transport)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connects, runs the handshake (or resumes `config.session`), and starts
    /// the connection task. Must be called inside a tokio runtime.
    pub async fn connect(mut config: ClientConfig) -> Result<Client, ConnectError> {
        let stored = load_store(&mut config)?;
        // Requests go to the saved home DC when its address is known.
        let home = stored
            .home()
            .filter(|d| d.addr.is_some())
            .map_or(config.dc_id, |d| d.id);
        let dcs = Dcs::new(config.dc_id, config.addr, home);
        for d in &stored.dcs {
            if let (Some(a), false) = (d.addr, d.id == config.dc_id) {
                dcs.learn_one(d.id, a);
            }
        }
        let parts = Parts {
            peers: Arc::new(Mutex::new(config.peers.clone())),
            stored: Arc::new(Mutex::new(stored)),
            dcs: Arc::new(dcs),
            pushed: crate::updates::LazyBroadcast::new(),
            batches: crate::updates::LazyBroadcast::new(),
            updates_started: Arc::default(),
        };
        Self::connect_with(config, parts).await
    }

    /// Connects to one DC with what the client's DC connections share.
    async fn connect_with(config: ClientConfig, parts: Parts) -> Result<Client, ConnectError> {
        let (start, mut saved) = first_start(&config);
        let up = match net::establish(&config, start, 0, saved.as_ref()).await {
            Ok(up) => up,
            // api/pfs: ENCRYPTED_MESSAGE_INVALID for a permanent key made
            // over a minute ago (a saved one): "Drop both the temporary and
            // permanent auth keys [...] Recreate temporary and permanent auth
            // keys. Retry binding".
            Err((ConnectError::Bind(f), _)) if saved.is_some() && perm_key_refused(&f) => {
                saved = None;
                net::establish(&config, crate::net::Start::NewKey, 0, None)
                    .await
                    .map_err(|(e, _)| e)?
            }
            Err((e, _)) => return Err(e),
        };
        let Some(keys) = up.new_key.clone().or(saved) else {
            return Err(ConnectError::Closed);
        };
        let data = SessionData {
            dc_id: config.dc_id,
            auth_key: keys.auth_key.clone(),
            salt: keys.salt,
            time_offset: keys.time_offset,
        };
        let shared = Arc::new(Shared {
            data: Mutex::new(data),
            peers: parts.peers,
            pushed: parts.pushed,
            batches: parts.batches,
            updates_started: parts.updates_started,
            stored: parts.stored,
            pfs: Mutex::new(None),
            handshakes: AtomicU64::new(u64::from(up.new_key.is_some())),
            temp_keys: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            resent: AtomicU64::new(0),
        });
        let cfg = Arc::new(config);
        // The key (new or resumed) and where it works, saved before use.
        shared.persist(&cfg).map_err(ConnectError::Store)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let driver = Driver::new(cfg.clone(), shared.clone(), rx, up, keys);
        tokio::spawn(driver.run());
        Ok(Client {
            tx,
            cfg,
            shared,
            dcs: parts.dcs,
        })
    }

    /// Perfect forward secrecy: the temporary key requests go under, whether
    /// it is bound, and until when it lives (`None` with PFS off, or while
    /// a new temporary key is being made).
    pub fn pfs(&self) -> Option<PfsStatus> {
        *lock(&self.shared.pfs)
    }

    /// The DC requests go to (the account's home, after any
    /// `USER_MIGRATE_X`).
    pub fn home_dc(&self) -> i32 {
        self.dcs.home()
    }

    /// The DC that answered the last request.
    pub fn last_dc(&self) -> i32 {
        self.dcs.last()
    }

    /// The migrations followed so far (the latest 64).
    pub fn migrations(&self) -> Vec<Migration> {
        self.dcs.migrations()
    }

    /// The connection to DC `dc`: this one, or another made (with its own
    /// key) the first time it is needed, its address from `help.getConfig`.
    async fn dc_client(&self, dc: i32) -> Result<Client, InvocationError> {
        if dc == self.cfg.dc_id {
            return Ok(self.clone());
        }
        let mut others = self.dcs.others.lock().await;
        if let Some(h) = others.get(&dc) {
            return Ok(Client {
                tx: h.tx.clone(),
                cfg: h.cfg.clone(),
                shared: h.shared.clone(),
                dcs: self.dcs.clone(),
            });
        }
        if self.dcs.address(dc).is_none() {
            let config = self
                .raw_direct(
                    mtproto_tl::Serialize::to_bytes(&functions::help::GetConfig),
                    self.cfg.request_timeout(),
                )
                .await?;
            let config = enums::Config::from_bytes(&config).map_err(InvocationError::Decode)?;
            self.dcs.learn(&config);
        }
        let unreachable = |reason: String| InvocationError::DcUnreachable { dc, reason };
        let addr = self
            .dcs
            .address(dc)
            .ok_or_else(|| unreachable("not in help.getConfig's dc_options".into()))?;
        let mut cfg = (*self.cfg).clone();
        cfg.addr = addr;
        cfg.dc_id = dc;
        cfg.session = None;
        // This DC's saved key, if any.
        if let Some(d) = lock(&self.shared.stored).dc(dc) {
            if let Some(key) = &d.auth_key {
                cfg.session = Some(SessionData {
                    dc_id: dc,
                    auth_key: key.clone(),
                    salt: d.salt,
                    time_offset: d.time_offset,
                });
            }
        }
        let parts = Parts {
            peers: self.shared.peers.clone(),
            stored: self.shared.stored.clone(),
            dcs: self.dcs.clone(),
            pushed: self.shared.pushed.clone(),
            batches: self.shared.batches.clone(),
            updates_started: self.shared.updates_started.clone(),
        };
        let c = Box::pin(Self::connect_with(cfg, parts))
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        others.insert(
            dc,
            DcHandle {
                tx: c.tx.clone(),
                cfg: c.cfg.clone(),
                shared: c.shared.clone(),
            },
        );
        Ok(c)
    }

    /// The configuration this client was made with.
    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    /// The current auth key, salt, time offset and DC, to save and pass to
    /// [`ClientConfig::with_session`] later.
    pub fn session_data(&self) -> SessionData {
        match self.shared.data.lock() {
            Ok(d) => d.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// A receiver of the updates the server pushes from now on, checked
    /// and in order (see [`Updates`]). The first call starts following the
    /// update sequences: catching up from the saved state
    /// (`updates.getDifference`), or fetching it (`updates.getState`).
    pub fn updates(&self) -> Updates {
        let rx = self.shared.batches.subscribe();
        if !self.shared.updates_started.swap(true, Ordering::AcqRel) {
            crate::updates::start(self.cfg.clone(), &self.shared, &self.dcs, &self.tx);
        }
        Updates { rx }
    }

    /// The peer cache (to save with the session).
    pub fn peer_cache(&self) -> PeerCache {
        lock(&self.shared.peers).clone()
    }

    /// Resolves a peer to an `InputPeer`: from the cache, or for a
    /// username not seen before with `contacts.resolveUsername` (whose
    /// answer fills the cache). A message or update gives its chat.
    pub async fn resolve_peer(&self, peer: &PeerRef) -> Result<enums::InputPeer, ResolveError> {
        self.resolve(peer, false).await
    }

    /// Like [`resolve_peer`](Self::resolve_peer) where a user is wanted: a
    /// message or update gives its sender (as `inputPeerUserFromMessage`
    /// when only the message knows it), and a group or channel is an error.
    pub async fn resolve_user(&self, peer: &PeerRef) -> Result<enums::InputPeer, ResolveError> {
        let p = self.resolve(peer, true).await?;
        match p {
            enums::InputPeer::Chat(_)
            | enums::InputPeer::Channel(_)
            | enums::InputPeer::ChannelFromMessage(_) => {
                Err(ResolveError::Peer(PeerError::NotAUser {
                    form: peer.form(),
                }))
            }
            p => Ok(p),
        }
    }

    async fn resolve(
        &self,
        peer: &PeerRef,
        want_user: bool,
    ) -> Result<enums::InputPeer, ResolveError> {
        let resolved = lock(&self.shared.peers).resolve(peer, want_user)?;
        let name = match resolved {
            Resolved::Ready(p) => return Ok(p),
            Resolved::AskServer(name) => name,
        };
        let req = functions::contacts::ResolveUsername {
            username: name.clone(),
            referer: None,
        };
        // The answer's users and chats fill the cache (in `invoke_raw`).
        let enums::contacts::ResolvedPeer::ResolvedPeer(r) =
            self.invoke(&req).await.map_err(|e| match e {
                InvocationError::Rpc(error) => ResolveError::Peer(PeerError::Username {
                    username: name.clone(),
                    error,
                }),
                e => ResolveError::Invocation(e),
            })?;
        let found = lock(&self.shared.peers).input_peer(&r.peer);
        // A peer learned from the network is worth keeping.
        if let Err(error) = self.shared.persist(&self.cfg) {
            crate::net::emit(&self.cfg, crate::ConnectEvent::StoreFailed { error });
        }
        found.ok_or(ResolveError::Peer(PeerError::Unresolved { username: name }))
    }

    /// Saves the session to the configured store now (the client also
    /// saves on its own when the key, salt or time offset changes and
    /// after a username look-up); `Ok` without a store.
    pub fn save(&self) -> Result<(), StoreError> {
        self.shared.persist(&self.cfg)
    }

    /// The session as the store would save it.
    pub fn stored_session(&self) -> StoredSession {
        let mut s = lock(&self.shared.stored).clone();
        let data = self.session_data();
        let dc = s.dc_mut(data.dc_id);
        dc.addr = Some(self.cfg.addr);
        dc.auth_key = Some(data.auth_key);
        dc.salt = data.salt;
        dc.time_offset = data.time_offset;
        s.peers = self.peer_cache();
        s
    }

    /// Counters.
    pub fn stats(&self) -> ClientStats {
        ClientStats {
            handshakes: self.shared.handshakes.load(Ordering::Relaxed),
            temp_keys: self.shared.temp_keys.load(Ordering::Relaxed),
            reconnects: self.shared.reconnects.load(Ordering::Relaxed),
            resent: self.shared.resent.load(Ordering::Relaxed),
        }
    }

    /// Sends `request` and waits for its answer (within the configured
    /// request timeout). `FLOOD_WAIT` is retried only if
    /// [`ClientConfig::flood_wait`] is set.
    pub async fn invoke<R: RemoteCall>(&self, request: &R) -> Result<R::Return, InvocationError> {
        self.invoke_with_timeout(request, self.cfg.request_timeout())
            .await
    }

    /// [`invoke`](Self::invoke) with an explicit timeout.
    pub async fn invoke_with_timeout<R: RemoteCall>(
        &self,
        request: &R,
        timeout: Duration,
    ) -> Result<R::Return, InvocationError> {
        let body = request.to_bytes();
        let mut retries = 0u32;
        loop {
            match self.invoke_raw(body.clone(), timeout).await {
                Ok(bytes) => return R::Return::from_bytes(&bytes).map_err(InvocationError::Decode),
                Err(InvocationError::Rpc(e)) => {
                    let wait = e
                        .flood_wait_secs()
                        .map(|s| Duration::from_secs(u64::from(s)));
                    match (&self.cfg.flood_wait, wait) {
                        (Some(p), Some(w)) if retries < p.max_retries && w <= p.max_wait => {
                            retries += 1;
                            tokio::time::sleep(w).await;
                        }
                        _ => return Err(InvocationError::Rpc(e)),
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Sends a serialized TL function and returns the raw bytes of the
    /// result object (whose `users`/`chats`, if any, fill the peer cache).
    /// It goes to the home DC; a `*_MIGRATE_X` error sends it to DC X
    /// (`USER_`, `PHONE_`, `NETWORK_MIGRATE` make X the home), at most
    /// three times. No `FLOOD_WAIT` retry.
    pub async fn invoke_raw(
        &self,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<Vec<u8>, InvocationError> {
        let mut dc = self.dcs.home();
        for hop in 0..=MAX_MIGRATIONS {
            let answer = match self.dc_client(dc).await {
                Ok(c) => c.raw_direct(body.clone(), timeout).await,
                Err(e) => Err(e),
            };
            let to = match &answer {
                Err(InvocationError::Rpc(e)) if hop < MAX_MIGRATIONS => migration(e),
                _ => None,
            };
            let Some((to, moves_home)) = to else {
                if answer.is_ok() {
                    self.dcs.answered(dc);
                }
                return answer;
            };
            if let Err(InvocationError::Rpc(e)) = &answer {
                self.dcs.record(Migration {
                    from: dc,
                    to,
                    error: e.message(),
                });
            }
            // api/datacenter: a new key on DC X is not logged in; the
            // account is carried there with an exported authorization.
            self.carry_authorization(dc, to, timeout).await?;
            if moves_home {
                self.dcs.set_home(to);
                lock(&self.shared.stored).home_dc = to;
                if let Err(error) = self.shared.persist(&self.cfg) {
                    crate::net::emit(&self.cfg, crate::ConnectEvent::StoreFailed { error });
                }
            }
            dc = to;
        }
        Err(InvocationError::Disconnected)
    }

    /// Carries the account from DC `from` to DC `to` when `to` gets a new
    /// key (none saved, no connection yet): `auth.exportAuthorization` on
    /// `from`, `auth.importAuthorization` on `to`. A `from` that is not
    /// authorized (401, e.g. before a login: `USER_MIGRATE_X` from
    /// `auth.sendCode`) has nothing to carry. Once per DC, also when
    /// several requests migrate at once.
    async fn carry_authorization(
        &self,
        from: i32,
        to: i32,
        timeout: Duration,
    ) -> Result<(), InvocationError> {
        let mut carried = self.dcs.carried.lock().await;
        if carried.contains(&to) || to == self.cfg.dc_id {
            return Ok(());
        }
        let has_key = self.dcs.others.lock().await.contains_key(&to)
            || lock(&self.shared.stored)
                .dc(to)
                .is_some_and(|d| d.auth_key.is_some());
        if has_key {
            carried.insert(to);
            return Ok(());
        }
        let export = functions::auth::ExportAuthorization { dc_id: to };
        let src = self.dc_client(from).await?;
        let exported = match src
            .raw_direct(mtproto_tl::Serialize::to_bytes(&export), timeout)
            .await
        {
            Ok(b) => enums::auth::ExportedAuthorization::from_bytes(&b)
                .map_err(InvocationError::Decode)?,
            Err(InvocationError::Rpc(e)) if e.code == 401 => {
                carried.insert(to);
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let enums::auth::ExportedAuthorization::ExportedAuthorization(x) = exported;
        let import = functions::auth::ImportAuthorization {
            id: x.id,
            bytes: x.bytes,
        };
        let dst = self.dc_client(to).await?;
        dst.raw_direct(mtproto_tl::Serialize::to_bytes(&import), timeout)
            .await?;
        carried.insert(to);
        Ok(())
    }

    /// [`invoke_raw`](Self::invoke_raw) on this connection's DC only.
    async fn raw_direct(
        &self,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<Vec<u8>, InvocationError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Invoke {
                body,
                timeout,
                reply,
            })
            .map_err(|_| InvocationError::Disconnected)?;
        let answer = rx.await.unwrap_or(Err(InvocationError::Disconnected));
        if let Ok(bytes) = &answer {
            // Every result carrying users or chats fills the cache.
            lock(&self.shared.peers).absorb(bytes);
        }
        answer
    }
}
