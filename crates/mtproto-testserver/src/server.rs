//! The server: settings, events, counters, the shared state and the
//! accept loop (each connection is served by [`crate::conn`]).

pub use mtproto_crypto::test_keys::TEST_RSA_PRIVATE_PEM;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mtproto_connection::KeyStore;
use mtproto_crypto::rsa::{RsaPrivateKey, RsaPublicKey};
use mtproto_crypto::AuthKey;
use mtproto_session::handshake::{PqInnerVariant, RsaScheme};
use mtproto_session::session::{Config, KeyReplayWindow};
use mtproto_session::Timestamp;
use mtproto_transport::TransportKind;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use crate::conn::serve;
use crate::faults::Faults;

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
    /// A connection idle this long is closed (default 120 s).
    pub idle_timeout: Duration,
}

impl Default for TestServerConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            rsa_key: None,
            faults: Faults::default(),
            events: None,
            idle_timeout: Duration::from_secs(120),
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
    /// Connections that ended with an error (bad transport, garbage, ...).
    pub bad_connections: u64,
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
}

/// What every connection task shares.
pub(crate) struct Inner {
    pub(crate) rsa: RsaPrivateKey,
    pub(crate) faults: Faults,
    events: Option<mpsc::UnboundedSender<ServerEvent>>,
    pub(crate) idle: Duration,
    pub(crate) addr: SocketAddr,
    /// auth_key_id → (key, current salt).
    store: Mutex<HashMap<u64, (AuthKey, i64)>>,
    /// auth_key_id → its replay window, shared by its connections.
    replay: Mutex<BTreeMap<u64, KeyReplayWindow>>,
    /// (user_id, access_hash) → FLOOD_WAIT answers given.
    pub(crate) floods: Mutex<HashMap<(i64, i64), i64>>,
    pub(crate) stats: Counters,
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

    /// Records a key's new salt (for the next connection with it).
    pub(crate) fn set_salt(&self, auth_key_id: u64, salt: i64) {
        if let Ok(mut st) = self.store.lock() {
            if let Some(e) = st.get_mut(&auth_key_id) {
                e.1 = salt;
            }
        }
    }

    /// An `Inner` without a listener, for unit tests of the dispatch.
    #[cfg(test)]
    pub(crate) fn for_tests(addr: SocketAddr) -> Self {
        Self {
            rsa: RsaPrivateKey::from_pkcs1_pem(TEST_RSA_PRIVATE_PEM)
                .unwrap_or_else(|_| unreachable!("the test key parses")),
            faults: Faults::default(),
            events: None,
            idle: Duration::from_secs(1),
            addr,
            store: Mutex::new(HashMap::new()),
            replay: Mutex::new(BTreeMap::new()),
            floods: Mutex::new(HashMap::new()),
            stats: Counters::default(),
        }
    }
}

/// The server's auth keys, shared by its connections.
impl KeyStore for Inner {
    fn get(&self, auth_key_id: u64) -> Option<(AuthKey, i64)> {
        self.store.lock().ok()?.get(&auth_key_id).cloned()
    }

    fn insert(&self, key: AuthKey, salt: i64) {
        if let Ok(mut s) = self.store.lock() {
            s.insert(key.id_u64(), (key, salt));
        }
    }

    fn replay_window(&self, auth_key_id: u64) -> Option<KeyReplayWindow> {
        let mut w = self.replay.lock().ok()?;
        if !w.contains_key(&auth_key_id) && w.len() >= MAX_REPLAY_WINDOWS {
            // Bounded: past the cap one window (the smallest key id) goes.
            let oldest = w.keys().next().copied();
            if let Some(k) = oldest {
                w.remove(&k);
            }
        }
        Some(
            w.entry(auth_key_id)
                .or_insert_with(|| KeyReplayWindow::new(Config::default().replay_window))
                .clone(),
        )
    }
}

/// Most per-key replay windows kept (one per recently used auth key).
const MAX_REPLAY_WINDOWS: usize = 4096;

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
        let rsa = match config.rsa_key {
            Some(k) => k,
            None => tokio::task::spawn_blocking(|| RsaPrivateKey::generate(&mut rand::rngs::OsRng))
                .await
                .map_err(std::io::Error::other)?
                .map_err(|e| std::io::Error::other(e.to_string()))?,
        };
        let listener = TcpListener::bind(config.bind).await?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            rsa,
            faults: config.faults,
            events: config.events,
            idle: config.idle_timeout,
            addr,
            store: Mutex::new(HashMap::new()),
            replay: Mutex::new(BTreeMap::new()),
            floods: Mutex::new(HashMap::new()),
            stats: Counters::default(),
        });
        let (shutdown, rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, inner.clone(), rx));
        Ok(TestServer {
            inner,
            shutdown,
            task,
        })
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
        }
    }

    /// Number of auth keys in the store.
    pub fn auth_keys(&self) -> usize {
        self.inner.store.lock().map(|s| s.len()).unwrap_or(0)
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
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(serve(stream, peer, inner.clone(), shutdown.clone()));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            _ = shutdown.changed() => return,
        }
    }
}
