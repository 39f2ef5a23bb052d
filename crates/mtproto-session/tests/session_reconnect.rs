//! Connection loss and resumption of a [`ClientSession`], dead-connection
//! detection, and the message-status service messages, against the
//! in-memory test server on a virtual clock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use core::time::Duration;

use mtproto_crypto::packet::Direction;
use mtproto_session::session::ServerSession;
use mtproto_session::session::{Config, RequestId, SessionEvent, Violation};
use mtproto_session::testing::{answer_for, key, open_packet, req, Pair, PlainPacket, REQ_CTOR};
use mtproto_session::Now;
use mtproto_tl::mtproto::types;
use mtproto_tl::Serialize;

/// `msgs_state_req#da69fb52` (the spec's id, restated as wire bytes).
const MSGS_STATE_REQ: [u8; 4] = [0x52, 0xfb, 0x69, 0xda];
/// `msgs_state_info#04deb57d`
const MSGS_STATE_INFO: [u8; 4] = [0x7d, 0xb5, 0xde, 0x04];
/// `vector#1cb5c415`
const VECTOR: [u8; 4] = [0x15, 0xc4, 0xb5, 0x1c];

/// A client packet, opened.
fn open(k: &mtproto_session::session::AuthKey, pkt: &[u8]) -> PlainPacket {
    open_packet(k, Direction::ClientToServer, pkt)
}

#[test]
fn lost_requests_are_resent_with_fresh_msg_ids_in_the_same_session() {
    let mut n = Pair::with_config(1, Config::default());
    let ids: Vec<RequestId> = (0..3).map(|i| n.client.enqueue(n.now, req(i))).collect();
    let first = n.take_client_packets();
    assert_eq!(first.len(), 1);
    let before = open(&n.key, &first[0]);
    let old_ids: Vec<i64> = before.messages.iter().map(|m| m.0).collect();
    // The packet is lost with the connection.
    n.client.connection_lost(n.now);
    assert!(!n.client.is_connected());
    assert!(n.client.poll_transmit(n.now).is_none());
    n.now = n.now.add(Duration::from_secs(2));
    assert_eq!(n.client.resume_on_new_connection(n.now), 3);
    assert_eq!(n.client.stats().resumed, 3);
    let again = n.take_client_packets();
    assert_eq!(again.len(), 1);
    let after = open(&n.key, &again[0]);
    // Same session (tdlib keeps session_id across connections), new msg_ids.
    assert_eq!(after.session_id, before.session_id);
    assert_eq!(after.session_id, n.client.session_id());
    let bodies: Vec<&Vec<u8>> = after.messages.iter().map(|m| &m.1).collect();
    assert_eq!(bodies, vec![&req(0), &req(1), &req(2)]);
    for (m, _) in &after.messages {
        assert!(m > old_ids.iter().max().unwrap(), "fresh msg_id");
    }
    n.fresh_server();
    n.deliver_to_server(&again);
    n.answer_all();
    let s = n.take_server_packets();
    n.deliver_to_client(&s);
    n.run();
    for (i, id) in ids.iter().enumerate() {
        n.assert_answered_once(*id, &req(i as u64));
    }
    assert_eq!(n.client.pending_requests(), 0);
}

/// The server got the original and the re-sent message and answers both:
/// whichever answer arrives first answers the request, the other is a
/// dropped duplicate.
fn two_answers(seed: u64, old_first: bool) {
    let mut n = Pair::with_config(seed, Config::default());
    let id = n.client.enqueue(n.now, req(7));
    let p = n.take_client_packets();
    n.deliver_to_server(&p);
    n.answer_all();
    // The answer to the original is produced, but the connection drops
    // before it is delivered.
    let old_answer = n.take_server_packets();
    n.client.connection_lost(n.now);
    assert_eq!(n.client.resume_on_new_connection(n.now), 1);
    let p = n.take_client_packets();
    n.deliver_to_server(&p);
    n.answer_all();
    let new_answer = n.take_server_packets();
    assert_eq!(n.server.stats().requests_received, 2);
    if old_first {
        n.deliver_to_client(&old_answer);
        n.deliver_to_client(&new_answer);
    } else {
        n.deliver_to_client(&new_answer);
        n.deliver_to_client(&old_answer);
    }
    n.assert_answered_once(id, &req(7));
    assert_eq!(n.client.stats().duplicate_answers, 1);
    assert!(
        !n.events
            .iter()
            .any(|e| matches!(e, SessionEvent::ProtocolViolation(_))),
        "{:?}",
        n.events
    );
}

