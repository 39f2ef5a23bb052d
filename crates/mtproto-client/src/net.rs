//! The socket side: clocks, opening a TCP connection, and bringing a
//! [`Connection`] up on it (handshake or saved key) within the connect
//! timeout. Everything MTProto happens inside the sans-IO `Connection`.

use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use mtproto_connection::{ClientParams, ClientStart, Connection, ConnectionError, Event, TempKeys};
use mtproto_crypto::AuthKey;
use mtproto_session::handshake::HandshakeConfig;
use mtproto_session::session::{ClientSession, SessionEvent};
use mtproto_session::{Monotonic, Now, Timestamp};
use mtproto_transport::TransportConfig;
use rand::RngCore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

use crate::config::{ClientConfig, ConnectEvent, MessageDirection};
use crate::ConnectError;

/// The origin of the monotonic readings handed to the connection.
fn origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

/// The local wall clock (msg_ids only).
fn wall() -> Timestamp {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// Both clocks, as the sans-IO core wants them: the wall clock for msg_ids,
/// the monotonic clock (since [`origin`]) for every timer.
pub(crate) fn now() -> Now {
    Now::new(wall(), Monotonic::from_duration(origin().elapsed()))
}

/// The tokio instant of a monotonic reading.
pub(crate) fn instant_of(m: Monotonic) -> tokio::time::Instant {
    tokio::time::Instant::from_std(origin() + m.since(Monotonic(0)))
}

/// Fresh OS randomness for a connection's or a session's seed.
pub(crate) fn seed() -> [u8; 32] {
    let mut s = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut s);
    s
}

pub(crate) fn emit(cfg: &ClientConfig, ev: ConnectEvent) {
    if let Some(tx) = &cfg.events {
        let _ = tx.send(ev);
    }
}

/// Key material of the session.
#[derive(Clone)]
pub(crate) struct Keys {
    pub auth_key: AuthKey,
    pub salt: i64,
    pub time_offset: i64,
}

/// A connection that is up: the socket halves and the sans-IO connection.
pub(crate) struct Live {
    pub rd: OwnedReadHalf,
    pub wr: OwnedWriteHalf,
    pub conn: Connection,
    /// Bytes to write, and how many of them were written.
    pub wbuf: Vec<u8>,
    pub written: usize,
    /// Where reads land: small while the connection is quiet, doubled
    /// (up to [`READ_BUF_MAX`]) each time a read fills it ([`Live::read_into`]).
    pub rbuf: Vec<u8>,
}

/// A read buffer's first size: an idle session keeps only this much.
const READ_BUF_MIN: usize = 1024;
/// The most a read buffer grows to under load.
const READ_BUF_MAX: usize = 64 * 1024;

/// How to start a connection.
pub(crate) enum Start {
    /// Make a new key (handshake).
    NewKey,
    /// Use this session (its key is known to the server).
    Resume(ClientSession),
    /// Make a new key and move this session onto it.
    Rekey(ClientSession),
}

/// What [`establish`] brings up: the connection, the permanent key (when
/// a new one was made), the temporary key it runs on (perfect forward
/// secrecy), and the session events that came while it was being brought
/// up.
pub(crate) struct Established {
    pub live: Live,
    pub new_key: Option<Keys>,
    pub temp: Option<TempKey>,
    pub resent: usize,
    pub early: Vec<SessionEvent>,
}

/// A temporary key (kept in RAM only, as api/pfs suggests: "the client can
/// store the temporary authorization key in RAM only").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TempKey {
    pub auth_key_id: u64,
    /// Until when it lives, server time.
    pub expires_at: i32,
}

/// Opens a TCP connection to the configured address within `deadline`.
async fn open(
    cfg: &ClientConfig,
    deadline: tokio::time::Instant,
    attempt: u32,
    started: Instant,
) -> Result<(OwnedReadHalf, OwnedWriteHalf), ConnectError> {
    emit(
        cfg,
        ConnectEvent::Connecting {
            addr: cfg.addr,
            transport: cfg.transport,
            attempt,
        },
    );
    let stream = match tokio::time::timeout_at(deadline, TcpStream::connect(cfg.addr)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err(e.into()),
        Err(_) => return Err(ConnectError::Timeout),
    };
    let _ = stream.set_nodelay(true);
    emit(
        cfg,
        ConnectEvent::Connected {
            addr: cfg.addr,
            elapsed: started.elapsed(),
        },
    );
    Ok(stream.into_split())
}

