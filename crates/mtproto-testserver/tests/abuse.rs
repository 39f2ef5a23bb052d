//! The test server under abuse, over loopback: a handshake flood, slow
//! clients, announced 16 MiB frames, a client that never reads, connection
//! caps. In each the server's memory stays bounded (the process RSS, from
//! `/proc/self/status`, is printed) and an honest client is served within a
//! second meanwhile. Also: future salts, a handshake started over on the
//! same connection, the key store's LRU eviction, heavy handshakes next to
//! light requests on a current-thread runtime.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mtproto_client::{methods, Client, ClientConfig, ReconnectPolicy, SessionData};
use mtproto_connection::{ClientParams, ClientStart, Connection, Event};
use mtproto_crypto::AuthKey;
use mtproto_session::handshake::encode_plain;
use mtproto_session::session::{ClientSession, Config, SessionEvent};
use mtproto_session::{Monotonic, Now, Timestamp};
use mtproto_testserver::{TestServer, TestServerConfig};
use mtproto_tl::{Deserialize, Serialize};
use mtproto_transport::TransportKind;
use rand::{RngCore, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::timeout;

const SALT: i64 = 0x5a17_5a17_5a17_5a17;

/// The abuse tests run one at a time, so that each one's RSS figures are its own.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
const MIB: u64 = 1024 * 1024;

// ---------------------------------------------------------------- helpers

/// The process's resident set, bytes (`VmRSS` of `/proc/self/status`).
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

/// The soft limit on open files (`/proc/self/limits`).
fn open_files_limit() -> u64 {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024)
}

/// Samples the RSS (and a caller's gauge) every 20 ms until stopped.
struct Sampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    gauge_peak: Arc<AtomicU64>,
    before: u64,
    task: tokio::task::JoinHandle<()>,
}

