//! Factorization of the handshake's `pq` (auth_key.html step 3): "pq is a
//! representation of a natural number (in binary big endian format). This
//! number is the product of two different odd prime numbers. Normally, pq is
//! less than or equal to 2^63-1."
//!
//! Any `u64` is accepted, including values above 2^63. Primality is decided
//! by a deterministic Miller-Rabin for `u64`. A `pq` that does split into two
//! primes but not into two *different odd* ones (`p * p`, `2 * q`) is refused
//! with [`PqError::NotDistinctOddPrimes`]. Perfect squares are found by an
//! integer square root; everything else goes to Lenstra's elliptic-curve
//! method on x-only Montgomery curves (Suyama's parametrization, stage 1 to
//! B1 = 165, baby-step giant-step stage 2 to B2 = 6000, 64-bit Montgomery
//! arithmetic with u128 products). For balanced 63-bit semiprimes this was
//! measured about 8x faster than Pollard-Brent (median over 101 seeded random
//! semiprimes: ECM ~50 us, Pollard-Brent ~420 us; `factorize` over the same
//! kind of inputs is in `MIN_OF_N=pq cargo bench --bench crypto`). If no
//! curve out of 200 splits `pq`, Pollard-Brent (several interleaved walks)
//! takes over, and its work is capped too, so every input returns in bounded
//! time.

use core::fmt;

/// Why `pq` could not be split into two primes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PqError {
    /// pq is 0 or 1.
    TooSmall,
    /// pq is prime.
    Prime,
    /// pq has more than two prime factors.
    TooManyFactors,
    /// pq is the product of two primes, but they are equal or one of them is
    /// 2, against "the product of two different odd prime numbers". The
    /// factors are public (pq travels in the clear); `p <= q`.
    NotDistinctOddPrimes {
        /// The smaller factor.
        p: u64,
        /// The larger factor.
        q: u64,
    },
    /// The byte string is empty or longer than 8 significant bytes.
    BadEncoding,
    /// No factor found within the work bound (not expected for valid input).
    GaveUp,
}

impl fmt::Display for PqError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PqError::TooSmall => "pq is 0 or 1",
            PqError::Prime => "pq is prime",
            PqError::TooManyFactors => "pq has more than two prime factors",
            PqError::NotDistinctOddPrimes { p, q } => {
                return write!(
                    f,
                    "pq = {p} * {q} is not the product of two different odd primes"
                );
            }
            PqError::BadEncoding => "pq must be 1..=8 significant big-endian bytes",
            PqError::GaveUp => "pq factorization exceeded its work bound",
        })
    }
}

impl std::error::Error for PqError {}

/// Montgomery arithmetic modulo an odd `n` (R = 2^64). Values are kept in [0, n).
#[derive(Clone, Copy)]
struct Mont {
    n: u64,
    /// n^-1 mod 2^64
    ninv: u64,
    /// R mod n (Montgomery form of 1)
    one: u64,
    /// R^2 mod n
    r2: u64,
}

impl Mont {
    fn new(n: u64) -> Self {
        // Newton iteration: each step doubles the number of correct low bits (n odd).
        let mut inv = n;
        for _ in 0..5 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(n.wrapping_mul(inv)));
        }
        // 2^64 mod n = ((2^64 - 1) mod n + 1) mod n, without leaving u64.
        let one = (u64::MAX % n + 1) % n;
        let r2 = mul_mod(one, one, n);
        Mont {
            n,
            ninv: inv,
            one,
            r2,
        }
    }

    /// REDC for t < n * 2^64: returns t * 2^-64 mod n in [0, n).
    #[inline(always)]
    fn redc(&self, t: u128) -> u64 {
        // The low 64-bit word of t, on purpose (the high word is taken below).
        #[allow(clippy::cast_possible_truncation)]
        let lo = t as u64;
        let hi = (t >> 64) as u64;
        let m = lo.wrapping_mul(self.ninv);
        let mn_hi = ((m as u128 * self.n as u128) >> 64) as u64;
        // t - m*n is divisible by 2^64 and its low word is 0, so only the high words matter.
        let (r, borrow) = hi.overflowing_sub(mn_hi);
        if borrow {
            r.wrapping_add(self.n)
        } else {
            r
        }
    }

    #[inline(always)]
    fn mul(&self, a: u64, b: u64) -> u64 {
        self.redc(a as u128 * b as u128)
    }

    #[inline(always)]
    fn add(&self, a: u64, b: u64) -> u64 {
        // a, b < n
        let (s, carry) = a.overflowing_add(b);
        if carry || s >= self.n {
            s.wrapping_sub(self.n)
        } else {
            s
        }
    }

    #[inline(always)]
    fn sub(&self, a: u64, b: u64) -> u64 {
        // a, b < n
        let (d, borrow) = a.overflowing_sub(b);
        if borrow {
            d.wrapping_add(self.n)
        } else {
            d
        }
    }

    /// Leaves the Montgomery domain: a * 2^-64 mod n.
    fn leave(&self, a: u64) -> u64 {
        self.redc(a as u128)
    }

    fn enter(&self, a: u64) -> u64 {
        self.mul(a % self.n, self.r2)
    }

    fn pow(&self, mut base: u64, mut e: u64) -> u64 {
        let mut acc = self.one;
        while e > 0 {
            if e & 1 == 1 {
                acc = self.mul(acc, base);
            }
            base = self.mul(base, base);
            e >>= 1;
        }
        acc
    }
}

