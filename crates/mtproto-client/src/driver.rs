//! The single task that owns the socket and the sans-IO [`Connection`].
//!
//! It keeps only what a shell must: socket reads and writes, sleeping until
//! the connection's next timeout, the reply channels of the callers, and
//! policy (reconnect with backoff, a new key after transport error -404,
//! giving up). Everything MTProto (framing, handshake, session, re-sends,
//! request limits) happens in the `Connection` and the session inside it,
//! which outlives connections: when one drops, the driver takes the session
//! out ([`Connection::into_session`]) and starts the next connection with
//! it, and the session re-sends what is unanswered, answering each request
//! at most once.

use std::collections::HashMap;

use mtproto_connection::ConnectionError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use mtproto_connection::Event;
use mtproto_session::session::{ClientSession, RequestError, RequestId, SessionEvent};
use mtproto_transport::TransportErrorCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{sleep_until, Duration};

use crate::config::{ClientConfig, ConnectEvent};
use crate::net::{self, emit, Established, Keys, Live, Start};

mod pfs;
mod start;
use crate::peers::PeerCache;
use crate::updates::Pushed;
use crate::{ConnectError, InvocationError, SessionData};
use mtproto_store::{StoreError, StoredSession};
pub(crate) use pfs::perm_key_refused;
pub use pfs::PfsStatus;
use start::connection_wrapper;
pub(crate) use start::first_start;

impl Shared {
    /// Saves the session to the configured store (nothing without one):
    /// this DC's address, key, salt and time offset, the peer cache, and
    /// what was loaded besides.
    pub(crate) fn persist(&self, cfg: &ClientConfig) -> Result<(), StoreError> {
        let Some(store) = &cfg.store else {
            return Ok(());
        };
        let data = lock(&self.data).clone();
        let mut stored = lock(&self.stored);
        let dc = stored.dc_mut(data.dc_id);
        dc.addr = Some(cfg.addr);
        dc.auth_key = Some(data.auth_key);
        dc.salt = data.salt;
        dc.time_offset = data.time_offset;
        stored.peers = lock(&self.peers).clone();
        store.save(&stored)
    }
}

/// Locks, whether or not another thread panicked holding the lock.
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// How many connections in a row may end on the same broken rule of the
/// server before the pending requests fail with
/// [`InvocationError::PeerFault`] naming it: the first, and two fresh ones
/// (security_guidelines: after a failed check, close the connection and
/// reconnect; when every fresh connection fails the same way, reconnecting
/// cannot help).
pub const PEER_FAULT_CONNECTIONS: u32 = 3;

/// A rule the server broke, which closed a connection.
struct PeerFault {
    /// What identifies the rule (the same rule on another connection has
    /// the same key): a check's name, a transport error.
    key: String,
    /// What to tell the caller.
    message: String,
}

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
    /// Access hashes learned from results and updates (one cache for
    /// every DC connection of a client).
    pub peers: Arc<Mutex<PeerCache>>,
    /// What the server pushes, for the updates task.
    pub pushed: crate::updates::LazyBroadcast<Pushed>,
    /// Updates in order, from the updates task to every
    /// [`Updates`](crate::Updates) receiver.
    pub batches: crate::updates::LazyBroadcast<Arc<mtproto_updates::Batch>>,
    /// Whether the updates task runs (then every DC connection stays up).
    pub updates_started: Arc<std::sync::atomic::AtomicBool>,
    /// What the store holds beyond `data` and `peers` (other DCs, the
    /// update state), kept so a save never drops it.
    pub stored: Arc<Mutex<StoredSession>>,
    /// The temporary key requests go under (perfect forward secrecy).
    pub pfs: Mutex<Option<PfsStatus>>,
    pub handshakes: AtomicU64,
    pub temp_keys: AtomicU64,
    pub reconnects: AtomicU64,
    pub resent: AtomicU64,
}

enum Wake {
    Read(std::io::Result<usize>),
    Wrote(std::io::Result<usize>),
    Cmd(Option<Command>),
    Timer,
    Renew,
}

