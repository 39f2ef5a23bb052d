//! Hostile peers against the session roles (issue 12): a packet that fails
//! a check is discarded whole, outgoing containers stay within the spec's
//! limits whatever the peer asks, the server checks messages inside a
//! container like top-level ones, msg_ids keep increasing after a clock
//! resync, and everything works past 2038.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use mtproto_crypto::packet::Direction;
use mtproto_session::msg_id::{msg_id_key, raw_msg_id};
use mtproto_session::session::{Check, IncomingError, SessionEvent};
use mtproto_session::testing::{answer_for, open_packet, req, Pair, SALT};
use mtproto_session::wire::{seal_message, ContainerWriter, MessageHeader};
use mtproto_session::Timestamp;
use mtproto_tl::mtproto::{functions, types};
use mtproto_tl::{Deserialize, Identifiable, Serialize};
use rand::SeedableRng;

/// A `msg_container` of `(msg_id, seqno, body)`.
fn container(messages: &[(i64, i32, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = ContainerWriter::new(&mut out);
    for (id, seqno, body) in messages {
        w.push(*id, *seqno, body).unwrap();
    }
    w.finish();
    out
}

/// The msg_ids the client acknowledged in `packets`.
fn acked(p: &Pair, packets: &[Vec<u8>]) -> Vec<i64> {
    let mut ids = Vec::new();
    for pkt in packets {
        for (_, body) in open_packet(&p.key, Direction::ClientToServer, pkt).messages {
            if body[..4] == types::MsgsAck::CONSTRUCTOR_ID.to_le_bytes() {
                let mut boxed = body.clone();
                boxed.drain(..4);
                let mut r = mtproto_tl::Reader::new(&boxed);
                let ack = <types::MsgsAck as mtproto_tl::BareDeserialize>::deserialize_bare(&mut r)
                    .unwrap();
                ids.extend(ack.msg_ids);
            }
        }
    }
    ids
}

#[test]
fn a_malformed_message_discards_its_whole_container() {
    let mut p = Pair::new(41);
    p.auto_answer = false;
    let id = p.enqueue(req(1));
    p.run();
    let (req_msg_id, body) = p.server.poll_request().unwrap();
    // Acks of everything so far go out first.
    p.advance(std::time::Duration::from_secs(10));
    let _ = p.take_client_packets();
    // A container: the well-formed answer to the request, and a msgs_ack
    // cut short.
    let mut result = Vec::new();
    mtproto_session::wire::objects::write_rpc_result(req_msg_id, &answer_for(&body), &mut result);
    let answer_id = p.server.next_msg_id(p.now, true);
    let broken_id = p.server.next_msg_id(p.now, false);
    let mut broken = types::MsgsAck {
        msg_ids: vec![1, 2],
    }
    .to_bytes();
    broken.truncate(12);
    let body = container(&[(answer_id, 1, result.clone()), (broken_id, 0, broken)]);
    let top = p.server.next_msg_id(p.now, false);
    let session = p.client.session_id();
    let pkt = p.server.craft_packet(session, top, 2, &body).unwrap();
    let err = p.client.handle_incoming(p.client_now(), &pkt).unwrap_err();
    assert!(
        matches!(err, IncomingError::Malformed { msg_id, .. } if msg_id == broken_id),
        "{err:?}"
    );
    assert_eq!(err.check(), Check::Malformed);
    // Nothing in it was processed: the answer's neighbour was well-formed,
    // but the request is still pending, no event came, and nothing of the
    // packet is ever acknowledged.
    assert!(p.client.poll_event().is_none());
    assert_eq!(p.client.pending_requests(), 1);
    p.advance(std::time::Duration::from_secs(10));
    let out = p.take_client_packets();
    let acks = acked(&p, &out);
    assert!(
        !acks.contains(&answer_id) && !acks.contains(&top),
        "{acks:?}"
    );
    // The same answer in a sound packet is accepted.
    let answer_id = p.server.next_msg_id(p.now, true);
    let pkt = p
        .server
        .craft_packet(session, answer_id, 1, &result)
        .unwrap();
    p.client.handle_incoming(p.client_now(), &pkt).unwrap();
    p.collect();
    p.assert_answered_once(id, &req(1));
}

#[test]
fn answers_to_2000_msgs_state_req_go_in_containers_of_at_most_1024() {
    let mut p = Pair::new(42);
    let id = p.enqueue(req(1));
    p.run();
    p.assert_answered_once(id, &req(1));
    let session = p.client.session_id();
    // Two containers of 1,000 msgs_state_req each (the incoming limit is
    // 1,024 per container).
    for _ in 0..2 {
        let msgs: Vec<(i64, i32, Vec<u8>)> = (0..1000)
            .map(|i| {
                let body = types::MsgsStateReq {
                    msg_ids: vec![i, i + 1],
                }
                .to_bytes();
                (p.server.next_msg_id(p.now, false), 0, body)
            })
            .collect();
        let top = p.server.next_msg_id(p.now, false);
        let pkt = p
            .server
            .craft_packet(session, top, 0, &container(&msgs))
            .unwrap();
        p.client.handle_incoming(p.client_now(), &pkt).unwrap();
    }
    let out = p.take_client_packets();
    let mut infos = 0;
    for pkt in &out {
        let m = open_packet(&p.key, Direction::ClientToServer, pkt).messages;
        assert!(m.len() <= 1024, "a container of {} messages", m.len());
        infos += m
            .iter()
            .filter(|(_, b)| b[..4] == types::MsgsStateInfo::CONSTRUCTOR_ID.to_le_bytes())
            .count();
    }
    assert_eq!(infos, 2000);
    assert!(out.len() >= 2);
}

/// A client packet: `body` sealed under the pair's key for the server.
fn client_packet(p: &Pair, session_id: i64, msg_id: i64, body: &[u8]) -> Vec<u8> {
    let header = MessageHeader {
        salt: SALT,
        session_id,
        msg_id,
        seqno: 0,
    };
    let mut out = Vec::new();
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([9; 32]);
    seal_message(
        &p.key,
        Direction::ClientToServer,
        &header,
        body,
        &mut out,
        &mut rng,
    )
    .unwrap();
    out
}

/// What the server sent: bad_msg_notification codes by bad_msg_id, and the
/// msg_ids its pongs answer.
fn server_replies(p: &mut Pair) -> (HashMap<i64, i32>, Vec<i64>) {
    let mut bad = HashMap::new();
    let mut pongs = Vec::new();
    for pkt in p.take_server_packets() {
        let mut buf = pkt.clone();
        let m = mtproto_session::wire::open(&p.key, Direction::ServerToClient, &mut buf).unwrap();
        let mut bodies = vec![m.body.to_vec()];
        if m.body[..4] == types::MsgContainer::CONSTRUCTOR_ID.to_le_bytes() {
            let mut r = mtproto_tl::Reader::new(&m.body[4..]);
            bodies = mtproto_session::wire::parse_container(&mut r)
                .unwrap()
                .iter()
                .map(|im| im.body.to_vec())
                .collect();
        }
        for b in bodies {
            if let Ok(n) = types::BadMsgNotification::from_bytes(&b) {
                bad.insert(n.bad_msg_id, n.error_code);
            } else if let Ok(pong) = types::Pong::from_bytes(&b) {
                pongs.push(pong.msg_id);
            }
        }
    }
    (bad, pongs)
}

#[test]
fn server_checks_messages_inside_a_container_like_top_level_ones() {
    let mut p = Pair::new(43);
    let now = p.now;
    let fresh = raw_msg_id(now, 0) & !3;
    let stale = (raw_msg_id(Timestamp::from_secs(now.as_secs() - 600), 0) & !3) + 4;
    // A msg_id made exactly on a second (low 32 bits zero) is a real
    // clock's reading: served. One not divisible by 4 is refused (18).
    let zero_low = (fresh >> 32) << 32;
    let not_by_4 = fresh + 2;
    let ping = |n: i64| functions::Ping { ping_id: n }.to_bytes();
    let body = container(&[
        (stale, 0, ping(1)),
        (zero_low, 0, ping(2)),
        (not_by_4, 0, ping(3)),
        (fresh + 4, 0, ping(4)),
    ]);
    let pkt = client_packet(&p, 77, fresh + 8, &body);
    p.server.handle_incoming(now, &pkt).unwrap();
    let (bad, pongs) = server_replies(&mut p);
    // "16: msg_id too low" for the stale one, "18: incorrect two lower
    // order msg_id bits" for the one not divisible by 4; the others are
    // answered.
    assert_eq!(bad.get(&stale), Some(&16));
    assert_eq!(bad.get(&not_by_4), Some(&18));
    assert_eq!(bad.get(&zero_low), None);
    assert_eq!(pongs, vec![zero_low, fresh + 4]);
    assert_eq!(p.server.stats().pings, 2);
    // The same at the top level.
    let next = raw_msg_id(now, 0) + (1 << 32);
    let zero_top = (next >> 32) << 32;
    let pkt = client_packet(&p, 77, zero_top, &ping(5));
    p.server.handle_incoming(now, &pkt).unwrap();
    let (bad, pongs) = server_replies(&mut p);
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(pongs, vec![zero_top]);
    let odd_top = zero_top + 4 * 16 + 2;
    let pkt = client_packet(&p, 77, odd_top, &ping(6));
    p.server.handle_incoming(now, &pkt).unwrap();
    let (bad, pongs) = server_replies(&mut p);
    assert_eq!(bad.get(&odd_top), Some(&18));
    assert!(pongs.is_empty());
}

#[test]
fn a_replayed_packet_is_not_executed_in_a_new_session_or_on_another_connection() {
    let mut p = Pair::new(44);
    p.auto_answer = false;
    p.enqueue(req(5));
    let packets = p.take_client_packets();
    p.deliver_to_server(&packets);
    assert!(p.server.poll_request().is_some());
    // The same packet to a new server session on the same key (another
    // connection) sharing the key's replay window: not executed.
    let window = mtproto_session::session::KeyReplayWindow::new(1024);
    let mut a = mtproto_session::session::ServerSession::new(
        p.key.clone(),
        SALT,
        Default::default(),
        [1; 32],
    )
    .with_replay_window(window.clone());
    let mut b = mtproto_session::session::ServerSession::new(
        p.key.clone(),
        SALT,
        Default::default(),
        [2; 32],
    )
    .with_replay_window(window);
    a.handle_incoming(p.now, &packets[0]).unwrap();
    assert!(a.poll_request().is_some());
    b.handle_incoming(p.now, &packets[0]).unwrap();
    assert!(b.poll_request().is_none());
    assert_eq!(b.stats().duplicates, 1);
    // A new client session on the same key replaying it: still refused.
    a.handle_incoming(p.now, &packets[0]).unwrap();
    assert!(a.poll_request().is_none());
}

#[test]
fn msg_ids_increase_within_a_session_after_clock_resyncs() {
    let mut p = Pair::new(45);
    // The client's clock is 31 s fast: its first message is "too high" (17)
    // and the resync moves its clock back by 31 s (a new session, since the
    // msg_ids already sent are out of the server's window); then a
    // future_salts answer moves it back one more second.
    p.client_skew = 31;
    let mut seen: Vec<(i64, i64)> = Vec::new();
    let mut record = |p: &mut Pair| {
        let c = p.take_client_packets();
        for pkt in &c {
            // In the order they were generated: a container's messages,
            // then the container.
            let o = open_packet(&p.key, Direction::ClientToServer, pkt);
            for (id, _) in &o.messages {
                seen.push((o.session_id, *id));
            }
            if o.messages.len() != 1 || o.messages[0].0 != o.msg_id {
                seen.push((o.session_id, o.msg_id));
            }
        }
        p.deliver_to_server(&c);
        p.answer_all();
        let s = p.take_server_packets();
        p.deliver_to_client(&s);
        p.now = p.now.add(std::time::Duration::from_millis(20));
    };
    let a = p.enqueue(req(1));
    for _ in 0..10 {
        record(&mut p);
    }
    p.assert_answered_once(a, &req(1));
    p.server.set_time_offset(-1);
    let salts = p.client.get_future_salts(p.client_now(), 2);
    let b = p.enqueue(req(2));
    for _ in 0..10 {
        record(&mut p);
    }
    assert!(p
        .events
        .iter()
        .any(|e| matches!(e, SessionEvent::Response { request, .. } if *request == salts)));
    p.assert_answered_once(b, &req(2));
    let c = p.enqueue(req(3));
    for _ in 0..10 {
        record(&mut p);
    }
    p.assert_answered_once(c, &req(3));
    // Within each session, every msg_id is above every earlier one.
    let mut last: HashMap<i64, u64> = HashMap::new();
    for (session, id) in &seen {
        let k = msg_id_key(*id);
        if let Some(prev) = last.insert(*session, k) {
            assert!(
                k > prev,
                "msg_id {id:#x} after {prev:#x} in session {session:#x}"
            );
        }
    }
    assert!(seen.len() >= 6);
    assert!(p
        .events
        .iter()
        .any(|e| matches!(e, SessionEvent::TimeOffsetChanged { offset_secs } if *offset_secs < 0)));
}

#[test]
fn a_session_round_trip_past_2038() {
    let mut p = Pair::new(46);
    // 2^31 + 100 s: past the signed 32-bit Unix time.
    p.now = Timestamp::from_secs((1 << 31) + 100);
    let a = p.enqueue(req(1));
    p.run();
    p.assert_answered_once(a, &req(1));
    let salts = p.client.get_future_salts(p.client_now(), 1);
    p.run();
    assert!(p
        .events
        .iter()
        .any(|e| matches!(e, SessionEvent::Response { request, .. } if *request == salts)));
    assert_eq!(p.client.time_offset(), 0);
    let b = p.enqueue(req(2));
    p.run();
    p.assert_answered_once(b, &req(2));
    assert_eq!(p.client.stats().packets_rejected, 0);
}

#[test]
fn container_rules_are_integrity_checks() {
    let mut p = Pair::new(47);
    let id = p.enqueue(req(1));
    p.run();
    p.assert_answered_once(id, &req(1));
    let session = p.client.session_id();
    let ping = functions::Ping { ping_id: 1 }.to_bytes();
    // "A container may not carry other simple containers."
    let a = p.server.next_msg_id(p.now, false);
    let b = p.server.next_msg_id(p.now, false);
    let top = p.server.next_msg_id(p.now, false);
    let nested = container(&[(b, 0, container(&[(a, 0, ping.clone())]))]);
    let pkt = p.server.craft_packet(session, top, 0, &nested).unwrap();
    let err = p.client.handle_incoming(p.client_now(), &pkt).unwrap_err();
    assert!(
        matches!(err, IncomingError::Container { msg_id, .. } if msg_id == b),
        "{err:?}"
    );
    assert_eq!(err.check().name(), "container rules broken");
    // "All messages in a container must have msg_id lower than that of the
    // container itself."
    let low = p.server.next_msg_id(p.now, false);
    let high = p.server.next_msg_id(p.now, false);
    let pkt = p
        .server
        .craft_packet(session, low, 0, &container(&[(high, 0, ping.clone())]))
        .unwrap();
    let err = p.client.handle_incoming(p.client_now(), &pkt).unwrap_err();
    assert!(
        matches!(err, IncomingError::Container { msg_id, .. } if msg_id == high),
        "{err:?}"
    );
    // Two messages with one msg_id.
    let dup = p.server.next_msg_id(p.now, false);
    let top = p.server.next_msg_id(p.now, false);
    let body = container(&[(dup, 0, ping.clone()), (dup, 0, ping)]);
    let pkt = p.server.craft_packet(session, top, 0, &body).unwrap();
    let err = p.client.handle_incoming(p.client_now(), &pkt).unwrap_err();
    assert_eq!(err.check(), Check::Container);
    assert!(p.client.poll_event().is_none());
    assert_eq!(p.client.stats().packets_rejected, 3);
}
