//! The server: settings, events, counters, the shared state and the
//! accept loop (each connection is served by [`crate::conn`]).

pub use mtproto_crypto::test_keys::TEST_RSA_PRIVATE_PEM;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mtproto_connection::KeyStore;
use mtproto_crypto::rsa::{RsaPrivateKey, RsaPublicKey};
use mtproto_crypto::AuthKey;
use mtproto_session::handshake::{PqInnerVariant, RsaScheme};
use mtproto_session::Timestamp;
use mtproto_transport::TransportKind;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use crate::accounts::WorldState;
use crate::conn::serve;
use crate::faults::Faults;
use crate::keys::Keys;
use crate::limits::{lock, ConnCounts, ConnSlot, Limits, TokenBucket};

/// Server settings.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TestServerConfig {
    /// Where to listen (default `127.0.0.1:0`).
    pub bind: SocketAddr,
    /// The RSA key; `None` generates one at start (slow in debug builds: seconds).
    pub rsa_key: Option<RsaPrivateKey>,
    /// Faults to inject.
    pub faults: Faults,
    /// Log of what happens (connections, handshakes, decoded request names).
    pub events: Option<mpsc::UnboundedSender<ServerEvent>>,
    /// A connection that sends no whole frame for this long is closed
    /// (default 120 s). Bytes that do not complete a frame are no progress.
    pub idle_timeout: Duration,
    /// Bounds on what peers can make the server hold or do.
    pub limits: Limits,
}

impl Default for TestServerConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            rsa_key: None,
            faults: Faults::default(),
            events: None,
            idle_timeout: Duration::from_secs(120),
            limits: Limits::default(),
        }
    }
}

impl TestServerConfig {
    /// Defaults with the fixed [`TEST_RSA_PRIVATE_PEM`] key (fast start).
    pub fn with_test_key() -> Self {
        Self {
            rsa_key: RsaPrivateKey::from_pkcs1_pem(TEST_RSA_PRIVATE_PEM).ok(),
            ..Self::default()
        }
    }
}

/// What the server reports.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// A connection was accepted and its transport detected.
    Connected {
        /// Client address.
        peer: SocketAddr,
        /// Detected transport.
        transport: TransportKind,
    },
    /// A handshake finished.
    HandshakeDone {
        /// Client address.
        peer: SocketAddr,
        /// The RSA scheme the client used.
        rsa_scheme: RsaScheme,
        /// Which `p_q_inner_data` it sent.
        inner: PqInnerVariant,
        /// The new key's id.
        auth_key_id: u64,
    },
    /// A decoded request (wrappers removed), by TL name.
    Request {
        /// Client address.
        peer: SocketAddr,
        /// e.g. `messages.setTyping`.
        name: String,
        /// Whether the request came in `invokeWithLayer`/`initConnection`/... wrappers.
        wrapped: bool,
        /// The auth key it came under.
        auth_key_id: Option<u64>,
    },
    /// A scripted fault fired.
    Fault {
        /// Client address.
        peer: SocketAddr,
        /// Which.
        what: &'static str,
    },
    /// A connection ended.
    Closed {
        /// Client address.
        peer: SocketAddr,
        /// Why.
        reason: String,
    },
}

/// Counters since start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StatsSnapshot {
    /// Accepted TCP connections.
    pub connections: u64,
    /// Completed handshakes.
    pub handshakes: u64,
    /// Requests received (after the session; re-sent ones count again).
    pub requests: u64,
    /// Answers sent (results and rpc_errors).
    pub answers: u64,
    /// `messages.setTyping` requests.
    pub set_typing: u64,
    /// Requests that came wrapped in `initConnection`.
    pub init_connections: u64,
    /// Connections closed by the drop fault.
    pub dropped: u64,
    /// Connections that ended with an error (bad transport, garbage, a
    /// limit below, ...).
    pub bad_connections: u64,
    /// Connections closed at once for the connection limits (counted in
    /// `connections` too, not in `bad_connections`).
    pub refused_connections: u64,
    /// Connections closed for starting a handshake over the rate or the
    /// in-progress limit.
    pub refused_handshakes: u64,
    /// Connections closed for not finishing a handshake in time.
    pub handshake_timeouts: u64,
    /// Connections closed for sending no whole frame for `idle_timeout`.
    pub idle_timeouts: u64,
    /// Connections closed for leaving a frame incomplete too long.
    pub frame_timeouts: u64,
    /// Connections closed because the peer did not take their output.
    pub output_stalls: u64,
    /// Connections closed for taking the partial-frame bytes of all
    /// connections over `max_inbound_total`.
    pub inbound_overflows: u64,
    /// Auth keys evicted from the full store.
    pub evicted_keys: u64,
    /// `auth.bindTempAuthKey` requests accepted.
    pub bindings: u64,
    /// Connections closed after a binding, unanswered
    /// ([`Faults::drop_bind_answer`]).
    pub bind_answers_dropped: u64,
}