impl Sampler {
    fn start(gauge: impl Fn() -> u64 + Send + 'static) -> Sampler {
        let before = rss();
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(before));
        let gauge_peak = Arc::new(AtomicU64::new(0));
        let (s, p, g) = (stop.clone(), peak.clone(), gauge_peak.clone());
        let task = tokio::spawn(async move {
            // bounded: at most 60 s of samples
            for _ in 0..3000 {
                p.fetch_max(rss(), Ordering::Relaxed);
                g.fetch_max(gauge(), Ordering::Relaxed);
                if s.load(Ordering::Relaxed) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        Sampler {
            stop,
            peak,
            gauge_peak,
            before,
            task,
        }
    }

    /// Stops; prints and checks the figures; returns the gauge's peak.
    async fn finish(self, test: &str) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
        let after = rss();
        let peak = self.peak.load(Ordering::Relaxed).max(after);
        let growth = peak.saturating_sub(self.before);
        eprintln!(
            "{test}: RSS before {:.1} MiB, peak {:.1} MiB, after {:.1} MiB (peak growth {:.1} MiB)",
            self.before as f64 / MIB as f64,
            peak as f64 / MIB as f64,
            after as f64 / MIB as f64,
            growth as f64 / MIB as f64,
        );
        assert!(growth < 256 * MIB, "{test}: RSS grew by {growth} bytes");
        self.gauge_peak.load(Ordering::Relaxed)
    }
}

fn config() -> TestServerConfig {
    TestServerConfig::with_test_key()
}

/// A key the server knows without a handshake, as a client's saved session.
fn known_key(server: &TestServer, seed: u64) -> SessionData {
    let mut k = [0u8; 256];
    rand::rngs::StdRng::seed_from_u64(seed).fill_bytes(&mut k);
    let key = AuthKey::from_bytes(k);
    server.add_auth_key(key.clone(), SALT);
    SessionData {
        dc_id: 2,
        auth_key: key,
        salt: SALT,
        time_offset: 0,
    }
}

fn client_config(server: &TestServer) -> ClientConfig {
    // The honest client reuses a saved permanent key: no handshake, which
    // the floods below make scarce (a temporary key would need one).
    let mut cfg = ClientConfig::new(server.addr(), TransportKind::Intermediate)
        .with_rsa_key(server.public_key())
        .with_api_id(12345)
        .with_pfs(false);
    cfg.reconnect = ReconnectPolicy::new(Duration::from_millis(20), Duration::from_millis(100), 2);
    cfg
}

/// An honest client with a saved key: connect and `help.getConfig`. Returns
/// how long it took.
async fn honest_call(server: &TestServer, session: &SessionData) -> Duration {
    let cfg = client_config(server).with_session(session.clone());
    let started = Instant::now();
    let client = timeout(Duration::from_secs(10), Client::connect(cfg))
        .await
        .expect("connect in time")
        .expect("connect");
    timeout(Duration::from_secs(10), methods::get_config(&client))
        .await
        .expect("answer in time")
        .expect("getConfig");
    started.elapsed()
}

/// Honest calls every 100 ms until `stop`; the slowest.
fn honest_loop(
    server: Arc<TestServer>,
    session: SessionData,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<(usize, Duration)> {
    tokio::spawn(async move {
        let mut worst = Duration::ZERO;
        let mut n = 0;
        for _ in 0..600 {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            worst = worst.max(honest_call(&server, &session).await);
            n += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        (n, worst)
    })
}

async fn stop_honest(
    stop: &AtomicBool,
    task: tokio::task::JoinHandle<(usize, Duration)>,
    test: &str,
) {
    stop.store(true, Ordering::Relaxed);
    let (n, worst) = task.await.unwrap();
    eprintln!("{test}: honest client served {n} times, slowest {worst:?}");
    assert!(n > 0);
    assert!(
        worst < Duration::from_secs(1),
        "{test}: honest call took {worst:?}"
    );
}

/// Waits (bounded) until the server has at most `n` connections open.
async fn drained(server: &TestServer, n: usize, within: Duration) {
    let until = Instant::now() + within;
    while server.open_connections() > n && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        server.open_connections() <= n,
        "{} connections still open",
        server.open_connections()
    );
}

fn wall_now() -> Now {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let t = Timestamp(u64::try_from(d.as_nanos()).unwrap());
    Now::new(t, Monotonic(t.0))
}

/// An intermediate-transport frame around `payload`.
fn intermediate(payload: &[u8]) -> Vec<u8> {
    let mut f = u32::try_from(payload.len()).unwrap().to_le_bytes().to_vec();
    f.extend_from_slice(payload);
    f
}

/// An unencrypted `req_pq_multi` with this nonce, as an intermediate frame.
fn req_pq_multi(nonce: [u8; 16], msg_id: i64) -> Vec<u8> {
    let body = mtproto_tl::mtproto::functions::ReqPqMulti { nonce }.to_bytes();
    intermediate(&encode_plain(msg_id, &body))
}

fn plain_msg_id() -> i64 {
    let secs = i64::try_from(wall_now().wall.as_secs()).unwrap();
    secs << 32
}

/// Reads until EOF, an error or `limit`; `true` if the server closed.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let mut b = [0u8; 4096];
    let until = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(until, stream.read(&mut b)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

/// A sans-IO client connection over a real socket, for what
/// `mtproto-client` does not do (service queries, never reading).
struct Raw {
    stream: TcpStream,
    conn: Connection,
    events: Vec<Event>,
}

impl Raw {
    async fn resume(stream: TcpStream, session: &SessionData, salt: i64, seed: u8) -> Raw {
        let s = ClientSession::new(
            session.auth_key.clone(),
            salt,
            Config::default(),
            [seed; 32],
        );
        let params = ClientParams::new(TransportKind::Intermediate, [seed.wrapping_add(1); 32]);
        let conn = Connection::client(wall_now(), params, ClientStart::Resume(s)).unwrap();
        Raw {
            stream,
            conn,
            events: Vec::new(),
        }
    }

    async fn flush(&mut self) -> std::io::Result<usize> {
        let mut out = Vec::new();
        self.conn.poll_transmit(wall_now(), &mut out);
        self.stream.write_all(&out).await?;
        Ok(out.len())
    }

    /// Runs until `done` says so (over the events so far) or `limit`.
    async fn until(&mut self, limit: Duration, mut done: impl FnMut(&[Event]) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        let mut b = vec![0u8; 64 * 1024];
        for _ in 0..10_000 {
            if self.flush().await.is_err() {
                return false;
            }
            while let Some(e) = self.conn.poll_event() {
                self.events.push(e);
            }
            if done(&self.events) {
                return true;
            }
            match tokio::time::timeout_at(deadline, self.stream.read(&mut b)).await {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return false,
                Ok(Ok(n)) => self.conn.handle_bytes(wall_now(), &b[..n]),
            }
        }
        false
    }
}

fn response_body(events: &[Event], id: mtproto_session::session::RequestId) -> Option<Vec<u8>> {
    events.iter().find_map(|e| match e {
        Event::Session(SessionEvent::Response {
            request: rid,
            result: Ok(body),
            ..
        }) if *rid == id => Some(body.clone()),
        _ => None,
    })
}

// ---------------------------------------------------------------- abuse

/// 300 connections each start a handshake (`req_pq_multi`) and stall. At
/// most 8 are in progress at once, new ones come at 20 a second, the rest
/// are closed at once; the stalled ones are closed at the 1 s deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_flood() {
    let _serial = SERIAL.lock().await;
    let mut cfg = config();
    cfg.limits.max_handshakes_in_progress = 8;
    cfg.limits.handshakes_per_sec = 20;
    cfg.limits.handshake_burst = 20;
    cfg.limits.handshake_timeout = Duration::from_secs(1);
    let server = Arc::new(TestServer::start(cfg).await.unwrap());
    let session = known_key(&server, 1);
    honest_call(&server, &session).await; // warm up
    let s2 = server.clone();
    let sampler = Sampler::start(move || s2.handshakes_in_progress() as u64);
    let stop = Arc::new(AtomicBool::new(false));
    let honest = honest_loop(server.clone(), session, stop.clone());

    let addr = server.addr();
    let mut tasks = Vec::new();
    for wave in 0..3u8 {
        for i in 0..100u8 {
            tasks.push(tokio::spawn(async move {
                let Ok(mut s) = TcpStream::connect(addr).await else {
                    return (false, false);
                };
                let mut hello = vec![0xee; 4];
                hello.extend_from_slice(&req_pq_multi([wave ^ i; 16], plain_msg_id()));
                if s.write_all(&hello).await.is_err() {
                    return (false, true);
                }
                let mut b = [0u8; 512];
                let answered = matches!(
                    timeout(Duration::from_secs(3), s.read(&mut b)).await,
                    Ok(Ok(n)) if n > 0
                );
                (
                    answered,
                    closed_within(&mut s, Duration::from_secs(4)).await,
                )
            }));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let mut answered = 0;
    let mut closed = 0;
    for t in tasks {
        let (a, c) = t.await.unwrap();
        answered += usize::from(a);
        closed += usize::from(c);
    }
    stop_honest(&stop, honest, "handshake_flood").await;
    let most_in_progress = sampler.finish("handshake_flood").await;
    let st = server.stats();
    eprintln!(
        "handshake_flood: 300 flooders, {answered} got resPQ, {closed} closed by the server; \
         refused {}, timed out {}, at most {most_in_progress} in progress",
        st.refused_handshakes, st.handshake_timeouts
    );
    assert_eq!(closed, 300, "every flooder is closed");
    assert!(most_in_progress <= 8);
    assert!(answered <= 8 * 4, "{answered} handshakes went on");
    assert!(st.refused_handshakes >= 250, "{st:?}");
    assert!(st.handshake_timeouts >= 8, "{st:?}");
    drained(&server, 0, Duration::from_secs(3)).await;
}

/// 500 connections send a frame one byte every 200 ms (the transport tag,
/// a length header, then payload). Bytes are no progress: each is closed
/// 1 s after its first byte (`frame_timeout`), while the idle and the
/// handshake timeouts are far away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris() {
    let _serial = SERIAL.lock().await;
    let fds = open_files_limit();
    // two sockets per slow client in this process (client and server side)
    let n: usize = if fds >= 1200 {
        500
    } else {
        let n = usize::try_from(fds.saturating_sub(200) / 2).unwrap();
        eprintln!("slowloris: open files limit {fds}: {n} slow clients instead of 500");
        n
    };
    let mut cfg = config();
    cfg.idle_timeout = Duration::from_secs(20);
    cfg.limits.handshake_timeout = Duration::from_secs(20);
    cfg.limits.frame_timeout = Duration::from_secs(1);
    cfg.limits.max_connections = 2000;
    cfg.limits.max_connections_per_ip = 2000;
    let server = Arc::new(TestServer::start(cfg).await.unwrap());
    let session = known_key(&server, 2);
    honest_call(&server, &session).await;
    let sampler = Sampler::start(|| 0);
    let stop = Arc::new(AtomicBool::new(false));
    let honest = honest_loop(server.clone(), session, stop.clone());
    let addr = server.addr();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..n {
        tasks.push(tokio::spawn(async move {
            let Ok(mut s) = TcpStream::connect(addr).await else {
                return None;
            };
            // tag, a 64-byte frame's header, then its payload: never complete
            let bytes: Vec<u8> = [0xee, 0xee, 0xee, 0xee, 64, 0, 0, 0]
                .into_iter()
                .chain(std::iter::repeat_n(7, 60))
                .collect();
            let t0 = Instant::now();
            let mut b = [0u8; 64];
            for byte in bytes {
                if s.write_all(&[byte]).await.is_err() {
                    return Some(t0.elapsed());
                }
                tokio::select! {
                    r = s.read(&mut b) => {
                        if matches!(r, Ok(0) | Err(_)) {
                            return Some(t0.elapsed());
                        }
                    }
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                }
            }
            None
        }));
    }
    let mut closed = 0;
    let mut slowest = Duration::ZERO;
    for t in tasks {
        if let Some(d) = t.await.unwrap() {
            closed += 1;
            slowest = slowest.max(d);
        }
    }
    let total = started.elapsed();
    stop_honest(&stop, honest, "slowloris").await;
    sampler.finish("slowloris").await;
    let st = server.stats();
    eprintln!(
        "slowloris: {n} slow clients, {closed} closed by the server, the last after {slowest:?} \
         of trickling ({total:?} in all); frame timeouts {}",
        st.frame_timeouts
    );
    assert_eq!(closed, n);
    assert!(slowest < Duration::from_secs(4), "{slowest:?}");
    assert_eq!(st.frame_timeouts, n as u64);
    assert_eq!(st.idle_timeouts, 0);
    drained(&server, 0, Duration::from_secs(3)).await;
}

/// 50 connections each announce a 16 MiB frame and send all of it but the
/// last bytes. Nothing is reserved for what a header announces, and the
/// partial frames of all connections together are capped (32 MiB here):
/// the connections that would take the total over it are closed, the rest
/// when their frame stays incomplete (2 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announced_16_mib_frames() {
    let _serial = SERIAL.lock().await;
    let mut cfg = config();
    cfg.limits.max_inbound_total = 32 << 20;
    cfg.limits.frame_timeout = Duration::from_secs(2);
    let server = Arc::new(TestServer::start(cfg).await.unwrap());
    let session = known_key(&server, 3);
    honest_call(&server, &session).await;
    let s2 = server.clone();
    let sampler = Sampler::start(move || s2.inbound_buffered() as u64);
    let stop = Arc::new(AtomicBool::new(false));
    let honest = honest_loop(server.clone(), session, stop.clone());
    let addr = server.addr();
    const LEN: usize = 16 * 1024 * 1024 - 16;
    let chunk: Arc<Vec<u8>> = Arc::new(vec![0x42; 256 * 1024]);
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let chunk = chunk.clone();
        tasks.push(tokio::spawn(async move {
            let Ok(mut s) = TcpStream::connect(addr).await else {
                return (0usize, false);
            };
            let mut head = vec![0xee; 4];
            head.extend_from_slice(&u32::try_from(LEN).unwrap().to_le_bytes());
            if s.write_all(&head).await.is_err() {
                return (0, true);
            }
            // all but the last 4 bytes, in 256 KiB writes (at most 64 of them)
            let mut sent = 0usize;
            while sent < LEN - 4 {
                let n = chunk.len().min(LEN - 4 - sent);
                match timeout(Duration::from_secs(5), s.write_all(&chunk[..n])).await {
                    Ok(Ok(())) => sent += n,
                    _ => break,
                }
            }
            (sent, closed_within(&mut s, Duration::from_secs(6)).await)
        }));
    }
    let mut sent_all = 0;
    let mut closed = 0;
    let mut bytes = 0usize;
    for t in tasks {
        let (sent, c) = t.await.unwrap();
        bytes += sent;
        sent_all += usize::from(sent == LEN - 4);
        closed += usize::from(c);
    }
    stop_honest(&stop, honest, "announced_16_mib_frames").await;
    let held_peak = sampler.finish("announced_16_mib_frames").await;
    let st = server.stats();
    eprintln!(
        "announced_16_mib_frames: 50 x 16 MiB announced, {:.1} MiB sent, {sent_all} sent all but \
         the last bytes; {closed} closed; partial frames held at most {:.1} MiB; closed over \
         the budget {}, frame timeouts {}",
        bytes as f64 / MIB as f64,
        held_peak as f64 / MIB as f64,
        st.inbound_overflows,
        st.frame_timeouts
    );
    assert_eq!(closed, 50);
    // the budget plus at most one read per connection in flight
    assert!(held_peak <= (32 << 20) + 50 * 64 * 1024, "{held_peak}");
    assert!(st.inbound_overflows > 0);
    drained(&server, 0, Duration::from_secs(3)).await;
    assert_eq!(server.inbound_buffered(), 0);
}

/// A client sends `help.getConfig` after `help.getConfig` (and bulky
/// requests) and never reads the answers (its receive buffer is 4 KiB).
/// Once 256 KiB of output wait, the server stops reading it; it closes it
/// after 1 s of that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_that_never_reads() {
    let _serial = SERIAL.lock().await;
    let mut cfg = config();
    cfg.limits.output_pause = 256 * 1024;
    cfg.limits.output_max = 4 << 20;
    cfg.limits.output_stall_timeout = Duration::from_secs(1);
    let server = Arc::new(TestServer::start(cfg).await.unwrap());
    let session = known_key(&server, 4);
    honest_call(&server, &session).await;
    let sampler = Sampler::start(|| 0);
    let stop = Arc::new(AtomicBool::new(false));
    let honest = honest_loop(server.clone(), session.clone(), stop.clone());

