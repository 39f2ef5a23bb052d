//! The inbox. An incoming packet goes through two phases:
//!
//! 1. **check** ([`Scan`](super::scan::Scan), in `scan.rs`): it is opened, and every message in it (the
//!    container's too) is checked and decoded, without touching the session:
//!    msg_id parity, container rules, the time window, replays, valid TL, and
//!    the amplification bound on what it inflates and copies out. One
//!    failure discards the whole packet: security_guidelines, nothing in it
//!    is processed or acknowledged;
//! 2. **apply**: each message goes to the function named after it
//!    (`on_msgs_ack` for `msgs_ack`, ...).

use mtproto_crypto::packet::Direction;
use mtproto_tl::mtproto::types;
use mtproto_tl::Serialize;

use super::scan::{Decoded, ResultBytes, Scan, Scratch};
use super::sent_log::Sent;
use super::{ClientSession, Kind, RequestError, RequestId, SessionEvent};
use crate::msg_id::{msg_id_key, msg_id_secs};
use crate::session::{IncomingError, Violation};
use crate::wire::objects::{id_list, MAX_IDS_PER_CONSTRUCTOR};
use crate::wire::{open, BadMsgCode, InnerMessage};
use crate::{Now, RpcError};

impl ClientSession {
    /// Decrypts and processes one packet received at `now`.
    ///
    /// A packet that fails any integrity check is an [`IncomingError`]
    /// naming it, and nothing in it is processed or acknowledged;
    /// security_guidelines then recommend closing the connection (a
    /// [`Connection`](https://docs.rs/mtproto-connection) does). Anything
    /// inside a valid packet that the session cannot use is reported as
    /// [`SessionEvent::ProtocolViolation`] and skipped. Duplicate messages are
    /// dropped silently (counted in [`SessionStats`](super::SessionStats)).
    pub fn handle_incoming(
        &mut self,
        now: impl Into<Now>,
        packet: &[u8],
    ) -> Result<(), IncomingError> {
        let mut buf = packet.to_vec();
        self.handle_incoming_in_place(now, &mut buf)
    }

    /// Like [`handle_incoming`](Self::handle_incoming), decrypting in the
    /// caller's buffer (no copy).
    pub fn handle_incoming_in_place(
        &mut self,
        now: impl Into<Now>,
        packet: &mut [u8],
    ) -> Result<(), IncomingError> {
        let now = now.into();
        let scratch = std::mem::take(&mut self.scratch);
        let (checked, mut scratch) = self.check_packet(now, packet, scratch);
        let r = match checked {
            Ok(()) => {
                self.stats.packets_accepted += 1;
                self.apply(now, packet, &mut scratch);
                Ok(())
            }
            Err(e) => {
                self.stats.packets_rejected += 1;
                Err(e)
            }
        };
        scratch.out.clear();
        self.scratch = scratch;
        r
    }

    /// Phase one: opens the packet and checks and decodes every message
    /// into `scratch` (handed back whatever happens).
    fn check_packet(
        &self,
        now: Now,
        packet: &mut [u8],
        scratch: Scratch,
    ) -> (Result<(), IncomingError>, Scratch) {
        let start = packet.as_ptr() as usize;
        let span = start..start + packet.len();
        // security_guidelines: auth_key_id, msg_key, length and padding are
        // checked by `open` (x = 8 for server->client).
        let msg = match open(&self.key, Direction::ServerToClient, packet) {
            Ok(m) => m,
            Err(e) => return (Err(e.into()), scratch),
        };
        // description: "Under no circumstances can a message meant for one
        // session be sent into a different session."
        if msg.header.session_id != self.session_id {
            let e = IncomingError::WrongSession {
                session_id: msg.header.session_id,
            };
            return (Err(e), scratch);
        }
        let top = InnerMessage {
            msg_id: msg.header.msg_id,
            seqno: msg.header.seqno,
            body: msg.body,
        };
        let mut scan = Scan::new(self, now, span, scratch);
        let r = scan.message(top, None);
        (r, scan.scratch)
    }

    /// Phase two: every message of a packet that passed phase one, in order.
    fn apply(&mut self, now: Now, packet: &[u8], scratch: &mut Scratch) {
        let Scratch { out, ids, .. } = scratch;
        for m in out.drain(..) {
            if m.duplicate {
                self.stats.dropped_replays += 1;
                continue;
            }
            self.replay.insert(m.msg_id, self.conn_epoch);
            // description, "Content-related Message": "When receiving an
            // MTProto message that is marked as content-related by setting
            // the least-significant bit of the seqno, the receiving party
            // must acknowledge it in some way. When the receiving party is
            // the client, this must be done through msgs_ack constructors."
            if m.seqno & 1 == 1 {
                self.ack_later(now, m.msg_id);
            }
            self.dispatch(now, packet, ids, m.msg_id, m.what);
        }
    }

