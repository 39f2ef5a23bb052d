//! The window of recently received msg_ids.

use std::collections::VecDeque;

use crate::msg_id::{from_key, msg_id_key};

/// description, "Important Checks": "the identifiers (msg_id) of the last N
/// messages received from the other side must be stored, and if a message
/// comes in with msg_id lower than all or equal to any of the stored values,
/// the message is to be ignored. Otherwise, the new message msg_id is added
/// to the set, and, if the number of stored msg_id values is greater than
/// N, the oldest (i. e. the lowest) is forgotten."
#[derive(Clone, Debug)]
pub(crate) struct ReplayWindow {
    /// (msg_id as its unsigned key, the order of time; the connection, an
    /// epoch number the owner chooses, it arrived on), in key order. A ring
    /// buffer: msg_ids mostly arrive in order, so each is added at the back
    /// and the oldest dropped from the front, and once it has grown to the
    /// cap nothing is allocated (a B-tree allocated a node every few ids).
    ids: VecDeque<(u64, u32)>,
    cap: usize,
}

impl ReplayWindow {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            ids: VecDeque::new(),
            cap: cap.max(1),
        }
    }

    /// Where key `k` is (`Ok`) or would go (`Err`).
    fn find(&self, k: u64) -> Result<usize, usize> {
        self.ids.binary_search_by_key(&k, |&(key, _)| key)
    }

    /// Whether `id` would be accepted (not a duplicate, not below a full window).
    pub(crate) fn is_fresh(&self, id: i64) -> bool {
        let k = msg_id_key(id);
        if self.find(k).is_ok() {
            return false;
        }
        match self.ids.front() {
            Some(&(min, _)) if self.ids.len() >= self.cap => k > min,
            _ => true,
        }
    }

    /// Whether `id` was received on connection `epoch`.
    pub(crate) fn seen_on(&self, id: i64, epoch: u32) -> bool {
        self.find(msg_id_key(id))
            .ok()
            .and_then(|i| self.ids.get(i))
            .is_some_and(|&(_, e)| e == epoch)
    }

    #[cfg(feature = "server")]
    /// Whether the window is full and `id` is below all of it: the sender
    /// cannot be told apart from a replay, so it must be refused as "too
    /// low" (the message is not processed).
    pub(crate) fn below_full_window(&self, id: i64) -> bool {
        self.ids.len() >= self.cap
            && self
                .ids
                .front()
                .is_some_and(|&(min, _)| msg_id_key(id) < min)
    }

    /// Checks and records `id`, received on connection `epoch`; `false`
    /// means it must be ignored.
    pub(crate) fn insert(&mut self, id: i64, epoch: u32) -> bool {
        if !self.is_fresh(id) {
            return false;
        }
        let k = msg_id_key(id);
        match self.find(k) {
            Ok(_) => return false,
            // In order (the usual case): at the back.
            Err(at) if at == self.ids.len() => self.ids.push_back((k, epoch)),
            // Out of order: a shift of at most the shorter side (the window
            // is capped).
            Err(at) => self.ids.insert(at, (k, epoch)),
        }
        while self.ids.len() > self.cap {
            self.ids.pop_front();
        }
        true
    }

    pub(crate) fn contains(&self, id: i64) -> bool {
        self.find(msg_id_key(id)).is_ok()
    }

    pub(crate) fn min(&self) -> Option<i64> {
        self.ids.front().map(|&(k, _)| from_key(k))
    }

    pub(crate) fn max(&self) -> Option<i64> {
        self.ids.back().map(|&(k, _)| from_key(k))
    }

    pub(crate) fn clear(&mut self) {
        self.ids.clear();
    }

    /// msgs_state_info status byte for `id` (service_messages_about_messages):
    /// "1 = nothing is known about the message (msg_id too low [...]);
    /// 2 = message not received (msg_id falls within the range of stored
    /// identifiers [...]); 3 = message not received (msg_id too high [...]);
    /// 4 = message received".
    pub(crate) fn state_of(&self, id: i64) -> u8 {
        if self.contains(id) {
            return 4;
        }
        let k = msg_id_key(id);
        match (self.min().map(msg_id_key), self.max().map(msg_id_key)) {
            (Some(min), _) if k < min => 1,
            (_, Some(max)) if k > max => 3,
            (Some(_), Some(_)) => 2,
            _ => 3,
        }
    }
}

#[cfg(feature = "server")]
/// The replay window of one auth key, shared by every connection and
/// session on it (server role): a client packet captured on one connection
/// and written again on another, or after a new session starts, within the
/// time window, is not executed again. Cheap to clone (one shared window).
#[derive(Clone, Debug)]
pub struct KeyReplayWindow(std::sync::Arc<std::sync::Mutex<ReplayWindow>>);

#[cfg(feature = "server")]
impl KeyReplayWindow {
    /// A window remembering the last `cap` msg_ids received under the key.
    pub fn new(cap: usize) -> Self {
        Self(std::sync::Arc::new(std::sync::Mutex::new(
            ReplayWindow::new(cap),
        )))
    }

    /// Runs `f` on the window (a poisoned lock is still usable: the window
    /// holds no invariant a panic could break halfway).
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut ReplayWindow) -> T) -> T {
        let mut guard = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_and_too_low_are_refused() {
        let mut w = ReplayWindow::new(3);
        assert!(w.insert(10, 0));
        assert!(!w.insert(10, 1));
        assert!(w.seen_on(10, 0) && !w.seen_on(10, 1));
        assert!(w.insert(5, 0)); // not full yet: lower is fine
        assert!(w.insert(20, 0));
        assert!(!w.insert(4, 0)); // full, lower than all
        assert!(w.below_full_window(4));
        assert!(w.insert(30, 0)); // evicts 5
        assert_eq!(w.min(), Some(10));
        assert!(!w.insert(7, 0));
        assert!(w.insert(25, 0));
        assert_eq!(w.state_of(25), 4);
        assert_eq!(w.state_of(1), 1);
        assert_eq!(w.state_of(99), 3);
        assert_eq!(w.state_of(26), 2);
    }
}
