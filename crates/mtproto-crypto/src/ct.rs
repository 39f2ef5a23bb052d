//! Constant-time equality: the one place where secret-dependent byte strings
//! (hashes, nonces, `retry_id`) are compared.

use subtle::ConstantTimeEq;

/// `a == b` for byte strings, in time that does not depend on their contents.
///
/// Why it is constant time: `==` on slices stops at the first differing
/// byte, so its running time tells an attacker how long a prefix of a
/// secret value (a hash, `new_nonce_hash`, `retry_id`) they guessed right.
/// This goes through `subtle`'s `ConstantTimeEq`, which XORs and ORs every
/// byte pair into one accumulator without a branch on the data, behind an
/// optimization barrier so the compiler cannot add an early exit. Only the
/// lengths, which are public, are compared with a branch: different lengths
/// give `false` at once.
///
/// ```
/// use mtproto_crypto::ct_eq;
/// assert!(ct_eq(b"new_nonce_hash", b"new_nonce_hash"));
/// assert!(!ct_eq(b"new_nonce_hash", b"new_nonce_hasH"));
/// assert!(!ct_eq(b"abc", b"abcd"));
/// ```
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::ct_eq;

    #[test]
    fn equal_and_unequal_inputs() {
        assert!(ct_eq(&[], &[]));
        assert!(ct_eq(&[0; 16], &[0; 16]));
        let a: Vec<u8> = (0..=255).collect();
        assert!(ct_eq(&a, &a.clone()));
        // one flipped bit at every position and every bit is seen
        for i in 0..a.len() {
            for bit in 0..8 {
                let mut b = a.clone();
                b[i] ^= 1 << bit;
                assert!(!ct_eq(&a, &b), "byte {i} bit {bit}");
                assert!(!ct_eq(&b, &a), "byte {i} bit {bit}");
            }
        }
        // different lengths, including a prefix and the empty string
        assert!(!ct_eq(&a[..15], &a[..16]));
        assert!(!ct_eq(&a[..16], &a[..15]));
        assert!(!ct_eq(&[], &[0]));
        assert!(!ct_eq(&[0], &[]));
    }
}
