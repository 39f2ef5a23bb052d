//! The updates task: runs `mtproto_updates::MessageBox` over what the
//! server pushes, fetches differences when it asks, and hands the user the
//! updates in order ([`Updates`]).
//!
//! It starts with the first [`Client::updates`](crate::Client::updates)
//! call: with a saved update state it first catches up
//! (`updates.getDifference`), else it fetches the state
//! (`updates.getState`). After a reconnect or a new server session it
//! catches up again ("Session loss on the server"), so nothing pushed
//! while disconnected is lost, and nothing is delivered twice (the box
//! drops what its state already covers).

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use mtproto_tl::api::{enums, functions, types};
use mtproto_tl::Deserialize;
use mtproto_updates::{Batch, Fetch, MessageBox};
use tokio::sync::{broadcast, mpsc};

use crate::driver::{lock, Command, Shared};
use crate::{Client, ClientConfig, ConnectEvent, InvocationError};

/// What the driver hands the updates task.
#[derive(Clone, Debug)]
pub(crate) enum Pushed {
    /// An update the server pushed (its bytes).
    Update(Arc<Vec<u8>>),
    /// Catch up: a reconnect or a new server session.
    Resync,
}

/// Pushed updates a slow [`Updates`] receiver may fall behind by before it
/// misses some (it then skips ahead).
pub const UPDATES_BUFFERED: usize = 1024;

/// A broadcast channel whose buffer ([`UPDATES_BUFFERED`] slots) is made
/// on the first subscription: an idle session nobody follows updates on
/// does not pay for it (two such buffers were most of a session's memory).
/// Sending before anyone subscribed drops the value, as a broadcast
/// channel with no receiver does.
pub(crate) struct LazyBroadcast<T>(Arc<std::sync::OnceLock<broadcast::Sender<T>>>);

impl<T> Clone for LazyBroadcast<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T: Clone> LazyBroadcast<T> {
    /// A channel with no buffer yet.
    pub(crate) fn new() -> Self {
        Self(Arc::default())
    }

    /// A receiver (the buffer is made now if it was not yet).
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<T> {
        self.0
            .get_or_init(|| broadcast::channel(UPDATES_BUFFERED).0)
            .subscribe()
    }

    /// Sends to every receiver; nothing if there is none.
    pub(crate) fn send(&self, value: T) {
        if let Some(tx) = self.0.get() {
            let _ = tx.send(value);
        }
    }
}

/// Saves of the update state are at least this far apart (and always after
/// a difference).
const SAVE_EVERY: Duration = Duration::from_secs(1);

/// A receiver of the updates the server pushes, checked and put in order
/// (`mtproto_updates`): each [`Batch`] holds updates to apply in order,
/// with the users and chats they mention. Every receiver sees every batch
/// from its creation on.
#[derive(Debug)]
pub struct Updates {
    pub(crate) rx: broadcast::Receiver<Arc<Batch>>,
}

