//! Server role, as typed states (used by test servers). Outputs are TL
//! bodies; wrap them with [`super::encode_plain`] (or use
//! [`super::ServerHandshake`]).

use rand::{CryptoRng, RngCore};

use mtproto_crypto::dh::{self as cdh, DhSecret, TELEGRAM_DH_PRIME};
use mtproto_crypto::pq;
use mtproto_crypto::rsa::{self, RsaPrivateKey};
use mtproto_crypto::{ct_eq, AesKeyIv, AuthKey};
use mtproto_tl::mtproto::{enums, functions, types};
use mtproto_tl::{Identifiable, Serialize};

use super::client::{trim_be, DhGen};
use super::dh;
use super::error::{ErrorKind, HandshakeError, RsaScheme, Step};
use super::wire::{self, PqInnerVariant};
use crate::Timestamp;

/// How often the server redraws a secret exponent whose `g_a` is out of range,
/// or `q` when it equals `p`.
const MAX_REDRAWS: usize = 16;

/// How many `dh_gen_retry` answers the server sends for colliding key ids
/// before it answers `dh_gen_fail`.
pub const SERVER_MAX_RETRIES: u32 = 5;

/// Server-side handshake options.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Our RSA private keys; all their fingerprints are offered in `resPQ`.
    pub rsa_keys: Vec<RsaPrivateKey>,
    /// The generator `g` (Telegram uses 3).
    pub g: i32,
    /// The 2048-bit safe prime, big-endian.
    pub dh_prime: Vec<u8>,
    /// Whether to accept the legacy `RSA(SHA1(data) + data + padding)` scheme
    /// that Telethon 1.x still uses.
    pub allow_legacy_rsa: bool,
    /// A rule of the handshake to break on purpose, to test that clients
    /// refuse it (a hostile server for researchers). `None` (the default):
    /// an honest server.
    pub violation: Option<HandshakeViolation>,
}

/// A handshake rule a hostile server breaks (see
/// [`ServerConfig::violation`]); each is a check the client must make
/// (auth_key, security_guidelines).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HandshakeViolation {
    /// `resPQ.nonce` is not the client's nonce.
    ResPqNonce,
    /// `resPQ` lists only fingerprints of keys the client does not have.
    Fingerprints,
    /// `pq` is the square of a prime, not "the product of two different odd
    /// prime numbers".
    Pq,
    /// `server_DH_params_ok.server_nonce` differs from `resPQ`'s.
    ServerNonce,
    /// The SHA1 of `answer_with_hash` does not match the answer.
    AnswerHash,
    /// `dh_prime` is not a safe 2048-bit prime (an even number).
    DhPrime,
    /// `g` is not one of 2..=7.
    G,
    /// `g_a` is 1, outside (1, dh_prime - 1).
    GA,
    /// `dh_gen_ok.new_nonce_hash1` is wrong.
    NewNonceHash,
}

impl ServerConfig {
    /// `g = 3` with Telegram's `dh_prime`, legacy RSA accepted.
    pub fn new(rsa_keys: Vec<RsaPrivateKey>) -> Self {
        Self {
            rsa_keys,
            g: 3,
            dh_prime: TELEGRAM_DH_PRIME.to_vec(),
            allow_legacy_rsa: true,
            violation: None,
        }
    }
}

/// The result of a successful server handshake.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerOutcome {
    /// The new authorization key.
    pub auth_key: AuthKey,
    /// The first server salt (`new_nonce[0..8] XOR server_nonce[0..8]`, little-endian).
    pub server_salt: i64,
    /// The RSA scheme the client used.
    pub rsa_scheme: RsaScheme,
    /// Which `p_q_inner_data` the client sent (dc, temporary key lifetime).
    pub inner: PqInnerVariant,
    /// Fingerprint of the RSA key the client chose.
    pub rsa_fingerprint: i64,
}

impl core::fmt::Debug for ServerOutcome {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ServerOutcome")
            .field("auth_key", &self.auth_key)
            .field("rsa_scheme", &self.rsa_scheme)
            .field("inner", &self.inner)
            .field("rsa_fingerprint", &self.rsa_fingerprint)
            .finish_non_exhaustive()
    }
}

fn err(step: Step) -> impl Fn(ErrorKind) -> HandshakeError {
    move |kind| HandshakeError::new(step, kind)
}