/// The counters behind [`StatsSnapshot`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) connections: AtomicU64,
    pub(crate) handshakes: AtomicU64,
    pub(crate) requests: AtomicU64,
    pub(crate) answers: AtomicU64,
    pub(crate) set_typing: AtomicU64,
    pub(crate) init_connections: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) bad_connections: AtomicU64,
    pub(crate) refused_connections: AtomicU64,
    pub(crate) refused_handshakes: AtomicU64,
    pub(crate) handshake_timeouts: AtomicU64,
    pub(crate) idle_timeouts: AtomicU64,
    pub(crate) frame_timeouts: AtomicU64,
    pub(crate) output_stalls: AtomicU64,
    pub(crate) inbound_overflows: AtomicU64,
    pub(crate) evicted_keys: AtomicU64,
    pub(crate) bindings: AtomicU64,
    pub(crate) bind_answers_dropped: AtomicU64,
}

/// How long each future salt is valid: consecutive windows of an hour.
pub(crate) const FUTURE_SALT_WINDOW_SECS: i32 = 3600;

/// What every connection task shares.
pub(crate) struct Inner {
    pub(crate) rsa: RsaPrivateKey,
    pub(crate) faults: Faults,
    events: Option<mpsc::UnboundedSender<ServerEvent>>,
    pub(crate) idle: Duration,
    pub(crate) addr: SocketAddr,
    pub(crate) limits: Limits,
    /// auth_key_id → (key, current salt, future salts, last use).
    pub(crate) store: Mutex<Keys>,
    /// (user_id, access_hash) → FLOOD_WAIT answers given; at most
    /// `limits.max_flood_counters` entries.
    pub(crate) floods: Mutex<HashMap<(i64, i64), i64>>,
    /// Open connections (see [`ConnSlot`]).
    pub(crate) conns: Mutex<ConnCounts>,
    /// Handshakes in progress (see [`crate::limits::HandshakeSlot`]).
    pub(crate) handshakes: Arc<AtomicUsize>,
    /// Bytes of partial frames held (see [`crate::limits::InboundShare`]).
    pub(crate) inbound: Arc<AtomicUsize>,
    /// New handshakes per second.
    handshake_bucket: Mutex<TokenBucket>,
    /// Connections processing received bytes right now
    /// ([`Limits::max_parallel_processing`]).
    pub(crate) processing: Arc<tokio::sync::Semaphore>,
    pub(crate) stats: Counters,
    /// The small world's state (accounts, pts, update listeners), shared
    /// by every DC of a cluster.
    pub(crate) world: Arc<Mutex<WorldState>>,
    /// Which DC this server is, and the DC table.
    pub(crate) dc: DcPlace,
}

impl core::fmt::Debug for Inner {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Inner")
            .field("addr", &self.addr)
            .field("faults", &self.faults)
            .finish_non_exhaustive()
    }
}

impl Inner {
    pub(crate) fn emit(&self, ev: ServerEvent) {
        if let Some(tx) = &self.events {
            let _ = tx.send(ev);
        }
    }

    /// Takes a token from the handshake rate bucket.
    pub(crate) fn handshake_token(&self) -> bool {
        lock(&self.handshake_bucket).take(Instant::now())
    }

    fn new(config_parts: InnerParts) -> Self {
        let InnerParts {
            world,
            dc,
            rsa,
            faults,
            events,
            idle,
            addr,
            limits,
        } = config_parts;
        Self {
            rsa,
            faults,
            events,
            idle,
            addr,
            handshake_bucket: Mutex::new(TokenBucket::new(
                limits.handshakes_per_sec,
                limits.handshake_burst,
            )),
            processing: Arc::new(tokio::sync::Semaphore::new(
                limits.max_parallel_processing.max(1),
            )),
            limits,
            store: Mutex::new(Keys::default()),
            floods: Mutex::new(HashMap::new()),
            conns: Mutex::new(ConnCounts::default()),
            handshakes: Arc::new(AtomicUsize::new(0)),
            inbound: Arc::new(AtomicUsize::new(0)),
            stats: Counters::default(),
            world,
            dc,
        }
    }