impl Updates {
    /// The next batch, or `None` once the client is gone. A receiver that
    /// fell more than [`UPDATES_BUFFERED`] batches behind skips what it
    /// missed.
    pub async fn recv(&mut self) -> Option<Batch> {
        loop {
            match self.rx.recv().await {
                Ok(b) => return Some((*b).clone()),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

/// Spawns the task (once per client).
pub(crate) fn start(
    cfg: Arc<ClientConfig>,
    shared: &Arc<Shared>,
    dcs: &Arc<crate::dcs::Dcs>,
    tx: &mpsc::UnboundedSender<Command>,
) {
    let state = lock(&shared.stored).updates.clone();
    // A state never saved (all zeros) is no state: fetch it.
    let fresh = state == mtproto_updates::UpdateState::default();
    let mut mbox = if fresh {
        MessageBox::new()
    } else {
        MessageBox::from_state(&state)
    };
    mbox.resync();
    let task = Task {
        cfg,
        shared: Arc::downgrade(shared),
        dcs: Arc::downgrade(dcs),
        tx: tx.downgrade(),
        pushed: shared.pushed.subscribe(),
        mbox,
        started: Instant::now(),
        saved_at: None,
        dirty: false,
        paused: false,
    };
    tokio::spawn(task.run());
}

struct Task {
    cfg: Arc<ClientConfig>,
    shared: Weak<Shared>,
    dcs: Weak<crate::dcs::Dcs>,
    tx: mpsc::WeakUnboundedSender<Command>,
    pushed: broadcast::Receiver<Pushed>,
    mbox: MessageBox,
    started: Instant,
    saved_at: Option<Instant>,
    /// The state changed since the last save.
    dirty: bool,
    /// The server refused a difference with 401 (no account on this key):
    /// no more fetches until the next resync.
    paused: bool,
}

impl Task {
    fn now(&self) -> Duration {
        self.started.elapsed()
    }

    /// A client handle while any other exists.
    fn client(&self) -> Option<(Client, Arc<Shared>)> {
        let shared = self.shared.upgrade()?;
        let tx = self.tx.upgrade()?;
        let dcs = self.dcs.upgrade()?;
        Some((
            Client {
                tx,
                cfg: self.cfg.clone(),
                shared: shared.clone(),
                dcs,
            },
            shared,
        ))
    }

    async fn run(mut self) {
        loop {
            if !self.fetch_due().await {
                return;
            }
            if self.dirty && self.save_due() {
                self.save();
            }
            let wake = self
                .mbox
                .next_deadline()
                .filter(|_| !self.paused)
                .map(|d| d.saturating_sub(self.now()))
                // Checked every second: is any client left? And a pending
                // save is made within a second.
                .unwrap_or(Duration::from_secs(1))
                .min(Duration::from_secs(1));
            tokio::select! {
                p = self.pushed.recv() => match p {
                    Ok(Pushed::Update(bytes)) => self.pushed_update(&bytes),
                    // Some were lost, or we reconnected: catch up.
                    Ok(Pushed::Resync) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        self.paused = false;
                        self.mbox.resync();
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = tokio::time::sleep(wake) => {
                    if self.client().is_none() {
                        if self.dirty {
                            self.save();
                        }
                        return;
                    }
                }
            }
        }
    }

    fn pushed_update(&mut self, bytes: &[u8]) {
        match enums::Updates::from_bytes(bytes) {
            Ok(u) => {
                let batches = self.mbox.process(self.now(), u);
                self.deliver(batches, false);
            }
            // "Incorrect update: the client cannot deserialize the received
            // data": fetch the difference.
            Err(_) => self.mbox.resync(),
        }
    }

    /// Makes every fetch that is due; `false` once the client is gone.
    async fn fetch_due(&mut self) -> bool {
        while !self.paused {
            let Some(fetch) = self.mbox.poll_fetch(self.now()) else {
                return true;
            };
            let Some((client, _)) = self.client() else {
                return false;
            };
            match self.fetch(&client, fetch).await {
                Ok(batches) => self.deliver(batches, true),
                Err(InvocationError::Rpc(e)) if e.code == 401 => {
                    // No account behind this key: nothing to fetch.
                    self.paused = true;
                    self.mbox.fetch_failed(fetch, self.now());
                }
                Err(_) => self.mbox.fetch_failed(fetch, self.now()),
            }
        }
        true
    }

    async fn fetch(
        &mut self,
        client: &Client,
        fetch: Fetch,
    ) -> Result<Vec<Batch>, InvocationError> {
        match fetch {
            Fetch::State => {
                let s = client.invoke(&functions::updates::GetState).await?;
                self.mbox.set_state(&s);
                Ok(Vec::new())
            }
            Fetch::Difference { pts, qts, date } => {
                let d = client
                    .invoke(&functions::updates::GetDifference {
                        pts,
                        pts_limit: None,
                        pts_total_limit: None,
                        date,
                        qts,
                        qts_limit: None,
                    })
                    .await?;
                Ok(self.mbox.apply_difference(self.now(), d))
            }
            Fetch::ChannelDifference { channel_id, pts } => {
                let peer = enums::Peer::Channel(types::PeerChannel { channel_id });
                let known = lock(&client.shared.peers).input_peer(&peer);
                let Some(enums::InputPeer::Channel(c)) = known else {
                    // No access hash for it: nothing can be fetched.
                    return Err(InvocationError::Disconnected);
                };
                let d = client
                    .invoke(&functions::updates::GetChannelDifference {
                        force: false,
                        channel: enums::InputChannel::InputChannel(types::InputChannel {
                            channel_id,
                            access_hash: c.access_hash,
                        }),
                        filter: enums::ChannelMessagesFilter::Empty,
                        pts,
                        limit: 100,
                    })
                    .await?;
                Ok(self
                    .mbox
                    .apply_channel_difference(self.now(), channel_id, d))
            }
        }
    }

    /// Hands `batches` to the receivers and keeps the state (saved at most
    /// every [`SAVE_EVERY`], or at once after a difference).
    fn deliver(&mut self, batches: Vec<Batch>, after_difference: bool) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        for b in batches {
            // Nobody listening is no error.
            shared.batches.send(Arc::new(b));
        }
        let state = self.mbox.state();
        let mut stored = lock(&shared.stored);
        if stored.updates != state {
            stored.updates = state;
            self.dirty = true;
        }
        drop(stored);
        if self.dirty && (after_difference || self.save_due()) {
            self.save();
        }
    }

    fn save_due(&self) -> bool {
        self.saved_at.is_none_or(|t| t.elapsed() >= SAVE_EVERY)
    }

    /// Saves the session (with the update state) to the store.
    fn save(&mut self) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        self.saved_at = Some(Instant::now());
        self.dirty = false;
        if let Err(error) = shared.persist(&self.cfg) {
            crate::net::emit(&self.cfg, ConnectEvent::StoreFailed { error });
        }
    }
}
