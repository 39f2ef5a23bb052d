//! The window of recently received msg_ids.

use std::collections::BTreeSet;

/// description, "Important Checks": "the identifiers (msg_id) of the last N
/// messages received from the other side must be stored, and if a message
/// comes in with msg_id lower than all or equal to any of the stored values,
/// the message is to be ignored. Otherwise, the new message msg_id is added
/// to the set, and, if the number of stored msg_id values is greater than
/// N, the oldest (i. e. the lowest) is forgotten."
#[derive(Clone, Debug)]
pub(crate) struct ReplayWindow {
    ids: BTreeSet<i64>,
    cap: usize,
}

impl ReplayWindow {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            ids: BTreeSet::new(),
            cap: cap.max(1),
        }
    }

    /// Whether `id` would be accepted (not a duplicate, not below a full window).
    pub(crate) fn is_fresh(&self, id: i64) -> bool {
        if self.ids.contains(&id) {
            return false;
        }
        match self.ids.first() {
            Some(&min) if self.ids.len() >= self.cap => id > min,
            _ => true,
        }
    }

    /// Checks and records `id`; `false` means it must be ignored.
    pub(crate) fn insert(&mut self, id: i64) -> bool {
        if !self.is_fresh(id) {
            return false;
        }
        self.ids.insert(id);
        while self.ids.len() > self.cap {
            self.ids.pop_first();
        }
        true
    }

    pub(crate) fn contains(&self, id: i64) -> bool {
        self.ids.contains(&id)
    }

    pub(crate) fn min(&self) -> Option<i64> {
        self.ids.first().copied()
    }

    pub(crate) fn max(&self) -> Option<i64> {
        self.ids.last().copied()
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
        match (self.min(), self.max()) {
            (Some(min), _) if id < min => 1,
            (_, Some(max)) if id > max => 3,
            (Some(_), Some(_)) => 2,
            _ => 3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_and_too_low_are_refused() {
        let mut w = ReplayWindow::new(3);
        assert!(w.insert(10));
        assert!(!w.insert(10));
        assert!(w.insert(5)); // not full yet: lower is fine
        assert!(w.insert(20));
        assert!(!w.insert(4)); // full, lower than all
        assert!(w.insert(30)); // evicts 5
        assert_eq!(w.min(), Some(10));
        assert!(!w.insert(7));
        assert!(w.insert(25));
        assert_eq!(w.state_of(25), 4);
        assert_eq!(w.state_of(1), 1);
        assert_eq!(w.state_of(99), 3);
        assert_eq!(w.state_of(26), 2);
    }
}
