//! A client and a server `Connection` joined by an in-memory byte pipe on
//! a virtual clock: handshake over every transport, requests and answers,
//! a saved key, an unknown key (-404 as an event), an oversized request.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mtproto_connection::{
    ClientParams, ClientStart, Connection, ConnectionError, Event, KeyStore, ServerParams,
};
use mtproto_crypto::rsa::RsaPrivateKey;
use mtproto_crypto::test_keys::TEST_RSA_PRIVATE_PEM;
use mtproto_crypto::AuthKey;
use mtproto_session::handshake::HandshakeConfig;
use mtproto_session::session::{ClientSession, Config, RequestError, SessionEvent};
use mtproto_session::testing::{answer_for, req, START};
use mtproto_session::{Now, Timestamp};
use mtproto_transport::{TransportErrorCode, TransportKind};

#[derive(Default)]
struct Store(Mutex<HashMap<u64, (AuthKey, i64)>>);

impl KeyStore for Store {
    fn get(&self, id: u64) -> Option<(AuthKey, i64)> {
        self.0.lock().unwrap().get(&id).cloned()
    }
    fn insert(&self, key: AuthKey, salt: i64) {
        self.0.lock().unwrap().insert(key.id_u64(), (key, salt));
    }
}

fn rsa() -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs1_pem(TEST_RSA_PRIVATE_PEM).unwrap()
}

struct Net {
    client: Connection,
    server: Connection,
    now: Now,
    client_events: Vec<Event>,
    server_events: Vec<Event>,
    /// Bytes that went from the client to the server.
    wire_to_server: usize,
}

impl Net {
    fn new(client: Connection, server: Connection) -> Self {
        Self {
            client,
            server,
            now: Now::from(Timestamp::from_secs(START)),
            client_events: Vec::new(),
            server_events: Vec::new(),
            wire_to_server: 0,
        }
    }

    /// Moves bytes both ways until both sides are quiet; the server answers
    /// every request with `answer_for(body)`.
    fn run(&mut self) {
        let mut buf = Vec::new();
        for _ in 0..100 {
            let mut progress = false;
            buf.clear();
            if self.client.poll_transmit(self.now, &mut buf) {
                self.wire_to_server += buf.len();
                self.server.handle_bytes(self.now, &buf);
                progress = true;
            }
            while let Some(e) = self.server.poll_event() {
                if let Event::Request { msg_id, body } = &e {
                    self.server.respond(*msg_id, Ok(answer_for(body)));
                }
                self.server_events.push(e);
            }
            buf.clear();
            if self.server.poll_transmit(self.now, &mut buf) {
                self.client.handle_bytes(self.now, &buf);
                progress = true;
            }
            while let Some(e) = self.client.poll_event() {
                self.client_events.push(e);
            }
            self.now = self.now.add(Duration::from_millis(10));
            if !progress {
                return;
            }
        }
        panic!("no quiescence");
    }

    fn answers(&self) -> Vec<Vec<u8>> {
        self.client_events
            .iter()
            .filter_map(|e| match e {
                Event::Session(SessionEvent::Response {
                    result: Ok(body), ..
                }) => Some(body.clone()),
                _ => None,
            })
            .collect()
    }
}

fn server(store: &Arc<Store>, seed: u8) -> Connection {
    let keys: Arc<dyn KeyStore> = store.clone();
    Connection::server(ServerParams::new(vec![rsa()], keys, [seed; 32]))
}

fn new_key_client(kind: TransportKind, seed: u8) -> Connection {
    let hs = HandshakeConfig::new(vec![rsa().public_key().clone()], 2);
    let now = Now::from(Timestamp::from_secs(START));
    Connection::client(
        now,
        ClientParams::new(kind, [seed; 32]),
        ClientStart::NewKey(hs),
    )
    .unwrap()
}

