//! Several data centres: the DC table, the home DC, a connection (and a
//! key) per DC, and following `*_MIGRATE_X` errors.
//!
//! core.telegram.org/api/datacenter: "303 ERROR_SEE_OTHER: the request
//! must be repeated, but directed to a different data center":
//! `USER_MIGRATE_X`, `PHONE_MIGRATE_X` and `NETWORK_MIGRATE_X` move the
//! account's home to DC X (every later request goes there);
//! `FILE_MIGRATE_X` and `STATS_MIGRATE_X` send only that request there.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Mutex;

use mtproto_tl::api::enums;

use crate::driver::lock;
use crate::RpcError;

/// Most migrations one request follows (a server sending it around in
/// circles is an error after this).
pub(crate) const MAX_MIGRATIONS: usize = 3;

/// A migration the client followed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Migration {
    /// The DC that answered with the error.
    pub from: i32,
    /// The DC it named.
    pub to: i32,
    /// The error (`USER_MIGRATE_4`).
    pub error: String,
}

/// Most migrations remembered for [`Client::migrations`](crate::Client::migrations).
const MAX_RECORDED: usize = 64;

/// What every DC connection of one client shares.
#[derive(Debug)]
pub(crate) struct Dcs {
    /// Where requests go.
    home: AtomicI32,
    /// The DC that answered last.
    last: AtomicI32,
    /// DC id → address (from `help.getConfig`'s `dc_options`).
    table: Mutex<HashMap<i32, SocketAddr>>,
    /// The migrations followed (the latest [`MAX_RECORDED`]).
    migrations: Mutex<Vec<Migration>>,
    /// Connections to DCs other than the first, made when needed.
    pub(crate) others: tokio::sync::Mutex<HashMap<i32, DcHandle>>,
    /// DCs whose key the account was carried to (or needed no carrying);
    /// held while carrying, so concurrent migrations carry it once.
    pub(crate) carried: tokio::sync::Mutex<std::collections::HashSet<i32>>,
}

/// A connection to another DC, without the shared [`Dcs`] (which holds
/// it: an `Arc` back would be a cycle, and the driver would outlive the
/// client).
pub(crate) struct DcHandle {
    pub(crate) tx: tokio::sync::mpsc::UnboundedSender<crate::driver::Command>,
    pub(crate) cfg: std::sync::Arc<crate::ClientConfig>,
    pub(crate) shared: std::sync::Arc<crate::driver::Shared>,
}

impl Dcs {
    /// The first connection is to DC `first` at `addr`; requests go to
    /// `home`.
    pub(crate) fn new(first: i32, addr: SocketAddr, home: i32) -> Self {
        Self {
            home: AtomicI32::new(home),
            last: AtomicI32::new(first),
            table: Mutex::new(HashMap::from([(first, addr)])),
            migrations: Mutex::new(Vec::new()),
            others: tokio::sync::Mutex::new(HashMap::new()),
            carried: tokio::sync::Mutex::new(std::collections::HashSet::new()),
        }
    }

    pub(crate) fn home(&self) -> i32 {
        self.home.load(Ordering::Acquire)
    }

    pub(crate) fn set_home(&self, dc: i32) {
        self.home.store(dc, Ordering::Release);
    }

    pub(crate) fn last(&self) -> i32 {
        self.last.load(Ordering::Acquire)
    }

    pub(crate) fn answered(&self, dc: i32) {
        self.last.store(dc, Ordering::Release);
    }

    pub(crate) fn address(&self, dc: i32) -> Option<SocketAddr> {
        lock(&self.table).get(&dc).copied()
    }

    /// Learns the DC table from a `config` (IPv4, non-media, non-CDN
    /// entries first; at most 64 DCs).
    pub(crate) fn learn(&self, config: &enums::Config) {
        let enums::Config::Config(c) = config;
        let mut table = lock(&self.table);
        for enums::DcOption::DcOption(o) in &c.dc_options {
            if o.media_only || o.cdn || o.tcpo_only || table.len() >= 64 {
                continue;
            }
            let Ok(ip) = o.ip_address.parse::<std::net::IpAddr>() else {
                continue;
            };
            let Ok(port) = u16::try_from(o.port) else {
                continue;
            };
            let addr = SocketAddr::new(ip, port);
            let better = table
                .get(&o.id)
                .is_none_or(|a| a.is_ipv6() && addr.is_ipv4());
            if better {
                table.insert(o.id, addr);
            }
        }
    }

    /// Learns one DC's address (from a saved session).
    pub(crate) fn learn_one(&self, dc: i32, addr: SocketAddr) {
        let mut table = lock(&self.table);
        if table.len() < 64 {
            table.entry(dc).or_insert(addr);
        }
    }

    pub(crate) fn record(&self, m: Migration) {
        let mut v = lock(&self.migrations);
        if v.len() >= MAX_RECORDED {
            v.remove(0);
        }
        v.push(m);
    }

    pub(crate) fn migrations(&self) -> Vec<Migration> {
        lock(&self.migrations).clone()
    }
}

impl core::fmt::Debug for DcHandle {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DcHandle")
            .field("dc", &self.cfg.dc_id)
            .field("addr", &self.cfg.addr)
            .finish_non_exhaustive()
    }
}

/// Where a `*_MIGRATE_X` error sends the request, and whether the home
/// moves with it.
pub(crate) fn migration(e: &RpcError) -> Option<(i32, bool)> {
    if e.code != 303 {
        return None;
    }
    let to = i32::try_from(e.value?).ok()?;
    match e.name.as_str() {
        "USER_MIGRATE" | "PHONE_MIGRATE" | "NETWORK_MIGRATE" => Some((to, true)),
        "FILE_MIGRATE" | "STATS_MIGRATE" => Some((to, false)),
        _ => None,
    }
}