/// `a * b mod n` through a u128 product (`n > 0`).
// The remainder is below n <= u64::MAX, so the cast cannot truncate.
#[allow(clippy::cast_possible_truncation)]
fn mul_mod(a: u64, b: u64, n: u64) -> u64 {
    (u128::from(a) * u128::from(b) % u128::from(n)) as u64
}

const SMALL_PRIMES: [u64; 15] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47];

/// Deterministic primality test for any `u64` (Miller-Rabin with the
/// bases 2, 3, 5, ..., 37, which is exact below 3.3 * 10^24).
pub fn is_prime_u64(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    for p in SMALL_PRIMES {
        if n == p {
            return true;
        }
        if n.is_multiple_of(p) {
            return false;
        }
    }
    let m = Mont::new(n);
    let s = (n - 1).trailing_zeros();
    let d = (n - 1) >> s;
    let minus_one = m.n - m.one; // Montgomery form of n - 1
    'bases: for a in [2u64, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37] {
        let mut x = m.pow(m.enter(a), d);
        if x == m.one || x == minus_one {
            continue;
        }
        for _ in 1..s {
            x = m.mul(x, x);
            if x == minus_one {
                continue 'bases;
            }
        }
        return false;
    }
    true
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    if a == 0 {
        return b;
    }
    if b == 0 {
        return a;
    }
    let shift = (a | b).trailing_zeros();
    a >>= a.trailing_zeros();
    loop {
        b >>= b.trailing_zeros();
        if a > b {
            core::mem::swap(&mut a, &mut b);
        }
        b -= a;
        if b == 0 {
            return a << shift;
        }
    }
}

/// Total rho steps allowed per attempt; a 64-bit semiprime needs ~2^16.
const MAX_STEPS: u64 = 1 << 22;
/// Gcd batch size.
const BATCH: u64 = 128;

/// One Pollard-Brent run with f(y) = y^2 + c (Montgomery domain). Returns a
/// nontrivial factor, or None if this (c, start) pair failed or ran out of steps.
fn brent(n: u64, c: u64, start: u64) -> Option<u64> {
    let m = Mont::new(n);
    let c = m.enter(c);
    let f = |y: u64| m.add(m.mul(y, y), c);
    let mut y = m.enter(start);
    let mut x = y;
    let mut ys = y;
    let mut q = m.one;
    let mut g = 1u64;
    let mut r = 1u64;
    let mut steps = 0u64;
    while g == 1 {
        x = y;
        for _ in 0..r {
            y = f(y);
        }
        let mut k = 0;
        while k < r && g == 1 {
            ys = y;
            let lim = BATCH.min(r - k);
            for _ in 0..lim {
                y = f(y);
                let diff = x.abs_diff(y);
                q = m.mul(q, diff);
            }
            g = gcd(q, n);
            k += lim;
        }
        steps += 2 * r;
        if g == 1 && steps > MAX_STEPS {
            return None;
        }
        r <<= 1;
    }
    if g == n {
        // The batch overshot (or hit q = 0): redo it one step at a time from
        // the batch's start; at most BATCH steps.
        g = 1;
        for _ in 0..=BATCH {
            ys = f(ys);
            let diff = x.abs_diff(ys);
            g = gcd(diff, n);
            if g != 1 {
                break;
            }
        }
    }
    if g == 1 || g == n {
        None
    } else {
        Some(g)
    }
}