    let sock = TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    sock.set_send_buffer_size(16 * 1024).unwrap();
    let stream = sock.connect(server.addr()).await.unwrap();
    let mut raw = Raw::resume(stream, &session, SALT, 9).await;
    let get_config = mtproto_tl::api::functions::help::GetConfig.to_bytes();
    let started = Instant::now();
    let mut requests = 0u64;
    let mut wire = 0usize;
    let mut blocked_after = None;
    // Requests the server does not know, 16 KiB each, fill the kernel's
    // buffers sooner (their answers are short errors).
    let mut bulky = 0x1234_5678u32.to_le_bytes().to_vec();
    bulky.resize(16 * 1024, 0);
    // rounds of 500 getConfig and 20 bulky requests (at most 200 rounds)
    // until a write blocks
    for _ in 0..200 {
        for i in 0..520 {
            let body = if i < 500 { &get_config } else { &bulky };
            raw.conn.enqueue(wall_now(), body.clone(), None).unwrap();
            requests += 1;
        }
        match timeout(Duration::from_millis(500), raw.flush()).await {
            Ok(Ok(n)) => wire += n,
            // The server stopped reading: the write blocks, or, when the
            // kernel's buffers took everything until the server gave up on
            // the stalled connection (1 s later), it fails.
            Ok(Err(_)) | Err(_) => {
                blocked_after = Some(started.elapsed());
                break;
            }
        }
    }
    let blocked_after = blocked_after.expect("the server stopped reading");
    // Never read: the server gives up on the connection.
    let until = Instant::now() + Duration::from_secs(5);
    while server.stats().output_stalls == 0 && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let closed_after = started.elapsed();
    stop_honest(&stop, honest, "client_that_never_reads").await;
    sampler.finish("client_that_never_reads").await;
    let st = server.stats();
    eprintln!(
        "client_that_never_reads: {requests} requests enqueued, {:.1} MiB in writes that completed; a write blocked \
         after {blocked_after:?}; closed after {closed_after:?}; output stalls {}",
        wire as f64 / MIB as f64,
        st.output_stalls
    );
    assert_eq!(st.output_stalls, 1);
    assert!(closed_after < blocked_after + Duration::from_secs(4));
    drained(&server, 0, Duration::from_secs(3)).await;
}

