//! One client connection: socket reads and writes over a sans-IO
//! [`Connection`] (server role), the request dispatch, scripted faults,
//! delayed answers and the per-connection limits. Nothing MTProto is done
//! here.
//!
//! Reads stop while the peer leaves too much output untaken (or the delayed
//! answers are at their limit); timers count progress (whole frames), not
//! bytes; the `Connection`'s work on received bytes (RSA and DH in a
//! handshake, inflating `gzip_packed`) runs on tokio's blocking pool so it
//! never holds up other connections, or the accept loop.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use mtproto_connection::{Connection, ConnectionError, Event, KeyStore, ServerParams};
use mtproto_session::handshake::PqInnerVariant;
use mtproto_session::{Monotonic, Now, RpcError};
use rand::RngCore;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::dispatch::{handle_request, Caller};
use crate::faults::{ConnFaults, PushFaults, Verdict};
use crate::limits::{lock, ConnSlot, HandshakeSlot, InboundShare};
use crate::server::{now, Inner, ServerEvent};
use crate::world::MAX_QUEUED_UPDATES;

/// A delayed answer: (when it is due, auth_key_id, msg_id, result).
type Delayed = (Instant, u64, i64, Result<Vec<u8>, RpcError>);

/// Connection ids given in this process.
static CONNECTION_IDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Most bytes taken from the socket per read.
const READ_CHUNK: usize = 64 * 1024;

/// Written output is cut off the front of the buffer once this much of it
/// has gone (and it is at least half the buffer).
const COMPACT_AT: usize = 64 * 1024;

/// Serves one connection until it ends, then reports why. `_slot` holds the
/// connection's place under the connection limits until then.
pub(crate) async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    inner: Arc<Inner>,
    shutdown: watch::Receiver<bool>,
    _slot: ConnSlot,
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

fn clock() -> Now {
    // The test server has no timers of its own in the connection (the idle
    // timeout is the shell's), so one clock serves both readings.
    let wall = now();
    Now::new(wall, Monotonic(wall.0))
}

/// Bytes read that are processed inline, on the runtime, when the
/// connection already runs a session: below this, a read is one or a few
/// ordinary packets. A hop to the blocking pool costs tens of microseconds
/// per read, more than the whole request at low concurrency.
const INLINE_MAX: usize = 16 * 1024;

/// Runs `conn.handle_bytes`: inline for a small read on a connection that
/// already has a key (decrypting and answering ordinary packets takes
/// microseconds; what one small packet can inflate is capped by the
/// session's amplification bound, 16 MiB, about 10 ms of work at worst),
/// otherwise on the blocking pool: a handshake's RSA and DH and large reads
/// must not stall the runtime's other tasks (a current-thread runtime has
/// only one thread); at most
/// [`Limits::max_parallel_processing`](crate::Limits) connections work on
/// the blocking pool at once (`permits`).
async fn handle_bytes(
    mut conn: Connection,
    data: Vec<u8>,
    permits: &Arc<tokio::sync::Semaphore>,
) -> Result<Connection, String> {
    // Inline work is bounded by the runtime's worker threads already.
    if data.len() < INLINE_MAX && conn.server_auth_key_id().is_some() {
        conn.handle_bytes(clock(), &data);
        return Ok(conn);
    }
    let permit = permits
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| format!("processing: {e}"))?;
    tokio::task::spawn_blocking(move || {
        conn.handle_bytes(clock(), &data);
        drop(permit);
        conn
    })
    .await
    .map_err(|e| format!("connection task: {e}"))
}

/// Progress and deadlines of one connection.
#[derive(Debug)]
struct Timers {
    /// Until when the connection must have a key; `None` once it has one
    /// and no handshake is in progress.
    handshake_by: Option<Instant>,
    /// The handshake in progress holds a place under the in-progress limit.
    handshake: Option<HandshakeSlot>,
    /// When a whole frame last arrived (or reading resumed).
    progress_at: Instant,
    /// Frames received so far (to see progress).
    frames: u64,
    /// Since when a partial frame is pending.
    partial_since: Option<Instant>,
    /// Since when the output is over `output_pause` (reading stopped).
    stalled_since: Option<Instant>,
}

/// The connection's place among those updates are pushed to; leaves it
/// when dropped.
struct Listening<'a> {
    inner: &'a Inner,
    conn: u64,
    /// The auth key it is registered under.
    key: Option<u64>,
}

impl Drop for Listening<'_> {
    fn drop(&mut self) {
        lock(&self.inner.world).unlisten(self.conn);
    }
}