#[test]
fn late_answer_to_the_old_msg_id_maps_to_the_same_request() {
    two_answers(2, true);
}

#[test]
fn late_answer_after_the_resent_one_is_a_dropped_duplicate() {
    two_answers(3, false);
}

#[test]
fn acknowledged_request_is_state_checked_not_resent() {
    let mut n = Pair::with_config(4, Config::default());
    let id = n.client.enqueue(n.now, req(1));
    let p = n.take_client_packets();
    let sent_id = open(&n.key, &p[0]).messages[0].0;
    n.deliver_to_server(&p);
    let (req_msg_id, body) = n.server.poll_request().unwrap();
    assert_eq!(req_msg_id, sent_id);
    // The server acknowledges it (a long-running query) ...
    n.server.send_message(
        types::MsgsAck {
            msg_ids: vec![sent_id],
        }
        .to_bytes(),
        false,
        false,
    );
    let s = n.take_server_packets();
    n.deliver_to_client(&s);
    // ... and the connection drops.
    n.client.connection_lost(n.now);
    assert_eq!(n.client.resume_on_new_connection(n.now), 1);
    let p = n.take_client_packets();
    let plain = open(&n.key, &p[0]);
    // Not re-sent: asked about with msgs_state_req (exact bytes:
    // msgs_state_req#da69fb52 msg_ids:Vector<long>).
    let mut want = MSGS_STATE_REQ.to_vec();
    want.extend_from_slice(&VECTOR);
    want.extend_from_slice(&1u32.to_le_bytes());
    want.extend_from_slice(&sent_id.to_le_bytes());
    assert!(plain.messages.iter().any(|m| m.1 == want), "state request");
    assert!(
        plain
            .messages
            .iter()
            .all(|m| m.1[..4] != REQ_CTOR.to_le_bytes()),
        "not re-sent"
    );
    // The same server session still has it: "4 = message received".
    n.deliver_to_server(&p);
    let s = n.take_server_packets();
    n.deliver_to_client(&s);
    assert!(n.take_client_packets().is_empty(), "nothing re-sent");
    assert_eq!(n.server.stats().requests_received, 1);
    // The answer comes later, once.
    n.server.respond(req_msg_id, Ok(answer_for(&body)));
    n.run();
    n.assert_answered_once(id, &req(1));
}

#[test]
fn acknowledged_request_is_resent_when_the_server_lost_it() {
    let mut n = Pair::with_config(5, Config::default());
    let id = n.client.enqueue(n.now, req(2));
    let p = n.take_client_packets();
    let sent_id = open(&n.key, &p[0]).messages[0].0;
    n.deliver_to_server(&p);
    n.server.send_message(
        types::MsgsAck {
            msg_ids: vec![sent_id],
        }
        .to_bytes(),
        false,
        false,
    );
    let s = n.take_server_packets();
    n.deliver_to_client(&s);
    n.client.connection_lost(n.now);
    n.client.resume_on_new_connection(n.now);
    // A server that forgot the session (new_session_created, then state
    // "nothing is known"): the request is re-sent and answered once.
    n.fresh_server();
    n.run();
    n.assert_answered_once(id, &req(2));
    assert_eq!(n.server.stats().requests_received, 1);
}

#[test]
fn requests_enqueued_while_disconnected_wait_and_expire() {
    let mut n = Pair::with_config(6, Config::default());
    n.client.connection_lost(n.now);
    let a = n
        .client
        .enqueue_with_timeout(n.now, req(1), Duration::from_secs(5));
    let b = n.client.enqueue(n.now, req(2));
    assert!(n.client.poll_transmit(n.now).is_none());
    // Only request deadlines matter while disconnected.
    assert_eq!(
        n.client.poll_timeout(),
        Some(Now::from(n.now.add(Duration::from_secs(5))).mono)
    );
    n.advance(Duration::from_secs(5));
    assert!(n.events.iter().any(|e| matches!(
        e,
        SessionEvent::RequestFailed { request, .. } if *request == a
    )));
    // Never transmitted: nothing counted as resumed.
    assert_eq!(n.client.resume_on_new_connection(n.now), 0);
    n.run();
    n.assert_answered_once(b, &req(2));
    assert_eq!(n.responses(a).len(), 0);
}

