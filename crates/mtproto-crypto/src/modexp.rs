//! Constant-time modular exponentiation: Montgomery arithmetic on fixed-size
//! arrays of 64-bit limbs (least significant first), for every
//! exponentiation whose exponent is secret (the DH `a`/`b`, the RSA private
//! exponent) or whose base is (the RSA plaintext when it is checked).
//!
//! What makes it constant time: every loop runs a fixed number of times set
//! by the sizes (never by the values), the exponent is read in fixed 5-bit
//! windows and the table entry for a window is taken by scanning the whole
//! table with masks (no secret-dependent address), and the final subtraction
//! of a Montgomery product is a masked select, not a branch. The modulus is
//! public and is read freely.
//!
//! What makes it fast: a fused multiply-and-reduce loop (FIOS) for products,
//! and for squarings (nine in ten of the operations of an exponentiation)
//! the half-size square (each cross product once, then doubled) followed by a
//! separate reduction, both with two rows in flight so two carry chains run
//! side by side; for a small public base (the DH `g`) a square and a cheap
//! multiplication by `g` per bit ([`Mont::pow_small_base`]).
//! `MIN_OF_N=modexp cargo bench -p mtproto-benches --bench crypto` measures
//! it against the variable-time `num-bigint` and crypto-bigint's constant-time
//! exponentiation, and with the bench crate's `openssl` feature against
//! OpenSSL's variable-time `BN_mod_exp` (1.61-1.66x of it here; 1.50x built
//! with `-C target-cpu=native`, where the compiler may use `mulx`/`adx`).

// Limb arithmetic reads clearest with indices (several arrays in step),
// and splitting a 128-bit product into its two 64-bit halves truncates on
// purpose.
#![allow(clippy::needless_range_loop, clippy::cast_possible_truncation)]

use num_bigint::BigUint;
use num_traits::{One, Zero};
use subtle::{ConditionallySelectable, ConstantTimeEq};

/// Width of the exponent windows (a table of 2^5 powers).
const WINDOW: usize = 5;
/// Entries in the window table.
const TABLE: usize = 1 << WINDOW;
/// Most limbs a modulus may have (2048 bits); the square of an `L`-limb
/// number is held in twice that.
pub(crate) const MAX_LIMBS: usize = 32;

/// Montgomery arithmetic modulo an odd number `n` of at most `64 L` bits,
/// with `R = 2^(64 L)`. Every value it hands out is fully reduced, below `n`.
#[derive(Clone)]
pub(crate) struct Mont<const L: usize> {
    n: [u64; L],
    /// `-n^-1 mod 2^64`.
    n0: u64,
    /// `R^2 mod n`: [`Mont::mont_in`] multiplies by it.
    rr: [u64; L],
}

/// `x` as `L` little-endian limbs, or `None` if it does not fit.
pub(crate) fn limbs<const L: usize>(x: &BigUint) -> Option<[u64; L]> {
    let digits = x.to_u64_digits();
    if digits.len() > L {
        return None;
    }
    let mut out = [0u64; L];
    out[..digits.len()].copy_from_slice(&digits);
    Some(out)
}

/// Big-endian bytes (at most `8 L` of them) as `L` little-endian limbs.
pub(crate) fn limbs_from_be<const L: usize>(be: &[u8]) -> Option<[u64; L]> {
    if be.len() > 8 * L {
        return None;
    }
    let mut out = [0u64; L];
    for (i, chunk) in be.rchunks(8).enumerate() {
        let mut word = [0u8; 8];
        word[8 - chunk.len()..].copy_from_slice(chunk);
        out[i] = u64::from_be_bytes(word);
    }
    Some(out)
}

/// `L` limbs as `8 L` big-endian bytes, written into `out` (which must be
/// that long; a shorter one gets the low bytes).
pub(crate) fn limbs_to_be<const L: usize>(x: &[u64; L], out: &mut [u8]) {
    for (chunk, word) in out.rchunks_mut(8).zip(x.iter()) {
        let bytes = word.to_be_bytes();
        chunk.copy_from_slice(&bytes[8 - chunk.len()..]);
    }
}