/// A random odd 31-bit number (top bit set), then the next prime upwards.
/// Prime gaps below 2^31 are far smaller than the room left, so the search
/// ends quickly and stays below 2^31 + 2^10.
fn random_prime31<R: RngCore>(rng: &mut R) -> u64 {
    let mut b = [0u8; 4];
    rng.fill_bytes(&mut b);
    let mut c = (u64::from(u32::from_le_bytes(b)) >> 1) | (1 << 30) | 1;
    while !pq::is_prime_u64(c) {
        c += 2;
    }
    c
}

/// Waiting for `req_pq_multi` (or `req_pq`).
#[derive(Clone)]
pub struct AwaitingReqPq {
    config: ServerConfig,
}

impl AwaitingReqPq {
    /// The initial server state.
    pub fn new(config: ServerConfig) -> Self {
        Self { config }
    }

    /// Answers `req_pq_multi`/`req_pq` with `resPQ`. Draws `server_nonce` (16)
    /// and the two primes.
    pub fn handle_req_pq<R: RngCore + CryptoRng>(
        self,
        body: &[u8],
        rng: &mut R,
    ) -> Result<(AwaitingReqDhParams, Vec<u8>), HandshakeError> {
        let e = err(Step::ServerReqPq);
        // Both `req_pq_multi` and the older `req_pq` (Telethon 1.x) are answered.
        let nonce = match wire::peek_id(body).map_err(&e)? {
            functions::ReqPq::CONSTRUCTOR_ID => {
                wire::decode::<functions::ReqPq>(body).map_err(&e)?.nonce
            }
            _ => {
                wire::decode::<functions::ReqPqMulti>(body)
                    .map_err(&e)?
                    .nonce
            }
        };
        if self.config.rsa_keys.is_empty() {
            return Err(e(ErrorKind::BadRsaKey));
        }
        // "The value of server_nonce is selected randomly by the server"
        let mut server_nonce = [0u8; 16];
        rng.fill_bytes(&mut server_nonce);
        // "pq is a representation of a natural number (in binary big endian
        // format). This number is the product of two different odd prime numbers."
        let p0 = random_prime31(rng);
        let mut q0 = random_prime31(rng);
        let mut tries = 0;
        while q0 == p0 && tries < MAX_REDRAWS {
            q0 = random_prime31(rng);
            tries += 1;
        }
        if q0 == p0 {
            // A degenerate RNG; take the next prime after p.
            q0 = p0 + 2;
            while !pq::is_prime_u64(q0) {
                q0 += 2;
            }
        }
        let (p, mut q) = (p0.min(q0), p0.max(q0));
        let violation = self.config.violation;
        if violation == Some(HandshakeViolation::Pq) {
            q = p;
        }
        let pq_value = p.saturating_mul(q);
        let mut res = types::ResPq {
            nonce,
            server_nonce,
            pq: pq::to_be_bytes_trimmed(pq_value),
            server_public_key_fingerprints: self
                .config
                .rsa_keys
                .iter()
                .map(|k| k.public_key().fingerprint())
                .collect(),
        };
        match violation {
            Some(HandshakeViolation::ResPqNonce) => res.nonce[0] ^= 1,
            Some(HandshakeViolation::Fingerprints) => {
                for f in &mut res.server_public_key_fingerprints {
                    *f ^= 1;
                }
            }
            _ => {}
        }

        Ok((
            AwaitingReqDhParams {
                config: self.config,
                nonce,
                server_nonce,
                pq: pq_value,
                p,
                q,
            },
            res.to_bytes(),
        ))
    }
}

/// Waiting for `req_DH_params`.
#[derive(Clone)]
pub struct AwaitingReqDhParams {
    config: ServerConfig,
    nonce: [u8; 16],
    server_nonce: [u8; 16],
    pq: u64,
    p: u64,
    q: u64,
}

impl AwaitingReqDhParams {
    /// The `pq` this server sent, with its factors `(p, q)`, `p < q`.
    pub fn pq(&self) -> (u64, u64, u64) {
        (self.pq, self.p, self.q)
    }

    fn check_nonces(&self, nonce: &[u8; 16], server_nonce: &[u8; 16]) -> Result<(), ErrorKind> {
        if !ct_eq(nonce, &self.nonce) {
            return Err(ErrorKind::NonceMismatch);
        }
        if !ct_eq(server_nonce, &self.server_nonce) {
            return Err(ErrorKind::ServerNonceMismatch);
        }
        Ok(())
    }

    /// `p` and `q` must be exactly the factors of the `pq` we sent, `p < q`.
    fn check_pq(&self, pq_be: Option<&[u8]>, p_be: &[u8], q_be: &[u8]) -> Result<(), ErrorKind> {
        let num = |b: &[u8]| pq::pq_from_be_bytes(b).ok();
        let bad_pq = matches!(pq_be, Some(b) if num(b) != Some(self.pq));
        if bad_pq || num(p_be) != Some(self.p) || num(q_be) != Some(self.q) {
            return Err(ErrorKind::BadProofOfWork);
        }
        Ok(())
    }

