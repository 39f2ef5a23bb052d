//! The client role.

use std::collections::{BTreeMap, HashMap, VecDeque};

use mtproto_crypto::packet::{decrypt_in_place, encrypt_into_rng, Direction};
use mtproto_crypto::AuthKey;
use mtproto_tl::mtproto::{functions, types};
use mtproto_tl::{BareDeserialize, Reader, Serialize};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

use super::replay::ReplayWindow;
use super::wire::{self, InnerMessage};
use super::{
    in_time_window, Config, Event, IncomingError, RequestError, RequestId, RpcError, Violation,
};
use crate::msg_id::{msg_id_secs, MsgIdGenerator, MsgIdKind};
use crate::Timestamp;

/// How deep `gzip_packed` may nest inside one message.
const MAX_GZIP_DEPTH: u8 = 2;
/// How many sent msg_ids are remembered (to recognise answers and
/// notifications about "a message [the client has] recently sent").
const SENT_LOG_CAP: usize = 16_384;
/// How many msg_ids of one request are remembered (each transmission gets a
/// new one; an answer to any of them is the answer to the request).
const MAX_TRANSMISSIONS: usize = 32;

/// Wraps the first API query sent on each connection (for example in
/// `invokeWithLayer(initConnection(..))`); see
/// [`ClientSession::set_connection_wrapper`].
pub type ConnectionWrapper = Box<dyn Fn(&[u8]) -> Vec<u8> + Send + Sync>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// An API query from the caller.
    User,
    /// A caller's `ping` (answered by `pong`).
    Ping,
    /// A caller's `get_future_salts` (answered by `future_salts`).
    FutureSalts,
}

#[derive(Debug)]
struct Request {
    /// The body as the caller gave it.
    body: Vec<u8>,
    /// The body as it goes on the wire on this connection (wrapped for the
    /// first query of a connection, possibly `gzip_packed`); built at the
    /// first transmission on a connection.
    wire: Option<Vec<u8>>,
    kind: Kind,
    deadline: Timestamp,
    /// The msg_id of the latest transmission.
    msg_id: Option<i64>,
    /// Every msg_id this request was sent under (latest last, capped).
    transmissions: Vec<i64>,
    /// Whether the server acknowledged the latest transmission.
    acked: bool,
    /// Sent on an earlier connection and acknowledged there: its state is
    /// being asked with msgs_state_req before it is re-sent.
    awaiting_state: bool,
    resends: u32,
    queued: bool,
}

/// What a sent msg_id was.
#[derive(Clone, Debug)]
enum Sent {
    Request(RequestId),
    Container(Vec<i64>),
    /// msgs_ack, msgs_state_info, msg_resend_req, keepalive ping.
    Service,
    /// A msgs_state_req about these msg_ids (of our own requests).
    StateReq(Vec<i64>),
    /// A transmission of a request that has been answered: a second answer
    /// to it is a duplicate and is dropped.
    Answered,
}

/// One message being packed by `poll_transmit`.
enum Item {
    Service(Vec<u8>),
    Keepalive(Vec<u8>),
    StateReq(Vec<u8>, Vec<i64>),
    Request(Vec<u8>, RequestId),
}

/// An MTProto 2.0 client session (sans-IO).
///
/// Feed it packets with [`handle_incoming`](Self::handle_incoming), call
/// [`handle_timeout`](Self::handle_timeout) when
/// [`poll_timeout`](Self::poll_timeout) says, and drain
/// [`poll_transmit`](Self::poll_transmit) and
/// [`poll_event`](Self::poll_event) after each of those calls.
pub struct ClientSession {
    key: AuthKey,
    config: Config,
    rng: ChaCha20Rng,
    session_id: i64,
    salt: i64,
    /// (valid_since, valid_until, salt) from future_salts, server time.
    future_salts: Vec<(i64, i64, i64)>,
    msg_ids: MsgIdGenerator,
    /// Number of content-related messages sent in this session.
    content_count: i32,
    next_request: u64,
    requests: BTreeMap<RequestId, Request>,
    queue: VecDeque<RequestId>,
    sent: HashMap<i64, Sent>,
    sent_order: VecDeque<i64>,
    /// Service message bodies waiting to go out (not content-related).
    service_out: Vec<Vec<u8>>,
    pending_acks: Vec<i64>,
    ack_deadline: Option<Timestamp>,
    replay: ReplayWindow,
    events: VecDeque<Event>,
    next_ping_at: Option<Timestamp>,
    keepalive_due: bool,
    ping_counter: i64,
    last_unique_id: Option<i64>,
    stats: ClientStats,
    /// Whether there is a connection to send on (see
    /// [`ClientSession::connection_lost`]).
    connected: bool,
    wrapper: Option<ConnectionWrapper>,
    /// The next API query transmitted gets wrapped by `wrapper`.
    wrap_next: bool,
    /// The keepalive ping waiting for its pong: (msg_id, deadline).
    pong_wait: Option<(i64, Timestamp)>,
    /// msg_ids (latest transmissions) whose state is to be asked.
    state_check: Vec<i64>,
}

/// Counters of what a [`ClientSession`] dropped or did; for tests and metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Packets (or contained messages) dropped as duplicates or replays.
    pub dropped_replays: u64,
    /// Messages dropped for a msg_id outside the time window.
    pub dropped_time: u64,
    /// Packets transmitted.
    pub packets_sent: u64,
    /// Requests re-sent under a new msg_id.
    pub resends: u64,
    /// Keepalive pings sent.
    pub keepalive_pings: u64,
    /// Answers to an earlier transmission of an already answered request
    /// (after a re-send), dropped.
    pub duplicate_answers: u64,
    /// Requests re-sent (or state-checked) after a reconnect
    /// ([`ClientSession::resume_on_new_connection`]).
    pub resumed: u64,
}

impl core::fmt::Debug for ClientSession {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientSession")
            .field("auth_key_id", &self.key.id_u64())
            .field("session_id", &self.session_id)
            .field("pending", &self.requests.len())
            .field("connected", &self.connected)
            .finish_non_exhaustive()
    }
}

