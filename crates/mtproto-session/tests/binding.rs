//! The client session's side of api/pfs, in memory: the binding goes out
//! first and alone, the other queries wait for its answer; each
//! transmission's `encrypted_message` names the msg_id it goes out under
//! (checked by the server's `verify_bind`); a refusal keeps them waiting.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mtproto_session::pfs::{verify_bind, BindContext, BindTempKey};
use mtproto_session::session::{BindFailure, SessionEvent};
use mtproto_session::testing::{answer_for, key, req, Pair};
use mtproto_session::RpcError;
use mtproto_tl::{Identifiable, Serialize};

const BIND_ID: u32 = mtproto_tl::api::functions::auth::BindTempAuthKey::CONSTRUCTOR_ID;

fn ctor(body: &[u8]) -> u32 {
    u32::from_le_bytes(body[..4].try_into().unwrap())
}

/// A binding to permanent key 99 for an hour from the pair's clock.
fn perm(p: &Pair) -> BindTempKey {
    BindTempKey {
        perm_key: key(99),
        nonce: 42,
        expires_at: i32::try_from(p.now.as_secs() + 3600).unwrap(),
    }
}

/// The requests the server received (msg_id, body), in order.
fn received(p: &mut Pair) -> Vec<(i64, Vec<u8>)> {
    let c = p.take_client_packets();
    p.deliver_to_server(&c);
    std::iter::from_fn(|| p.server.poll_request()).collect()
}

fn check(p: &Pair, msg_id: i64, body: &[u8]) -> Result<(), String> {
    let cx = BindContext {
        temp_key_id: p.key.id_u64(),
        temp_expires_at: Some(i64::try_from(p.now.as_secs()).unwrap() + 7200),
        session_id: p.client.session_id(),
        msg_id,
        now_secs: i64::try_from(p.now.as_secs()).unwrap(),
    };
    verify_bind(body, &cx, |id| (id == key(99).id_u64()).then(|| key(99)))
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[test]
fn the_binding_goes_first_and_alone_then_the_rest() {
    let mut p = Pair::new(7);
    let now = p.client_now();
    let a = p.client.enqueue(now, req(1));
    p.client.bind_temp_key(now, perm(&p));
    let b = p.client.enqueue(now, req(2));
    assert!(p.client.is_binding());
    assert_eq!(p.client.pending_request_ids(), vec![a, b]);
    // Only the binding reaches the server.
    let got = received(&mut p);
    assert_eq!(got.len(), 1);
    assert_eq!(ctor(&got[0].1), BIND_ID);
    check(&p, got[0].0, &got[0].1).unwrap();
    // Nothing else goes out while it waits.
    assert!(received(&mut p).is_empty());
    // boolTrue: bound; the held queries go (the first of them wrapped by
    // the connection wrapper, if any).
    p.server.respond(got[0].0, Ok(true.to_bytes()));
    let s = p.take_server_packets();
    p.deliver_to_client(&s);
    assert!(p.events.contains(&SessionEvent::TempKeyBound {
        expires_at: perm(&p).expires_at
    }));
    assert!(!p.client.is_binding());
    let rest = received(&mut p);
    assert_eq!(
        rest.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
        vec![req(1), req(2)]
    );
    for (msg_id, body) in &rest {
        p.server.respond(*msg_id, Ok(answer_for(body)));
    }
    p.run();
    p.assert_answered_once(a, &req(1));
    p.assert_answered_once(b, &req(2));
    // The binding is the session's own: no Response event for it.
    assert_eq!(
        p.events
            .iter()
            .filter(|e| matches!(e, SessionEvent::Response { .. }))
            .count(),
        2
    );
}

#[test]
fn a_binding_sent_again_names_its_new_msg_id() {
    let mut p = Pair::new(8);
    let now = p.client_now();
    p.client.bind_temp_key(now, perm(&p));
    let first = received(&mut p);
    check(&p, first[0].0, &first[0].1).unwrap();
    // The connection drops unanswered; on the next one the binding goes out
    // again under a new msg_id, and its encrypted_message names that one.
    p.client.connection_lost(now);
    p.fresh_server();
    let now = p.client_now();
    p.client.resume_on_new_connection(now);
    let again = received(&mut p);
    assert_eq!(again.len(), 1);
    assert_ne!(again[0].0, first[0].0);
    check(&p, again[0].0, &again[0].1).unwrap();
    // The old body under the new msg_id would be refused.
    assert!(check(&p, again[0].0, &first[0].1).is_err());
}

#[test]
fn a_refused_binding_keeps_the_queries_waiting() {
    let mut p = Pair::new(9);
    let now = p.client_now();
    let a = p.client.enqueue(now, req(1));
    p.client.bind_temp_key(now, perm(&p));
    let got = received(&mut p);
    let refusal = RpcError::parse(400, "ENCRYPTED_MESSAGE_INVALID");
    p.server.respond(got[0].0, Err(refusal.clone()));
    let s = p.take_server_packets();
    p.deliver_to_client(&s);
    assert!(p.events.contains(&SessionEvent::BindFailed {
        error: BindFailure::Rpc(refusal)
    }));
    // Still held: an unbound key would only draw 401s.
    assert!(p.client.is_binding());
    assert!(!p.client.bind_pending());
    assert!(received(&mut p).is_empty());
    // A new key (rekey) and a new binding, accepted: the query goes.
    let now = p.client_now();
    let new_key = key(10);
    p.client.rekey(new_key.clone(), 5);
    p.key = new_key.clone();
    p.server = mtproto_session::session::ServerSession::new(
        new_key,
        5,
        mtproto_session::session::Config::default(),
        [3; 32],
    );
    p.client.bind_temp_key(now, perm(&p));
    let got = received(&mut p);
    assert_eq!(got.len(), 1);
    check(&p, got[0].0, &got[0].1).unwrap();
    p.server.respond(got[0].0, Ok(true.to_bytes()));
    p.run();
    p.assert_answered_once(a, &req(1));
}
