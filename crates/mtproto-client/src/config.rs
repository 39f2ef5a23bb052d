//! Client configuration and progress events.

use core::time::Duration;
use std::net::SocketAddr;

use mtproto_crypto::rsa::RsaPublicKey;
use mtproto_transport::TransportKind;
use tokio::sync::mpsc;

use std::sync::Arc;

use mtproto_store::{SessionStore, StoreError};

use crate::peers::PeerCache;
use crate::SessionData;

/// How the connection is re-established after it drops.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReconnectPolicy {
    /// Wait before the first reconnect attempt (default 200 ms).
    pub initial_backoff: Duration,
    /// Upper bound of the doubling wait (default 10 s).
    pub max_backoff: Duration,
    /// Attempts in a row before the pending requests fail with
    /// [`InvocationError::Disconnected`](crate::InvocationError::Disconnected)
    /// (default 10). A later request starts a new round of attempts.
    pub max_attempts: u32,
}

impl ReconnectPolicy {
    /// A policy: the first wait, the largest wait, and attempts in a row.
    pub fn new(initial_backoff: Duration, max_backoff: Duration, max_attempts: u32) -> Self {
        Self {
            initial_backoff,
            max_backoff,
            max_attempts,
        }
    }
}

impl FloodWaitPolicy {
    /// Retry waits of at most `max_wait`, at most `max_retries` times per call.
    pub fn new(max_wait: Duration, max_retries: u32) -> Self {
        Self {
            max_wait,
            max_retries,
        }
    }
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        Self {
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            max_attempts: 10,
        }
    }
}

/// Automatic retry on `FLOOD_WAIT_N` (and `FLOOD_PREMIUM_WAIT_N`,
/// `SLOWMODE_WAIT_N`): sleep `N` seconds and send the request again.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FloodWaitPolicy {
    /// Retry only if `N` is at most this many seconds.
    pub max_wait: Duration,
    /// At most this many retries per call.
    pub max_retries: u32,
}

/// The `initConnection` fields sent with the first request of each connection
/// when an `api_id` is configured.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct InitParams {
    /// `api_id` from my.telegram.org.
    pub api_id: i32,
    /// `device_model`.
    pub device_model: String,
    /// `system_version`.
    pub system_version: String,
    /// `app_version`.
    pub app_version: String,
    /// `system_lang_code`.
    pub system_lang_code: String,
    /// `lang_pack`.
    pub lang_pack: String,
    /// `lang_code`.
    pub lang_code: String,
}

impl InitParams {
    /// Defaults for everything but the `api_id`.
    pub fn new(api_id: i32) -> Self {
        Self {
            api_id,
            device_model: "mtproto-rs".into(),
            system_version: std::env::consts::OS.into(),
            app_version: env!("CARGO_PKG_VERSION").into(),
            system_lang_code: "en".into(),
            lang_pack: String::new(),
            lang_code: "en".into(),
        }
    }
}

/// Direction of a handshake message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageDirection {
    /// Client to server.
    Sent,
    /// Server to client.
    Received,
}

/// Progress of connecting, for a CLI to print.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectEvent {
    /// Opening a TCP connection (`attempt` 0 is the first connect).
    Connecting {
        /// Server address.
        addr: SocketAddr,
        /// Transport.
        transport: TransportKind,
        /// 0 for the first connection, then 1, 2, ... for reconnects.
        attempt: u32,
    },
    /// The TCP connection is up.
    Connected {
        /// Server address.
        addr: SocketAddr,
        /// Time since `Connecting`.
        elapsed: Duration,
    },
    /// One unencrypted handshake message, named after its TL constructor
    /// (`req_pq_multi`, `resPQ`, `req_DH_params`, `server_DH_params_ok`,
    /// `set_client_DH_params`, `dh_gen_ok`, ...).
    HandshakeStep {
        /// Sent or received.
        direction: MessageDirection,
        /// The TL name of the body's constructor.
        name: &'static str,
        /// Size of the whole unencrypted message (without transport framing).
        bytes: usize,
        /// Time since the handshake started.
        elapsed: Duration,
    },
    /// A new auth key was created.
    HandshakeDone {
        /// Fingerprint of the server RSA key that was used.
        rsa_fingerprint: i64,
        /// The new key's id (public: it prefixes every encrypted packet).
        auth_key_id: u64,
        /// Server time minus local time, seconds.
        time_offset: i32,
        /// Duration of the whole handshake.
        elapsed: Duration,
        /// For a temporary key (perfect forward secrecy): until when it
        /// lives, server time.
        expires_at: Option<i32>,
    },
    /// The temporary key is bound to the permanent key
    /// (`auth.bindTempAuthKey` answered `true`); every request goes under it.
    TempKeyBound {
        /// The temporary key's id.
        temp_auth_key_id: u64,
        /// Until when the binding holds, server time.
        expires_at: i32,
    },
    /// A saved auth key is used; no handshake.
    KeyReused {
        /// The key's id.
        auth_key_id: u64,
    },
    /// The connection dropped.
    Disconnected {
        /// Why, in words.
        reason: String,
    },
    /// Waiting before reconnect attempt `attempt`.
    Reconnecting {
        /// 1 for the first reconnect.
        attempt: u32,
        /// How long it waits.
        backoff: Duration,
    },
    /// Requests still pending were re-sent on a new connection.
    Resent {
        /// How many.
        count: usize,
    },
    /// Saving the session to its store failed (the client goes on; the
    /// next change tries again).
    StoreFailed {
        /// Why.
        error: StoreError,
    },
}

