//! The server role: transport detection, the server handshake for new
//! keys, then a server session per auth key.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::BytesMut;
use mtproto_crypto::rsa::RsaPrivateKey;
use mtproto_crypto::AuthKey;
use mtproto_session::handshake::server::{HandshakeViolation, ServerConfig};
use mtproto_session::handshake::{decode_plain, ServerHandshake, ServerStep};
use mtproto_session::session::{Admission, Config, KeyReplayWindow, ServerSession};
use mtproto_session::wire::MessageHeader;
use mtproto_session::{Now, RpcError};
use mtproto_transport::{TransportConfig, TransportErrorCode};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::link::Link;
use crate::{sub_seed, Connection, ConnectionError, Cx, Event, Role, ServerKey};

/// Where a server keeps the auth keys its handshakes made, shared by all
/// its connections (a client that comes back with a saved key needs no
/// second handshake).
pub trait KeyStore: Send + Sync {
    /// The key with this id and its current salt.
    fn get(&self, auth_key_id: u64) -> Option<(AuthKey, i64)>;
    /// Stores a new key with its first salt.
    fn insert(&self, key: AuthKey, salt: i64);
    /// Whether a key with this id exists (the handshake retries on a clash).
    fn contains(&self, auth_key_id: u64) -> bool {
        self.get(auth_key_id).is_some()
    }
    /// The replay window of this key, shared by every connection and session
    /// on it, so that a client packet captured on one connection and written
    /// again on another is not executed twice. The default gives each
    /// connection a window of its own (no protection across connections):
    /// a store should keep one per key.
    fn replay_window(&self, auth_key_id: u64) -> Option<KeyReplayWindow> {
        let _ = auth_key_id;
        None
    }
    /// Salts a new session on this key accepts besides the current one, each
    /// `(valid_since, valid_until, salt)` in server unixtime, and serves to
    /// `get_future_salts` (at most [`MAX_FUTURE_SALTS`] are used). `now_secs`
    /// is the server's clock. None by default.
    fn future_salts(&self, auth_key_id: u64, now_secs: i64) -> Vec<(i32, i32, i64)> {
        let _ = (auth_key_id, now_secs);
        Vec::new()
    }
}

/// The most future salts a session takes from [`KeyStore::future_salts`]
/// (service_messages: `get_future_salts num:int`, "num ≤ 64").
pub const MAX_FUTURE_SALTS: usize = 64;

/// What a [`PacketTamper`] makes of one sealed server packet.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Tampered {
    /// Frame and send these payloads instead (none, one, or several).
    Send(Vec<Vec<u8>>),
    /// Send this transport error code instead.
    TransportError(TransportErrorCode),
}

/// A hostile server's hook: sees every sealed packet the server session
/// produces (with the auth key, so it can open and re-seal it) and decides
/// what goes on the wire instead. For testing clients only.
pub type PacketTamper = Box<dyn FnMut(&AuthKey, Vec<u8>) -> Tampered + Send>;

/// Decides, for each client packet that decrypted correctly, whether it is
/// processed, dropped or rejected (rate limits, maintenance, or a test
/// server's scripted faults).
pub type AdmissionPolicy = Box<dyn FnMut(&MessageHeader) -> Admission + Send>;

/// Settings of a server connection.
#[non_exhaustive]
pub struct ServerParams {
    /// The server's RSA keys (the client picks one by fingerprint).
    pub rsa_keys: Vec<RsaPrivateKey>,
    /// The shared key store.
    pub keys: Arc<dyn KeyStore>,
    /// Settings of the sessions this connection runs.
    pub session: Config,
    /// Transport settings (largest frame).
    pub transport_config: TransportConfig,
    /// All randomness comes from a ChaCha20 RNG seeded with this.
    pub seed: [u8; 32],
    /// How far the server's clock is from the `now` it is given, seconds
    /// (positive: ahead); see [`ServerSession::set_time_offset`].
    pub time_offset_secs: i64,
    /// A handshake rule to break on purpose (hostile server; default none).
    pub handshake_violation: Option<HandshakeViolation>,
    /// A hook that rewrites every sealed packet (hostile server; default
    /// none).
    pub tamper: Option<PacketTamper>,
}

