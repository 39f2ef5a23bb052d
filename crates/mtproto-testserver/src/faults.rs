//! Scripted faults: what a test can make the server do wrong, and the
//! per-connection state that fires them. Nothing here is in the protocol
//! crates: the connection only offers an admission policy and plain server
//! operations (a new salt), which these faults use.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use mtproto_connection::{AdmissionPolicy, Connection};
use mtproto_session::session::Admission;
use mtproto_session::wire::BadMsgCode;
use rand::RngCore;

use crate::server::{Inner, ServerEvent};

/// Scripted faults. All off by default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Faults {
    /// Close a connection (without answering) when it has received this many
    /// requests...
    pub drop_after_requests: Option<u32>,
    /// ...at most this many times over the server's life (so the client's
    /// re-sent request then goes through).
    pub drop_times: u32,
    /// After this many requests on a connection, switch to a new random salt
    /// (the client then gets `bad_server_salt` and re-sends).
    pub rotate_salt_after_requests: Option<u32>,
    /// The server's clock runs this many seconds ahead (negative: behind).
    pub clock_skew_secs: i64,
    /// Answer the Nth encrypted packet of each connection (1-based) with a
    /// `bad_msg_notification` of this code instead of processing it.
    pub bad_msg_at_packet: Option<(u32, i32)>,
    /// Delay every answer by this much.
    pub answer_delay: Duration,
    /// Break this rule on every occurrence: a hostile server.
    pub violate: Option<crate::hostile::Rule>,
    /// Drop every Nth update pushed to a connection (1-based, counted per
    /// connection): the client must see the gap and fetch the difference.
    pub drop_pushes: Option<u32>,
    /// Push updates to each connection in swapped pairs (the second of two
    /// first): the client must put them back in order.
    pub reorder_pushes: bool,
    /// The Nth accepted `auth.bindTempAuthKey` (1-based, over the server's
    /// life) is carried out, then its connection closes before the answer
    /// goes out: the client must send the binding again, and keep its key.
    pub drop_bind_answer: Option<u32>,
}

/// One connection's pushed-update faults: which to drop, which to hold
/// back for a swap.
#[derive(Debug, Default)]
pub(crate) struct PushFaults {
    pushed: u32,
    held: Option<Vec<u8>>,
}

impl PushFaults {
    /// The updates to push now for one that arrived, after the faults.
    pub(crate) fn on_push(&mut self, faults: &Faults, update: Vec<u8>) -> Vec<Vec<u8>> {
        self.pushed = self.pushed.wrapping_add(1);
        if faults
            .drop_pushes
            .is_some_and(|n| n > 0 && self.pushed.is_multiple_of(n))
        {
            return Vec::new();
        }
        if !faults.reorder_pushes {
            return vec![update];
        }
        match self.held.take() {
            Some(first) => vec![update, first],
            None => {
                self.held = Some(update);
                Vec::new()
            }
        }
    }
}

/// What to do with a request after the faults had their say.
pub(crate) enum Verdict {
    /// Handle it.
    Handle,
    /// Close the connection without answering.
    Drop,
}

/// One connection's fault state.
pub(crate) struct ConnFaults {
    requests: u32,
}

impl ConnFaults {
    pub(crate) fn new() -> Self {
        Self { requests: 0 }
    }

    /// Whether the answer to a binding just carried out is to be lost
    /// ([`Faults::drop_bind_answer`]).
    pub(crate) fn drop_bind_answer(&self, inner: &Inner) -> bool {
        let Some(n) = inner.faults.drop_bind_answer else {
            return false;
        };
        inner.stats.bindings.load(Ordering::Relaxed) == u64::from(n)
            && inner
                .stats
                .bind_answers_dropped
                .compare_exchange(0, 1, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    /// The admission policy that answers the Nth decrypted packet with a
    /// bad_msg_notification, if that fault is set.
    pub(crate) fn admission(inner: &Arc<Inner>, peer: SocketAddr) -> Option<AdmissionPolicy> {
        let (at, code) = inner.faults.bad_msg_at_packet?;
        let inner = inner.clone();
        let mut packets = 0u32;
        Some(Box::new(move |_| {
            packets = packets.saturating_add(1);
            if packets == at {
                inner.emit(ServerEvent::Fault {
                    peer,
                    what: "bad_msg_notification",
                });
                Admission::Reject(BadMsgCode(code))
            } else {
                Admission::Process
            }
        }))
    }

    /// Counts a request and fires the request-count faults.
    pub(crate) fn on_request(
        &mut self,
        inner: &Inner,
        peer: SocketAddr,
        conn: &mut Connection,
    ) -> Verdict {
        self.requests = self.requests.saturating_add(1);
        let f = &inner.faults;
        if f.drop_after_requests == Some(self.requests) {
            let done = inner.stats.dropped.load(Ordering::Relaxed);
            if done < u64::from(f.drop_times)
                && inner
                    .stats
                    .dropped
                    .compare_exchange(done, done + 1, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
            {
                inner.emit(ServerEvent::Fault {
                    peer,
                    what: "drop connection",
                });
                return Verdict::Drop;
            }
        }
        if f.rotate_salt_after_requests == Some(self.requests) {
            let salt = i64::from_le_bytes(rand::rngs::OsRng.next_u64().to_le_bytes());
            if let Some(s) = conn.server_session_mut() {
                s.set_salt(salt);
            }
            if let Some(id) = conn.server_auth_key_id() {
                inner.set_salt(id, salt);
            }
            inner.emit(ServerEvent::Fault {
                peer,
                what: "rotate salt",
            });
        }
        Verdict::Handle
    }
}