/// Everything [`Client::connect`](crate::Client::connect) needs.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Server address.
    pub addr: SocketAddr,
    /// Transport to speak.
    pub transport: TransportKind,
    /// DC id sent in `p_q_inner_data_dc` and in the obfuscated init (default 2).
    pub dc_id: i32,
    /// Trusted server RSA keys (default: Telegram's built-in keys); add a test
    /// server's key with [`with_rsa_key`](Self::with_rsa_key).
    pub rsa_keys: Vec<RsaPublicKey>,
    /// A saved session to resume (no handshake) instead of creating a key.
    pub session: Option<SessionData>,
    /// Access hashes and usernames saved with the session (see
    /// [`peers`](crate::peers)).
    pub peers: PeerCache,
    /// Where the session lives ([`store`](crate::store)): loaded by
    /// [`Client::connect`](crate::Client::connect) when `session` is not
    /// set, and saved on every change that matters (a new key, a new salt
    /// or time offset, a username looked up) and by
    /// [`Client::save`](crate::Client::save).
    pub store: Option<Arc<dyn SessionStore>>,
    /// Wrap the first request of each connection in
    /// `invokeWithLayer(initConnection(..))` with these parameters.
    pub init: Option<InitParams>,
    /// Bound on TCP connect plus handshake (default 15 s).
    pub connect_timeout: Duration,
    /// Reconnect behaviour.
    pub reconnect: ReconnectPolicy,
    /// `FLOOD_WAIT` retries; `None` (the default) returns the error at once.
    pub flood_wait: Option<FloodWaitPolicy>,
    /// Progress events (handshake steps, reconnects).
    pub events: Option<mpsc::UnboundedSender<ConnectEvent>>,
    /// Tunables of the sans-IO session (request timeout, keepalive, acks,
    /// containers).
    pub session_config: mtproto_session::session::Config,
    /// Perfect forward secrecy (core.telegram.org/api/pfs), on by default:
    /// how long each temporary key lives. Every request goes under a
    /// temporary key bound to the permanent one (which is made first when
    /// there is none, and is what the store keeps); a new temporary key is
    /// made and bound before the old one expires. `None`: requests go under
    /// the permanent key.
    pub pfs: Option<Duration>,
}

/// How long a temporary key lives by default (a day, as Telegram's own
/// clients do).
pub const DEFAULT_TEMP_KEY_LIFETIME: Duration = Duration::from_secs(24 * 3600);

impl ClientConfig {
    /// A configuration with defaults: DC 2, Telegram's RSA keys, no saved
    /// session, no `initConnection`.
    pub fn new(addr: SocketAddr, transport: TransportKind) -> Self {
        Self {
            addr,
            transport,
            dc_id: 2,
            rsa_keys: mtproto_crypto::rsa::builtin_keys(),
            session: None,
            peers: PeerCache::new(),
            store: None,
            init: None,
            connect_timeout: Duration::from_secs(15),
            reconnect: ReconnectPolicy::default(),
            flood_wait: None,
            events: None,
            session_config: {
                let mut c = mtproto_session::session::Config::default();
                c.request_timeout = Duration::from_secs(30);
                c
            },
            pfs: Some(DEFAULT_TEMP_KEY_LIFETIME),
        }
    }

    /// How long an `invoke` waits for its answer by default (30 s): the
    /// session's [`request_timeout`](mtproto_session::session::Config::request_timeout),
    /// the one setting for it.
    pub fn request_timeout(&self) -> Duration {
        self.session_config.request_timeout
    }

    /// Sets the default time an `invoke` waits for its answer.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.session_config.request_timeout = timeout;
        self
    }

    /// Adds a trusted RSA public key (e.g. a test server's).
    pub fn with_rsa_key(mut self, key: RsaPublicKey) -> Self {
        self.rsa_keys.push(key);
        self
    }

    /// Resumes a saved session.
    pub fn with_session(mut self, session: SessionData) -> Self {
        self.session = Some(session);
        self
    }

    /// Keeps the session in `store` (e.g. a
    /// [`FileStore`](crate::store::FileStore)).
    pub fn with_store(mut self, store: Arc<dyn SessionStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Starts with a saved peer cache.
    pub fn with_peer_cache(mut self, peers: PeerCache) -> Self {
        self.peers = peers;
        self
    }

    /// Turns perfect forward secrecy on (temporary keys living
    /// [`DEFAULT_TEMP_KEY_LIFETIME`]) or off.
    pub fn with_pfs(mut self, on: bool) -> Self {
        self.pfs = on.then_some(DEFAULT_TEMP_KEY_LIFETIME);
        self
    }

    /// Perfect forward secrecy with temporary keys living `lifetime`
    /// (whole seconds, at least one).
    pub fn with_temp_key_lifetime(mut self, lifetime: Duration) -> Self {
        self.pfs = Some(lifetime.max(Duration::from_secs(1)));
        self
    }

    /// Sends `initConnection` with `api_id` and default parameters.
    pub fn with_api_id(mut self, api_id: i32) -> Self {
        self.init = Some(InitParams::new(api_id));
        self
    }
}