impl core::fmt::Debug for ServerParams {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ServerParams")
            .field("rsa_keys", &self.rsa_keys.len())
            .field("session", &self.session)
            .field("transport_config", &self.transport_config)
            .field("handshake_violation", &self.handshake_violation)
            .field("tamper", &self.tamper.is_some())
            .finish_non_exhaustive()
    }
}

impl ServerParams {
    /// Default session and transport settings.
    pub fn new(rsa_keys: Vec<RsaPrivateKey>, keys: Arc<dyn KeyStore>, seed: [u8; 32]) -> Self {
        Self {
            rsa_keys,
            keys,
            session: Config::default(),
            transport_config: TransportConfig::default(),
            seed,
            time_offset_secs: 0,
            handshake_violation: None,
            tamper: None,
        }
    }
}

/// Server state of a [`Connection`].
pub(crate) struct ServerRole {
    params: ServerParams,
    detected: bool,
    handshake: Option<Box<ServerHandshake>>,
    /// The session of the auth key in use: (auth_key_id, session).
    session: Option<(u64, ServerSession)>,
    admission: Option<AdmissionPolicy>,
}

impl core::fmt::Debug for ServerRole {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ServerRole")
            .field("handshake", &self.handshake.is_some())
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// A server connection; the transport is detected from the client's
    /// first bytes.
    pub fn server(params: ServerParams) -> Connection {
        let mut rng = ChaCha20Rng::from_seed(params.seed);
        let transport_rng = Box::new(ChaCha20Rng::from_seed(sub_seed(&mut rng)));
        Connection {
            link: Link::server(params.transport_config, transport_rng),
            role: Role::Server(ServerRole {
                params,
                detected: false,
                handshake: None,
                session: None,
                admission: None,
            }),
            rng,
            events: VecDeque::new(),
            closed: false,
            scratch: Vec::new(),
            frames_in: 0,
        }
    }

    /// Server: sets the admission policy applied to every client packet
    /// that decrypts.
    pub fn set_admission(&mut self, policy: AdmissionPolicy) {
        if let Role::Server(s) = &mut self.role {
            s.admission = Some(policy);
        }
    }

    /// Server: answers the request `msg_id` (from [`Event::Request`]).
    pub fn respond(&mut self, msg_id: i64, result: Result<Vec<u8>, RpcError>) {
        if let Some(s) = self.server_session_mut() {
            s.respond(msg_id, result);
        }
    }

    /// Server: the session of the auth key in use, once a packet arrived
    /// under one (to rotate its salt, queue updates, ...).
    pub fn server_session_mut(&mut self) -> Option<&mut ServerSession> {
        match &mut self.role {
            Role::Server(s) => s.session.as_mut().map(|(_, s)| s),
            Role::Client(_) => None,
        }
    }

    /// Server: the id of the auth key in use.
    pub fn server_auth_key_id(&self) -> Option<u64> {
        match &self.role {
            Role::Server(s) => s.session.as_ref().map(|(id, _)| *id),
            Role::Client(_) => None,
        }
    }
}

impl ServerRole {
    /// Records that the transport was detected; `true` the first time.
    pub(crate) fn note_detected(&mut self) -> bool {
        !std::mem::replace(&mut self.detected, true)
    }

