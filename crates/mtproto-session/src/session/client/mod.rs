//! The client role, split along its seams:
//!
//! - this file: the state, construction, accessors and the request API
//!   (enqueue, cancel, and how a request ends: answered, failed, re-sent);
//! - [`outbox`](self::outbox): the queue and packing messages into packets;
//! - [`scan`](self::scan): an incoming packet checked and decoded whole;
//! - [`inbox`](self::inbox): incoming packets, one function per service
//!   message, named after it (`on_msgs_ack`, `on_bad_server_salt`, ...);
//! - [`sent_log`](self::sent_log): what each recently sent msg_id carried;
//! - [`timers`](self::timers): request deadlines, keepalive, pong wait,
//!   delayed acks, all on the monotonic clock;
//! - [`lifecycle`](self::lifecycle): connection lost, resume, rekey and new
//!   session, through one path.

mod binding;
mod inbox;
mod lifecycle;
mod outbox;
mod scan;
mod sent_log;
mod timers;

use std::collections::{BTreeMap, VecDeque};

use mtproto_crypto::AuthKey;
use mtproto_tl::mtproto::functions;
use mtproto_tl::Serialize;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

use super::replay::ReplayWindow;
use super::{Config, RequestError, RequestId, SessionEvent};
use crate::msg_id::{MsgIdGenerator, MsgIdKind};
use crate::wire::SeqNo;
use crate::{Monotonic, Now, RpcError};

use outbox::Outbox;
use sent_log::SentLog;
use timers::Timers;

/// How many msg_ids of one request are remembered (each transmission gets a
/// new one; an answer to any of them is the answer to the request).
const MAX_TRANSMISSIONS: usize = 32;

/// Wraps the first API query sent on each connection (for example in
/// `invokeWithLayer(initConnection(..))`); see
/// [`ClientSession::set_connection_wrapper`].
pub type ConnectionWrapper = Box<dyn Fn(&[u8]) -> Vec<u8> + Send + Sync>;

/// What kind of request an entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// An API query from the caller.
    User,
    /// A caller's `ping` (answered by `pong`).
    Ping,
    /// A caller's `get_future_salts` (answered by `future_salts`).
    FutureSalts,
    /// `auth.bindTempAuthKey` ([`ClientSession::bind_temp_key`]): its body
    /// is built anew for the msg_id of each transmission.
    Bind,
}

/// A request's body as it goes on the wire.
#[derive(Debug)]
enum Wire {
    /// The body as the caller gave it.
    Body,
    /// Made for the wire: wrapped, compressed, or a binding's.
    Built(Vec<u8>),
}

/// One pending request.
#[derive(Debug)]
struct Request {
    /// The body as the caller gave it.
    body: Vec<u8>,
    /// The body as it goes on the wire on this connection (wrapped for the
    /// first query of a connection, possibly `gzip_packed`); chosen at the
    /// first transmission on a connection.
    wire: Option<Wire>,
    kind: Kind,
    /// When it fails with [`RequestError::Timeout`] (monotonic clock).
    deadline: Monotonic,
    /// The msg_id of the latest transmission.
    msg_id: Option<i64>,
    /// Every msg_id this request was sent under (latest last, capped): the
    /// first `sent` of these, in place (no allocation per request).
    transmissions: [i64; MAX_TRANSMISSIONS],
    sent: u8,
    /// Whether the server acknowledged the latest transmission.
    acked: bool,
    /// Sent on an earlier connection and acknowledged there: its state is
    /// being asked with msgs_state_req before it is re-sent.
    awaiting_state: bool,
    resends: u32,
    /// In the outbox queue, waiting for a (re)transmission.
    queued: bool,
    /// The bad_msg_notification code (18, 19, 20, 64) that made the latest
    /// re-send: the same code again fails the request.
    last_bad_code: Option<crate::wire::BadMsgCode>,
    /// Sent alone in its packet, never in a container (after "64: invalid
    /// container" on the container that carried it).
    solo: bool,
}

