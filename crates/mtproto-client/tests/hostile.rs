//! The client against a hostile server: for every rule the test server can
//! break (`mtproto_testserver::Rule`) and every transport, the client
//! refuses it with an error that names the check, in under 2 s.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use mtproto_client::{
    Client, ClientConfig, ConnectError, ConnectEvent, InvocationError, PEER_FAULT_CONNECTIONS,
};
use mtproto_testserver::{Faults, Rule, TestServer, TestServerConfig};
use mtproto_tl::api::functions::help::GetConfig;
use mtproto_transport::TransportKind;

/// The bound the issue sets: refused, by name, within 2 s.
const WITHIN: Duration = Duration::from_secs(2);

async fn hostile(rule: Rule) -> TestServer {
    let mut cfg = TestServerConfig::with_test_key();
    let mut faults = Faults::default();
    faults.violate = Some(rule);
    cfg.faults = faults;
    TestServer::start(cfg).await.unwrap()
}

/// What the client reported.
#[derive(Debug)]
enum Outcome {
    Connect(ConnectError),
    Invoke(InvocationError),
    /// The call succeeded; the reasons connections were closed.
    Answered(Vec<String>),
}

async fn run(server: &TestServer, kind: TransportKind) -> Outcome {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    // The session's checks over several connections (tests/pfs.rs has a
    // hostile server against a temporary key's binding).
    let mut cfg = ClientConfig::new(server.addr(), kind)
        .with_rsa_key(server.public_key())
        .with_pfs(false);
    cfg.events = Some(tx);
    let client = match Client::connect(cfg).await {
        Ok(c) => c,
        Err(e) => return Outcome::Connect(e),
    };
    let r = client.invoke(&GetConfig {}).await;
    match r {
        Err(e) => Outcome::Invoke(e),
        Ok(_) => {
            let mut reasons = Vec::new();
            while let Ok(ev) = rx.try_recv() {
                if let ConnectEvent::Disconnected { reason } = ev {
                    reasons.push(reason);
                }
            }
            Outcome::Answered(reasons)
        }
    }
}

fn check(rule: Rule, kind: TransportKind, outcome: &Outcome) {
    let want = rule.client_check();
    match outcome {
        Outcome::Connect(ConnectError::Handshake(e)) if rule.is_handshake() => {
            assert!(e.to_string().contains(want), "{rule} {kind}: {e}");
        }
        Outcome::Invoke(InvocationError::PeerFault {
            rule: r,
            connections,
        }) => {
            assert!(!rule.is_handshake(), "{rule} {kind}: {r}");
            assert!(
                r.contains(want),
                "{rule} {kind}: {r:?} does not name {want:?}"
            );
            assert_eq!(*connections, PEER_FAULT_CONNECTIONS);
        }
        // Each replayed packet is refused by name and the connection closed;
        // the first copy was genuine, so the call itself goes through.
        Outcome::Answered(reasons) if rule == Rule::Replay => {
            assert!(
                reasons.iter().any(|r| r.contains(want)),
                "{rule} {kind}: {reasons:?}"
            );
        }
        other => panic!("{rule} {kind}: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rule_on_every_transport_is_refused_by_name_within_2s() {
    let mut slowest = (Duration::ZERO, String::new());
    for &rule in Rule::ALL {
        let server = hostile(rule).await;
        for kind in TransportKind::ALL {
            let started = Instant::now();
            let outcome = tokio::time::timeout(WITHIN, run(&server, kind))
                .await
                .unwrap_or_else(|_| panic!("{rule} {kind}: not refused within {WITHIN:?}"));
            let took = started.elapsed();
            check(rule, kind, &outcome);
            if took > slowest.0 {
                slowest = (took, format!("{rule} {kind}"));
            }
        }
        server.shutdown().await;
    }
    eprintln!("slowest: {} in {:?}", slowest.1, slowest.0);
}