/// `W` Pollard-Brent walks (different `c`) advanced in lockstep. Each walk is
/// bound by the latency of one Montgomery squaring; interleaving them keeps the
/// multiplier busy, and the first walk to collide wins.
fn brent_multi<const W: usize>(n: u64, cs: [u64; W], start: u64) -> Option<u64> {
    let m = Mont::new(n);
    let c: [u64; W] = core::array::from_fn(|i| m.enter(cs[i]));
    let mut y = [m.enter(start); W];
    let mut q = [m.one; W];
    let mut alive = [true; W];
    let mut r = 1u64;
    let mut steps = 0u64;
    loop {
        let x = y;
        for _ in 0..r {
            for i in 0..W {
                y[i] = m.add(m.mul(y[i], y[i]), c[i]);
            }
        }
        let mut k = 0;
        while k < r {
            let ys = y;
            let lim = BATCH.min(r - k);
            for _ in 0..lim {
                for i in 0..W {
                    y[i] = m.add(m.mul(y[i], y[i]), c[i]);
                    q[i] = m.mul(q[i], x[i].abs_diff(y[i]));
                }
            }
            k += lim;
            for i in 0..W {
                if !alive[i] {
                    continue;
                }
                let g = gcd(q[i], n);
                if g == 1 {
                    continue;
                }
                if g != n {
                    return Some(g);
                }
                // Overshot (or q hit 0): replay this walk's batch one step at a time.
                let mut z = ys[i];
                for _ in 0..=BATCH {
                    z = m.add(m.mul(z, z), c[i]);
                    let g = gcd(x[i].abs_diff(z), n);
                    if g != 1 && g != n {
                        return Some(g);
                    }
                    if g == n {
                        break;
                    }
                }
                // This walk is useless (both factors collided together); drop it.
                alive[i] = false;
                if !alive.iter().any(|&a| a) {
                    return None;
                }
            }
        }
        steps += 2 * r;
        if steps > MAX_STEPS {
            return None;
        }
        r <<= 1;
    }
}

/// `a^-1 mod n` (n odd, a < n), or `Err(gcd(a, n))` when it does not exist.
fn inv_mod(a: u64, n: u64) -> Result<u64, u64> {
    let (mut r0, mut r1) = (n, a);
    let (mut t0, mut t1) = (0i128, 1i128);
    while r1 != 0 {
        let q = r0 / r1;
        (r0, r1) = (r1, r0 - q * r1);
        (t0, t1) = (t1, t0 - q as i128 * t1);
    }
    if r0 != 1 {
        return Err(r0);
    }
    // rem_euclid gives a value in [0, n), and n is a u64, so it cannot truncate.
    #[allow(clippy::cast_possible_truncation)]
    let inv = t0.rem_euclid(i128::from(n)) as u64;
    Ok(inv)
}

/// An x-only point `(X : Z)` on a Montgomery curve, coordinates in the
/// Montgomery domain.
#[derive(Clone, Copy)]
struct Pt {
    x: u64,
    z: u64,
}

/// The curve `B y^2 = x^3 + A x^2 + x` through its `a24 = (A + 2) / 4`.
struct Curve<'m> {
    m: &'m Mont,
    a24: u64,
}

impl Curve<'_> {
    /// `[2]P`: 2 squarings + 3 multiplications.
    #[inline(always)]
    fn dbl(&self, p: Pt) -> Pt {
        let m = self.m;
        let s = m.add(p.x, p.z);
        let d = m.sub(p.x, p.z);
        let t1 = m.mul(s, s);
        let t2 = m.mul(d, d);
        let t3 = m.sub(t1, t2);
        Pt {
            x: m.mul(t1, t2),
            z: m.mul(t3, m.add(t2, m.mul(self.a24, t3))),
        }
    }

    /// `P + Q` given `P - Q`: 4 multiplications + 2 squarings.
    #[inline(always)]
    fn dadd(&self, p: Pt, q: Pt, diff: Pt) -> Pt {
        let m = self.m;
        let u = m.mul(m.sub(p.x, p.z), m.add(q.x, q.z));
        let v = m.mul(m.add(p.x, p.z), m.sub(q.x, q.z));
        let s = m.add(u, v);
        let d = m.sub(u, v);
        Pt {
            x: m.mul(diff.z, m.mul(s, s)),
            z: m.mul(diff.x, m.mul(d, d)),
        }
    }

    /// `[k]P` for `k >= 1` (Montgomery ladder; k and P are public).
    fn mul(&self, p: Pt, k: u64) -> Pt {
        if k <= 1 {
            return p;
        }
        let mut r0 = p;
        let mut r1 = self.dbl(p);
        let bits = 64 - k.leading_zeros();
        for i in (0..bits - 1).rev() {
            if (k >> i) & 1 == 1 {
                r0 = self.dadd(r1, r0, p);
                r1 = self.dbl(r1);
            } else {
                r1 = self.dadd(r1, r0, p);
                r0 = self.dbl(r0);
            }
        }
        r0
    }
}