/// `a + b + carry`, as (sum, carry out).
#[inline(always)]
fn adc(a: u64, b: u64, carry: u64) -> (u64, u64) {
    let s = u128::from(a) + u128::from(b) + u128::from(carry);
    (s as u64, (s >> 64) as u64)
}

/// `a * b + c + d`, as (low, high): never overflows 128 bits.
#[inline(always)]
fn mac(a: u64, b: u64, c: u64, d: u64) -> (u64, u64) {
    let s = u128::from(a) * u128::from(b) + u128::from(c) + u128::from(d);
    (s as u64, (s >> 64) as u64)
}

impl<const L: usize> Mont<L> {
    /// The arithmetic modulo `n`: `None` unless `n` is odd, above 1 and at
    /// most `64 L` bits. `n` is public (the setup is variable time).
    pub(crate) fn new(n: &BigUint) -> Option<Self> {
        if L == 0 || L > MAX_LIMBS || n <= &BigUint::one() || !n.bit(0) {
            return None;
        }
        let limbs_n = limbs::<L>(n)?;
        // Newton's iteration for n^-1 mod 2^64: each step doubles the
        // correct low bits (n is its own inverse mod 8: 3 bits to start).
        let mut inv = limbs_n[0];
        for _ in 0..5 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(limbs_n[0].wrapping_mul(inv)));
        }
        let rr = (BigUint::one() << (128 * L)) % n;
        Some(Self {
            n: limbs_n,
            n0: inv.wrapping_neg(),
            rr: limbs::<L>(&rr)?,
        })
    }

    #[cfg(feature = "server")] // RSA private keys only
    /// The modulus.
    pub(crate) fn modulus(&self) -> &[u64; L] {
        &self.n
    }

    /// `t + top * R` minus `n` if that is at least `n` (a masked select):
    /// the last step of every Montgomery product, whose input is below `2n`.
    #[inline(always)]
    fn reduce_once(&self, t: &[u64; L], top: u64) -> [u64; L] {
        let mut d = [0u64; L];
        let mut borrow = 0u64;
        for i in 0..L {
            let (x, b1) = t[i].overflowing_sub(self.n[i]);
            let (y, b2) = x.overflowing_sub(borrow);
            d[i] = y;
            borrow = u64::from(b1 | b2);
        }
        // t + top*R >= n exactly when there was a top word or no borrow.
        let take_d = (top | (borrow ^ 1)).ct_eq(&1);
        let mut out = [0u64; L];
        for i in 0..L {
            out[i] = u64::conditional_select(&t[i], &d[i], take_d);
        }
        out
    }

    /// `a * b / R mod n` (fused multiply and reduce, FIOS), for `a < R`,
    /// `b < n`.
    pub(crate) fn mul(&self, a: &[u64; L], b: &[u64; L]) -> [u64; L] {
        // t holds L limbs plus the top word (0 or 1); t < 2n throughout.
        let mut t = [0u64; L];
        let mut top = 0u64;
        for &bi in b.iter() {
            let (s, mut c1) = mac(a[0], bi, t[0], 0);
            let m = s.wrapping_mul(self.n0);
            // s + m * n[0] is 0 mod 2^64 by the choice of m: only its carry.
            let (_, mut c2) = mac(m, self.n[0], s, 0);
            for j in 1..L {
                let (s, c) = mac(a[j], bi, t[j], c1);
                c1 = c;
                let (s2, c) = mac(m, self.n[j], s, c2);
                c2 = c;
                t[j - 1] = s2;
            }
            let (s, c) = adc(top, c1, c2);
            t[L - 1] = s;
            top = c;
        }
        self.reduce_once(&t, top)
    }

    /// `a^2 / R mod n`, for `a < n`: the square with each cross product
    /// computed once, then a Montgomery reduction.
    pub(crate) fn sqr(&self, a: &[u64; L]) -> [u64; L] {
        // p is indexed below 2L <= 2 MAX_LIMBS: within the array, which the
        // compiler can see (no bounds checks in the loops).
        let mut p = [0u64; 2 * MAX_LIMBS];
        // The cross products a[i] * a[j], i < j, two rows at a time: row
        // i adds a[i] a[j] at i + j, row i + 1 adds a[i + 1] a[j - 1] at
        // the same place, in two carry chains the processor runs side by
        // side. Positions from i + L up are still zero when rows i and
        // i + 1 start.
        let mut i = 0;
        while i + 2 < L {
            // Position 2i + 1: row i alone.
            let (s, mut ca) = mac(a[i], a[i + 1], p[2 * i + 1], 0);
            p[2 * i + 1] = s;
            // Position 2i + 2: row i alone.
            let (s, c) = mac(a[i], a[i + 2], p[2 * i + 2], ca);
            p[2 * i + 2] = s;
            ca = c;
            let mut cb = 0u64;
            let (ai, ai1) = (a[i], a[i + 1]);
            let mut j = i + 3;
            while j + 1 < L {
                let (s, c) = mac(ai, a[j], p[i + j], ca);
                let (s, d) = mac(ai1, a[j - 1], s, cb);
                p[i + j] = s;
                let (s, c2) = mac(ai, a[j + 1], p[i + j + 1], c);
                let (s, d2) = mac(ai1, a[j], s, d);
                p[i + j + 1] = s;
                ca = c2;
                cb = d2;
                j += 2;
            }
            if j < L {
                let (s, c) = mac(ai, a[j], p[i + j], ca);
                ca = c;
                let (s, c) = mac(ai1, a[j - 1], s, cb);
                cb = c;
                p[i + j] = s;
            }
            // Position i + L: row i + 1's last product and row i's carry.
            let (s, hi) = mac(a[i + 1], a[L - 1], ca, cb);
            p[i + L] = s;
            p[i + L + 1] = hi;
            i += 2;
        }
        // At most two rows are left: one product (i = L - 2) or none.
        if i + 1 < L {
            let (s, hi) = mac(a[i], a[i + 1], p[2 * i + 1], 0);
            p[2 * i + 1] = s;
            p[i + L] = hi;
        }
        // Doubled (a shift left by one bit), plus the squares on the
        // diagonal, two limbs at a time.
        let mut shifted_out = 0u64;
        let mut c = 0u64;
        for i in 0..L {
            let (lo_in, hi_in) = (p[2 * i], p[2 * i + 1]);
            let lo2 = (lo_in << 1) | shifted_out;
            let hi2 = (hi_in << 1) | (lo_in >> 63);
            shifted_out = hi_in >> 63;
            let (lo, hi) = mac(a[i], a[i], 0, 0);
            let (s, c1) = adc(lo2, lo, c);
            let (s2, c2) = adc(hi2, hi, c1);
            p[2 * i] = s;
            p[2 * i + 1] = s2;
            c = c2;
        }
        self.redc(&mut p)
    }

    /// Montgomery reduction of a `2L`-limb `p < n R` (in the low `2L`
    /// limbs of `p`): `p / R mod n`.
    #[inline(always)]
    fn redc(&self, p: &mut [u64; 2 * MAX_LIMBS]) -> [u64; L] {
        // `carry` is owed to position i + L. Two rows at a time: row i
        // (m0) adds m0 n[j] at i + j, row i + 1 (m1, known once row i has
        // passed position i + 1) adds m1 n[j - 1] at the same place, in
        // two carry chains.
        let mut carry = 0u64;
        let mut i = 0;
        while i + 1 < L {
            let m0 = p[i].wrapping_mul(self.n0);
            let (_, ca) = mac(m0, self.n[0], p[i], 0);
            let (s, mut ca) = mac(m0, self.n[1], p[i + 1], ca);
            let m1 = s.wrapping_mul(self.n0);
            let (_, mut cb) = mac(m1, self.n[0], s, 0);
            // Two positions per step (fewer loop branches and register
            // moves), then the odd one out.
            let mut j = 2;
            while j + 1 < L {
                let (s, c) = mac(m0, self.n[j], p[i + j], ca);
                let (s, d) = mac(m1, self.n[j - 1], s, cb);
                p[i + j] = s;
                let (s, c2) = mac(m0, self.n[j + 1], p[i + j + 1], c);
                let (s, d2) = mac(m1, self.n[j], s, d);
                p[i + j + 1] = s;
                ca = c2;
                cb = d2;
                j += 2;
            }
            if j < L {
                let (s, c) = mac(m0, self.n[j], p[i + j], ca);
                ca = c;
                let (s, c) = mac(m1, self.n[j - 1], s, cb);
                cb = c;
                p[i + j] = s;
            }
            let (s, hi) = mac(m1, self.n[L - 1], p[i + L], cb);
            let (s, c1) = adc(s, ca, carry);
            p[i + L] = s;
            let (s, c2) = adc(p[i + L + 1], hi, c1);
            p[i + L + 1] = s;
            carry = c2;
            i += 2;
        }
        if i < L {
            // The last row, alone (odd L).
            let m = p[i].wrapping_mul(self.n0);
            let mut c = 0u64;
            for j in 0..L {
                let (s, hi) = mac(m, self.n[j], p[i + j], c);
                p[i + j] = s;
                c = hi;
            }
            let (s, hi) = adc(p[i + L], c, carry);
            p[i + L] = s;
            carry = hi;
        }
        let mut t = [0u64; L];
        t.copy_from_slice(&p[L..2 * L]);
        self.reduce_once(&t, carry)
    }

    /// `x R mod n`: into the Montgomery domain (`x < R`).
    pub(crate) fn mont_in(&self, x: &[u64; L]) -> [u64; L] {
        self.mul(x, &self.rr)
    }

    /// `x / R mod n`: out of the Montgomery domain.
    pub(crate) fn mont_out(&self, x: &[u64; L]) -> [u64; L] {
        let mut one = [0u64; L];
        one[0] = 1;
        self.mul(&one, x)
    }

    #[cfg(feature = "server")] // RSA private keys only
    /// `a - b mod n` for `a, b < n` (the correction is masked, not branched).
    pub(crate) fn sub(&self, a: &[u64; L], b: &[u64; L]) -> [u64; L] {
        let mut d = [0u64; L];
        let mut borrow = 0u64;
        for i in 0..L {
            let (x, b1) = a[i].overflowing_sub(b[i]);
            let (y, b2) = x.overflowing_sub(borrow);
            d[i] = y;
            borrow = u64::from(b1 | b2);
        }
        // Add n back where the difference went below zero.
        let mask = borrow.wrapping_neg();
        let mut carry = 0u64;
        for i in 0..L {
            let (s, c) = adc(d[i], self.n[i] & mask, carry);
            d[i] = s;
            carry = c;
        }
        d
    }

    #[cfg(feature = "server")] // RSA private keys only
    /// `base^e mod n` for a public exponent `e` (square and multiply over
    /// its bits: variable time in `e` only, constant in `base`).
    pub(crate) fn pow_public_exp(&self, base: &[u64; L], e: u64) -> [u64; L] {
        let b = self.mont_in(base);
        let mut one = [0u64; L];
        one[0] = 1;
        let mut acc = self.mont_in(&one);
        for i in (0..64 - e.leading_zeros()).rev() {
            acc = self.sqr(&acc);
            if (e >> i) & 1 == 1 {
                acc = self.mul(&acc, &b);
            }
        }
        self.mont_out(&acc)
    }

    /// `x * g mod n` for `x < n` (any domain: a plain factor keeps it) and
    /// a public `g < 8`: the product, then `4n`, `2n` and `n`
    /// ([`Mont::small_multiples`], made once per exponentiation) each taken
    /// off under a mask where the rest is at least that.
    fn mul_small(&self, x: &[u64; L], g: u64, multiples: &[([u64; L], u64); 3]) -> [u64; L] {
        // y = x g < 8n, in L limbs and a top word.
        let mut y = [0u64; L];
        let mut top = 0u64;
        for i in 0..L {
            let (s, hi) = mac(x[i], g, top, 0);
            y[i] = s;
            top = hi;
        }
        for (kn, kn_top) in multiples {
            let mut d = [0u64; L];
            let mut borrow = 0u64;
            for i in 0..L {
                let (a, b1) = y[i].overflowing_sub(kn[i]);
                let (b, b2) = a.overflowing_sub(borrow);
                d[i] = b;
                borrow = u64::from(b1 | b2);
            }
            let (d_top, b1) = top.overflowing_sub(*kn_top);
            let (d_top, b2) = d_top.overflowing_sub(borrow);
            // No borrow out of the top: y >= k n, keep the difference.
            let keep = u64::from(b1 | b2).ct_eq(&0);
            for i in 0..L {
                y[i].conditional_assign(&d[i], keep);
            }
            top.conditional_assign(&d_top, keep);
        }
        y
    }

    /// `4n`, `2n` and `n`, each in `L` limbs and a top word: what
    /// [`Mont::mul_small`] takes off.
    fn small_multiples(&self) -> [([u64; L], u64); 3] {
        [2u32, 1, 0].map(|shift| {
            let mut kn = [0u64; L];
            let mut prev = 0u64;
            for i in 0..L {
                kn[i] = (self.n[i] << shift) | if shift == 0 { 0 } else { prev >> (64 - shift) };
                prev = self.n[i];
            }
            (kn, if shift == 0 { 0 } else { prev >> (64 - shift) })
        })
    }

    /// `g^exp mod n` for a small public base `g` (2 to 7: the DH
    /// generators), constant time in `exp`: for every bit of `exp`, a
    /// square and a multiplication by `g` (cheap: one row of products), kept
    /// or not under a mask. About a sixth faster than [`Mont::pow`]. `None`
    /// if `g` is out of range.
    pub(crate) fn pow_small_base(&self, g: u64, exp: &[u64]) -> Option<[u64; L]> {
        if !(2..8).contains(&g) {
            return None;
        }
        let multiples = self.small_multiples();
        let mut one = [0u64; L];
        one[0] = 1;
        let mut acc = self.mont_in(&one);
        for limb in exp.iter().rev() {
            for bit in (0..64).rev() {
                acc = self.sqr(&acc);
                let times_g = self.mul_small(&acc, g, &multiples);
                let set = ((limb >> bit) & 1).ct_eq(&1);
                for i in 0..L {
                    acc[i].conditional_assign(&times_g[i], set);
                }
            }
        }
        Some(self.mont_out(&acc))
    }

    /// `base^exp mod n` in constant time with respect to `base` and `exp`:
    /// the same operations, in the same order, on the same addresses, for
    /// every value of either; only the length of `exp` (in limbs, public)
    /// sets the work. `base` must be below `n`.
    pub(crate) fn pow(&self, base: &[u64; L], exp: &[u64]) -> [u64; L] {
        // table[k] = base^k, in the Montgomery domain.
        let mut table = [[0u64; L]; TABLE];
        table[0] = self.mont_in(&{
            let mut one = [0u64; L];
            one[0] = 1;
            one
        });
        table[1] = self.mont_in(base);
        for k in 2..TABLE {
            table[k] = if k % 2 == 0 {
                self.sqr(&table[k / 2])
            } else {
                self.mul(&table[k - 1], &table[1])
            };
        }
        let bits = exp.len() * 64;
        // The first window takes the bits left over above whole windows.
        let first = match bits % WINDOW {
            0 => WINDOW,
            r => r,
        };
        let mut pos = bits - first.min(bits);
        let mut acc = select(&table, window(exp, pos, first.min(bits)));
        while pos > 0 {
            pos -= WINDOW;
            for _ in 0..WINDOW {
                acc = self.sqr(&acc);
            }
            acc = self.mul(&acc, &select(&table, window(exp, pos, WINDOW)));
        }
        self.mont_out(&acc)
    }
}

