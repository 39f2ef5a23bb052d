//! In-memory client/server session tests on a virtual clock with seeded
//! randomness, plus exact-byte tests against a real server packet.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use core::time::Duration;

use mtproto_crypto::packet::{encrypt_into_rng, Direction};
use mtproto_session::fuzz::session_incoming as fuzz_incoming;
use mtproto_session::session::{
    AuthKey, Check, ClientSession, Config, IncomingError, RequestError, RequestId, RpcError,
    ServerSession, SessionEvent, Violation,
};
use mtproto_session::testing::{
    answer_for, key, mono, req, Fault, Pair, ANSWER_CTOR, REQ_CTOR, SALT, START,
};
use mtproto_session::wire::BadMsgCode;
use mtproto_session::Timestamp;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

#[test]
fn basic_request_response() {
    let mut p = Pair::new(1);
    let id = p.enqueue(req(7));
    p.run();
    p.assert_answered_once(id, &req(7));
    // The first packet opened a session on the server.
    assert_eq!(p.server.client_session_id(), Some(p.client.session_id()));
    assert!(p
        .events
        .iter()
        .any(|e| matches!(e, SessionEvent::NewSession { .. })));
    assert_eq!(p.client.pending_requests(), 0);
}

#[test]
fn client_acknowledges_content_related_messages() {
    let mut p = Pair::new(2);
    let id = p.enqueue(req(1));
    p.run();
    p.assert_answered_once(id, &req(1));
    assert_eq!(p.server.stats().acks_received, 0);
    // The ack waits for ack_delay (or another message to ride on).
    let t = p.client.poll_timeout().unwrap();
    assert!(t <= mono(p.client_now().add(Duration::from_secs(5))));
    p.advance(Duration::from_secs(6));
    p.run();
    // new_session_created and the rpc_result are content-related.
    assert_eq!(p.server.stats().acks_received, 2);
}

fn skew_test(skew: i64) {
    let mut p = Pair::new(3);
    p.client_skew = skew;
    let id = p.enqueue(req(42));
    p.run();
    p.assert_answered_once(id, &req(42));
    assert_eq!(p.server.stats().bad_msgs_sent, 1);
    assert!(
        (p.client.time_offset() + skew).abs() <= 1,
        "offset {}",
        p.client.time_offset()
    );
    assert!(p
        .events
        .iter()
        .any(|e| matches!(e, SessionEvent::TimeOffsetChanged { .. })));
    // Later requests go straight through.
    let id2 = p.enqueue(req(43));
    p.run();
    p.assert_answered_once(id2, &req(43));
    assert_eq!(p.server.stats().bad_msgs_sent, 1);
}

#[test]
fn client_clock_an_hour_fast() {
    skew_test(3600);
}

#[test]
fn client_clock_an_hour_slow() {
    skew_test(-3600);
}

#[test]
fn server_clock_skew_is_learned_too() {
    let mut p = Pair::new(4);
    p.server.set_time_offset(-7200);
    let id = p.enqueue(req(1));
    p.run();
    p.assert_answered_once(id, &req(1));
    assert!((p.client.time_offset() + 7200).abs() <= 1);
}

#[test]
fn salt_change_mid_stream() {
    let mut p = Pair::new(5);
    let a = p.enqueue(req(1));
    p.run();
    p.assert_answered_once(a, &req(1));
    let new_salt = 0x7777_0000_1111_2222;
    p.server.set_salt(new_salt);
    let b = p.enqueue(req(2));
    p.run();
    p.assert_answered_once(b, &req(2));
    assert_eq!(p.server.stats().bad_salts_sent, 1);
    assert_eq!(p.client.salt(), new_salt);
    assert!(p
        .events
        .contains(&SessionEvent::SaltChanged { salt: new_salt }));
    // The request reached the server exactly once (the first try was ignored).
    assert_eq!(p.server.stats().requests_received, 2);
}

#[test]
fn duplicate_and_replayed_packets_are_dropped() {
    let mut p = Pair::new(6);
    p.auto_answer = false;
    let id = p.enqueue(req(9));
    p.run();
    let (mid, body) = p.server.poll_request().unwrap();
    p.server.respond(mid, Ok(answer_for(&body)));
    let pkt = p.server.poll_transmit(p.now).unwrap();
    let cnow = p.client_now();
    p.client.handle_incoming(cnow, &pkt).unwrap();
    // The same encrypted packet again on the same connection, now and a bit
    // later: a replay, refused whole and by name.
    for later in [0, 10] {
        let err = p
            .client
            .handle_incoming(cnow.add(Duration::from_secs(later)), &pkt)
            .unwrap_err();
        assert_eq!(err.check(), Check::Replay);
    }
    while let Some(e) = p.client.poll_event() {
        p.events.push(e);
    }
    p.assert_answered_once(id, &req(9));
    assert_eq!(p.client.stats().packets_rejected, 2);
    // Old packets (new_session_created etc.) replayed are refused as well.
    let before = p.events.len();
    for old in p.server_log.clone() {
        assert!(p.client.handle_incoming(cnow, &old).is_err());
    }
    assert!(p.client.poll_event().is_none());
    assert_eq!(p.events.len(), before);
    // Delivered again on a new connection (a server re-sending what was not
    // acknowledged): duplicates, dropped silently.
    p.client.connection_lost(cnow);
    p.client.resume_on_new_connection(cnow);
    p.client.handle_incoming(cnow, &pkt).unwrap();
    assert!(p.client.poll_event().is_none());
    assert!(p.client.stats().dropped_replays >= 1);
}

