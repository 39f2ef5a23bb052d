//! The server role: enough of an MTProto server for in-memory tests.

use std::collections::VecDeque;

use mtproto_crypto::packet::Direction;
use mtproto_crypto::AuthKey;
use mtproto_tl::mtproto::types;
use mtproto_tl::{Bare, RawVec, Serialize};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

mod scan;

use scan::{Planned, Request, Scan, ScanError};

use super::replay::KeyReplayWindow;
use super::{in_time_window, Config, IncomingError};
use crate::msg_id::{msg_id_key, msg_id_secs, MsgIdGenerator, MsgIdKind};
use crate::wire::objects::{
    maybe_gzip, write_rpc_error, write_rpc_result, MAX_CONTAINER_MESSAGES, MAX_IDS_PER_CONSTRUCTOR,
};
use crate::wire::{
    open, packet_start, seal, seal_message, BadMsgCode, ContainerWriter, InnerMessage,
    MessageHeader, SeqNo,
};
use crate::{Now, RpcError, Timestamp};

/// What the server does with a client packet that decrypted correctly,
/// decided by the caller's admission policy before anything in it is
/// processed (see [`ServerSession::handle_incoming_with`]): rate limits,
/// maintenance, or scripted faults in a test server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Admission {
    /// Check and process the packet as usual.
    Process,
    /// Ignore it, as if it was lost.
    Drop,
    /// Answer it with a top-level `bad_msg_notification` of this code about
    /// its msg_id instead of processing it.
    Reject(BadMsgCode),
}

/// Counters of a [`ServerSession`], for tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerSessionStats {
    /// Packets that decrypted correctly.
    pub packets_received: u64,
    /// Requests handed to the caller through `poll_request`.
    pub requests_received: u64,
    /// Content-related msg_ids the client acknowledged.
    pub acks_received: u64,
    /// `ping`s answered.
    pub pings: u64,
    /// `ping_delay_disconnect`s answered.
    pub keepalive_pings: u64,
    /// The `disconnect_delay` of the latest `ping_delay_disconnect`.
    pub last_disconnect_delay: Option<i32>,
    /// `new_session_created` notifications sent.
    pub new_sessions: u64,
    /// `bad_server_salt` notifications sent.
    pub bad_salts_sent: u64,
    /// `bad_msg_notification`s sent.
    pub bad_msgs_sent: u64,
    /// Messages ignored as duplicates.
    pub duplicates: u64,
    /// msgs_state_info answers received from the client.
    pub state_infos_received: u64,
    /// msg_resend_req received from the client.
    pub resend_reqs_received: u64,
}

#[derive(Debug)]
struct Out {
    body: Vec<u8>,
    content: bool,
    response: bool,
}

/// A test MTProto server session: decrypts client packets (x = 0),
/// answers with x = 8, tracks the client's session_id, answers pings and
/// get_future_salts itself, hands other requests to the caller
/// ([`poll_request`](Self::poll_request) / [`respond`](Self::respond)), and
/// lets an admission policy drop or reject packets.
pub struct ServerSession {
    key: AuthKey,
    config: Config,
    rng: ChaCha20Rng,
    salt: i64,
    /// (valid_since, valid_until, salt), server time.
    future_salts: Vec<(i32, i32, i64)>,
    msg_ids: MsgIdGenerator,
    seqno: SeqNo,
    client_session: Option<i64>,
    replay: KeyReplayWindow,
    requests_in: VecDeque<(i64, Vec<u8>)>,
    /// Top-level notifications, with the session_id of the packet they answer.
    standalone: VecDeque<(i64, Out)>,
    outbox: VecDeque<Out>,
    pending_acks: Vec<i64>,
    stats: ServerSessionStats,
}

impl core::fmt::Debug for ServerSession {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ServerSession")
            .field("auth_key_id", &self.key.id_u64())
            .field("client_session", &self.client_session)
            .finish_non_exhaustive()
    }
}

