//! pq vectors from /work/shared/vectors/pq.json (restated here).
#![allow(clippy::unwrap_used)]

use mtproto_crypto::pq::{self, PqError};

const VECTORS: &[(u64, u64, u64)] = &[
    (0x17ed48941a08f981, 1229739323, 1402015859), // github.com/gotd/td crypto/pq_test.go @ d0d567ee95e61e991eb40
    (0x256595edb7766797, 1513098571, 1780931429), // core.telegram.org/mtproto/samples-auth_key (2024 version, Ma
    (0x130b7475669feb8b, 1141464581, 1202243663), // core.telegram.org/mtproto/samples-auth_key (2025 version, Ma
    (0x19546f942a11278d, 1152574733, 1583590529), // pq of the resPQ captured in github.com/Lonami/grammers gramm
    (0x17ed48941a08f981, 1229739323, 1402015859), // github.com/gotd/td crypto/pq_test.go @ d0d567ee95e61e991eb40
    (0x05c56d, 613, 617), // github.com/gotd/td crypto/pq_test.go @ d0d567ee95e61e991eb40
    (0x0f, 3, 5),         // github.com/gotd/td crypto/pq_test.go @ d0d567ee95e61e991eb40
    (0x1468b766abd90e2d, 1206429347, 1218991343), // github.com/Lonami/grammers grammers-crypto/src/factorize.rs
    (0x20cd3cb0587bdd71, 1518968219, 1556064227), // github.com/Lonami/grammers grammers-crypto/src/factorize.rs
    (0x26eaca03591bcca1, 1555252417, 1803100129), // github.com/Lonami/grammers grammers-crypto/src/factorize.rs
    (0x725f8bfabd7243, 179424611, 179424673), // github.com/tdlib/td tdutils/test/pq.cpp @ 022d60202e446ad128
    (0xfff0bea230278ff7, 4294467311, 4294467449), // github.com/tdlib/td tdutils/test/pq.cpp @ 022d60202e446ad128
    (0x15, 3, 7), // github.com/tdlib/td tdutils/test/pq.cpp @ 022d60202e446ad128
];

#[test]
fn all_vectors_factorize() {
    for &(n, p, q) in VECTORS {
        assert_eq!(pq::factorize(n), Ok((p, q)), "pq = {n}");
        let (pb, qb) = pq::factorize_be(&n.to_be_bytes()).unwrap();
        assert_eq!(pb, pq::to_be_bytes_trimmed(p));
        assert_eq!(qb, pq::to_be_bytes_trimmed(q));
    }
}

#[test]
fn official_2025_bytes() {
    // pq 130b7475669feb8b -> p 44095e05, q 47a8c84f (samples-auth_key 2025)
    let (p, q) = pq::factorize_be(&hex::decode("130b7475669feb8b").unwrap()).unwrap();
    assert_eq!(hex::encode(p), "44095e05");
    assert_eq!(hex::encode(q), "47a8c84f");
}

#[test]
fn tdlib_edge_cases() {
    assert_eq!(pq::factorize(0), Err(PqError::TooSmall));
    assert_eq!(pq::factorize(1), Err(PqError::TooSmall));
    assert_eq!(pq::factorize(2), Err(PqError::Prime));
    assert_eq!(pq::factorize(3), Err(PqError::Prime));
    // tdlib answers 2 for 4 = 2 * 2; the spec's pq is "the product of two
    // different odd prime numbers", so we refuse it.
    assert_eq!(
        pq::factorize(4),
        Err(PqError::NotDistinctOddPrimes { p: 2, q: 2 })
    );
    assert_eq!(pq::factorize(5), Err(PqError::Prime));
    assert_eq!(pq::factorize(21), Ok((3, 7)));
}

#[test]
fn errors_are_bounded() {
    // large primes
    for n in [18446744073709551557u64, 9223372036854775783, 4294967291] {
        assert_eq!(pq::factorize(n), Err(PqError::Prime), "{n}");
    }
    // three or more factors
    assert_eq!(pq::factorize(3 * 5 * 7), Err(PqError::TooManyFactors));
    assert_eq!(pq::factorize(8), Err(PqError::TooManyFactors));
    assert_eq!(
        pq::factorize(1229739323 * 1229739323 * 3),
        Err(PqError::TooManyFactors)
    );
    assert_eq!(
        pq::factorize(4294967291 * 2147483647 * 2),
        Err(PqError::TooManyFactors)
    );
    assert_eq!(
        pq::factorize(65537 * 65539 * 65543 * 3),
        Err(PqError::TooManyFactors)
    );
    // encodings
    assert_eq!(pq::pq_from_be_bytes(&[]), Err(PqError::BadEncoding));
    assert_eq!(pq::pq_from_be_bytes(&[1; 9]), Err(PqError::BadEncoding));
    assert_eq!(
        pq::pq_from_be_bytes(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 21]),
        Ok(21)
    );
    assert_eq!(pq::to_be_bytes_trimmed(0), vec![0]);
    assert_eq!(pq::to_be_bytes_trimmed(0x0265), vec![2, 0x65]);
}

#[test]
fn tdlib_generated_pairs() {
    // primes near 2^31 and 2^32 (tdlib's generator), all pairs
    let mut ps = Vec::new();
    for base in [(1u64 << 31) - 500_000, (1u64 << 32) - 500_000] {
        let mut x = base;
        let mut found = 0;
        while found < 3 {
            if pq::is_prime_u64(x) {
                ps.push(x);
                found += 1;
            }
            x += 1;
        }
    }
    // tdlib takes all pairs p <= q; p == q is refused here (next test).
    for (i, &a) in ps.iter().enumerate() {
        for &b in &ps[i + 1..] {
            assert_eq!(pq::factorize(a * b), Ok((a.min(b), a.max(b))));
        }
    }
    for p in (3u64..100).filter(|&x| pq::is_prime_u64(x)) {
        for q in (p + 1..100).filter(|&x| pq::is_prime_u64(x)) {
            assert_eq!(pq::factorize(p * q), Ok((p, q)));
        }
    }
}

#[test]
fn squares_and_doubles_of_primes_are_refused() {
    // "This number is the product of two different odd prime numbers."
    let square = |p: u64| (p * p, Err(PqError::NotDistinctOddPrimes { p, q: p }));
    let double = |q: u64| (2 * q, Err(PqError::NotDistinctOddPrimes { p: 2, q }));
    let cases = [
        square(2),
        square(3),
        square(97),
        square(1229739323),
        square(4294967291),
        double(3),
        double(97),
        double(1402015859),
        double(4294967291),
        double(9223372036854775783), // 2 * q just below 2^64
    ];
    for (n, want) in cases {
        assert_eq!(pq::factorize(n), want, "pq = {n}");
        assert_eq!(
            pq::factorize_be(&n.to_be_bytes()).map(|_| ()),
            want.map(|_| ()),
            "pq = {n} as bytes"
        );
    }
    assert_eq!(
        PqError::NotDistinctOddPrimes { p: 2, q: 97 }.to_string(),
        "pq = 2 * 97 is not the product of two different odd primes"
    );
}
