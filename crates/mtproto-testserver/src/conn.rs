//! One client connection: socket reads and writes over a sans-IO
//! [`Connection`] (server role), the request dispatch, scripted faults and
//! delayed answers. Nothing MTProto is done here.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use mtproto_connection::{Connection, ConnectionError, Event, KeyStore, ServerParams};
use mtproto_session::{Monotonic, Now, RpcError};
use rand::RngCore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};

use crate::dispatch::handle_request;
use crate::faults::{ConnFaults, Verdict};
use crate::server::{now, Inner, ServerEvent};

/// A delayed answer: (auth_key_id, msg_id, result).
type Delayed = (u64, i64, Result<Vec<u8>, RpcError>);

/// Serves one connection until it ends, then reports why.
pub(crate) async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    inner: Arc<Inner>,
    shutdown: watch::Receiver<bool>,
) {
    let reason = match conn_loop(stream, peer, &inner, shutdown).await {
        Ok(r) => r,
        Err(e) => {
            inner.stats.bad_connections.fetch_add(1, Ordering::Relaxed);
            e
        }
    };
    inner.emit(ServerEvent::Closed { peer, reason });
}

fn clock() -> Now {
    // The test server has no timers of its own in the connection (the idle
    // timeout is the shell's), so one clock serves both readings.
    let wall = now();
    Now::new(wall, Monotonic(wall.0))
}

/// How a connection ends: `Ok` for an orderly end, `Err` for a bad client.
async fn conn_loop(
    stream: TcpStream,
    peer: SocketAddr,
    inner: &Arc<Inner>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<String, String> {
    let (mut rd, mut wr) = stream.into_split();
    let keys: Arc<dyn KeyStore> = inner.clone();
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    let mut params = ServerParams::new(vec![inner.rsa.clone()], keys, seed);
    params.time_offset_secs = inner.faults.clock_skew_secs;
    if let Some(rule) = inner.faults.violate {
        params.handshake_violation = rule.handshake();
        params.tamper = rule.tamper();
        params.transport_config.max_frame_len = rule.max_frame_len();
    }
    let mut conn = Connection::server(params);
    if let Some(policy) = ConnFaults::admission(inner, peer) {
        conn.set_admission(policy);
    }
    let mut faults = ConnFaults::new();
    let (dtx, mut drx) = mpsc::unbounded_channel::<Delayed>();
    let mut rbuf = vec![0u8; 64 * 1024];
    let mut wbuf: Vec<u8> = Vec::new();
    let mut written = 0usize;
    // Set once the connection closed: how the task ends after flushing.
    let mut ending: Option<Result<String, String>> = None;
    loop {
        while let Some(ev) = conn.poll_event() {
            match ev {
                Event::TransportDetected(transport) => {
                    inner.emit(ServerEvent::Connected { peer, transport });
                }
                Event::ServerKeyReady(k) => {
                    inner.stats.handshakes.fetch_add(1, Ordering::Relaxed);
                    inner.emit(ServerEvent::HandshakeDone {
                        peer,
                        rsa_scheme: k.rsa_scheme,
                        inner: k.inner,
                        auth_key_id: k.auth_key_id,
                    });
                }
                Event::Request { msg_id, body } => {
                    inner.stats.requests.fetch_add(1, Ordering::Relaxed);
                    if let Verdict::Drop = faults.on_request(inner, peer, &mut conn) {
                        return Ok("dropped by fault".into());
                    }
                    let handled = handle_request(inner, &body);
                    inner.emit(ServerEvent::Request {
                        peer,
                        name: handled.name,
                        wrapped: handled.wrapped,
                    });
                    let delay = inner.faults.answer_delay;
                    if delay.is_zero() {
                        conn.respond(msg_id, handled.result);
                        inner.stats.answers.fetch_add(1, Ordering::Relaxed);
                    } else if let Some(key) = conn.server_auth_key_id() {
                        let tx = dtx.clone();
                        let result = handled.result;
                        tokio::spawn(async move {
                            tokio::time::sleep(delay).await;
                            let _ = tx.send((key, msg_id, result));
                        });
                    }
                }
                Event::Closed(ConnectionError::UnknownAuthKey { .. }) => {
                    ending = Some(Ok("closed (unknown auth key)".into()));
                }
                Event::Closed(e) => ending = Some(Err(e.to_string())),
                _ => {}
            }
        }
        if written >= wbuf.len() {
            wbuf.clear();
            written = 0;
        }
        conn.poll_transmit(clock(), &mut wbuf);
        if written >= wbuf.len() {
            if let Some(end) = ending.take() {
                return end;
            }
        }
        let closed = conn.is_closed();
        tokio::select! {
            r = rd.read(&mut rbuf), if !closed => match r {
                Ok(0) => return Ok("closed by the client".into()),
                Ok(n) => conn.handle_bytes(clock(), &rbuf[..n]),
                Err(e) => return Err(format!("read: {e}")),
            },
            w = wr.write(&wbuf[written..]), if written < wbuf.len() => {
                written += w.map_err(|e| format!("write: {e}"))?;
            }
            Some((key, msg_id, result)) = drx.recv() => {
                if conn.server_auth_key_id() == Some(key) {
                    conn.respond(msg_id, result);
                    inner.stats.answers.fetch_add(1, Ordering::Relaxed);
                }
            }
            _ = tokio::time::sleep(inner.idle) => return Err("idle timeout".into()),
            _ = shutdown.changed() => return Ok("server shutdown".into()),
        }
    }
}
