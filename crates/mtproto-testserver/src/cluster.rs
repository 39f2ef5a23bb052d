//! [`TestCluster`]: several DCs in one process, sharing one account
//! database (the world), each with its own auth keys, as Telegram's DCs
//! are.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use crate::limits::lock;
use crate::server::{DcPlace, TestServer, TestServerConfig};

/// DCs `1..=N` on loopback. Each lists every DC in `help.getConfig`'s
/// `dc_options`; with a home DC, every other answers content requests
/// (anything but `help.getConfig`) with `303 USER_MIGRATE_<home>`, as
/// Telegram does for an account homed there.
#[derive(Debug)]
pub struct TestCluster {
    servers: Vec<TestServer>,
}

/// Most DCs a cluster runs.
pub const MAX_DCS: i32 = 16;

impl TestCluster {
    /// Starts `dcs` DCs with `config` (its RSA key shared, as Telegram's DCs
    /// share theirs). With `config.bind`'s port P non-zero, DC `i` listens
    /// on `P + i - 1`; with port 0, each on a free port.
    pub async fn start(
        config: TestServerConfig,
        dcs: i32,
        home_dc: Option<i32>,
    ) -> std::io::Result<TestCluster> {
        if !(1..=MAX_DCS).contains(&dcs) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("a cluster has 1 to {MAX_DCS} DCs"),
            ));
        }
        if home_dc.is_some_and(|h| !(1..=dcs).contains(&h)) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("the home DC must be one of 1..={dcs}"),
            ));
        }
        let world = Arc::default();
        let table: Arc<Mutex<Vec<(i32, SocketAddr)>>> = Arc::default();
        let base = config.bind;
        let mut servers = Vec::new();
        for id in 1..=dcs {
            let mut c = config.clone();
            if base.port() != 0 {
                let offset = u16::try_from(id - 1).unwrap_or(0);
                let port = base.port().checked_add(offset).ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::InvalidInput, "ports past 65535")
                })?;
                c.bind = SocketAddr::new(base.ip(), port);
            }
            let place = DcPlace {
                id,
                home: home_dc,
                table: table.clone(),
            };
            let s = TestServer::start_dc(c, Arc::clone(&world), Some(place)).await?;
            lock(&table).push((id, s.addr()));
            servers.push(s);
        }
        Ok(TestCluster { servers })
    }

    /// DC `id`'s server.
    pub fn dc(&self, id: i32) -> Option<&TestServer> {
        self.servers.iter().find(|s| s.dc_id() == id)
    }

    /// Every DC's server, by id.
    pub fn servers(&self) -> &[TestServer] {
        &self.servers
    }

    /// The servers, to own one by one.
    pub fn into_servers(self) -> Vec<TestServer> {
        self.servers
    }

    /// Stops every DC.
    pub async fn shutdown(self) {
        for s in self.servers {
            s.shutdown().await;
        }
    }
}