/// At most 5 connections from one address and 20 in all: the excess is
/// accepted, then closed at once. Other addresses (and, once the crowd
/// leaves, everyone) are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_caps() {
    let _serial = SERIAL.lock().await;
    let mut cfg = config();
    cfg.limits.max_connections = 20;
    cfg.limits.max_connections_per_ip = 5;
    cfg.limits.handshake_timeout = Duration::from_secs(30);
    let server = Arc::new(TestServer::start(cfg).await.unwrap());
    let session = known_key(&server, 5);
    honest_call(&server, &session).await;
    let sampler = Sampler::start(|| 0);
    let addr = server.addr();
    async fn from(ip: [u8; 4], addr: SocketAddr) -> TcpStream {
        let sock = TcpSocket::new_v4().unwrap();
        sock.bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::from(ip)), 0))
            .unwrap();
        sock.connect(addr).await.unwrap()
    }
    async fn refused(streams: &mut [TcpStream]) -> usize {
        let mut n = 0;
        for s in streams.iter_mut() {
            n += usize::from(closed_within(s, Duration::from_millis(300)).await);
        }
        n
    }

    // One address opens 50.
    let mut crowd = Vec::new();
    for _ in 0..50 {
        crowd.push(from([127, 0, 0, 2], addr).await);
    }
    let per_ip_refused = refused(&mut crowd).await;
    let t = honest_call(&server, &session).await;
    eprintln!("connection_caps: 50 from 127.0.0.2: {per_ip_refused} closed at once; honest client from 127.0.0.1 served in {t:?}");
    assert_eq!(per_ip_refused, 45);
    assert!(t < Duration::from_secs(1));
    drop(crowd);
    drained(&server, 0, Duration::from_secs(3)).await;

    // Six addresses open 5 each: 20 fit.
    let mut crowd = Vec::new();
    for i in 3..9 {
        for _ in 0..5 {
            crowd.push(from([127, 0, 0, i], addr).await);
        }
    }
    let total_refused = refused(&mut crowd).await;
    eprintln!(
        "connection_caps: 30 from 6 addresses: {total_refused} closed at once, {} open",
        server.open_connections()
    );
    assert_eq!(total_refused, 10);
    assert_eq!(server.open_connections(), 20);
    drop(crowd);
    drained(&server, 0, Duration::from_secs(3)).await;
    let t = honest_call(&server, &session).await;
    assert!(t < Duration::from_secs(1));
    sampler.finish("connection_caps").await;
    assert_eq!(server.stats().refused_connections, 55);
}