/// The connection's settings.
fn params(cfg: &ClientConfig, pfs: Option<TempKeys>) -> ClientParams {
    let mut params = ClientParams::new(cfg.transport, seed());
    params.transport_config = TransportConfig {
        dc_id: i16::try_from(cfg.dc_id).ok(),
        ..TransportConfig::default()
    };
    params.session = cfg.session_config.clone();
    params.pfs = pfs;
    params
}

/// Makes a permanent key on a connection of its own (api/pfs: the
/// permanent and the temporary key "may be done in parallel using
/// different connections"); the connection closes after the handshake.
async fn permanent_key(
    cfg: &ClientConfig,
    deadline: tokio::time::Instant,
    attempt: u32,
) -> Result<Keys, ConnectError> {
    let started = Instant::now();
    let (rd, wr) = open(cfg, deadline, attempt, started).await?;
    let start = ClientStart::NewKey(HandshakeConfig::new(cfg.rsa_keys.clone(), cfg.dc_id));
    let conn = Connection::client(now(), params(cfg, None), start).map_err(connection_error)?;
    let mut live = Live::new(rd, wr, conn);
    let up = bring_up(cfg, &mut live, deadline, started).await?;
    up.new_key.ok_or(ConnectError::Closed)
}

fn connection_error(e: ConnectionError) -> ConnectError {
    match e {
        ConnectionError::Transport(e) => e.into(),
        ConnectionError::Handshake(e) => e.into(),
        _ => ConnectError::Closed,
    }
}

impl Live {
    fn new(rd: OwnedReadHalf, wr: OwnedWriteHalf, conn: Connection) -> Self {
        Self {
            rd,
            wr,
            conn,
            wbuf: Vec::new(),
            written: 0,
            rbuf: vec![0; READ_BUF_MIN],
        }
    }

    /// Hands the `n` bytes just read to the connection, and grows the read
    /// buffer if they filled it (more was likely waiting).
    pub(crate) fn read_into(&mut self, n: usize) {
        let Self { conn, rbuf, .. } = self;
        conn.handle_bytes(now(), &rbuf[..n]);
        if n == rbuf.len() && rbuf.len() < READ_BUF_MAX {
            rbuf.resize(rbuf.len() * 2, 0);
        }
    }
}

/// Opens a TCP connection and brings a [`Connection`] up on it (`attempt`
/// 0 is the first connect), all within the connect timeout. With perfect
/// forward secrecy ([`ClientConfig::pfs`]) the session runs on a temporary
/// key bound to `perm` (made first on a connection of its own when there
/// is none), and the connection is up once the binding is answered. On
/// failure the session (if one was given) comes back with the error.
pub(crate) async fn establish(
    cfg: &ClientConfig,
    start: Start,
    attempt: u32,
    perm: Option<&Keys>,
) -> Result<Established, (ConnectError, Option<ClientSession>)> {
    let deadline = tokio::time::Instant::now() + cfg.connect_timeout;
    let has_session = !matches!(start, Start::NewKey);
    let started = Instant::now();
    let needs_handshake =
        !matches!(start, Start::Resume(_)) || (cfg.pfs.is_some() && perm.is_none());
    if needs_handshake && cfg.rsa_keys.is_empty() {
        return Err((
            ConnectError::Config("no RSA public key configured"),
            start.into_session(),
        ));
    }
    let mut new_key = None;
    let pfs = match cfg.pfs {
        None => None,
        Some(lifetime) => {
            let perm = match perm {
                Some(k) => k.clone(),
                None => match permanent_key(cfg, deadline, attempt).await {
                    Ok(k) => {
                        new_key = Some(k.clone());
                        k
                    }
                    Err(e) => return Err((e, start.into_session())),
                },
            };
            Some(TempKeys {
                perm_key: perm.auth_key,
                expires_in: i32::try_from(lifetime.as_secs()).unwrap_or(i32::MAX).max(1),
            })
        }
    };
    let (rd, wr) = match open(cfg, deadline, attempt, started).await {
        Ok(halves) => halves,
        Err(e) => return Err((e, start.into_session())),
    };
    let handshake = || HandshakeConfig::new(cfg.rsa_keys.clone(), cfg.dc_id);
    let start = match start {
        Start::NewKey => ClientStart::NewKey(handshake()),
        Start::Rekey(s) => ClientStart::Rekey(handshake(), s),
        Start::Resume(s) => {
            emit(
                cfg,
                ConnectEvent::KeyReused {
                    auth_key_id: s.auth_key_id(),
                },
            );
            ClientStart::Resume(s)
        }
    };
    let conn = match Connection::client(now(), params(cfg, pfs), start) {
        Ok(c) => c,
        Err(e) => return Err((connection_error(e), None)),
    };
    let mut live = Live::new(rd, wr, conn);
    match bring_up(cfg, &mut live, deadline, started).await {
        Ok(up) => {
            // Without PFS the key the handshake made is the permanent key.
            let (new_key, temp) = match up.temp {
                Some(t) => (new_key, Some(t)),
                None => (up.new_key.or(new_key), None),
            };
            Ok(Established {
                live,
                new_key,
                temp,
                resent: up.resent,
                early: up.early,
            })
        }
        Err(e) => {
            let session = live.conn.into_session(now());
            Err((e, session.filter(|_| has_session)))
        }
    }
}