/// The `width` bits of `exp` from bit `pos` up (positions are public; the
/// value is secret and only ever used through [`select`]).
fn window(exp: &[u64], pos: usize, width: usize) -> u64 {
    let (limb, shift) = (pos / 64, pos % 64);
    let mut v = exp.get(limb).copied().unwrap_or(0) >> shift;
    if shift + width > 64 {
        v |= exp.get(limb + 1).copied().unwrap_or(0) << (64 - shift);
    }
    v & ((1u64 << width) - 1)
}

/// `table[index]`, read by going through every entry and keeping the one
/// whose position matches under a mask: the addresses touched do not depend
/// on `index`.
fn select<const L: usize>(table: &[[u64; L]; TABLE], index: u64) -> [u64; L] {
    let mut out = [0u64; L];
    for (k, entry) in table.iter().enumerate() {
        // All ones for the entry wanted, else zero: made by `subtle` (which
        // hides the comparison from the optimizer), then applied to whole
        // limbs with plain and/or, which the compiler can vectorise.
        let mask = u64::conditional_select(&0, &u64::MAX, (k as u64).ct_eq(&index));
        for (o, e) in out.iter_mut().zip(entry.iter()) {
            *o |= e & mask;
        }
    }
    out
}

#[cfg(feature = "server")] // RSA private keys only
/// `a * b + c` for 16-limb numbers, as 32 limbs (schoolbook: a fixed
/// number of steps whatever the values): the last step of RSA by CRT.
pub(crate) fn mul_add_16(a: &[u64; 16], b: &[u64; 16], c: &[u64; 16]) -> [u64; 32] {
    let mut out = [0u64; 32];
    out[..16].copy_from_slice(c);
    for (i, &ai) in a.iter().enumerate() {
        let mut carry = 0u64;
        for (j, &bj) in b.iter().enumerate() {
            let (s, hi) = mac(ai, bj, out[i + j], carry);
            out[i + j] = s;
            carry = hi;
        }
        // Into the rest (a fixed number of steps).
        for w in out[i + 16..].iter_mut() {
            let (s, hi) = adc(*w, carry, 0);
            *w = s;
            carry = hi;
        }
    }
    out
}

