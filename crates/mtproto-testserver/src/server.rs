//! The server: accept loop, per-connection task, request handling.

/// A fixed 2048-bit RSA private key (PKCS#1 PEM) for fast tests and demos,
/// generated for this crate with `openssl genrsa -traditional 2048`. Never use it
/// outside tests: it is public.
pub const TEST_RSA_PRIVATE_PEM: &str = "\
-----BEGIN RSA PRIVATE KEY-----\n\
MIIEowIBAAKCAQEAo0sYoX4kSHEt5UfOrces+mfa7aqt+qWIphRBJTYfbHx2g/RN\n\
z1k2Tj7GugYPmezb3QCtmZvAArd11i3o2AppbBLkLTbYeSxog10VUrd+/e8Hfc8D\n\
n0wC1cCzv+jyI4254fq27HCHiqWBBj5CULY0FmPQdjKGe/PNSxDcdUWFaZ50Yc+8\n\
prS3NnnT14pJ+/13ENx9P9wK3zfRSinOioBBrdpWTGOAfw3Mkkb2d4fQUpXvL71R\n\
7yh4IEX3PpBLceoZnpXKyTs+kvRQR1m4ziQzNWATvj6DdauNXTepmRc55VlNl6Et\n\
3ChGeYheFVmoWKK/UKgM1Bb9hRkNWtOijnXYawIDAQABAoIBABIIJ+cla9JIFT5d\n\
aJhOFW7tawKVt3KXNvjIAc2fJWcwc1Hs926vNkz7p6xBIRXpTvofqgvtZA2ovq1x\n\
EmZQ+AVELMhFZzAyVDQ1YjZpJu/ZpmUhKBA+L431IqRNj/eXHfCzY+HGJ2GLFy1e\n\
UKpjBGt4iDuVJr6nVIM2kHGuxKW9+YjPn47YSjmmvIhxqnpAJZdxEOEDLbXMt8tB\n\
asJGtZP6QlpXLmY5BdWBmJZdyXVfSklF5fdSfjc+m/ybfm9pYp40iukLPi5k2pR/\n\
AdRT36mwE2gtXvViydL7sSUnF44NZAQHVcM5+o0XfvOPNX1oumm7hOpE4Bak8D95\n\
mKC+9WECgYEAz65r2k2yTjIp3JC85iTR6DoAgwp0IcgPobAbi+zJepmfssN2lolo\n\
zjPVKvdD4iHIbPFm6xz5qslBevMEXBK4k9I5SRJe6akFlnqJsGi1M+woXpP0HR6M\n\
lMoV3+yFjOWNd/ivheQmzNPYBmh+CRmP6zvVJPYaE+Msx6eUHBicodsCgYEAyUjo\n\
11RzmpPcSYOjXmVZwv6qucpKxberAzVo7DVzbl9nchizcNNRJ+EHflEZT6zVBSRU\n\
zSZJENekiy4HI/DMWkSFN8MqUqmoOg2PrSfJoAo55cKDB0OjlHCNtWkRR4G53LdW\n\
5zuLH1XiSemx8zOs7EK9zNBOQnkZxEnN77h40LECgYBsYvBAx0nmS4HTbepYBiFS\n\
nGrF+P+w3bNixAEsXpCsHl7dMevDFsWO0DhRKyjPbKgoSzhWPhIC0vQMkaXV06Nm\n\
6lEhVKgaNC8JYLxZR9xB098htP+y7s2ZnXobGlp8tRTG5w/bxb2GKo1UktYsM54L\n\
u3c6ygHEHUyyij/fBe1A/wKBgQCCIOmvNEDcoVTcDgeTIlDKmJvFKzv14QzlMSVY\n\
+CFdLL6S69cuTN99uaR/jGyhrum0vk04p9S6177f3+zr1mQ2w2+gokL9WAOTLGtD\n\
laJrHdFaccsF6juZ3r4ulvN92CdRwxGiwkLqCjsWb8gEo9bakzdjbxP5M5Nt7A0A\n\
OrGYsQKBgGBXOZYHHj3FSNlk5dUdQrgG4VsqfKXVDbfWlydoZYUYvUR24FLJtPp2\n\
MEW3SmFpqPuMeyKU0ZchXiTPc3JDXUtEjRxkVBPYw+HAXN6Gk/lUIAEzVIMenvr7\n\
y7PuGpbc6mRvgPtpAyjS8+jrcLH5Ny9yLf8FAEgfhf2FUdJwGjyT\n\
-----END RSA PRIVATE KEY-----\n\
";

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use mtproto_crypto::rsa::{RsaPrivateKey, RsaPublicKey};
use mtproto_crypto::AuthKey;
use mtproto_session::handshake::server::ServerConfig;
use mtproto_session::handshake::{
    PqInnerVariant, RsaScheme, ServerEvent as HsEvent, ServerHandshake,
};
use mtproto_session::session::{Config, Fault, RpcError, ServerSession};
use mtproto_session::Timestamp;
use mtproto_tl::api::functions::{
    InitConnection, InvokeAfterMsg, InvokeWithLayer, InvokeWithoutUpdates,
};
use mtproto_tl::api::{enums, functions, types};
use mtproto_tl::{Deserialize, Identifiable, RawObject, Serialize};
use mtproto_transport::{detect, Transport, TransportConfig, TransportKind};
use rand::RngCore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