    /// Decrypts `req_DH_params` and answers `server_DH_params_ok`. Draws `a`
    /// (256, redrawn while `g_a` is out of range) and 16 padding bytes.
    pub fn handle_req_dh_params<R: RngCore + CryptoRng>(
        self,
        body: &[u8],
        rng: &mut R,
        now: Timestamp,
    ) -> Result<(AwaitingSetClientDhParams, Vec<u8>), HandshakeError> {
        let e = err(Step::ServerReqDhParams);
        let req: functions::ReqDhParams = wire::decode(body).map_err(&e)?;
        self.check_nonces(&req.nonce, &req.server_nonce)
            .map_err(&e)?;
        // "Client decomposes pq into prime factors such that p < q."
        self.check_pq(None, &req.p, &req.q).map_err(&e)?;
        let key = self
            .config
            .rsa_keys
            .iter()
            .find(|k| k.public_key().fingerprint() == req.public_key_fingerprint)
            .ok_or_else(|| {
                e(ErrorKind::UnknownFingerprint {
                    fingerprint: req.public_key_fingerprint,
                })
            })?;
        // One modular exponentiation per request (the costly step: a peer must
        // not get two for the price of one), then the paddings on its result:
        // RSA_PAD first ("encrypted_data := RSA_PAD (data, server_public_key)"),
        // then the legacy SHA1(data) + data + padding scheme.
        if req.encrypted_data.len() != rsa::RSA_LEN {
            return Err(e(ErrorKind::RsaDecryptFailed));
        }
        let raw = key
            .decrypt_raw(&req.encrypted_data)
            .map_err(|_| e(ErrorKind::RsaDecryptFailed))?;
        let (inner, scheme) = match rsa::rsa_pad_unpad(&raw) {
            Ok(plain) => {
                // The random padding follows the object.
                let mut r = wire::reader(&plain.data_with_padding);
                let inner = wire::read::<enums::PQInnerData>(&mut r).map_err(&e)?;
                (inner, RsaScheme::RsaPad)
            }
            Err(_) if self.config.allow_legacy_rsa => {
                let data = rsa::legacy_unpad(&raw).map_err(|_| e(ErrorKind::RsaDecryptFailed))?;
                let inner = wire::decode::<enums::PQInnerData>(&data).map_err(&e)?;
                (inner, RsaScheme::LegacySha1)
            }
            Err(_) => return Err(e(ErrorKind::RsaDecryptFailed)),
        };
        let (variant, inner) = wire::split_pq_inner_data(inner);
        self.check_nonces(&inner.nonce, &inner.server_nonce)
            .map_err(&e)?;
        self.check_pq(Some(&inner.pq), &inner.p, &inner.q)
            .map_err(&e)?;

        let mut a = DhSecret::from_bytes([0u8; 256]);
        let mut g_a = Err(cdh::DhError::GaOutOfRange);
        for _ in 0..MAX_REDRAWS {
            let mut raw = [0u8; 256];
            rng.fill_bytes(&mut raw);
            a = DhSecret::from_bytes(raw);
            // g_a = g^a mod dh_prime; crypto checks that it is "greater than 1
            // and less than dh_prime - 1" and within the 2^{2048-64} margin.
            g_a = cdh::public_value(self.config.g, &a, &self.config.dh_prime);
            if g_a.is_ok() {
                break;
            }
        }
        let mut g_a = g_a.map_err(|x| e(dh::dh_error(x)))?;
        let violation = self.config.violation;
        let mut g = self.config.g;
        let mut dh_prime = self.config.dh_prime.clone();
        match violation {
            Some(HandshakeViolation::GA) => {
                g_a = [0u8; 256];
                g_a[255] = 1;
            }
            Some(HandshakeViolation::G) => g = 9,
            Some(HandshakeViolation::DhPrime) => {
                if let Some(last) = dh_prime.last_mut() {
                    *last ^= 1;
                }
            }
            _ => {}
        }
        // The low 32 bits (read back unsigned: valid past 2038).
        let secs = u32::try_from(now.as_secs()).unwrap_or(u32::MAX);
        let server_time = i32::from_le_bytes(secs.to_le_bytes());
        let answer = types::ServerDhInnerData {
            nonce: self.nonce,
            server_nonce: self.server_nonce,
            g,
            dh_prime,
            g_a: trim_be(&g_a).to_vec(),
            server_time,
        }
        .to_bytes();
        let mut pad = [0u8; 16];
        rng.fill_bytes(&mut pad);
        // "answer_with_hash := SHA1(answer) + answer + (0-15 random bytes); [...]
        // encrypted_answer := AES256_ige_encrypt (answer_with_hash, tmp_aes_key, tmp_aes_iv)"
        let tmp = cdh::tmp_aes_key_iv(&self.server_nonce, &inner.new_nonce);
        let mut encrypted_answer = dh::seal_with_hash(&answer, &pad, &tmp).map_err(&e)?;
        let mut server_nonce = self.server_nonce;
        match violation {
            // In IGE a changed last block garbles the last plaintext block,
            // which always holds answer bytes: the hash no longer matches.
            Some(HandshakeViolation::AnswerHash) => {
                if let Some(last) = encrypted_answer.last_mut() {
                    *last ^= 1;
                }
            }
            Some(HandshakeViolation::ServerNonce) => server_nonce[0] ^= 1,
            _ => {}
        }
        let reply = types::ServerDhParamsOk {
            nonce: self.nonce,
            server_nonce,
            encrypted_answer,
        }
        .to_bytes();
        Ok((
            AwaitingSetClientDhParams {
                nonce: self.nonce,
                server_nonce: self.server_nonce,
                new_nonce: inner.new_nonce,
                a,
                dh_prime: self.config.dh_prime.clone(),
                tmp,
                scheme,
                inner: variant,
                rsa_fingerprint: req.public_key_fingerprint,
                expected_retry_id: 0,
                retries: 0,
                violation,
            },
            reply,
        ))
    }
}