/// `x mod n` for a public `x` (variable time), as limbs.
pub(crate) fn reduce_public<const L: usize>(x: &BigUint, n: &BigUint) -> Option<[u64; L]> {
    if n.is_zero() {
        return None;
    }
    limbs::<L>(&(x % n))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::cast_precision_loss)]
mod tests {
    use super::*;
    use rand::{RngCore, SeedableRng};

    fn big<const L: usize>(x: &[u64; L]) -> BigUint {
        let mut be = vec![0u8; 8 * L];
        limbs_to_be(x, &mut be);
        BigUint::from_bytes_be(&be)
    }

    fn random_odd(rng: &mut impl RngCore, bytes: usize, top_bit: bool) -> BigUint {
        let mut b = vec![0u8; bytes];
        rng.fill_bytes(&mut b);
        b[bytes - 1] |= 1;
        if top_bit {
            b[0] |= 0x80;
        }
        BigUint::from_bytes_be(&b)
    }

    /// Against num-bigint's modpow, for random odd moduli of full and
    /// short length, random bases and exponents, and the edges (base 0, 1,
    /// n - 1; exponent 0, 1, all ones).
    fn agrees<const L: usize>(seed: u64, rounds: usize) {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
        for round in 0..rounds {
            let shrink = if L >= 4 { (round % 3) * 5 } else { round % 3 };
            let n = random_odd(&mut rng, 8 * L - shrink, round % 2 == 0);
            let m = Mont::<L>::new(&n).expect("odd modulus");
            let mut bases = vec![BigUint::zero(), BigUint::one(), &n - 1u32];
            let mut r = vec![0u8; 8 * L];
            rng.fill_bytes(&mut r);
            bases.push(BigUint::from_bytes_be(&r) % &n);
            let mut exps: Vec<Vec<u64>> = vec![vec![0; L], vec![1], vec![u64::MAX; L]];
            let mut e = vec![0u64; L];
            for w in e.iter_mut() {
                *w = rng.next_u64();
            }
            exps.push(e);
            exps.push(vec![rng.next_u64(), rng.next_u64(), 7]);
            for b in &bases {
                let bl = limbs::<L>(b).unwrap();
                for e in &exps {
                    let mut eb = Vec::new();
                    for w in e.iter().rev() {
                        eb.extend_from_slice(&w.to_be_bytes());
                    }
                    let want = b.modpow(&BigUint::from_bytes_be(&eb), &n);
                    assert_eq!(big(&m.pow(&bl, e)), want, "n={n:x} b={b:x} e={e:x?}");
                }
                for g in 2..8u64 {
                    let gb = BigUint::from(g);
                    if gb < n {
                        let eb = BigUint::from_slice(
                            &exps[3]
                                .iter()
                                .flat_map(|w| [*w as u32, (*w >> 32) as u32])
                                .collect::<Vec<_>>(),
                        );
                        assert_eq!(
                            big(&m.pow_small_base(g, &exps[3]).unwrap()),
                            gb.modpow(&eb, &n),
                            "g={g}"
                        );
                    }
                }
                assert!(m.pow_small_base(8, &[1]).is_none());
                let e = 65537u64;
                assert_eq!(
                    big(&m.pow_public_exp(&bl, e)),
                    b.modpow(&BigUint::from(e), &n)
                );
                let c = BigUint::from_bytes_be(&r) % &n;
                let cl = limbs::<L>(&c).unwrap();
                assert_eq!(big(&m.sub(&bl, &cl)), ((b + &n) - &c) % &n);
                let want = (b * b * m_inv_r::<L>(&n)) % &n;
                assert_eq!(big(&m.sqr(&bl)), want);
                assert_eq!(big(&m.mul(&bl, &bl)), want);
            }
        }
    }

