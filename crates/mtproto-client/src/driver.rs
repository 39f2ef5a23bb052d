//! The single task that owns the socket and the sans-IO session.
//!
//! It selects over socket reads, socket writes (only while there are bytes
//! to write), the request channel, and the next deadline (the session's
//! `poll_timeout` or a request's own deadline). Requests are kept here with
//! their body until answered, so when the connection drops a fresh session on
//! a fresh connection re-sends them; the old session (and any late answer to
//! it) is gone, so no request is answered twice.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use mtproto_session::session::{ClientSession, Event, RequestError, RequestId};
use mtproto_tl::api::functions::{InitConnection, InvokeWithLayer};
use mtproto_tl::{RawObject, Serialize};
use mtproto_transport::TransportError;
use rand::RngCore;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{sleep_until, Duration};

use crate::config::{ClientConfig, ConnectEvent};
use crate::net::{self, emit, Conn, Keys};
use crate::{InvocationError, SessionData};

/// What an invoke gets back: the raw answer bytes or an error.
pub(crate) type Reply = Result<Vec<u8>, InvocationError>;

/// A message from a [`Client`](crate::Client) handle to the driver.
pub(crate) enum Command {
    Invoke {
        body: Vec<u8>,
        timeout: Duration,
        reply: oneshot::Sender<Reply>,
    },
}

/// State shared between the driver and the handles.
pub(crate) struct Shared {
    pub data: Mutex<SessionData>,
    pub handshakes: AtomicU64,
    pub reconnects: AtomicU64,
    pub resent: AtomicU64,
}

struct Pending {
    body: Vec<u8>,
    reply: oneshot::Sender<Reply>,
    deadline: Instant,
}

enum Wake {
    Read(std::io::Result<usize>),
    Wrote(std::io::Result<usize>),
    Cmd(Option<Command>),
    Timer,
}

pub(crate) struct Driver {
    cfg: Arc<ClientConfig>,
    shared: Arc<Shared>,
    rx: mpsc::UnboundedReceiver<Command>,
    rx_open: bool,
    keys: Option<Keys>,
    pending: HashMap<u64, Pending>,
    next_local: u64,
    by_req: HashMap<RequestId, u64>,
    conn: Option<(Conn, ClientSession)>,
    init_sent: bool,
    attempt: u32,
}

fn ts_to_instant(ts: mtproto_session::Timestamp) -> Instant {
    Instant::now() + ts.since(net::now())
}

impl Driver {
    pub(crate) fn new(
        cfg: Arc<ClientConfig>,
        shared: Arc<Shared>,
        rx: mpsc::UnboundedReceiver<Command>,
        conn: Conn,
        keys: Keys,
    ) -> Self {
        let mut d = Self {
            cfg,
            shared,
            rx,
            rx_open: true,
            keys: None,
            pending: HashMap::new(),
            next_local: 0,
            by_req: HashMap::new(),
            conn: None,
            init_sent: false,
            attempt: 0,
        };
        d.install(conn, keys);
        d
    }

    fn update_shared(&self) {
        if let (Some(k), Ok(mut data)) = (&self.keys, self.shared.data.lock()) {
            data.auth_key = k.auth_key.clone();
            data.salt = k.salt;
            data.time_offset = k.time_offset;
        }
    }