impl ServerSession {
    /// A server session on `key` issuing `salt`, with randomness from `seed`.
    pub fn new(key: AuthKey, salt: i64, config: Config, seed: [u8; 32]) -> Self {
        let replay = KeyReplayWindow::new(config.replay_window);
        Self {
            key,
            config,
            rng: ChaCha20Rng::from_seed(seed),
            salt,
            future_salts: Vec::new(),
            msg_ids: MsgIdGenerator::new(MsgIdKind::ServerOther),
            seqno: SeqNo::new(),
            client_session: None,
            replay,
            requests_in: VecDeque::new(),
            standalone: VecDeque::new(),
            outbox: VecDeque::new(),
            pending_acks: Vec::new(),
            stats: ServerSessionStats::default(),
        }
    }

    /// Shares `window` as the replay window of this session's auth key:
    /// every session and connection under the key should use the same one,
    /// so that a packet captured on one and written again on another is not
    /// executed twice. (A session made with [`new`](Self::new) has a window
    /// of its own.)
    #[must_use]
    pub fn with_replay_window(mut self, window: KeyReplayWindow) -> Self {
        self.replay = window;
        self
    }

    /// The auth key this session runs on (a hostile test server re-seals
    /// packets with it).
    pub fn auth_key(&self) -> &AuthKey {
        &self.key
    }

    /// The salt the server currently expects.
    pub fn salt(&self) -> i64 {
        self.salt
    }

    /// The client's session_id, once a packet arrived.
    pub fn client_session_id(&self) -> Option<i64> {
        self.client_session
    }

    /// Counters.
    pub fn stats(&self) -> &ServerSessionStats {
        &self.stats
    }

    /// Switches to a new current salt; the old one is refused from now on
    /// (the client gets `bad_server_salt` with the new one).
    pub fn set_salt(&mut self, salt: i64) {
        self.salt = salt;
    }

    /// How far the server's clock is from the `now` it is given, in seconds
    /// (positive: ahead). It sets the time in the server's msg_ids and the
    /// window against which client msg_ids are checked.
    pub fn set_time_offset(&mut self, secs: i64) {
        self.msg_ids.set_time_offset(secs);
    }

    /// Adds a salt served by get_future_salts and accepted from
    /// `valid_since` to `valid_until` (server unixtime).
    pub fn add_future_salt(&mut self, valid_since: i32, valid_until: i32, salt: i64) {
        self.future_salts.push((valid_since, valid_until, salt));
    }

    /// Queues a server-initiated, content-related message (an update).
    pub fn push_update(&mut self, body: Vec<u8>) {
        self.outbox.push_back(Out {
            body,
            content: true,
            response: false,
        });
    }

    /// Queues any message body as is (a service message, an answer built
    /// by hand). `response` selects msg_id % 4 == 1 rather than 3;
    /// `content_related` gives it an odd seqno (the client acknowledges it).
    pub fn send_message(&mut self, body: Vec<u8>, content_related: bool, response: bool) {
        self.outbox.push_back(Out {
            body,
            content: content_related,
            response,
        });
    }

    /// The next request the client sent: its msg_id and its body (inflated
    /// if it came `gzip_packed`).
    #[must_use]
    pub fn poll_request(&mut self) -> Option<(i64, Vec<u8>)> {
        self.requests_in.pop_front()
    }

    /// Answers the request `req_msg_id` with `rpc_result`: the result
    /// object's bytes (sent `gzip_packed` when longer than the gzip
    /// threshold and smaller packed), or an `rpc_error`.
    pub fn respond(&mut self, req_msg_id: i64, result: Result<Vec<u8>, RpcError>) {
        let object = match result {
            Ok(bytes) => maybe_gzip(bytes, self.config.gzip_threshold),
            Err(e) => write_rpc_error(&e),
        };
        let mut body = Vec::new();
        write_rpc_result(req_msg_id, &object, &mut body);
        // service_messages: the response "serves as acknowledgment of the
        // other party's receipt of the req_msg_id message".
        self.pending_acks.retain(|id| *id != req_msg_id);
        self.outbox.push_back(Out {
            body,
            content: true,
            response: true,
        });
    }