pub(crate) struct Driver {
    cfg: Arc<ClientConfig>,
    shared: Arc<Shared>,
    rx: mpsc::UnboundedReceiver<Command>,
    rx_open: bool,
    /// The key the session runs on, for [`SessionData`].
    keys: Keys,
    /// The server forgot the key (-404): the next connection makes a new one.
    need_new_key: bool,
    /// The connection, while there is one.
    live: Option<Live>,
    /// The session while no connection carries it.
    parked: Option<Box<ClientSession>>,
    /// Who waits for which request.
    replies: HashMap<RequestId, oneshot::Sender<Reply>>,
    attempt: u32,
    /// The rule the server broke on the latest connections, and on how many
    /// in a row.
    fault: Option<(String, u32)>,
    /// The session's accepted packets when the current connection started.
    accepted_base: u64,
    /// The key has carried valid server packets.
    key_proven: bool,
    /// A `-404` came for a proven key when the session had accepted this
    /// many packets; one more right after connecting, before any valid
    /// packet, drops the key. Cleared by a valid packet after it.
    suspect_404: Option<u64>,
    /// Perfect forward secrecy: the temporary key and its renewal.
    pfs: pfs::Pfs,
}

impl Driver {
    pub(crate) fn new(
        cfg: Arc<ClientConfig>,
        shared: Arc<Shared>,
        rx: mpsc::UnboundedReceiver<Command>,
        up: Established,
        keys: Keys,
    ) -> Self {
        let mut d = Self {
            cfg,
            shared,
            rx,
            rx_open: true,
            keys,
            need_new_key: false,
            live: None,
            parked: None,
            replies: HashMap::new(),
            attempt: 0,
            fault: None,
            accepted_base: 0,
            key_proven: false,
            suspect_404: None,
            pfs: pfs::Pfs::default(),
        };
        d.install(up);
        d
    }

    /// The session's connection wrapper: the first query of every connection
    /// goes inside `invokeWithLayer(initConnection(..))` when an `api_id` is
    /// configured. Set on a session before it first transmits.
    pub(crate) fn wrap(cfg: &ClientConfig, session: &mut ClientSession) {
        if let Some(w) = connection_wrapper(cfg) {
            session.set_connection_wrapper(Some(w));
        }
    }

    /// Publishes the key, salt and time offset to the handles, and saves
    /// the session when one of them changed.
    fn update_shared(&self) {
        let changed = {
            let mut data = lock(&self.shared.data);
            let before = (data.auth_key.id_u64(), data.salt, data.time_offset);
            data.auth_key = self.keys.auth_key.clone();
            data.salt = self.keys.salt;
            data.time_offset = self.keys.time_offset;
            before != (data.auth_key.id_u64(), data.salt, data.time_offset)
        };
        if changed {
            if let Err(error) = self.shared.persist(&self.cfg) {
                emit(&self.cfg, ConnectEvent::StoreFailed { error });
            }
        }
    }

    /// Takes over a connection that is up.
    fn install(&mut self, up: Established) {
        let mut live = up.live;
        if let Some(t) = up.temp {
            self.set_temp(t);
            self.key_proven = false;
            self.suspect_404 = None;
        }
        if let Some(k) = up.new_key {
            if self.cfg.pfs.is_some() {
                self.pfs.perm_made = Some(std::time::Instant::now());
                self.pfs.drop_perm = false;
            }
            self.keys = k;
            self.key_proven = false;
            self.suspect_404 = None;
            // A session made by this connection's handshake gets the wrapper
            // before it sends anything.
            if let Some(s) = live.conn.client_session_mut() {
                if s.stats().packets_sent == 0 {
                    Self::wrap(&self.cfg, s);
                }
            }
        }
        self.update_shared();
        if up.resent > 0 {
            self.shared.resent.fetch_add(
                u64::try_from(up.resent).unwrap_or(u64::MAX),
                Ordering::Relaxed,
            );
            emit(&self.cfg, ConnectEvent::Resent { count: up.resent });
        }
        self.accepted_base = Self::accepted(live.conn.client_session());
        self.live = Some(live);
        for e in up.early {
            self.on_session_event(e);
        }
    }

    fn session_mut(&mut self) -> Option<&mut ClientSession> {
        match &mut self.live {
            Some(l) => l.conn.client_session_mut(),
            None => self.parked.as_deref_mut(),
        }
    }

    fn pending_requests(&self) -> usize {
        let s = match &self.live {
            Some(l) => l.conn.client_session(),
            None => self.parked.as_deref(),
        };
        s.map_or(0, ClientSession::pending_requests)
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
                let now = net::now();
                let Some(session) = self.session_mut() else {
                    let _ = reply.send(Err(InvocationError::Disconnected));
                    return;
                };
                let req = session.enqueue_with_timeout(now, body, timeout);
                self.replies.insert(req, reply);
                // A request that fails at once (too large) reports it now.
                self.drain();
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
        let gone: Vec<RequestId> = self
            .replies
            .iter()
            .filter(|(_, r)| r.is_closed())
            .map(|(id, _)| *id)
            .collect();
        for id in gone {
            self.replies.remove(&id);
            if let Some(s) = self.session_mut() {
                s.cancel(id);
            }
        }
    }