    fn violation(&mut self, v: Violation) {
        self.events.push_back(SessionEvent::ProtocolViolation(v));
    }

    /// Hands a decoded message to the function for its constructor.
    fn dispatch(&mut self, now: Now, packet: &[u8], ids: &[i64], msg_id: i64, what: Decoded) {
        match what {
            Decoded::Container => {}
            Decoded::RpcResult { req_msg_id, result } => {
                self.on_rpc_result(req_msg_id, result, packet)
            }
            Decoded::Pong { pong, body } => self.on_pong(pong, body),
            Decoded::MsgsAck(range) => self.on_msgs_ack(ids.get(range).unwrap_or_default()),
            Decoded::NewSessionCreated(n) => self.on_new_session_created(n),
            Decoded::BadServerSalt(b) => self.on_bad_server_salt(b),
            Decoded::BadMsgNotification(b) => self.on_bad_msg_notification(now, msg_id, b),
            Decoded::FutureSalts { salts, body } => self.on_future_salts(now, salts, body),
            Decoded::DetailedInfo { answer_msg_id } => {
                self.on_msg_detailed_info(now, answer_msg_id)
            }
            Decoded::MsgsStateReq(r) => self.on_msgs_state_req(msg_id, r),
            Decoded::MsgResendReq(r) => self.on_msg_resend_req(msg_id, r),
            Decoded::MsgsStateInfo(i) => self.on_msgs_state_info(i),
            Decoded::MsgsAllInfo(a) => self.on_msgs_all_info(a),
            Decoded::Update(body) => self.events.push_back(SessionEvent::Update(body)),
        }
    }

