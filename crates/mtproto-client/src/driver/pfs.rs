//! Perfect forward secrecy in the driver (core.telegram.org/api/pfs): the
//! temporary key requests go under, its renewal before it expires, and
//! what a refused binding does.

use std::time::{Duration, Instant};

use mtproto_session::session::BindFailure;

use super::{lock, Driver};
use crate::config::ConnectEvent;
use crate::net::{self, emit, TempKey};

/// The temporary key requests go under, as
/// [`Client::pfs`](crate::Client::pfs) reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PfsStatus {
    /// The temporary key's id (public: it prefixes every packet).
    pub temp_auth_key_id: u64,
    /// Whether `auth.bindTempAuthKey` was answered `true` for it.
    pub bound: bool,
    /// Until when it lives, server time (unix seconds).
    pub expires_at: i32,
}

/// The driver's side of perfect forward secrecy.
#[derive(Debug, Default)]
pub(super) struct Pfs {
    /// The temporary key the session runs on.
    pub(super) temp: Option<TempKey>,
    /// When a new temporary key is made (before this one expires).
    pub(super) renew_at: Option<tokio::time::Instant>,
    /// When this process made the permanent key (`None`: loaded).
    pub(super) perm_made: Option<Instant>,
    /// The permanent key is dropped: the next connection makes a new one.
    pub(super) drop_perm: bool,
}

/// How long before a temporary key expires the next one is made: a
/// quarter of its lifetime, at most ten minutes.
pub(crate) fn renew_margin(lifetime: Duration) -> Duration {
    (lifetime / 4).min(Duration::from_secs(600))
}

/// How often a renewal waiting for requests in flight looks again.
const RENEW_POLL: Duration = Duration::from_millis(50);

/// api/pfs: after `ENCRYPTED_MESSAGE_INVALID`, "If and only if the
/// permanent auth key used in the request was created more than 60 seconds
/// ago: Drop both the temporary and permanent auth keys [...] Otherwise,
/// retry binding".
pub(crate) const PERM_KEY_SETTLE: Duration = Duration::from_secs(60);

/// Whether a refused binding means the permanent key is gone (the server
/// does not know it): `ENCRYPTED_MESSAGE_INVALID`.
pub(crate) fn perm_key_refused(f: &BindFailure) -> bool {
    matches!(f, BindFailure::Rpc(e) if e.name == "ENCRYPTED_MESSAGE_INVALID")
}

impl Driver {
    /// A new temporary key (not bound yet).
    pub(super) fn set_temp(&mut self, t: TempKey) {
        self.pfs.temp = Some(t);
        self.pfs.renew_at = None;
        self.publish_pfs(false);
    }

    fn publish_pfs(&self, bound: bool) {
        *lock(&self.shared.pfs) = self.pfs.temp.map(|t| PfsStatus {
            temp_auth_key_id: t.auth_key_id,
            bound,
            expires_at: t.expires_at,
        });
    }

    /// The binding was accepted: requests go out, and the renewal is set
    /// for a margin before the key expires (api/pfs: "A new key can also be
    /// generated in advance, so that the client has a new key ready by the
    /// time the old one has expired").
    pub(super) fn on_temp_key_bound(&mut self, expires_at: i32) {
        let Some(t) = self.pfs.temp.as_mut() else {
            return;
        };
        t.expires_at = expires_at;
        let id = t.auth_key_id;
        self.shared
            .temp_keys
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.publish_pfs(true);
        emit(
            &self.cfg,
            ConnectEvent::TempKeyBound {
                temp_auth_key_id: id,
                expires_at,
            },
        );
        let lifetime = self.cfg.pfs.unwrap_or_default();
        let renew_in = self
            .time_left(expires_at)
            .saturating_sub(renew_margin(lifetime));
        self.pfs.renew_at = Some(tokio::time::Instant::now() + renew_in);
    }

    /// How long until `expires_at` (server time, whole seconds), less a
    /// second: both sides round their clocks to seconds, so the server may
    /// count the key's life from up to a second earlier.
    fn time_left(&self, expires_at: i32) -> Duration {
        let wall = net::now().wall;
        let server_now = wall.as_secs() as f64
            + f64::from(wall.subsec_nanos()) / 1e9
            + self.keys.time_offset as f64;
        let left = f64::from(expires_at) - server_now - 1.0;
        Duration::try_from_secs_f64(left).unwrap_or(Duration::ZERO)
    }

    /// The temporary key is (about to be) past its expiry: it cannot carry
    /// the next connection.
    pub(super) fn temp_expired(&self) -> bool {
        self.pfs
            .temp
            .is_some_and(|t| self.time_left(t.expires_at).is_zero())
    }

    /// The binding was refused: a new temporary key next, and after
    /// `ENCRYPTED_MESSAGE_INVALID` a new permanent key too when the old
    /// one is over a minute old (or was loaded).
    pub(super) fn on_bind_failed(&mut self, error: &BindFailure) {
        self.need_new_key = true;
        let settled = self
            .pfs
            .perm_made
            .is_none_or(|t| t.elapsed() > PERM_KEY_SETTLE);
        if perm_key_refused(error) && settled {
            self.pfs.drop_perm = true;
        }
        *lock(&self.shared.pfs) = None;
    }

    /// A connection failed after its handshake made a temporary key, with
    /// the binding unanswered (lost with the connection): the session
    /// keeps that key, and the next connection sends the binding again
    /// rather than making yet another key.
    pub(super) fn keep_new_temp_key(&mut self) {
        let Some(s) = self.parked.as_deref() else {
            return;
        };
        let id = s.auth_key_id();
        let fresh = self.pfs.temp.is_none_or(|t| t.auth_key_id != id);
        if let (Some(b), true) = (s.binding(), fresh && self.cfg.pfs.is_some()) {
            let t = TempKey {
                auth_key_id: id,
                expires_at: b.expires_at,
            };
            self.set_temp(t);
            self.need_new_key = false;
        }
    }

    /// Time to renew: the connection is closed and the next one makes and
    /// binds a new temporary key. A new key starts a new session, where the
    /// requests still unanswered go out again; so while any is in flight
    /// the renewal waits (polling every 50 ms), until half the margin is
    /// left.
    pub(super) fn renew_temp_key(&mut self) {
        let margin = renew_margin(self.cfg.pfs.unwrap_or_default());
        let left = self.pfs.temp.map(|t| self.time_left(t.expires_at));
        let busy = self.pending_requests() > 0;
        if busy && left.is_some_and(|l| l > margin / 2) {
            self.pfs.renew_at = Some(tokio::time::Instant::now() + RENEW_POLL);
            return;
        }
        self.pfs.renew_at = None;
        self.need_new_key = true;
        self.lost("renewing the temporary key before it expires".into(), None);
    }
}
