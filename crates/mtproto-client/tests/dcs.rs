//! Several data centres end to end: a cluster of test DCs homed on DC 3;
//! a client that starts on DC 1 follows `USER_MIGRATE_3` (the DC table
//! from `help.getConfig`, a key of its own on DC 3), then goes straight
//! there, with requests in flight, and after a restart.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use mtproto_client::methods::{self, MethodError, SetTypingError};
use mtproto_client::store::{MemoryStore, SessionStore};
use mtproto_client::{Client, ClientConfig, Migration};
use mtproto_testserver::{TestCluster, TestServerConfig};
use mtproto_tl::api::enums::{InputPeer, SendMessageAction};
use mtproto_transport::TransportKind;

async fn cluster() -> TestCluster {
    TestCluster::start(TestServerConfig::with_test_key(), 3, Some(3))
        .await
        .unwrap()
}

fn on_dc1(cluster: &TestCluster) -> ClientConfig {
    let dc1 = cluster.dc(1).unwrap();
    let mut cfg = ClientConfig::new(dc1.addr(), TransportKind::Intermediate)
        .with_rsa_key(dc1.public_key())
        .with_request_timeout(Duration::from_secs(10));
    cfg.dc_id = 1;
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

fn user_migrate_3() -> Vec<Migration> {
    vec![Migration {
        from: 1,
        to: 3,
        error: "USER_MIGRATE_3".into(),
    }]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_migrate_moves_the_home_and_later_calls_go_straight_there() {
    let cluster = cluster().await;
    let client = Client::connect(on_dc1(&cluster)).await.unwrap();
    assert!(typing(&client).await.unwrap());
    assert_eq!(client.migrations(), user_migrate_3());
    assert_eq!((client.home_dc(), client.last_dc()), (3, 3));
    // One permanent key per DC: the client made one on DC 3 too.
    let (dc1, dc3) = (cluster.dc(1).unwrap(), cluster.dc(3).unwrap());
    assert_eq!(
        (dc1.permanent_auth_keys(), dc3.permanent_auth_keys()),
        (1, 1)
    );
    // Later calls go to DC 3 directly.
    let before = dc1.stats().requests;
    for _ in 0..5 {
        assert!(typing(&client).await.unwrap());
    }
    assert_eq!(dc1.stats().requests, before);
    assert_eq!(client.migrations().len(), 1);
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_with_requests_in_flight() {
    let cluster = cluster().await;
    let client = Client::connect(on_dc1(&cluster)).await.unwrap();
    // Twenty calls at once, all answered USER_MIGRATE_3 by DC 1: each is
    // sent again to DC 3, over one new connection and one new key.
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { typing(&c).await })
        })
        .collect();
    for c in calls {
        assert!(c.await.unwrap().unwrap());
    }
    assert_eq!(cluster.dc(3).unwrap().permanent_auth_keys(), 1);
    assert_eq!(client.home_dc(), 3);
    assert!(client
        .migrations()
        .iter()
        .all(|m| m == &user_migrate_3()[0]));
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_home_dc_and_its_key_are_saved() {
    let cluster = cluster().await;
    let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
    let first = Client::connect(on_dc1(&cluster).with_store(store.clone()))
        .await
        .unwrap();
    assert!(typing(&first).await.unwrap());
    let saved = store.load().unwrap().unwrap();
    assert_eq!(saved.home_dc, 3);
    let dc3 = saved.dc(3).unwrap();
    assert_eq!(dc3.addr, Some(cluster.dc(3).unwrap().addr()));
    assert!(dc3.auth_key.is_some());
    drop(first);

    // Restarted: the first call goes straight to DC 3, with its saved key.
    let again = Client::connect(on_dc1(&cluster).with_store(store.clone()))
        .await
        .unwrap();
    assert!(typing(&again).await.unwrap());
    assert!(again.migrations().is_empty());
    assert_eq!(again.last_dc(), 3);
    assert_eq!(cluster.dc(3).unwrap().permanent_auth_keys(), 1);
    cluster.shutdown().await;
}

/// The user `users.getUsers([inputUserSelf])` names.
async fn me(client: &Client) -> i64 {
    use mtproto_tl::api::{functions, types};
    let users = client
        .invoke(&functions::users::GetUsers {
            id: vec![mtproto_tl::api::enums::InputUser::InputUserSelf],
        })
        .await
        .unwrap();
    match &users[0] {
        mtproto_tl::api::enums::User::User(types::User { id, .. }) => *id,
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_account_is_carried_to_the_new_dc() {
    let cluster = cluster().await;
    let client = Client::connect(on_dc1(&cluster)).await.unwrap();
    // The key on DC 1 is Bob's (the test server has no login: the embedding
    // program signs keys in; a key nobody signed in acts as Alice).
    let dc1 = cluster.dc(1).unwrap();
    assert!(dc1.sign_in(client.session_data().auth_key.id_u64(), 1002));
    // USER_MIGRATE_3: a new key on DC 3, where nobody signed it in; the
    // client exports the authorization from DC 1 and imports it on DC 3.
    assert!(typing(&client).await.unwrap());
    assert_eq!(client.last_dc(), 3);
    assert_eq!(me(&client).await, 1002, "Bob on DC 3 too");
    cluster.shutdown().await;
}
