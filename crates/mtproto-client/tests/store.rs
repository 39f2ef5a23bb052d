//! Session storage end to end: a file store survives the client, keeps the
//! peer cache, is refused whole when damaged; a Telethon StringSession
//! resumes without a handshake.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use mtproto_client::methods::{self, MethodError};
use mtproto_client::store::{FileStore, SessionStore, StoreError, StoredSession};
use mtproto_client::{Client, ClientConfig, ConnectError, PeerError, PeerRef};
use mtproto_testserver::{TestServer, TestServerConfig};
use mtproto_tl::api::enums::SendMessageAction;
use mtproto_transport::TransportKind;

fn config(server: &TestServer) -> ClientConfig {
    ClientConfig::new(server.addr(), TransportKind::Intermediate)
        .with_rsa_key(server.public_key())
        .with_request_timeout(Duration::from_secs(10))
}

async fn typing(client: &Client, peer: &str) -> Result<bool, MethodError<methods::SetTypingError>> {
    let peer: PeerRef = peer.parse().unwrap();
    methods::set_typing(
        client,
        peer,
        SendMessageAction::SendMessageTypingAction,
        None,
    )
    .await
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("mtproto-client-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_store_keeps_the_key_and_the_peers() {
    let server = TestServer::start(TestServerConfig::with_test_key())
        .await
        .unwrap();
    let dir = temp_dir("store");
    let path = dir.join("session.mtrs");
    let store: Arc<dyn SessionStore> = Arc::new(FileStore::new(&path));

    let first = Client::connect(config(&server).with_store(store.clone()))
        .await
        .unwrap();
    assert_eq!(first.stats().handshakes, 1);
    // Saved as soon as the key exists: the file holds it, for this address.
    let saved = store.load().unwrap().unwrap();
    let dc = saved.home().unwrap();
    assert_eq!(dc.addr, Some(server.addr()));
    assert_eq!(dc.auth_key.as_ref(), Some(&first.session_data().auth_key));
    // A username looked up is saved too.
    assert!(typing(&first, "@bob").await.unwrap());
    assert!(store
        .load()
        .unwrap()
        .unwrap()
        .peers
        .username("bob")
        .is_some());
    drop(first);

    // A new client on the same file: no handshake, and Bob by id alone.
    let second = Client::connect(config(&server).with_store(store.clone()))
        .await
        .unwrap();
    assert_eq!(second.stats().handshakes, 0);
    assert!(typing(&second, "1002").await.unwrap());
    // Without the store, the id means nothing.
    let stranger = Client::connect(config(&server)).await.unwrap();
    assert!(matches!(
        typing(&stranger, "1002").await,
        Err(MethodError::Peer(PeerError::NotCached { .. }))
    ));

    // A damaged file is refused whole, by name, and left as it is.
    let good = std::fs::read(&path).unwrap();
    for (damage, want) in [
        (good[..good.len() - 9].to_vec(), StoreError::Truncated),
        (
            {
                let mut b = good.clone();
                let at = b.len() / 2;
                b[at] ^= 0x40;
                b
            },
            StoreError::Corrupt,
        ),
        (
            {
                let mut b = good.clone();
                b[4..6].copy_from_slice(&7u16.to_le_bytes());
                b
            },
            StoreError::Version(7),
        ),
    ] {
        std::fs::write(&path, &damage).unwrap();
        match Client::connect(config(&server).with_store(store.clone())).await {
            Err(ConnectError::Store(e)) => assert_eq!(e, want),
            other => panic!("{want:?}: {other:?}"),
        }
        assert_eq!(std::fs::read(&path).unwrap(), damage);
    }
    server.shutdown().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_telethon_string_session_resumes_without_a_handshake() {
    let server = TestServer::start(TestServerConfig::with_test_key())
        .await
        .unwrap();
    // A key made by a handshake with this server, as Telethon would export it.
    let maker = Client::connect(config(&server)).await.unwrap();
    let key = maker.session_data().auth_key;
    let text = mtproto_client::store::telethon::export(2, server.addr(), &key).unwrap();
    drop(maker);

    let imported = StoredSession::from_telethon(&text).unwrap();
    let dir = temp_dir("telethon");
    let store = Arc::new(FileStore::new(dir.join("s.mtrs")));
    store.save(&imported).unwrap();
    let client = Client::connect(config(&server).with_store(store.clone()))
        .await
        .unwrap();
    assert_eq!(client.stats().handshakes, 0);
    assert!(typing(&client, "self").await.unwrap());
    // And back out, the same string.
    assert_eq!(
        client.stored_session().to_telethon().unwrap().unwrap(),
        text
    );
    server.shutdown().await;
    std::fs::remove_dir_all(&dir).unwrap();
}