impl ClientSession {
    /// A new session on `key` starting with server salt `salt`. All
    /// randomness (the session_id, padding, ping ids) comes from a ChaCha20
    /// RNG seeded with `seed`; pass fresh OS randomness in production and a
    /// fixed seed in tests.
    pub fn new(key: AuthKey, salt: i64, config: Config, seed: [u8; 32]) -> Self {
        let mut rng = ChaCha20Rng::from_seed(seed);
        let session_id = rng.next_u64() as i64;
        let replay = ReplayWindow::new(config.replay_window);
        Self {
            key,
            config,
            rng,
            session_id,
            salt,
            future_salts: Vec::new(),
            msg_ids: MsgIdGenerator::new(MsgIdKind::Client),
            content_count: 0,
            next_request: 0,
            requests: BTreeMap::new(),
            queue: VecDeque::new(),
            sent: HashMap::new(),
            sent_order: VecDeque::new(),
            service_out: Vec::new(),
            pending_acks: Vec::new(),
            ack_deadline: None,
            replay,
            events: VecDeque::new(),
            next_ping_at: None,
            keepalive_due: false,
            ping_counter: 0,
            last_unique_id: None,
            stats: ClientStats::default(),
            connected: true,
            wrapper: None,
            wrap_next: false,
            pong_wait: None,
            state_check: Vec::new(),
        }
    }

    /// The current session_id.
    pub fn session_id(&self) -> i64 {
        self.session_id
    }

    /// Replaces the session_id (restoring a saved session, or tests). Resets
    /// the seqno counter and the msg_id floor, as for a new session.
    pub fn set_session_id(&mut self, session_id: i64) {
        self.session_id = session_id;
        self.content_count = 0;
        self.msg_ids.reset();
        self.replay.clear();
    }

    /// The salt used for outgoing messages.
    pub fn salt(&self) -> i64 {
        self.salt
    }

    /// Server time minus local time, in seconds.
    pub fn time_offset(&self) -> i64 {
        self.msg_ids.time_offset()
    }

    /// Sets the time offset (e.g. learned during the handshake).
    pub fn set_time_offset(&mut self, offset_secs: i64) {
        self.msg_ids.set_time_offset(offset_secs);
    }

    /// Counters.
    pub fn stats(&self) -> &ClientStats {
        &self.stats
    }

    /// Number of requests still waiting for their answer.
    pub fn pending_requests(&self) -> usize {
        self.requests.len()
    }

    /// Enqueues an API query (a serialized TL function) with the default
    /// timeout. It is sent by the next [`poll_transmit`](Self::poll_transmit).
    pub fn enqueue(&mut self, now: Timestamp, body: Vec<u8>) -> RequestId {
        let timeout = self.config.request_timeout;
        self.enqueue_with_timeout(now, body, timeout)
    }

    /// Enqueues an API query that fails with [`RequestError::Timeout`] if it
    /// is not answered within `timeout`.
    pub fn enqueue_with_timeout(
        &mut self,
        now: Timestamp,
        body: Vec<u8>,
        timeout: core::time::Duration,
    ) -> RequestId {
        // service_messages, "Packed Object": gzip_packed "may be used to
        // transmit non-service messages (i. e. RPC queries) from client to
        // server".
        // (Compressed when it is first transmitted, after the connection
        // wrapper, if any, was applied.)
        self.push_request(now, body, Kind::User, timeout)
    }

    /// Enqueues `ping#7abe77ec ping_id:long`; the answer is the `pong`.
    pub fn ping(&mut self, now: Timestamp, ping_id: i64) -> RequestId {
        let body = functions::Ping { ping_id }.to_bytes();
        let timeout = self.config.request_timeout;
        self.push_request(now, body, Kind::Ping, timeout)
    }

    /// Enqueues `get_future_salts#b921bd04 num:int`; the answer is the
    /// `future_salts`, whose salts the session also stores and switches to
    /// when their `valid_since` passes.
    pub fn get_future_salts(&mut self, now: Timestamp, num: i32) -> RequestId {
        // "The client may at any time request from the server several
        // (between 1 and 64) future server salts".
        let body = functions::GetFutureSalts {
            num: num.clamp(1, 64),
        }
        .to_bytes();
        let timeout = self.config.request_timeout;
        self.push_request(now, body, Kind::FutureSalts, timeout)
    }

    fn push_request(
        &mut self,
        now: Timestamp,
        body: Vec<u8>,
        kind: Kind,
        timeout: core::time::Duration,
    ) -> RequestId {
        let id = RequestId(self.next_request);
        self.next_request += 1;
        self.requests.insert(
            id,
            Request {
                body,
                wire: None,
                kind,
                deadline: now.add(timeout),
                msg_id: None,
                transmissions: Vec::new(),
                acked: false,
                awaiting_state: false,
                resends: 0,
                queued: true,
            },
        );
        self.queue.push_back(id);
        self.ensure_ping_timer(now);
        id
    }

    fn ensure_ping_timer(&mut self, now: Timestamp) {
        if self.next_ping_at.is_none() && self.connected {
            if let Some(iv) = self.config.ping_interval {
                self.next_ping_at = Some(now.add(iv));
            }
        }
    }

