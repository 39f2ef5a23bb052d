//! The client role: a handshake for a new key (if needed), then the
//! encrypted session.

use std::collections::VecDeque;

use bytes::BytesMut;
use mtproto_crypto::AuthKey;
use mtproto_session::handshake::{ClientHandshake, ClientStep, HandshakeConfig};
use mtproto_session::pfs::BindTempKey;
use mtproto_session::session::{ClientSession, Config, RequestId, REQUEST_OVERHEAD};
use mtproto_session::{Monotonic, Now};
use mtproto_transport::{TransportConfig, TransportKind};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::link::Link;
use crate::{sub_seed, ClientKey, Connection, ConnectionError, Cx, EnqueueError, Event, Role};

/// How a client connection starts.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientStart {
    /// Make a new auth key with the handshake; the session starts on it.
    NewKey(HandshakeConfig),
    /// Make a new auth key and move this session onto it (the server
    /// forgot the old key: transport error -404). Its pending requests are
    /// re-sent under the new key.
    Rekey(HandshakeConfig, ClientSession),
    /// The server knows this session's key: resume the session on this
    /// connection.
    Resume(ClientSession),
}

/// Settings of a client connection. `Debug` leaves out the seed (every
/// secret of the connection derives from it).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientParams {
    /// The transport to speak.
    pub transport: TransportKind,
    /// Its settings (largest frame, DC id for obfuscation).
    pub transport_config: TransportConfig,
    /// The settings of a session this connection creates (after
    /// [`ClientStart::NewKey`]).
    pub session: Config,
    /// All randomness (transport padding and obfuscation, handshake nonces
    /// and DH exponent, a new session's ids) comes from a ChaCha20 RNG seeded
    /// with this: fresh OS randomness in production, fixed in tests.
    pub seed: [u8; 32],
    /// Perfect forward secrecy: a handshake on this connection makes a
    /// temporary key and binds it to this permanent key before any other
    /// query goes out; a resumed session whose binding failed binds again.
    pub pfs: Option<TempKeys>,
}

/// What [`ClientParams::pfs`] needs: the permanent key and how long a
/// temporary key lives. `Debug` shows the permanent key's id only.
#[derive(Clone, PartialEq, Eq)]
pub struct TempKeys {
    /// The permanent key temporary keys are bound to.
    pub perm_key: AuthKey,
    /// `expires_in` of `p_q_inner_data_temp_dc`, seconds.
    pub expires_in: i32,
}

impl core::fmt::Debug for TempKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TempKeys")
            .field(
                "perm_auth_key_id",
                &format_args!("{:016x}", self.perm_key.id_u64()),
            )
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

impl core::fmt::Debug for ClientParams {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientParams")
            .field("transport", &self.transport)
            .field("transport_config", &self.transport_config)
            .field("session", &self.session)
            .field("pfs", &self.pfs)
            .finish_non_exhaustive()
    }
}

impl ClientParams {
    /// Default transport and session settings.
    pub fn new(transport: TransportKind, seed: [u8; 32]) -> Self {
        Self {
            transport,
            transport_config: TransportConfig::default(),
            session: Config::default(),
            seed,
            pfs: None,
        }
    }
}

enum Phase {
    /// Making a key; `session` is an existing session to re-key.
    Handshake {
        hs: Box<ClientHandshake>,
        session: Option<ClientSession>,
    },
    /// The session runs.
    Session(ClientSession),
    /// The session was taken out ([`Connection::into_session`]).
    Gone,
}

impl core::fmt::Debug for Phase {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Phase::Handshake { session, .. } => f
                .debug_struct("Handshake")
                .field("session", session)
                .finish_non_exhaustive(),
            Phase::Session(s) => f.debug_tuple("Session").field(s).finish(),
            Phase::Gone => f.write_str("Gone"),
        }
    }
}

/// Client state of a [`Connection`].
#[derive(Debug)]
pub(crate) struct ClientRole {
    phase: Phase,
    session_config: Config,
    /// The largest request this connection's transport carries.
    max_request_len: usize,
    /// Perfect forward secrecy, if on.
    pfs: Option<Box<TempKeys>>,
}