/// Waiting for `set_client_DH_params`.
#[derive(Clone)]
pub struct AwaitingSetClientDhParams {
    nonce: [u8; 16],
    server_nonce: [u8; 16],
    new_nonce: [u8; 32],
    a: DhSecret,
    dh_prime: Vec<u8>,
    tmp: AesKeyIv,
    scheme: RsaScheme,
    inner: PqInnerVariant,
    rsa_fingerprint: i64,
    expected_retry_id: i64,
    retries: u32,
    violation: Option<HandshakeViolation>,
}

/// The server's reaction to `set_client_DH_params`, as returned by
/// [`AwaitingSetClientDhParams::handle_set_client_dh_params`].
#[allow(clippy::large_enum_variant)] // returned once; boxing buys nothing
pub enum SetClientDhResult {
    /// Send this `dh_gen_ok` body; the key is ready.
    Done(Vec<u8>, ServerOutcome),
    /// Send this `dh_gen_retry` body and wait for another `set_client_DH_params`.
    Retry(AwaitingSetClientDhParams, Vec<u8>),
}

/// The server's full reaction to `set_client_DH_params`, including the
/// `dh_gen_fail` it sends when key collisions exhaust its retries; returned by
/// [`AwaitingSetClientDhParams::answer_set_client_dh_params`].
#[allow(clippy::large_enum_variant)] // returned once; boxing buys nothing
pub enum SetClientDhAnswer {
    /// Send this `dh_gen_ok` body; the key is ready.
    Done(Vec<u8>, ServerOutcome),
    /// Send this `dh_gen_retry` body and wait for another `set_client_DH_params`.
    Retry(AwaitingSetClientDhParams, Vec<u8>),
    /// Send this `dh_gen_fail` body; the handshake failed with `error`
    /// ([`ErrorKind::RetriesExhausted`]).
    Fail(Vec<u8>, HandshakeError),
}

impl AwaitingSetClientDhParams {
    /// The RSA scheme the client used in `req_DH_params`.
    pub fn rsa_scheme(&self) -> RsaScheme {
        self.scheme
    }

    /// Which `p_q_inner_data` the client sent.
    pub fn inner_variant(&self) -> PqInnerVariant {
        self.inner
    }

    /// Like [`Self::answer_set_client_dh_params`], but when key collisions
    /// exhaust the retries it returns only the error, without the
    /// `dh_gen_fail` body (kept for callers that do not send it).
    pub fn handle_set_client_dh_params(
        self,
        body: &[u8],
        key_exists: impl FnMut(&AuthKey) -> bool,
    ) -> Result<SetClientDhResult, HandshakeError> {
        match self.answer_set_client_dh_params(body, key_exists)? {
            SetClientDhAnswer::Done(reply, outcome) => Ok(SetClientDhResult::Done(reply, outcome)),
            SetClientDhAnswer::Retry(next, reply) => Ok(SetClientDhResult::Retry(next, reply)),
            SetClientDhAnswer::Fail(_, error) => Err(error),
        }
    }