    /// Starts a session on a new connection and (re-)enqueues every pending request.
    fn install(&mut self, conn: Conn, keys: Keys) {
        let mut seed = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut seed);
        let mut s = ClientSession::new(
            keys.auth_key.clone(),
            keys.salt,
            self.cfg.session_config.clone(),
            seed,
        );
        s.set_time_offset(keys.time_offset);
        self.keys = Some(keys);
        self.update_shared();
        self.init_sent = false;
        self.by_req.clear();
        self.pending.retain(|_, p| !p.reply.is_closed());
        let mut ids: Vec<u64> = self.pending.keys().copied().collect();
        ids.sort_unstable();
        let t = net::now();
        for id in &ids {
            if let Some(p) = self.pending.get(id) {
                let body = wrap(&self.cfg, &mut self.init_sent, &p.body);
                let left = p.deadline.saturating_duration_since(Instant::now());
                let req = s.enqueue_with_timeout(t, body, left);
                self.by_req.insert(req, *id);
            }
        }
        if !ids.is_empty() {
            self.shared
                .resent
                .fetch_add(ids.len() as u64, Ordering::Relaxed);
            emit(&self.cfg, ConnectEvent::Resent { count: ids.len() });
        }
        self.conn = Some((conn, s));
    }

    fn accept(&mut self, cmd: Command) {
        match cmd {
            Command::Invoke {
                body,
                timeout,
                reply,
            } => {
                let local = self.next_local;
                self.next_local += 1;
                if let Some((_, s)) = self.conn.as_mut() {
                    let wrapped = wrap(&self.cfg, &mut self.init_sent, &body);
                    let req = s.enqueue_with_timeout(net::now(), wrapped, timeout);
                    self.by_req.insert(req, local);
                }
                self.pending.insert(
                    local,
                    Pending {
                        body,
                        reply,
                        deadline: Instant::now() + timeout,
                    },
                );
            }
        }
    }

    fn finish(&mut self, req: RequestId, result: Reply) {
        if let Some(local) = self.by_req.remove(&req) {
            if let Some(p) = self.pending.remove(&local) {
                // The caller may have gone (cancelled): the answer is discarded.
                let _ = p.reply.send(result);
            }
        }
    }

    fn drain_events(&mut self) {
        loop {
            let Some((_, s)) = self.conn.as_mut() else {
                return;
            };
            let Some(ev) = s.poll_event() else { return };
            match ev {
                Event::Response { request, result } => {
                    let r = result.map_err(|e| InvocationError::Rpc(e.into()));
                    self.finish(request, r);
                }
                Event::RequestFailed { request, error } => {
                    let e = match error {
                        RequestError::Timeout => InvocationError::Timeout,
                        e => InvocationError::Dropped(e),
                    };
                    self.finish(request, Err(e));
                }
                Event::SaltChanged { salt } => {
                    if let Some(k) = self.keys.as_mut() {
                        k.salt = salt;
                    }
                    self.update_shared();
                }
                Event::TimeOffsetChanged { offset_secs } => {
                    if let Some(k) = self.keys.as_mut() {
                        k.time_offset = offset_secs;
                    }
                    self.update_shared();
                }
                _ => {}
            }
        }
    }

    fn next_pending_deadline(&self) -> Option<Instant> {
        self.pending.values().map(|p| p.deadline).min()
    }

    /// Fails requests past their own deadline (also while disconnected).
    fn expire(&mut self) {
        let now = Instant::now();
        let expired: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            if let Some(p) = self.pending.remove(&id) {
                let _ = p.reply.send(Err(InvocationError::Timeout));
            }
        }
    }

    fn lost(&mut self, reason: String) {
        if let Some((_, s)) = self.conn.take() {
            if let Some(k) = self.keys.as_mut() {
                k.salt = s.salt();
                k.time_offset = s.time_offset();
            }
        }
        self.update_shared();
        self.by_req.clear();
        emit(&self.cfg, ConnectEvent::Disconnected { reason });
    }

    pub(crate) async fn run(mut self) {
        loop {
            if self.conn.is_some() {
                self.step().await;
                continue;
            }
            self.expire();
            self.pending.retain(|_, p| !p.reply.is_closed());
            if self.pending.is_empty() {
                if !self.rx_open {
                    return;
                }
                // Idle and disconnected: reconnect when the next request comes.
                match self.rx.recv().await {
                    Some(c) => self.accept(c),
                    None => {
                        self.rx_open = false;
                        continue;
                    }
                }
            }
            self.reconnect().await;
        }
    }

    async fn reconnect(&mut self) {
        let policy = self.cfg.reconnect.clone();
        loop {
            self.attempt += 1;
            if self.attempt > policy.max_attempts {
                self.attempt = 0;
                for (_, p) in self.pending.drain() {
                    let _ = p.reply.send(Err(InvocationError::Disconnected));
                }
                return;
            }
            let shift = self.attempt.saturating_sub(1).min(20);
            let backoff = policy
                .initial_backoff
                .saturating_mul(1u32 << shift)
                .min(policy.max_backoff);
            emit(
                &self.cfg,
                ConnectEvent::Reconnecting {
                    attempt: self.attempt,
                    backoff,
                },
            );
            let until = tokio::time::Instant::now() + backoff;
            loop {
                let next = self.next_pending_deadline();
                let far = Instant::now() + Duration::from_secs(3600);
                tokio::select! {
                    _ = sleep_until(until) => break,
                    c = self.rx.recv(), if self.rx_open => match c {
                        Some(c) => self.accept(c),
                        None => self.rx_open = false,
                    },
                    _ = sleep_until(next.unwrap_or(far).into()), if next.is_some() => self.expire(),
                }
            }
            self.expire();
            self.pending.retain(|_, p| !p.reply.is_closed());
            if self.pending.is_empty() {
                self.attempt = 0;
                return;
            }
            let keys = self.keys.clone();
            let had_key = keys.is_some();
            match net::establish(&self.cfg, keys, self.attempt).await {
                Ok((conn, keys)) => {
                    self.shared.reconnects.fetch_add(1, Ordering::Relaxed);
                    if !had_key {
                        self.shared.handshakes.fetch_add(1, Ordering::Relaxed);
                    }
                    self.attempt = 0;
                    self.install(conn, keys);
                    return;
                }
                Err(e) => emit(
                    &self.cfg,
                    ConnectEvent::Disconnected {
                        reason: format!("reconnect failed: {e}"),
                    },
                ),
            }
        }
    }

    /// One turn of the connected loop.
    async fn step(&mut self) {
        let next_pending = self.next_pending_deadline();
        let Some((conn, session)) = self.conn.as_mut() else {
            return;
        };
        let t = net::now();
        while let Some(packet) = session.poll_transmit(t) {
            if let Err(e) = conn.transport.encode(&packet, &mut conn.wbuf) {
                self.lost(format!("encode: {e}"));
                return;
            }
        }
        let deadline = session
            .poll_timeout()
            .map(ts_to_instant)
            .into_iter()
            .chain(next_pending)
            .min();
        let far = Instant::now() + Duration::from_secs(3600);
        let wake = tokio::select! {
            r = tokio::io::AsyncReadExt::read_buf(&mut conn.rd, &mut conn.rbuf) => Wake::Read(r),
            w = tokio::io::AsyncWriteExt::write_buf(&mut conn.wr, &mut conn.wbuf),
                if !conn.wbuf.is_empty() => Wake::Wrote(w),
            c = self.rx.recv(), if self.rx_open => Wake::Cmd(c),
            _ = sleep_until(deadline.unwrap_or(far).into()), if deadline.is_some() => Wake::Timer,
        };
        match wake {
            Wake::Read(Ok(0)) => self.lost("closed by the server".into()),
            Wake::Read(Err(e)) => self.lost(format!("read: {e}")),
            Wake::Read(Ok(_)) => self.on_readable(),
            Wake::Wrote(Ok(_)) => {}
            Wake::Wrote(Err(e)) => self.lost(format!("write: {e}")),
            Wake::Cmd(Some(c)) => {
                self.accept(c);
                // Take everything already queued so they share containers.
                while let Ok(c) = self.rx.try_recv() {
                    self.accept(c);
                }
            }
            Wake::Cmd(None) => self.rx_open = false,
            Wake::Timer => {
                if let Some((_, s)) = self.conn.as_mut() {
                    s.handle_timeout(net::now());
                }
                self.drain_events();
                self.expire();
            }
        }
        if !self.rx_open && self.pending.is_empty() {
            // Every handle is gone and nothing is pending: close.
            self.conn = None;
        }
    }

    fn on_readable(&mut self) {
        loop {
            let Some((conn, session)) = self.conn.as_mut() else {
                return;
            };
            match conn.transport.decode(&mut conn.rbuf) {
                Ok(Some(mut frame)) => {
                    if net::is_padded(conn.transport.kind()) {
                        net::strip_padding(&mut frame);
                    }
                    // A packet that fails decryption is dropped; the session
                    // keeps going (security_guidelines: ignore such packets).
                    let _ = session.handle_incoming(net::now(), &frame);
                    self.drain_events();
                }
                Ok(None) => return,
                Err(TransportError::Remote(code)) => {
                    if code == -404 {
                        // "auth key not found": make a new one on reconnect.
                        self.keys = None;
                    }
                    self.lost(format!("transport error {code} from the server"));
                    return;
                }
                Err(e) => {
                    self.lost(format!("transport: {e}"));
                    return;
                }
            }
        }
    }
}

/// Wraps the first request of a connection in `invokeWithLayer(initConnection(..))`
/// when an `api_id` is configured.
fn wrap(cfg: &ClientConfig, init_sent: &mut bool, body: &[u8]) -> Vec<u8> {
    match &cfg.init {
        Some(p) if !*init_sent => {
            *init_sent = true;
            InvokeWithLayer {
                layer: mtproto_tl::api::LAYER,
                query: InitConnection {
                    api_id: p.api_id,
                    device_model: p.device_model.clone(),
                    system_version: p.system_version.clone(),
                    app_version: p.app_version.clone(),
                    system_lang_code: p.system_lang_code.clone(),
                    lang_pack: p.lang_pack.clone(),
                    lang_code: p.lang_code.clone(),
                    proxy: None,
                    params: None,
                    query: RawObject(body.to_vec()),
                },
            }
            .to_bytes()
        }
        _ => body.to_vec(),
    }
}
