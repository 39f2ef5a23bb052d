//! A latency histogram in the manner of HdrHistogram: values below 128 are
//! counted exactly; above, each power of two is split into 64 buckets, so a
//! reported percentile is within 1/64 (1.6 %) of the true value, in a fixed
//! 3,776 counters whatever the range (0 to `u64::MAX`). Recording is one
//! index computation and one increment.

/// Exact below this.
const LINEAR: u64 = 128;
/// Buckets per power of two above [`LINEAR`].
const SUB: u64 = 64;
/// `LINEAR` exact counters, then 57 powers of two of `SUB` buckets.
const BUCKETS: usize = 128 + 57 * 64;

/// Counts of values (microseconds, say) with bounded relative error.
#[derive(Clone, Debug)]
pub(crate) struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            counts: vec![0; BUCKETS],
            total: 0,
            max: 0,
        }
    }
}

/// The bucket of `v`.
fn index(v: u64) -> usize {
    if v < LINEAR {
        return usize::try_from(v).unwrap_or(0);
    }
    // v >= 128: its top 7 bits (64..128) and how far they were shifted.
    let shift = 63 - v.leading_zeros() - 6;
    let top = v >> shift;
    let i = LINEAR + u64::from(shift - 1) * SUB + (top - SUB);
    usize::try_from(i).unwrap_or(BUCKETS - 1)
}

/// The largest value bucket `i` holds.
fn upper(i: usize) -> u64 {
    let i = i as u64;
    if i < LINEAR {
        return i;
    }
    let shift = (i - LINEAR) / SUB + 1;
    let top = (i - LINEAR) % SUB + SUB;
    // (top + 1) · 2^shift, less one; the top bucket ends at u64::MAX.
    (top + 1)
        .checked_mul(1u64 << shift.min(63))
        .map_or(u64::MAX, |v| v - 1)
}

impl Histogram {
    /// Counts one value.
    pub(crate) fn record(&mut self, v: u64) {
        if let Some(c) = self.counts.get_mut(index(v)) {
            *c += 1;
        }
        self.total += 1;
        self.max = self.max.max(v);
    }

    /// Adds another histogram's counts.
    pub(crate) fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
        self.max = self.max.max(other.max);
    }

    /// How many values were counted.
    pub(crate) fn len(&self) -> u64 {
        self.total
    }

    /// The largest value counted (exact).
    pub(crate) fn max(&self) -> u64 {
        self.max
    }

    /// The value at the quantile `per_mille`/1000 (500: the median, 990:
    /// p99): the upper end of the bucket holding the value of rank
    /// ⌈per_mille · n / 1000⌉, never above the exact maximum. 0 for an empty
    /// histogram.
    pub(crate) fn per_mille(&self, per_mille: u64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let n = u128::from(self.total) * u128::from(per_mille.min(1000));
        let rank = u64::try_from(n.div_ceil(1000)).unwrap_or(u64::MAX).max(1);
        let mut seen = 0u64;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return upper(i).min(self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_values_are_exact_and_large_ones_within_one_sixty_fourth() {
        for v in 0..128 {
            assert_eq!(upper(index(v)), v);
        }
        let mut v = 128u64;
        while v < u64::MAX / 3 {
            for x in [v, v + 1, v * 3 / 2, v * 2 - 1] {
                let u = upper(index(x));
                assert!(u >= x, "{x}: {u}");
                assert!((u - x) as f64 <= x as f64 / 64.0, "{x}: {u}");
            }
            v *= 2;
        }
        assert!(index(u64::MAX) < BUCKETS);
        assert_eq!(upper(index(u64::MAX)), u64::MAX);
    }

    #[test]
    fn percentiles_of_one_to_ten_thousand() {
        let mut h = Histogram::default();
        for v in 1..=10_000u64 {
            h.record(v);
        }
        assert_eq!(h.len(), 10_000);
        assert_eq!(h.max(), 10_000);
        for (p, want) in [(500, 5_000.0), (900, 9_000.0), (990, 9_900.0)] {
            let got = h.per_mille(p) as f64;
            assert!(
                got >= want && got <= want * (1.0 + 1.0 / 64.0),
                "p{p}: {got}"
            );
        }
        assert_eq!(h.per_mille(1000), 10_000);
        assert_eq!(h.per_mille(0), 1);
        let mut other = Histogram::default();
        other.record(1_000_000);
        h.merge(&other);
        assert_eq!(
            (h.len(), h.max(), h.per_mille(1000)),
            (10_001, 1_000_000, 1_000_000)
        );
        assert_eq!(Histogram::default().per_mille(500), 0);
    }
}