    /// Decrypts `set_client_DH_params`, checks `g_b`, computes the key and
    /// answers `dh_gen_ok`; or `dh_gen_retry` if `key_exists` says the key's
    /// id is taken, up to [`SERVER_MAX_RETRIES`] times, then `dh_gen_fail`.
    pub fn answer_set_client_dh_params(
        mut self,
        body: &[u8],
        mut key_exists: impl FnMut(&AuthKey) -> bool,
    ) -> Result<SetClientDhAnswer, HandshakeError> {
        let e = err(Step::ServerSetClientDhParams);
        let req: functions::SetClientDhParams = wire::decode(body).map_err(&e)?;
        if !ct_eq(&req.nonce, &self.nonce) {
            return Err(e(ErrorKind::NonceMismatch));
        }
        if !ct_eq(&req.server_nonce, &self.server_nonce) {
            return Err(e(ErrorKind::ServerNonceMismatch));
        }
        // "data_with_hash := SHA1(data) + data + (0-15 random bytes)"
        let enums::ClientDhInnerData::ClientDhInnerData(data) =
            dh::open_with_hash(&req.encrypted_data, &self.tmp).map_err(&e)?;
        if !ct_eq(&data.nonce, &self.nonce) {
            return Err(e(ErrorKind::NonceMismatch));
        }
        if !ct_eq(&data.server_nonce, &self.server_nonce) {
            return Err(e(ErrorKind::ServerNonceMismatch));
        }
        // "The retry_id field is equal to zero at the time of the first attempt;
        // otherwise, it is equal to auth_key_aux_hash from the previous failed attempt"
        // (auth_key_aux_hash is secret-derived: compared in constant time)
        if !ct_eq(
            &data.retry_id.to_le_bytes(),
            &self.expected_retry_id.to_le_bytes(),
        ) {
            return Err(e(ErrorKind::BadRetryId));
        }
        // "both sides are to check that g, g_a and g_b are greater than 1 and
        // less than dh_prime - 1" (and the recommended 2^{2048-64} margin).
        cdh::check_g_b(&data.g_b, &self.dh_prime).map_err(|x| e(dh::dh_error(x)))?;
        // "on the server, it is computed as pow(g_b, a) mod dh_prime"
        let auth_key = cdh::compute_auth_key(&data.g_b, &self.a, &self.dh_prime)
            .map_err(|x| e(dh::dh_error(x)))?;
        // "The server checks whether there already is another key with the same
        // auth_key_hash and responds in one of the following ways."
        if key_exists(&auth_key) {
            if self.retries >= SERVER_MAX_RETRIES {
                // "dh_gen_fail#a69dae02 nonce:int128 server_nonce:int128
                // new_nonce_hash3:int128": we give up on finding a fresh key.
                let reply = types::DhGenFail {
                    nonce: self.nonce,
                    server_nonce: self.server_nonce,
                    new_nonce_hash3: auth_key.new_nonce_hash(&self.new_nonce, DhGen::Fail as u8),
                }
                .to_bytes();
                return Ok(SetClientDhAnswer::Fail(
                    reply,
                    e(ErrorKind::RetriesExhausted {
                        retries: self.retries,
                    }),
                ));
            }
            // "In the other case, the client goes to Item 7) generating a new b."
            let reply = types::DhGenRetry {
                nonce: self.nonce,
                server_nonce: self.server_nonce,
                new_nonce_hash2: auth_key.new_nonce_hash(&self.new_nonce, DhGen::Retry as u8),
            }
            .to_bytes();
            self.expected_retry_id = i64::from_le_bytes(auth_key.aux_hash());
            self.retries += 1;
            return Ok(SetClientDhAnswer::Retry(self, reply));
        }
        let mut new_nonce_hash1 = auth_key.new_nonce_hash(&self.new_nonce, DhGen::Ok as u8);
        if self.violation == Some(HandshakeViolation::NewNonceHash) {
            new_nonce_hash1[0] ^= 1;
        }
        let reply = types::DhGenOk {
            nonce: self.nonce,
            server_nonce: self.server_nonce,
            new_nonce_hash1,
        }
        .to_bytes();
        Ok(SetClientDhAnswer::Done(
            reply,
            ServerOutcome {
                server_salt: cdh::server_salt(&self.new_nonce, &self.server_nonce),
                auth_key,
                rsa_scheme: self.scheme,
                inner: self.inner,
                rsa_fingerprint: self.rsa_fingerprint,
            },
        ))
    }
}
