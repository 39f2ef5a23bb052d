//! The server role: enough of an MTProto server for in-memory tests.

use std::collections::VecDeque;

use mtproto_crypto::packet::Direction;
use mtproto_crypto::AuthKey;
use mtproto_tl::mtproto::{functions, types};
use mtproto_tl::{
    Bare, BareDeserialize, DecodeError, Identifiable, RawVec, Reader, Serialize, GZIP_PACKED_ID,
};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

use super::replay::ReplayWindow;
use super::{in_time_window, Config, IncomingError};
use crate::msg_id::{msg_id_secs, MsgIdGenerator, MsgIdKind};
use crate::wire::objects::{
    maybe_gzip, read_gzip, write_rpc_error, write_rpc_result, MAX_IDS_PER_CONSTRUCTOR,
};
use crate::wire::{
    open, packet_start, parse_container, seal, seal_message, BadMsgCode, ContainerWriter,
    InnerMessage, MessageHeader, SeqNo,
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
    replay: ReplayWindow,
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
        let replay = ReplayWindow::new(config.replay_window);
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
    pub fn handle_incoming_with(
        &mut self,
        now: impl Into<Now>,
        packet: &mut [u8],
        admit: impl FnOnce(&MessageHeader) -> Admission,
    ) -> Result<(), IncomingError> {
        let now = now.into().wall;
        let opened = open(&self.key, Direction::ClientToServer, packet)?;
        let msg = Msg {
            salt: opened.header.salt,
            session_id: opened.header.session_id,
            msg_id: opened.header.msg_id,
            seq_no: opened.header.seqno,
            body: opened.body,
        };
        self.stats.packets_received += 1;
        match admit(&opened.header) {
            Admission::Process => {}
            Admission::Drop => return Ok(()),
            Admission::Reject(code) => {
                self.notify_bad_msg(msg.session_id, msg.msg_id, msg.seq_no, code);
                return Ok(());
            }
        }
        // "18: incorrect two lower order msg_id bits (the server expects
        // client message msg_id to be divisible by 4)"
        if msg.msg_id % 4 != 0 {
            self.notify_bad_msg(
                msg.session_id,
                msg.msg_id,
                msg.seq_no,
                BadMsgCode::MSG_ID_BAD_LOW_BITS,
            );
            return Ok(());
        }
        // "16: msg_id too low", "17: msg_id too high" — against the server's
        // own clock (the window of description, "Important Checks").
        if !in_time_window(msg.msg_id, now, self.msg_ids.time_offset()) {
            let code = if msg_id_secs(msg.msg_id) < self.server_secs(now) {
                BadMsgCode::MSG_ID_TOO_LOW
            } else {
                BadMsgCode::MSG_ID_TOO_HIGH
            };
            self.notify_bad_msg(msg.session_id, msg.msg_id, msg.seq_no, code);
            return Ok(());
        }
        // "48: incorrect server salt (in this case, the bad_server_salt
        // response is received with the correct salt, and the message is to
        // be re-sent with it)". Top-level, as Telegram sends it.
        if !self.salt_ok(msg.salt, now) {
            self.stats.bad_salts_sent += 1;
            self.standalone.push_back((
                msg.session_id,
                Out {
                    body: types::BadServerSalt {
                        bad_msg_id: msg.msg_id,
                        bad_msg_seqno: msg.seq_no,
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
        if self.client_session != Some(msg.session_id) {
            self.client_session = Some(msg.session_id);
            self.replay.clear();
            self.seqno.reset();
            self.pending_acks.clear();
            self.outbox.clear();
            self.stats.new_sessions += 1;
            let first = first_msg_id(msg.msg_id, msg.body);
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
        if !self.replay.insert(msg.msg_id) {
            self.stats.duplicates += 1;
            return Ok(());
        }
        let top = InnerMessage {
            msg_id: msg.msg_id,
            seqno: msg.seq_no,
            body: msg.body,
        };
        self.dispatch(now, top, true, 0);
        Ok(())
    }

    fn dispatch(&mut self, now: Timestamp, m: InnerMessage<'_>, top: bool, depth: u8) {
        let mut r = Reader::new(m.body);
        if self.dispatch_inner(now, m, &mut r, top, depth).is_err() {
            // A body that does not decode: "64: invalid container" for a
            // container, otherwise the message is ignored.
            if top {
                let session = self.client_session.unwrap_or(0);
                self.notify_bad_msg(session, m.msg_id, m.seqno, BadMsgCode::INVALID_CONTAINER);
            }
        }
    }

    fn dispatch_inner(
        &mut self,
        now: Timestamp,
        m: InnerMessage<'_>,
        r: &mut Reader<'_>,
        top: bool,
        depth: u8,
    ) -> Result<(), DecodeError> {
        if depth == 0 && m.seqno & 1 == 1 {
            self.pending_acks.push(m.msg_id);
        }
        match r.read_u32()? {
            types::MsgContainer::CONSTRUCTOR_ID if top => {
                let inner = parse_container(r)?;
                r.finish()?;
                for im in inner {
                    if im.msg_id % 4 != 0 || im.msg_id >= m.msg_id || !self.replay.insert(im.msg_id)
                    {
                        self.stats.duplicates += 1;
                        continue;
                    }
                    self.dispatch(now, im, false, 0);
                }
            }
            types::MsgContainer::CONSTRUCTOR_ID => {}
            GZIP_PACKED_ID if depth < 2 => {
                let inflated = read_gzip(r)?;
                let im = InnerMessage {
                    msg_id: m.msg_id,
                    seqno: m.seqno,
                    body: &inflated,
                };
                self.dispatch(now, im, false, depth + 1);
            }
            GZIP_PACKED_ID => {}
            functions::Ping::CONSTRUCTOR_ID => {
                let ping = functions::Ping::deserialize_bare(r)?;
                self.stats.pings += 1;
                self.pong(m.msg_id, ping.ping_id);
            }
            functions::PingDelayDisconnect::CONSTRUCTOR_ID => {
                let p = functions::PingDelayDisconnect::deserialize_bare(r)?;
                self.stats.keepalive_pings += 1;
                self.stats.last_disconnect_delay = Some(p.disconnect_delay);
                self.pong(m.msg_id, p.ping_id);
            }
            types::MsgsAck::CONSTRUCTOR_ID => {
                let ack = types::MsgsAck::deserialize_bare(r)?;
                self.stats.acks_received += u64::try_from(ack.msg_ids.len()).unwrap_or(u64::MAX);
            }
            functions::GetFutureSalts::CONSTRUCTOR_ID => {
                let g = functions::GetFutureSalts::deserialize_bare(r)?;
                let n = usize::try_from(g.num).unwrap_or(0).min(64);
                let t = i32::try_from(self.server_secs(now)).unwrap_or(i32::MAX);
                let salts = self
                    .future_salts
                    .iter()
                    .filter(|&&(_, until, _)| until > t)
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
                    req_msg_id: m.msg_id,
                    now: t,
                    salts: RawVec(salts),
                };
                self.pending_acks.retain(|id| *id != m.msg_id);
                self.outbox.push_back(Out {
                    body: answer.to_bytes(),
                    content: false,
                    response: true,
                });
            }
            types::MsgsStateReq::CONSTRUCTOR_ID => {
                let req = types::MsgsStateReq::deserialize_bare(r)?;
                let info: Vec<u8> = req
                    .msg_ids
                    .iter()
                    .take(MAX_IDS_PER_CONSTRUCTOR)
                    .map(|id| self.replay.state_of(*id))
                    .collect();
                let answer = types::MsgsStateInfo {
                    req_msg_id: m.msg_id,
                    info,
                };
                self.outbox.push_back(Out {
                    body: answer.to_bytes(),
                    content: false,
                    response: true,
                });
            }
            types::MsgsStateInfo::CONSTRUCTOR_ID => self.stats.state_infos_received += 1,
            types::MsgResendReq::CONSTRUCTOR_ID => self.stats.resend_reqs_received += 1,
            _ => {
                self.stats.requests_received += 1;
                self.requests_in.push_back((m.msg_id, m.body.to_vec()));
            }
        }
        Ok(())
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
        let mut items: Vec<Out> = Vec::new();
        while items.len() + 1 < self.config.max_container_messages.min(1020) {
            match self.outbox.pop_front() {
                Some(o) => items.push(o),
                None => break,
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

/// The fields of an opened client packet.
struct Msg<'a> {
    salt: i64,
    session_id: i64,
    msg_id: i64,
    seq_no: i32,
    body: &'a [u8],
}

/// The lowest msg_id in a packet (the container's contents, or the message).
fn first_msg_id(msg_id: i64, body: &[u8]) -> i64 {
    let mut r = Reader::new(body);
    if r.read_u32().ok() == Some(types::MsgContainer::CONSTRUCTOR_ID) {
        if let Ok(inner) = parse_container(&mut r) {
            if let Some(min) = inner.iter().map(|m| m.msg_id).min() {
                return min.min(msg_id);
            }
        }
    }
    msg_id
}