    /// `rpc_result`: the answer to one of our requests.
    fn on_rpc_result(
        &mut self,
        req_msg_id: i64,
        result: Result<ResultBytes, RpcError>,
        packet: &[u8],
    ) {
        let id = match self.sent.get(req_msg_id) {
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
        // The answer's bytes go into the request's own body buffer (it is
        // done with): no allocation when the answer is no longer than the
        // query, as most are.
        let result = result.map(|bytes| match bytes {
            ResultBytes::Owned(v) => v,
            ResultBytes::InPacket(range) => {
                let mut v = self
                    .requests
                    .get_mut(&id)
                    .map(|r| std::mem::take(&mut r.body))
                    .unwrap_or_default();
                v.clear();
                v.extend_from_slice(packet.get(range).unwrap_or_default());
                v
            }
        });
        self.complete(id, result);
    }

    /// `pong`: the answer to a caller's `ping`, or the keepalive's heartbeat.
    fn on_pong(&mut self, pong: types::Pong, body: Vec<u8>) {
        let ping_msg_id = pong.msg_id;
        match self.sent.get(ping_msg_id) {
            Some(Sent::Request(id)) if self.requests.contains_key(id) => {
                let id = *id;
                self.complete(id, Ok(body));
            }
            // A keepalive's pong: the connection is alive.
            Some(Sent::Keepalive) => {
                if self.timers.pong_wait.is_some_and(|(m, _)| m == ping_msg_id) {
                    self.timers.pong_wait = None;
                }
            }
            Some(Sent::Service) => {}
            Some(Sent::Answered) => self.stats.duplicate_answers += 1,
            _ => self.violation(Violation::UnknownRequest {
                req_msg_id: ping_msg_id,
            }),
        }
    }

    /// `msgs_ack`: the server received these messages.
    fn on_msgs_ack(&mut self, ids: &[i64]) {
        for &id in ids.iter().take(MAX_IDS_PER_CONSTRUCTOR) {
            self.mark_acked(id);
        }
    }

    /// `new_session_created`: the server (re)created the session.
    fn on_new_session_created(&mut self, n: types::NewSessionCreated) {
        self.set_salt(n.server_salt);
        // "The unique_id parameter is generated by the server every time a
        // session is (re-)created" — a repeated notification is processed once.
        if self.last_unique_id == Some(n.unique_id) {
            return;
        }
        self.last_unique_id = Some(n.unique_id);
        self.events.push_back(SessionEvent::NewSession {
            first_msg_id: n.first_msg_id,
            unique_id: n.unique_id,
        });
        // The server's new session starts at first_msg_id: requests sent
        // earlier and never acknowledged were lost with the old one.
        let lost: Vec<RequestId> = self
            .requests
            .iter()
            .filter(|(_, r)| {
                !r.queued
                    && (!r.acked || r.awaiting_state)
                    && r.msg_id
                        .is_some_and(|m| msg_id_key(m) < msg_id_key(n.first_msg_id))
            })
            .map(|(id, _)| *id)
            .collect();
        for id in lost {
            self.resend(id);
        }
    }

    /// `bad_server_salt`: re-send with the salt it carries.
    fn on_bad_server_salt(&mut self, b: types::BadServerSalt) {
        // service_messages_about_messages: "The client must check that it
        // has, in fact, recently sent a message with the specified msg_id,
        // and if that is the case, update [...] the server salt".
        if !self.sent.contains(b.bad_msg_id) {
            self.violation(Violation::UnknownBadMsgId {
                bad_msg_id: b.bad_msg_id,
                code: BadMsgCode(b.error_code),
            });
            return;
        }
        // "48: incorrect server salt (in this case, the bad_server_salt
        // response is received with the correct salt, and the message is to
        // be re-sent with it)".
        self.future_salts.clear();
        self.set_salt(b.new_server_salt);
        for id in self.requests_for(b.bad_msg_id) {
            self.resend(id);
        }
    }

    /// `bad_msg_notification`: the server rejected one of our messages.
    fn on_bad_msg_notification(
        &mut self,
        now: Now,
        notification_msg_id: i64,
        b: types::BadMsgNotification,
    ) {
        let code = BadMsgCode(b.error_code);
        if !self.sent.contains(b.bad_msg_id) {
            self.violation(Violation::UnknownBadMsgId {
                bad_msg_id: b.bad_msg_id,
                code,
            });
            return;
        }
        let affected = self.requests_for(b.bad_msg_id);
        match code {
            // "16: msg_id too low (most likely, client time is wrong; it would
            // be worthwhile to synchronize it using msg_id notifications and
            // re-send the original message with the 'correct' msg_id [...])"
            // "17: msg_id too high (similar to the previous case, the client
            // time has to be synchronized, and the message re-sent with the
            // correct msg_id)". The notification's own msg_id carries the
            // server's time.
            BadMsgCode::MSG_ID_TOO_LOW | BadMsgCode::MSG_ID_TOO_HIGH => {
                self.sync_time(now, msg_id_secs(notification_msg_id));
                for id in affected {
                    self.resend(id);
                }
            }
            // Code 48 normally comes as bad_server_salt; a bare one still
            // means "re-send" (with the salt we have).
            BadMsgCode::BAD_SERVER_SALT => {
                for id in affected {
                    self.resend(id);
                }
            }
            // "32: msg_seqno too low", "33: msg_seqno too high", "34: an even
            // msg_seqno expected [...]", "35: odd msg_seqno expected [...]":
            // the server's view of our seqno diverged. Rather than guess,
            // start a new session (new session_id, seqno from zero) and
            // re-send everything pending in it.
            c if c.is_seqno_error() => self.reset_session(code),
            // "18: incorrect two lower order msg_id bits", "19: container
            // msg_id is the same as msg_id of a previously received message",
            // "20: message too old, and it cannot be verified whether the
            // server has received a message with this msg_id or not", "64:
            // invalid container": re-sent once under a fresh msg_id; after 64
            // on a container, each of its messages goes alone, outside any
            // container. Only the same code again fails the request.
            BadMsgCode::MSG_ID_BAD_LOW_BITS
            | BadMsgCode::CONTAINER_MSG_ID_REUSED
            | BadMsgCode::MESSAGE_TOO_OLD
            | BadMsgCode::INVALID_CONTAINER => {
                let solo = code == BadMsgCode::INVALID_CONTAINER;
                for id in affected {
                    self.retry_once(id, code, solo);
                }
            }
            // Codes the spec does not define: fail the requests.
            _ => {
                for id in affected {
                    self.fail(id, RequestError::BadMessage { code });
                }
            }
        }
    }

    /// Re-sends `id` after bad_msg_notification `code`, unless its previous
    /// transmission already drew the same code: then it fails with it.
    fn retry_once(&mut self, id: RequestId, code: BadMsgCode, solo: bool) {
        let Some(r) = self.requests.get_mut(&id) else {
            return;
        };
        if r.last_bad_code == Some(code) {
            let error = if code == BadMsgCode::INVALID_CONTAINER {
                RequestError::InvalidContainer
            } else {
                RequestError::BadMessage { code }
            };
            self.fail(id, error);
            return;
        }
        r.last_bad_code = Some(code);
        r.solo |= solo;
        self.resend(id);
    }

    /// `future_salts`: the answer to our `get_future_salts`.
    fn on_future_salts(&mut self, now: Now, f: types::FutureSalts, body: Vec<u8>) {
        let req_msg_id = f.req_msg_id;
        // "between 1 and 64" salts; keep at most 64.
        let salts: Vec<(i64, i64, i64)> = f
            .salts
            .0
            .iter()
            .take(64)
            .map(|s| (tl_time(s.0.valid_since), tl_time(s.0.valid_until), s.0.salt))
            .collect();
        // service_messages: "The client must check to see that the
        // response's req_msg_id in fact coincides with msg_id of the query
        // for get_future_salts."
        match self.sent.get(req_msg_id) {
            Some(Sent::Request(id))
                if self
                    .requests
                    .get(id)
                    .is_some_and(|q| q.kind == Kind::FutureSalts) =>
            {
                let id = *id;
                self.future_salts = salts;
                // future_salts carries `now`, the server's current time; it
                // answers our query, so it is trusted as a time source like a
                // bad_msg_notification 16/17.
                self.sync_time(now, tl_time(f.now));
                self.complete(id, Ok(body));
            }
            Some(Sent::Answered) => self.stats.duplicate_answers += 1,
            _ => self.violation(Violation::UnknownRequest { req_msg_id }),
        }
    }

    /// `msg_detailed_info` / `msg_new_detailed_info`.
    fn on_msg_detailed_info(&mut self, now: Now, answer_msg_id: i64) {
        // service_messages_about_messages, msg_detailed_info: "Normally used
        // by the server to respond to the receipt of a duplicate msg_id
        // [...]". If the answer already arrived, acknowledge it; otherwise
        // ask for it with msg_resend_req.
        if self.replay.contains(answer_msg_id) {
            self.ack_later(now, answer_msg_id);
        } else {
            let req = types::MsgResendReq {
                msg_ids: vec![answer_msg_id],
            };
            self.push_service(req.to_bytes());
        }
    }

    /// `msgs_state_req`: the server asks what we received.
    fn on_msgs_state_req(&mut self, msg_id: i64, req: types::MsgsStateReq) {
        let ids = id_list(req.msg_ids);
        self.answer_state(msg_id, &ids);
    }

    /// `msgs_state_info` answering `req_msg_id`: "info is a string that
    /// contains exactly one byte of message status for each message from the
    /// incoming msg_ids list".
    fn answer_state(&mut self, req_msg_id: i64, ids: &[i64]) {
        let info: Vec<u8> = ids.iter().map(|id| self.replay.state_of(*id)).collect();
        let answer = types::MsgsStateInfo { req_msg_id, info };
        self.push_service(answer.to_bytes());
    }

    /// `msg_resend_req`: the server asks for some of our messages again.
    fn on_msg_resend_req(&mut self, msg_id: i64, req: types::MsgResendReq) {
        // "The remote party immediately responds by re-sending the requested
        // messages" — our pending requests, under new msg_ids.
        let ids = id_list(req.msg_ids);
        let mut unknown = false;
        for id in &ids {
            let rids = self.requests_for(*id);
            unknown |= rids.is_empty();
            for rid in rids {
                self.resend(rid);
            }
        }
        // "If at least one message with requested msg_id does not exist or
        // has already been forgotten, or has been sent by the requesting
        // party (known from parity), MsgsStateInfo is returned for all
        // messages requested as if the MsgResendReq query had been a
        // MsgsStateReq query as well."
        if unknown {
            self.answer_state(msg_id, &ids);
        }
    }

    /// `msgs_state_info`: the answer to our `msgs_state_req`.
    fn on_msgs_state_info(&mut self, info: types::MsgsStateInfo) {
        // "info is a string that contains exactly one byte of message status
        // for each message from the incoming msg_ids list" — the list of our
        // msgs_state_req `req_msg_id`.
        match self.sent.get(info.req_msg_id) {
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

    /// `msgs_all_info`: "Either party may voluntarily inform the other party
    /// of the status of the messages transmitted by the other party."
    /// Unsolicited, so it is only used to learn receipts (status 4), never
    /// to trigger re-sends.
    fn on_msgs_all_info(&mut self, all: types::MsgsAllInfo) {
        let pairs: Vec<(i64, u8)> = id_list(all.msg_ids)
            .into_iter()
            .zip(all.info.iter().copied())
            .collect();
        self.on_states(&pairs, false);
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
}

/// A Unix time carried in a TL `int`, read as unsigned so that it keeps
/// working past 2038 (2^31 s), when the signed value turns negative.
fn tl_time(t: i32) -> i64 {
    i64::from(u32::from_le_bytes(t.to_le_bytes()))
}