    pub(crate) fn handle_payload(
        &mut self,
        now: Now,
        plain: bool,
        payload: &mut BytesMut,
        cx: &mut Cx<'_>,
    ) -> Result<(), ConnectionError> {
        if plain {
            return self.handshake_message(now, payload, cx);
        }
        // An encrypted packet: find its key (description: "auth_key_id [...]
        // the server uses it to find the key").
        let Some(id) = payload.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok()) else {
            return Ok(());
        };
        let key_id = u64::from_le_bytes(id);
        if self.session.as_ref().map(|(k, _)| *k) != Some(key_id) {
            let Some((key, salt)) = self.params.keys.get(key_id) else {
                // mtproto-transports: -404 "if the specified auth key ID
                // cannot be found by the DC"; then the connection closes.
                let _ = cx.link.send_error(TransportErrorCode::AUTH_KEY_NOT_FOUND);
                return Err(ConnectionError::UnknownAuthKey {
                    auth_key_id: key_id,
                });
            };
            let seed = sub_seed(cx.rng);
            let mut s = ServerSession::new(key, salt, self.params.session.clone(), seed);
            if let Some(w) = self.params.keys.replay_window(key_id) {
                s = s.with_replay_window(w);
            }
            s.set_time_offset(self.params.time_offset_secs);
            let server_now = i64::try_from(now.wall.as_secs())
                .unwrap_or(i64::MAX)
                .saturating_add(self.params.time_offset_secs);
            let future = self.params.keys.future_salts(key_id, server_now);
            for (since, until, salt) in future.into_iter().take(MAX_FUTURE_SALTS) {
                s.add_future_salt(since, until, salt);
            }
            self.session = Some((key_id, s));
        }
        let Some((_, s)) = self.session.as_mut() else {
            return Ok(());
        };
        let admission = &mut self.admission;
        let r = s.handle_incoming_with(now, payload, |h| match admission {
            Some(policy) => policy(h),
            None => Admission::Process,
        });
        if let Err(e) = r {
            cx.events.push_back(Event::PacketRejected(e));
        }
        while let Some((msg_id, body)) = s.poll_request() {
            cx.events.push_back(Event::Request { msg_id, body });
        }
        Ok(())
    }

    fn handshake_message(
        &mut self,
        now: Now,
        payload: &[u8],
        cx: &mut Cx<'_>,
    ) -> Result<(), ConnectionError> {
        let rsa = &self.params.rsa_keys;
        let violation = self.params.handshake_violation;
        let fresh = || {
            let mut cfg = ServerConfig::new(rsa.clone());
            cfg.violation = violation;
            Box::new(ServerHandshake::new(cfg))
        };
        let keys = &self.params.keys;
        let hs = self.handshake.get_or_insert_with(fresh);
        let step = match hs.feed(payload, cx.rng, now.wall, |k| keys.contains(k.id_u64())) {
            Ok(step) => step,
            // A client may start over on the same connection: a new
            // `req_pq_multi` after a finished, failed or half-finished
            // handshake (a byte-identical repeat of the one being answered
            // was re-answered above) begins a fresh one.
            Err(_) if is_req_pq(payload) => self
                .handshake
                .insert(fresh())
                .feed(payload, cx.rng, now.wall, |k| keys.contains(k.id_u64()))
                .map_err(ConnectionError::Handshake)?,
            Err(e) => return Err(ConnectionError::Handshake(e)),
        };
        match step {
            ServerStep::Send(reply) => cx.send_plain(&reply),
            ServerStep::Done { reply, outcome } => {
                cx.send_plain(&reply)?;
                let auth_key_id = outcome.auth_key.id_u64();
                keys.insert(outcome.auth_key, outcome.server_salt);
                cx.events.push_back(Event::ServerKeyReady(ServerKey {
                    auth_key_id,
                    rsa_scheme: outcome.rsa_scheme,
                    inner: outcome.inner,
                    rsa_fingerprint: outcome.rsa_fingerprint,
                }));
                self.handshake = None;
                Ok(())
            }
        }
    }

    pub(crate) fn poll_packet(&mut self, now: Now, out: &mut Vec<u8>) -> bool {
        match &mut self.session {
            Some((_, s)) => s.poll_transmit_into(now, out),
            None => false,
        }
    }

    /// What the tamper hook (if any) makes of the sealed `packet`.
    pub(crate) fn tamper(&mut self, packet: &[u8]) -> Option<Tampered> {
        let hook = self.params.tamper.as_mut()?;
        let (_, s) = self.session.as_ref()?;
        Some(hook(s.auth_key(), packet.to_vec()))
    }
}

/// Whether an unencrypted message is `req_pq_multi` or `req_pq` (a handshake's
/// first message).
fn is_req_pq(payload: &[u8]) -> bool {
    use mtproto_tl::mtproto::functions::{ReqPq, ReqPqMulti};
    use mtproto_tl::Identifiable;
    let id = decode_plain(payload)
        .ok()
        .and_then(|m| m.body.get(..4).map(|b| [b[0], b[1], b[2], b[3]]))
        .map(u32::from_le_bytes);
    matches!(id, Some(ReqPqMulti::CONSTRUCTOR_ID | ReqPq::CONSTRUCTOR_ID))
}