// ---------------------------------------------------------------- other items

/// `get_future_salts` is answered with as many salts as asked (64 at most),
/// consecutive one-hour windows from now; a new connection may then use the
/// current window's salt, while a made-up salt gets `bad_server_salt`.
#[tokio::test]
async fn future_salts_are_served_and_accepted() {
    let server = TestServer::start(config()).await.unwrap();
    let session = known_key(&server, 6);
    let key_id = session.auth_key.id_u64();
    let mut salts_seen = Vec::new();
    for (num, want) in [(10, 10usize), (64, 64), (100, 64)] {
        let stream = TcpStream::connect(server.addr()).await.unwrap();
        let mut raw = Raw::resume(stream, &session, SALT, 10).await;
        let id = raw
            .conn
            .client_session_mut()
            .unwrap()
            .get_future_salts(wall_now(), num);
        assert!(
            raw.until(Duration::from_secs(5), |ev| response_body(ev, id).is_some())
                .await
        );
        let body = response_body(&raw.events, id).unwrap();
        let mtproto_tl::mtproto::enums::FutureSalts::FutureSalts(f) =
            mtproto_tl::mtproto::enums::FutureSalts::from_bytes(&body).unwrap();
        let salts: Vec<(i32, i32, i64)> = f
            .salts
            .0
            .iter()
            .map(|s| (s.0.valid_since, s.0.valid_until, s.0.salt))
            .collect();
        assert_eq!(salts.len(), want, "asked {num}");
        let now = i32::try_from(wall_now().wall.as_secs()).unwrap();
        assert!((f.now - now).abs() <= 2);
        assert!(salts[0].0 <= now && now < salts[0].1);
        for w in salts.windows(2) {
            assert_eq!(w[0].1, w[1].0, "consecutive windows");
        }
        assert!(salts.iter().all(|s| s.1 - s.0 == 3600));
        salts_seen.push(salts);
    }
    // the same salts every time, kept by the server per key
    assert_eq!(salts_seen[1], salts_seen[2]);
    assert_eq!(salts_seen[0][..], salts_seen[1][..10]);
    assert_eq!(server.future_salts(key_id), salts_seen[1]);

    // A new connection on the current window's salt: accepted as it is.
    let current = salts_seen[1][0].2;
    for (salt, accepted) in [(current, true), (0x1234, false)] {
        let stream = TcpStream::connect(server.addr()).await.unwrap();
        let mut raw = Raw::resume(stream, &session, salt, 11).await;
        let body = mtproto_tl::api::functions::help::GetConfig.to_bytes();
        let id = raw.conn.enqueue(wall_now(), body, None).unwrap();
        assert!(
            raw.until(Duration::from_secs(5), |ev| response_body(ev, id).is_some())
                .await
        );
        // A refused salt costs a bad_server_salt and a re-send.
        let resends = raw.conn.client_session().unwrap().stats().resends;
        assert_eq!(resends == 0, accepted, "salt {salt:#x}: {resends} re-sends");
    }
}

