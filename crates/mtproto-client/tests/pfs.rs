//! Perfect forward secrecy end to end (core.telegram.org/api/pfs): every
//! request goes under a temporary key bound to the permanent one, never
//! under the permanent key; a new temporary key is made and bound before
//! the old one expires; a binding whose answer is lost is sent again on the
//! same key; a hostile answer to the binding fails the connect by name.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use mtproto_client::methods::{self, MethodError, SetTypingError};
use mtproto_client::{Client, ClientConfig, ConnectError, ReconnectPolicy};
use mtproto_session::handshake::PqInnerVariant;
use mtproto_testserver::{Faults, ServerEvent, TestServer, TestServerConfig};
use mtproto_tl::api::enums::{InputPeer, SendMessageAction};
use mtproto_transport::TransportKind;
use tokio::sync::mpsc::UnboundedReceiver;

async fn server(faults: Faults) -> (TestServer, UnboundedReceiver<ServerEvent>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let mut cfg = TestServerConfig::with_test_key();
    cfg.faults = faults;
    cfg.events = Some(tx);
    (TestServer::start(cfg).await.unwrap(), rx)
}

fn config(server: &TestServer, kind: TransportKind) -> ClientConfig {
    let mut cfg = ClientConfig::new(server.addr(), kind)
        .with_rsa_key(server.public_key())
        .with_api_id(12345)
        .with_request_timeout(Duration::from_secs(10));
    cfg.reconnect = ReconnectPolicy::new(Duration::from_millis(20), Duration::from_millis(200), 5);
    cfg
}

async fn typing(client: &Client) -> Result<bool, MethodError<SetTypingError>> {
    methods::set_typing(
        client,
        InputPeer::InputPeerSelf,
        SendMessageAction::SendMessageTypingAction,
        None,
    )
    .await
}