    /// Runs the timers (request deadlines also while disconnected) and
    /// delivers what they produced.
    fn on_timer(&mut self) {
        let now = net::now();
        match &mut self.live {
            Some(l) => l.conn.handle_timeout(now),
            None => {
                if let Some(s) = self.parked.as_deref_mut() {
                    s.handle_timeout(now);
                }
            }
        }
        self.drain();
    }

    /// Delivers every event: the connection's while connected, the parked
    /// session's otherwise.
    fn drain(&mut self) {
        loop {
            let ev = match &mut self.live {
                Some(l) => match l.conn.poll_event() {
                    Some(e) => e,
                    None => return,
                },
                None => match self
                    .parked
                    .as_deref_mut()
                    .and_then(ClientSession::poll_event)
                {
                    Some(e) => Event::Session(e),
                    None => return,
                },
            };
            self.on_event(ev);
        }
    }

    /// Packets the session accepted so far.
    fn accepted(s: Option<&ClientSession>) -> u64 {
        s.map_or(0, |s| s.stats().packets_accepted)
    }

    fn on_event(&mut self, ev: Event) {
        match ev {
            Event::Session(e) => self.on_session_event(e),
            Event::TransportError(code) => {
                if code == TransportErrorCode::AUTH_KEY_NOT_FOUND {
                    self.on_auth_key_not_found();
                }
                let message = format!("transport error {code} from the server");
                self.lost(
                    message.clone(),
                    Some(PeerFault {
                        key: message.clone(),
                        message,
                    }),
                );
            }
            Event::Closed(e) => {
                let fault = match &e {
                    ConnectionError::PacketRejected(p) => Some(PeerFault {
                        key: p.check().name().to_owned(),
                        message: format!("server packet refused: {p}"),
                    }),
                    // The same kind of transport error is the same rule,
                    // whatever its numbers (a frame length with random
                    // padding differs every time).
                    ConnectionError::Transport(t) => Some(PeerFault {
                        key: format!("transport: {}", variant_name(t)),
                        message: format!("transport: {t}"),
                    }),
                    _ => None,
                };
                self.lost(format!("connection closed: {e}"), fault);
            }
            _ => {}
        }
    }

    /// mtproto-transports: -404 "if the specified auth key ID cannot be
    /// found by the DC". It comes unauthenticated (anyone on the path can
    /// inject it), so a key that has carried valid server packets is not
    /// dropped on one: only when `-404` comes again on a fresh connection
    /// right after connecting (before any valid packet) is a new key made.
    fn on_auth_key_not_found(&mut self) {
        let now_accepted = match &self.live {
            Some(l) => Self::accepted(l.conn.client_session()),
            None => self.accepted_base,
        };
        let fresh = now_accepted == self.accepted_base;
        // Proven: on an earlier connection, or on this one.
        let proven = self.key_proven || !fresh;
        if !proven || (self.suspect_404.is_some() && fresh) {
            self.need_new_key = true;
            self.suspect_404 = None;
        } else {
            self.suspect_404 = Some(now_accepted);
        }
    }

    fn on_session_event(&mut self, e: SessionEvent) {
        match e {
            SessionEvent::Response { request, result } => {
                self.finish(request, result.map_err(InvocationError::Rpc));
            }
            SessionEvent::RequestFailed { request, error } => {
                let e = match error {
                    RequestError::Timeout => InvocationError::Timeout,
                    e => InvocationError::Dropped(e),
                };
                self.finish(request, Err(e));
            }
            // (Under a temporary key the salt is that key's: not saved.)
            SessionEvent::SaltChanged { salt } if self.cfg.pfs.is_none() => {
                self.keys.salt = salt;
                self.update_shared();
            }
            SessionEvent::TimeOffsetChanged { offset_secs } => {
                self.keys.time_offset = offset_secs;
                self.update_shared();
            }
            SessionEvent::Update(body) => {
                lock(&self.shared.peers).absorb(&body);
                // No receiver: nobody listens, the update is dropped.
                self.shared.pushed.send(Pushed::Update(Arc::new(body)));
            }
            // "Session loss on the server: the client receives a new
            // session created notification": catch up.
            SessionEvent::NewSession { .. } => {
                self.shared.pushed.send(Pushed::Resync);
            }
            SessionEvent::TempKeyBound { expires_at } => self.on_temp_key_bound(expires_at),
            SessionEvent::BindFailed { error } => {
                self.on_bind_failed(&error);
                let message = error.to_string();
                self.lost(
                    message.clone(),
                    Some(PeerFault {
                        key: message.clone(),
                        message,
                    }),
                );
            }
            SessionEvent::ConnectionDead if self.live.is_some() => {
                self.lost("no pong to the keepalive ping".into(), None);
            }
            _ => {}
        }
    }