    /// Nothing is time-driven in the test server yet; present for symmetry
    /// with the client.
    pub fn handle_timeout(&mut self, _now: impl Into<Now>) {}

    fn server_secs(&self, now: Timestamp) -> i64 {
        i64::try_from(now.as_secs())
            .unwrap_or(i64::MAX)
            .saturating_add(self.msg_ids.time_offset())
    }

    fn salt_ok(&self, salt: i64, now: Timestamp) -> bool {
        let t = self.server_secs(now);
        salt == self.salt
            || self.future_salts.iter().any(|(since, until, s)| {
                *s == salt && i64::from(*since) <= t && t < i64::from(*until)
            })
    }

    fn notify_bad_msg(&mut self, session: i64, bad_msg_id: i64, bad_seqno: i32, code: BadMsgCode) {
        self.stats.bad_msgs_sent += 1;
        // Sent top-level, not inside a container.
        self.standalone.push_back((
            session,
            Out {
                body: types::BadMsgNotification {
                    bad_msg_id,
                    bad_msg_seqno: bad_seqno,
                    error_code: code.0,
                }
                .to_bytes(),
                content: false,
                response: true,
            },
        ));
    }

    /// Decrypts and processes one client packet received at `now`.
    pub fn handle_incoming(
        &mut self,
        now: impl Into<Now>,
        packet: &[u8],
    ) -> Result<(), IncomingError> {
        let mut buf = packet.to_vec();
        self.handle_incoming_with(now, &mut buf, |_| Admission::Process)
    }

    /// Like [`handle_incoming`](Self::handle_incoming), decrypting in the
    /// caller's buffer (no copy), with an admission policy: `admit` sees the
    /// header of every packet that decrypted correctly and decides whether it
    /// is processed, dropped or rejected.
    ///
    /// The packet is checked and decoded whole before anything in it is
    /// processed (phase one, `scan.rs`): a container that breaks a rule or holds
    /// malformed TL is answered with "64: invalid container" and nothing in
    /// it runs; a packet over the amplification bound
    /// ([`Config::max_packet_inflation`]) fails with
    /// [`IncomingError::AmplificationBound`], unanswered.
    pub fn handle_incoming_with(
        &mut self,
        now: impl Into<Now>,
        packet: &mut [u8],
        admit: impl FnOnce(&MessageHeader) -> Admission,
    ) -> Result<(), IncomingError> {
        let now = now.into().wall;
        let opened = open(&self.key, Direction::ClientToServer, packet)?;
        let h = opened.header;
        self.stats.packets_received += 1;
        match admit(&h) {
            Admission::Process => {}
            Admission::Drop => return Ok(()),
            Admission::Reject(code) => {
                self.notify_bad_msg(h.session_id, h.msg_id, h.seqno, code);
                return Ok(());
            }
        }
        if let Some(code) = self.msg_id_problem(h.msg_id, now) {
            self.notify_bad_msg(h.session_id, h.msg_id, h.seqno, code);
            return Ok(());
        }
        // "48: incorrect server salt (in this case, the bad_server_salt
        // response is received with the correct salt, and the message is to
        // be re-sent with it)". Top-level, as Telegram sends it.
        if !self.salt_ok(h.salt, now) {
            self.stats.bad_salts_sent += 1;
            self.standalone.push_back((
                h.session_id,
                Out {
                    body: types::BadServerSalt {
                        bad_msg_id: h.msg_id,
                        bad_msg_seqno: h.seqno,
                        error_code: BadMsgCode::BAD_SERVER_SALT.0,
                        new_server_salt: self.salt,
                    }
                    .to_bytes(),
                    content: false,
                    response: true,
                },
            ));
            return Ok(());
        }
        // A replay (this packet received before, on any connection or in
        // any session under this key) is ignored before it can even start a
        // session.
        if !self.replay.with(|w| w.is_fresh(h.msg_id)) {
            self.stats.duplicates += 1;
            return Ok(());
        }
        let top = InnerMessage {
            msg_id: h.msg_id,
            seqno: h.seqno,
            body: opened.body,
        };
        let mut scan = Scan::new(self, now);
        let plan = match scan.message(top, None) {
            Ok(()) => scan.out,
            Err(ScanError::Bound) => {
                return Err(IncomingError::AmplificationBound {
                    limit: self.config.max_packet_inflation,
                })
            }
            Err(ScanError::InvalidContainer) => {
                self.notify_bad_msg(
                    h.session_id,
                    h.msg_id,
                    h.seqno,
                    BadMsgCode::INVALID_CONTAINER,
                );
                return Ok(());
            }
        };
        if self.client_session != Some(h.session_id) {
            self.start_session(h.session_id, &plan);
        }
        for p in plan {
            self.apply(now, p);
        }
        Ok(())
    }

