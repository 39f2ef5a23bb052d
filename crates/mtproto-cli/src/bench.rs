//! `mtproto bench`: K connections (K handshakes), then `messages.setTyping`
//! calls with C in flight per connection, every answer checked; handshake
//! latency, throughput and call latency from a [`Histogram`]. Against an
//! embedded test server unless `--addr` names one.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mtproto_client::methods::set_typing;
use mtproto_client::{Client, ClientConfig};
use mtproto_testserver::{Limits, TestServer, TestServerConfig};
use mtproto_tl::api::enums::{InputPeer, SendMessageAction};
use mtproto_transport::TransportKind;

use crate::histogram::Histogram;
use crate::out::outln;
use crate::{failed, usage, CliResult};

/// `mtproto bench` options.
#[derive(clap::Args, Debug)]
pub(crate) struct BenchArgs {
    /// The server (default: an embedded test server on loopback).
    #[arg(long, value_name = "HOST:PORT")]
    addr: Option<String>,
    /// A trusted server RSA key (PEM); with --addr.
    #[arg(long, value_name = "PEM", requires = "addr")]
    rsa_key: Option<PathBuf>,
    /// abridged, intermediate, padded, full or obfuscated.
    #[arg(long, value_name = "KIND", default_value = "intermediate")]
    transport: String,
    /// Connections (one handshake each).
    #[arg(long, value_name = "K", default_value_t = 1)]
    connections: usize,
    /// Calls in flight per connection.
    #[arg(long, value_name = "C", default_value_t = 16)]
    concurrency: usize,
    /// Calls in all.
    #[arg(long, value_name = "N", conflicts_with = "duration")]
    count: Option<u64>,
    /// Call for this many seconds instead of a count.
    #[arg(long, value_name = "SECS")]
    duration: Option<f64>,
    /// One JSON object (no progress bar).
    #[arg(long)]
    json: bool,
    /// After the handshakes, hold every connection idle for SECS seconds
    /// before the calls (announced on stderr as `idle: K connections`), so
    /// the memory of both sides can be read from outside.
    #[arg(long, value_name = "SECS")]
    idle: Option<f64>,
    /// Perfect forward secrecy: each connection also makes and binds a
    /// temporary key (the handshake latency then covers both).
    #[arg(long)]
    pfs: bool,
}

/// Calls by default (without --count or --duration).
const DEFAULT_COUNT: u64 = 100_000;
/// Most connections one run makes.
const MAX_CONNECTIONS: usize = 100_000;
/// Most calls in flight per connection.
const MAX_CONCURRENCY: usize = 4096;
/// Handshakes made at once.
const HANDSHAKES_AT_ONCE: usize = 8;

/// When the calls stop.
#[derive(Clone, Copy, Debug)]
enum Stop {
    Count(u64),
    Until(Instant),
}

/// What the calls share: how many were taken, done and wrong.
#[derive(Default)]
struct Progress {
    taken: AtomicU64,
    done: AtomicU64,
    errors: AtomicU64,
    first_error: std::sync::Mutex<Option<String>>,
}

impl Progress {
    /// Takes the next call, if there is one.
    fn take(&self, stop: Stop) -> bool {
        match stop {
            Stop::Count(n) => self.taken.fetch_add(1, Ordering::Relaxed) < n,
            Stop::Until(t) => Instant::now() < t,
        }
    }

    fn error(&self, what: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut first = self
            .first_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        first.get_or_insert(what);
    }
}

/// Microseconds of `d`.
fn us(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// One connection's calls: `concurrency` loops of setTyping, each answer
/// checked to be `true`.
async fn calls(client: Client, concurrency: usize, stop: Stop, p: Arc<Progress>) -> Histogram {
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (client, p) = (client.clone(), p.clone());
        tasks.push(tokio::spawn(async move {
            let mut h = Histogram::default();
            while p.take(stop) {
                let t = Instant::now();
                let r = set_typing(
                    &client,
                    InputPeer::InputPeerSelf,
                    SendMessageAction::SendMessageTypingAction,
                    None,
                )
                .await;
                h.record(us(t.elapsed()));
                match r {
                    Ok(true) => {}
                    Ok(false) => p.error("setTyping answered false".into()),
                    Err(e) => p.error(format!("setTyping: {e}")),
                }
                p.done.fetch_add(1, Ordering::Relaxed);
            }
            h
        }));
    }
    let mut all = Histogram::default();
    for t in tasks {
        if let Ok(h) = t.await {
            all.merge(&h);
        }
    }
    all
}