impl Request {
    /// Records a transmission under `msg_id`.
    fn transmitted(&mut self, msg_id: i64) {
        self.msg_id = Some(msg_id);
        self.queued = false;
        self.acked = false;
        self.awaiting_state = false;
        let n = usize::from(self.sent);
        if n >= MAX_TRANSMISSIONS {
            self.transmissions.copy_within(1.., 0);
            self.transmissions[MAX_TRANSMISSIONS - 1] = msg_id;
        } else {
            self.transmissions[n] = msg_id;
            self.sent += 1;
        }
    }

    /// The msg_ids it was sent under, oldest first.
    fn transmissions(&self) -> &[i64] {
        &self.transmissions[..usize::from(self.sent)]
    }

    /// What goes on the wire (empty before the first transmission).
    fn wire_body(&self) -> &[u8] {
        match &self.wire {
            Some(Wire::Body) => &self.body,
            Some(Wire::Built(w)) => w,
            None => &[],
        }
    }

    /// Back to the queue: the next transmission is a new message.
    fn requeue(&mut self) {
        self.queued = true;
        self.acked = false;
        self.awaiting_state = false;
    }
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
    seqno: SeqNo,
    next_request: u64,
    requests: BTreeMap<RequestId, Request>,
    outbox: Outbox,
    sent: SentLog,
    replay: ReplayWindow,
    timers: Timers,
    events: VecDeque<SessionEvent>,
    last_unique_id: Option<i64>,
    stats: SessionStats,
    /// Whether there is a connection to send on (see
    /// [`ClientSession::connection_lost`]).
    connected: bool,
    /// Numbers the connections the session has run on (to tell a packet
    /// replayed on the same connection from a re-delivery on a new one).
    conn_epoch: u32,
    /// A temporary key being bound: the other queries wait.
    binding: Option<Box<binding::PendingBind>>,
    /// Phase one's buffers, kept between packets.
    scratch: scan::Scratch,
}