/// A client sends `req_pq_multi` again on the same connection after the
/// server answered the first: a fresh `resPQ`, the connection stays.
#[tokio::test]
async fn handshake_restarted_on_the_same_connection() {
    let server = TestServer::start(config()).await.unwrap();
    let mut s = TcpStream::connect(server.addr()).await.unwrap();
    let mut b = vec![0u8; 4096];
    let mut server_nonces = Vec::new();
    for round in 0..3u8 {
        let mut out = if round == 0 {
            vec![0xee; 4]
        } else {
            Vec::new()
        };
        out.extend_from_slice(&req_pq_multi(
            [round + 1; 16],
            plain_msg_id() + i64::from(round) * 4,
        ));
        s.write_all(&out).await.unwrap();
        let n = timeout(Duration::from_secs(5), s.read(&mut b))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 4, "round {round}: answered");
        let msg = mtproto_session::handshake::decode_plain(&b[4..n]).unwrap();
        let mtproto_tl::mtproto::enums::ResPq::ResPq(res) =
            mtproto_tl::mtproto::enums::ResPq::from_bytes(msg.body).unwrap();
        assert_eq!(res.nonce, [round + 1; 16]);
        server_nonces.push(res.server_nonce);
    }
    assert_ne!(server_nonces[0], server_nonces[1]);
    assert_ne!(server_nonces[1], server_nonces[2]);
    assert_eq!(server.stats().bad_connections, 0);
    assert_eq!(server.open_connections(), 1);
}