#[test]
fn missing_keepalive_pong_reports_a_dead_connection_once() {
    let mut config = Config::default();
    config.ping_interval = Some(Duration::from_secs(60));
    config.pong_timeout = Some(Duration::from_secs(10));
    let mut n = Pair::with_config(7, config);
    let id = n.client.enqueue(n.now, req(1));
    n.run();
    n.assert_answered_once(id, &req(1));
    // The keepalive goes out but nothing comes back.
    n.advance(Duration::from_secs(60));
    let ping = n.take_client_packets();
    assert_eq!(ping.len(), 1);
    assert_eq!(n.client.stats().keepalive_pings, 1);
    assert_eq!(
        n.client.poll_timeout(),
        Some(Now::from(n.now.add(Duration::from_secs(10))).mono)
    );
    n.advance(Duration::from_secs(9));
    assert!(!n.events.contains(&SessionEvent::ConnectionDead));
    n.advance(Duration::from_secs(1));
    assert_eq!(
        n.events
            .iter()
            .filter(|e| **e == SessionEvent::ConnectionDead)
            .count(),
        1
    );
    n.advance(Duration::from_secs(30));
    assert_eq!(
        n.events
            .iter()
            .filter(|e| **e == SessionEvent::ConnectionDead)
            .count(),
        1,
        "reported once"
    );
    // After a reconnect the keepalive runs again, and its pong keeps the
    // connection alive.
    n.client.connection_lost(n.now);
    n.client.resume_on_new_connection(n.now);
    let id = n.client.enqueue(n.now, req(2));
    n.fresh_server();
    n.run();
    n.assert_answered_once(id, &req(2));
    for _ in 0..3 {
        n.advance(Duration::from_secs(60));
        n.run();
        n.advance(Duration::from_secs(15));
    }
    assert!(n.server.stats().keepalive_pings >= 3);
    assert_eq!(
        n.events
            .iter()
            .filter(|e| **e == SessionEvent::ConnectionDead)
            .count(),
        1
    );
}

#[test]
fn connection_wrapper_wraps_the_first_query_of_each_connection() {
    const WRAP: u32 = 0x0bad_f00d;
    let mut n = Pair::with_config(8, Config::default());
    n.client.set_connection_wrapper(Some(Box::new(|b: &[u8]| {
        let mut v = WRAP.to_le_bytes().to_vec();
        v.extend_from_slice(b);
        v
    })));
    let wrapped = |b: Vec<u8>| {
        let mut v = WRAP.to_le_bytes().to_vec();
        v.extend_from_slice(&b);
        v
    };
    let a = n.client.enqueue(n.now, req(1));
    let b = n.client.enqueue(n.now, req(2));
    let p = n.take_client_packets();
    let bodies: Vec<Vec<u8>> = open(&n.key, &p[0])
        .messages
        .into_iter()
        .map(|m| m.1)
        .collect();
    assert_eq!(bodies, vec![wrapped(req(1)), req(2)]);
    // Lost; on the next connection the oldest unanswered one is wrapped.
    n.client.connection_lost(n.now);
    n.client.resume_on_new_connection(n.now);
    let p = n.take_client_packets();
    let bodies: Vec<Vec<u8>> = open(&n.key, &p[0])
        .messages
        .into_iter()
        .map(|m| m.1)
        .collect();
    assert_eq!(bodies, vec![wrapped(req(1)), req(2)]);
    n.fresh_server();
    n.deliver_to_server(&p);
    n.answer_all();
    let s = n.take_server_packets();
    n.deliver_to_client(&s);
    n.assert_answered_once(a, &wrapped(req(1)));
    n.assert_answered_once(b, &req(2));
    // A later query on the same connection is not wrapped.
    let c = n.client.enqueue(n.now, req(3));
    n.run();
    n.assert_answered_once(c, &req(3));
}

#[test]
fn resend_request_for_unknown_ids_is_answered_with_state_info() {
    let mut n = Pair::with_config(9, Config::default());
    let id = n.client.enqueue(n.now, req(1));
    n.run();
    n.assert_answered_once(id, &req(1));
    let unknown = 0x1234_5678_0000_0004i64;
    n.server.send_message(
        types::MsgResendReq {
            msg_ids: vec![unknown],
        }
        .to_bytes(),
        false,
        false,
    );
    let s = n.take_server_packets();
    n.deliver_to_client(&s);
    let p = n.take_client_packets();
    let plain = open(&n.key, &p[0]);
    let info = plain
        .messages
        .iter()
        .find(|m| m.1[..4] == MSGS_STATE_INFO)
        .expect("msgs_state_info");
    // msgs_state_info#04deb57d req_msg_id:long info:string — one status
    // byte; 1 = "nothing is known about the message (msg_id too low)".
    assert_eq!(info.1.len(), 4 + 8 + 4);
    assert_eq!(&info.1[12..16], &[1, 1, 0, 0]);
    n.deliver_to_server(&p);
    assert_eq!(n.server.stats().state_infos_received, 1);
}

