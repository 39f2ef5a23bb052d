//! Updates end to end: what the server pushes reaches `Client::updates()`
//! in order, once, even when the server drops or reorders pushes, and what
//! was pushed while the client was away is caught up with
//! `updates.getDifference`.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use mtproto_client::store::{MemoryStore, SessionStore};
use mtproto_client::{methods, Batch, Client, ClientConfig, PeerRef, Updates};
use mtproto_testserver::{Faults, TestServer, TestServerConfig};
use mtproto_tl::api::enums;
use mtproto_transport::TransportKind;

async fn server(faults: Faults) -> TestServer {
    let mut cfg = TestServerConfig::with_test_key();
    cfg.faults = faults;
    TestServer::start(cfg).await.unwrap()
}

fn config(server: &TestServer) -> ClientConfig {
    ClientConfig::new(server.addr(), TransportKind::Intermediate)
        .with_rsa_key(server.public_key())
        .with_request_timeout(Duration::from_secs(10))
}

fn texts(b: &Batch) -> Vec<String> {
    b.updates
        .iter()
        .filter_map(|u| match u {
            enums::Update::NewMessage(n) => match &n.message {
                enums::Message::Message(m) => Some(m.message.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// The message texts received until `want` of them came (or 10 s passed).
async fn receive(updates: &mut Updates, want: usize) -> Vec<String> {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while got.len() < want {
        match tokio::time::timeout_at(deadline, updates.recv()).await {
            Ok(Some(b)) => got.extend(texts(&b)),
            _ => break,
        }
    }
    // Anything more (a duplicate) would come right after.
    if let Ok(Some(b)) = tokio::time::timeout(Duration::from_millis(700), updates.recv()).await {
        got.extend(texts(&b));
    }
    got
}

/// Alice sends `n` messages to herself from `sender`: each is pushed to
/// her other connections.
async fn send(sender: &Client, from: usize, n: usize) -> Vec<String> {
    let mut sent = Vec::new();
    for i in from..from + n {
        let text = format!("message {i}");
        let me: PeerRef = "self".parse().unwrap();
        methods::send_message(sender, me, &text, i64::try_from(i).unwrap())
            .await
            .unwrap();
        sent.push(text);
    }
    sent
}

/// Subscribes and waits until the server knows the connection (a request
/// under its key) and the state is fetched.
async fn follow(client: &Client) -> Updates {
    let updates = client.updates();
    let me: PeerRef = "self".parse().unwrap();
    methods::set_typing(
        client,
        me,
        enums::SendMessageAction::SendMessageTypingAction,
        None,
    )
    .await
    .unwrap();
    // updates.getState goes out first thing; give it a moment.
    tokio::time::sleep(Duration::from_millis(200)).await;
    updates
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_pushes_are_recovered_by_get_difference() {
    let mut faults = Faults::default();
    faults.drop_pushes = Some(3);
    let server = server(faults).await;
    let listener = Client::connect(config(&server)).await.unwrap();
    let sender = Client::connect(config(&server)).await.unwrap();
    let mut updates = follow(&listener).await;
    let sent = send(&sender, 1, 10).await;
    // Every third push was dropped: the gaps are seen, held 0.5 s, and
    // filled by updates.getDifference. In order, each once.
    assert_eq!(receive(&mut updates, sent.len()).await, sent);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reordered_pushes_come_out_in_order() {
    let mut faults = Faults::default();
    faults.reorder_pushes = true;
    let server = server(faults).await;
    let listener = Client::connect(config(&server)).await.unwrap();
    let sender = Client::connect(config(&server)).await.unwrap();
    let mut updates = follow(&listener).await;
    let sent = send(&sender, 1, 8).await;
    assert_eq!(receive(&mut updates, sent.len()).await, sent);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_pushed_while_away_are_caught_up_once() {
    let server = server(Faults::default()).await;
    let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
    let sender = Client::connect(config(&server)).await.unwrap();

    let first = Client::connect(config(&server).with_store(store.clone()))
        .await
        .unwrap();
    let mut updates = follow(&first).await;
    let before = send(&sender, 1, 2).await;
    assert_eq!(receive(&mut updates, 2).await, before);
    first.save().unwrap();
    assert!(store.load().unwrap().unwrap().updates.pts >= 2);
    drop(updates);
    drop(first);

    // Sent while nobody listened.
    let missed = send(&sender, 3, 3).await;
    // The same session again: it catches up from the saved state, and
    // what it had already is not delivered again.
    let again = Client::connect(config(&server).with_store(store.clone()))
        .await
        .unwrap();
    let mut updates = again.updates();
    assert_eq!(receive(&mut updates, missed.len()).await, missed);
    server.shutdown().await;
}