    /// An `Inner` without a listener, for unit tests of the dispatch.
    #[cfg(test)]
    pub(crate) fn for_tests(addr: SocketAddr) -> Self {
        Self::new(InnerParts {
            world: Arc::default(),
            dc: DcPlace {
                id: 2,
                home: None,
                table: Arc::new(Mutex::new(vec![(2, addr)])),
            },
            rsa: RsaPrivateKey::from_pkcs1_pem(TEST_RSA_PRIVATE_PEM)
                .unwrap_or_else(|_| unreachable!("the test key parses")),
            faults: Faults::default(),
            events: None,
            idle: Duration::from_secs(1),
            addr,
            limits: Limits::default(),
        })
    }
}

/// Which DC a server is, where the account lives, and where every DC of
/// its cluster listens.
#[derive(Clone, Debug)]
pub(crate) struct DcPlace {
    /// This DC's id.
    pub(crate) id: i32,
    /// The account's home DC: any other answers content requests with
    /// `303 USER_MIGRATE_<home>`, as Telegram does.
    pub(crate) home: Option<i32>,
    /// (DC id, address) of every DC (`help.getConfig`'s `dc_options`).
    pub(crate) table: Arc<Mutex<Vec<(i32, SocketAddr)>>>,
}

/// What [`Inner::new`] is made of.
struct InnerParts {
    world: Arc<Mutex<WorldState>>,
    dc: DcPlace,
    rsa: RsaPrivateKey,
    faults: Faults,
    events: Option<mpsc::UnboundedSender<ServerEvent>>,
    idle: Duration,
    addr: SocketAddr,
    limits: Limits,
}

/// A running test server.
pub struct TestServer {
    inner: Arc<Inner>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl core::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TestServer")
            .field("addr", &self.inner.addr)
            .finish_non_exhaustive()
    }
}