#[test]
fn container_of_100_requests() {
    let mut p = Pair::new(7);
    let ids: Vec<RequestId> = (0..100).map(|i| p.enqueue(req(i))).collect();
    let cnow = p.client_now();
    let pkt = p.client.poll_transmit(cnow).unwrap();
    // All 100 fit one container (100 * 12 bytes << 2^15).
    assert!(p.client.poll_transmit(cnow).is_none());
    p.server.handle_incoming(p.now, &pkt).unwrap();
    assert_eq!(p.server.stats().requests_received, 100);
    p.run();
    for (i, id) in ids.iter().enumerate() {
        p.assert_answered_once(*id, &req(i as u64));
    }
    assert_eq!(p.server.stats().requests_received, 100);
}

#[test]
fn container_limits_split_large_batches() {
    let mut p = Pair::new(8);
    // 1500 requests of 12 bytes: more than 1020 per container.
    let ids: Vec<RequestId> = (0..1500).map(|i| p.enqueue(req(i))).collect();
    let cnow = p.client_now();
    let first = p.client.poll_transmit(cnow).unwrap();
    p.server.handle_incoming(p.now, &first).unwrap();
    let n = p.server.stats().requests_received;
    assert!((1000..=1020).contains(&n), "{n}");
    p.run();
    for (i, id) in ids.iter().enumerate() {
        p.assert_answered_once(*id, &req(i as u64));
    }
}

#[test]
fn server_answers_out_of_order() {
    let mut p = Pair::new(9);
    p.auto_answer = false;
    let ids: Vec<RequestId> = (0..5).map(|i| p.enqueue(req(100 + i))).collect();
    p.run();
    let mut got = Vec::new();
    while let Some(r) = p.server.poll_request() {
        got.push(r);
    }
    assert_eq!(got.len(), 5);
    for (mid, body) in got.into_iter().rev() {
        p.server.respond(mid, Ok(answer_for(&body)));
        p.run();
    }
    for (i, id) in ids.iter().enumerate() {
        p.assert_answered_once(*id, &req(100 + i as u64));
    }
}

#[test]
fn gzip_both_ways() {
    let mut p = Pair::new(10);
    p.auto_answer = false;
    let mut big = REQ_CTOR.to_le_bytes().to_vec();
    big.extend(b"abcdefgh".repeat(1024));
    let id = p.enqueue(big.clone());
    let cnow = p.client_now();
    let pkt = p.client.poll_transmit(cnow).unwrap();
    // Sent gzip_packed: the packet is much smaller than the body.
    assert!(pkt.len() < 1024, "{}", pkt.len());
    p.server.handle_incoming(p.now, &pkt).unwrap();
    let (mid, body) = p.server.poll_request().unwrap();
    assert_eq!(body, big, "server inflates the request");
    let mut answer = ANSWER_CTOR.to_le_bytes().to_vec();
    answer.extend(b"0123".repeat(4096));
    p.server.respond(mid, Ok(answer.clone()));
    let spkt = p.server.poll_transmit(p.now).unwrap();
    assert!(spkt.len() < 2048, "answer gzip_packed: {}", spkt.len());
    p.client.handle_incoming(cnow, &spkt).unwrap();
    p.run();
    let r = p.responses(id);
    assert_eq!(r, vec![&Ok(answer)]);
}

#[test]
fn small_bodies_are_not_compressed() {
    let mut p = Pair::new(11);
    p.auto_answer = false;
    let body = req(5);
    p.enqueue(body.clone());
    p.run();
    let (_, got) = p.server.poll_request().unwrap();
    assert_eq!(got, body);
}

#[test]
fn rpc_error_routing() {
    let mut p = Pair::new(12);
    p.auto_answer = false;
    let a = p.enqueue(req(1));
    let b = p.enqueue(req(2));
    p.run();
    let (ma, _) = p.server.poll_request().unwrap();
    let (mb, bb) = p.server.poll_request().unwrap();
    p.server
        .respond(ma, Err(RpcError::parse(420, "FLOOD_WAIT_3")));
    p.server.respond(mb, Ok(answer_for(&bb)));
    p.run();
    assert_eq!(
        p.responses(a),
        vec![&Err(RpcError::parse(420, "FLOOD_WAIT_3"))]
    );
    p.assert_answered_once(b, &req(2));
}

#[test]
fn unknown_req_msg_id_is_an_event_not_a_panic() {
    let mut p = Pair::new(13);
    let id = p.enqueue(req(1));
    p.run();
    p.assert_answered_once(id, &req(1));
    let mut body = 0xf35c_6d01u32.to_le_bytes().to_vec();
    body.extend_from_slice(&0x1234_5678_0000_0000i64.to_le_bytes());
    body.extend_from_slice(&answer_for(&req(1)));
    p.server.send_message(body, true, true);
    p.run();
    assert!(p.events.contains(&SessionEvent::ProtocolViolation(
        Violation::UnknownRequest {
            req_msg_id: 0x1234_5678_0000_0000
        }
    )));
    // A second answer to an already answered request is also just an event.
    assert_eq!(p.responses(id).len(), 1);
}

