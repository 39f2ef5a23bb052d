//! Bounds on everything a peer can make the server hold or do: connections,
//! handshakes, stored keys, buffered output, per-connection queues, time
//! without progress. The defaults and what happens at each limit are listed
//! in the crate's README.

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::server::Inner;

/// The server's limits ([`TestServerConfig::limits`](crate::TestServerConfig::limits)).
/// Every field has a realistic default; tests shrink them.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Connections open at once (default 1024). A connection over the limit
    /// is accepted, then closed at once.
    pub max_connections: usize,
    /// Connections open at once from one IP address (default 256).
    pub max_connections_per_ip: usize,
    /// Time from accept until the connection has a key, its own (handshake
    /// finished) or a saved one (first encrypted packet); and from a
    /// `req_pq_multi` that starts a handshake over until it finishes
    /// (default 10 s). Then the connection is closed.
    pub handshake_timeout: Duration,
    /// Handshakes in progress at once, server-wide (default 64). A connection
    /// starting one more is closed.
    pub max_handshakes_in_progress: usize,
    /// New handshakes per second, server-wide: a token bucket refilled at
    /// this rate (default 100). A connection starting a handshake with the
    /// bucket empty is closed.
    pub handshakes_per_sec: u32,
    /// The token bucket's size: handshakes that may start at once after a
    /// quiet period (default 200).
    pub handshake_burst: u32,
    /// Auth keys kept (default 10 000). When full, a new key evicts the least
    /// recently used one.
    pub max_auth_keys: usize,
    /// `FLOOD_WAIT` counters kept, one per (user_id, access_hash) (default
    /// 4096). When full, a new pair evicts an arbitrary one.
    pub max_flood_counters: usize,
    /// Largest transport frame accepted, bytes (default 16 MiB, the
    /// protocol's). A larger announced length closes the connection.
    pub max_frame_len: usize,
    /// Time a partial frame may stay incomplete, while the connection is
    /// read (default 30 s). Then the connection is closed.
    pub frame_timeout: Duration,
    /// Bytes of partial frames held for all connections together (default
    /// 128 MiB). A frame's header only announces its length and nothing is
    /// reserved for it; but 50 peers sending all but the last bytes of 16 MiB
    /// frames would make the server hold 800 MiB. A connection whose bytes
    /// take the total over this is closed.
    pub max_inbound_total: usize,
    /// Output not yet taken by the peer above which the connection is no
    /// longer read (default 1 MiB).
    pub output_pause: usize,
    /// Output not yet taken by the peer at which the connection is closed
    /// (default 8 MiB).
    pub output_max: usize,
    /// Time the output may stay above [`output_pause`](Self::output_pause)
    /// (default 30 s). Then the connection is closed.
    pub output_stall_timeout: Duration,
    /// Answers held back by [`Faults::answer_delay`](crate::Faults) per
    /// connection (default 256). At the limit the connection is no longer
    /// read; answers beyond it go out without the delay.
    pub max_delayed_answers: usize,
    /// How many connections may process received bytes at once, server-wide
    /// (default 2). That is where the heavy work happens (inflating
    /// `gzip_packed` up to the 16 MiB amplification bound, RSA and DH), so
    /// this bounds the memory and CPU it takes however many connections
    /// send bombs at once; the others wait their turn (on the blocking pool,
    /// never stalling the runtime).
    pub max_parallel_processing: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            max_connections_per_ip: 256,
            handshake_timeout: Duration::from_secs(10),
            max_handshakes_in_progress: 64,
            handshakes_per_sec: 100,
            handshake_burst: 200,
            max_auth_keys: 10_000,
            max_flood_counters: 4096,
            max_frame_len: mtproto_transport::DEFAULT_MAX_FRAME_LEN,
            frame_timeout: Duration::from_secs(30),
            max_inbound_total: 128 << 20,
            output_pause: 1 << 20,
            output_max: 8 << 20,
            output_stall_timeout: Duration::from_secs(30),
            max_delayed_answers: 256,
            max_parallel_processing: 2,
        }
    }
}

impl Limits {
    /// Room for a load run of up to `connections` connections from one
    /// address (`mtproto bench`, `mtproto serve --max-connections`): that
    /// many connections and keys, and no handshake rate limit to speak of;
    /// every other limit as by default.
    pub fn for_load(connections: usize) -> Self {
        Self {
            max_connections: connections,
            max_connections_per_ip: connections,
            handshakes_per_sec: 1_000_000,
            handshake_burst: 1_000_000,
            max_handshakes_in_progress: 1024,
            max_auth_keys: connections.saturating_mul(2),
            ..Self::default()
        }
    }
}

/// Open connections, in total and per source address.
#[derive(Debug, Default)]
pub(crate) struct ConnCounts {
    total: usize,
    /// Only addresses with open connections (at most `max_connections` entries).
    per_ip: std::collections::HashMap<IpAddr, usize>,
}

impl ConnCounts {
    /// Connections open now.
    pub(crate) fn total(&self) -> usize {
        self.total
    }
}

