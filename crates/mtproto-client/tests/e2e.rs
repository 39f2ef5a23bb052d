//! End-to-end: mtproto-client against mtproto-testserver over loopback TCP.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mtproto_client::methods::{self, MethodError, SetTypingError, TypedError};
use mtproto_client::{
    Client, ClientConfig, ConnectEvent, FloodWaitPolicy, InvocationError, MessageDirection,
    ReconnectPolicy, SessionData,
};
use mtproto_testserver::{Faults, ServerEvent, TestServer, TestServerConfig};
use mtproto_tl::api::enums::{InputPeer, SendMessageAction};
use mtproto_tl::api::types;
use mtproto_transport::TransportKind;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn server(faults: Faults) -> TestServer {
    let mut cfg = TestServerConfig::with_test_key();
    cfg.faults = faults;
    TestServer::start(cfg).await.unwrap()
}

fn client_config(server: &TestServer, kind: TransportKind) -> ClientConfig {
    // These tests follow the permanent key (its handshake steps, its reuse,
    // -404 for an unknown one); tests/pfs.rs runs the same paths under
    // temporary keys.
    let mut cfg = ClientConfig::new(server.addr(), kind)
        .with_rsa_key(server.public_key())
        .with_api_id(12345)
        .with_pfs(false);
    cfg.reconnect = ReconnectPolicy::new(Duration::from_millis(20), Duration::from_millis(200), 5);
    cfg.session_config.request_timeout = Duration::from_secs(20);
    cfg
}

fn user(user_id: i64, access_hash: i64) -> InputPeer {
    InputPeer::User(types::InputPeerUser {
        user_id,
        access_hash,
    })
}

fn chat(chat_id: i64) -> InputPeer {
    InputPeer::Chat(types::InputPeerChat { chat_id })
}

fn channel(channel_id: i64) -> InputPeer {
    InputPeer::Channel(types::InputPeerChannel {
        channel_id,
        access_hash: 1,
    })
}