    /// The next event, if any.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next be called:
    /// the earliest request deadline, keepalive ping or delayed ack.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        let deadlines = self.requests.values().map(|r| r.deadline);
        if !self.connected {
            // Nothing is sent while disconnected: only requests expire.
            return deadlines.min();
        }
        deadlines
            .chain(self.next_ping_at)
            .chain(self.ack_deadline)
            .chain(self.pong_wait.map(|(_, d)| d))
            .min()
    }

    /// Advances timers to `now`: fails requests past their deadline (each
    /// exactly once), schedules the keepalive ping, makes delayed acks due.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        let expired: Vec<RequestId> = self
            .requests
            .iter()
            .filter(|(_, r)| r.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            self.fail(id, RequestError::Timeout);
        }
        if !self.connected {
            return;
        }
        // service_messages, "Deferred Connection Closure + PING": the
        // keepalive's pong is the connection's heartbeat. If it does not come
        // within `pong_timeout`, the connection is reported dead (once) so the
        // owner can reconnect.
        if let Some((_, deadline)) = self.pong_wait {
            if deadline <= now {
                self.pong_wait = None;
                self.events.push_back(Event::ConnectionDead);
            }
        }
        if self.config.ping_interval.is_none() {
            self.next_ping_at = None;
        }
        if let (Some(at), Some(iv)) = (self.next_ping_at, self.config.ping_interval) {
            if at <= now {
                self.keepalive_due = true;
                self.next_ping_at = Some(now.add(iv));
            }
        }
        self.ensure_ping_timer(now);
    }

    fn complete(&mut self, id: RequestId, result: Result<Vec<u8>, RpcError>) {
        if let Some(r) = self.requests.remove(&id) {
            // An answer to another transmission of this request (sent before
            // a re-send or a reconnect) may still come: it is a duplicate.
            for m in r.transmissions {
                if let Some(s) = self.sent.get_mut(&m) {
                    *s = Sent::Answered;
                }
            }
            self.queue.retain(|q| *q != id);
            self.events.push_back(Event::Response {
                request: id,
                result,
            });
        }
    }

    fn fail(&mut self, id: RequestId, error: RequestError) {
        if self.requests.remove(&id).is_some() {
            self.queue.retain(|q| *q != id);
            self.events
                .push_back(Event::RequestFailed { request: id, error });
        }
    }

    /// Puts a sent request back in the queue to go out under a new msg_id.
    fn resend(&mut self, id: RequestId) {
        let max = self.config.max_resends;
        let Some(r) = self.requests.get_mut(&id) else {
            return;
        };
        if r.queued {
            return;
        }
        if r.resends >= max {
            self.fail(id, RequestError::TooManyResends);
            return;
        }
        r.resends += 1;
        r.queued = true;
        r.acked = false;
        r.awaiting_state = false;
        self.stats.resends += 1;
        self.queue.push_back(id);
    }

    fn record_sent(&mut self, msg_id: i64, what: Sent) {
        self.sent.insert(msg_id, what);
        self.sent_order.push_back(msg_id);
        while self.sent_order.len() > SENT_LOG_CAP {
            if let Some(old) = self.sent_order.pop_front() {
                self.sent.remove(&old);
            }
        }
    }

    /// The pending requests whose latest transmission is `msg_id` (directly,
    /// or inside the container `msg_id`).
    fn requests_for(&self, msg_id: i64) -> Vec<RequestId> {
        let direct = |m: i64| match self.sent.get(&m) {
            Some(Sent::Request(id)) => self
                .requests
                .get(id)
                .filter(|r| r.msg_id == Some(m) && !r.queued)
                .map(|_| *id),
            _ => None,
        };
        match self.sent.get(&msg_id) {
            Some(Sent::Container(inner)) => inner.iter().filter_map(|m| direct(*m)).collect(),
            _ => direct(msg_id).into_iter().collect(),
        }
    }

    fn next_seqno(&mut self, content_related: bool) -> i32 {
        // description, "Message Sequence Number": "The seqno of a
        // content-related message is thus msg.seqNo = (current_seqno*2)+1
        // (and after generating it, the local current_seqno counter must be
        // incremented by 1), the seqno of a non-content related message is
        // msg.seqNo = (current_seqno*2)".
        let s = self.content_count.wrapping_mul(2);
        if content_related {
            self.content_count = self.content_count.wrapping_add(1);
            s.wrapping_add(1)
        } else {
            s
        }
    }

    /// Switches to a stored future salt whose validity has begun.
    fn refresh_salt(&mut self, now: Timestamp) {
        let server_now = i64::try_from(now.as_secs())
            .unwrap_or(i64::MAX)
            .saturating_add(self.time_offset());
        self.future_salts
            .retain(|(_, until, _)| *until > server_now);
        let best = self
            .future_salts
            .iter()
            .filter(|(since, _, _)| *since <= server_now)
            .max_by_key(|(since, _, _)| *since)
            .map(|(_, _, salt)| *salt);
        if let Some(salt) = best {
            self.set_salt(salt);
        }
    }

    fn set_salt(&mut self, salt: i64) {
        if salt != self.salt {
            self.salt = salt;
            self.events.push_back(Event::SaltChanged { salt });
        }
    }

    /// The body of `id` as it goes on the wire on this connection, built on
    /// first use: the connection wrapper is applied to the first API query of
    /// a connection, then it is compressed when that pays (service_messages,
    /// "Packed Object": gzip_packed "may be used to transmit non-service
    /// messages (i. e. RPC queries) from client to server").
    fn wire_body(&mut self, id: RequestId) -> Option<Vec<u8>> {
        let threshold = self.config.gzip_threshold;
        let r = self.requests.get_mut(&id)?;
        if let Some(w) = &r.wire {
            return Some(w.clone());
        }
        let w = match r.kind {
            Kind::User => {
                let raw = match (&self.wrapper, self.wrap_next) {
                    (Some(f), true) => {
                        self.wrap_next = false;
                        f(&r.body)
                    }
                    _ => r.body.clone(),
                };
                wire::maybe_gzip(raw, threshold)
            }
            Kind::Ping | Kind::FutureSalts => r.body.clone(),
        };
        r.wire = Some(w.clone());
        Some(w)
    }

    /// The next packet to send, if there is anything to send: queued
    /// requests (packed into a `msg_container` with acks, service answers
    /// and the keepalive ping when there is more than one message), or a
    /// stand-alone `msgs_ack` once acks are due.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Timestamp) -> Option<Vec<u8>> {
        if !self.connected {
            return None;
        }
        self.refresh_salt(now);
        let mut items: Vec<Item> = Vec::new();

        for body in std::mem::take(&mut self.service_out) {
            items.push(Item::Service(body));
        }
        if !self.state_check.is_empty() {
            // service_messages_about_messages: "If either party has not
            // received information on the status of its outgoing messages for
            // a while, it may explicitly request it from the other party:
            // msgs_state_req". "Max 8192 IDs are allowed per constructor."
            let n = self.state_check.len().min(wire::MAX_IDS_PER_CONSTRUCTOR);
            let ids: Vec<i64> = self.state_check.drain(..n).collect();
            let body = types::MsgsStateReq {
                msg_ids: ids.clone(),
            }
            .to_bytes();
            items.push(Item::StateReq(body, ids));
        }
        if self.keepalive_due {
            self.keepalive_due = false;
            self.ping_counter = self.ping_counter.wrapping_add(1);
            self.stats.keepalive_pings += 1;
            // service_messages, "Deferred Connection Closure + PING".
            let body = functions::PingDelayDisconnect {
                ping_id: self.ping_counter,
                disconnect_delay: self.config.disconnect_delay_secs,
            }
            .to_bytes();
            items.push(Item::Keepalive(body));
        }

        // Requests, within the container limits (a single oversized request
        // still goes out on its own).
        let reserve = items.len() + 1; // + the msgs_ack
        let max_msgs = self
            .config
            .max_container_messages
            .min(wire::MAX_CONTAINER_MESSAGES)
            .saturating_sub(reserve)
            .max(1);
        let mut bytes = 0usize;
        let mut taken = 0usize;
        while let Some(&id) = self.queue.front() {
            let Some(body) = self.wire_body(id) else {
                self.queue.pop_front();
                continue;
            };
            let len = body.len();
            if taken > 0 && (taken >= max_msgs || bytes + len > self.config.max_container_bytes) {
                break;
            }
            self.queue.pop_front();
            bytes += len;
            taken += 1;
            items.push(Item::Request(body, id));
        }

        // Acks ride along with anything else, or go alone when due.
        let ack_due = self.ack_deadline.is_some_and(|d| d <= now)
            || self.pending_acks.len() >= self.config.max_pending_acks;
        if !self.pending_acks.is_empty() && (!items.is_empty() || ack_due) {
            let n = self.pending_acks.len().min(wire::MAX_IDS_PER_CONSTRUCTOR);
            let ids: Vec<i64> = self.pending_acks.drain(..n).collect();
            let ack = types::MsgsAck { msg_ids: ids };
            items.push(Item::Service(ack.to_bytes()));
            if self.pending_acks.is_empty() {
                self.ack_deadline = None;
            }
        }
        if items.is_empty() {
            return None;
        }

        let mut messages: Vec<(i64, i32, Vec<u8>)> = Vec::with_capacity(items.len());
        for item in items {
            let msg_id = self.msg_ids.next(now);
            let (body, content) = match item {
                Item::Request(body, id) => {
                    if let Some(r) = self.requests.get_mut(&id) {
                        r.msg_id = Some(msg_id);
                        r.queued = false;
                        r.acked = false;
                        r.awaiting_state = false;
                        if r.transmissions.len() >= MAX_TRANSMISSIONS {
                            r.transmissions.remove(0);
                        }
                        r.transmissions.push(msg_id);
                    }
                    self.record_sent(msg_id, Sent::Request(id));
                    (body, true)
                }
                Item::Service(body) => {
                    self.record_sent(msg_id, Sent::Service);
                    (body, false)
                }
                Item::Keepalive(body) => {
                    self.record_sent(msg_id, Sent::Service);
                    if let Some(t) = self.config.pong_timeout {
                        self.pong_wait = Some((msg_id, now.add(t)));
                    }
                    (body, false)
                }
                Item::StateReq(body, ids) => {
                    self.record_sent(msg_id, Sent::StateReq(ids));
                    (body, false)
                }
            };
            let seqno = self.next_seqno(content);
            messages.push((msg_id, seqno, body));
        }

        let (msg_id, seqno, body) = if messages.len() == 1 {
            messages.pop().unwrap_or_default()
        } else {
            // service_messages, "Simple Container": "All messages in a
            // container must have msg_id lower than that of the container
            // itself." The container is generated after its contents, and is
            // not content-related (its seqno is even).
            let mut body = Vec::with_capacity(
                8 + messages
                    .iter()
                    .map(|m| m.2.len() + wire::MESSAGE_HEADER_LEN)
                    .sum::<usize>(),
            );
            body.extend_from_slice(&wire::MSG_CONTAINER.to_le_bytes());
            body.extend_from_slice(&(messages.len() as u32).to_le_bytes());
            for (id, seq, b) in &messages {
                wire::write_message(&mut body, *id, *seq, b);
            }
            let cid = self.msg_ids.next(now);
            let cseq = self.next_seqno(false);
            self.record_sent(cid, Sent::Container(messages.iter().map(|m| m.0).collect()));
            (cid, cseq, body)
        };

        let mut plain = Vec::with_capacity(32 + body.len());
        plain.extend_from_slice(&self.salt.to_le_bytes());
        plain.extend_from_slice(&self.session_id.to_le_bytes());
        plain.extend_from_slice(&msg_id.to_le_bytes());
        plain.extend_from_slice(&seqno.to_le_bytes());
        plain.extend_from_slice(&(body.len() as u32).to_le_bytes());
        plain.extend_from_slice(&body);
        let mut out = Vec::new();
        match encrypt_into_rng(
            &self.key,
            Direction::ClientToServer,
            &plain,
            &mut self.rng,
            &mut out,
        ) {
            Ok(()) => {
                self.stats.packets_sent += 1;
                Some(out)
            }
            // Only a length overflow can fail here; nothing sensible to send.
            Err(_) => None,
        }
    }

    /// Decrypts and processes one packet received at local time `now`.
    ///
    /// A packet that fails decryption or belongs to another session is an
    /// error; anything inside a valid packet that the session cannot use is
    /// reported as [`Event::ProtocolViolation`] and skipped. Duplicate and
    /// replayed packets are dropped silently (counted in [`ClientStats`]).
    pub fn handle_incoming(&mut self, now: Timestamp, packet: &[u8]) -> Result<(), IncomingError> {
        let mut buf = packet.to_vec();
        // security_guidelines: auth_key_id, msg_key, length and padding are
        // checked by decrypt_in_place (x = 8 for server->client).
        let msg = decrypt_in_place(&self.key, Direction::ServerToClient, &mut buf)?;
        // description: "Under no circumstances can a message meant for one
        // session be sent into a different session."
        if msg.session_id != self.session_id {
            return Err(IncomingError::WrongSession {
                session_id: msg.session_id,
            });
        }
        let top = InnerMessage {
            msg_id: msg.msg_id,
            seqno: msg.seq_no,
            body: msg.body,
        };
        self.handle_message(now, top, None);
        Ok(())
    }

    /// Checks one message (top-level, or inside the container `container`)
    /// and processes it.
    fn handle_message(&mut self, now: Timestamp, m: InnerMessage<'_>, container: Option<i64>) {
        // description, "Important Checks": "msg_id has [...] odd parity for
        // messages from server to client".
        if m.msg_id & 1 == 0 {
            self.violation(Violation::BadMsgIdParity { msg_id: m.msg_id });
            return;
        }
        // service_messages: "All messages in a container must have msg_id
        // lower than that of the container itself."
        if container.is_some_and(|c| m.msg_id >= c) {
            self.violation(Violation::ContainerOrder { msg_id: m.msg_id });
            return;
        }
        // "if a message comes in with msg_id lower than all or equal to any
        // of the stored values, the message is to be ignored."
        if !self.replay.is_fresh(m.msg_id) {
            self.stats.dropped_replays += 1;
            return;
        }
        let ctor = Reader::new(m.body).peek_u32().ok();
        // "msg_id values that belong over 30 seconds in the future or over
        // 300 seconds in the past are to be ignored", except that messages
        // "to change server_salt and notifications of invalid client time"
        // "may, nonetheless, be processed on the client even if the time
        // appears to be 'incorrect'" (description). Those two are only acted
        // upon if they name a msg_id this session recently sent.
        let exempt = matches!(
            ctor,
            Some(wire::BAD_MSG_NOTIFICATION | wire::BAD_SERVER_SALT | wire::MSG_CONTAINER)
        );
        if !exempt && !in_time_window(m.msg_id, now, self.time_offset()) {
            self.stats.dropped_time += 1;
            return;
        }
        self.replay.insert(m.msg_id);
        // description, "Content-related Message": "When receiving an MTProto
        // message that is marked as content-related by setting the
        // least-significant bit of the seqno, the receiving party must
        // acknowledge it in some way. When the receiving party is the
        // client, this must be done through msgs_ack constructors."
        if m.seqno & 1 == 1 {
            self.pending_acks.push(m.msg_id);
            if self.ack_deadline.is_none() {
                self.ack_deadline = Some(now.add(self.config.ack_delay));
            }
        }
        self.dispatch(now, m.msg_id, m.body, container.is_none(), 0);
    }

    fn violation(&mut self, v: Violation) {
        self.events.push_back(Event::ProtocolViolation(v));
    }

    fn dispatch(&mut self, now: Timestamp, msg_id: i64, body: &[u8], top: bool, depth: u8) {
        let mut r = Reader::new(body);
        let result = self.dispatch_inner(now, msg_id, &mut r, body, top, depth);
        if let Err(error) = result {
            self.violation(Violation::Malformed { msg_id, error });
        }
    }

    fn dispatch_inner(
        &mut self,
        now: Timestamp,
        msg_id: i64,
        r: &mut Reader<'_>,
        body: &[u8],
        top: bool,
        depth: u8,
    ) -> Result<(), mtproto_tl::DecodeError> {
        match r.read_u32()? {
            wire::MSG_CONTAINER => {
                // "A container [...] may not carry other simple containers."
                if !top || depth > 0 {
                    self.violation(Violation::Nesting { msg_id });
                    return Ok(());
                }
                let inner = wire::parse_container(r)?;
                r.finish()?;
                for m in inner {
                    self.handle_message(now, m, Some(msg_id));
                }
            }
            wire::GZIP_PACKED => {
                if depth >= MAX_GZIP_DEPTH {
                    self.violation(Violation::Nesting { msg_id });
                    return Ok(());
                }
                let inflated = wire::read_gzip(r)?;
                self.dispatch(now, msg_id, &inflated, false, depth + 1);
            }
            wire::RPC_RESULT => {
                let req_msg_id = r.read_i64()?;
                let result = r.take_rest();
                self.on_rpc_result(req_msg_id, result);
            }
            wire::PONG => {
                let pong = types::Pong::deserialize_bare(r)?;
                let ping_msg_id = pong.msg_id;
                match self.sent.get(&ping_msg_id) {
                    Some(Sent::Request(id)) if self.requests.contains_key(id) => {
                        let id = *id;
                        self.complete(id, Ok(body.to_vec()));
                    }
                    // A keepalive's pong: the connection is alive.
                    Some(Sent::Service) => {
                        if self.pong_wait.is_some_and(|(m, _)| m == ping_msg_id) {
                            self.pong_wait = None;
                        }
                    }
                    Some(Sent::Answered) => self.stats.duplicate_answers += 1,
                    _ => self.violation(Violation::UnknownRequest {
                        req_msg_id: ping_msg_id,
                    }),
                }
            }
            wire::MSGS_ACK => {
                for id in id_list(types::MsgsAck::deserialize_bare(r)?.msg_ids) {
                    for rid in self.requests_for(id) {
                        if let Some(req) = self.requests.get_mut(&rid) {
                            req.acked = true;
                        }
                    }
                }
            }
            wire::NEW_SESSION_CREATED => {
                let n = types::NewSessionCreated::deserialize_bare(r)?;
                self.on_new_session(n.first_msg_id, n.unique_id, n.server_salt);
            }
            wire::BAD_SERVER_SALT => {
                let b = types::BadServerSalt::deserialize_bare(r)?;
                self.on_bad_server_salt(b.bad_msg_id, b.error_code, b.new_server_salt);
            }
            wire::BAD_MSG_NOTIFICATION => {
                let b = types::BadMsgNotification::deserialize_bare(r)?;
                self.on_bad_msg(now, msg_id, b.bad_msg_id, b.error_code);
            }
            wire::FUTURE_SALTS => {
                // future_salts#ae500895 req_msg_id:long now:int
                //   salts:vector<future_salt>  (a bare vector of bare
                //   future_salt valid_since:int valid_until:int salt:long)
                let f = types::FutureSalts::deserialize_bare(r)?;
                let req_msg_id = f.req_msg_id;
                // "between 1 and 64" salts; keep at most 64.
                let salts: Vec<(i64, i64, i64)> = f
                    .salts
                    .0
                    .iter()
                    .take(64)
                    .map(|s| {
                        (
                            i64::from(s.0.valid_since),
                            i64::from(s.0.valid_until),
                            s.0.salt,
                        )
                    })
                    .collect();
                // service_messages: "The client must check to see that the
                // response's req_msg_id in fact coincides with msg_id of the
                // query for get_future_salts."
                match self.sent.get(&req_msg_id) {
                    Some(Sent::Request(id))
                        if self
                            .requests
                            .get(id)
                            .is_some_and(|q| q.kind == Kind::FutureSalts) =>
                    {
                        let id = *id;
                        self.future_salts = salts;
                        // future_salts carries `now`, the server's current
                        // time; it answers our query, so it is trusted as a
                        // time source like a bad_msg_notification 16/17.
                        self.sync_time(now, i64::from(f.now));
                        self.complete(id, Ok(body.to_vec()));
                    }
                    Some(Sent::Answered) => self.stats.duplicate_answers += 1,
                    _ => self.violation(Violation::UnknownRequest { req_msg_id }),
                }
            }
            wire::MSG_DETAILED_INFO => {
                let d = types::MsgDetailedInfo::deserialize_bare(r)?;
                self.on_detailed_info(now, d.answer_msg_id);
            }
            wire::MSG_NEW_DETAILED_INFO => {
                let d = types::MsgNewDetailedInfo::deserialize_bare(r)?;
                self.on_detailed_info(now, d.answer_msg_id);
            }
            wire::MSGS_STATE_REQ => {
                let ids = id_list(types::MsgsStateReq::deserialize_bare(r)?.msg_ids);
                // "info is a string that contains exactly one byte of message
                // status for each message from the incoming msg_ids list".
                let info: Vec<u8> = ids.iter().map(|id| self.replay.state_of(*id)).collect();
                let answer = types::MsgsStateInfo {
                    req_msg_id: msg_id,
                    info,
                };
                self.service_out.push(answer.to_bytes());
            }
            wire::MSG_RESEND_REQ => {
                // "The remote party immediately responds by re-sending the
                // requested messages" — our pending requests, under new
                // msg_ids.
                let ids = id_list(types::MsgResendReq::deserialize_bare(r)?.msg_ids);
                let mut unknown = false;
                for id in &ids {
                    let rids = self.requests_for(*id);
                    unknown |= rids.is_empty();
                    for rid in rids {
                        self.resend(rid);
                    }
                }
                // "If at least one message with requested msg_id does not
                // exist or has already been forgotten, or has been sent by the
                // requesting party (known from parity), MsgsStateInfo is
                // returned for all messages requested as if the MsgResendReq
                // query had been a MsgsStateReq query as well."
                if unknown {
                    let info: Vec<u8> = ids.iter().map(|id| self.replay.state_of(*id)).collect();
                    let answer = types::MsgsStateInfo {
                        req_msg_id: msg_id,
                        info,
                    };
                    self.service_out.push(answer.to_bytes());
                }
            }
            wire::MSGS_STATE_INFO => {
                let info = types::MsgsStateInfo::deserialize_bare(r)?;
                // "info is a string that contains exactly one byte of message
                // status for each message from the incoming msg_ids list" —
                // the list of our msgs_state_req `req_msg_id`.
                match self.sent.get(&info.req_msg_id) {
                    Some(Sent::StateReq(ids)) => {
                        let pairs: Vec<(i64, u8)> =
                            ids.iter().copied().zip(info.info.iter().copied()).collect();
                        self.on_states(&pairs, true);
                    }
                    _ => self.violation(Violation::UnknownRequest {
                        req_msg_id: info.req_msg_id,
                    }),
                }
            }
            wire::MSGS_ALL_INFO => {
                // "Either party may voluntarily inform the other party of the
                // status of the messages transmitted by the other party."
                // Unsolicited, so it is only used to learn receipts (status
                // 4), never to trigger re-sends.
                let all = types::MsgsAllInfo::deserialize_bare(r)?;
                let pairs: Vec<(i64, u8)> = id_list(all.msg_ids)
                    .into_iter()
                    .zip(all.info.iter().copied())
                    .collect();
                self.on_states(&pairs, false);
            }
            _ => self.events.push_back(Event::Update(body.to_vec())),
        }
        Ok(())
    }

    /// Applies message states from msgs_state_info (`solicited`) or
    /// msgs_all_info. service_messages_about_messages: "1 = nothing is known
    /// about the message [...]; 2 = message not received [...]; 3 = message
    /// not received [...]; 4 = message received (note that this response is
    /// also at the same time a receipt acknowledgment)"; the higher bits
    /// (+8 .. +128) are flags. "if the message wasn't received, then it must
    /// be re-sent with a new msg_id."
    fn on_states(&mut self, states: &[(i64, u8)], solicited: bool) {
        for &(msg_id, status) in states {
            for rid in self.requests_for(msg_id) {
                match status & 7 {
                    4 => {
                        if let Some(r) = self.requests.get_mut(&rid) {
                            r.acked = true;
                            r.awaiting_state = false;
                        }
                    }
                    1..=3 if solicited => self.resend(rid),
                    _ => {}
                }
            }
        }
    }

    fn on_rpc_result(&mut self, req_msg_id: i64, result: &[u8]) {
        let id = match self.sent.get(&req_msg_id) {
            Some(Sent::Request(id)) if self.requests.contains_key(id) => *id,
            // An answer to an earlier transmission of a request that is
            // already answered (the server saw both the original and the
            // re-sent message): "no two answers for one request".
            Some(Sent::Answered) => {
                self.stats.duplicate_answers += 1;
                return;
            }
            _ => {
                self.violation(Violation::UnknownRequest { req_msg_id });
                return;
            }
        };
        match decode_result(result) {
            Ok(r) => self.complete(id, r),
            Err(e) => self.fail(id, RequestError::MalformedAnswer(e)),
        }
    }

    fn on_new_session(&mut self, first_msg_id: i64, unique_id: i64, server_salt: i64) {
        self.set_salt(server_salt);
        // "The unique_id parameter is generated by the server every time a
        // session is (re-)created" — a repeated notification is processed once.
        if self.last_unique_id == Some(unique_id) {
            return;
        }
        self.last_unique_id = Some(unique_id);
        self.events.push_back(Event::NewSession {
            first_msg_id,
            unique_id,
        });
        // The server's new session starts at first_msg_id: requests sent
        // earlier and never acknowledged were lost with the old one.
        let lost: Vec<RequestId> = self
            .requests
            .iter()
            .filter(|(_, r)| {
                !r.queued
                    && (!r.acked || r.awaiting_state)
                    && r.msg_id.is_some_and(|m| m < first_msg_id)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in lost {
            self.resend(id);
        }
    }

    fn on_bad_server_salt(&mut self, bad_msg_id: i64, code: i32, new_salt: i64) {
        // service_messages_about_messages: "The client must check that it
        // has, in fact, recently sent a message with the specified msg_id,
        // and if that is the case, update [...] the server salt".
        if !self.sent.contains_key(&bad_msg_id) {
            self.violation(Violation::UnknownBadMsgId { bad_msg_id, code });
            return;
        }
        // "48: incorrect server salt (in this case, the bad_server_salt
        // response is received with the correct salt, and the message is to
        // be re-sent with it)".
        self.future_salts.clear();
        self.set_salt(new_salt);
        for id in self.requests_for(bad_msg_id) {
            self.resend(id);
        }
    }

    fn on_bad_msg(&mut self, now: Timestamp, notification_msg_id: i64, bad_msg_id: i64, code: i32) {
        if !self.sent.contains_key(&bad_msg_id) {
            self.violation(Violation::UnknownBadMsgId { bad_msg_id, code });
            return;
        }
        let affected = self.requests_for(bad_msg_id);
        match code {
            // "16: msg_id too low (most likely, client time is wrong; it would
            // be worthwhile to synchronize it using msg_id notifications and
            // re-send the original message with the 'correct' msg_id [...])"
            // "17: msg_id too high (similar to the previous case, the client
            // time has to be synchronized, and the message re-sent with the
            // correct msg_id)". The notification's own msg_id carries the
            // server's time.
            16 | 17 => {
                self.sync_time(now, msg_id_secs(notification_msg_id));
                for id in affected {
                    self.resend(id);
                }
            }
            // "19: container msg_id is the same as msg_id of a previously
            // received message", "20: message too old, and it cannot be
            // verified whether the server has received a message with this
            // msg_id or not": re-send under a fresh msg_id (bounded by
            // max_resends). Code 48 normally comes as bad_server_salt; a bare
            // one still means "re-send".
            19 | 20 | 48 => {
                for id in affected {
                    self.resend(id);
                }
            }
            // "32: msg_seqno too low", "33: msg_seqno too high", "34: an even
            // msg_seqno expected [...]", "35: odd msg_seqno expected [...]":
            // the server's view of our seqno diverged. Rather than guess,
            // start a new session (new session_id, seqno from zero) and
            // re-send everything pending in it.
            32..=35 => self.reset_session(code),
            // "64: invalid container": the container was rejected as a whole;
            // its requests fail.
            64 => {
                for id in affected {
                    self.fail(id, RequestError::InvalidContainer);
                }
            }
            // "18: incorrect two lower order msg_id bits" (our generator
            // always produces multiples of 4, so re-sending cannot help), and
            // codes the spec does not define: fail the requests.
            _ => {
                for id in affected {
                    self.fail(id, RequestError::BadMessage { code });
                }
            }
        }
    }

    /// Learns the time offset from a trusted server time (`server_secs`,
    /// Unix seconds) received at local time `now`.
    fn sync_time(&mut self, now: Timestamp, server_secs: i64) {
        let before = self.time_offset();
        self.msg_ids.resync_secs(now, server_secs);
        if self.time_offset() != before {
            self.events.push_back(Event::TimeOffsetChanged {
                offset_secs: self.time_offset(),
            });
        }
    }

    fn reset_session(&mut self, code: i32) {
        self.session_id = self.rng.next_u64() as i64;
        self.content_count = 0;
        self.msg_ids.reset();
        self.replay.clear();
        self.pending_acks.clear();
        self.ack_deadline = None;
        self.service_out.clear();
        self.state_check.clear();
        self.last_unique_id = None;
        let pending: Vec<RequestId> = self
            .requests
            .iter()
            .filter(|(_, r)| !r.queued)
            .map(|(id, _)| *id)
            .collect();
        self.events.push_back(Event::SessionReset {
            session_id: self.session_id,
            code,
        });
        for id in pending {
            if let Some(r) = self.requests.get_mut(&id) {
                // A new session is not a retry of the same message.
                r.queued = true;
                r.acked = false;
                r.awaiting_state = false;
                self.queue.push_back(id);
            }
        }
    }

    fn on_detailed_info(&mut self, now: Timestamp, answer_msg_id: i64) {
        // service_messages_about_messages, msg_detailed_info: "Normally used
        // by the server to respond to the receipt of a duplicate msg_id
        // [...]". If the answer already arrived, acknowledge it; otherwise
        // ask for it with msg_resend_req.
        if self.replay.contains(answer_msg_id) {
            self.pending_acks.push(answer_msg_id);
            if self.ack_deadline.is_none() {
                self.ack_deadline = Some(now.add(self.config.ack_delay));
            }
        } else {
            let req = types::MsgResendReq {
                msg_ids: vec![answer_msg_id],
            };
            self.service_out.push(req.to_bytes());
        }
    }

    /// Sets (or removes) the function applied to the first API query sent
    /// on each connection — the session's first, and the first after every
    /// [`resume_on_new_connection`](Self::resume_on_new_connection). The
    /// Telegram API wants `invokeWithLayer(initConnection(..))` around the
    /// first query of every connection; the wrapped form is compressed when
    /// that pays. Requests already transmitted on this connection keep their
    /// form.
    pub fn set_connection_wrapper(&mut self, wrapper: Option<ConnectionWrapper>) {
        self.wrap_next = wrapper.is_some() && self.stats.packets_sent == 0;
        self.wrapper = wrapper;
    }

    /// Whether the session has a connection to send on (false between
    /// [`connection_lost`](Self::connection_lost) and
    /// [`resume_on_new_connection`](Self::resume_on_new_connection)).
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// The transport connection carrying this session is gone.
    ///
    /// The session itself lives on: auth key, salt, time offset, session_id,
    /// seqno and every pending request are kept (description: "A session is
    /// attached to a client device (the application, to be more exact)
    /// rather than a specific websocket/http/https/tcp connection"). Until
    /// [`resume_on_new_connection`](Self::resume_on_new_connection) nothing
    /// is transmitted and no keepalive runs; requests can still be enqueued,
    /// and their deadlines still expire in
    /// [`handle_timeout`](Self::handle_timeout).
    pub fn connection_lost(&mut self, _now: Timestamp) {
        self.connected = false;
        self.keepalive_due = false;
        self.next_ping_at = None;
        self.pong_wait = None;
    }

    /// A new transport connection carries this session. Returns how many
    /// requests that were transmitted on an earlier connection and are still
    /// unanswered will be re-sent or checked.
    ///
    /// The session_id is kept, as tdlib does: the server keeps the session's
    /// state across connections and still delivers answers to messages sent
    /// on the old connection, so a new session_id would only make it drop
    /// them. Unanswered requests the server never acknowledged are re-sent
    /// under fresh msg_ids by the next [`poll_transmit`](Self::poll_transmit).
    /// Acknowledged ones may already be executing; re-sending them could run
    /// them twice, so their state is asked first with `msgs_state_req`
    /// ("the status of the message can be checked using msgs_state_req and
    /// if the message wasn't received, then it must be re-sent with a new
    /// msg_id", service_messages_about_messages) and they are re-sent only if
    /// the server did not receive them (or announces a new session with
    /// `new_session_created`). Either way a request is answered at most once:
    /// an answer to any earlier msg_id of a request maps to the same
    /// [`RequestId`], and once it is answered, answers to its other msg_ids
    /// are dropped as duplicates ([`ClientStats::duplicate_answers`]).
    pub fn resume_on_new_connection(&mut self, now: Timestamp) -> usize {
        self.connected = true;
        self.keepalive_due = false;
        self.pong_wait = None;
        self.next_ping_at = None;
        self.wrap_next = self.wrapper.is_some();
        let mut count = 0;
        let ids: Vec<RequestId> = self.requests.keys().copied().collect();
        for id in ids {
            let Some(r) = self.requests.get_mut(&id) else {
                continue;
            };
            // Build the wire form again: the wrapper goes on this
            // connection's first query.
            r.wire = None;
            if r.queued || r.msg_id.is_none() {
                continue;
            }
            count += 1;
            if (r.acked || r.awaiting_state) && r.kind == Kind::User {
                r.awaiting_state = true;
                if let Some(m) = r.msg_id {
                    self.state_check.push(m);
                }
            } else {
                r.queued = true;
                r.acked = false;
                self.queue.push_back(id);
            }
        }
        // Oldest first, so the first query of the connection is the oldest.
        self.queue.make_contiguous().sort_unstable();
        self.stats.resumed += count as u64;
        if !self.requests.is_empty() {
            self.ensure_ping_timer(now);
        }
        count
    }

    /// Switches to a new auth key (the server forgot the old one, e.g.
    /// transport error -404, and a new key was made) with server salt
    /// `salt`. "Each session is also attached to a user key ID" (description),
    /// so this starts a new session: a new session_id, seqno from zero, no
    /// salts, acks or replay state from the old key. Every pending request
    /// is queued to be sent again under the new key; returns how many had
    /// already been transmitted.
    pub fn rekey(&mut self, key: AuthKey, salt: i64) -> usize {
        self.key = key;
        self.salt = salt;
        self.future_salts.clear();
        self.session_id = self.rng.next_u64() as i64;
        self.content_count = 0;
        self.msg_ids.reset();
        self.replay.clear();
        self.pending_acks.clear();
        self.ack_deadline = None;
        self.service_out.clear();
        self.state_check.clear();
        self.last_unique_id = None;
        self.sent.clear();
        self.sent_order.clear();
        self.pong_wait = None;
        let mut count = 0;
        for (id, r) in self.requests.iter_mut() {
            r.wire = None;
            if !r.queued {
                count += 1;
                r.queued = true;
                r.acked = false;
                r.awaiting_state = false;
                self.queue.push_back(*id);
            }
        }
        self.queue.make_contiguous().sort_unstable();
        count
    }

    /// Forgets `request` (the caller lost interest): no event will be
    /// reported for it and it is not re-sent. A late answer to it is
    /// reported as [`Violation::UnknownRequest`]. Returns whether it was
    /// pending.
    pub fn cancel(&mut self, request: RequestId) -> bool {
        let found = self.requests.remove(&request).is_some();
        if found {
            self.queue.retain(|q| *q != request);
        }
        found
    }

    /// The pending requests, oldest first.
    pub fn pending_request_ids(&self) -> Vec<RequestId> {
        self.requests.keys().copied().collect()
    }

    /// The msg_id currently carrying `request`, once it has been sent.
    pub fn request_msg_id(&self, request: RequestId) -> Option<i64> {
        self.requests.get(&request).and_then(|r| r.msg_id)
    }

    /// Seconds of server time encoded in `msg_id` (helper for callers that
    /// log message times).
    pub fn msg_id_time(msg_id: i64) -> i64 {
        msg_id_secs(msg_id)
    }
}

/// "Max 8192 IDs are allowed per constructor" (service_messages_about_messages):
/// ids beyond that are ignored.
fn id_list(mut ids: Vec<i64>) -> Vec<i64> {
    ids.truncate(wire::MAX_IDS_PER_CONSTRUCTOR);
    ids
}

/// Decodes the `result` of an `rpc_result`: an `rpc_error`, a
/// `gzip_packed` object (inflated; it may itself hold an `rpc_error`), or
/// any other object as raw bytes.
fn decode_result(result: &[u8]) -> Result<Result<Vec<u8>, RpcError>, mtproto_tl::DecodeError> {
    let mut r = Reader::new(result);
    match r.read_u32()? {
        wire::RPC_ERROR => {
            let (code, message) = wire::read_rpc_error(&mut r)?;
            Ok(Err(RpcError { code, message }))
        }
        wire::GZIP_PACKED => {
            let inflated = wire::read_gzip(&mut r)?;
            let mut ir = Reader::new(&inflated);
            if ir.peek_u32()? == wire::RPC_ERROR {
                ir.read_u32()?;
                let (code, message) = wire::read_rpc_error(&mut ir)?;
                return Ok(Err(RpcError { code, message }));
            }
            Ok(Ok(inflated))
        }
        _ => Ok(Ok(result.to_vec())),
    }
}
