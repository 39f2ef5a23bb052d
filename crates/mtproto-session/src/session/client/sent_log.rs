//! What each recently sent msg_id carried.

use std::collections::{HashMap, VecDeque};

use crate::session::RequestId;

/// How many sent msg_ids are remembered (to recognise answers and
/// notifications about "a message [the client has] recently sent").
const SENT_LOG_CAP: usize = 16_384;

/// What a sent msg_id was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Sent {
    /// A transmission of a request.
    Request(RequestId),
    /// A container of these msg_ids.
    Container(Vec<i64>),
    /// msgs_ack, msgs_state_info, msg_resend_req.
    Service,
    /// The keepalive `ping_delay_disconnect`.
    Keepalive,
    /// A msgs_state_req about these msg_ids (of our own requests).
    StateReq(Vec<i64>),
    /// A transmission of a request that has been answered: a second answer
    /// to it is a duplicate and is dropped.
    Answered,
}

/// The sent log: msg_id → what it carried, oldest forgotten first.
#[derive(Debug, Default)]
pub(super) struct SentLog {
    sent: HashMap<i64, Sent>,
    order: VecDeque<i64>,
    /// Id lists of forgotten containers and state requests, cleared, for
    /// the next ones (so recording them allocates nothing once warm).
    spare: Vec<Vec<i64>>,
}

/// Most spare id lists kept.
const MAX_SPARE: usize = 64;

impl SentLog {
    /// Remembers `msg_id`, forgetting the oldest beyond the cap.
    pub(super) fn record(&mut self, msg_id: i64, what: Sent) {
        self.sent.insert(msg_id, what);
        self.order.push_back(msg_id);
        while self.order.len() > SENT_LOG_CAP {
            if let Some(old) = self.order.pop_front() {
                if let Some(Sent::Container(mut ids) | Sent::StateReq(mut ids)) =
                    self.sent.remove(&old)
                {
                    if self.spare.len() < MAX_SPARE {
                        ids.clear();
                        self.spare.push(ids);
                    }
                }
            }
        }
    }

    /// An empty id list, reused if one is spare.
    pub(super) fn spare_ids(&mut self) -> Vec<i64> {
        self.spare.pop().unwrap_or_default()
    }

    /// What `msg_id` carried, if it is remembered.
    pub(super) fn get(&self, msg_id: i64) -> Option<&Sent> {
        self.sent.get(&msg_id)
    }

    /// Whether `msg_id` was recently sent.
    pub(super) fn contains(&self, msg_id: i64) -> bool {
        self.sent.contains_key(&msg_id)
    }

    /// Marks the transmissions `msg_ids` of an answered request.
    pub(super) fn mark_answered(&mut self, msg_ids: &[i64]) {
        for m in msg_ids {
            if let Some(s) = self.sent.get_mut(m) {
                *s = Sent::Answered;
            }
        }
    }

    /// Forgets everything (a new auth key).
    pub(super) fn clear(&mut self) {
        self.sent.clear();
        self.order.clear();
    }
}