#[test]
fn wrong_session_id_is_an_error() {
    let mut p = Pair::new(14);
    let id = p.enqueue(req(1));
    p.run();
    p.assert_answered_once(id, &req(1));
    let mid = p.server.next_msg_id(p.now, false);
    let other = p.client.session_id() ^ 1;
    let pkt = p
        .server
        .craft_packet(other, mid, 1, &answer_for(&req(1)))
        .unwrap();
    let err = p.client.handle_incoming(p.client_now(), &pkt).unwrap_err();
    assert_eq!(err, IncomingError::WrongSession { session_id: other });
    // And garbage is a crypto error.
    let err = p.client.handle_incoming(p.client_now(), &[0u8; 64]);
    assert!(matches!(err, Err(IncomingError::Crypto(_))));
    assert!(p.client.poll_event().is_none());
}

#[test]
fn even_server_msg_id_is_a_violation() {
    let mut p = Pair::new(15);
    p.run();
    let id = p.enqueue(req(1));
    p.run();
    p.assert_answered_once(id, &req(1));
    let mid = p.server.next_msg_id(p.now, false) & !3;
    let pkt = p
        .server
        .craft_packet(p.client.session_id(), mid, 0, &answer_for(&req(1)))
        .unwrap();
    // An integrity failure: the whole packet is refused, naming the check.
    let err = p.client.handle_incoming(p.client_now(), &pkt).unwrap_err();
    assert_eq!(err, IncomingError::MsgIdParity { msg_id: mid });
    assert_eq!(err.check(), Check::MsgIdParity);
    assert_eq!(err.check().name(), "msg_id with the wrong parity");
    assert!(p.client.poll_event().is_none());
    assert_eq!(p.client.stats().packets_rejected, 1);
}

#[test]
fn stale_server_message_is_dropped_by_time_window() {
    let mut p = Pair::new(16);
    let id = p.enqueue(req(1));
    p.run();
    p.assert_answered_once(id, &req(1));
    // An update stamped 10 minutes ago (fresh id, valid encryption).
    let old = Timestamp::from_secs(p.now.as_secs() - 600);
    let mid = (mtproto_session::msg_id::raw_msg_id(old, 0) & !3) | 3;
    let pkt = p
        .server
        .craft_packet(p.client.session_id(), mid, 1, &answer_for(&req(5)))
        .unwrap();
    let err = p.client.handle_incoming(p.client_now(), &pkt).unwrap_err();
    assert_eq!(err, IncomingError::TimeWindow { msg_id: mid });
    assert_eq!(err.check().name(), "msg_id outside the time window");
    assert!(p.client.poll_event().is_none());
    assert_eq!(p.client.stats().packets_rejected, 1);
}

#[test]
fn updates_are_reported() {
    let mut p = Pair::new(17);
    p.enqueue(req(1));
    p.run();
    p.server.push_update(answer_for(&req(77)));
    p.run();
    assert!(p
        .events
        .contains(&SessionEvent::Update(answer_for(&req(77)))));
}

#[test]
fn timeouts_fire_exactly_once() {
    let mut p = Pair::new(18);
    p.inject_fault(Fault::Drop);
    let cnow = p.client_now();
    let id = p
        .client
        .enqueue_with_timeout(cnow, req(1), Duration::from_secs(10));
    p.run();
    assert_eq!(
        p.client.poll_timeout(),
        Some(mono(cnow.add(Duration::from_secs(10))))
    );
    for _ in 0..30 {
        p.advance(Duration::from_secs(1));
        p.run();
    }
    assert_eq!(p.failures(id), vec![&RequestError::Timeout]);
    assert!(p.responses(id).is_empty());
    assert_eq!(p.client.pending_requests(), 0);
}

#[test]
fn late_answer_after_timeout_is_unknown() {
    let mut p = Pair::new(19);
    p.auto_answer = false;
    let cnow = p.client_now();
    let id = p
        .client
        .enqueue_with_timeout(cnow, req(1), Duration::from_secs(5));
    p.run();
    let (mid, body) = p.server.poll_request().unwrap();
    p.advance(Duration::from_secs(6));
    p.server.respond(mid, Ok(answer_for(&body)));
    p.run();
    assert_eq!(p.failures(id), vec![&RequestError::Timeout]);
    assert!(p.responses(id).is_empty());
    assert!(p.events.contains(&SessionEvent::ProtocolViolation(
        Violation::UnknownRequest { req_msg_id: mid }
    )));
}

#[test]
fn seqno_errors_start_a_new_session() {
    for code in 32..=35 {
        let mut p = Pair::new(20 + code as u64);
        let a = p.enqueue(req(1));
        p.run();
        p.assert_answered_once(a, &req(1));
        let old_session = p.client.session_id();
        p.inject_fault(Fault::BadMsgNotification(BadMsgCode(code)));
        let b = p.enqueue(req(2));
        p.run();
        p.assert_answered_once(b, &req(2));
        assert_ne!(p.client.session_id(), old_session, "code {code}");
        assert!(p.events.contains(&SessionEvent::SessionReset {
            session_id: p.client.session_id(),
            code: BadMsgCode(code)
        }));
        assert_eq!(p.server.client_session_id(), Some(p.client.session_id()));
        assert_eq!(p.server.stats().new_sessions, 2);
    }
}