#[test]
fn handshake_then_requests_over_every_transport() {
    for (i, kind) in TransportKind::ALL.into_iter().enumerate() {
        let store = Arc::new(Store::default());
        let seed = u8::try_from(i).unwrap();
        let mut net = Net::new(new_key_client(kind, seed), server(&store, seed + 100));
        net.run();
        assert!(
            net.client_events
                .iter()
                .any(|e| matches!(e, Event::KeyReady(_))),
            "{kind}: {:?}",
            net.client_events
        );
        assert!(net
            .server_events
            .iter()
            .any(|e| matches!(e, Event::TransportDetected(k) if *k == kind)));
        assert!(net
            .server_events
            .iter()
            .any(|e| matches!(e, Event::ServerKeyReady(_))));
        // The handshake messages are reported by name, both ways.
        let names: Vec<&str> = net
            .client_events
            .iter()
            .filter_map(|e| match e {
                Event::HandshakeMessage { name, .. } => Some(*name),
                _ => None,
            })
            .collect();
        assert_eq!(names[0], "req_pq_multi", "{kind}");
        assert_eq!(names.len(), 6, "{kind}: {names:?}");

        let now = net.now;
        for n in 0..3 {
            net.client.enqueue(now, req(n), None).unwrap();
        }
        net.run();
        assert_eq!(
            net.answers(),
            vec![
                answer_for(&req(0)),
                answer_for(&req(1)),
                answer_for(&req(2))
            ],
            "{kind}"
        );
        assert!(!net.client.is_closed() && !net.server.is_closed());
    }
}

#[test]
fn saved_session_resumes_without_a_handshake_on_a_new_connection() {
    let store = Arc::new(Store::default());
    let mut net = Net::new(
        new_key_client(TransportKind::PaddedIntermediate, 1),
        server(&store, 2),
    );
    net.run();
    let now = net.now;
    net.client.enqueue(now, req(1), None).unwrap();
    // The connection drops before anything is sent.
    let old = std::mem::replace(&mut net.client, new_key_client(TransportKind::Abridged, 9));
    let session = old.into_session(now).unwrap();
    assert_eq!(session.pending_requests(), 1);
    let params = ClientParams::new(TransportKind::Abridged, [3; 32]);
    net.client = Connection::client(now, params, ClientStart::Resume(session)).unwrap();
    net.server = server(&store, 4);
    net.client_events.clear();
    net.run();
    assert!(!net
        .client_events
        .iter()
        .any(|e| matches!(e, Event::HandshakeMessage { .. })));
    assert_eq!(net.answers(), vec![answer_for(&req(1))]);
}

#[test]
fn unknown_key_gets_transport_error_404_as_an_event_then_a_rekey() {
    let store = Arc::new(Store::default());
    let session = ClientSession::new(
        mtproto_session::testing::key(77),
        1,
        Config::default(),
        [5; 32],
    );
    let now = Now::from(Timestamp::from_secs(START));
    let params = ClientParams::new(TransportKind::Intermediate, [6; 32]);
    let client = Connection::client(now, params, ClientStart::Resume(session)).unwrap();
    let mut net = Net::new(client, server(&store, 7));
    net.client.enqueue(now, req(1), None).unwrap();
    net.run();
    assert!(net.client_events.contains(&Event::TransportError(
        TransportErrorCode::AUTH_KEY_NOT_FOUND
    )));
    assert!(net.server.is_closed());
    assert!(matches!(
        net.server_events.last(),
        Some(Event::Closed(ConnectionError::UnknownAuthKey { .. }))
    ));

    // The session moves to a new key made on the next connection; its
    // request goes out again under it.
    let old = std::mem::replace(&mut net.client, new_key_client(TransportKind::Full, 8));
    let session = old.into_session(net.now).unwrap();
    let hs = HandshakeConfig::new(vec![rsa().public_key().clone()], 2);
    let params = ClientParams::new(TransportKind::Full, [9; 32]);
    net.client = Connection::client(net.now, params, ClientStart::Rekey(hs, session)).unwrap();
    net.server = server(&store, 10);
    net.client_events.clear();
    net.run();
    assert!(net
        .client_events
        .iter()
        .any(|e| matches!(e, Event::Resumed { resent: 1 })));
    assert_eq!(net.answers(), vec![answer_for(&req(1))]);
}