/// A progress line on the terminal, redrawn in place every 200 ms.
fn progress_line(p: &Progress, stop: Stop, started: Instant) -> String {
    let done = p.done.load(Ordering::Relaxed);
    let elapsed = started.elapsed();
    // Done so far, in thousandths.
    let per_mille = match stop {
        Stop::Count(n) => done.saturating_mul(1000) / n.max(1),
        Stop::Until(t) => {
            let total = us(t.saturating_duration_since(started)).max(1);
            us(elapsed).saturating_mul(1000) / total
        }
    }
    .min(1000);
    const WIDTH: u64 = 30;
    let filled = usize::try_from(per_mille * WIDTH / 1000).unwrap_or(0);
    let empty = usize::try_from(WIDTH).unwrap_or(0) - filled;
    format!(
        "\r[{}{}] {:>3}.{}% {done} calls, {:.0} rpc/s, {} errors ",
        "#".repeat(filled),
        " ".repeat(empty),
        per_mille / 10,
        per_mille % 10,
        done as f64 / elapsed.as_secs_f64().max(1e-9),
        p.errors.load(Ordering::Relaxed)
    )
}

/// The embedded server: the test server with room for a benchmark (no
/// handshake rate limit to speak of, many connections).
async fn embedded() -> CliResult<TestServer> {
    let mut cfg = TestServerConfig::with_test_key();
    cfg.limits = Limits::for_load(MAX_CONNECTIONS + 16);
    TestServer::start(cfg)
        .await
        .map_err(|e| failed(format!("cannot start the test server: {e}")))
}

/// This process's resident memory (Linux: `/proc/self/statm`), if known.
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // The page size is 4 KiB on every Linux this runs on that matters here;
    // reading it needs libc (sysconf), which this crate does not use.
    Some(pages * 4096)
}