#[test]
fn invalid_container_resends_its_messages_one_by_one() {
    let mut p = Pair::new(30);
    p.enqueue(req(0));
    p.run();
    // "64: invalid container" on the container carrying three requests:
    // each is re-sent alone, outside any container, and answered.
    p.inject_fault(Fault::BadMsgNotification(BadMsgCode(64)));
    let before = p.server.stats().packets_received;
    let ids: Vec<RequestId> = (1..4).map(|i| p.enqueue(req(i))).collect();
    p.run();
    for (i, id) in ids.iter().enumerate() {
        p.assert_answered_once(*id, &req(i as u64 + 1));
    }
    // The rejected container, then one packet per request (acks come after).
    assert!(p.server.stats().packets_received - before >= 4);
    assert_eq!(p.server.stats().requests_received, 4);
}

#[test]
fn invalid_container_twice_fails_the_request() {
    let mut p = Pair::new(33);
    p.enqueue(req(0));
    p.run();
    // 64 on the container, then 64 again on the first request re-sent alone:
    // only that one fails; the others go through.
    p.inject_fault(Fault::BadMsgNotification(BadMsgCode(64)));
    p.inject_fault(Fault::BadMsgNotification(BadMsgCode(64)));
    let ids: Vec<RequestId> = (1..4).map(|i| p.enqueue(req(i))).collect();
    p.run();
    assert_eq!(p.failures(ids[0]), vec![&RequestError::InvalidContainer]);
    assert!(p.responses(ids[0]).is_empty());
    p.assert_answered_once(ids[1], &req(2));
    p.assert_answered_once(ids[2], &req(3));
}

#[test]
fn bad_msg_codes_18_19_20_resend_once_then_fail() {
    for code in [18, 19, 20] {
        let mut p = Pair::new(31);
        p.enqueue(req(0));
        p.run();
        // Once: re-sent under a fresh msg_id and answered.
        p.inject_fault(Fault::BadMsgNotification(BadMsgCode(code)));
        let a = p.enqueue(req(1));
        p.run();
        p.assert_answered_once(a, &req(1));
        assert_eq!(p.client.stats().resends, 1, "code {code}");
        // The same code for the re-sent message: the request fails with it.
        p.inject_fault(Fault::BadMsgNotification(BadMsgCode(code)));
        p.inject_fault(Fault::BadMsgNotification(BadMsgCode(code)));
        let b = p.enqueue(req(2));
        p.run();
        assert_eq!(
            p.failures(b),
            vec![&RequestError::BadMessage {
                code: BadMsgCode(code)
            }],
            "code {code}"
        );
        assert_eq!(p.server.stats().requests_received, 2, "code {code}");
    }
}

#[test]
fn endless_rejections_end_in_too_many_resends() {
    let mut p = Pair::new(32);
    p.enqueue(req(0));
    p.run();
    // Never the same code twice in a row, so every one is worth a re-send,
    // until max_resends.
    for i in 0..10 {
        let code = if i % 2 == 0 { 20 } else { 19 };
        p.inject_fault(Fault::BadMsgNotification(BadMsgCode(code)));
    }
    let a = p.enqueue(req(1));
    p.run();
    assert_eq!(p.failures(a), vec![&RequestError::TooManyResends]);
}

#[test]
fn keepalive_ping_delay_disconnect_is_scheduled() {
    let mut p = Pair::new(33);
    let id = p.enqueue(req(1));
    p.run();
    p.assert_answered_once(id, &req(1));
    let t = p.client.poll_timeout().unwrap();
    let ping_at = mono(p.client_now().add(Duration::from_secs(60)));
    assert!(t <= ping_at);
    // Drive time by poll_timeout until the ping goes out.
    for _ in 0..10 {
        let t = p.client.poll_timeout().unwrap();
        if t > mono(p.now) {
            p.advance(t.since(mono(p.now)));
        }
        p.run();
        if p.server.stats().keepalive_pings > 0 {
            break;
        }
    }
    assert_eq!(p.server.stats().keepalive_pings, 1);
    assert_eq!(p.server.stats().last_disconnect_delay, Some(75));
    // The pong produces no event.
    assert!(!p.events.iter().any(|e| matches!(
        e,
        SessionEvent::ProtocolViolation(_) | SessionEvent::Update(_)
    )));
    // And the next one is scheduled a minute later.
    assert!(p.client.poll_timeout().unwrap() > mono(p.client_now()));
}

#[test]
fn ping_request_gets_pong() {
    let mut p = Pair::new(34);
    let cnow = p.client_now();
    let id = p.client.ping(cnow, 0x55);
    p.run();
    let r = p.responses(id);
    assert_eq!(r.len(), 1);
    let pong = r[0].as_ref().unwrap();
    assert_eq!(&pong[..4], &0x3477_73c5u32.to_le_bytes());
    assert_eq!(&pong[12..20], &0x55i64.to_le_bytes());
}