/// The local wall clock.
pub(crate) fn now() -> Timestamp {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

impl TestServer {
    /// Binds and starts accepting. Must be called inside a tokio runtime.
    pub async fn start(config: TestServerConfig) -> std::io::Result<TestServer> {
        Self::start_dc(config, Arc::default(), None).await
    }

    /// Starts one DC: `place` says which, within a cluster sharing `world`
    /// (`None`: DC 2 alone, its table only itself).
    pub(crate) async fn start_dc(
        config: TestServerConfig,
        world: Arc<Mutex<WorldState>>,
        place: Option<DcPlace>,
    ) -> std::io::Result<TestServer> {
        let rsa = match config.rsa_key {
            Some(k) => k,
            None => tokio::task::spawn_blocking(|| RsaPrivateKey::generate(&mut rand::rngs::OsRng))
                .await
                .map_err(std::io::Error::other)?
                .map_err(|e| std::io::Error::other(e.to_string()))?,
        };
        let listener = TcpListener::bind(config.bind).await?;
        let addr = listener.local_addr()?;
        let dc = place.unwrap_or_else(|| DcPlace {
            id: 2,
            home: None,
            table: Arc::new(Mutex::new(vec![(2, addr)])),
        });
        let inner = Arc::new(Inner::new(InnerParts {
            world,
            dc,
            rsa,
            faults: config.faults,
            events: config.events,
            idle: config.idle_timeout,
            addr,
            limits: config.limits,
        }));
        let (shutdown, rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, inner.clone(), rx));
        Ok(TestServer {
            inner,
            shutdown,
            task,
        })
    }

    /// This server's DC id (2 alone; 1..=N in a [`TestCluster`](crate::TestCluster)).
    pub fn dc_id(&self) -> i32 {
        self.inner.dc.id
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// The server's RSA public key (give it to the client).
    pub fn public_key(&self) -> RsaPublicKey {
        self.inner.rsa.public_key().clone()
    }

    /// Fingerprint of the server's RSA key.
    pub fn fingerprint(&self) -> i64 {
        self.inner.rsa.public_key().fingerprint()
    }

    /// Counters since start.
    pub fn stats(&self) -> StatsSnapshot {
        let c = &self.inner.stats;
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StatsSnapshot {
            connections: l(&c.connections),
            handshakes: l(&c.handshakes),
            requests: l(&c.requests),
            answers: l(&c.answers),
            set_typing: l(&c.set_typing),
            init_connections: l(&c.init_connections),
            dropped: l(&c.dropped),
            bad_connections: l(&c.bad_connections),
            refused_connections: l(&c.refused_connections),
            refused_handshakes: l(&c.refused_handshakes),
            handshake_timeouts: l(&c.handshake_timeouts),
            idle_timeouts: l(&c.idle_timeouts),
            frame_timeouts: l(&c.frame_timeouts),
            output_stalls: l(&c.output_stalls),
            inbound_overflows: l(&c.inbound_overflows),
            evicted_keys: l(&c.evicted_keys),
            bindings: l(&c.bindings),
            bind_answers_dropped: l(&c.bind_answers_dropped),
        }
    }

    /// Number of auth keys in the store (permanent and temporary).
    pub fn auth_keys(&self) -> usize {
        lock(&self.inner.store).len()
    }

    /// Number of permanent auth keys in the store (temporary keys, made for
    /// perfect forward secrecy, come and go).
    pub fn permanent_auth_keys(&self) -> usize {
        lock(&self.inner.store).permanent()
    }

    /// The permanent key a temporary key is bound to (`None`: not bound,
    /// unknown, or not temporary).
    pub fn bound_to(&self, temp_auth_key_id: u64) -> Option<u64> {
        match self.inner.key_kind(temp_auth_key_id) {
            crate::keys::KeyKind::Temporary(t) => t.bound,
            crate::keys::KeyKind::Permanent => None,
        }
    }

    /// Makes the connections under this auth key act as world user
    /// `user_id` (by default every key acts as Alice, 1001; see
    /// [`world`](crate::world)). `false` if the world has no such user.
    /// Telegram would need a login; the test server takes the embedding
    /// program's word.
    pub fn sign_in(&self, auth_key_id: u64, user_id: i64) -> bool {
        lock(&self.inner.world).sign_in(auth_key_id, user_id)
    }

    /// Pushed updates dropped because a connection had
    /// [`world::MAX_QUEUED_UPDATES`](crate::world::MAX_QUEUED_UPDATES) waiting.
    pub fn dropped_updates(&self) -> u64 {
        lock(&self.inner.world).dropped_updates
    }

    /// Whether the store holds the key with this id.
    pub fn has_auth_key(&self, auth_key_id: u64) -> bool {
        self.inner.contains(auth_key_id)
    }

    /// Stores an auth key with its current salt, as a finished handshake
    /// would (tests that need a key the server knows without paying for a
    /// handshake). Counts towards `max_auth_keys`.
    pub fn add_auth_key(&self, key: AuthKey, salt: i64) {
        self.inner.insert(key, salt);
    }

    /// The future salts the server holds for a key (what `get_future_salts`
    /// is answered from), `(valid_since, valid_until, salt)` in server time;
    /// empty until a connection used the key.
    pub fn future_salts(&self, auth_key_id: u64) -> Vec<(i32, i32, i64)> {
        lock(&self.inner.store).future_of(auth_key_id)
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        lock(&self.inner.conns).total()
    }

    /// Bytes of partial frames held now, all connections together.
    pub fn inbound_buffered(&self) -> usize {
        self.inner.inbound.load(Ordering::Acquire)
    }

    /// Handshakes in progress now.
    pub fn handshakes_in_progress(&self) -> usize {
        self.inner.handshakes.load(Ordering::Acquire)
    }

    /// Stops accepting and closes every connection.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

async fn accept_loop(
    listener: TcpListener,
    inner: Arc<Inner>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, peer)) => {
                    inner.stats.connections.fetch_add(1, Ordering::Relaxed);
                    // Over the connection limits: accepted, then closed at once.
                    let Some(slot) = ConnSlot::take(&inner, peer.ip()) else {
                        inner.stats.refused_connections.fetch_add(1, Ordering::Relaxed);
                        drop(stream);
                        inner.emit(ServerEvent::Closed {
                            peer,
                            reason: "connection limit".into(),
                        });
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(serve(stream, peer, inner.clone(), shutdown.clone(), slot));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            _ = shutdown.changed() => return,
        }
    }
}