    /// The bad_msg_notification code for a client msg_id the server must
    /// refuse, if any.
    fn msg_id_problem(&self, msg_id: i64, now: Timestamp) -> Option<BadMsgCode> {
        // "18: incorrect two lower order msg_id bits (the server expects
        // client message msg_id to be divisible by 4)". Nothing more: a
        // msg_id made exactly on a second (its low 32 bits zero) is a real
        // clock's reading too (Telethon 1.45 makes one about once in a
        // million; refusing it failed one of its calls in a load run).
        if msg_id % 4 != 0 {
            return Some(BadMsgCode::MSG_ID_BAD_LOW_BITS);
        }
        // "16: msg_id too low", "17: msg_id too high" — against the server's
        // own clock (the window of description, "Important Checks").
        if !in_time_window(msg_id, now, self.msg_ids.time_offset()) {
            return Some(if msg_id_secs(msg_id) < self.server_secs(now) {
                BadMsgCode::MSG_ID_TOO_LOW
            } else {
                BadMsgCode::MSG_ID_TOO_HIGH
            });
        }
        // A full window cannot tell a msg_id below all of it from a replay:
        // "too low", and the client re-sends it under a fresh one.
        if self.replay.with(|w| w.below_full_window(msg_id)) {
            return Some(BadMsgCode::MSG_ID_TOO_LOW);
        }
        None
    }

    /// The client's first packet in a new session_id.
    fn start_session(&mut self, session_id: i64, plan: &[Planned]) {
        self.client_session = Some(session_id);
        self.seqno.reset();
        self.pending_acks.clear();
        self.outbox.clear();
        self.stats.new_sessions += 1;
        // "first_msg_id": the lowest msg_id in the packet that starts it.
        let first = plan
            .iter()
            .filter_map(|p| match p {
                Planned::Message { msg_id, .. } => Some(*msg_id),
                _ => None,
            })
            .min_by_key(|m| msg_id_key(*m))
            .unwrap_or(0);
        let unique_id = i64::from_le_bytes(self.rng.next_u64().to_le_bytes());
        self.outbox.push_back(Out {
            body: types::NewSessionCreated {
                first_msg_id: first,
                unique_id,
                server_salt: self.salt,
            }
            .to_bytes(),
            content: true,
            response: false,
        });
    }

