//! Binding a temporary key (core.telegram.org/api/pfs): the binding request
//! goes first and alone, its body made for the msg_id it goes out under, and
//! every other query waits until the server accepted it.

use mtproto_tl::Deserialize;

use super::{ClientSession, Kind, RequestId};
use crate::pfs::{bind_request, BindTempKey};
use crate::session::{BindFailure, SessionEvent};
use crate::{Now, RpcError};

/// The binding in progress.
#[derive(Debug)]
pub(super) struct PendingBind {
    /// The `auth.bindTempAuthKey` request, while it waits for its answer;
    /// `None` after it failed (the other queries still wait: the key is not
    /// bound, and they would only draw `401`s).
    pub(super) request: Option<RequestId>,
    pub(super) bind: BindTempKey,
}

impl ClientSession {
    /// Binds the key this session runs on, a temporary key, to
    /// `bind.perm_key`: queues `auth.bindTempAuthKey` ahead of everything
    /// and holds every other query until it is answered. api/pfs: "An
    /// unbound temp_auth_key_id may only be used with the following methods:
    /// auth.bindTempAuthKey, help.getConfig, help.getNearestDc".
    ///
    /// The request's `encrypted_message` names the msg_id it goes out under,
    /// so it is built anew for each transmission (a re-send after a lost
    /// connection carries a new msg_id). The outcome is reported as
    /// [`SessionEvent::TempKeyBound`] or [`SessionEvent::BindFailed`], not as
    /// a `Response`. The connection wrapper is not applied to the binding:
    /// the query after it is the first wrapped one ("the client must also
    /// rewrite client info using initConnection after each binding").
    pub fn bind_temp_key(&mut self, now: impl Into<Now>, bind: BindTempKey) -> RequestId {
        if let Some(old) = self.binding.take().and_then(|b| b.request) {
            self.cancel(old);
        }
        let timeout = self.config.request_timeout;
        let id = self.push_request(now.into(), Vec::new(), Kind::Bind, timeout);
        // First in the queue, whatever is waiting.
        self.outbox.queue.retain(|q| *q != id);
        self.outbox.queue.push_front(id);
        self.binding = Some(Box::new(PendingBind {
            request: Some(id),
            bind,
        }));
        self.outbox.wrap_next = self.outbox.wrapper.is_some();
        id
    }

    /// Whether a binding holds the other queries back (waiting for its
    /// answer, or failed).
    pub fn is_binding(&self) -> bool {
        self.binding.is_some()
    }

    /// The binding in progress (waiting for its answer, or failed).
    pub fn binding(&self) -> Option<&BindTempKey> {
        self.binding.as_ref().map(|b| &b.bind)
    }

    /// Whether a binding waits for its answer (it has not failed).
    pub fn bind_pending(&self) -> bool {
        self.pending_bind().is_some()
    }

    /// The binding's request, when it is waiting for its answer.
    pub(super) fn pending_bind(&self) -> Option<RequestId> {
        self.binding.as_ref().and_then(|b| b.request)
    }

    /// Builds the binding's body for `msg_id`, if `id` is the binding.
    pub(super) fn bind_for_msg_id(&mut self, id: RequestId, msg_id: i64) {
        let Some(b) = self.binding.as_ref().filter(|b| b.request == Some(id)) else {
            return;
        };
        let body = bind_request(
            &b.bind,
            self.key.id_u64(),
            self.session_id,
            msg_id,
            &mut self.rng,
        );
        if let Some(r) = self.requests.get_mut(&id) {
            r.wire = Some(super::Wire::Built(body));
        }
    }

    /// The binding's answer: `boolTrue` lifts the hold.
    pub(super) fn bind_answered(&mut self, id: RequestId, result: Result<Vec<u8>, RpcError>) {
        match result.map(|b| bool::from_bytes(&b)) {
            Ok(Ok(true)) => {
                let expires_at = self.binding.take().map_or(0, |b| b.bind.expires_at);
                self.events
                    .push_back(SessionEvent::TempKeyBound { expires_at });
            }
            Ok(_) => self.bind_failed(id, BindFailure::NotTrue),
            Err(e) => self.bind_failed(id, BindFailure::Rpc(e)),
        }
    }

    /// The binding failed: reported; the other queries keep waiting until
    /// a new key is bound ([`rekey`](Self::rekey) then
    /// [`bind_temp_key`](Self::bind_temp_key)).
    pub(super) fn bind_failed(&mut self, id: RequestId, error: BindFailure) {
        if let Some(b) = self.binding.as_mut().filter(|b| b.request == Some(id)) {
            b.request = None;
            self.events.push_back(SessionEvent::BindFailed { error });
        }
    }
}