/// How a connection ends: `Ok` for an orderly end, `Err` for a bad client.
async fn conn_loop(
    stream: TcpStream,
    peer: SocketAddr,
    inner: &Arc<Inner>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<String, String> {
    let limits = &inner.limits;
    // A hostile server sending huge frames must be able to hold one.
    let output_max = match inner.faults.violate {
        Some(rule) => limits.output_max.max(2 * rule.max_frame_len()),
        None => limits.output_max,
    };
    let accepted = Instant::now();
    let (rd, mut wr) = stream.into_split();
    let keys: Arc<dyn KeyStore> = inner.clone();
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    let mut params = ServerParams::new(vec![inner.rsa.clone()], keys, seed);
    params.time_offset_secs = inner.faults.clock_skew_secs;
    params.transport_config.max_frame_len = limits.max_frame_len;
    if let Some(rule) = inner.faults.violate {
        params.handshake_violation = rule.handshake();
        params.tamper = rule.tamper();
        params.transport_config.max_frame_len = params
            .transport_config
            .max_frame_len
            .max(rule.max_frame_len());
    }
    let mut conn = Connection::server(params);
    // Unique across the DCs of a cluster, which share the world's
    // listeners.
    let conn_id = CONNECTION_IDS.fetch_add(1, Ordering::Relaxed) + 1;
    let (updates_tx, mut updates_rx) = tokio::sync::mpsc::channel(MAX_QUEUED_UPDATES);
    let mut listening = Listening {
        inner,
        conn: conn_id,
        key: None,
    };
    if let Some(policy) = ConnFaults::admission(inner, peer) {
        conn.set_admission(policy);
    }
    let mut faults = ConnFaults::new();
    let mut push_faults = PushFaults::default();
    let mut share = InboundShare::new(&inner.inbound);
    let mut delayed: VecDeque<Delayed> = VecDeque::new();
    let mut wbuf: Vec<u8> = Vec::new();
    let mut written = 0usize;
    let mut t = Timers {
        handshake_by: accepted.checked_add(limits.handshake_timeout),
        handshake: None,
        progress_at: accepted,
        frames: 0,
        partial_since: None,
        stalled_since: None,
    };
    // Set once the connection closed: how the task ends after flushing.
    let mut ending: Option<Result<String, String>> = None;
    loop {
        while let Some(ev) = conn.poll_event() {
            match ev {
                Event::TransportDetected(transport) => {
                    inner.emit(ServerEvent::Connected { peer, transport });
                }
                Event::HandshakeMessage {
                    sent: false,
                    name: "req_pq_multi" | "req_pq",
                    ..
                } => {
                    // A handshake starts (or starts over): it needs a token
                    // of the rate bucket and a place among those in progress.
                    let place = match t.handshake.take() {
                        Some(p) => Some(p),
                        None => HandshakeSlot::take(
                            &inner.handshakes,
                            limits.max_handshakes_in_progress,
                        ),
                    };
                    let Some(place) = place.filter(|_| inner.handshake_token()) else {
                        inner
                            .stats
                            .refused_handshakes
                            .fetch_add(1, Ordering::Relaxed);
                        return Err("handshake limit (rate or in progress)".into());
                    };
                    t.handshake = Some(place);
                    let by = Instant::now().checked_add(limits.handshake_timeout);
                    t.handshake_by = match (t.handshake_by, by) {
                        (Some(d), Some(b)) => Some(d.min(b)),
                        (d, b) => d.or(b),
                    };
                }
                Event::ServerKeyReady(k) => {
                    if let PqInnerVariant::Temp { expires_in }
                    | PqInnerVariant::TempDc { expires_in, .. } = k.inner
                    {
                        inner.mark_temporary(k.auth_key_id, expires_in);
                    }
                    t.handshake = None;
                    t.handshake_by = None;
                    inner.stats.handshakes.fetch_add(1, Ordering::Relaxed);
                    inner.emit(ServerEvent::HandshakeDone {
                        peer,
                        rsa_scheme: k.rsa_scheme,
                        inner: k.inner,
                        auth_key_id: k.auth_key_id,
                    });
                }
                Event::Request { msg_id, body } => {
                    inner.stats.requests.fetch_add(1, Ordering::Relaxed);
                    if let Verdict::Drop = faults.on_request(inner, peer, &mut conn) {
                        return Ok("dropped by fault".into());
                    }
                    let key = conn.server_auth_key_id();
                    // A bound temporary key acts for its permanent key.
                    let account = key.map(|k| inner.account_key(k));
                    if let (Some(k), false) = (account, listening.key == account) {
                        // Pushed updates follow the key's account.
                        lock(&inner.world).listen(conn_id, k, updates_tx.clone());
                        listening.key = account;
                    }
                    let session_id = conn
                        .server_session_mut()
                        .and_then(|s| s.client_session_id())
                        .unwrap_or_default();
                    let caller = Caller {
                        conn: conn_id,
                        auth_key_id: account,
                        key,
                        session_id,
                        msg_id,
                    };
                    let handled = handle_request(inner, caller, &body);
                    inner.emit(ServerEvent::Request {
                        peer,
                        name: handled.name,
                        wrapped: handled.wrapped,
                        auth_key_id: key,
                    });
                    if handled.bound && faults.drop_bind_answer(inner) {
                        return Ok("closed after a binding, unanswered (fault)".into());
                    }
                    let delay = inner.faults.answer_delay;
                    let key = conn.server_auth_key_id();
                    let due = Instant::now().checked_add(delay);
                    match (key, due) {
                        (Some(key), Some(due))
                            if !delay.is_zero() && delayed.len() < limits.max_delayed_answers =>
                        {
                            delayed.push_back((due, key, msg_id, handled.result));
                        }
                        _ => {
                            conn.respond(msg_id, handled.result);
                            inner.stats.answers.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                Event::Closed(ConnectionError::UnknownAuthKey { .. }) => {
                    ending = Some(Ok("closed (unknown auth key)".into()));
                }
                Event::Closed(e) => ending = Some(Err(e.to_string())),
                _ => {}
            }
        }
        // A saved key in use, and no handshake under way: nothing to finish.
        if t.handshake.is_none() && conn.server_auth_key_id().is_some() {
            t.handshake_by = None;
        }
        let now = Instant::now();
        while delayed.front().is_some_and(|d| d.0 <= now) {
            if let Some((_, key, msg_id, result)) = delayed.pop_front() {
                if conn.server_auth_key_id() == Some(key) {
                    conn.respond(msg_id, result);
                    inner.stats.answers.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        if written >= wbuf.len() {
            wbuf.clear();
            written = 0;
        } else if written >= COMPACT_AT && written * 2 >= wbuf.len() {
            wbuf.drain(..written);
            written = 0;
        }
        conn.poll_transmit(clock(), &mut wbuf);
        let pending = wbuf.len() - written;
        if pending == 0 {
            if let Some(end) = ending.take() {
                return end;
            }
        }
        if pending > output_max {
            inner.stats.output_stalls.fetch_add(1, Ordering::Relaxed);
            return Err(format!("output over {output_max} bytes not taken"));
        }
        // Backpressure: a peer that does not take its output is not read.
        if pending > limits.output_pause {
            t.stalled_since.get_or_insert(now);
        } else if t.stalled_since.take().is_some() {
            // Reading resumes: the time spent stopped is nobody's idleness.
            t.progress_at = now;
            t.partial_since = t.partial_since.map(|_| now);
        }
        let reading = !conn.is_closed()
            && t.stalled_since.is_none()
            && delayed.len() < limits.max_delayed_answers;
        // Deadlines, in the order they are checked.
        let handshake_at = t.handshake_by;
        // (A duration too long for the clock is no deadline.)
        let stall_at = t
            .stalled_since
            .and_then(|s| s.checked_add(limits.output_stall_timeout));
        let idle_at = reading
            .then(|| t.progress_at.checked_add(inner.idle))
            .flatten();
        let frame_at = t
            .partial_since
            .filter(|_| reading)
            .and_then(|s| s.checked_add(limits.frame_timeout));
        if handshake_at.is_some_and(|d| now >= d) {
            inner
                .stats
                .handshake_timeouts
                .fetch_add(1, Ordering::Relaxed);
            return Err("handshake timeout".into());
        }
        if stall_at.is_some_and(|d| now >= d) {
            inner.stats.output_stalls.fetch_add(1, Ordering::Relaxed);
            return Err("output not taken in time".into());
        }
        if idle_at.is_some_and(|d| now >= d) {
            inner.stats.idle_timeouts.fetch_add(1, Ordering::Relaxed);
            return Err("idle timeout".into());
        }
        if frame_at.is_some_and(|d| now >= d) {
            inner.stats.frame_timeouts.fetch_add(1, Ordering::Relaxed);
            return Err("frame incomplete for too long".into());
        }
        let wake = [
            handshake_at,
            stall_at,
            idle_at,
            frame_at,
            delayed.front().map(|d| d.0),
        ]
        .into_iter()
        .flatten()
        .min();
        tokio::select! {
            r = rd.readable(), if reading => {
                r.map_err(|e| format!("read: {e}"))?;
                // Room for one read, not zeroed (the read fills what it
                // returns); it lives only for this read.
                let mut data = Vec::with_capacity(READ_CHUNK);
                match rd.try_read_buf(&mut data) {
                    Ok(0) => return Ok("closed by the client".into()),
                    Ok(_) => {
                        conn = handle_bytes(conn, data, &inner.processing).await?;
                        let now = Instant::now();
                        let frames = conn.frames_received();
                        if frames != t.frames {
                            // Progress: whole frames, not bytes.
                            t.frames = frames;
                            t.progress_at = now;
                            t.partial_since = None;
                        }
                        let held = conn.buffered_inbound();
                        if held == 0 {
                            t.partial_since = None;
                        } else {
                            t.partial_since.get_or_insert(now);
                        }
                        if share.set(held).is_some_and(|total| total > limits.max_inbound_total) {
                            inner.stats.inbound_overflows.fetch_add(1, Ordering::Relaxed);
                            return Err("partial frames of all connections over the limit".into());
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(format!("read: {e}")),
                }
            }
            w = wr.write(&wbuf[written..]), if written < wbuf.len() => {
                written += w.map_err(|e| format!("write: {e}"))?;
            }
            _ = tokio::time::sleep_until(wake.unwrap_or(now).into()), if wake.is_some() => {}
            Some(update) = updates_rx.recv() => {
                for u in push_faults.on_push(&inner.faults, update) {
                    if let Some(s) = conn.server_session_mut() {
                        s.push_update(u);
                    }
                }
            }
            _ = shutdown.changed() => return Ok("server shutdown".into()),
        }
    }
}
