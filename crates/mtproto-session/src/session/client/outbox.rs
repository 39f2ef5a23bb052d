//! The outbox: the queue of requests and service messages, and packing
//! them into one packet (a `msg_container` when there is more than one
//! message), written straight into the caller's buffer.

use std::collections::VecDeque;

use mtproto_crypto::packet::Direction;
use mtproto_tl::mtproto::{functions, types};
use mtproto_tl::Serialize;

use super::sent_log::Sent;
use super::{ClientSession, ConnectionWrapper, Kind, RequestId, Wire};
use crate::wire::objects::{maybe_gzip, MAX_CONTAINER_MESSAGES, MAX_IDS_PER_CONSTRUCTOR};
use crate::wire::{packet_start, seal, ContainerWriter, MessageHeader};
use crate::Now;

/// Most service answers waiting to be sent; see [`ClientSession::push_service`].
pub(super) const MAX_SERVICE_QUEUE: usize = 4096;

/// What waits to be sent.
#[derive(Default)]
pub(super) struct Outbox {
    /// Requests waiting for a (re)transmission, in order.
    pub(super) queue: VecDeque<RequestId>,
    /// Service message bodies (not content-related): msgs_state_info,
    /// msg_resend_req.
    pub(super) service: VecDeque<Vec<u8>>,
    /// Incoming content-related msg_ids to acknowledge.
    pub(super) pending_acks: Vec<i64>,
    /// msg_ids (latest transmissions) whose state is to be asked.
    pub(super) state_check: Vec<i64>,
    /// Applied to the first API query of each connection.
    pub(super) wrapper: Option<ConnectionWrapper>,
    /// The next API query transmitted gets wrapped by `wrapper`.
    pub(super) wrap_next: bool,
    /// Kept between packets so that packing one allocates nothing once
    /// the session is warm: the items of the packet being packed, ...
    items: Vec<Item>,
    /// ... their msg_ids and seqnos, ...
    messages: Vec<(i64, i32, Item)>,
    /// ... and the msgs_ack riding along (its ids and its bytes).
    ack_ids: Vec<i64>,
    ack_body: Vec<u8>,
}

impl core::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Outbox")
            .field("queue", &self.queue.len())
            .field("service", &self.service.len())
            .field("pending_acks", &self.pending_acks.len())
            .field("state_check", &self.state_check.len())
            .field("wrapper", &self.wrapper.is_some())
            .finish()
    }
}

impl Outbox {
    /// Drops what belongs to the old session (a new session starts).
    pub(super) fn clear_session_state(&mut self) {
        self.pending_acks.clear();
        self.service.clear();
        self.state_check.clear();
    }
}

/// One message being packed.
enum Item {
    Service(Vec<u8>),
    /// The msgs_ack in [`Outbox::ack_body`].
    Acks,
    Keepalive(Vec<u8>),
    StateReq(Vec<u8>, Vec<i64>),
    Request(RequestId),
}

impl ClientSession {
    /// Sets (or removes) the function applied to the first API query sent
    /// on each connection: the session's first, and the first after every
    /// [`resume_on_new_connection`](Self::resume_on_new_connection). The
    /// Telegram API wants `invokeWithLayer(initConnection(..))` around the
    /// first query of every connection; the wrapped form is compressed when
    /// that pays. Requests already transmitted on this connection keep their
    /// form.
    pub fn set_connection_wrapper(&mut self, wrapper: Option<ConnectionWrapper>) {
        self.outbox.wrap_next = wrapper.is_some() && self.stats.packets_sent == 0;
        self.outbox.wrapper = wrapper;
    }

