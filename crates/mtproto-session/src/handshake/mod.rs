//! The auth-key handshake (core.telegram.org/mtproto/auth_key), client and
//! server roles, as sans-IO state machines.
//!
//! Two layers:
//!
//! - **Typed states** ([`client`], [`server`]): each state is a struct whose
//!   handler consumes it and returns the next state plus the TL body to send,
//!   so calling the steps out of order does not compile.
//! - **Drivers** ([`ClientHandshake`], [`ServerHandshake`]): feed one incoming
//!   unencrypted message (the bytes inside the transport frame), get the next
//!   outgoing unencrypted message or the final outcome. Calls in the wrong
//!   state return [`ErrorKind::OutOfOrder`].
//!
//! Nothing here reads a clock or the OS RNG: every call takes `now` and an
//! RNG. The bytes are drawn in a fixed, documented order so a transcript
//! replays exactly.
//!
//! ## Client randomness, in order
//!
//! 1. `start`: `nonce` (16 bytes).
//! 2. `resPQ`: `new_nonce` (32), then a 224-byte RSA_PAD block: its first
//!    `192 - len(p_q_inner_data)` bytes are the random padding and bytes
//!    `192..224` the first `temp_key`. Should `key_aes_encrypted >= n`, every
//!    further `temp_key` is 32 fresh bytes (spec: "the previous steps starting
//!    from the generation of new random temp_key are repeated").
//! 3. `server_DH_params_ok`: (only if `dh_prime` is not Telegram's known
//!    prime: the Miller-Rabin bases `mtproto_crypto::dh::check_dh_params`
//!    draws), then `b` (256, big-endian), then 16 bytes of which the first
//!    `0..=15` pad `data_with_hash` to a multiple of 16.
//! 4. `dh_gen_retry`: as 3. again.
//!
//! ## Server randomness, in order
//!
//! 1. `req_pq_multi`: `server_nonce` (16); then per prime 4 bytes (a 31-bit
//!    odd candidate, then the next prime upwards) for `p`, then for `q`
//!    (redrawn while equal to `p`, at most 16 times).
//! 2. `req_DH_params`: `a` (256), redrawn while `g_a` fails the range check
//!    (at most 16 times), then 16 bytes of `answer_with_hash` padding.
//! 3. `set_client_DH_params`: nothing.
//!
//! A repeated request (byte-identical body) re-sends the remembered answer
//! and draws nothing.

pub mod client;
mod debug;
mod dh;
pub mod envelope;
mod error;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "server")]
mod server_driver;
pub mod wire;

pub use envelope::{decode_plain, encode_plain, PlainMessage};
pub use error::{EnvelopeError, ErrorKind, HandshakeError, RsaScheme, Step};
pub use mtproto_crypto::dh::{DhError, TELEGRAM_DH_PRIME};
#[cfg(feature = "server")]
pub use mtproto_crypto::rsa::RsaPrivateKey;
pub use mtproto_crypto::rsa::RsaPublicKey;
pub use mtproto_crypto::AuthKey;
#[cfg(feature = "server")]
pub use server_driver::{ServerHandshake, ServerStep};
pub use wire::PqInnerVariant;

use std::collections::VecDeque;

use rand::{CryptoRng, RngCore};

use crate::msg_id::{raw_msg_id, MsgIdGenerator, MsgIdKind};
use crate::Timestamp;

/// Default bound on `dh_gen_retry` answers the client accepts.
pub const DEFAULT_MAX_RETRIES: u32 = 5;

/// How long after `req_pq` the server driver re-sends remembered answers to
/// repeated requests (auth_key.html: "The server remembers the response for
/// up to 10 minutes after having received the query in 1).").
pub const REMEMBER_ANSWERS_FOR: core::time::Duration = core::time::Duration::from_secs(600);

/// Client-side handshake options.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct HandshakeConfig {
    /// RSA public keys we trust; the first fingerprint in `resPQ` that matches
    /// one of them is used.
    pub rsa_keys: Vec<RsaPublicKey>,
    /// Which `p_q_inner_data` to send (permanent or temporary key, with or
    /// without the DC id).
    pub inner: PqInnerVariant,
    /// How many `dh_gen_retry` answers to accept before giving up.
    pub max_retries: u32,
}