/// (auth key, method name) of every request the server saw, and the ids of
/// the temporary keys its handshakes made.
fn drain(rx: &mut UnboundedReceiver<ServerEvent>) -> (Vec<(u64, String)>, Vec<u64>) {
    let (mut requests, mut temps) = (Vec::new(), Vec::new());
    while let Ok(ev) = rx.try_recv() {
        match ev {
            ServerEvent::Request {
                name, auth_key_id, ..
            } => requests.push((auth_key_id.unwrap(), name)),
            ServerEvent::HandshakeDone {
                inner: PqInnerVariant::TempDc { .. } | PqInnerVariant::Temp { .. },
                auth_key_id,
                ..
            } => temps.push(auth_key_id),
            _ => {}
        }
    }
    (requests, temps)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_goes_under_a_bound_temporary_key() {
    for kind in TransportKind::ALL {
        let (server, mut rx) = server(Faults::default()).await;
        let client = Client::connect(config(&server, kind)).await.unwrap();
        let perm = client.session_data().auth_key.id_u64();
        let pfs = client.pfs().unwrap();
        assert!(pfs.bound, "{kind}");
        assert_ne!(pfs.temp_auth_key_id, perm);
        // "expires_at = time + expires_in", a day by default.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert!((i64::from(pfs.expires_at) - now - 86_400).abs() <= 5);
        for _ in 0..3 {
            assert!(typing(&client).await.unwrap());
        }
        methods::get_config(&client).await.unwrap();
        assert_eq!(server.bound_to(pfs.temp_auth_key_id), Some(perm));
        let (requests, temps) = drain(&mut rx);
        assert_eq!(temps, vec![pfs.temp_auth_key_id], "{kind}");
        // The binding first, then the calls; nothing under the permanent key.
        assert_eq!(requests[0].1, "auth.bindTempAuthKey");
        assert_eq!(requests.len(), 5);
        assert!(
            requests.iter().all(|(k, _)| *k == pfs.temp_auth_key_id),
            "{kind}: {requests:?}"
        );
        let st = server.stats();
        assert_eq!((st.handshakes, st.bindings), (2, 1));
        assert_eq!(st.init_connections, 1, "initConnection after the binding");
        let cs = client.stats();
        assert_eq!((cs.handshakes, cs.temp_keys), (1, 1));
        server.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_permanent_key_gets_a_new_temporary_key() {
    let (server, mut rx) = server(Faults::default()).await;
    let first = Client::connect(config(&server, TransportKind::Intermediate))
        .await
        .unwrap();
    assert!(typing(&first).await.unwrap());
    let saved = first.session_data();
    let old_temp = first.pfs().unwrap().temp_auth_key_id;
    drop(first);
    let again =
        Client::connect(config(&server, TransportKind::Intermediate).with_session(saved.clone()))
            .await
            .unwrap();
    assert!(typing(&again).await.unwrap());
    let pfs = again.pfs().unwrap();
    assert_ne!(pfs.temp_auth_key_id, old_temp);
    assert_eq!(again.session_data().auth_key, saved.auth_key);
    assert_eq!(
        server.bound_to(pfs.temp_auth_key_id),
        Some(saved.auth_key.id_u64())
    );
    assert_eq!(again.stats().handshakes, 0, "the permanent key was reused");
    let (requests, _) = drain(&mut rx);
    assert!(requests.iter().all(|(k, _)| *k != saved.auth_key.id_u64()));
    assert_eq!(server.permanent_auth_keys(), 1);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_temporary_key_is_bound_before_the_old_one_expires() {
    let (server, mut rx) = server(Faults::default()).await;
    // Three seconds: the next key is made a quarter of that before expiry.
    let cfg =
        config(&server, TransportKind::Intermediate).with_temp_key_lifetime(Duration::from_secs(3));
    let client = Client::connect(cfg).await.unwrap();
    let perm = client.session_data().auth_key.id_u64();
    let first = client.pfs().unwrap();
    assert!(typing(&client).await.unwrap());
    let mut seen = vec![first.temp_auth_key_id];
    // Calls for 5 s: every one answered, each under a bound key that has
    // not expired.
    let until = tokio::time::Instant::now() + Duration::from_secs(5);
    while tokio::time::Instant::now() < until {
        assert!(typing(&client).await.unwrap());
        let p = client.pfs().unwrap();
        assert!(p.bound);
        if seen.last() != Some(&p.temp_auth_key_id) {
            seen.push(p.temp_auth_key_id);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen.len() >= 2, "renewed: {seen:?}");
    for t in &seen {
        assert_ne!(*t, perm);
    }
    let (requests, temps) = drain(&mut rx);
    assert_eq!(temps, seen, "no key made that was not used");
    assert!(requests.iter().all(|(k, _)| seen.contains(k)));
    assert_eq!(client.stats().handshakes, 1, "one permanent key");
    assert_eq!(server.permanent_auth_keys(), 1);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binding_whose_answer_is_lost_is_sent_again_on_the_same_key() {
    // The second binding (the renewal's) is carried out, then the
    // connection drops before its answer.
    let mut faults = Faults::default();
    faults.drop_bind_answer = Some(2);
    let (server, mut rx) = server(faults).await;
    let cfg =
        config(&server, TransportKind::Intermediate).with_temp_key_lifetime(Duration::from_secs(3));
    let client = Client::connect(cfg).await.unwrap();
    assert!(typing(&client).await.unwrap());
    tokio::time::sleep(Duration::from_millis(2600)).await;
    assert!(typing(&client).await.unwrap());
    let st = server.stats();
    assert_eq!(st.bind_answers_dropped, 1);
    // Three bindings for two keys: the lost answer's binding went out
    // again under the same temporary key, which the server took.
    assert_eq!(st.bindings, 3);
    let (requests, temps) = drain(&mut rx);
    assert_eq!(temps.len(), 2, "no third key: {temps:?}");
    let now = client.pfs().unwrap();
    assert!(now.bound);
    assert_eq!(now.temp_auth_key_id, temps[1]);
    let binds: Vec<u64> = requests
        .iter()
        .filter(|(_, n)| n == "auth.bindTempAuthKey")
        .map(|(k, _)| *k)
        .collect();
    assert_eq!(binds, vec![temps[0], temps[1], temps[1]]);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_answer_to_the_binding_fails_the_connect_by_name() {
    let mut faults = Faults::default();
    faults.violate = Some(mtproto_testserver::hostile::Rule::MsgKey);
    let (server, _rx) = server(faults).await;
    let started = std::time::Instant::now();
    match Client::connect(config(&server, TransportKind::Intermediate)).await {
        Err(ConnectError::PacketRejected(e)) => {
            assert!(e.to_string().contains("msg_key"), "{e}");
        }
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("connected to a hostile server"),
    }
    assert!(started.elapsed() < Duration::from_secs(3));
    server.shutdown().await;
}
