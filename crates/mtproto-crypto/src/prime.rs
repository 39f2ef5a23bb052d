//! Probabilistic primality for big (public) numbers, with caller-supplied randomness.

use num_bigint::BigUint;
use num_integer::Integer;
use num_traits::{One, Zero};
use rand::{CryptoRng, RngCore};

/// Odd primes below 2000 for trial division.
pub(crate) fn small_primes() -> &'static [u32] {
    static PRIMES: std::sync::OnceLock<Vec<u32>> = std::sync::OnceLock::new();
    PRIMES.get_or_init(|| {
        let mut v = Vec::new();
        'outer: for n in (3u32..2000).step_by(2) {
            for &p in &v {
                if p * p > n {
                    break;
                }
                if n % p == 0 {
                    continue 'outer;
                }
            }
            v.push(n);
        }
        v
    })
}

/// True if `n` has a small odd prime factor (and is not that prime itself).
pub(crate) fn has_small_factor(n: &BigUint) -> bool {
    small_primes().iter().any(|&p| {
        let r = n % p;
        r.is_zero() && *n != BigUint::from(p)
    })
}

/// Miller-Rabin with `rounds` random bases (plus base 2 first). `n` public.
pub(crate) fn is_probable_prime<R: RngCore + CryptoRng>(
    n: &BigUint,
    rounds: usize,
    rng: &mut R,
) -> bool {
    let two = BigUint::from(2u32);
    if *n < two {
        return false;
    }
    if *n == two || *n == BigUint::from(3u32) {
        return true;
    }
    if n.is_even() || has_small_factor(n) {
        return false;
    }
    let one = BigUint::one();
    let n_minus_1 = n - &one;
    let s = n_minus_1.trailing_zeros().unwrap_or(0);
    let d = &n_minus_1 >> s;
    let n_minus_3 = n - 3u32;
    'bases: for i in 0..=rounds {
        let a = if i == 0 {
            two.clone()
        } else {
            random_below(&n_minus_3, rng) + &two
        };
        let mut x = a.modpow(&d, n);
        if x == one || x == n_minus_1 {
            continue;
        }
        for _ in 1..s {
            x = (&x * &x) % n;
            if x == n_minus_1 {
                continue 'bases;
            }
        }
        return false;
    }
    true
}

/// A uniformly random number of at most `bits` bits.
pub(crate) fn random_bits<R: RngCore + CryptoRng>(bits: u64, rng: &mut R) -> BigUint {
    // `bits` is 1024 or the `bits()` of a number held in memory, whose bytes
    // already fit in a usize, so this cannot truncate.
    #[allow(clippy::cast_possible_truncation)]
    let nbytes = bits.div_ceil(8) as usize;
    let mut buf = vec![0u8; nbytes];
    rng.fill_bytes(&mut buf);
    let extra = (nbytes as u64 * 8).saturating_sub(bits);
    if let Some(b) = buf.first_mut() {
        *b &= 0xffu8 >> extra;
    }
    BigUint::from_bytes_be(&buf)
}

/// A uniformly random number in `[0, bound)` (rejection sampling); `bound > 0`.
pub(crate) fn random_below<R: RngCore + CryptoRng>(bound: &BigUint, rng: &mut R) -> BigUint {
    let bits = bound.bits();
    for _ in 0..1000 {
        let x = random_bits(bits, rng);
        if x < *bound {
            return x;
        }
    }
    // Each try succeeds with probability >= 1/2; unreachable in practice.
    BigUint::from(1u32) % bound
}