    /// The connection is gone (`fault`: because the server broke a rule):
    /// the session is parked until the next one.
    fn lost(&mut self, reason: String, fault: Option<PeerFault>) {
        let Some(live) = self.live.take() else {
            return;
        };
        // Events the connection still holds (answers that came with the
        // bytes that closed it) are delivered first.
        let mut conn = live.conn;
        let mut pending = Vec::new();
        while let Some(e) = conn.poll_event() {
            pending.push(e);
        }
        self.parked = conn.into_session(net::now()).map(Box::new);
        let total = Self::accepted(self.parked.as_deref());
        let accepted = total > self.accepted_base;
        if accepted {
            self.key_proven = true;
            self.fault = None;
        }
        // A valid packet after the suspect -404: the key is fine.
        if self.suspect_404.is_some_and(|at| total > at) {
            self.suspect_404 = None;
        }
        if let Some(s) = &self.parked {
            // Under a temporary key the session's salt is that key's, not
            // the permanent key's (the one saved).
            if self.cfg.pfs.is_none() {
                self.keys.salt = s.salt();
            }
            self.keys.time_offset = s.time_offset();
        }
        self.update_shared();
        emit(&self.cfg, ConnectEvent::Disconnected { reason });
        for e in pending {
            if let Event::Session(e) = e {
                self.on_session_event(e);
            }
        }
        if let Some(f) = fault {
            self.count_fault(f);
        }
    }

    /// One more connection ended by the server breaking `f`'s rule; on the
    /// [`PEER_FAULT_CONNECTIONS`]th in a row, the pending requests fail
    /// with an error naming it.
    fn count_fault(&mut self, f: PeerFault) {
        let n = match &self.fault {
            Some((key, n)) if *key == f.key => n + 1,
            _ => 1,
        };
        if n < PEER_FAULT_CONNECTIONS {
            self.fault = Some((f.key, n));
            return;
        }
        self.fault = None;
        self.fail_all(|| InvocationError::PeerFault {
            rule: f.message.clone(),
            connections: n,
        });
    }

    fn session_deadline(&self) -> Option<tokio::time::Instant> {
        let t = match &self.live {
            Some(l) => l.conn.poll_timeout(),
            None => self.parked.as_deref().and_then(ClientSession::poll_timeout),
        };
        t.map(net::instant_of)
    }

    pub(crate) async fn run(mut self) {
        loop {
            if self.live.is_some() {
                self.step().await;
                continue;
            }
            self.on_timer();
            self.prune();
            // A client following updates reconnects at once (while any
            // handle is left); others when the next request comes.
            let following = self.rx_open && self.shared.updates_started.load(Ordering::Relaxed);
            if self.pending_requests() == 0 && !following {
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
                if self.pending_requests() == 0 {
                    continue;
                }
            }
            // Boxed: a reconnect (a handshake, a binding) is a large future
            // that runs rarely; inline, every idle session would carry its
            // size (about 15 kB) all the time.
            Box::pin(self.reconnect()).await;
        }
    }

    /// Gives up on every pending request.
    fn give_up(&mut self) {
        self.fail_all(|| InvocationError::Disconnected);
    }

    /// Fails every pending request with `error()`.
    fn fail_all(&mut self, error: impl Fn() -> InvocationError) {
        for (id, reply) in self.replies.drain() {
            if let Some(s) = self.parked.as_deref_mut() {
                s.cancel(id);
            }
            let _ = reply.send(Err(error()));
        }
        if let Some(s) = self.parked.as_deref_mut() {
            for id in s.pending_request_ids() {
                s.cancel(id);
            }
        }
    }

