#![doc = include_str!("../README.md")]
//!
//! ## In detail
//!
//! Every cryptographic step MTProto 2.0 needs, for the client and the server
//! side, as a sans-IO library:
//!
//! * [`ige`]: AES-256-IGE (and AES-128-IGE) in place, Telegram's 32-byte IV convention;
//! * [`packet`]: [`AuthKey`], `msg_key`, the MTProto 2.0 KDF, packet encryption and
//!   checked decryption in both directions (plus the MTProto 1.0 KDF for key binding);
//! * [`rsa`]: public-key fingerprints, PEM loading, textbook RSA, `RSA_PAD` and its
//!   inverse, the legacy `SHA1(data) + data + padding` scheme, private keys;
//! * [`pq`]: factorization of the 64-bit `pq` proof of work;
//! * [`dh`]: Diffie-Hellman parameter and `g_a`/`g_b` checks, constant-time modular
//!   exponentiation, temporary AES key/IV from nonces, `server_salt`, the SHA-1
//!   wrapped handshake payloads;
//! * [`sha`]: SHA-1 / SHA-256 over several slices;
//! * [`ct_eq`]: constant-time equality of byte strings (every secret comparison
//!   in this crate and in the handshake goes through it).
//!
//! The crate never draws randomness itself: every function that needs random
//! bytes takes them as an argument or takes a caller-supplied
//! `rand::RngCore + rand::CryptoRng`, so every step can be replayed from a
//! transcript. Secrets (keys, nonces, DH exponents) never appear in `Debug`
//! output or error messages, and no input makes the library panic.
//!
//! ## Hazmat: IGE is not authenticated
//!
//! AES-IGE provides confidentiality only. A modified ciphertext decrypts to
//! garbage without any error from [`ige`]. Integrity in MTProto comes from the
//! `msg_key` check in [`packet::decrypt_in_place`] (SHA-256 over the decrypted
//! plaintext, compared in constant time) and from the hashes inside the
//! handshake payloads ([`dh::decrypt_answer_with_hash`], [`rsa::RsaPrivateKey::rsa_pad_decrypt`]).
//! Never act on IGE output that has not passed such a check.
//!
//! ## Big numbers
//!
//! Public-key operations and primality tests on public values use `num-bigint`
//! (variable time is fine there). Exponentiations with a secret exponent (the
//! DH `b`/`a` in [`dh::pow_secret`], the RSA private exponent in
//! [`rsa::RsaPrivateKey::decrypt_raw`], by the Chinese remainder theorem and
//! with the result checked) use our own constant-time Montgomery arithmetic
//! (`modexp`: 64-bit limbs, fused multiply-reduce, a dedicated square, fixed
//! 5-bit windows read by masked table scans). Measured for `g_a^b mod
//! dh_prime` with a 2048-bit `b` (`MIN_OF_N=modexp cargo bench -p
//! mtproto-benches --features openssl --bench crypto`, one run, min of 15):
//! ours 2.44 ms, OpenSSL 3.0's variable-time `BN_mod_exp` 1.51 ms (1.61x: its
//! mulx/adx assembly, chosen at run time, against our safe Rust built for
//! the x86-64 baseline; 1.50x when both are built with `-C
//! target-cpu=native`), num-bigint 3.81 ms, crypto-bigint (what we used
//! before) 3.31 ms.

#![forbid(unsafe_code)]

mod ct;
pub mod dh;
pub mod ige;
mod modexp;
pub mod packet;
pub mod pem;
pub mod pq;
mod prime;
pub mod rsa;
pub mod sha;
#[cfg(feature = "server")]
pub mod test_keys;

pub use ct::ct_eq;
pub use pem::PemError;

pub use packet::{AesKeyIv, AuthKey, Direction, PacketError};
