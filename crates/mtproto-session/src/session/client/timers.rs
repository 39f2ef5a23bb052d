//! The client's timers, all on the monotonic clock: request deadlines, the
//! keepalive ping, the wait for its pong, and the delayed ack. A step of
//! the wall clock moves none of them.

use super::{ClientSession, RequestError, RequestId, SessionEvent};
use crate::{Monotonic, Now};

/// Timer state (request deadlines live on the requests themselves).
#[derive(Debug, Default)]
pub(super) struct Timers {
    /// When the next keepalive ping is due.
    pub(super) next_ping_at: Option<Monotonic>,
    /// The keepalive ping is due: the next packet carries it.
    pub(super) keepalive_due: bool,
    /// The last keepalive ping_id.
    pub(super) ping_counter: i64,
    /// The keepalive ping waiting for its pong: (msg_id, deadline).
    pub(super) pong_wait: Option<(i64, Monotonic)>,
    /// When the pending acks must go out even alone.
    pub(super) ack_deadline: Option<Monotonic>,
}

impl Timers {
    /// Stops the connection's timers (keepalive, pong wait).
    pub(super) fn stop_connection_timers(&mut self) {
        self.keepalive_due = false;
        self.next_ping_at = None;
        self.pong_wait = None;
    }
}

impl ClientSession {
    /// When [`handle_timeout`](Self::handle_timeout) must next be called, on
    /// the monotonic clock: the earliest request deadline, keepalive ping,
    /// pong wait or delayed ack.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Monotonic> {
        let deadlines = self.requests.values().map(|r| r.deadline);
        if !self.connected {
            // Nothing is sent while disconnected: only requests expire.
            return deadlines.min();
        }
        let t = &self.timers;
        deadlines
            .chain(t.next_ping_at)
            .chain(t.ack_deadline)
            .chain(t.pong_wait.map(|(_, d)| d))
            .min()
    }

    /// Advances timers to `now`: fails requests past their deadline (each
    /// exactly once), schedules the keepalive ping, makes delayed acks due,
    /// and reports a connection whose keepalive got no pong.
    pub fn handle_timeout(&mut self, now: impl Into<Now>) {
        let now = now.into();
        let expired: Vec<RequestId> = self
            .requests
            .iter()
            .filter(|(_, r)| r.deadline <= now.mono)
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
        if let Some((_, deadline)) = self.timers.pong_wait {
            if deadline <= now.mono {
                self.timers.pong_wait = None;
                self.events.push_back(SessionEvent::ConnectionDead);
            }
        }
        if self.config.ping_interval.is_none() {
            self.timers.next_ping_at = None;
        }
        if let (Some(at), Some(iv)) = (self.timers.next_ping_at, self.config.ping_interval) {
            if at <= now.mono {
                self.timers.keepalive_due = true;
                self.timers.next_ping_at = Some(now.mono.add(iv));
            }
        }
        self.ensure_ping_timer(now);
    }

    /// Starts the keepalive timer if it is not running.
    pub(super) fn ensure_ping_timer(&mut self, now: Now) {
        if self.timers.next_ping_at.is_none() && self.connected {
            if let Some(iv) = self.config.ping_interval {
                self.timers.next_ping_at = Some(now.mono.add(iv));
            }
        }
    }

    /// Whether the pending acks must go out now, even alone.
    pub(super) fn acks_due(&self, now: Now) -> bool {
        self.timers.ack_deadline.is_some_and(|d| d <= now.mono)
            || self.outbox.pending_acks.len() >= self.config.max_pending_acks
    }
}