    async fn reconnect(&mut self) {
        let policy = self.cfg.reconnect.clone();
        loop {
            self.attempt += 1;
            if self.attempt > policy.max_attempts {
                self.attempt = 0;
                self.give_up();
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
            // A client following updates stays connected (updates come
            // only on a connection); others reconnect when they next ask.
            let following = self.shared.updates_started.load(Ordering::Relaxed);
            if self.pending_requests() == 0 && !following {
                self.attempt = 0;
                return;
            }
            let Some(session) = self.parked.take().map(|b| *b) else {
                return;
            };
            let new_key = self.need_new_key || self.temp_expired();
            let start = if new_key {
                Start::Rekey(session)
            } else {
                Start::Resume(session)
            };
            let perm = (!self.pfs.drop_perm).then_some(&self.keys);
            match net::establish(&self.cfg, start, self.attempt, perm).await {
                Ok(up) => {
                    self.shared.reconnects.fetch_add(1, Ordering::Relaxed);
                    // What was pushed while disconnected: catch up.
                    self.shared.pushed.send(Pushed::Resync);
                    if up.new_key.is_some() {
                        self.shared.handshakes.fetch_add(1, Ordering::Relaxed);
                    }
                    if new_key {
                        self.need_new_key = false;
                    }
                    self.attempt = 0;
                    self.install(up);
                    return;
                }
                Err((e, session)) => {
                    self.parked = session.map(Box::new);
                    match &e {
                        ConnectError::Bind(f) => self.on_bind_failed(f),
                        // A temporary key the server forgot (expired early,
                        // or a restart): the next connection makes another.
                        ConnectError::ServerError(c)
                            if *c == TransportErrorCode::AUTH_KEY_NOT_FOUND
                                && self.cfg.pfs.is_some() =>
                        {
                            self.need_new_key = true;
                        }
                        _ => self.keep_new_temp_key(),
                    }
                    emit(
                        &self.cfg,
                        ConnectEvent::Disconnected {
                            reason: format!("reconnect failed: {e}"),
                        },
                    );
                    if self.parked.is_none() {
                        // establish hands the session back on every failure
                        // except a connection that cannot be built at all (an
                        // unusable transport setting): then nothing can be
                        // answered.
                        for (_, reply) in self.replies.drain() {
                            let _ = reply.send(Err(InvocationError::Disconnected));
                        }
                        return;
                    }
                }
            }
        }
    }

    /// One turn of the connected loop.
    async fn step(&mut self) {
        self.prune();
        let deadline = self.session_deadline();
        let Some(live) = self.live.as_mut() else {
            return;
        };
        if live.written >= live.wbuf.len() {
            live.wbuf.clear();
            live.written = 0;
        }
        live.conn.poll_transmit(net::now(), &mut live.wbuf);
        let far = tokio::time::Instant::now() + Duration::from_secs(3600);
        let pending_write = live.written < live.wbuf.len();
        let renew_at = self.pfs.renew_at;
        let wake = tokio::select! {
            _ = sleep_until(renew_at.unwrap_or(far)), if renew_at.is_some() => Wake::Renew,
            r = live.rd.read(&mut live.rbuf) => Wake::Read(r),
            w = live.wr.write(&live.wbuf[live.written..]), if pending_write => Wake::Wrote(w),
            c = self.rx.recv(), if self.rx_open => Wake::Cmd(c),
            _ = sleep_until(deadline.unwrap_or(far)), if deadline.is_some() => Wake::Timer,
        };
        match wake {
            Wake::Read(Ok(0)) => self.lost("closed by the server".into(), None),
            Wake::Read(Err(e)) => self.lost(format!("read: {e}"), None),
            Wake::Read(Ok(n)) => {
                if let Some(live) = self.live.as_mut() {
                    live.read_into(n);
                }
                self.drain();
            }
            Wake::Wrote(Ok(n)) => {
                if let Some(live) = self.live.as_mut() {
                    live.written += n;
                }
            }
            Wake::Wrote(Err(e)) => self.lost(format!("write: {e}"), None),
            Wake::Cmd(Some(c)) => {
                self.accept(c);
                // Take everything already queued so they share containers.
                while let Ok(c) = self.rx.try_recv() {
                    self.accept(c);
                }
            }
            Wake::Cmd(None) => self.rx_open = false,
            Wake::Timer => self.on_timer(),
            Wake::Renew => self.renew_temp_key(),
        }
        if !self.rx_open && self.pending_requests() == 0 && self.live.is_some() {
            // Every handle is gone and nothing is pending: close.
            if let Some(live) = self.live.take() {
                self.parked = live.conn.into_session(net::now()).map(Box::new);
            }
        }
    }
}

/// The name of an enum value's variant: its `Debug` text up to the first
/// field.
fn variant_name(v: &impl core::fmt::Debug) -> String {
    let d = format!("{v:?}");
    d.split([' ', '{', '('])
        .next()
        .unwrap_or_default()
        .to_owned()
}