/// Counters of what a [`ClientSession`] dropped or did; for tests and metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionStats {
    /// Packets (or contained messages) dropped as duplicates or replays.
    pub dropped_replays: u64,
    /// Service answers dropped because too many were waiting (a server
    /// flooding `msgs_state_req`).
    pub service_dropped: u64,
    /// Packets that passed every check and were processed.
    pub packets_accepted: u64,
    /// Packets discarded whole for failing a check ([`IncomingError`](super::IncomingError)).
    pub packets_rejected: u64,
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
        let session_id = i64::from_le_bytes(rng.next_u64().to_le_bytes());
        let replay = ReplayWindow::new(config.replay_window);
        Self {
            key,
            config,
            rng,
            session_id,
            salt,
            future_salts: Vec::new(),
            msg_ids: MsgIdGenerator::new(MsgIdKind::Client),
            seqno: SeqNo::new(),
            next_request: 0,
            requests: BTreeMap::new(),
            outbox: Outbox::default(),
            sent: SentLog::default(),
            replay,
            timers: Timers::default(),
            events: VecDeque::new(),
            last_unique_id: None,
            stats: SessionStats::default(),
            connected: true,
            conn_epoch: 0,
            binding: None,
            scratch: scan::Scratch::default(),
        }
    }

    /// The id of the auth key the session runs on (public: it prefixes
    /// every encrypted packet).
    pub fn auth_key_id(&self) -> u64 {
        self.key.id_u64()
    }

    /// The current session_id.
    pub fn session_id(&self) -> i64 {
        self.session_id
    }

    /// Replaces the session_id (restoring a saved session, or tests). Resets
    /// the seqno counter and the msg_id floor, as for a new session.
    pub fn set_session_id(&mut self, session_id: i64) {
        self.session_id = session_id;
        self.seqno.reset();
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

    /// The session's settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Lowers (or raises) [`Config::max_request_len`]: a connection sets it
    /// to what its transport carries.
    pub fn set_max_request_len(&mut self, max: usize) {
        self.config.max_request_len = max;
    }

    /// Counters.
    pub fn stats(&self) -> &SessionStats {
        &self.stats
    }

    /// Number of requests still waiting for their answer.
    pub fn pending_requests(&self) -> usize {
        self.requests.len()
    }

    /// The pending requests, oldest first.
    /// (A binding in progress is not among them: it is the session's own.)
    pub fn pending_request_ids(&self) -> Vec<RequestId> {
        self.requests
            .iter()
            .filter(|(_, r)| r.kind != Kind::Bind)
            .map(|(id, _)| *id)
            .collect()
    }

    /// The msg_id currently carrying `request`, once it has been sent.
    pub fn request_msg_id(&self, request: RequestId) -> Option<i64> {
        self.requests.get(&request).and_then(|r| r.msg_id)
    }

    /// The next event, if any.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.events.pop_front()
    }

    /// Enqueues an API query (a serialized TL function) with the default
    /// timeout. It is sent by the next [`poll_transmit`](Self::poll_transmit).
    pub fn enqueue(&mut self, now: impl Into<Now>, body: Vec<u8>) -> RequestId {
        let timeout = self.config.request_timeout;
        self.enqueue_with_timeout(now, body, timeout)
    }

    /// Enqueues an API query that fails with [`RequestError::Timeout`] if it
    /// is not answered within `timeout` (on the monotonic clock).
    pub fn enqueue_with_timeout(
        &mut self,
        now: impl Into<Now>,
        body: Vec<u8>,
        timeout: core::time::Duration,
    ) -> RequestId {
        // service_messages, "Packed Object": gzip_packed "may be used to
        // transmit non-service messages (i. e. RPC queries) from client to
        // server". (Compressed when it is first transmitted, after the
        // connection wrapper, if any, was applied.)
        self.push_request(now.into(), body, Kind::User, timeout)
    }

    /// Enqueues `ping#7abe77ec ping_id:long`; the answer is the `pong`.
    pub fn ping(&mut self, now: impl Into<Now>, ping_id: i64) -> RequestId {
        let body = functions::Ping { ping_id }.to_bytes();
        let timeout = self.config.request_timeout;
        self.push_request(now.into(), body, Kind::Ping, timeout)
    }

    /// Enqueues `get_future_salts#b921bd04 num:int`; the answer is the
    /// `future_salts`, whose salts the session also stores and switches to
    /// when their `valid_since` passes.
    pub fn get_future_salts(&mut self, now: impl Into<Now>, num: i32) -> RequestId {
        // "The client may at any time request from the server several
        // (between 1 and 64) future server salts".
        let body = functions::GetFutureSalts {
            num: num.clamp(1, 64),
        }
        .to_bytes();
        let timeout = self.config.request_timeout;
        self.push_request(now.into(), body, Kind::FutureSalts, timeout)
    }

    fn push_request(
        &mut self,
        now: Now,
        body: Vec<u8>,
        kind: Kind,
        timeout: core::time::Duration,
    ) -> RequestId {
        let id = RequestId(self.next_request);
        self.next_request += 1;
        // A body no transport can carry fails at once, rather than breaking
        // the connection it is sent on (and every other request with it).
        let max = self.config.max_request_len;
        if body.len() > max {
            self.events.push_back(SessionEvent::RequestFailed {
                request: id,
                error: RequestError::TooLarge {
                    len: body.len(),
                    max,
                },
            });
            return id;
        }
        self.requests.insert(
            id,
            Request {
                body,
                wire: None,
                kind,
                deadline: now.mono.add(timeout),
                msg_id: None,
                transmissions: [0; MAX_TRANSMISSIONS],
                sent: 0,
                acked: false,
                awaiting_state: false,
                resends: 0,
                queued: true,
                last_bad_code: None,
                solo: false,
            },
        );
        self.outbox.queue.push_back(id);
        self.ensure_ping_timer(now);
        id
    }

    /// Forgets `request` (the caller lost interest): no event will be
    /// reported for it and it is not re-sent. A late answer to it is
    /// reported as [`Violation::UnknownRequest`](super::Violation::UnknownRequest).
    /// Returns whether it was pending.
    pub fn cancel(&mut self, request: RequestId) -> bool {
        let found = self.requests.remove(&request).is_some();
        if found {
            self.outbox.queue.retain(|q| *q != request);
        }
        if let Some(b) = self.binding.as_mut().filter(|b| b.request == Some(request)) {
            b.request = None;
        }
        found
    }

    /// The request is answered: reported once, and every other
    /// transmission of it is marked so a second answer is a duplicate.
    fn complete(&mut self, id: RequestId, result: Result<Vec<u8>, RpcError>) {
        if let Some(r) = self.requests.remove(&id) {
            // An answer to another transmission of this request (sent before
            // a re-send or a reconnect) may still come: it is a duplicate.
            self.sent.mark_answered(r.transmissions());
            self.outbox.queue.retain(|q| *q != id);
            if r.kind == Kind::Bind {
                self.bind_answered(id, result);
                return;
            }
            self.events.push_back(SessionEvent::Response {
                request: id,
                result,
            });
        }
    }

    /// The request ends without an answer.
    fn fail(&mut self, id: RequestId, error: RequestError) {
        if let Some(r) = self.requests.remove(&id) {
            self.outbox.queue.retain(|q| *q != id);
            if r.kind == Kind::Bind {
                self.bind_failed(id, super::BindFailure::Request(error));
                return;
            }
            self.events
                .push_back(SessionEvent::RequestFailed { request: id, error });
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
        r.requeue();
        self.stats.resends += 1;
        self.outbox.queue.push_back(id);
    }

    /// Marks acknowledged the pending requests whose latest transmission is
    /// `msg_id` (directly, or inside the container `msg_id`), as
    /// [`requests_for`](Self::requests_for) finds them, without collecting
    /// them (acknowledgements come with every few answers).
    fn mark_acked(&mut self, msg_id: i64) {
        let (sent, requests) = (&self.sent, &mut self.requests);
        let mut direct = |m: i64| {
            if let Some(sent_log::Sent::Request(id)) = sent.get(m) {
                if let Some(r) = requests
                    .get_mut(id)
                    .filter(|r| r.msg_id == Some(m) && !r.queued)
                {
                    r.acked = true;
                }
            }
        };
        match sent.get(msg_id) {
            Some(sent_log::Sent::Container(inner)) => inner.iter().for_each(|m| direct(*m)),
            _ => direct(msg_id),
        }
    }

    /// The pending requests whose latest transmission is `msg_id` (directly,
    /// or inside the container `msg_id`).
    fn requests_for(&self, msg_id: i64) -> Vec<RequestId> {
        let direct = |m: i64| match self.sent.get(m) {
            Some(sent_log::Sent::Request(id)) => self
                .requests
                .get(id)
                .filter(|r| r.msg_id == Some(m) && !r.queued)
                .map(|_| *id),
            _ => None,
        };
        match self.sent.get(msg_id) {
            Some(sent_log::Sent::Container(inner)) => {
                inner.iter().filter_map(|m| direct(*m)).collect()
            }
            _ => direct(msg_id).into_iter().collect(),
        }
    }

    /// Switches to a stored future salt whose validity has begun.
    fn refresh_salt(&mut self, now: Now) {
        let server_now = i64::try_from(now.wall.as_secs())
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
            self.events.push_back(SessionEvent::SaltChanged { salt });
        }
    }

    /// Learns the time offset from a trusted server time (`server_secs`,
    /// Unix seconds) received at `now`.
    fn sync_time(&mut self, now: Now, server_secs: i64) {
        let before = self.time_offset();
        let floor_ahead = self.msg_ids.resync_secs(now.wall, server_secs);
        if self.time_offset() != before {
            self.events.push_back(SessionEvent::TimeOffsetChanged {
                offset_secs: self.time_offset(),
            });
        }
        // msg_ids must keep increasing within the session; if the ones
        // already sent are now beyond the server's window, only a new
        // session can send again ("17: msg_id too high").
        if floor_ahead {
            self.reset_session(crate::wire::BadMsgCode::MSG_ID_TOO_HIGH);
        }
    }

    /// Queues an acknowledgement of `msg_id` (sent with the next packet, or
    /// alone once [`Config::ack_delay`] passes or enough are pending).
    fn ack_later(&mut self, now: Now, msg_id: i64) {
        self.outbox.pending_acks.push(msg_id);
        if self.timers.ack_deadline.is_none() {
            self.timers.ack_deadline = Some(now.mono.add(self.config.ack_delay));
        }
    }
}