/// A connection's place under the connection limits, given back on drop.
#[derive(Debug)]
pub(crate) struct ConnSlot {
    inner: Arc<Inner>,
    ip: IpAddr,
}

impl ConnSlot {
    /// A place for a connection from `ip`, if both limits allow one.
    pub(crate) fn take(inner: &Arc<Inner>, ip: IpAddr) -> Option<ConnSlot> {
        let limits = &inner.limits;
        let mut c = lock(&inner.conns);
        let here = c.per_ip.get(&ip).copied().unwrap_or(0);
        if c.total >= limits.max_connections || here >= limits.max_connections_per_ip {
            return None;
        }
        c.total += 1;
        c.per_ip.insert(ip, here + 1);
        Some(ConnSlot {
            inner: inner.clone(),
            ip,
        })
    }
}

impl Drop for ConnSlot {
    fn drop(&mut self) {
        let mut c = lock(&self.inner.conns);
        c.total = c.total.saturating_sub(1);
        if let Some(n) = c.per_ip.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                c.per_ip.remove(&self.ip);
            }
        }
    }
}

/// A handshake's place under `max_handshakes_in_progress`, given back on drop.
#[derive(Debug)]
pub(crate) struct HandshakeSlot {
    count: Arc<AtomicUsize>,
}

impl HandshakeSlot {
    /// A place for one more handshake, if the limit allows it.
    pub(crate) fn take(count: &Arc<AtomicUsize>, max: usize) -> Option<HandshakeSlot> {
        count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| HandshakeSlot {
                count: count.clone(),
            })
    }
}

impl Drop for HandshakeSlot {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A connection's share of `max_inbound_total`: the bytes of its partial
/// frame, counted in the server-wide total until updated or dropped.
#[derive(Debug)]
pub(crate) struct InboundShare {
    total: Arc<AtomicUsize>,
    held: usize,
}

impl InboundShare {
    /// Nothing held yet.
    pub(crate) fn new(total: &Arc<AtomicUsize>) -> Self {
        Self {
            total: total.clone(),
            held: 0,
        }
    }

    /// This connection now holds `bytes`; returns the server-wide total if
    /// it grew, `None` if it shrank or stayed.
    pub(crate) fn set(&mut self, bytes: usize) -> Option<usize> {
        let old = std::mem::replace(&mut self.held, bytes);
        if bytes > old {
            let d = bytes - old;
            Some(self.total.fetch_add(d, Ordering::AcqRel).saturating_add(d))
        } else {
            self.total.fetch_sub(old - bytes, Ordering::AcqRel);
            None
        }
    }
}

impl Drop for InboundShare {
    fn drop(&mut self) {
        self.total.fetch_sub(self.held, Ordering::AcqRel);
    }
}

/// A token bucket: `rate` tokens a second, at most `burst` saved up.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    tokens: f64,
    rate: f64,
    burst: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub(crate) fn new(rate: u32, burst: u32) -> Self {
        Self {
            tokens: f64::from(burst),
            rate: f64::from(rate),
            burst: f64::from(burst),
            last: Instant::now(),
        }
    }

    /// Takes a token at `now` if there is one.
    pub(crate) fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = self.last.max(now);
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Locks a mutex, also after a panic elsewhere (the data is counters and
/// caches: still usable).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_refills_at_its_rate_up_to_its_burst() {
        let mut b = TokenBucket::new(10, 3);
        let t0 = b.last;
        assert!(b.take(t0) && b.take(t0) && b.take(t0));
        assert!(!b.take(t0));
        assert!(b.take(t0 + Duration::from_millis(100)));
        assert!(!b.take(t0 + Duration::from_millis(100)));
        // a long pause saves up no more than the burst
        let later = t0 + Duration::from_secs(100);
        assert!(b.take(later) && b.take(later) && b.take(later));
        assert!(!b.take(later));
    }

    #[test]
    fn inbound_shares_add_up_and_are_given_back() {
        let total = Arc::new(AtomicUsize::new(0));
        let mut a = InboundShare::new(&total);
        let mut b = InboundShare::new(&total);
        assert_eq!(a.set(100), Some(100));
        assert_eq!(b.set(50), Some(150));
        assert_eq!(a.set(10), None);
        assert_eq!(total.load(Ordering::Acquire), 60);
        drop(b);
        assert_eq!(total.load(Ordering::Acquire), 10);
        drop(a);
        assert_eq!(total.load(Ordering::Acquire), 0);
    }

    #[test]
    fn handshake_slots_are_given_back() {
        let c = Arc::new(AtomicUsize::new(0));
        let a = HandshakeSlot::take(&c, 2);
        let b = HandshakeSlot::take(&c, 2);
        assert!(a.is_some() && b.is_some());
        assert!(HandshakeSlot::take(&c, 2).is_none());
        drop(a);
        assert!(HandshakeSlot::take(&c, 2).is_some());
        drop(b);
        assert_eq!(c.load(Ordering::Acquire), 0);
    }
}