impl HandshakeConfig {
    /// A permanent key for DC `dc` (`p_q_inner_data_dc`). Add 10000 for test
    /// DCs and negate for media DCs, as the spec says.
    pub fn new(rsa_keys: Vec<RsaPublicKey>, dc: i32) -> Self {
        Self {
            rsa_keys,
            inner: PqInnerVariant::Dc { dc },
            max_retries: DEFAULT_MAX_RETRIES,
        }
    }

    /// Sends `p_q_inner_data` without a DC id (what older clients send).
    pub fn without_dc(rsa_keys: Vec<RsaPublicKey>) -> Self {
        Self {
            rsa_keys,
            inner: PqInnerVariant::Plain,
            max_retries: DEFAULT_MAX_RETRIES,
        }
    }

    /// Turns this into a temporary-key handshake (`p_q_inner_data_temp_dc`, or
    /// `p_q_inner_data_temp` without a DC) valid for `expires_in` seconds.
    pub fn temporary(mut self, expires_in: i32) -> Self {
        self.inner = match self.inner {
            PqInnerVariant::Dc { dc } | PqInnerVariant::TempDc { dc, .. } => {
                PqInnerVariant::TempDc { dc, expires_in }
            }
            PqInnerVariant::Plain | PqInnerVariant::Temp { .. } => {
                PqInnerVariant::Temp { expires_in }
            }
        };
        self
    }
}

/// The result of a successful client handshake.
#[derive(Clone, PartialEq, Eq)]
pub struct HandshakeOutcome {
    /// The new authorization key.
    pub auth_key: AuthKey,
    /// The first server salt: `substr(new_nonce, 0, 8) XOR substr(server_nonce, 0, 8)`
    /// read as a little-endian `long`.
    pub server_salt: i64,
    /// `server_time - local now` in seconds, measured when
    /// `server_DH_params_ok` was processed.
    pub time_offset: i32,
    /// `Some(expires_in)` if this is a temporary key.
    pub expires_in: Option<i32>,
    /// Fingerprint of the RSA key that was used.
    pub rsa_fingerprint: i64,
}

impl core::fmt::Debug for HandshakeOutcome {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HandshakeOutcome")
            .field("auth_key", &self.auth_key)
            .field("time_offset", &self.time_offset)
            .field("expires_in", &self.expires_in)
            .field("rsa_fingerprint", &self.rsa_fingerprint)
            .finish_non_exhaustive()
    }
}

/// Where outgoing plain messages get their `msg_id`.
pub trait MsgIdSource {
    /// The `msg_id` for the next outgoing message at local time `now`.
    fn next_msg_id(&mut self, now: Timestamp) -> i64;
}

impl MsgIdSource for MsgIdGenerator {
    fn next_msg_id(&mut self, now: Timestamp) -> i64 {
        self.next(now)
    }
}

/// Replays recorded message ids in order (for transcripts); once they run out
/// it falls back to `unixtime * 2^32` of `now` with the low two bits cleared.
#[derive(Clone, Debug, Default)]
pub struct FixedMsgIds(pub VecDeque<i64>);

impl FixedMsgIds {
    /// Replays `ids` in order.
    pub fn new(ids: impl IntoIterator<Item = i64>) -> Self {
        Self(ids.into_iter().collect())
    }
}

impl MsgIdSource for FixedMsgIds {
    fn next_msg_id(&mut self, now: Timestamp) -> i64 {
        self.0
            .pop_front()
            .unwrap_or_else(|| raw_msg_id(now, 0) & !3)
    }
}

/// What the client driver wants done next.
#[allow(clippy::large_enum_variant)] // returned once per message; boxing buys nothing
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientStep {
    /// Send these bytes (a whole unencrypted message) to the server.
    Send(Vec<u8>),
    /// The handshake is complete.
    Done(HandshakeOutcome),
}

enum ClientState {
    Idle(Box<HandshakeConfig>),
    ResPq(Box<client::AwaitingResPq>),
    ServerDh(Box<client::AwaitingServerDhParams>),
    DhGen(Box<client::AwaitingDhGen>),
    Finished,
}

