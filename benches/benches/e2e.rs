//! End-to-end throughput: the tokio client and the test server over
//! loopback TCP, one connection, `messages.setTyping` at concurrency 1, 16
//! and 256. Not a Criterion bench: it prints one JSON line per concurrency
//! (requests per second, best and median of the rounds) so that two builds
//! can be compared side by side (`benches/e2e/ab.sh OLD_COMMIT` runs this
//! file at an old commit and at the work tree, interleaved).
//!
//! Settings: `E2E_REQUESTS` per round (default 4000), `E2E_ROUNDS` (5),
//! `E2E_TRANSPORT` (intermediate).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use mtproto_client::{methods, Client, ClientConfig};
use mtproto_testserver::{TestServer, TestServerConfig};
use mtproto_tl::api::{enums, types};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn round(client: &Client, concurrency: usize, requests: usize) -> Duration {
    let per_task = requests / concurrency;
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(concurrency);
    for t in 0..concurrency {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let peer = enums::InputPeer::User(types::InputPeerUser {
                user_id: 42 + t as i64,
                access_hash: 1234,
            });
            for _ in 0..per_task {
                let ok = methods::set_typing(
                    &client,
                    peer.clone(),
                    enums::SendMessageAction::SendMessageTypingAction,
                    None,
                )
                .await
                .expect("setTyping answered");
                assert!(ok);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    started.elapsed()
}

fn main() {
    // `cargo bench` passes --bench; a filter argument is ignored.
    let requests = env_usize("E2E_REQUESTS", 4000);
    let rounds = env_usize("E2E_ROUNDS", 5).max(1);
    let transport = std::env::var("E2E_TRANSPORT").unwrap_or_else(|_| "intermediate".into());
    let label = std::env::var("E2E_LABEL").unwrap_or_else(|_| "worktree".into());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let server = TestServer::start(TestServerConfig::with_test_key())
            .await
            .unwrap();
        let config = ClientConfig::new(server.addr(), transport.parse().unwrap())
            .with_rsa_key(server.public_key());
        let client = Client::connect(config).await.unwrap();
        // Warm up: the first request carries the session's setup.
        round(&client, 16, 320).await;
        for concurrency in [1usize, 16, 256] {
            let n = (requests / concurrency).max(1) * concurrency;
            let mut rates: Vec<f64> = Vec::with_capacity(rounds);
            for _ in 0..rounds {
                let d = round(&client, concurrency, n).await;
                rates.push(n as f64 / d.as_secs_f64());
            }
            let mut sorted = rates.clone();
            sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
            println!(
                "{{\"label\": \"{label}\", \"transport\": \"{transport}\", \"concurrency\": {concurrency}, \"requests\": {n}, \"best_rps\": {:.0}, \"median_rps\": {:.0}}}",
                sorted[sorted.len() - 1],
                sorted[sorted.len() / 2]
            );
        }
        server.shutdown().await;
    });
}
