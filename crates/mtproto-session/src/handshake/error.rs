//! Typed handshake errors: which step failed and which check.

use core::fmt;

use mtproto_crypto::dh::DhError;
use mtproto_tl::DecodeError;

/// The handshake step at which an error happened, named after the message
/// being processed (or produced) at that moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// Client: building `req_pq_multi`.
    ReqPq,
    /// Client: processing `resPQ` and building `req_DH_params`.
    ResPq,
    /// Client: processing `server_DH_params_ok`/`_fail` and building
    /// `set_client_DH_params`.
    ServerDhParams,
    /// Client: processing `dh_gen_ok`/`dh_gen_retry`/`dh_gen_fail`.
    DhGenAnswer,
    /// Server: processing `req_pq_multi`/`req_pq` and building `resPQ`.
    ServerReqPq,
    /// Server: processing `req_DH_params` and building `server_DH_params_ok`.
    ServerReqDhParams,
    /// Server: processing `set_client_DH_params` and building `dh_gen_*`.
    ServerSetClientDhParams,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::ReqPq => "client req_pq_multi",
            Step::ResPq => "client resPQ",
            Step::ServerDhParams => "client server_DH_params",
            Step::DhGenAnswer => "client dh_gen answer",
            Step::ServerReqPq => "server req_pq",
            Step::ServerReqDhParams => "server req_DH_params",
            Step::ServerSetClientDhParams => "server set_client_DH_params",
        })
    }
}

/// Why an unencrypted message envelope was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// Fewer than the 20 header bytes.
    TooShort {
        /// Bytes received.
        len: usize,
    },
    /// `auth_key_id` is not 0, so this is not an unencrypted message.
    NonZeroAuthKeyId,
    /// `message_data_length` is negative or does not match the bytes that follow.
    LengthMismatch {
        /// The declared `message_data_length`.
        declared: i32,
        /// Bytes actually following the header.
        actual: usize,
    },
}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort { len } => {
                write!(
                    f,
                    "plain message of {len} bytes is shorter than its 20-byte header"
                )
            }
            Self::NonZeroAuthKeyId => write!(f, "auth_key_id of a plain message is not 0"),
            Self::LengthMismatch { declared, actual } => write!(
                f,
                "message_data_length {declared} does not match the {actual} body bytes"
            ),
        }
    }
}

/// Which RSA encryption scheme a client used for `encrypted_data` in
/// `req_DH_params` (reported by the server role).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RsaScheme {
    /// MTProto 2.0 `RSA_PAD` (OAEP+-like, with a temporary AES key).
    RsaPad,
    /// The legacy scheme `RSA(SHA1(data) + data + random padding)` (255 bytes),
    /// still used by Telethon 1.x.
    LegacySha1,
}