/// The client handshake driver: unencrypted messages in, unencrypted
/// messages out. See the module docs for the randomness order.
pub struct ClientHandshake<M: MsgIdSource = MsgIdGenerator> {
    state: ClientState,
    msg_ids: M,
}

impl ClientHandshake<MsgIdGenerator> {
    /// A client handshake with a fresh client msg_id generator.
    pub fn new(config: HandshakeConfig) -> Self {
        Self::with_msg_ids(config, MsgIdGenerator::new(MsgIdKind::Client))
    }
}

impl<M: MsgIdSource> ClientHandshake<M> {
    /// A client handshake whose outgoing msg_ids come from `msg_ids`.
    pub fn with_msg_ids(config: HandshakeConfig, msg_ids: M) -> Self {
        Self {
            state: ClientState::Idle(Box::new(config)),
            msg_ids,
        }
    }

    /// Builds the first message (`req_pq_multi`). Draws the 16-byte nonce.
    pub fn start<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        now: Timestamp,
    ) -> Result<Vec<u8>, HandshakeError> {
        match core::mem::replace(&mut self.state, ClientState::Finished) {
            ClientState::Idle(config) => {
                let (next, body) = client::start(*config, rng);
                self.state = ClientState::ResPq(Box::new(next));
                Ok(encode_plain(self.msg_ids.next_msg_id(now), &body))
            }
            other => {
                self.state = other;
                Err(HandshakeError::new(Step::ReqPq, ErrorKind::OutOfOrder))
            }
        }
    }

    /// Feeds one incoming unencrypted message. Its `msg_id` must be `1 mod 4`
    /// (a server response), else [`ErrorKind::BadServerMsgId`]. Any error ends
    /// the handshake (the caller should reconnect and start over, as the spec
    /// recommends).
    pub fn feed<R: RngCore + CryptoRng>(
        &mut self,
        incoming: &[u8],
        rng: &mut R,
        now: Timestamp,
    ) -> Result<ClientStep, HandshakeError> {
        let state = core::mem::replace(&mut self.state, ClientState::Finished);
        let step = match &state {
            ClientState::ResPq(_) => Step::ResPq,
            ClientState::ServerDh(_) => Step::ServerDhParams,
            ClientState::DhGen(_) => Step::DhGenAnswer,
            ClientState::Idle(_) | ClientState::Finished => {
                self.state = state;
                return Err(HandshakeError::new(Step::ResPq, ErrorKind::OutOfOrder));
            }
        };
        let msg = decode_plain(incoming)
            .map_err(|e| HandshakeError::new(step, ErrorKind::Envelope(e)))?;
        // description.html, "Message Identifier (msg_id)": "Client message
        // identifiers are divisible by 4, server message identifiers modulo 4
        // yield 1 if the message is a response to a client message, and 3
        // otherwise." Every handshake answer is a response.
        if msg.msg_id & 3 != 1 {
            return Err(HandshakeError::new(
                step,
                ErrorKind::BadServerMsgId { msg_id: msg.msg_id },
            ));
        }
        let (next, body) = match state {
            ClientState::ResPq(s) => {
                let (n, b) = (*s).handle_res_pq(msg.body, rng)?;
                (ClientState::ServerDh(Box::new(n)), b)
            }
            ClientState::ServerDh(s) => {
                let (n, b) = (*s).handle_server_dh_params(msg.body, rng, now)?;
                (ClientState::DhGen(Box::new(n)), b)
            }
            ClientState::DhGen(s) => match (*s).handle_dh_gen(msg.body, rng)? {
                client::DhGenResult::Done(outcome) => return Ok(ClientStep::Done(outcome)),
                client::DhGenResult::Retry(n, b) => (ClientState::DhGen(Box::new(n)), b),
            },
            ClientState::Idle(_) | ClientState::Finished => {
                return Err(HandshakeError::new(step, ErrorKind::OutOfOrder))
            }
        };
        self.state = next;
        Ok(ClientStep::Send(encode_plain(
            self.msg_ids.next_msg_id(now),
            &body,
        )))
    }

    /// Whether the handshake has finished (successfully or not).
    pub fn is_finished(&self) -> bool {
        matches!(self.state, ClientState::Finished)
    }
}
