//! The session's life across connections and keys: connection lost,
//! resumed on a new connection, a new session after a seqno error, a new
//! auth key. A new session always starts through [`ClientSession::start_new_session`].

use mtproto_crypto::AuthKey;
use rand::RngCore;

use super::{ClientSession, Kind, RequestId, SessionEvent};
use crate::wire::BadMsgCode;
use crate::Now;

impl ClientSession {
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
    pub fn connection_lost(&mut self, _now: impl Into<Now>) {
        self.connected = false;
        self.timers.stop_connection_timers();
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
    /// are dropped as duplicates ([`SessionStats::duplicate_answers`](super::SessionStats::duplicate_answers)).
    pub fn resume_on_new_connection(&mut self, now: impl Into<Now>) -> usize {
        let now = now.into();
        self.connected = true;
        self.conn_epoch = self.conn_epoch.wrapping_add(1);
        self.timers.stop_connection_timers();
        self.outbox.wrap_next = self.outbox.wrapper.is_some();
        let mut count = 0;
        for (id, r) in self.requests.iter_mut() {
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
                    self.outbox.state_check.push(m);
                }
            } else {
                r.queued = true;
                r.acked = false;
                self.outbox.queue.push_back(*id);
            }
        }
        // Oldest first, so the first query of the connection is the oldest.
        self.outbox.queue.make_contiguous().sort_unstable();
        self.stats.resumed += u64::try_from(count).unwrap_or(u64::MAX);
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
        // A binding was for the old key; the owner binds the new one.
        if let Some(id) = self.binding.take().and_then(|b| b.request) {
            self.requests.remove(&id);
            self.outbox.queue.retain(|q| *q != id);
        }
        self.future_salts.clear();
        // Nothing sent under the old key can be answered under the new one.
        self.sent.clear();
        self.timers.pong_wait = None;
        for r in self.requests.values_mut() {
            r.wire = None;
        }
        self.start_new_session()
    }

    /// A new session after the server's view of our seqno diverged
    /// (bad_msg_notification 32..=35).
    pub(super) fn reset_session(&mut self, code: BadMsgCode) {
        self.start_new_session();
        self.events.push_back(SessionEvent::SessionReset {
            session_id: self.session_id,
            code,
        });
    }

    /// The one path into a new session: a fresh session_id, seqno and msg_id
    /// floor from zero, no replay window, acks or service answers of the old
    /// one, and every transmitted request queued again (a new session is not
    /// a retry of the same message, so it does not count as a re-send).
    /// Returns how many requests had been transmitted.
    fn start_new_session(&mut self) -> usize {
        self.session_id = i64::from_le_bytes(self.rng.next_u64().to_le_bytes());
        self.seqno.reset();
        self.msg_ids.reset();
        self.replay.clear();
        self.outbox.clear_session_state();
        self.timers.ack_deadline = None;
        self.last_unique_id = None;
        let mut transmitted: Vec<RequestId> = Vec::new();
        for (id, r) in self.requests.iter_mut() {
            if !r.queued {
                r.requeue();
                transmitted.push(*id);
            }
        }
        self.outbox.queue.extend(transmitted.iter().copied());
        self.outbox.queue.make_contiguous().sort_unstable();
        transmitted.len()
    }
}
