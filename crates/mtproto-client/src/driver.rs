//! The single task that owns the socket and the sans-IO session.
//!
//! It selects over socket reads, socket writes (only while there are bytes
//! to write), the request channel, and the next deadline (the session's
//! `poll_timeout`). The session outlives connections: when one drops, the
//! driver tells the session (`connection_lost`), reconnects and resumes it
//! (`resume_on_new_connection`), and the session re-sends what is
//! unanswered — the driver keeps only the reply channels. The session
//! answers each request at most once, even when an answer to the old
//! transmission arrives after the re-send.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use mtproto_session::session::ConnectionWrapper;

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
    /// The key to reconnect with; `None` after the server forgot it (-404):
    /// the next connection makes a new one.
    keys: Option<Keys>,
    /// The session; it outlives connections.
    session: ClientSession,
    /// Who waits for which request.
    replies: HashMap<RequestId, oneshot::Sender<Reply>>,
    conn: Option<Conn>,
    attempt: u32,
}

impl Driver {
    pub(crate) fn new(
        cfg: Arc<ClientConfig>,
        shared: Arc<Shared>,
        rx: mpsc::UnboundedReceiver<Command>,
        conn: Conn,
        keys: Keys,
    ) -> Self {
        let mut seed = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut seed);
        let mut session = ClientSession::new(
            keys.auth_key.clone(),
            keys.salt,
            cfg.session_config.clone(),
            seed,
        );
        session.set_time_offset(keys.time_offset);
        if let Some(w) = connection_wrapper(&cfg) {
            session.set_connection_wrapper(Some(w));
        }
        let d = Self {
            cfg,
            shared,
            rx,
            rx_open: true,
            keys: Some(keys),
            session,
            replies: HashMap::new(),
            conn: Some(conn),
            attempt: 0,
        };
        d.update_shared();
        d
    }

    fn update_shared(&self) {
        if let (Some(k), Ok(mut data)) = (&self.keys, self.shared.data.lock()) {
            data.auth_key = k.auth_key.clone();
            data.salt = k.salt;
            data.time_offset = k.time_offset;
        }
    }

    /// Resumes the session on a new connection; with a new key (after a
    /// handshake) the session is re-keyed first. The session re-sends what
    /// is unanswered.
    fn install(&mut self, conn: Conn, keys: Keys, new_key: bool) {
        let t = net::now();
        let mut count = 0;
        if new_key {
            count += self.session.rekey(keys.auth_key.clone(), keys.salt);
        }
        self.session.set_time_offset(keys.time_offset);
        count += self.session.resume_on_new_connection(t);
        self.keys = Some(keys);
        self.update_shared();
        if count > 0 {
            self.shared
                .resent
                .fetch_add(count as u64, Ordering::Relaxed);
            emit(&self.cfg, ConnectEvent::Resent { count });
        }
        self.conn = Some(conn);
    }

    fn accept(&mut self, cmd: Command) {
        match cmd {
            Command::Invoke {
                body,
                timeout,
                reply,
            } => {
                // Also while disconnected: the session keeps it until the
                // next connection (or its deadline).
                let req = self.session.enqueue_with_timeout(net::now(), body, timeout);
                self.replies.insert(req, reply);
            }
        }
    }

    fn finish(&mut self, req: RequestId, result: Reply) {
        if let Some(reply) = self.replies.remove(&req) {
            // The caller may have gone (cancelled): the answer is discarded.
            let _ = reply.send(result);
        }
    }

    /// Forgets requests whose caller went away.
    fn prune(&mut self) {
        let session = &mut self.session;
        self.replies.retain(|id, r| {
            if r.is_closed() {
                session.cancel(*id);
                false
            } else {
                true
            }
        });
    }

    /// Runs the session's timers (request deadlines also while
    /// disconnected) and delivers what they produced.
    fn on_timer(&mut self) {
        self.session.handle_timeout(net::now());
        self.drain_events();
    }

    fn drain_events(&mut self) {
        loop {
            let Some(ev) = self.session.poll_event() else {
                return;
            };
            match ev {
                Event::Response { request, result } => {
                    let r = result.map_err(InvocationError::Rpc);
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
                Event::ConnectionDead if self.conn.is_some() => {
                    self.lost("no pong to the keepalive ping".into());
                }
                _ => {}
            }
        }
    }

    fn lost(&mut self, reason: String) {
        self.conn = None;
        self.session.connection_lost(net::now());
        if let Some(k) = self.keys.as_mut() {
            k.salt = self.session.salt();
            k.time_offset = self.session.time_offset();
        }
        self.update_shared();
        emit(&self.cfg, ConnectEvent::Disconnected { reason });
    }

    fn session_deadline(&self) -> Option<tokio::time::Instant> {
        self.session.poll_timeout().map(net::instant_of)
    }

    pub(crate) async fn run(mut self) {
        loop {
            if self.conn.is_some() {
                self.step().await;
                continue;
            }
            self.on_timer();
            self.prune();
            if self.session.pending_requests() == 0 {
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
                for (id, reply) in self.replies.drain() {
                    self.session.cancel(id);
                    let _ = reply.send(Err(InvocationError::Disconnected));
                }
                for id in self.session.pending_request_ids() {
                    self.session.cancel(id);
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
                let next = self.session_deadline();
                let far = tokio::time::Instant::now() + Duration::from_secs(3600);
                tokio::select! {
                    _ = sleep_until(until) => break,
                    c = self.rx.recv(), if self.rx_open => match c {
                        Some(c) => self.accept(c),
                        None => self.rx_open = false,
                    },
                    _ = sleep_until(next.unwrap_or(far)), if next.is_some() => self.on_timer(),
                }
            }
            self.on_timer();
            self.prune();
            if self.session.pending_requests() == 0 {
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
                    self.install(conn, keys, !had_key);
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
        self.prune();
        let t = net::now();
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        while let Some(packet) = self.session.poll_transmit(t) {
            if let Err(e) = conn.transport.encode(&packet, &mut conn.wbuf) {
                self.lost(format!("encode: {e}"));
                return;
            }
        }
        let deadline = self.session.poll_timeout().map(net::instant_of);
        let far = tokio::time::Instant::now() + Duration::from_secs(3600);
        let wake = tokio::select! {
            r = tokio::io::AsyncReadExt::read_buf(&mut conn.rd, &mut conn.rbuf) => Wake::Read(r),
            w = tokio::io::AsyncWriteExt::write_buf(&mut conn.wr, &mut conn.wbuf),
                if !conn.wbuf.is_empty() => Wake::Wrote(w),
            c = self.rx.recv(), if self.rx_open => Wake::Cmd(c),
            _ = sleep_until(deadline.unwrap_or(far)), if deadline.is_some() => Wake::Timer,
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
            Wake::Timer => self.on_timer(),
        }
        if !self.rx_open && self.session.pending_requests() == 0 && self.conn.is_some() {
            // Every handle is gone and nothing is pending: close.
            self.conn = None;
            self.session.connection_lost(net::now());
        }
    }

    fn on_readable(&mut self) {
        loop {
            let Some(conn) = self.conn.as_mut() else {
                return;
            };
            match conn.transport.decode(&mut conn.rbuf) {
                Ok(Some(mut frame)) => {
                    if conn.transport.kind().is_padded() {
                        mtproto_transport::trim_mtproto_padding(&mut frame);
                    }
                    // A packet that fails decryption is dropped; the session
                    // keeps going (security_guidelines: ignore such packets).
                    let _ = self.session.handle_incoming(net::now(), &frame);
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

/// The session's connection wrapper: the first query of every connection
/// goes inside `invokeWithLayer(initConnection(..))` when an `api_id` is
/// configured.
fn connection_wrapper(cfg: &ClientConfig) -> Option<ConnectionWrapper> {
    let p = cfg.init.clone()?;
    Some(Box::new(move |body: &[u8]| {
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
    }))
}