    /// Phase two for one message of a packet that passed phase one.
    fn apply(&mut self, now: Timestamp, p: Planned) {
        let session = self.client_session.unwrap_or(0);
        let (msg_id, seqno, what) = match p {
            Planned::Notify {
                msg_id,
                seqno,
                code,
            } => {
                self.notify_bad_msg(session, msg_id, seqno, code);
                return;
            }
            Planned::Duplicate => {
                self.stats.duplicates += 1;
                return;
            }
            Planned::Message {
                msg_id,
                seqno,
                what,
            } => (msg_id, seqno, what),
        };
        // Recorded now, so a replay racing on another connection of this
        // key runs once only.
        if !self.replay.with(|w| w.insert(msg_id, 0)) {
            self.stats.duplicates += 1;
            return;
        }
        if seqno & 1 == 1 {
            self.pending_acks.push(msg_id);
        }
        match what {
            Request::Container => {}
            Request::Ping(ping_id) => {
                self.stats.pings += 1;
                self.pong(msg_id, ping_id);
            }
            Request::PingDelayDisconnect(p) => {
                self.stats.keepalive_pings += 1;
                self.stats.last_disconnect_delay = Some(p.disconnect_delay);
                self.pong(msg_id, p.ping_id);
            }
            Request::MsgsAck(n) => self.stats.acks_received += n,
            Request::GetFutureSalts(num) => self.answer_future_salts(now, msg_id, num),
            Request::MsgsStateReq(ids) => {
                let info: Vec<u8> = self.replay.with(|w| {
                    ids.iter()
                        .take(MAX_IDS_PER_CONSTRUCTOR)
                        .map(|id| w.state_of(*id))
                        .collect()
                });
                let answer = types::MsgsStateInfo {
                    req_msg_id: msg_id,
                    info,
                };
                self.outbox.push_back(Out {
                    body: answer.to_bytes(),
                    content: false,
                    response: true,
                });
            }
            Request::MsgsStateInfo => self.stats.state_infos_received += 1,
            Request::MsgResendReq => self.stats.resend_reqs_received += 1,
            Request::Query(body) => {
                self.stats.requests_received += 1;
                self.requests_in.push_back((msg_id, body));
            }
        }
    }

    fn answer_future_salts(&mut self, now: Timestamp, msg_id: i64, num: i32) {
        let n = usize::try_from(num).unwrap_or(0).min(64);
        let secs = self.server_secs(now);
        let t = tl_time(secs);
        let salts = self
            .future_salts
            .iter()
            // Expired salts are not served.
            .filter(|&&(_, until, _)| i64::from(u32::from_le_bytes(until.to_le_bytes())) > secs)
            .take(n)
            .map(|&(valid_since, valid_until, salt)| {
                Bare(types::FutureSalt {
                    valid_since,
                    valid_until,
                    salt,
                })
            })
            .collect();
        let answer = types::FutureSalts {
            req_msg_id: msg_id,
            now: t,
            salts: RawVec(salts),
        };
        self.pending_acks.retain(|id| *id != msg_id);
        self.outbox.push_back(Out {
            body: answer.to_bytes(),
            content: false,
            response: true,
        });
    }

    fn pong(&mut self, ping_msg_id: i64, ping_id: i64) {
        // service_messages: "pong#347773c5 msg_id:long ping_id:long";
        // "These messages do not require acknowledgments."
        self.pending_acks.retain(|id| *id != ping_msg_id);
        self.outbox.push_back(Out {
            body: types::Pong {
                msg_id: ping_msg_id,
                ping_id,
            }
            .to_bytes(),
            content: false,
            response: true,
        });
    }

    fn next_id(&mut self, now: Timestamp, response: bool) -> i64 {
        let kind = if response {
            MsgIdKind::ServerResponse
        } else {
            MsgIdKind::ServerOther
        };
        self.msg_ids.next_of_kind(now, kind)
    }