/// The failed check.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The unencrypted message envelope is malformed.
    Envelope(EnvelopeError),
    /// A TL body (or an encrypted inner body) is truncated or garbage.
    Decode(DecodeError),
    /// A server message whose `msg_id` is not `1 mod 4` (the parity of a
    /// server response to a client message).
    BadServerMsgId {
        /// The `msg_id` received (a public value).
        msg_id: i64,
    },
    /// A well-formed object of a type that is not expected at this step.
    UnexpectedConstructor {
        /// The constructor id that was read.
        id: u32,
    },
    /// `nonce` differs from the one this side chose (or saw) before.
    NonceMismatch,
    /// `server_nonce` differs from the one seen in `resPQ`.
    ServerNonceMismatch,
    /// None of the fingerprints offered in `resPQ` belongs to a known key.
    NoKnownFingerprint {
        /// The fingerprints the server offered (public values).
        offered: Vec<i64>,
    },
    /// `req_DH_params` names a fingerprint the server does not have.
    UnknownFingerprint {
        /// The fingerprint requested.
        fingerprint: i64,
    },
    /// `pq` is not a product of two primes we can factor (or is too large).
    BadPq,
    /// `pq` is the product of two primes, but not of "two different odd prime
    /// numbers": `p == q` or `p == 2`. The factors are public values.
    PqNotDistinctOddPrimes {
        /// The smaller factor.
        p: u64,
        /// The larger factor.
        q: u64,
    },
    /// `p`/`q` in `req_DH_params` or in `p_q_inner_data` do not match the `pq`
    /// the server sent (or `p >= q`).
    BadProofOfWork,
    /// The serialized `p_q_inner_data` is longer than the 144 bytes RSA_PAD allows.
    InnerDataTooLong {
        /// Its length.
        len: usize,
    },
    /// `encrypted_data` in `req_DH_params` could not be decrypted by any supported
    /// scheme (bad length, value >= modulus, failed hash check, garbage).
    RsaDecryptFailed,
    /// The RSA key material is unusable (modulus not 2048 bits, for example).
    BadRsaKey,
    /// The server answered `server_DH_params_fail`.
    ServerDhParamsFail {
        /// Whether its `new_nonce_hash` matched ours (if not, the answer may be forged).
        new_nonce_hash_ok: bool,
    },
    /// The AES-encrypted payload has a bad length (not a positive multiple of 16
    /// or too short to hold a hash).
    EncryptedLength {
        /// Its length.
        len: usize,
    },
    /// The SHA1 in front of the decrypted `answer_with_hash` (or
    /// `data_with_hash`) does not match the inner object.
    BadAnswerHash,
    /// A Diffie-Hellman check failed (`g`, `dh_prime`, `g_a`, `g_b`), as
    /// reported by `mtproto_crypto::dh`.
    Dh(DhError),
    /// `new_nonce_hash1/2/3` in the `dh_gen_*` answer does not match.
    NewNonceHashMismatch,
    /// The server answered `dh_gen_fail`.
    DhGenFail,
    /// The server kept answering `dh_gen_retry` past the configured limit.
    RetriesExhausted {
        /// How many retries were made.
        retries: u32,
    },
    /// `retry_id` in `client_DH_inner_data` is not 0 (first attempt) or the
    /// previous key's `auth_key_aux_hash` (after `dh_gen_retry`).
    BadRetryId,
    /// A method was called in a state that does not accept it.
    OutOfOrder,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Envelope(e) => write!(f, "bad envelope: {e}"),
            Self::Decode(e) => write!(f, "malformed message: {e}"),
            Self::BadServerMsgId { msg_id } => write!(
                f,
                "server msg_id {msg_id:#018x} is {} mod 4, not 1 (a response)",
                msg_id & 3
            ),
            Self::UnexpectedConstructor { id } => write!(f, "unexpected constructor {id:#010x}"),
            Self::NonceMismatch => f.write_str("nonce mismatch"),
            Self::ServerNonceMismatch => f.write_str("server_nonce mismatch"),
            Self::NoKnownFingerprint { offered } => {
                write!(f, "no known RSA key among the fingerprints offered: [")?;
                for (i, fp) in offered.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{:016x}", *fp as u64)?;
                }
                f.write_str("]")
            }
            Self::UnknownFingerprint { fingerprint } => {
                write!(f, "unknown RSA fingerprint {:016x}", *fingerprint as u64)
            }
            Self::BadPq => f.write_str("pq is not a product of two primes that can be factored"),
            Self::PqNotDistinctOddPrimes { p, q } => write!(
                f,
                "pq = {p} * {q} is not the product of two different odd primes"
            ),
            Self::BadProofOfWork => f.write_str("p and q do not match pq"),
            Self::InnerDataTooLong { len } => {
                write!(f, "p_q_inner_data is {len} bytes, more than 144")
            }
            Self::RsaDecryptFailed => f.write_str("encrypted_data could not be decrypted"),
            Self::BadRsaKey => f.write_str("unusable RSA key"),
            Self::ServerDhParamsFail { new_nonce_hash_ok } => write!(
                f,
                "server answered server_DH_params_fail (new_nonce_hash {})",
                if *new_nonce_hash_ok {
                    "matches"
                } else {
                    "does not match"
                }
            ),
            Self::EncryptedLength { len } => write!(f, "encrypted payload has bad length {len}"),
            Self::BadAnswerHash => f.write_str("SHA1 of the decrypted payload does not match"),
            Self::Dh(c) => write!(f, "DH check failed: {c}"),
            Self::NewNonceHashMismatch => f.write_str("new_nonce_hash mismatch"),
            Self::DhGenFail => f.write_str("server answered dh_gen_fail"),
            Self::RetriesExhausted { retries } => {
                write!(f, "dh_gen_retry after {retries} retries")
            }
            Self::BadRetryId => f.write_str("unexpected retry_id"),
            Self::OutOfOrder => f.write_str("call out of order for the handshake state"),
        }
    }
}

/// A handshake failure: the step and the check that failed.
///
/// Never carries secret values (nonces, keys, exponents).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandshakeError {
    /// Where it happened.
    pub step: Step,
    /// What went wrong.
    pub kind: ErrorKind,
}

impl HandshakeError {
    /// An error of `kind` at `step`.
    pub fn new(step: Step, kind: ErrorKind) -> Self {
        Self { step, kind }
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "handshake failed at {}: {}", self.step, self.kind)
    }
}

impl std::error::Error for HandshakeError {}