    /// R^-1 mod n.
    fn m_inv_r<const L: usize>(n: &BigUint) -> BigUint {
        // n is odd, so R (a power of two) is invertible modulo n.
        ((BigUint::one() << (64 * L)) % n)
            .modinv(n)
            .expect("R is invertible modulo an odd n")
    }

    #[test]
    fn agrees_with_num_bigint_2048() {
        agrees::<32>(1, 6);
    }

    #[test]
    fn agrees_with_num_bigint_1024_and_small() {
        agrees::<16>(2, 8);
        agrees::<1>(3, 50);
        agrees::<2>(4, 50);
        agrees::<3>(5, 30);
        agrees::<5>(6, 20);
    }

    /// Timing of the parts (run by hand: `cargo test --release -p
    /// mtproto-crypto -- --ignored --nocapture parts_timing`).
    #[test]
    #[ignore = "timing, by hand"]
    fn parts_timing() {
        use std::time::Instant;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(9);
        let n = random_odd(&mut rng, 256, true);
        let m = Mont::<32>::new(&n).unwrap();
        let mut x = limbs::<32>(&(random_odd(&mut rng, 255, false))).unwrap();
        let y = x;
        let (mut mul, mut sqr, mut sel, mut pow) = (f64::MAX, f64::MAX, f64::MAX, f64::MAX);
        let table = [x; TABLE];
        let e = [u64::MAX; 32];
        let mut acc = 0u64;
        for _ in 0..30 {
            let t = Instant::now();
            for _ in 0..2_000 {
                x = m.mul(&x, &y);
            }
            mul = mul.min(t.elapsed().as_nanos() as f64 / 2_000.0);
            let t = Instant::now();
            for _ in 0..2_000 {
                x = m.sqr(&x);
            }
            sqr = sqr.min(t.elapsed().as_nanos() as f64 / 2_000.0);
            let t = Instant::now();
            for i in 0..2_000u64 {
                acc ^= select(&table, i & 31)[3];
            }
            sel = sel.min(t.elapsed().as_nanos() as f64 / 2_000.0);
            let t = Instant::now();
            acc ^= m.pow(&x, &e)[0];
            pow = pow.min(t.elapsed().as_nanos() as f64);
        }
        println!("min of 30: mul {mul:.0} ns, sqr {sqr:.0} ns, select {sel:.0} ns, pow {pow:.0} ns ({acc})");
    }

    #[test]
    fn refuses_even_tiny_and_oversized_moduli() {
        assert!(Mont::<4>::new(&BigUint::from(10u32)).is_none());
        assert!(Mont::<4>::new(&BigUint::one()).is_none());
        assert!(Mont::<4>::new(&BigUint::zero()).is_none());
        assert!(Mont::<1>::new(&((BigUint::one() << 64) + 1u32)).is_none());
        assert!(Mont::<1>::new(&BigUint::from(3u32)).is_some());
    }

    #[test]
    fn limb_conversions_round_trip() {
        let be: Vec<u8> = (1..=20u8).collect();
        let l = limbs_from_be::<3>(&be).unwrap();
        let mut back = [0u8; 24];
        limbs_to_be(&l, &mut back);
        assert_eq!(&back[4..], &be[..]);
        assert_eq!(&back[..4], &[0; 4]);
        assert!(limbs_from_be::<2>(&be).is_none());
        assert_eq!(big(&l), BigUint::from_bytes_be(&be));
    }
}