#[test]
fn future_salts_are_stored_and_used() {
    let mut p = Pair::new(35);
    let since = i32::try_from(START + 100).unwrap();
    let next_salt = 0x4242_4242_4242_4242;
    p.server.add_future_salt(since, since + 3600, next_salt);
    let cnow = p.client_now();
    let id = p.client.get_future_salts(cnow, 4);
    p.run();
    assert_eq!(p.responses(id).len(), 1);
    assert_eq!(p.client.salt(), SALT);
    p.advance(Duration::from_secs(120));
    let b = p.enqueue(req(1));
    p.run();
    p.assert_answered_once(b, &req(1));
    assert_eq!(p.client.salt(), next_salt);
    assert!(p
        .events
        .contains(&SessionEvent::SaltChanged { salt: next_salt }));
    assert_eq!(p.server.stats().bad_salts_sent, 0);
}

#[test]
fn msgs_state_req_is_answered() {
    let mut p = Pair::new(36);
    p.enqueue(req(1));
    p.run();
    let mut body = 0xda69_fb52u32.to_le_bytes().to_vec();
    body.extend_from_slice(&0x1cb5_c415u32.to_le_bytes());
    body.extend_from_slice(&1i32.to_le_bytes());
    body.extend_from_slice(&1i64.to_le_bytes());
    p.server.send_message(body, false, false);
    p.run();
    assert_eq!(p.server.stats().state_infos_received, 1);
}

#[test]
fn new_session_created_after_server_forgets() {
    // The server forgets the session (as if restarted) and re-creates it.
    let mut p = Pair::new(37);
    let a = p.enqueue(req(1));
    p.run();
    p.assert_answered_once(a, &req(1));
    let k = key(37);
    let mut s = [0u8; 32];
    s[0] = 99;
    p.server = ServerSession::new(k, SALT, Config::default(), s);
    let b = p.enqueue(req(2));
    p.run();
    p.assert_answered_once(b, &req(2));
    let n = p
        .events
        .iter()
        .filter(|e| matches!(e, SessionEvent::NewSession { .. }))
        .count();
    assert_eq!(n, 2);
}

// ---- exact bytes: a real server packet (grammers decrypt_server_data_v2,
// also gotd TestDecrypt), see shared/vectors/mtproto2_encryption.json.

const V_AUTH_KEY: &str = "5d2e7d65f49ec28bd029a88761ea27b8a4c79f12226525443e7d7c596ef3303530db2107e89aa997c7a0164ab694187adeff156bd6ef7118a1962347753c0e7e89a0354b8ec364f9997e71bc6923fb86e8e43491e010606a6ce845e2fa01940977ef0aa32adf5a97dbf6d428ec0434d717a2d3ad19622cc05887642113c7965ffb862a3e3ccb0ab95addda57f89245dbd76b492348f8e94bd5a7c0e0b84808523cfd1ea80b32fe9ad198bc2e103fceb7d52492ecc0273a28674bc923eee59265ab17a002df1f4aa2c59b819a5e5e1d105ec117336f5c76c6b187037d4b4270cee9cc21071d97e9bca220c6d7b01b998cf2e5cdb9a50ecda1852a36e635690c8e";
const V_PACKET: &str = "7a7183c2c10e4f4df945fa9a9abd35e7c3840b61f045304f39674c19c0e209784f50f6226a073529d675c92cbf0bfa8c99a79b3f39c72a5d9a026d431ab7407ca04ecc55187d6c45f17871524edd90cea02ed728e14d7cb18aea2a636158f09459a9437710d894c79f368c4e8164b7647ea98612aefe942c5d92121acb8db02dccceb66d0f8720ac12a06db0582bfd955be34f365118e3bab8cd080ce6b45b28eac56dcd2a29374e";
/// session_id 60f2c4822443ad68 (little-endian in the plaintext).
const V_SESSION: i64 = 7_542_758_775_007_277_664;
/// new_session_created.first_msg_id == pong.msg_id == the ping's msg_id.
const V_PING_MSG_ID: i64 = 6_787_078_096_239_721_924;
const V_UNIQUE_ID: i64 = 1_610_298_583_411_501_080;
const V_SALT: i64 = -204_760_796_269_739_268;
const V_PING_ID: i64 = 3_147_876;
const V_PONG: &str = "c5737734c4fd33ad918b305e6408300000000000";