/// Scripted faults. All off by default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Close a connection (without answering) when it has received this many
    /// requests...
    pub drop_after_requests: Option<u32>,
    /// ...at most this many times over the server's life (so the client's
    /// re-sent request then goes through).
    pub drop_times: u32,
    /// After this many requests on a connection, switch to a new random salt
    /// (the client then gets `bad_server_salt` and re-sends).
    pub rotate_salt_after_requests: Option<u32>,
    /// The server's clock runs this many seconds ahead (negative: behind).
    pub clock_skew_secs: i64,
    /// Answer the Nth encrypted packet of each connection (1-based) with a
    /// `bad_msg_notification` of this code instead of processing it.
    pub bad_msg_at_packet: Option<(u32, i32)>,
    /// Delay every answer by this much.
    pub answer_delay: Duration,
}

/// Server settings.
#[derive(Clone, Debug)]
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

#[derive(Default)]
struct Counters {
    connections: AtomicU64,
    handshakes: AtomicU64,
    requests: AtomicU64,
    answers: AtomicU64,
    set_typing: AtomicU64,
    init_connections: AtomicU64,
    dropped: AtomicU64,
    bad_connections: AtomicU64,
}

struct Inner {
    rsa: RsaPrivateKey,
    faults: Faults,
    events: Option<mpsc::UnboundedSender<ServerEvent>>,
    idle: Duration,
    addr: SocketAddr,
    /// auth_key_id → (key, current salt).
    store: Mutex<HashMap<u64, (AuthKey, i64)>>,
    /// (user_id, access_hash) → FLOOD_WAIT answers given.
    floods: Mutex<HashMap<(i64, i64), i64>>,
    stats: Counters,
}