    /// The next packet for the client (see
    /// [`poll_transmit_into`](Self::poll_transmit_into)).
    #[must_use]
    pub fn poll_transmit(&mut self, now: impl Into<Now>) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        self.poll_transmit_into(now, &mut out).then_some(out)
    }

    /// Writes the next packet for the client into `out` and returns `true`
    /// (or `false` when there is nothing to send): a top-level notification
    /// on its own, or the queued answers, updates and acks (in a container
    /// when there is more than one).
    pub fn poll_transmit_into(&mut self, now: impl Into<Now>, out: &mut Vec<u8>) -> bool {
        let now = now.into().wall;
        if let Some((session, o)) = self.standalone.pop_front() {
            let msg_id = self.next_id(now, o.response);
            let seqno = self.seqno.next(o.content);
            let header = self.header(session, msg_id, seqno);
            return seal_message(
                &self.key,
                Direction::ServerToClient,
                &header,
                &o.body,
                out,
                &mut self.rng,
            )
            .is_ok();
        }
        let Some(session) = self.client_session else {
            return false;
        };
        // At most 1024 messages in a container (the acks included) and the
        // container byte limit; a single larger message goes alone.
        let room = self
            .config
            .max_container_messages
            .clamp(2, MAX_CONTAINER_MESSAGES)
            - 1;
        let mut items: Vec<Out> = Vec::new();
        let mut bytes = 0usize;
        while items.len() < room {
            let Some(len) = self.outbox.front().map(|o| o.body.len()) else {
                break;
            };
            if !items.is_empty() && bytes + len > self.config.max_container_bytes {
                break;
            }
            if let Some(o) = self.outbox.pop_front() {
                bytes += len;
                items.push(o);
            }
        }
        if !self.pending_acks.is_empty() {
            let n = self.pending_acks.len().min(MAX_IDS_PER_CONSTRUCTOR);
            let ids: Vec<i64> = self.pending_acks.drain(..n).collect();
            items.push(Out {
                body: types::MsgsAck { msg_ids: ids }.to_bytes(),
                content: false,
                response: false,
            });
        }
        packet_start(out);
        let (msg_id, seqno) = match items.as_slice() {
            [] => return false,
            [o] => {
                out.extend_from_slice(&o.body);
                (self.next_id(now, o.response), self.seqno.next(o.content))
            }
            _ => {
                let mut w = ContainerWriter::new(out);
                for o in &items {
                    let id = self.next_id(now, o.response);
                    let seq = self.seqno.next(o.content);
                    // At most 1020 items; bodies are bounded by what the
                    // server queued.
                    let _ = w.push(id, seq, &o.body);
                }
                w.finish();
                (self.next_id(now, false), self.seqno.next(false))
            }
        };
        let header = self.header(session, msg_id, seqno);
        seal(
            &self.key,
            Direction::ServerToClient,
            &header,
            out,
            &mut self.rng,
        )
        .is_ok()
    }

    fn header(&self, session_id: i64, msg_id: i64, seqno: i32) -> MessageHeader {
        MessageHeader {
            salt: self.salt,
            session_id,
            msg_id,
            seqno,
        }
    }

    /// Encrypts one message of this server session for `session_id`
    /// (tests use it to craft packets: wrong session, replayed ids).
    #[cfg(feature = "testing")]
    pub fn craft_packet(
        &mut self,
        session_id: i64,
        msg_id: i64,
        seqno: i32,
        body: &[u8],
    ) -> Option<Vec<u8>> {
        let header = self.header(session_id, msg_id, seqno);
        let mut out = Vec::new();
        seal_message(
            &self.key,
            Direction::ServerToClient,
            &header,
            body,
            &mut out,
            &mut self.rng,
        )
        .ok()?;
        Some(out)
    }

    /// A fresh server msg_id at `now` (response parity if `response`).
    pub fn next_msg_id(&mut self, now: impl Into<Now>, response: bool) -> i64 {
        self.next_id(now.into().wall, response)
    }
}

/// A Unix time as a TL `int`: the low 32 bits, so that it keeps counting
/// past 2038 (read back as unsigned).
fn tl_time(secs: i64) -> i32 {
    i32::from_le_bytes(
        u32::try_from(secs.clamp(0, i64::from(u32::MAX)))
            .unwrap_or(u32::MAX)
            .to_le_bytes(),
    )
}