/// Odd primes below 256 (stage-1 multipliers).
const ODD_PRIMES_256: [u64; 53] = [
    3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97,
    101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167, 173, 179, 181, 191, 193,
    197, 199, 211, 223, 227, 229, 233, 239, 241, 251,
];

/// Baby steps of the stage-2 giant step 60: the residues coprime to 60 below 30.
const BABY: [usize; 8] = [1, 7, 11, 13, 17, 19, 23, 29];
const GIANT: u64 = 60;

/// One ECM curve (Suyama's parametrization with parameter `sigma`, group
/// order divisible by 12): stage 1 to `b1`, baby-step giant-step stage 2 to
/// about `b2`. Returns a nontrivial factor of `n` or None.
fn ecm_curve(m: &Mont, sigma: u64, b1: u64, b2: u64) -> Option<u64> {
    let n = m.n;
    let nontrivial = |g: u64| if g != 1 && g != n { Some(g) } else { None };
    // u = sigma^2 - 5, v = 4 sigma, P = (u^3 : v^3),
    // (A + 2) / 4 = (v - u)^3 (3u + v) / (16 u^3 v).
    let s = m.enter(sigma);
    let u = m.sub(m.mul(s, s), m.enter(5));
    let v = m.add(m.add(s, s), m.add(s, s));
    let u3 = m.mul(m.mul(u, u), u);
    let v3 = m.mul(m.mul(v, v), v);
    let vmu = m.sub(v, u);
    let num = m.mul(m.mul(m.mul(vmu, vmu), vmu), m.add(m.add(m.add(u, u), u), v));
    let den = m.mul(m.mul(u3, v), m.enter(16));
    let a24 = match inv_mod(m.leave(den), n) {
        Ok(inv) => m.mul(num, m.enter(inv)),
        Err(g) => return nontrivial(g),
    };
    let c = Curve { m, a24 };

    // Stage 1: P <- [k]P with k = product of the prime powers up to b1.
    let mut p = Pt { x: u3, z: v3 };
    let mut e = 2u64;
    while e <= b1 {
        p = c.dbl(p);
        e *= 2;
    }
    let mut k = 1u64;
    for &q in ODD_PRIMES_256.iter().take_while(|&&q| q <= b1) {
        let mut qe = q;
        while qe * q <= b1 {
            qe *= q;
        }
        if k > u64::MAX / qe {
            p = c.mul(p, k);
            k = 1;
        }
        k *= qe;
    }
    p = c.mul(p, k);
    if let Some(g) = nontrivial(gcd(p.z, n)) {
        return Some(g);
    }

    // Stage 2: for giant steps A = [60 i]P, multiply up X_A Z_b - X_b Z_A for
    // the baby points [b]P, covering every prime 60 i +- b up to b2.
    let q2 = c.dbl(p);
    let mut odd = [p; 15]; // odd[j] = [2j + 1]P
    odd[1] = c.dadd(q2, p, p);
    for j in 2..15 {
        odd[j] = c.dadd(odd[j - 1], q2, odd[j - 2]);
    }
    let baby: [Pt; 8] = core::array::from_fn(|i| odd[BABY[i] / 2]);
    let g = c.dbl(c.dbl(odd[7])); // [60]P
    let i0 = (b1 / GIANT).max(2);
    let mut prev = c.mul(g, i0 - 1);
    let mut cur = c.mul(g, i0);
    let mut acc = m.one;
    let mut i = i0;
    while i * GIANT <= b2 + GIANT {
        for b in &baby {
            acc = m.mul(acc, m.sub(m.mul(cur.x, b.z), m.mul(b.x, cur.z)));
        }
        let next = c.dadd(cur, g, prev);
        prev = cur;
        cur = next;
        i += 1;
    }
    nontrivial(gcd(acc, n))
}