impl Start {
    fn into_session(self) -> Option<ClientSession> {
        match self {
            Start::NewKey => None,
            Start::Resume(s) | Start::Rekey(s) => Some(s),
        }
    }
}

/// What [`bring_up`] saw: the key a handshake made (a temporary key's
/// expiry too), how many requests were re-sent, and the session events.
struct Up {
    new_key: Option<Keys>,
    temp: Option<TempKey>,
    resent: usize,
    early: Vec<SessionEvent>,
}

/// Moves bytes until the connection reports it is ready (a new key, or the
/// session resumed) and, with perfect forward secrecy, its temporary key is
/// bound.
async fn bring_up(
    cfg: &ClientConfig,
    live: &mut Live,
    deadline: tokio::time::Instant,
    started: Instant,
) -> Result<Up, ConnectError> {
    let mut up = Up {
        new_key: None,
        temp: None,
        resent: 0,
        early: Vec::new(),
    };
    let mut resumed = false;
    loop {
        // Events first: a resumed session is ready at once.
        while let Some(ev) = live.conn.poll_event() {
            match ev {
                Event::HandshakeMessage { sent, name, bytes } => emit(
                    cfg,
                    ConnectEvent::HandshakeStep {
                        direction: if sent {
                            MessageDirection::Sent
                        } else {
                            MessageDirection::Received
                        },
                        name,
                        bytes,
                        elapsed: started.elapsed(),
                    },
                ),
                Event::KeyReady(k) => {
                    emit(
                        cfg,
                        ConnectEvent::HandshakeDone {
                            rsa_fingerprint: k.rsa_fingerprint,
                            auth_key_id: k.auth_key.id_u64(),
                            time_offset: k.time_offset,
                            elapsed: started.elapsed(),
                            expires_at: k.expires_at,
                        },
                    );
                    // A session the handshake made gets the connection
                    // wrapper before it sends anything.
                    if let Some(s) = live.conn.client_session_mut() {
                        if s.stats().packets_sent == 0 {
                            crate::driver::Driver::wrap(cfg, s);
                        }
                    }
                    match k.expires_at {
                        Some(expires_at) => {
                            up.temp = Some(TempKey {
                                auth_key_id: k.auth_key.id_u64(),
                                expires_at,
                            });
                        }
                        None => {
                            up.new_key = Some(Keys {
                                auth_key: k.auth_key,
                                salt: k.salt,
                                time_offset: i64::from(k.time_offset),
                            });
                        }
                    }
                }
                Event::Resumed { resent } => {
                    up.resent = resent;
                    resumed = true;
                }
                Event::Session(SessionEvent::BindFailed { error }) => {
                    return Err(ConnectError::Bind(error));
                }
                Event::Session(e) => up.early.push(e),
                Event::Closed(ConnectionError::Transport(e)) => return Err(e.into()),
                Event::Closed(ConnectionError::Handshake(e)) => return Err(e.into()),
                Event::Closed(ConnectionError::PacketRejected(p)) => {
                    return Err(ConnectError::PacketRejected(p))
                }
                Event::TransportError(code) => return Err(ConnectError::ServerError(code)),
                Event::Closed(_) => return Err(ConnectError::Closed),
                _ => {}
            }
        }
        let binding = live
            .conn
            .client_session()
            .is_some_and(ClientSession::is_binding);
        if resumed && !binding {
            return Ok(up);
        }
        live.conn.poll_transmit(now(), &mut live.wbuf);
        if !live.wbuf.is_empty() {
            let w = tokio::time::timeout_at(deadline, live.wr.write_all(&live.wbuf)).await;
            live.wbuf.clear();
            match w {
                Ok(r) => r?,
                Err(_) => return Err(ConnectError::Timeout),
            }
        }
        let n = match tokio::time::timeout_at(deadline, live.rd.read(&mut live.rbuf)).await {
            Ok(r) => r?,
            Err(_) => return Err(ConnectError::Timeout),
        };
        if n == 0 {
            return Err(ConnectError::Closed);
        }
        live.read_into(n);
    }
}