#[test]
fn a_request_over_the_transport_limit_fails_at_once() {
    let store = Arc::new(Store::default());
    let mut net = Net::new(
        new_key_client(TransportKind::Intermediate, 11),
        server(&store, 12),
    );
    net.run();
    let now = net.now;
    let big = net
        .client
        .enqueue(now, vec![0; 17 * 1024 * 1024], None)
        .unwrap();
    net.client.enqueue(now, req(2), None).unwrap();
    let failed = net.client.poll_event();
    assert!(
        matches!(
            &failed,
            Some(Event::Session(SessionEvent::RequestFailed {
                request,
                error: RequestError::TooLarge { len, .. },
            })) if *request == big && *len == 17 * 1024 * 1024
        ),
        "{failed:?}"
    );
    let before = net.wire_to_server;
    net.run();
    // Only the small request went out; it was answered.
    assert!(net.wire_to_server - before < 1024);
    assert_eq!(net.answers(), vec![answer_for(&req(2))]);
}

#[test]
fn debug_output_never_shows_the_seed_or_the_key() {
    let params = ClientParams::new(TransportKind::Intermediate, [0xab; 32]);
    let shown = format!("{params:?}");
    assert!(!shown.contains("171"), "{shown}");
    let store = Arc::new(Store::default());
    let mut net = Net::new(
        new_key_client(TransportKind::Intermediate, 0xab),
        server(&store, 0xcd),
    );
    net.run();
    let key = net
        .client_events
        .iter()
        .find_map(|e| match e {
            Event::KeyReady(k) => Some(k.auth_key.clone()),
            _ => None,
        })
        .unwrap();
    for shown in [
        format!("{:?}", net.client),
        format!("{:?}", net.server),
        format!("{:?}", net.client_events),
    ] {
        // No run of 8 key bytes, in any common rendering.
        let k = key.as_bytes();
        let dec = format!("{}, {}, {}, {}", k[100], k[101], k[102], k[103]);
        let hex: String = k[100..108].iter().map(|b| format!("{b:02x}")).collect();
        assert!(!shown.contains(&dec) && !shown.contains(&hex), "{shown}");
        assert!(!shown.contains("171, 171"), "{shown}");
    }
}

/// A client that starts the handshake over on the same connection (a new
/// `req_pq_multi`) after `steps` of a first one: the server begins afresh
/// instead of closing. Steps 1 and 2 leave the first handshake half done
/// (the server awaits `req_DH_params`, then `set_client_DH_params`); 3
/// finished it.
fn restart_after(steps: usize) {
    let store = Arc::new(Store::default());
    let kind = TransportKind::Intermediate;
    let now = Now::from(Timestamp::from_secs(START));
    let mut first = new_key_client(kind, 1);
    let mut s = server(&store, 2);
    let mut buf = Vec::new();
    for _ in 0..steps {
        buf.clear();
        assert!(first.poll_transmit(now, &mut buf));
        s.handle_bytes(now, &buf);
        buf.clear();
        assert!(s.poll_transmit(now, &mut buf));
        first.handle_bytes(now, &buf);
    }
    let mut server_keys = 0;
    while let Some(e) = s.poll_event() {
        server_keys += usize::from(matches!(e, Event::ServerKeyReady(_)));
    }
    assert_eq!(server_keys, usize::from(steps == 3));
    // A second client's bytes go on the same server connection, without its
    // transport tag (the stream already has one).
    let mut again = new_key_client(kind, 3);
    buf.clear();
    assert!(again.poll_transmit(now, &mut buf));
    assert_eq!(&buf[..4], &[0xee; 4]);
    s.handle_bytes(now, &buf[4..]);
    let mut ready = false;
    for _ in 0..10 {
        buf.clear();
        if s.poll_transmit(now, &mut buf) {
            again.handle_bytes(now, &buf);
        }
        while let Some(e) = again.poll_event() {
            ready |= matches!(e, Event::KeyReady(_));
        }
        buf.clear();
        if again.poll_transmit(now, &mut buf) {
            s.handle_bytes(now, &buf);
        }
        while let Some(e) = s.poll_event() {
            assert!(!matches!(e, Event::Closed(_)), "step {steps}: {e:?}");
            server_keys += usize::from(matches!(e, Event::ServerKeyReady(_)));
        }
    }
    assert!(ready, "step {steps}: the second handshake finished");
    assert!(!s.is_closed());
    assert_eq!(server_keys, 1 + usize::from(steps == 3), "step {steps}");
    assert_eq!(store.0.lock().unwrap().len(), server_keys);
}

#[test]
fn a_client_may_restart_the_handshake_on_the_same_connection() {
    for steps in 1..=3 {
        restart_after(steps);
    }
}
