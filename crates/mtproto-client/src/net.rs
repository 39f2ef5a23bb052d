//! The socket side: clocks, opening a TCP connection, and bringing a
//! [`Connection`] up on it (handshake or saved key) within the connect
//! timeout. Everything MTProto happens inside the sans-IO `Connection`.

use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use mtproto_connection::{ClientParams, ClientStart, Connection, ConnectionError, Event};
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
    pub rbuf: Vec<u8>,
}

/// How to start a connection.
pub(crate) enum Start {
    /// Make a new key (handshake).
    NewKey,
    /// Use this session (its key is known to the server).
    Resume(ClientSession),
    /// Make a new key and move this session onto it.
    Rekey(ClientSession),
}

/// What [`establish`] brings up: the connection, the key it runs on (a new
/// one after a handshake), and the session events that came while it was
/// being brought up.
pub(crate) struct Established {
    pub live: Live,
    pub new_key: Option<Keys>,
    pub resent: usize,
    pub early: Vec<SessionEvent>,
}

/// Opens a TCP connection and brings a [`Connection`] up on it (`attempt`
/// 0 is the first connect), all within the connect timeout. On failure the
/// session (if one was given) comes back with the error.
pub(crate) async fn establish(
    cfg: &ClientConfig,
    start: Start,
    attempt: u32,
) -> Result<Established, (ConnectError, Option<ClientSession>)> {
    let deadline = tokio::time::Instant::now() + cfg.connect_timeout;
    let has_session = !matches!(start, Start::NewKey);
    let started = Instant::now();
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
        Ok(Err(e)) => return Err((e.into(), start.into_session())),
        Err(_) => return Err((ConnectError::Timeout, start.into_session())),
    };
    let _ = stream.set_nodelay(true);
    emit(
        cfg,
        ConnectEvent::Connected {
            addr: cfg.addr,
            elapsed: started.elapsed(),
        },
    );
    let (rd, wr) = stream.into_split();

    let handshake = || HandshakeConfig::new(cfg.rsa_keys.clone(), cfg.dc_id);
    if !matches!(start, Start::Resume(_)) && cfg.rsa_keys.is_empty() {
        return Err((
            ConnectError::Config("no RSA public key configured"),
            start.into_session(),
        ));
    }
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
    let mut params = ClientParams::new(cfg.transport, seed());
    params.transport_config = TransportConfig {
        dc_id: i16::try_from(cfg.dc_id).ok(),
        ..TransportConfig::default()
    };
    params.session = cfg.session_config.clone();
    let conn = match Connection::client(now(), params, start) {
        Ok(c) => c,
        Err(ConnectionError::Transport(e)) => return Err((e.into(), None)),
        Err(ConnectionError::Handshake(e)) => return Err((e.into(), None)),
        Err(_) => return Err((ConnectError::Closed, None)),
    };
    let mut live = Live {
        rd,
        wr,
        conn,
        wbuf: Vec::new(),
        written: 0,
        rbuf: vec![0; 64 * 1024],
    };
    match bring_up(cfg, &mut live, deadline, started).await {
        Ok((new_key, resent, early)) => Ok(Established {
            live,
            new_key,
            resent,
            early,
        }),
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

/// Moves bytes until the connection reports it is ready (a new key, or the
/// session resumed).
async fn bring_up(
    cfg: &ClientConfig,
    live: &mut Live,
    deadline: tokio::time::Instant,
    started: Instant,
) -> Result<(Option<Keys>, usize, Vec<SessionEvent>), ConnectError> {
    let mut new_key = None;
    let mut early = Vec::new();
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
                        },
                    );
                    new_key = Some(Keys {
                        auth_key: k.auth_key,
                        salt: k.salt,
                        time_offset: i64::from(k.time_offset),
                    });
                }
                Event::Resumed { resent } => return Ok((new_key, resent, early)),
                Event::Session(e) => early.push(e),
                Event::Closed(ConnectionError::Transport(e)) => return Err(e.into()),
                Event::Closed(ConnectionError::Handshake(e)) => return Err(e.into()),
                Event::Closed(_) | Event::TransportError(_) => return Err(ConnectError::Closed),
                _ => {}
            }
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
        live.conn.handle_bytes(now(), &live.rbuf[..n]);
    }
}