/// The key store keeps `max_auth_keys`; a full store evicts the least
/// recently used key (a connection using a key marks it used).
#[tokio::test]
async fn key_store_evicts_the_least_recently_used() {
    let mut cfg = config();
    cfg.limits.max_auth_keys = 3;
    let server = TestServer::start(cfg).await.unwrap();
    let keys: Vec<SessionData> = (10..13).map(|i| known_key(&server, i)).collect();
    // use the oldest key: it becomes the most recently used
    let stream = TcpStream::connect(server.addr()).await.unwrap();
    let mut raw = Raw::resume(stream, &keys[0], SALT, 12).await;
    let body = mtproto_tl::api::functions::help::GetConfig.to_bytes();
    let id = raw.conn.enqueue(wall_now(), body, None).unwrap();
    assert!(
        raw.until(Duration::from_secs(5), |ev| response_body(ev, id).is_some())
            .await
    );
    let fourth = known_key(&server, 13);
    assert_eq!(server.auth_keys(), 3);
    let has = |s: &SessionData| server.has_auth_key(s.auth_key.id_u64());
    assert!(has(&keys[0]) && !has(&keys[1]) && has(&keys[2]) && has(&fourth));
    assert_eq!(server.stats().evicted_keys, 1);
}

/// Real handshakes (RSA and DH on the server) next to light requests, on a
/// current-thread runtime: the server's heavy work runs off the runtime, so
/// the light requests are answered meanwhile.
#[tokio::test]
async fn heavy_handshakes_do_not_stall_other_connections() {
    let server = Arc::new(TestServer::start(config()).await.unwrap());
    let session = known_key(&server, 7);
    honest_call(&server, &session).await;
    let stop = Arc::new(AtomicBool::new(false));
    let honest = honest_loop(server.clone(), session, stop.clone());
    // Clients making new keys, on their own threads (their own RSA and DH
    // must not hold up this runtime either).
    let addr = server.addr();
    let key = server.public_key();
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let key = key.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    for _ in 0..2 {
                        let cfg = ClientConfig::new(addr, TransportKind::Intermediate)
                            .with_rsa_key(key.clone())
                            .with_api_id(1)
                            .with_pfs(false);
                        let c = timeout(Duration::from_secs(30), Client::connect(cfg))
                            .await
                            .unwrap()
                            .unwrap();
                        drop(c);
                    }
                });
            })
        })
        .collect();
    for t in threads {
        tokio::task::spawn_blocking(move || t.join().unwrap())
            .await
            .unwrap();
    }
    assert_eq!(server.stats().handshakes, 4);
    stop_honest(
        &stop,
        honest,
        "heavy_handshakes_do_not_stall_other_connections",
    )
    .await;
}

// ------------------------------------------- amplification and replays

/// `gzip_packed#3072cfa1 packed_data:bytes` around `data`.
fn gzip_packed(data: &[u8]) -> Vec<u8> {
    let mut out = mtproto_tl::GZIP_PACKED_ID.to_le_bytes().to_vec();
    mtproto_tl::write_tl_bytes(&mtproto_tl::deflate(data), &mut out);
    out
}

/// The bomb: a client packet holding a container of 1,024 messages,
/// each `gzip_packed(gzip_packed(16 MiB of zeros))`, sealed under `key`, as
/// an intermediate frame (about 200 KB: 16 GiB if inflated).
fn bomb_packet(key: &AuthKey, session_id: i64, inner: &[u8]) -> Vec<u8> {
    use mtproto_session::wire::{seal_message, ContainerWriter, MessageHeader};
    let now = wall_now();
    let base = mtproto_session::msg_id::raw_msg_id(now.wall, 0) & !3;
    let mut body = Vec::new();
    let mut w = ContainerWriter::new(&mut body);
    for i in 0..1024i64 {
        w.push(base + 4 * (i + 1), 1, inner).unwrap();
    }
    w.finish();
    let header = MessageHeader {
        salt: SALT,
        session_id,
        msg_id: base + 4 * 1025,
        seqno: 2,
    };
    let mut out = Vec::new();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    seal_message(
        key,
        mtproto_crypto::packet::Direction::ClientToServer,
        &header,
        &body,
        &mut out,
        &mut rng,
    )
    .unwrap();
    intermediate(&out)
}