#[test]
fn real_server_packet_through_client_session() {
    let k = AuthKey::from_slice(&hex::decode(V_AUTH_KEY).unwrap()).unwrap();
    let mut config = Config::default();
    config.ping_interval = None;
    let mut c = ClientSession::new(k, 0, config, [0; 32]);
    c.set_session_id(V_SESSION);
    // Local time such that the ping gets exactly the msg_id the server
    // answered: 0x5e308b91 seconds and 0xad33fdc4 / 2^32 of a second.
    let now = Timestamp(1_580_239_761 * 1_000_000_000 + 676_574_574);
    let ping = c.ping(now, V_PING_ID);
    let out = c.poll_transmit(now).unwrap();
    assert_eq!(c.request_msg_id(ping), Some(V_PING_MSG_ID));
    assert_eq!(&out[..8], &hex::decode("7a7183c2c10e4f4d").unwrap()[..]);

    let pkt = hex::decode(V_PACKET).unwrap();
    c.handle_incoming(now.add(Duration::from_millis(300)), &pkt)
        .unwrap();
    let events: Vec<SessionEvent> = std::iter::from_fn(|| c.poll_event()).collect();
    assert_eq!(
        events,
        vec![
            SessionEvent::SaltChanged { salt: V_SALT },
            SessionEvent::NewSession {
                first_msg_id: V_PING_MSG_ID,
                unique_id: V_UNIQUE_ID
            },
            SessionEvent::Response {
                request: ping,
                result: Ok(hex::decode(V_PONG).unwrap())
            },
        ]
    );
    assert_eq!(c.salt(), V_SALT);
    // The same packet again on the same connection is a replay: refused
    // whole, nothing happens.
    assert!(matches!(
        c.handle_incoming(now, &pkt),
        Err(IncomingError::Replayed { .. })
    ));
    assert!(c.poll_event().is_none());
    // On a new connection, a re-delivery: its messages are duplicates,
    // dropped silently.
    c.connection_lost(now);
    c.resume_on_new_connection(now);
    c.handle_incoming(now, &pkt).unwrap();
    assert!(c.poll_event().is_none());
    assert_eq!(c.stats().dropped_replays, 3);
}

#[test]
fn real_server_packet_for_other_session_is_refused() {
    let k = AuthKey::from_slice(&hex::decode(V_AUTH_KEY).unwrap()).unwrap();
    let mut c = ClientSession::new(k, 0, Config::default(), [0; 32]);
    let now = Timestamp::from_secs(1_580_239_761);
    assert_eq!(
        c.handle_incoming(now, &hex::decode(V_PACKET).unwrap()),
        Err(IncomingError::WrongSession {
            session_id: V_SESSION
        })
    );
    assert!(c.poll_event().is_none());
}

#[test]
fn real_server_packet_an_hour_later_is_dropped_by_time() {
    // Local clock an hour ahead and no time sync: the msg_ids are stale.
    let k = AuthKey::from_slice(&hex::decode(V_AUTH_KEY).unwrap()).unwrap();
    let mut c = ClientSession::new(k, 0, Config::default(), [0; 32]);
    c.set_session_id(V_SESSION);
    let now = Timestamp::from_secs(1_580_239_761 + 3600);
    let err = c
        .handle_incoming(now, &hex::decode(V_PACKET).unwrap())
        .unwrap_err();
    assert_eq!(err.check(), Check::TimeWindow);
    assert!(c.poll_event().is_none());
    assert_eq!(c.stats().packets_rejected, 1);
    // With the offset learned, the same packet is accepted.
    let mut c2 = ClientSession::new(
        AuthKey::from_slice(&hex::decode(V_AUTH_KEY).unwrap()).unwrap(),
        0,
        Config::default(),
        [0; 32],
    );
    c2.set_session_id(V_SESSION);
    c2.set_time_offset(-3600);
    c2.handle_incoming(now, &hex::decode(V_PACKET).unwrap())
        .unwrap();
    assert!(matches!(
        c2.poll_event(),
        Some(SessionEvent::SaltChanged { .. })
    ));
    assert!(matches!(
        c2.poll_event(),
        Some(SessionEvent::NewSession { .. })
    ));
}

// ---- no panics

#[test]
fn no_panic_on_random_input() {
    let k = key(99);
    let mut rng = ChaCha20Rng::seed_from_u64(1234);
    let mut client = ClientSession::new(k.clone(), SALT, Config::default(), [1; 32]);
    let mut server = ServerSession::new(k.clone(), SALT, Config::default(), [2; 32]);
    let now = Timestamp::from_secs(START);
    let sid = client.session_id();
    let mut out = Vec::new();
    for i in 0..3000 {
        let len = rng.gen_range(0..600);
        let mut data = vec![0u8; len];
        rng.fill_bytes(&mut data);
        let _ = client.handle_incoming(now, &data);
        let _ = server.handle_incoming(now, &data);
        // A validly encrypted plaintext: header for our session, random body
        // (sometimes with a known constructor id in front).
        let mut body = vec![0u8; rng.gen_range(0..64) * 4];
        rng.fill_bytes(&mut body);
        if body.len() >= 4 && i % 2 == 0 {
            let ids = [
                0x73f1_f8dcu32,
                0xf35c_6d01,
                0x3072_cfa1,
                0x62d6_b459,
                0xa7ef_f811,
                0xedab_447b,
                0x9ec2_0908,
                0x3477_73c5,
                0xae50_0895,
                0x276d_3ec6,
                0x809d_b6df,
                0xda69_fb52,
                0x7d86_1a08,
            ];
            body[..4].copy_from_slice(&ids[i % ids.len()].to_le_bytes());
        }
        let msg_id = (mtproto_session::msg_id::raw_msg_id(now, 0) & !3) + (i as i64) * 4;
        let mut plain = Vec::new();
        plain.extend_from_slice(&SALT.to_le_bytes());
        plain.extend_from_slice(&sid.to_le_bytes());
        plain.extend_from_slice(&(msg_id | 1).to_le_bytes());
        plain.extend_from_slice(&(rng.gen::<i32>()).to_le_bytes());
        plain.extend_from_slice(&u32::try_from(body.len()).unwrap().to_le_bytes());
        plain.extend_from_slice(&body);
        encrypt_into_rng(&k, Direction::ServerToClient, &plain, &mut rng, &mut out).unwrap();
        let _ = client.handle_incoming(now, &out);
        plain[16..24].copy_from_slice(&msg_id.to_le_bytes());
        encrypt_into_rng(&k, Direction::ClientToServer, &plain, &mut rng, &mut out).unwrap();
        let _ = server.handle_incoming(now, &out);
        while client.poll_event().is_some() {}
        let _ = client.poll_transmit(now);
        let _ = server.poll_transmit(now);
        while server.poll_request().is_some() {}
        fuzz_incoming(&data);
    }
}