    /// The next packet to send, if there is anything to send (see
    /// [`poll_transmit_into`](Self::poll_transmit_into)).
    #[must_use]
    pub fn poll_transmit(&mut self, now: impl Into<Now>) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        self.poll_transmit_into(now, &mut out).then_some(out)
    }

    /// Writes the next packet into `out` (cleared first) and returns `true`,
    /// or returns `false` when there is nothing to send: queued requests,
    /// packed into a `msg_container` with acks, service answers and the
    /// keepalive ping when there is more than one message; or a stand-alone
    /// `msgs_ack` once acks are due.
    pub fn poll_transmit_into(&mut self, now: impl Into<Now>, out: &mut Vec<u8>) -> bool {
        let now = now.into();
        if !self.connected {
            return false;
        }
        self.refresh_salt(now);
        let mut items = std::mem::take(&mut self.outbox.items);
        self.gather(now, &mut items);
        if items.is_empty() {
            self.outbox.items = items;
            return false;
        }

        // Every message gets its msg_id and seqno in order; the container is
        // generated after its contents.
        let mut messages = std::mem::take(&mut self.outbox.messages);
        messages.clear();
        for item in items.drain(..) {
            let msg_id = self.msg_ids.next(now.wall);
            if let Item::Request(id) = &item {
                self.bind_for_msg_id(*id, msg_id);
            }
            let content = self.record(now, msg_id, &item);
            let seqno = self.seqno.next(content);
            messages.push((msg_id, seqno, item));
        }
        self.outbox.items = items;

        packet_start(out);
        let header = if messages.len() == 1 {
            let (msg_id, seqno, item) = &messages[0];
            out.extend_from_slice(self.item_body(item));
            (*msg_id, *seqno)
        } else {
            // service_messages, "Simple Container": "All messages in a
            // container must have msg_id lower than that of the container
            // itself." The container is not content-related (even seqno).
            let mut w = ContainerWriter::new(out);
            for (msg_id, seqno, item) in &messages {
                // At most MAX_CONTAINER_MESSAGES items were gathered, and a
                // body's length was checked when it was queued.
                let _ = w.push(*msg_id, *seqno, self.item_body(item));
            }
            w.finish();
            let cid = self.msg_ids.next(now.wall);
            let cseq = self.seqno.next(false);
            let mut ids = self.sent.spare_ids();
            ids.extend(messages.iter().map(|m| m.0));
            self.sent.record(cid, Sent::Container(ids));
            (cid, cseq)
        };
        messages.clear();
        self.outbox.messages = messages;
        let header = MessageHeader {
            salt: self.salt,
            session_id: self.session_id,
            msg_id: header.0,
            seqno: header.1,
        };
        match seal(
            &self.key,
            Direction::ClientToServer,
            &header,
            out,
            &mut self.rng,
        ) {
            Ok(()) => {
                self.stats.packets_sent += 1;
                true
            }
            // Only a length overflow can fail here; nothing sensible to send.
            Err(_) => false,
        }
    }

    fn item_body<'a>(&'a self, item: &'a Item) -> &'a [u8] {
        match item {
            Item::Request(id) => self.requests.get(id).map_or(&[], |r| r.wire_body()),
            Item::Acks => &self.outbox.ack_body,
            Item::Service(b) | Item::Keepalive(b) | Item::StateReq(b, _) => b,
        }
    }

    /// Collects what goes into the next packet: service answers, a state
    /// request, the keepalive, queued requests, and the acks, within the
    /// container limits (at most [`MAX_CONTAINER_MESSAGES`] messages, service
    /// ones included, and [`Config::max_container_bytes`](crate::session::Config::max_container_bytes);
    /// a single larger message still goes out on its own). What does not fit
    /// waits for the next packet. A request marked `solo` (its container drew
    /// "64: invalid container") goes alone.
    fn gather(&mut self, now: Now, items: &mut Vec<Item>) {
        items.clear();
        let binding = self.is_binding();
        if let Some(&id) = self.outbox.queue.front().filter(|_| !binding) {
            if self.requests.get(&id).is_some_and(|r| r.solo) && self.prepare_wire(id).is_some() {
                self.outbox.queue.pop_front();
                items.push(Item::Request(id));
                return;
            }
        }
        let max_msgs = self
            .config
            .max_container_messages
            .clamp(1, MAX_CONTAINER_MESSAGES);
        let max_bytes = self.config.max_container_bytes;
        // Room for the msgs_ack that rides along.
        let room = max_msgs.saturating_sub(1).max(1);
        let mut bytes = 0usize;
        let fits = |items: &Vec<Item>, bytes: usize, len: usize| {
            items.is_empty() || (items.len() < room && bytes + len <= max_bytes)
        };
        while let Some(len) = self.outbox.service.front().map(Vec::len) {
            if !fits(items, bytes, len) {
                break;
            }
            if let Some(body) = self.outbox.service.pop_front() {
                bytes += len;
                items.push(Item::Service(body));
            }
        }
        if !self.outbox.state_check.is_empty() && items.len() < room {
            // service_messages_about_messages: "If either party has not
            // received information on the status of its outgoing messages for
            // a while, it may explicitly request it from the other party:
            // msgs_state_req". "Max 8192 IDs are allowed per constructor."
            let n = self.outbox.state_check.len().min(MAX_IDS_PER_CONSTRUCTOR);
            let ids: Vec<i64> = self.outbox.state_check.drain(..n).collect();
            let body = types::MsgsStateReq {
                msg_ids: ids.clone(),
            }
            .to_bytes();
            bytes += body.len();
            items.push(Item::StateReq(body, ids));
        }
        if self.timers.keepalive_due && items.len() < room {
            self.timers.keepalive_due = false;
            self.timers.ping_counter = self.timers.ping_counter.wrapping_add(1);
            self.stats.keepalive_pings += 1;
            // service_messages, "Deferred Connection Closure + PING".
            let body = functions::PingDelayDisconnect {
                ping_id: self.timers.ping_counter,
                disconnect_delay: self.config.disconnect_delay_secs,
            }
            .to_bytes();
            bytes += body.len();
            items.push(Item::Keepalive(body));
        }

        if binding {
            // api/pfs: "An unbound temp_auth_key_id may only be used with
            // [...] auth.bindTempAuthKey": the binding goes alone, the
            // other queries wait for its answer.
            if let Some(id) = self.pending_bind() {
                if let Some(at) = self.outbox.queue.iter().position(|q| *q == id) {
                    if self.prepare_wire(id).is_some() {
                        self.outbox.queue.remove(at);
                        items.push(Item::Request(id));
                    }
                }
            }
        }
        while let Some(&id) = self.outbox.queue.front().filter(|_| !binding) {
            let Some(len) = self.prepare_wire(id) else {
                self.outbox.queue.pop_front();
                continue;
            };
            let solo = self.requests.get(&id).is_some_and(|r| r.solo);
            if solo || !fits(items, bytes, len) {
                break;
            }
            self.outbox.queue.pop_front();
            bytes += len;
            items.push(Item::Request(id));
        }

        // Acks ride along with anything else, or go alone when due.
        if !self.outbox.pending_acks.is_empty() && (!items.is_empty() || self.acks_due(now)) {
            let n = self.outbox.pending_acks.len().min(MAX_IDS_PER_CONSTRUCTOR);
            // Into the kept buffers: no allocation once they are grown.
            let mut ack = types::MsgsAck {
                msg_ids: std::mem::take(&mut self.outbox.ack_ids),
            };
            ack.msg_ids.clear();
            ack.msg_ids.extend(self.outbox.pending_acks.drain(..n));
            self.outbox.ack_body.clear();
            ack.serialize(&mut self.outbox.ack_body);
            self.outbox.ack_ids = ack.msg_ids;
            items.push(Item::Acks);
            if self.outbox.pending_acks.is_empty() {
                self.timers.ack_deadline = None;
            }
        }
    }

    /// Queues a service answer (msgs_state_info, msg_resend_req). The queue
    /// a server can make grow is bounded: past [`MAX_SERVICE_QUEUE`] answers
    /// waiting, new ones are dropped (the server may ask again).
    pub(super) fn push_service(&mut self, body: Vec<u8>) {
        if self.outbox.service.len() >= MAX_SERVICE_QUEUE {
            self.stats.service_dropped += 1;
            return;
        }
        self.outbox.service.push_back(body);
    }

    /// Records what `msg_id` carries; returns whether it is content-related.
    fn record(&mut self, now: Now, msg_id: i64, item: &Item) -> bool {
        match item {
            Item::Request(id) => {
                if let Some(r) = self.requests.get_mut(id) {
                    r.transmitted(msg_id);
                }
                self.sent.record(msg_id, Sent::Request(*id));
                true
            }
            Item::Service(_) | Item::Acks => {
                self.sent.record(msg_id, Sent::Service);
                false
            }
            Item::Keepalive(_) => {
                self.sent.record(msg_id, Sent::Keepalive);
                if let Some(t) = self.config.pong_timeout {
                    self.timers.pong_wait = Some((msg_id, now.mono.add(t)));
                }
                false
            }
            Item::StateReq(_, ids) => {
                self.sent.record(msg_id, Sent::StateReq(ids.clone()));
                false
            }
        }
    }

    /// Builds the body of `id` as it goes on the wire on this connection, on
    /// first use, and returns its length: the connection wrapper is applied
    /// to the first API query of a connection, then it is compressed when
    /// that pays (service_messages, "Packed Object": gzip_packed "may be used
    /// to transmit non-service messages (i. e. RPC queries) from client to
    /// server").
    fn prepare_wire(&mut self, id: RequestId) -> Option<usize> {
        let threshold = self.config.gzip_threshold;
        let r = self.requests.get_mut(&id)?;
        if r.wire.is_some() {
            return Some(r.wire_body().len());
        }
        let w = match r.kind {
            Kind::User => match (&self.outbox.wrapper, self.outbox.wrap_next) {
                (Some(f), true) => {
                    self.outbox.wrap_next = false;
                    Wire::Built(maybe_gzip(f(&r.body), threshold))
                }
                // Small bodies go as they are, without a copy.
                _ if r.body.len() < threshold => Wire::Body,
                _ => Wire::Built(maybe_gzip(r.body.clone(), threshold)),
            },
            // The binding's body is made for each msg_id when it goes out
            // (`bind_for_msg_id`); its length is fixed.
            Kind::Ping | Kind::FutureSalts | Kind::Bind => Wire::Body,
        };
        r.wire = Some(w);
        Some(r.wire_body().len())
    }
}