impl Connection {
    /// A client connection starting at `now`. The first bytes to send (the
    /// handshake's first message, or queued requests) come from
    /// [`poll_transmit`](Self::poll_transmit).
    pub fn client(
        now: Now,
        params: ClientParams,
        start: ClientStart,
    ) -> Result<Connection, ConnectionError> {
        let mut rng = ChaCha20Rng::from_seed(params.seed);
        let transport_rng = Box::new(ChaCha20Rng::from_seed(sub_seed(&mut rng)));
        let link = Link::client(params.transport, params.transport_config, transport_rng)
            .map_err(ConnectionError::Transport)?;
        // The largest request the transport carries (a larger one fails at
        // once instead of breaking the connection).
        let max_request_len = link.max_payload().saturating_sub(REQUEST_OVERHEAD);
        let mut session_config = params.session;
        session_config.max_request_len = session_config.max_request_len.min(max_request_len);
        let mut conn = Connection {
            link,
            role: Role::Client(ClientRole {
                phase: Phase::Gone,
                session_config,
                max_request_len,
                pfs: params.pfs.clone().map(Box::new),
            }),
            rng,
            events: VecDeque::new(),
            closed: false,
            scratch: Vec::new(),
            frames_in: 0,
        };
        // api/pfs: "the client generates a permanent authorization key using
        // p_q_inner_data and a temporary key using p_q_inner_data_temp".
        let temp = |cfg: HandshakeConfig| match &params.pfs {
            Some(p) => cfg.temporary(p.expires_in),
            None => cfg,
        };
        let phase = match start {
            ClientStart::NewKey(cfg) => conn.start_handshake(now, temp(cfg), None)?,
            ClientStart::Rekey(cfg, mut session) => {
                session.connection_lost(now);
                conn.start_handshake(now, temp(cfg), Some(session))?
            }
            ClientStart::Resume(mut session) => {
                limit(&mut session, max_request_len);
                let resent = session.resume_on_new_connection(now);
                // A binding that failed is tried again on the new
                // connection (a pending one is re-sent by the session).
                if let (Some(p), true) = (&params.pfs, session.is_binding()) {
                    if !session.bind_pending() {
                        let bind = bind_for(p, &mut conn.rng, now, session.time_offset());
                        session.bind_temp_key(now, bind);
                    }
                }
                conn.events.push_back(Event::Resumed { resent });
                Phase::Session(session)
            }
        };
        if let Role::Client(c) = &mut conn.role {
            c.phase = phase;
        }
        Ok(conn)
    }

    fn start_handshake(
        &mut self,
        now: Now,
        cfg: HandshakeConfig,
        session: Option<ClientSession>,
    ) -> Result<Phase, ConnectionError> {
        let mut hs = Box::new(ClientHandshake::new(cfg));
        let first = hs
            .start(&mut self.rng, now.wall)
            .map_err(ConnectionError::Handshake)?;
        let mut cx = Cx {
            link: &mut self.link,
            rng: &mut self.rng,
            events: &mut self.events,
        };
        cx.send_plain(&first)?;
        Ok(Phase::Handshake { hs, session })
    }

    /// Client: enqueues an API query (a serialized TL function) that fails
    /// after `timeout` (the session's default if `None`). A body longer than
    /// the transport carries fails at once with
    /// [`RequestError::TooLarge`](mtproto_session::session::RequestError::TooLarge)
    /// (an [`Event::Session`]). While a re-key handshake runs the request
    /// waits in the session.
    pub fn enqueue(
        &mut self,
        now: Now,
        body: Vec<u8>,
        timeout: Option<core::time::Duration>,
    ) -> Result<RequestId, EnqueueError> {
        let Role::Client(c) = &mut self.role else {
            return Err(EnqueueError::NotClient);
        };
        let session = c.session_mut().ok_or(EnqueueError::NotReady)?;
        let timeout = timeout.unwrap_or(session.config().request_timeout);
        let id = session.enqueue_with_timeout(now, body, timeout);
        self.pump();
        Ok(id)
    }

    /// Client: the session, once there is one.
    pub fn client_session(&self) -> Option<&ClientSession> {
        match &self.role {
            Role::Client(c) => match &c.phase {
                Phase::Session(s) => Some(s),
                Phase::Handshake { session, .. } => session.as_ref(),
                Phase::Gone => None,
            },
            #[cfg(feature = "server")]
            Role::Server(_) => None,
        }
    }

    /// Client: the session, once there is one, to change (cancel a request,
    /// set the connection wrapper, ...).
    pub fn client_session_mut(&mut self) -> Option<&mut ClientSession> {
        match &mut self.role {
            Role::Client(c) => c.session_mut(),
            #[cfg(feature = "server")]
            Role::Server(_) => None,
        }
    }

    /// Client: ends this connection and returns its session, told that the
    /// connection is gone, to resume on the next one
    /// ([`ClientStart::Resume`] or [`ClientStart::Rekey`]).
    pub fn into_session(mut self, now: Now) -> Option<ClientSession> {
        let Role::Client(c) = &mut self.role else {
            return None;
        };
        let mut session = match std::mem::replace(&mut c.phase, Phase::Gone) {
            Phase::Session(s) => s,
            Phase::Handshake { session, .. } => session?,
            Phase::Gone => return None,
        };
        session.connection_lost(now);
        Some(session)
    }
}

/// "expires_at = time + expires_in" (api/pfs), in server time.
fn expiry(now: Now, time_offset: i64, expires_in: i32) -> i32 {
    let server_now = i64::try_from(now.wall.as_secs())
        .unwrap_or(i64::MAX)
        .saturating_add(time_offset);
    let at = server_now.saturating_add(i64::from(expires_in));
    i32::try_from(at).unwrap_or(i32::MAX)
}