async fn typing(client: &Client, peer: InputPeer) -> Result<bool, MethodError<SetTypingError>> {
    methods::set_typing(
        client,
        peer,
        SendMessageAction::SendMessageTypingAction,
        None,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_transport_handshake_then_set_typing() {
    let (stx, mut srx) = tokio::sync::mpsc::unbounded_channel();
    let mut scfg = TestServerConfig::with_test_key();
    scfg.events = Some(stx);
    let server = TestServer::start(scfg).await.unwrap();
    for (i, kind) in TransportKind::ALL.into_iter().enumerate() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut cfg = client_config(&server, kind);
        cfg.events = Some(tx);
        let started = Instant::now();
        let client = Client::connect(cfg).await.unwrap();
        let hs_time = started.elapsed();
        assert!(typing(&client, InputPeer::InputPeerSelf).await.unwrap());
        // Every action of the layer goes through (the enum is generated).
        let upload =
            SendMessageAction::SendMessageUploadPhotoAction(types::SendMessageUploadPhotoAction {
                progress: 50,
            });
        assert!(methods::set_typing(&client, chat(7), upload, Some(3))
            .await
            .unwrap());
        let mtproto_tl::api::enums::Config::Config(c) = methods::get_config(&client).await.unwrap();
        assert_eq!(c.this_dc, 2);
        assert_eq!(c.dc_options.len(), 1);
        assert_eq!(client.stats().handshakes, 1);

        let mut names = Vec::new();
        let mut done = None;
        while let Ok(ev) = rx.try_recv() {
            match ev {
                ConnectEvent::HandshakeStep {
                    direction, name, ..
                } => names.push((direction, name)),
                ConnectEvent::HandshakeDone {
                    rsa_fingerprint, ..
                } => done = Some(rsa_fingerprint),
                _ => {}
            }
        }
        assert_eq!(
            names,
            vec![
                (MessageDirection::Sent, "req_pq_multi"),
                (MessageDirection::Received, "resPQ"),
                (MessageDirection::Sent, "req_DH_params"),
                (MessageDirection::Received, "server_DH_params_ok"),
                (MessageDirection::Sent, "set_client_DH_params"),
                (MessageDirection::Received, "dh_gen_ok"),
            ],
            "{kind}"
        );
        assert_eq!(done, Some(server.fingerprint()));
        eprintln!("{kind}: connect + handshake {hs_time:?}");
        assert_eq!(server.stats().handshakes, i as u64 + 1);
    }
    let st = server.stats();
    assert_eq!(st.set_typing, 14);
    // The first request of each connection came in invokeWithLayer(initConnection(..)).
    assert_eq!(st.init_connections, 7);
    let mut seen = HashSet::new();
    let mut requests = HashSet::new();
    while let Ok(ev) = srx.try_recv() {
        match ev {
            ServerEvent::Connected { transport, .. } => {
                seen.insert(transport);
            }
            ServerEvent::Request { name, .. } => {
                requests.insert(name);
            }
            ServerEvent::HandshakeDone {
                rsa_scheme, inner, ..
            } => {
                assert_eq!(rsa_scheme, mtproto_session::handshake::RsaScheme::RsaPad);
                assert_eq!(
                    inner,
                    mtproto_session::handshake::PqInnerVariant::Dc { dc: 2 }
                );
            }
            _ => {}
        }
    }
    assert_eq!(seen.len(), 7, "every transport detected: {seen:?}");
    assert!(requests.contains("messages.setTyping"));
    assert!(requests.contains("help.getConfig"));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_set_typing_error_is_typed() {
    for kind in TransportKind::ALL {
        eprintln!("every_set_typing_error_is_typed: {kind}");
        every_set_typing_error_is_typed_over(kind).await;
    }
}

async fn every_set_typing_error_is_typed_over(kind: TransportKind) {
    let server = server(Faults::default()).await;
    let client = Client::connect(client_config(&server, kind)).await.unwrap();
    // The test server answers with the reference page's codes (e.g. 400
    // CHANNEL_PRIVATE where the docs say 406): the variant comes from the
    // name, the code is the one sent.
    let cases: Vec<(InputPeer, SetTypingError)> = vec![
        (
            channel(400101),
            SetTypingError::ChannelInvalid { code: 400 },
        ),
        (
            channel(400102),
            SetTypingError::ChannelPrivate { code: 400 },
        ),
        (
            chat(400002),
            SetTypingError::ChatAdminRequired { code: 400 },
        ),
        (chat(400001), SetTypingError::ChatIdInvalid { code: 400 }),
        (
            user(400203, 1),
            SetTypingError::InputUserDeactivated { code: 400 },
        ),
        (
            InputPeer::Empty,
            SetTypingError::PeerIdInvalid { code: 400 },
        ),
        (
            channel(400103),
            SetTypingError::UserBannedInChannel { code: 400 },
        ),
        (user(400201, 1), SetTypingError::UserIsBlocked { code: 400 }),
        (user(400202, 1), SetTypingError::UserIsBot { code: 400 }),
        (
            user(406001, 1),
            SetTypingError::AuthKeyDuplicated { code: 406 },
        ),
        (
            chat(403001),
            SetTypingError::ChatWriteForbidden { code: 403 },
        ),
    ];
    let described = SetTypingError::DOCUMENTED
        .iter()
        .filter(|(_, _, d)| !d.is_empty())
        .count();
    assert_eq!(cases.len(), described);
    for (peer, want) in cases {
        let got = typing(&client, peer).await;
        match got {
            Err(MethodError::Rpc(e)) => {
                assert_eq!(e, want);
                assert!(!e.description().is_empty());
            }
            other => panic!("expected {want:?}, got {other:?}"),
        }
    }
    // Not documented for the method: kept verbatim.
    match typing(&client, user(400299, 1)).await {
        Err(MethodError::Rpc(SetTypingError::Other(e))) => {
            assert_eq!(
                (e.code, e.name.as_str(), e.value),
                (400, "YOU_BLOCKED_USER", None)
            );
        }
        other => panic!("{other:?}"),
    }
    // FLOOD_WAIT_N, which any method may return, carries its number; no
    // retry by default.
    match typing(&client, user(420_017, 0)).await {
        Err(MethodError::Rpc(SetTypingError::FloodWait { code, value })) => {
            assert_eq!((code, value), (420, 17));
        }
        other => panic!("{other:?}"),
    }
    // Unknown method: INPUT_METHOD_INVALID_<id>.
    let raw = client
        .invoke_raw(vec![0x78, 0x56, 0x34, 0x12], Duration::from_secs(5))
        .await;
    match raw {
        Err(InvocationError::Rpc(e)) => {
            assert_eq!(
                (e.name.as_str(), e.value),
                ("INPUT_METHOD_INVALID", Some(0x12345678))
            );
        }
        other => panic!("{other:?}"),
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_invokes_each_answered_once() {
    for kind in TransportKind::ALL {
        eprintln!("thousand_concurrent_invokes_each_answered_once: {kind}");
        thousand_concurrent_invokes_each_answered_once_over(kind).await;
    }
}

async fn thousand_concurrent_invokes_each_answered_once_over(kind: TransportKind) {
    let server = server(Faults::default()).await;
    let client = Client::connect(client_config(&server, kind)).await.unwrap();
    let before = server.stats();
    let answered = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..50i64 {
        let client = client.clone();
        let answered = answered.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..20i64 {
                // Distinct peers, so each answer is the answer to this request.
                let ok = typing(&client, chat(1_000 + t * 20 + i)).await.unwrap();
                assert!(ok);
                answered.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let took = started.elapsed();
    eprintln!("1000 invokes from 50 tasks: {took:?}");
    assert_eq!(answered.load(Ordering::Relaxed), 1000);
    let after = server.stats();
    assert_eq!(after.requests - before.requests, 1000);
    assert_eq!(after.answers - before.answers, 1000);
    assert_eq!(after.set_typing - before.set_typing, 1000);
    assert_eq!(client.stats().resent, 0);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connection_is_recovered_by_resending() {
    for kind in TransportKind::ALL {
        eprintln!("dropped_connection_is_recovered_by_resending: {kind}");
        dropped_connection_is_recovered_by_resending_over(kind).await;
    }
}

async fn dropped_connection_is_recovered_by_resending_over(kind: TransportKind) {
    let server = server({
        let mut f = Faults::default();
        f.drop_after_requests = Some(2);
        f.drop_times = 1;
        f
    })
    .await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut cfg = client_config(&server, kind);
    cfg.events = Some(tx);
    let client = Client::connect(cfg).await.unwrap();
    assert!(typing(&client, chat(1)).await.unwrap());
    // The 2nd request makes the server drop the connection without answering.
    assert!(typing(&client, chat(2)).await.unwrap());
    assert!(typing(&client, chat(3)).await.unwrap());
    let st = server.stats();
    assert_eq!(st.dropped, 1);
    assert_eq!(st.connections, 2);
    assert_eq!(st.handshakes, 1, "the reconnect reused the key");
    assert_eq!(st.requests, 4, "the dropped request was received twice");
    assert_eq!(st.answers, 3, "... and answered once");
    let cs = client.stats();
    assert_eq!((cs.reconnects, cs.resent, cs.handshakes), (1, 1, 1));
    let mut saw = (false, false);
    while let Ok(ev) = rx.try_recv() {
        match ev {
            ConnectEvent::Disconnected { .. } => saw.0 = true,
            ConnectEvent::Resent { count } => {
                assert_eq!(count, 1);
                saw.1 = true;
            }
            _ => {}
        }
    }
    assert_eq!(saw, (true, true));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_key_is_reused_without_second_handshake() {
    for kind in TransportKind::ALL {
        eprintln!("saved_key_is_reused_without_second_handshake: {kind}");
        saved_key_is_reused_without_second_handshake_over(kind).await;
    }
}

async fn saved_key_is_reused_without_second_handshake_over(kind: TransportKind) {
    let server = server(Faults::default()).await;
    let saved = {
        let client = Client::connect(client_config(&server, kind)).await.unwrap();
        assert!(typing(&client, chat(1)).await.unwrap());
        client.session_data().to_hex()
    };
    let data = SessionData::from_hex(&saved).unwrap();
    let cfg = client_config(&server, kind).with_session(data.clone());
    let client = Client::connect(cfg).await.unwrap();
    assert!(typing(&client, chat(2)).await.unwrap());
    assert_eq!(client.stats().handshakes, 0);
    assert_eq!(client.session_data().auth_key, data.auth_key);
    assert_eq!(server.stats().handshakes, 1);
    assert_eq!(server.stats().connections, 2);
    assert_eq!(server.auth_keys(), 1);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_saved_key_leads_to_new_handshake() {
    let server = server(Faults::default()).await;
    let bogus = SessionData {
        dc_id: 2,
        auth_key: mtproto_crypto::AuthKey::from_bytes([7u8; 256]),
        salt: 1,
        time_offset: 0,
    };
    let cfg = client_config(&server, TransportKind::Intermediate).with_session(bogus);
    let client = Client::connect(cfg).await.unwrap();
    // The server answers -404; the client makes a key and re-sends.
    assert!(typing(&client, chat(2)).await.unwrap());
    assert_eq!(client.stats().handshakes, 1);
    assert_eq!(server.stats().handshakes, 1);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_clients_do_not_take_the_server_down() {
    let server = server(Faults::default()).await;
    let garbage: Vec<Vec<u8>> = vec![
        b"GET / HTTP/1.1\r\n\r\n".to_vec(),
        vec![0x16, 0x03, 0x01, 0x02, 0, 0, 0, 0],
        (0..200u8)
            .map(|i| i.wrapping_mul(37).wrapping_add(11))
            .collect(),
        // intermediate tag then an absurd length
        vec![0xee, 0xee, 0xee, 0xee, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3],
        // abridged tag then a frame of garbage that is not a handshake
        vec![0xef, 0x02, 0, 0, 0, 0, 0, 0, 0, 0],
        // intermediate tag, a plain-message header, then hang up mid-frame
        vec![0xee, 0xee, 0xee, 0xee, 40, 0, 0, 0, 0, 0, 0, 0],
    ];
    for g in garbage {
        let mut s = TcpStream::connect(server.addr()).await.unwrap();
        s.write_all(&g).await.unwrap();
        s.shutdown().await.unwrap();
        let mut sink = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(2), s.read_to_end(&mut sink)).await;
    }
    // Connect and vanish.
    drop(TcpStream::connect(server.addr()).await.unwrap());
    // Half a handshake: the first message only, then hang up.
    {
        let client_cfg = client_config(&server, TransportKind::Intermediate);
        let mut s = TcpStream::connect(server.addr()).await.unwrap();
        let mut hs = mtproto_session::handshake::ClientHandshake::new(
            mtproto_session::handshake::HandshakeConfig::new(client_cfg.rsa_keys.clone(), 2),
        );
        let first = hs
            .start(
                &mut rand::rngs::OsRng,
                mtproto_session::Timestamp::from_secs(1_700_000_000),
            )
            .unwrap();
        let mut wire = vec![0xee, 0xee, 0xee, 0xee];
        wire.extend_from_slice(&u32::try_from(first.len()).unwrap().to_le_bytes());
        wire.extend_from_slice(&first);
        s.write_all(&wire).await.unwrap();
        let mut buf = [0u8; 8];
        s.read_exact(&mut buf).await.unwrap();
    }
    let client = Client::connect(client_config(&server, TransportKind::Full))
        .await
        .unwrap();
    assert!(typing(&client, chat(9)).await.unwrap());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(server.stats().bad_connections >= 5, "{:?}", server.stats());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_wait_retry_policy() {
    let server = server(Faults::default()).await;
    let mut cfg = client_config(&server, TransportKind::Intermediate);
    cfg.flood_wait = Some(FloodWaitPolicy::new(Duration::from_secs(2), 2));
    let client = Client::connect(cfg).await.unwrap();
    // FLOOD_WAIT_1 once, then true: one retry after ~1 s.
    let t = Instant::now();
    assert!(typing(&client, user(420_001, 1)).await.unwrap());
    assert!(t.elapsed() >= Duration::from_secs(1));
    // FLOOD_WAIT_0 three times but only two retries allowed: the error surfaces.
    match typing(&client, user(420_000, 3)).await {
        Err(MethodError::Rpc(SetTypingError::FloodWait { code, value })) => {
            assert_eq!((code, value), (420, 0));
        }
        other => panic!("{other:?}"),
    }
    // ... and the third retry (a new call) succeeds after the server's budget of 3.
    assert!(typing(&client, user(420_000, 3)).await.unwrap());
    // A wait above max_wait is not retried.
    let t = Instant::now();
    assert!(typing(&client, user(420_005, 0)).await.is_err());
    assert!(t.elapsed() < Duration::from_secs(2));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn salt_rotation_and_bad_msg_notification_are_survived() {
    let server = server({
        let mut f = Faults::default();
        f.rotate_salt_after_requests = Some(1);
        f.bad_msg_at_packet = Some((3, 16));
        f
    })
    .await;
    let client = Client::connect(client_config(&server, TransportKind::Full))
        .await
        .unwrap();
    let first_salt = client.session_data().salt;
    for i in 0..5 {
        assert!(typing(&client, chat(i)).await.unwrap());
    }
    assert_ne!(
        client.session_data().salt,
        first_salt,
        "salt followed the server"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_and_cancellation_do_not_break_the_driver() {
    let server = server({
        let mut f = Faults::default();
        f.answer_delay = Duration::from_millis(300);
        f
    })
    .await;
    let client = Client::connect(client_config(&server, TransportKind::Abridged))
        .await
        .unwrap();
    // Cancelled: the future is dropped before the answer.
    let r = tokio::time::timeout(Duration::from_millis(50), typing(&client, chat(1))).await;
    assert!(r.is_err());
    // Timed out by the client.
    let req = mtproto_tl::api::functions::messages::SetTyping {
        peer: chat(2),
        top_msg_id: None,
        action: SendMessageAction::SendMessageCancelAction,
    };
    let r = client
        .invoke_with_timeout(&req, Duration::from_millis(100))
        .await;
    assert_eq!(r, Err(InvocationError::Timeout));
    // Still works.
    assert!(typing(&client, chat(3)).await.unwrap());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skewed_server_clock_is_survived() {
    let server = server({
        let mut f = Faults::default();
        f.clock_skew_secs = 3600;
        f
    })
    .await;
    let client = Client::connect(client_config(&server, TransportKind::Intermediate))
        .await
        .unwrap();
    // The first message is refused (msg_id too low, code 16); the session
    // learns the offset from the notification and re-sends.
    assert!(typing(&client, chat(1)).await.unwrap());
    assert!(typing(&client, chat(2)).await.unwrap());
    let offset = client.session_data().time_offset;
    assert!((3590..=3610).contains(&offset), "offset {offset}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gives_up_after_max_reconnect_attempts() {
    let server = server(Faults::default()).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut cfg = client_config(&server, TransportKind::Intermediate);
    cfg.events = Some(tx);
    let client = Client::connect(cfg).await.unwrap();
    assert!(typing(&client, chat(1)).await.unwrap());
    server.shutdown().await;
    let t = Instant::now();
    assert_eq!(
        typing(&client, chat(2)).await,
        Err(MethodError::Invocation(InvocationError::Disconnected))
    );
    assert!(t.elapsed() < Duration::from_secs(5));
    let attempts = std::iter::from_fn(|| rx.try_recv().ok())
        .filter(|e| matches!(e, ConnectEvent::Reconnecting { .. }))
        .count();
    assert_eq!(attempts, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_request_fails_at_once_and_disturbs_nothing() {
    let server = server(Faults::default()).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut cfg = client_config(&server, TransportKind::Intermediate);
    cfg.events = Some(tx);
    let client = Client::connect(cfg).await.unwrap();
    // Other requests are in flight while a 17 MiB one is made: no transport
    // carries it (16 MiB frames), so it fails at once with a typed error.
    let others: Vec<_> = (0..8)
        .map(|i| {
            let c = client.clone();
            tokio::spawn(async move { typing(&c, user(100 + i, 1)).await })
        })
        .collect();
    let started = Instant::now();
    let big = client
        .invoke_raw(vec![0; 17 * 1024 * 1024], Duration::from_secs(20))
        .await;
    assert!(started.elapsed() < Duration::from_secs(2));
    match big {
        Err(InvocationError::Dropped(mtproto_session::session::RequestError::TooLarge {
            len,
            ..
        })) => assert_eq!(len, 17 * 1024 * 1024),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    for o in others {
        assert!(o.await.unwrap().unwrap());
    }
    // The connection was never dropped for it.
    assert_eq!(client.stats().reconnects, 0);
    while let Ok(ev) = rx.try_recv() {
        assert!(
            !matches!(ev, ConnectEvent::Disconnected { .. }),
            "unexpected {ev:?}"
        );
    }
    server.shutdown().await;
}