impl Inner {
    fn emit(&self, ev: ServerEvent) {
        if let Some(tx) = &self.events {
            let _ = tx.send(ev);
        }
    }
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

fn now() -> Timestamp {
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

async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    inner: Arc<Inner>,
    shutdown: watch::Receiver<bool>,
) {
    let reason = match conn_loop(stream, peer, &inner, shutdown).await {
        Ok(r) => r,
        Err(e) => {
            inner.stats.bad_connections.fetch_add(1, Ordering::Relaxed);
            e
        }
    };
    inner.emit(ServerEvent::Closed { peer, reason });
}

fn rpc(code: i32, message: &str) -> RpcError {
    RpcError::parse(code, message)
}

async fn conn_loop(
    stream: TcpStream,
    peer: SocketAddr,
    inner: &Arc<Inner>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<String, String> {
    let (mut rd, mut wr) = stream.into_split();
    let mut rbuf = BytesMut::with_capacity(4096);
    let kind = loop {
        match detect(&rbuf) {
            Ok(Some(k)) => break k,
            Ok(None) => {}
            Err(e) => return Err(format!("transport detection: {e}")),
        }
        let n = tokio::time::timeout(inner.idle, rd.read_buf(&mut rbuf))
            .await
            .map_err(|_| "idle before the transport was detected".to_owned())?
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("closed before the transport was detected".into());
        }
    };
    let mut transport = Transport::server(
        kind,
        TransportConfig::default(),
        mtproto_transport::os_rng(),
    )
    .map_err(|e| format!("transport: {e}"))?;
    inner.emit(ServerEvent::Connected {
        peer,
        transport: kind,
    });
    let padded = kind.is_padded();
    let mut hs: Option<ServerHandshake> = None;
    let mut sess: Option<(u64, ServerSession)> = None;
    let (dtx, mut drx) = mpsc::unbounded_channel::<(u64, i64, Result<Vec<u8>, RpcError>)>();
    let mut wbuf = BytesMut::new();
    let mut n_requests = 0u32;
    let mut n_packets = 0u32;
    let mut closing = false;
    let f = &inner.faults;
    loop {
        while !closing {
            let frame = match transport.decode(&mut rbuf) {
                Ok(Some(mut fr)) => {
                    if padded {
                        mtproto_transport::trim_mtproto_padding(&mut fr);
                    }
                    fr
                }
                Ok(None) => break,
                Err(e) => return Err(format!("transport: {e}")),
            };
            if frame.get(..8) == Some(&[0u8; 8][..]) {
                // An unencrypted message: the handshake.
                let h = hs.get_or_insert_with(|| {
                    ServerHandshake::new(ServerConfig::new(vec![inner.rsa.clone()]))
                });
                let exists = |k: &AuthKey| {
                    inner
                        .store
                        .lock()
                        .map(|s| s.contains_key(&k.id_u64()))
                        .unwrap_or(false)
                };
                match h.feed(&frame, &mut rand::rngs::OsRng, now(), exists) {
                    Ok(HsEvent::Send(reply)) => transport
                        .encode(&reply, &mut wbuf)
                        .map_err(|e| format!("encode: {e}"))?,
                    Ok(HsEvent::Done { reply, outcome }) => {
                        transport
                            .encode(&reply, &mut wbuf)
                            .map_err(|e| format!("encode: {e}"))?;
                        let id = outcome.auth_key.id_u64();
                        if let Ok(mut s) = inner.store.lock() {
                            s.insert(id, (outcome.auth_key.clone(), outcome.server_salt));
                        }
                        inner.stats.handshakes.fetch_add(1, Ordering::Relaxed);
                        inner.emit(ServerEvent::HandshakeDone {
                            peer,
                            rsa_scheme: outcome.rsa_scheme,
                            inner: outcome.inner,
                            auth_key_id: id,
                        });
                        hs = None;
                    }
                    Err(e) => return Err(format!("handshake: {e}")),
                }
                continue;
            }
            // An encrypted packet: find its key.
            let Some(id_bytes) = frame.get(..8) else {
                return Err("packet shorter than an auth_key_id".into());
            };
            let mut idb = [0u8; 8];
            idb.copy_from_slice(id_bytes);
            let key_id = u64::from_le_bytes(idb);
            if sess.as_ref().map(|(k, _)| *k) != Some(key_id) {
                let found = inner
                    .store
                    .lock()
                    .ok()
                    .and_then(|s| s.get(&key_id).cloned());
                match found {
                    Some((key, salt)) => {
                        let mut seed = [0u8; 32];
                        rand::rngs::OsRng.fill_bytes(&mut seed);
                        let mut s = ServerSession::new(key, salt, Config::default(), seed);
                        if f.clock_skew_secs != 0 {
                            s.set_clock_skew(f.clock_skew_secs);
                        }
                        sess = Some((key_id, s));
                    }
                    None => {
                        // "auth key not found": transport error -404, then close.
                        let _ = transport.encode_error(-404, &mut wbuf);
                        closing = true;
                        break;
                    }
                }
            }
            let Some((_, s)) = sess.as_mut() else { break };
            n_packets = n_packets.saturating_add(1);
            if let Some((at, code)) = f.bad_msg_at_packet {
                if n_packets == at {
                    s.inject_fault(Fault::BadMsgNotification(code.into()));
                    inner.emit(ServerEvent::Fault {
                        peer,
                        what: "bad_msg_notification",
                    });
                }
            }
            if s.handle_incoming(now(), &frame).is_err() {
                continue;
            }
            while let Some((msg_id, body)) = s.poll_request() {
                n_requests = n_requests.saturating_add(1);
                inner.stats.requests.fetch_add(1, Ordering::Relaxed);
                if f.drop_after_requests == Some(n_requests) {
                    let done = inner.stats.dropped.load(Ordering::Relaxed);
                    if done < u64::from(f.drop_times)
                        && inner
                            .stats
                            .dropped
                            .compare_exchange(done, done + 1, Ordering::SeqCst, Ordering::SeqCst)
                            .is_ok()
                    {
                        inner.emit(ServerEvent::Fault {
                            peer,
                            what: "drop connection",
                        });
                        return Ok("dropped by fault".into());
                    }
                }
                if f.rotate_salt_after_requests == Some(n_requests) {
                    let salt = rand::rngs::OsRng.next_u64() as i64;
                    s.rotate_salt(salt);
                    if let Ok(mut st) = inner.store.lock() {
                        if let Some(e) = st.get_mut(&key_id) {
                            e.1 = salt;
                        }
                    }
                    inner.emit(ServerEvent::Fault {
                        peer,
                        what: "rotate salt",
                    });
                }
                let (name, wrapped, result) = handle_request(inner, &body);
                inner.emit(ServerEvent::Request {
                    peer,
                    name,
                    wrapped,
                });
                if f.answer_delay.is_zero() {
                    s.respond(msg_id, result);
                    inner.stats.answers.fetch_add(1, Ordering::Relaxed);
                } else {
                    let tx = dtx.clone();
                    let delay = f.answer_delay;
                    tokio::spawn(async move {
                        tokio::time::sleep(delay).await;
                        let _ = tx.send((key_id, msg_id, result));
                    });
                }
            }
        }
        if let Some((_, s)) = sess.as_mut() {
            while let Some(p) = s.poll_transmit(now()) {
                transport
                    .encode(&p, &mut wbuf)
                    .map_err(|e| format!("encode: {e}"))?;
            }
        }
        if closing && wbuf.is_empty() {
            return Ok("closed (unknown auth key)".into());
        }
        tokio::select! {
            r = rd.read_buf(&mut rbuf), if !closing => match r {
                Ok(0) => return Ok("closed by the client".into()),
                Ok(_) => {}
                Err(e) => return Err(format!("read: {e}")),
            },
            w = wr.write_buf(&mut wbuf), if !wbuf.is_empty() => {
                w.map_err(|e| format!("write: {e}"))?;
            }
            Some((kid, msg_id, result)) = drx.recv() => {
                if let Some((k, s)) = sess.as_mut() {
                    if *k == kid {
                        s.respond(msg_id, result);
                        inner.stats.answers.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            _ = tokio::time::sleep(inner.idle) => return Err("idle timeout".into()),
            _ = shutdown.changed() => return Ok("server shutdown".into()),
        }
    }
}

fn first_id(b: &[u8]) -> Option<u32> {
    let h = b.get(..4)?;
    Some(u32::from_le_bytes([h[0], h[1], h[2], h[3]]))
}

/// Unwraps `invoke*` / `initConnection` wrappers and answers the request.
fn handle_request(inner: &Inner, body: &[u8]) -> (String, bool, Result<Vec<u8>, RpcError>) {
    let invalid = || rpc(400, "INPUT_REQUEST_INVALID");
    let mut cur = body.to_vec();
    let mut wrapped = false;
    for _ in 0..8 {
        let Some(id) = first_id(&cur) else {
            return ("?".into(), wrapped, Err(invalid()));
        };
        let name = mtproto_tl::api::name_for_id(id)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{id:#010x}"));
        let next = if id == <InvokeWithLayer<RawObject> as Identifiable>::CONSTRUCTOR_ID {
            InvokeWithLayer::<RawObject>::from_bytes(&cur).map(|w| w.query.0)
        } else if id == <InitConnection<RawObject> as Identifiable>::CONSTRUCTOR_ID {
            inner.stats.init_connections.fetch_add(1, Ordering::Relaxed);
            InitConnection::<RawObject>::from_bytes(&cur).map(|w| w.query.0)
        } else if id == <InvokeWithoutUpdates<RawObject> as Identifiable>::CONSTRUCTOR_ID {
            InvokeWithoutUpdates::<RawObject>::from_bytes(&cur).map(|w| w.query.0)
        } else if id == <InvokeAfterMsg<RawObject> as Identifiable>::CONSTRUCTOR_ID {
            InvokeAfterMsg::<RawObject>::from_bytes(&cur).map(|w| w.query.0)
        } else if id == functions::messages::SetTyping::CONSTRUCTOR_ID {
            inner.stats.set_typing.fetch_add(1, Ordering::Relaxed);
            let r = match functions::messages::SetTyping::from_bytes(&cur) {
                Ok(req) => set_typing(inner, &req.peer).map(|b| b.to_bytes()),
                Err(_) => Err(invalid()),
            };
            return (name, wrapped, r);
        } else if id == functions::help::GetConfig::CONSTRUCTOR_ID {
            let r = match functions::help::GetConfig::from_bytes(&cur) {
                Ok(_) => Ok(config(inner.addr).to_bytes()),
                Err(_) => Err(invalid()),
            };
            return (name, wrapped, r);
        } else {
            // Telegram answers unknown methods with INPUT_METHOD_INVALID_<id>.
            return (
                name,
                wrapped,
                Err(rpc(400, &format!("INPUT_METHOD_INVALID_{id}"))),
            );
        };
        match next {
            Ok(q) => {
                cur = q;
                wrapped = true;
            }
            Err(_) => return (name, wrapped, Err(invalid())),
        }
    }
    ("?".into(), wrapped, Err(invalid()))
}

/// The peer → error table of the crate docs.
fn set_typing(inner: &Inner, peer: &enums::InputPeer) -> Result<bool, RpcError> {
    match peer {
        enums::InputPeer::Empty => Err(rpc(400, "PEER_ID_INVALID")),
        enums::InputPeer::Chat(c) => match c.chat_id {
            400001 => Err(rpc(400, "CHAT_ID_INVALID")),
            400002 => Err(rpc(400, "CHAT_ADMIN_REQUIRED")),
            403001 => Err(rpc(403, "CHAT_WRITE_FORBIDDEN")),
            _ => Ok(true),
        },
        enums::InputPeer::Channel(c) => match c.channel_id {
            400101 => Err(rpc(400, "CHANNEL_INVALID")),
            400102 => Err(rpc(400, "CHANNEL_PRIVATE")),
            400103 => Err(rpc(400, "USER_BANNED_IN_CHANNEL")),
            _ => Ok(true),
        },
        enums::InputPeer::User(u) => match u.user_id {
            400201 => Err(rpc(400, "USER_IS_BLOCKED")),
            400202 => Err(rpc(400, "USER_IS_BOT")),
            400203 => Err(rpc(400, "INPUT_USER_DEACTIVATED")),
            406001 => Err(rpc(406, "AUTH_KEY_DUPLICATED")),
            400299 => Err(rpc(400, "YOU_BLOCKED_USER")),
            id @ 420000..=420999 => {
                let n = id - 420000;
                let flood = rpc(420, &format!("FLOOD_WAIT_{n}"));
                if u.access_hash <= 0 {
                    return Err(flood);
                }
                let mut floods = match inner.floods.lock() {
                    Ok(g) => g,
                    Err(p) => p.into_inner(),
                };
                let given = floods.entry((id, u.access_hash)).or_insert(0);
                if *given < u.access_hash {
                    *given += 1;
                    Err(flood)
                } else {
                    Ok(true)
                }
            }
            _ => Ok(true),
        },
        _ => Ok(true),
    }
}

/// A plausible `config` naming this server as DC 2.
fn config(addr: SocketAddr) -> enums::Config {
    let date = i32::try_from(now().as_secs()).unwrap_or(i32::MAX);
    enums::Config::Config(types::Config {
        default_p2p_contacts: false,
        preload_featured_stickers: false,
        revoke_pm_inbox: true,
        blocked_mode: false,
        force_try_ipv6: false,
        date,
        expires: date.saturating_add(3600),
        test_mode: true,
        this_dc: 2,
        dc_options: vec![enums::DcOption::DcOption(types::DcOption {
            ipv6: addr.is_ipv6(),
            media_only: false,
            tcpo_only: false,
            cdn: false,
            static_: false,
            this_port_only: true,
            id: 2,
            ip_address: addr.ip().to_string(),
            port: i32::from(addr.port()),
            secret: None,
        })],
        dc_txt_domain_name: "localhost".into(),
        chat_size_max: 200,
        megagroup_size_max: 200_000,
        forwarded_count_max: 100,
        online_update_period_ms: 210_000,
        offline_blur_timeout_ms: 5_000,
        offline_idle_timeout_ms: 30_000,
        online_cloud_timeout_ms: 300_000,
        notify_cloud_delay_ms: 30_000,
        notify_default_delay_ms: 1_500,
        push_chat_period_ms: 60_000,
        push_chat_limit: 2,
        edit_time_limit: 172_800,
        revoke_time_limit: i32::MAX,
        revoke_pm_time_limit: i32::MAX,
        rating_e_decay: 2_419_200,
        stickers_recent_limit: 200,
        channels_read_media_period: 604_800,
        tmp_sessions: None,
        call_receive_timeout_ms: 20_000,
        call_ring_timeout_ms: 90_000,
        call_connect_timeout_ms: 30_000,
        call_packet_timeout_ms: 10_000,
        me_url_prefix: "https://t.me/".into(),
        autoupdate_url_prefix: None,
        gif_search_username: None,
        venue_search_username: None,
        img_search_username: None,
        static_maps_provider: None,
        caption_length_max: 1024,
        message_length_max: 4096,
        webfile_dc_id: 4,
        suggested_lang_code: None,
        lang_pack_version: None,
        base_lang_pack_version: None,
        reactions_default: None,
        autologin_token: None,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn inner() -> Inner {
        Inner {
            rsa: RsaPrivateKey::from_pkcs1_pem(TEST_RSA_PRIVATE_PEM).unwrap(),
            faults: Faults::default(),
            events: None,
            idle: Duration::from_secs(1),
            addr: SocketAddr::from(([127, 0, 0, 1], 4430)),
            store: Mutex::new(HashMap::new()),
            floods: Mutex::new(HashMap::new()),
            stats: Counters::default(),
        }
    }

    fn typing(peer: enums::InputPeer) -> Vec<u8> {
        functions::messages::SetTyping {
            peer,
            top_msg_id: None,
            action: enums::SendMessageAction::SendMessageTypingAction,
        }
        .to_bytes()
    }

    fn user(user_id: i64, access_hash: i64) -> enums::InputPeer {
        enums::InputPeer::User(types::InputPeerUser {
            user_id,
            access_hash,
        })
    }

    #[test]
    fn test_key_loads() {
        let k = RsaPrivateKey::from_pkcs1_pem(TEST_RSA_PRIVATE_PEM).unwrap();
        assert_eq!(k.public_key().len(), 256);
    }

    #[test]
    fn wrappers_are_removed() {
        let i = inner();
        let wrapped = InvokeWithLayer {
            layer: mtproto_tl::api::LAYER,
            query: InitConnection {
                api_id: 1,
                device_model: "d".into(),
                system_version: "s".into(),
                app_version: "a".into(),
                system_lang_code: "en".into(),
                lang_pack: String::new(),
                lang_code: "en".into(),
                proxy: None,
                params: None,
                query: InvokeWithoutUpdates {
                    query: RawObject(typing(enums::InputPeer::InputPeerSelf)),
                },
            },
        }
        .to_bytes();
        let (name, was_wrapped, r) = handle_request(&i, &wrapped);
        assert_eq!(name, "messages.setTyping");
        assert!(was_wrapped);
        // boolTrue#997275b5
        assert_eq!(r.unwrap(), vec![0xb5, 0x75, 0x72, 0x99]);
        assert_eq!(i.stats.init_connections.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn unknown_and_garbage_requests() {
        let i = inner();
        let (_, _, r) = handle_request(&i, &[0x78, 0x56, 0x34, 0x12]);
        assert_eq!(r, Err(rpc(400, "INPUT_METHOD_INVALID_305419896")));
        let (_, _, r) = handle_request(&i, &[1, 2]);
        assert_eq!(r, Err(rpc(400, "INPUT_REQUEST_INVALID")));
        // setTyping id with a truncated body
        let (_, _, r) = handle_request(&i, &[0xe2, 0x3e, 0x94, 0x58, 0]);
        assert_eq!(r, Err(rpc(400, "INPUT_REQUEST_INVALID")));
        // invokeWithLayer nested deeper than 8
        let mut b = typing(enums::InputPeer::InputPeerSelf);
        for _ in 0..9 {
            b = InvokeWithoutUpdates {
                query: RawObject(b),
            }
            .to_bytes();
        }
        let (_, _, r) = handle_request(&i, &b);
        assert_eq!(r, Err(rpc(400, "INPUT_REQUEST_INVALID")));
    }

    #[test]
    fn flood_budget_per_user_and_hash() {
        let i = inner();
        let p = user(420_003, 2);
        assert_eq!(set_typing(&i, &p), Err(rpc(420, "FLOOD_WAIT_3")));
        assert_eq!(set_typing(&i, &p), Err(rpc(420, "FLOOD_WAIT_3")));
        assert_eq!(set_typing(&i, &p), Ok(true));
        assert_eq!(
            set_typing(&i, &user(420_003, 0)),
            Err(rpc(420, "FLOOD_WAIT_3"))
        );
        assert_eq!(
            set_typing(&i, &enums::InputPeer::Empty),
            Err(rpc(400, "PEER_ID_INVALID"))
        );
        assert_eq!(set_typing(&i, &user(5, 5)), Ok(true));
    }

    #[test]
    fn config_decodes() {
        let c = config(SocketAddr::from(([127, 0, 0, 1], 4430)));
        let b = c.to_bytes();
        assert_eq!(&b[..4], &0xcc1a241e_u32.to_le_bytes());
        assert_eq!(enums::Config::from_bytes(&b).unwrap(), c);
    }

    #[test]
    fn padding_is_stripped() {
        let mut plain = BytesMut::from(&[0u8; 8][..]);
        plain.extend_from_slice(&[1; 8]);
        plain.extend_from_slice(&4i32.to_le_bytes());
        plain.extend_from_slice(&[9; 4 + 7]);
        mtproto_transport::trim_mtproto_padding(&mut plain);
        assert_eq!(plain.len(), 24);
        let mut enc = BytesMut::from(&[5u8; 24 + 32 + 15][..]);
        mtproto_transport::trim_mtproto_padding(&mut enc);
        assert_eq!(enc.len(), 24 + 32);
    }
}