#[test]
fn fuzz_entry_point_handles_edge_inputs() {
    fuzz_incoming(&[]);
    fuzz_incoming(&[0; 3]);
    fuzz_incoming(&[0xff; 1000]);
    let mut c = 0x73f1_f8dcu32.to_le_bytes().to_vec();
    c.extend_from_slice(&[0xff; 40]);
    fuzz_incoming(&c);
}

// ---- what the client puts on the wire

fn decrypt_client_packet(k: &AuthKey, pkt: &[u8]) -> (i64, i64, i64, i32, Vec<u8>) {
    let mut buf = pkt.to_vec();
    let m =
        mtproto_crypto::packet::decrypt_in_place(k, Direction::ClientToServer, &mut buf).unwrap();
    (m.salt, m.session_id, m.msg_id, m.seq_no, m.body.to_vec())
}

fn le_i64(b: &[u8], at: usize) -> i64 {
    i64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}
fn le_i32(b: &[u8], at: usize) -> i32 {
    i32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

#[test]
fn msg_ids_seqnos_salt_and_session_on_the_wire() {
    let k = key(50);
    let mut config = Config::default();
    config.ping_interval = None;
    let mut c = ClientSession::new(k.clone(), SALT, config, [5; 32]);
    let now = Timestamp(START * 1_000_000_000 + 123_456_789);
    // One request alone: content-related, seqno 1, msg_id % 4 == 0, time in
    // the high half and a non-empty fraction in the low half.
    c.enqueue(now, req(1));
    let (salt, sid, mid, seq, body) = decrypt_client_packet(&k, &c.poll_transmit(now).unwrap());
    assert_eq!((salt, sid), (SALT, c.session_id()));
    assert_eq!(mid % 4, 0);
    assert_eq!(mid >> 32, START as i64);
    assert_ne!(mid & 0xffff_ffff, 0);
    assert_eq!(seq, 1);
    assert_eq!(body, req(1));
    // Three more: a container (even seqno, id above its contents) holding
    // seqnos 3, 5, 7 with increasing ids.
    for i in 2..5 {
        c.enqueue(now, req(i));
    }
    let (_, _, cid, cseq, body) = decrypt_client_packet(&k, &c.poll_transmit(now).unwrap());
    assert_eq!(le_i32(&body, 0) as u32, 0x73f1_f8dc);
    assert_eq!(le_i32(&body, 4), 3);
    assert_eq!(
        cseq, 8,
        "container: 2 * 4 content messages so far, not content-related"
    );
    let mut at = 8;
    let mut last = mid;
    for (n, want_seq) in [3, 5, 7].into_iter().enumerate() {
        let id = le_i64(&body, at);
        assert!(id > last && id < cid && id % 4 == 0);
        assert_eq!(le_i32(&body, at + 8), want_seq);
        assert_eq!(le_i32(&body, at + 12), 12);
        assert_eq!(&body[at + 16..at + 28], &req(n as u64 + 2)[..]);
        last = id;
        at += 28;
    }
    assert_eq!(at, body.len());
}

#[test]
fn detailed_info_and_resend_requests() {
    let mut p = Pair::new(51);
    p.auto_answer = false;
    let id = p.enqueue(req(1));
    p.run();
    let (mid, body) = p.server.poll_request().unwrap();
    // msg_resend_req for the pending request: the client re-sends it under
    // a new msg_id; answering either completes it exactly once.
    let mut rr = 0x7d86_1a08u32.to_le_bytes().to_vec();
    rr.extend_from_slice(&0x1cb5_c415u32.to_le_bytes());
    rr.extend_from_slice(&1i32.to_le_bytes());
    rr.extend_from_slice(&mid.to_le_bytes());
    p.server.send_message(rr, false, false);
    p.run();
    let (mid2, body2) = p.server.poll_request().unwrap();
    assert_ne!(mid2, mid);
    assert_eq!(body2, body);
    p.server.respond(mid2, Ok(answer_for(&body2)));
    p.server.respond(mid, Ok(answer_for(&body)));
    p.run();
    assert_eq!(p.responses(id).len(), 1);
    // msg_new_detailed_info about an answer the client never got: it asks
    // for it with msg_resend_req.
    let mut nd = 0x809d_b6dfu32.to_le_bytes().to_vec();
    nd.extend_from_slice(&((mid2 & !3) + 0x1001).to_le_bytes());
    nd.extend_from_slice(&100i32.to_le_bytes());
    nd.extend_from_slice(&0i32.to_le_bytes());
    p.server.send_message(nd, false, false);
    p.run();
    assert_eq!(p.server.stats().resend_reqs_received, 1);
}

// ---- time: timers run on the monotonic clock only

#[test]
fn wall_clock_steps_neither_fire_nor_delay_timers() {
    use mtproto_session::{Monotonic, Now};
    let mut config = Config::default();
    config.request_timeout = Duration::from_secs(10);
    config.ping_interval = Some(Duration::from_secs(60));
    let mut c = ClientSession::new(key(60), SALT, config, [6; 32]);
    let wall = Timestamp::from_secs(START);
    let mono = Monotonic::from_duration(Duration::from_secs(5));
    let at = |wall_secs: i64, mono_secs: u64| {
        let w = u64::try_from(i64::try_from(START).unwrap() + wall_secs).unwrap();
        Now::new(
            Timestamp::from_secs(w),
            mono.add(Duration::from_secs(mono_secs)),
        )
    };
    let id = c.enqueue(Now::new(wall, mono), req(1));
    assert!(c.poll_transmit(at(0, 0)).is_some());
    let deadline = c.poll_timeout().unwrap();
    assert_eq!(deadline, mono.add(Duration::from_secs(10)));

    // The wall clock jumps a day ahead one second later: nothing expires,
    // and the next deadline is where it was.
    c.handle_timeout(at(86_400, 1));
    assert!(c.poll_event().is_none());
    assert_eq!(c.poll_timeout(), Some(deadline));
    assert_eq!(c.pending_requests(), 1);

    // Then a day back, nine seconds later: still nothing...
    c.handle_timeout(at(-86_400, 9));
    assert!(c.poll_event().is_none());
    // ...and at ten monotonic seconds the request times out, whatever the
    // wall clock says.
    c.handle_timeout(at(-86_400, 10));
    assert_eq!(
        c.poll_event(),
        Some(SessionEvent::RequestFailed {
            request: id,
            error: RequestError::Timeout
        })
    );

    // The keepalive is due 60 monotonic seconds after the request was
    // enqueued, not when the wall clock reaches that point.
    assert_eq!(c.poll_timeout(), Some(mono.add(Duration::from_secs(60))));
    c.handle_timeout(at(3600, 59));
    assert!(
        c.poll_transmit(at(3600, 59)).is_none(),
        "no ping before 60 s"
    );
    c.handle_timeout(at(-3600, 60));
    assert!(c.poll_transmit(at(-3600, 60)).is_some(), "the ping at 60 s");
    assert_eq!(c.stats().keepalive_pings, 1);
}

#[test]
fn oversized_request_fails_at_once_and_disturbs_nothing() {
    let mut config = Config::default();
    config.max_request_len = 1024;
    let mut p = Pair::with_config(61, config);
    let small = p.enqueue(req(1));
    let big = p.enqueue(vec![0; 1028]);
    // Failed before anything was sent.
    p.collect();
    assert_eq!(
        p.failures(big),
        vec![&RequestError::TooLarge {
            len: 1028,
            max: 1024
        }]
    );
    assert_eq!(p.client.pending_requests(), 1);
    p.run();
    p.assert_answered_once(small, &req(1));
    assert!(p.responses(big).is_empty());
    assert_eq!(p.failures(big).len(), 1);
}

/// The server's msg_id rule 18 is "divisible by 4" and nothing more: a
/// client msg_id made exactly on a second (low 32 bits zero, as Telethon
/// makes about once in a million) is served; one not divisible by 4 gets
/// bad_msg_notification 18.
#[test]
fn server_serves_a_msg_id_on_a_whole_second_and_refuses_one_not_divisible_by_4() {
    use mtproto_session::wire::{seal_message, MessageHeader};
    let mut p = Pair::new(61);
    let now = p.now;
    let whole_second = (now.as_secs() as i64) << 32;
    for (msg_id, served) in [(whole_second, true), (whole_second + 4 * 1000 + 2, false)] {
        let header = MessageHeader {
            salt: SALT,
            session_id: p.client.session_id(),
            msg_id,
            seqno: 1,
        };
        let mut packet = Vec::new();
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(msg_id as u64);
        seal_message(
            &p.key,
            mtproto_crypto::packet::Direction::ClientToServer,
            &header,
            &req(7),
            &mut packet,
            &mut rng,
        )
        .unwrap();
        p.server.handle_incoming(now, &packet).unwrap();
        let handed_over = p.server.poll_request();
        assert_eq!(handed_over.is_some(), served, "msg_id {msg_id:#x}");
        if served {
            assert_eq!(handed_over.unwrap().0, msg_id);
        } else {
            // The answer is a bad_msg_notification with code 18 for it.
            let out = p.server.poll_transmit(now).expect("a notification");
            let opened =
                mtproto_session::testing::open_packet(&p.key, Direction::ServerToClient, &out);
            let (_, body) = &opened.messages[0];
            assert_eq!(&body[..4], &0xa7ef_f811u32.to_le_bytes());
            assert_eq!(i64::from_le_bytes(body[4..12].try_into().unwrap()), msg_id);
            assert_eq!(i32::from_le_bytes(body[16..20].try_into().unwrap()), 18);
        }
    }
}