/// Eight connections each send the 1,024-message gzip bomb container (about
/// 200 KB on the wire, 16 GiB inflated) four times: the server refuses every
/// packet on the amplification bound, executes nothing from them, its memory
/// stays bounded, and an honest client is served within a second meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_bomb_containers() {
    let _serial = SERIAL.lock().await;
    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let mut cfg = config();
    cfg.events = Some(tx);
    let server = Arc::new(TestServer::start(cfg).await.unwrap());
    let session = known_key(&server, 11);
    honest_call(&server, &session).await;
    let inner = gzip_packed(&gzip_packed(&vec![0u8; 16 << 20]));
    let packet = bomb_packet(&session.auth_key, 0x0b0b, &inner);
    eprintln!(
        "gzip_bomb_containers: {} bytes on the wire per packet",
        packet.len()
    );
    assert!(packet.len() < 300 * 1024);
    let sampler = Sampler::start(|| 0);
    let stop = Arc::new(AtomicBool::new(false));
    let honest = honest_loop(server.clone(), session.clone(), stop.clone());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (addr, packet) = (server.addr(), packet.clone());
        tasks.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(&[0xee; 4]).await.unwrap();
            for _ in 0..4 {
                s.write_all(&packet).await.unwrap();
            }
            // Whatever comes back (nothing is expected), until closed or idle.
            let _ = closed_within(&mut s, Duration::from_secs(2)).await;
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let took = started.elapsed();
    stop_honest(&stop, honest, "gzip_bomb_containers").await;
    sampler.finish("gzip_bomb_containers").await;
    eprintln!("gzip_bomb_containers: 32 bomb packets in {took:?}");
    // Only the honest client's calls were executed: nothing of the bombs.
    let mut names = Vec::new();
    while let Ok(ev) = events.try_recv() {
        if let mtproto_testserver::ServerEvent::Request { name, .. } = ev {
            names.push(name);
        }
    }
    assert!(!names.is_empty());
    assert!(
        names.iter().all(|n| n == "help.getConfig"),
        "executed from a bomb: {names:?}"
    );
}

/// A client packet captured on one connection and written again on a second
/// one (under the same key, within the time window) is not executed again:
/// the replay window belongs to the key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_on_a_second_connection() {
    let _serial = SERIAL.lock().await;
    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let mut cfg = config();
    cfg.events = Some(tx);
    let server = Arc::new(TestServer::start(cfg).await.unwrap());
    let session = known_key(&server, 12);
    let sampler = Sampler::start(|| 0);
    let stop = Arc::new(AtomicBool::new(false));
    let honest = honest_loop(server.clone(), session.clone(), stop.clone());

    let stream = TcpStream::connect(server.addr()).await.unwrap();
    let mut raw = Raw::resume(stream, &session, SALT, 21).await;
    // A call the honest client never makes, to count its executions.
    let typing = mtproto_tl::api::functions::messages::SetTyping {
        peer: mtproto_tl::api::enums::InputPeer::InputPeerSelf,
        top_msg_id: None,
        action: mtproto_tl::api::enums::SendMessageAction::SendMessageTypingAction,
    }
    .to_bytes();
    let id = raw.conn.enqueue(wall_now(), typing, None).unwrap();
    // Capture exactly what the client writes (transport tag included).
    let mut captured = Vec::new();
    raw.conn.poll_transmit(wall_now(), &mut captured);
    raw.stream.write_all(&captured).await.unwrap();
    assert!(
        raw.until(Duration::from_secs(5), |ev| response_body(ev, id).is_some())
            .await
    );
    // The same bytes on a second connection, and on a third.
    for _ in 0..2 {
        let mut s = TcpStream::connect(server.addr()).await.unwrap();
        s.write_all(&captured).await.unwrap();
        let _ = closed_within(&mut s, Duration::from_millis(500)).await;
    }
    stop_honest(&stop, honest, "replay_on_a_second_connection").await;
    sampler.finish("replay_on_a_second_connection").await;
    let mut typing = 0;
    while let Ok(ev) = events.try_recv() {
        if let mtproto_testserver::ServerEvent::Request { name, .. } = ev {
            typing += usize::from(name == "messages.setTyping");
        }
    }
    assert_eq!(typing, 1, "the replayed request was executed again");
}