/// Runs `mtproto bench`.
pub(crate) fn run(args: BenchArgs) -> CliResult {
    let kind: TransportKind = args
        .transport
        .parse()
        .map_err(|_| usage(format!("unknown transport {:?}", args.transport)))?;
    if args.connections == 0 || args.connections > MAX_CONNECTIONS {
        return Err(usage(format!("--connections: 1..={MAX_CONNECTIONS}")));
    }
    if args.concurrency == 0 || args.concurrency > MAX_CONCURRENCY {
        return Err(usage(format!("--concurrency: 1..={MAX_CONCURRENCY}")));
    }
    if args.duration.is_some_and(|d| !(d > 0.0 && d <= 86_400.0)) {
        return Err(usage("--duration: more than 0, at most 86400 seconds"));
    }
    let rsa = args
        .rsa_key
        .as_deref()
        .map(crate::net::read_rsa_key)
        .transpose()?;
    let addr: Option<SocketAddr> = match &args.addr {
        Some(a) => Some(
            std::net::ToSocketAddrs::to_socket_addrs(a)
                .ok()
                .and_then(|mut it| it.next())
                .ok_or_else(|| usage(format!("--addr: cannot resolve {a:?}")))?,
        ),
        None => None,
    };
    let show_progress = !args.json && std::io::stdout().is_terminal();
    // One connection against another process: one thread, so no wake-up
    // crosses threads (the latency of a call is then the network's and the
    // server's); otherwise a thread per core.
    let rt = if args.connections == 1 && addr.is_some() {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Runtime::new()
    }
    .map_err(|e| failed(format!("cannot start tokio: {e}")))?;
    rt.block_on(async move {
        let server = match addr {
            Some(_) => None,
            None => Some(embedded().await?),
        };
        let (addr, key) = match (&server, addr) {
            (Some(s), _) => (s.addr(), Some(s.public_key())),
            (None, Some(a)) => (a, rsa),
            (None, None) => return Err(failed("no server")),
        };
        let mut cfg = ClientConfig::new(addr, kind)
            .with_pfs(args.pfs)
            .with_request_timeout(Duration::from_secs(30));
        cfg.connect_timeout = Duration::from_secs(30);
        if let Some(k) = key {
            cfg = cfg.with_rsa_key(k);
        }

        // K handshakes, HANDSHAKES_AT_ONCE at a time; the resident memory
        // before and after tells what an idle connected session costs.
        let rss_before = resident_bytes();
        // HANDSHAKES_AT_ONCE workers, each connecting one client after
        // another: only that many connect futures (and their buffers) are
        // ever alive, so they do not count against the idle sessions.
        let made = Arc::new(std::sync::Mutex::new((
            Vec::with_capacity(args.connections),
            Histogram::default(),
        )));
        let next = Arc::new(AtomicU64::new(0));
        let total = args.connections as u64;
        let mut workers = Vec::with_capacity(HANDSHAKES_AT_ONCE);
        for _ in 0..HANDSHAKES_AT_ONCE.min(args.connections) {
            let (cfg, made, next) = (cfg.clone(), made.clone(), next.clone());
            workers.push(tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < total {
                    let t = Instant::now();
                    let c = Client::connect(cfg.clone()).await?;
                    let took = us(t.elapsed());
                    let mut m = made.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    m.1.record(took);
                    m.0.push(c);
                }
                Ok::<(), mtproto_client::ConnectError>(())
            }));
        }
        for w in workers {
            match w.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(failed(format!("cannot connect to {addr}: {e}"))),
                Err(e) => return Err(failed(format!("connect task: {e}"))),
            }
        }
        let (clients, handshakes) = std::mem::take(
            &mut *made
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        // Settled: every connection has its key and sits idle.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let idle_per_connection = match (rss_before, resident_bytes()) {
            (Some(a), Some(b)) if server.is_none() => {
                Some(b.saturating_sub(a) / args.connections as u64)
            }
            _ => None,
        };
        if let Some(secs) = args.idle.filter(|s| *s > 0.0 && *s <= 3600.0) {
            eprintln!("idle: {} connections", clients.len());
            tokio::time::sleep(Duration::from_secs_f64(secs)).await;
        }
        let progress = Arc::new(Progress::default());
        let started = Instant::now();
        let stop = match (args.count, args.duration) {
            (Some(n), _) => Stop::Count(n),
            (None, Some(d)) => Stop::Until(started + Duration::from_secs_f64(d)),
            (None, None) => Stop::Count(DEFAULT_COUNT),
        };
        let bar = show_progress.then(|| {
            let p = progress.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    let mut out = std::io::stdout().lock();
                    let _ = out.write_all(progress_line(&p, stop, started).as_bytes());
                    let _ = out.flush();
                }
            })
        });
        let runs: Vec<_> = clients
            .iter()
            .map(|c| tokio::spawn(calls(c.clone(), args.concurrency, stop, progress.clone())))
            .collect();
        let mut latency = Histogram::default();
        for r in runs {
            if let Ok(h) = r.await {
                latency.merge(&h);
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        if let Some(b) = bar {
            b.abort();
            let _ = b.await;
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(progress_line(&progress, stop, started).as_bytes());
            let _ = out.write_all(b"\n");
        }
        drop(clients);
        if let Some(s) = server {
            s.shutdown().await;
        }
        let calls = latency.len();
        let errors = progress.errors.load(Ordering::Relaxed);
        let rps = calls as f64 / seconds.max(1e-9);
        let ms = |v: u64| v as f64 / 1000.0;
        if args.json {
            outln!(
                "{{\"connections\": {}, \"concurrency\": {}, \"calls\": {calls}, \"errors\": {errors}, \
                 \"seconds\": {seconds:.3}, \"rps\": {rps:.1}, \"handshake_ms\": {{\"p50\": {:.3}, \"p99\": {:.3}}}, \
                 \"latency_us\": {{\"p50\": {}, \"p90\": {}, \"p99\": {}, \"max\": {}}}, \
                 \"idle_bytes_per_connection\": {}}}",
                args.connections,
                args.concurrency,
                ms(handshakes.per_mille(500)),
                ms(handshakes.per_mille(990)),
                latency.per_mille(500),
                latency.per_mille(900),
                latency.per_mille(990),
                latency.max(),
                idle_per_connection.map_or_else(|| "null".to_string(), |b| b.to_string()),
            )?;
        } else {
            outln!(
                "{} connections to {addr} ({kind}), {} calls in flight each",
                args.connections,
                args.concurrency
            )?;
            outln!(
                "handshakes: p50 {:.2} ms, p99 {:.2} ms",
                ms(handshakes.per_mille(500)),
                ms(handshakes.per_mille(990))
            )?;
            if let Some(b) = idle_per_connection {
                outln!("idle memory: {b} bytes per connected session (resident, after the handshakes)")?;
            }
            outln!("calls: {calls} in {seconds:.2} s, {rps:.0} rpc/s, {errors} errors")?;
            outln!(
                "latency: p50 {} us, p90 {} us, p99 {} us, max {} us",
                latency.per_mille(500),
                latency.per_mille(900),
                latency.per_mille(990),
                latency.max()
            )?;
        }
        if errors > 0 {
            let first = progress
                .first_error
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone()
                .unwrap_or_default();
            return Err(failed(format!("{errors} calls failed or answered wrong; the first: {first}")));
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use mtproto_testserver::Faults;

    /// Every call that fails is counted (here: each times out, the server
    /// holding its answers back longer than the client waits).
    #[test]
    fn failed_calls_are_counted() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let mut cfg = TestServerConfig::with_test_key();
            let mut faults = Faults::default();
            faults.answer_delay = Duration::from_secs(2);
            cfg.faults = faults;
            let server = TestServer::start(cfg).await.unwrap();
            let client = Client::connect(
                ClientConfig::new(server.addr(), TransportKind::Intermediate)
                    .with_rsa_key(server.public_key())
                    .with_pfs(false)
                    .with_request_timeout(Duration::from_millis(200)),
            )
            .await
            .unwrap();
            let p = Arc::new(Progress::default());
            let h = calls(client, 2, Stop::Count(4), p.clone()).await;
            assert_eq!(h.len(), 4);
            assert_eq!(p.errors.load(Ordering::Relaxed), 4);
            let first = p.first_error.lock().unwrap().clone().unwrap();
            assert!(first.contains("setTyping"), "{first}");
            server.shutdown().await;
        });
    }

    #[test]
    fn the_progress_line_counts_calls() {
        let p = Progress::default();
        p.done.store(50, Ordering::Relaxed);
        let line = progress_line(&p, Stop::Count(100), Instant::now());
        assert!(line.starts_with('\r'));
        assert!(line.contains(" 50.0% 50 calls"), "{line}");
    }
}
