//! Transport error -404 is unauthenticated: anyone on the path can inject
//! it. A proxy between the client and the test server injects it; one alone
//! must not make the client drop a key that has carried valid server
//! packets, but -404 again right after connecting on a fresh connection
//! does (the server really forgot the key).
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mtproto_client::{Client, ClientConfig, ReconnectPolicy};
use mtproto_testserver::{TestServer, TestServerConfig};
use mtproto_tl::api::functions::help::GetConfig;
use mtproto_transport::TransportKind;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// An intermediate-transport frame holding transport error -404.
const MINUS_404: [u8; 8] = [4, 0, 0, 0, 0x6c, 0xfe, 0xff, 0xff];

/// A TCP proxy that can inject -404 towards the client: into connection 0
/// when `inject` is notified (between frames: the stream is idle then), and
/// at the start of connections `1..=immediately` before any server byte.
struct Proxy {
    addr: std::net::SocketAddr,
    inject: Arc<Notify>,
    connections: Arc<AtomicU32>,
}

async fn proxy(upstream: std::net::SocketAddr, immediately: u32) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let inject = Arc::new(Notify::new());
    let connections = Arc::new(AtomicU32::new(0));
    let (inj, count) = (inject.clone(), connections.clone());
    tokio::spawn(async move {
        // bounded: at most 16 connections in a test
        for _ in 0..16 {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let n = count.fetch_add(1, Ordering::SeqCst);
            let server = TcpStream::connect(upstream).await.unwrap();
            let inj = inj.clone();
            tokio::spawn(async move {
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let up = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut cr, &mut sw).await;
                });
                if n >= 1 && n <= immediately {
                    let _ = cw.write_all(&MINUS_404).await;
                }
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    tokio::select! {
                        r = sr.read(&mut buf) => match r {
                            Ok(0) | Err(_) => break,
                            Ok(k) => if cw.write_all(&buf[..k]).await.is_err() { break },
                        },
                        _ = inj.notified(), if n == 0 => {
                            if cw.write_all(&MINUS_404).await.is_err() {
                                break;
                            }
                        }
                    }
                }
                up.abort();
            });
        }
    });
    Proxy {
        addr,
        inject,
        connections,
    }
}

async fn setup(immediately: u32) -> (TestServer, Proxy, Client) {
    let server = TestServer::start(TestServerConfig::with_test_key())
        .await
        .unwrap();
    let p = proxy(server.addr(), immediately).await;
    // The permanent key's -404 handling; tests/pfs.rs covers temporary keys.
    let mut cfg = ClientConfig::new(p.addr, TransportKind::Intermediate)
        .with_rsa_key(server.public_key())
        .with_pfs(false);
    cfg.reconnect = ReconnectPolicy::new(Duration::from_millis(20), Duration::from_millis(100), 5);
    let client = Client::connect(cfg).await.unwrap();
    // The key carries valid server packets.
    client.invoke(&GetConfig {}).await.unwrap();
    (server, p, client)
}

/// Waits (bounded) until the client noticed the injected -404 and parked.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(200)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_injected_404_does_not_drop_a_proven_key() {
    let (server, p, client) = setup(0).await;
    p.inject.notify_one();
    settle().await;
    // The next call reconnects with the same key: no new handshake.
    tokio::time::timeout(Duration::from_secs(5), client.invoke(&GetConfig {}))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.connections.load(Ordering::SeqCst), 2);
    assert_eq!(client.stats().handshakes, 1);
    assert_eq!(server.stats().handshakes, 1);
    assert_eq!(server.auth_keys(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_404_repeated_right_after_connecting_drops_the_key() {
    // -404 on the first connection, then at once on the next fresh one: the
    // server really does not know the key; the third connection makes a
    // new one.
    let (server, p, client) = setup(1).await;
    p.inject.notify_one();
    settle().await;
    tokio::time::timeout(Duration::from_secs(5), client.invoke(&GetConfig {}))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.connections.load(Ordering::SeqCst), 3);
    assert_eq!(client.stats().handshakes, 2);
    assert_eq!(server.stats().handshakes, 2);
}