/// Stage-1 bound of the elliptic-curve method.
const ECM_B1: u64 = 165;
/// Stage-2 bound of the elliptic-curve method.
const ECM_B2: u64 = 6000;
/// Curves tried before falling back to Pollard-Brent.
const ECM_CURVES: u64 = 200;

/// Lenstra's elliptic-curve method (x-only Montgomery curves) for odd `n`
/// without small factors; None if no curve within the bound splits `n`.
fn ecm(n: u64, b1: u64, b2: u64) -> Option<u64> {
    let m = Mont::new(n);
    (6..6 + ECM_CURVES).find_map(|sigma| ecm_curve(&m, sigma, b1, b2))
}

/// A nontrivial factor of composite odd `n` without factors below 48:
/// perfect squares directly, then ECM, then Pollard-Brent as a fallback.
fn find_factor(n: u64) -> Option<u64> {
    let r = n.isqrt();
    if r * r == n {
        return Some(r);
    }
    ecm(n, ECM_B1, ECM_B2)
        .filter(|&d| d != 1 && d != n)
        .or_else(|| rho_factor(n))
}

/// Pollard-Brent returning a nontrivial factor of composite odd `n`.
fn rho_factor(n: u64) -> Option<u64> {
    for attempt in 0..4u64 {
        let cs = [1 + 3 * attempt, 2 + 3 * attempt, 3 + 3 * attempt];
        if let Some(d) = brent_multi(n, cs, 2) {
            if d != 1 && d != n {
                return Some(d);
            }
        }
    }
    (9..16u64).find_map(|c| brent(n, c, 2).filter(|&d| d != 1 && d != n))
}

/// Splits `pq` into primes `(p, q)` with `p < q`, both odd, and `p * q == pq`.
///
/// Errors for 0, 1, primes, products of three or more primes, squares of a
/// prime and twice a prime ([`PqError::NotDistinctOddPrimes`]), and (never
/// observed) inputs that exceed the work bound.
pub fn factorize(pq: u64) -> Result<(u64, u64), PqError> {
    if pq < 2 {
        return Err(PqError::TooSmall);
    }
    if is_prime_u64(pq) {
        return Err(PqError::Prime);
    }
    let d = SMALL_PRIMES
        .iter()
        .copied()
        .find(|p| pq.is_multiple_of(*p))
        .map(Some)
        .unwrap_or_else(|| find_factor(pq))
        .ok_or(PqError::GaveUp)?;
    let e = pq / d;
    if !is_prime_u64(d) || !is_prime_u64(e) {
        return Err(PqError::TooManyFactors);
    }
    let (p, q) = (d.min(e), d.max(e));
    // auth_key.html, resPQ: "This number is the product of two different odd
    // prime numbers." Refuse p * p and 2 * q.
    if p == q || p == 2 {
        return Err(PqError::NotDistinctOddPrimes { p, q });
    }
    Ok((p, q))
}

/// Parses a big-endian `pq` (as carried in the TL `bytes` field).
pub fn pq_from_be_bytes(bytes: &[u8]) -> Result<u64, PqError> {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    let sig = bytes.get(start..).unwrap_or(&[]);
    if bytes.is_empty() || sig.len() > 8 {
        return Err(PqError::BadEncoding);
    }
    Ok(sig.iter().fold(0u64, |acc, &b| (acc << 8) | b as u64))
}

/// Big-endian bytes of `x` without leading zero bytes (how p and q are sent).
pub fn to_be_bytes_trimmed(x: u64) -> Vec<u8> {
    let b = x.to_be_bytes();
    let skip = (x.leading_zeros() / 8) as usize;
    b.get(skip.min(7)..).unwrap_or(&b).to_vec()
}

/// [`factorize`] on TL bytes: returns p and q as trimmed big-endian bytes.
pub fn factorize_be(pq: &[u8]) -> Result<(Vec<u8>, Vec<u8>), PqError> {
    let (p, q) = factorize(pq_from_be_bytes(pq)?)?;
    Ok((to_be_bytes_trimmed(p), to_be_bytes_trimmed(q)))
}