/// A binding of the session's (temporary) key to `p.perm_key`, with a fresh
/// nonce, expiring `p.expires_in` from now.
fn bind_for(p: &TempKeys, rng: &mut impl rand::RngCore, now: Now, offset: i64) -> BindTempKey {
    BindTempKey {
        perm_key: p.perm_key.clone(),
        nonce: i64::from_le_bytes(rng.next_u64().to_le_bytes()),
        expires_at: expiry(now, offset, p.expires_in),
    }
}

/// Lowers the session's request limit to what the transport carries.
fn limit(session: &mut ClientSession, max: usize) {
    let cur = session.config().max_request_len;
    if cur > max {
        session.set_max_request_len(max);
    }
}

impl ClientRole {
    fn session_mut(&mut self) -> Option<&mut ClientSession> {
        match &mut self.phase {
            Phase::Session(s) => Some(s),
            Phase::Handshake { session, .. } => session.as_mut(),
            Phase::Gone => None,
        }
    }

    pub(crate) fn handle_payload(
        &mut self,
        now: Now,
        plain: bool,
        payload: &mut BytesMut,
        cx: &mut Cx<'_>,
    ) -> Result<(), ConnectionError> {
        match &mut self.phase {
            Phase::Handshake { hs, .. } if plain => {
                match hs
                    .feed(payload, cx.rng, now.wall)
                    .map_err(ConnectionError::Handshake)?
                {
                    ClientStep::Send(msg) => cx.send_plain(&msg),
                    ClientStep::Done(outcome) => {
                        self.finish_handshake(now, outcome, cx);
                        Ok(())
                    }
                }
            }
            // security_guidelines: a packet that fails a check is discarded
            // whole, and the connection is closed (the owner reconnects; the
            // session re-sends what is unanswered on the next one).
            Phase::Session(s) if !plain => s
                .handle_incoming_in_place(now, payload)
                .map_err(ConnectionError::PacketRejected),
            // An encrypted packet during the handshake, or an unencrypted one
            // after it: nothing to do with it.
            _ => Ok(()),
        }
    }

    fn finish_handshake(
        &mut self,
        now: Now,
        outcome: mtproto_session::handshake::HandshakeOutcome,
        cx: &mut Cx<'_>,
    ) {
        let expires_at = outcome
            .expires_in
            .map(|e| expiry(now, i64::from(outcome.time_offset), e));
        let key = ClientKey {
            auth_key: outcome.auth_key.clone(),
            salt: outcome.server_salt,
            time_offset: outcome.time_offset,
            rsa_fingerprint: outcome.rsa_fingerprint,
            expires_at,
        };
        let old = match std::mem::replace(&mut self.phase, Phase::Gone) {
            Phase::Handshake { session, .. } => session,
            other => {
                self.phase = other;
                return;
            }
        };
        let (mut session, resent) = match old {
            Some(mut s) => {
                let n = s.rekey(outcome.auth_key, outcome.server_salt);
                (s, n)
            }
            None => {
                let seed = sub_seed(cx.rng);
                let s = ClientSession::new(
                    outcome.auth_key,
                    outcome.server_salt,
                    self.session_config.clone(),
                    seed,
                );
                (s, 0)
            }
        };
        limit(&mut session, self.max_request_len);
        session.set_time_offset(i64::from(outcome.time_offset));
        let resumed = session.resume_on_new_connection(now);
        // api/pfs: the temporary key is bound before anything else is sent.
        if let (Some(p), Some(_)) = (&self.pfs, outcome.expires_in) {
            let bind = bind_for(p, cx.rng, now, session.time_offset());
            session.bind_temp_key(now, bind);
        }
        cx.events.push_back(Event::KeyReady(Box::new(key)));
        cx.events.push_back(Event::Resumed {
            resent: resent + resumed,
        });
        self.phase = Phase::Session(session);
    }

    pub(crate) fn poll_packet(&mut self, now: Now, out: &mut Vec<u8>) -> bool {
        match &mut self.phase {
            Phase::Session(s) => s.poll_transmit_into(now, out),
            _ => false,
        }
    }

    pub(crate) fn poll_timeout(&self) -> Option<Monotonic> {
        match &self.phase {
            Phase::Session(s) => s.poll_timeout(),
            Phase::Handshake {
                session: Some(s), ..
            } => s.poll_timeout(),
            _ => None,
        }
    }

    pub(crate) fn handle_timeout(&mut self, now: Now) {
        if let Some(s) = self.session_mut() {
            s.handle_timeout(now);
        }
    }

    pub(crate) fn drain_events(&mut self, events: &mut VecDeque<Event>) {
        if let Some(s) = self.session_mut() {
            while let Some(e) = s.poll_event() {
                events.push_back(Event::Session(e));
            }
        }
    }
}