#[test]
fn msgs_all_info_marks_receipt_so_a_reconnect_does_not_resend() {
    let mut n = Pair::with_config(10, Config::default());
    let _id = n.client.enqueue(n.now, req(1));
    let p = n.take_client_packets();
    let sent_id = open(&n.key, &p[0]).messages[0].0;
    n.deliver_to_server(&p);
    // msgs_all_info: "4 = message received", +32 (being processed).
    n.server.send_message(
        types::MsgsAllInfo {
            msg_ids: vec![sent_id],
            info: vec![4 | 32],
        }
        .to_bytes(),
        false,
        false,
    );
    let s = n.take_server_packets();
    n.deliver_to_client(&s);
    n.client.connection_lost(n.now);
    n.client.resume_on_new_connection(n.now);
    let p = n.take_client_packets();
    let plain = open(&n.key, &p[0]);
    assert!(plain
        .messages
        .iter()
        .all(|m| m.1[..4] != REQ_CTOR.to_le_bytes()));
    assert!(plain.messages.iter().any(|m| m.1[..4] == MSGS_STATE_REQ));
}

#[test]
fn state_info_for_an_unknown_request_is_a_violation() {
    let mut n = Pair::with_config(11, Config::default());
    let id = n.client.enqueue(n.now, req(1));
    n.run();
    n.assert_answered_once(id, &req(1));
    n.server.send_message(
        types::MsgsStateInfo {
            req_msg_id: 0x1234,
            info: vec![4],
        }
        .to_bytes(),
        false,
        true,
    );
    let s = n.take_server_packets();
    n.deliver_to_client(&s);
    assert!(n.events.contains(&SessionEvent::ProtocolViolation(
        Violation::UnknownRequest { req_msg_id: 0x1234 }
    )));
}

#[test]
fn future_salts_now_syncs_the_clock() {
    let mut n = Pair::with_config(12, Config::default());
    // The server's clock is 20 s ahead (inside the window, so no
    // bad_msg_notification teaches the client).
    n.server.set_time_offset(20);
    let id = n.client.get_future_salts(n.now, 1);
    n.run();
    assert_eq!(n.responses(id).len(), 1);
    assert_eq!(n.client.time_offset(), 20);
    assert!(n
        .events
        .contains(&SessionEvent::TimeOffsetChanged { offset_secs: 20 }));
}

#[test]
fn rekey_starts_a_new_session_and_resends_under_the_new_key() {
    let mut n = Pair::with_config(13, Config::default());
    let id = n.client.enqueue(n.now, req(5));
    let _lost = n.take_client_packets();
    let old_session = n.client.session_id();
    n.client.connection_lost(n.now);
    let new_key = key(99);
    assert_eq!(n.client.rekey(new_key.clone(), 0x77), 1);
    assert_eq!(n.client.resume_on_new_connection(n.now), 0);
    assert_ne!(n.client.session_id(), old_session);
    assert_eq!(n.client.salt(), 0x77);
    let p = n.take_client_packets();
    let plain = open(&new_key, &p[0]);
    assert_eq!(plain.session_id, n.client.session_id());
    assert_eq!(plain.messages[0].1, req(5));
    // Continue with a server on the new key.
    n.key = new_key.clone();
    n.server = ServerSession::new(new_key, 0x77, Config::default(), [3; 32]);
    n.deliver_to_server(&p);
    n.answer_all();
    let s = n.take_server_packets();
    n.deliver_to_client(&s);
    n.assert_answered_once(id, &req(5));
}

#[test]
fn cancelled_request_produces_no_event_and_is_not_resent() {
    let mut n = Pair::with_config(14, Config::default());
    let a = n.client.enqueue(n.now, req(1));
    let b = n.client.enqueue(n.now, req(2));
    let _lost = n.take_client_packets();
    assert!(n.client.cancel(a));
    assert!(!n.client.cancel(a));
    n.client.connection_lost(n.now);
    assert_eq!(n.client.resume_on_new_connection(n.now), 1);
    n.fresh_server();
    n.run();
    n.assert_answered_once(b, &req(2));
    assert_eq!(n.server.stats().requests_received, 1);
    assert!(!n.events.iter().any(|e| matches!(
        e,
        SessionEvent::Response { request, .. } | SessionEvent::RequestFailed { request, .. } if *request == a
    )));
}
