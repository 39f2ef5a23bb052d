//! The inbox: an incoming packet is opened and checked, then each message
//! goes to the function named after it (`on_msgs_ack` for `msgs_ack`, ...).

use mtproto_crypto::packet::Direction;
use mtproto_tl::mtproto::types;
use mtproto_tl::{BareDeserialize, DecodeError, Identifiable, Reader, Serialize, GZIP_PACKED_ID};

use super::sent_log::Sent;
use super::{ClientSession, Kind, RequestError, RequestId, SessionEvent};
use crate::msg_id::msg_id_secs;
use crate::session::{in_time_window, IncomingError, Violation};
use crate::wire::objects::{decode_result, id_list, read_gzip};
use crate::wire::{open, parse_container, BadMsgCode, InnerMessage};
use crate::Now;

/// How deep `gzip_packed` may nest inside one message.
const MAX_GZIP_DEPTH: u8 = 2;

impl ClientSession {
    /// Decrypts and processes one packet received at `now`.
    ///
    /// A packet that fails decryption or belongs to another session is an
    /// error; anything inside a valid packet that the session cannot use is
    /// reported as [`SessionEvent::ProtocolViolation`] and skipped. Duplicate and
    /// replayed packets are dropped silently (counted in
    /// [`SessionStats`](super::SessionStats)).
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
        // security_guidelines: auth_key_id, msg_key, length and padding are
        // checked by `open` (x = 8 for server->client).
        let msg = open(&self.key, Direction::ServerToClient, packet)?;
        // description: "Under no circumstances can a message meant for one
        // session be sent into a different session."
        if msg.header.session_id != self.session_id {
            return Err(IncomingError::WrongSession {
                session_id: msg.header.session_id,
            });
        }
        let top = InnerMessage {
            msg_id: msg.header.msg_id,
            seqno: msg.header.seqno,
            body: msg.body,
        };
        self.handle_message(now, top, None);
        Ok(())
    }

    /// Checks one message (top-level, or inside the container `container`)
    /// and processes it.
    fn handle_message(&mut self, now: Now, m: InnerMessage<'_>, container: Option<i64>) {
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
            Some(
                types::BadMsgNotification::CONSTRUCTOR_ID
                    | types::BadServerSalt::CONSTRUCTOR_ID
                    | types::MsgContainer::CONSTRUCTOR_ID
            )
        );
        if !exempt && !in_time_window(m.msg_id, now.wall, self.time_offset()) {
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
            self.ack_later(now, m.msg_id);
        }
        self.dispatch(now, m.msg_id, m.body, container.is_none(), 0);
    }

    fn violation(&mut self, v: Violation) {
        self.events.push_back(SessionEvent::ProtocolViolation(v));
    }

    /// Hands a message body to the function for its constructor; a body
    /// that does not decode is a [`Violation::Malformed`].
    fn dispatch(&mut self, now: Now, msg_id: i64, body: &[u8], top: bool, depth: u8) {
        let mut r = Reader::new(body);
        if let Err(error) = self.dispatch_inner(now, msg_id, &mut r, body, top, depth) {
            self.violation(Violation::Malformed { msg_id, error });
        }
    }

    fn dispatch_inner(
        &mut self,
        now: Now,
        msg_id: i64,
        r: &mut Reader<'_>,
        body: &[u8],
        top: bool,
        depth: u8,
    ) -> Result<(), DecodeError> {
        match r.read_u32()? {
            types::MsgContainer::CONSTRUCTOR_ID => {
                self.on_msg_container(now, msg_id, r, top, depth)
            }
            GZIP_PACKED_ID => self.on_gzip_packed(now, msg_id, r, depth),
            types::RpcResult::CONSTRUCTOR_ID => {
                let req_msg_id = r.read_i64()?;
                self.on_rpc_result(req_msg_id, r.take_rest());
                Ok(())
            }
            types::Pong::CONSTRUCTOR_ID => {
                self.on_pong(types::Pong::deserialize_bare(r)?, body);
                Ok(())
            }
            types::MsgsAck::CONSTRUCTOR_ID => {
                self.on_msgs_ack(types::MsgsAck::deserialize_bare(r)?);
                Ok(())
            }
            types::NewSessionCreated::CONSTRUCTOR_ID => {
                self.on_new_session_created(types::NewSessionCreated::deserialize_bare(r)?);
                Ok(())
            }
            types::BadServerSalt::CONSTRUCTOR_ID => {
                self.on_bad_server_salt(types::BadServerSalt::deserialize_bare(r)?);
                Ok(())
            }
            types::BadMsgNotification::CONSTRUCTOR_ID => {
                let b = types::BadMsgNotification::deserialize_bare(r)?;
                self.on_bad_msg_notification(now, msg_id, b);
                Ok(())
            }
            types::FutureSalts::CONSTRUCTOR_ID => {
                self.on_future_salts(now, types::FutureSalts::deserialize_bare(r)?, body);
                Ok(())
            }
            types::MsgDetailedInfo::CONSTRUCTOR_ID => {
                let d = types::MsgDetailedInfo::deserialize_bare(r)?;
                self.on_msg_detailed_info(now, d.answer_msg_id);
                Ok(())
            }
            types::MsgNewDetailedInfo::CONSTRUCTOR_ID => {
                let d = types::MsgNewDetailedInfo::deserialize_bare(r)?;
                self.on_msg_detailed_info(now, d.answer_msg_id);
                Ok(())
            }
            types::MsgsStateReq::CONSTRUCTOR_ID => {
                self.on_msgs_state_req(msg_id, types::MsgsStateReq::deserialize_bare(r)?);
                Ok(())
            }
            types::MsgResendReq::CONSTRUCTOR_ID => {
                self.on_msg_resend_req(msg_id, types::MsgResendReq::deserialize_bare(r)?);
                Ok(())
            }
            types::MsgsStateInfo::CONSTRUCTOR_ID => {
                self.on_msgs_state_info(types::MsgsStateInfo::deserialize_bare(r)?);
                Ok(())
            }
            types::MsgsAllInfo::CONSTRUCTOR_ID => {
                self.on_msgs_all_info(types::MsgsAllInfo::deserialize_bare(r)?);
                Ok(())
            }
            _ => {
                self.events.push_back(SessionEvent::Update(body.to_vec()));
                Ok(())
            }
        }
    }

    /// `msg_container`: each message is checked and processed on its own.
    fn on_msg_container(
        &mut self,
        now: Now,
        msg_id: i64,
        r: &mut Reader<'_>,
        top: bool,
        depth: u8,
    ) -> Result<(), DecodeError> {
        // "A container [...] may not carry other simple containers."
        if !top || depth > 0 {
            self.violation(Violation::Nesting { msg_id });
            return Ok(());
        }
        let inner = parse_container(r)?;
        r.finish()?;
        for m in inner {
            self.handle_message(now, m, Some(msg_id));
        }
        Ok(())
    }

    /// `gzip_packed`: the inflated object is dispatched like the message.
    fn on_gzip_packed(
        &mut self,
        now: Now,
        msg_id: i64,
        r: &mut Reader<'_>,
        depth: u8,
    ) -> Result<(), DecodeError> {
        if depth >= MAX_GZIP_DEPTH {
            self.violation(Violation::Nesting { msg_id });
            return Ok(());
        }
        let inflated = read_gzip(r)?;
        self.dispatch(now, msg_id, &inflated, false, depth + 1);
        Ok(())
    }

    /// `rpc_result`: the answer to one of our requests.
    fn on_rpc_result(&mut self, req_msg_id: i64, result: &[u8]) {
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
        match decode_result(result) {
            Ok(r) => self.complete(id, r),
            Err(e) => self.fail(id, RequestError::MalformedAnswer(e)),
        }
    }

    /// `pong`: the answer to a caller's `ping`, or the keepalive's heartbeat.
    fn on_pong(&mut self, pong: types::Pong, body: &[u8]) {
        let ping_msg_id = pong.msg_id;
        match self.sent.get(ping_msg_id) {
            Some(Sent::Request(id)) if self.requests.contains_key(id) => {
                let id = *id;
                self.complete(id, Ok(body.to_vec()));
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
    fn on_msgs_ack(&mut self, ack: types::MsgsAck) {
        for id in id_list(ack.msg_ids) {
            for rid in self.requests_for(id) {
                if let Some(req) = self.requests.get_mut(&rid) {
                    req.acked = true;
                }
            }
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
                    && r.msg_id.is_some_and(|m| m < n.first_msg_id)
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
            // "19: container msg_id is the same as msg_id of a previously
            // received message", "20: message too old, and it cannot be
            // verified whether the server has received a message with this
            // msg_id or not": re-send under a fresh msg_id (bounded by
            // max_resends). Code 48 normally comes as bad_server_salt; a bare
            // one still means "re-send".
            BadMsgCode::CONTAINER_MSG_ID_REUSED
            | BadMsgCode::MESSAGE_TOO_OLD
            | BadMsgCode::BAD_SERVER_SALT => {
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
            // "64: invalid container": the container was rejected as a whole;
            // its requests fail.
            BadMsgCode::INVALID_CONTAINER => {
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

    /// `future_salts`: the answer to our `get_future_salts`.
    fn on_future_salts(&mut self, now: Now, f: types::FutureSalts, body: &[u8]) {
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
                self.sync_time(now, i64::from(f.now));
                self.complete(id, Ok(body.to_vec()));
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
            self.outbox.service.push(req.to_bytes());
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
        self.outbox.service.push(answer.to_bytes());
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
