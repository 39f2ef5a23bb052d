//! One TCP connection: transport codec, frame reading, the handshake.

use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use mtproto_crypto::AuthKey;
use mtproto_session::handshake::{
    decode_plain, ClientEvent, ClientHandshake, HandshakeConfig, HandshakeOutcome,
};
use mtproto_session::{Monotonic, Now, Timestamp};
use mtproto_transport::{Transport, TransportConfig};
use rand::rngs::OsRng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

use crate::config::{ClientConfig, ConnectEvent, Direction};
use crate::ConnectError;

/// The origin of the monotonic readings handed to the session.
fn origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

/// The local wall clock as the sans-IO core wants it (msg_ids only).
pub(crate) fn wall() -> Timestamp {
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

/// A live connection.
pub(crate) struct Conn {
    pub rd: OwnedReadHalf,
    pub wr: OwnedWriteHalf,
    pub transport: Transport,
    pub rbuf: BytesMut,
    pub wbuf: BytesMut,
}

impl Conn {
    /// Reads until one whole frame is decoded.
    async fn read_frame(&mut self) -> Result<BytesMut, ConnectError> {
        loop {
            if let Some(mut f) = self.transport.decode(&mut self.rbuf)? {
                if self.transport.kind().is_padded() {
                    mtproto_transport::trim_mtproto_padding(&mut f);
                }
                return Ok(f);
            }
            let n = self.rd.read_buf(&mut self.rbuf).await?;
            if n == 0 {
                return Err(ConnectError::Closed);
            }
        }
    }

    async fn send_now(&mut self, payload: &[u8]) -> Result<(), ConnectError> {
        self.transport.encode(payload, &mut self.wbuf)?;
        self.wr.write_all(&self.wbuf).await?;
        self.wbuf.clear();
        Ok(())
    }
}

pub(crate) fn emit(cfg: &ClientConfig, ev: ConnectEvent) {
    if let Some(tx) = &cfg.events {
        let _ = tx.send(ev);
    }
}

fn plain_name(msg: &[u8]) -> &'static str {
    decode_plain(msg)
        .ok()
        .and_then(|m| m.body.get(..4).map(|b| [b[0], b[1], b[2], b[3]]))
        .and_then(|id| mtproto_tl::mtproto::name_for_id(u32::from_le_bytes(id)))
        .unwrap_or("?")
}

/// Opens a TCP connection (attempt number `attempt`, for events).
pub(crate) async fn open(cfg: &ClientConfig, attempt: u32) -> Result<Conn, ConnectError> {
    let started = Instant::now();
    emit(
        cfg,
        ConnectEvent::Connecting {
            addr: cfg.addr,
            transport: cfg.transport,
            attempt,
        },
    );
    let stream = TcpStream::connect(cfg.addr).await?;
    let _ = stream.set_nodelay(true);
    let (rd, wr) = stream.into_split();
    let tcfg = TransportConfig {
        dc_id: i16::try_from(cfg.dc_id).ok(),
        ..TransportConfig::default()
    };
    let transport = Transport::client(cfg.transport, tcfg, mtproto_transport::os_rng())?;
    emit(
        cfg,
        ConnectEvent::Connected {
            addr: cfg.addr,
            elapsed: started.elapsed(),
        },
    );
    Ok(Conn {
        rd,
        wr,
        transport,
        rbuf: BytesMut::with_capacity(16 * 1024),
        wbuf: BytesMut::new(),
    })
}

/// Runs the auth-key handshake (client role) on `conn`.
pub(crate) async fn handshake(
    cfg: &ClientConfig,
    conn: &mut Conn,
) -> Result<HandshakeOutcome, ConnectError> {
    if cfg.rsa_keys.is_empty() {
        return Err(ConnectError::Config("no RSA public key configured"));
    }
    let started = Instant::now();
    let step = |direction, msg: &[u8]| ConnectEvent::HandshakeStep {
        direction,
        name: plain_name(msg),
        bytes: msg.len(),
        elapsed: started.elapsed(),
    };
    let mut hs = ClientHandshake::new(HandshakeConfig::new(cfg.rsa_keys.clone(), cfg.dc_id));
    let first = hs.start(&mut OsRng, wall())?;
    emit(cfg, step(Direction::Sent, &first));
    conn.send_now(&first).await?;
    loop {
        let frame = conn.read_frame().await?;
        emit(cfg, step(Direction::Received, &frame));
        match hs.feed(&frame, &mut OsRng, wall())? {
            ClientEvent::Send(msg) => {
                emit(cfg, step(Direction::Sent, &msg));
                conn.send_now(&msg).await?;
            }
            ClientEvent::Done(outcome) => {
                emit(
                    cfg,
                    ConnectEvent::HandshakeDone {
                        rsa_fingerprint: outcome.rsa_fingerprint,
                        auth_key_id: outcome.auth_key.id_u64(),
                        time_offset: outcome.time_offset,
                        elapsed: started.elapsed(),
                    },
                );
                return Ok(outcome);
            }
        }
    }
}

/// Key material of a connection.
#[derive(Clone)]
pub(crate) struct Keys {
    pub auth_key: AuthKey,
    pub salt: i64,
    pub time_offset: i64,
}

/// Opens a connection and makes sure there is a key (handshake if `keys` is
/// `None`), all within the connect timeout.
pub(crate) async fn establish(
    cfg: &ClientConfig,
    keys: Option<Keys>,
    attempt: u32,
) -> Result<(Conn, Keys), ConnectError> {
    let fut = async {
        let mut conn = open(cfg, attempt).await?;
        let keys = match keys {
            Some(k) => {
                emit(
                    cfg,
                    ConnectEvent::KeyReused {
                        auth_key_id: k.auth_key.id_u64(),
                    },
                );
                k
            }
            None => {
                let o = handshake(cfg, &mut conn).await?;
                Keys {
                    auth_key: o.auth_key,
                    salt: o.server_salt,
                    time_offset: i64::from(o.time_offset),
                }
            }
        };
        Ok((conn, keys))
    };
    match tokio::time::timeout(cfg.connect_timeout, fut).await {
        Ok(r) => r,
        Err(_) => Err(ConnectError::Timeout),
    }
}
