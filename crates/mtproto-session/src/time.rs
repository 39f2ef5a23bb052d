//! Time as the caller passes it in.
//!
//! The core never reads a clock. It is given two kinds of time:
//!
//! - [`Timestamp`], the **wall clock** (Unix time). MTProto needs it for two
//!   things only: msg_ids ("must approximately equal unixtime*2^32") and the
//!   check that an incoming msg_id lies in the accepted time window.
//! - [`Monotonic`], a **monotonic clock** with an arbitrary origin. Every
//!   timer runs on it: request deadlines, the keepalive ping, the pong wait,
//!   the delayed ack. A wall-clock step (NTP, a user changing the time) can
//!   therefore neither fire a timer early nor hold one back.
//!
//! [`Now`] carries both readings of one instant. Tests and simulators that
//! need only one clock convert a [`Timestamp`] into a [`Now`] whose
//! monotonic reading equals the wall reading.

use core::time::Duration;

/// A point in wall-clock time: nanoseconds since the Unix epoch.
///
/// The caller supplies it (from `SystemTime::now()` in production, or from a
/// virtual clock in tests); the core never reads a clock itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// A timestamp `secs` seconds after the epoch.
    pub const fn from_secs(secs: u64) -> Self {
        Timestamp(secs.saturating_mul(1_000_000_000))
    }

    /// Whole seconds since the epoch.
    pub const fn as_secs(self) -> u64 {
        self.0 / 1_000_000_000
    }

    /// Nanoseconds within the current second.
    pub const fn subsec_nanos(self) -> u32 {
        // The remainder is below 10^9, so it always fits.
        (self.0 % 1_000_000_000) as u32
    }

    /// This timestamp plus `d` (saturating).
    #[allow(clippy::should_implement_trait)] // saturating, and takes a Duration
    pub fn add(self, d: Duration) -> Self {
        Timestamp(self.0.saturating_add(saturating_nanos(d)))
    }

    /// Time elapsed from `earlier` to `self` (zero if `earlier` is later).
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

/// A reading of a monotonic clock: nanoseconds since an origin the caller
/// chooses (its process start, a virtual clock's zero). Only differences
/// between readings of the same clock mean anything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Monotonic(pub u64);

impl Monotonic {
    /// This reading plus `d` (saturating).
    #[allow(clippy::should_implement_trait)] // saturating, and takes a Duration
    pub fn add(self, d: Duration) -> Self {
        Monotonic(self.0.saturating_add(saturating_nanos(d)))
    }

    /// Time elapsed from `earlier` to `self` (zero if `earlier` is later).
    pub fn since(self, earlier: Monotonic) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    /// A reading `d` after the origin.
    pub fn from_duration(d: Duration) -> Self {
        Monotonic(saturating_nanos(d))
    }
}

/// One instant as both clocks read it; every sans-IO entry point takes it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Now {
    /// The wall clock: for msg_ids and the time-window check only.
    pub wall: Timestamp,
    /// The monotonic clock: for every timer.
    pub mono: Monotonic,
}

impl Now {
    /// Both readings.
    pub const fn new(wall: Timestamp, mono: Monotonic) -> Self {
        Self { wall, mono }
    }

    /// Both clocks advanced by `d`.
    #[allow(clippy::should_implement_trait)] // saturating, and takes a Duration
    pub fn add(self, d: Duration) -> Self {
        Self {
            wall: self.wall.add(d),
            mono: self.mono.add(d),
        }
    }
}

impl From<Timestamp> for Now {
    /// One clock for both (tests, simulators): the monotonic reading is the
    /// wall reading.
    fn from(wall: Timestamp) -> Self {
        Self {
            wall,
            mono: Monotonic(wall.0),
        }
    }
}

fn saturating_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
