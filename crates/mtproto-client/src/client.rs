//! The [`Client`] handle.

use core::time::Duration;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use mtproto_tl::{Deserialize, RemoteCall};
use tokio::sync::{mpsc, oneshot};

use crate::config::ClientConfig;
use crate::driver::{first_start, Command, Driver, Shared};
use crate::net;
use crate::{ConnectError, InvocationError, SessionData};

/// Counters of a client (for tests and a CLI).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Auth-key handshakes this client performed.
    pub handshakes: u64,
    /// Successful reconnects.
    pub reconnects: u64,
    /// Requests re-sent on a new connection.
    pub resent: u64,
}

/// A connected MTProto client. Cheap to clone; every clone talks to the same
/// connection task. [`invoke`](Self::invoke) may be called from many tasks at
/// once, and dropping its future only discards the answer.
#[derive(Clone)]
pub struct Client {
    tx: mpsc::UnboundedSender<Command>,
    cfg: Arc<ClientConfig>,
    shared: Arc<Shared>,
}

impl core::fmt::Debug for Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("addr", &self.cfg.addr)
            .field("transport", &self.cfg.transport)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connects, runs the handshake (or resumes `config.session`), and starts
    /// the connection task. Must be called inside a tokio runtime.
    pub async fn connect(config: ClientConfig) -> Result<Client, ConnectError> {
        let (start, saved) = first_start(&config);
        let resumed = saved.is_some();
        let up = net::establish(&config, start, 0)
            .await
            .map_err(|(e, _)| e)?;
        let Some(keys) = up.new_key.clone().or(saved) else {
            return Err(ConnectError::Closed);
        };
        let data = SessionData {
            dc_id: config.dc_id,
            auth_key: keys.auth_key.clone(),
            salt: keys.salt,
            time_offset: keys.time_offset,
        };
        let shared = Arc::new(Shared {
            data: Mutex::new(data),
            handshakes: AtomicU64::new(u64::from(!resumed)),
            reconnects: AtomicU64::new(0),
            resent: AtomicU64::new(0),
        });
        let cfg = Arc::new(config);
        let (tx, rx) = mpsc::unbounded_channel();
        let driver = Driver::new(cfg.clone(), shared.clone(), rx, up, keys);
        tokio::spawn(driver.run());
        Ok(Client { tx, cfg, shared })
    }

    /// The configuration this client was made with.
    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    /// The current auth key, salt, time offset and DC, to save and pass to
    /// [`ClientConfig::with_session`] later.
    pub fn session_data(&self) -> SessionData {
        match self.shared.data.lock() {
            Ok(d) => d.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Counters.
    pub fn stats(&self) -> ClientStats {
        ClientStats {
            handshakes: self.shared.handshakes.load(Ordering::Relaxed),
            reconnects: self.shared.reconnects.load(Ordering::Relaxed),
            resent: self.shared.resent.load(Ordering::Relaxed),
        }
    }

    /// Sends `request` and waits for its answer (within the configured
    /// request timeout). `FLOOD_WAIT` is retried only if
    /// [`ClientConfig::flood_wait`] is set.
    pub async fn invoke<R: RemoteCall>(&self, request: &R) -> Result<R::Return, InvocationError> {
        self.invoke_with_timeout(request, self.cfg.request_timeout())
            .await
    }

    /// [`invoke`](Self::invoke) with an explicit timeout.
    pub async fn invoke_with_timeout<R: RemoteCall>(
        &self,
        request: &R,
        timeout: Duration,
    ) -> Result<R::Return, InvocationError> {
        let body = request.to_bytes();
        let mut retries = 0u32;
        loop {
            match self.invoke_raw(body.clone(), timeout).await {
                Ok(bytes) => return R::Return::from_bytes(&bytes).map_err(InvocationError::Decode),
                Err(InvocationError::Rpc(e)) => {
                    let wait = e
                        .flood_wait_secs()
                        .map(|s| Duration::from_secs(u64::from(s)));
                    match (&self.cfg.flood_wait, wait) {
                        (Some(p), Some(w)) if retries < p.max_retries && w <= p.max_wait => {
                            retries += 1;
                            tokio::time::sleep(w).await;
                        }
                        _ => return Err(InvocationError::Rpc(e)),
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Sends a serialized TL function and returns the raw bytes of the
    /// result object. No `FLOOD_WAIT` retry.
    pub async fn invoke_raw(
        &self,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<Vec<u8>, InvocationError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Invoke {
                body,
                timeout,
                reply,
            })
            .map_err(|_| InvocationError::Disconnected)?;
        rx.await.unwrap_or(Err(InvocationError::Disconnected))
    }
}
