//! Connection loss and resumption of a [`ClientSession`], dead-connection
//! detection, and the message-status service messages, against the
//! in-memory test server on a virtual clock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use core::time::Duration;

use mtproto_crypto::packet::{decrypt_in_place, Direction};
use mtproto_session::session::{
    AuthKey, ClientSession, Config, Event, RequestId, ServerSession, Violation,
};
use mtproto_session::Timestamp;
use mtproto_tl::mtproto::types;
use mtproto_tl::Serialize;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

const START: u64 = 1_735_910_891;
const SALT: i64 = 0x0123_4567_89ab_cdef;
const REQ_CTOR: u32 = 0xdead_beef;
const ANSWER_CTOR: u32 = 0x1111_1111;
/// `msg_container#73f1f8dc`
const MSG_CONTAINER: [u8; 4] = [0xdc, 0xf8, 0xf1, 0x73];
/// `msgs_state_req#da69fb52`
const MSGS_STATE_REQ: [u8; 4] = [0x52, 0xfb, 0x69, 0xda];
/// `msgs_state_info#04deb57d`
const MSGS_STATE_INFO: [u8; 4] = [0x7d, 0xb5, 0xde, 0x04];
/// `vector#1cb5c415`
const VECTOR: [u8; 4] = [0x15, 0xc4, 0xb5, 0x1c];

fn key(seed: u64) -> AuthKey {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut k = [0u8; 256];
    rng.fill_bytes(&mut k);
    AuthKey::from_bytes(k)
}

fn req(n: u64) -> Vec<u8> {
    let mut v = REQ_CTOR.to_le_bytes().to_vec();
    v.extend_from_slice(&n.to_le_bytes());
    v
}

fn answer_for(body: &[u8]) -> Vec<u8> {
    let mut v = ANSWER_CTOR.to_le_bytes().to_vec();
    v.extend_from_slice(body);
    v
}

/// A decrypted client packet.
struct Plain {
    session_id: i64,
    /// (msg_id, body) of each message (the container's contents, or the
    /// message itself).
    messages: Vec<(i64, Vec<u8>)>,
}

fn open(k: &AuthKey, pkt: &[u8]) -> Plain {
    let mut buf = pkt.to_vec();
    let m = decrypt_in_place(k, Direction::ClientToServer, &mut buf).unwrap();
    let mut messages = Vec::new();
    if m.body[..4] == MSG_CONTAINER {
        let n = u32::from_le_bytes(m.body[4..8].try_into().unwrap()) as usize;
        let mut at = 8;
        for _ in 0..n {
            let id = i64::from_le_bytes(m.body[at..at + 8].try_into().unwrap());
            let len = u32::from_le_bytes(m.body[at + 12..at + 16].try_into().unwrap()) as usize;
            messages.push((id, m.body[at + 16..at + 16 + len].to_vec()));
            at += 16 + len;
        }
    } else {
        messages.push((m.msg_id, m.body.to_vec()));
    }
    Plain {
        session_id: m.session_id,
        messages,
    }
}

struct Net {
    key: AuthKey,
    client: ClientSession,
    server: ServerSession,
    now: Timestamp,
    events: Vec<Event>,
    seed: u64,
}

impl Net {
    fn new(seed: u64, config: Config) -> Self {
        let k = key(seed);
        let mut s = [0u8; 32];
        s[..8].copy_from_slice(&seed.to_le_bytes());
        let client = ClientSession::new(k.clone(), SALT, config.clone(), s);
        s[31] = 1;
        let server = ServerSession::new(k.clone(), SALT, config, s);
        Self {
            key: k,
            client,
            server,
            now: Timestamp::from_secs(START),
            events: Vec::new(),
            seed,
        }
    }

    /// A fresh server session: a new connection to a server that kept no
    /// state for this client session.
    fn fresh_server(&mut self) {
        // A reconnect takes time (and the new server's msg_ids must not
        // collide with the old one's on the virtual clock).
        self.now = self.now.add(Duration::from_secs(1));
        let mut s = [0u8; 32];
        s[..8].copy_from_slice(&self.seed.to_le_bytes());
        s[30] = 2;
        self.server = ServerSession::new(self.key.clone(), SALT, Config::default(), s);
    }

    fn client_packets(&mut self) -> Vec<Vec<u8>> {
        std::iter::from_fn(|| self.client.poll_transmit(self.now)).collect()
    }

    fn deliver_to_server(&mut self, packets: &[Vec<u8>]) {
        for p in packets {
            self.server.handle_incoming(self.now, p).unwrap();
        }
    }

    fn server_packets(&mut self) -> Vec<Vec<u8>> {
        std::iter::from_fn(|| self.server.poll_transmit(self.now)).collect()
    }

    fn deliver_to_client(&mut self, packets: &[Vec<u8>]) {
        for p in packets {
            self.client.handle_incoming(self.now, p).unwrap();
        }
        self.collect();
    }

    fn collect(&mut self) {
        while let Some(e) = self.client.poll_event() {
            self.events.push(e);
        }
    }

    fn answer_all(&mut self) {
        while let Some((id, body)) = self.server.poll_request() {
            self.server.respond(id, Ok(answer_for(&body)));
        }
    }

    /// Runs both sides (server answering) until quiet.
    fn run(&mut self) {
        for _ in 0..50 {
            let c = self.client_packets();
            self.deliver_to_server(&c);
            self.answer_all();
            let s = self.server_packets();
            self.deliver_to_client(&s);
            self.now = self.now.add(Duration::from_millis(20));
            if c.is_empty() && s.is_empty() {
                return;
            }
        }
        panic!("no quiescence");
    }

    fn advance(&mut self, d: Duration) {
        self.now = self.now.add(d);
        self.client.handle_timeout(self.now);
        self.collect();
    }

    fn responses(&self, id: RequestId) -> usize {
        self.events
            .iter()
            .filter(|e| matches!(e, Event::Response { request, .. } if *request == id))
            .count()
    }

    fn assert_answered_once(&self, id: RequestId, body: &[u8]) {
        let r: Vec<_> = self
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Response { request, result } if *request == id => Some(result),
                Event::RequestFailed { request, .. } if *request == id => {
                    panic!("{id:?} failed: {:?}", self.events)
                }
                _ => None,
            })
            .collect();
        assert_eq!(r.len(), 1, "{id:?}: {:?}", self.events);
        assert_eq!(r[0], &Ok(answer_for(body)));
    }
}

#[test]
fn lost_requests_are_resent_with_fresh_msg_ids_in_the_same_session() {
    let mut n = Net::new(1, Config::default());
    let ids: Vec<RequestId> = (0..3).map(|i| n.client.enqueue(n.now, req(i))).collect();
    let first = n.client_packets();
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
    let again = n.client_packets();
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
    let s = n.server_packets();
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
    let mut n = Net::new(seed, Config::default());
    let id = n.client.enqueue(n.now, req(7));
    let p = n.client_packets();
    n.deliver_to_server(&p);
    n.answer_all();
    // The answer to the original is produced, but the connection drops
    // before it is delivered.
    let old_answer = n.server_packets();
    n.client.connection_lost(n.now);
    assert_eq!(n.client.resume_on_new_connection(n.now), 1);
    let p = n.client_packets();
    n.deliver_to_server(&p);
    n.answer_all();
    let new_answer = n.server_packets();
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
            .any(|e| matches!(e, Event::ProtocolViolation(_))),
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
    let mut n = Net::new(4, Config::default());
    let id = n.client.enqueue(n.now, req(1));
    let p = n.client_packets();
    let sent_id = open(&n.key, &p[0]).messages[0].0;
    n.deliver_to_server(&p);
    let (req_msg_id, body) = n.server.poll_request().unwrap();
    assert_eq!(req_msg_id, sent_id);
    // The server acknowledges it (a long-running query) ...
    n.server.push_raw(
        types::MsgsAck {
            msg_ids: vec![sent_id],
        }
        .to_bytes(),
        false,
        false,
    );
    let s = n.server_packets();
    n.deliver_to_client(&s);
    // ... and the connection drops.
    n.client.connection_lost(n.now);
    assert_eq!(n.client.resume_on_new_connection(n.now), 1);
    let p = n.client_packets();
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
    let s = n.server_packets();
    n.deliver_to_client(&s);
    assert!(n.client_packets().is_empty(), "nothing re-sent");
    assert_eq!(n.server.stats().requests_received, 1);
    // The answer comes later, once.
    n.server.respond(req_msg_id, Ok(answer_for(&body)));
    n.run();
    n.assert_answered_once(id, &req(1));
}

#[test]
fn acknowledged_request_is_resent_when_the_server_lost_it() {
    let mut n = Net::new(5, Config::default());
    let id = n.client.enqueue(n.now, req(2));
    let p = n.client_packets();
    let sent_id = open(&n.key, &p[0]).messages[0].0;
    n.deliver_to_server(&p);
    n.server.push_raw(
        types::MsgsAck {
            msg_ids: vec![sent_id],
        }
        .to_bytes(),
        false,
        false,
    );
    let s = n.server_packets();
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
    let mut n = Net::new(6, Config::default());
    n.client.connection_lost(n.now);
    let a = n
        .client
        .enqueue_with_timeout(n.now, req(1), Duration::from_secs(5));
    let b = n.client.enqueue(n.now, req(2));
    assert!(n.client.poll_transmit(n.now).is_none());
    // Only request deadlines matter while disconnected.
    assert_eq!(
        n.client.poll_timeout(),
        Some(n.now.add(Duration::from_secs(5)))
    );
    n.advance(Duration::from_secs(5));
    assert!(n.events.iter().any(|e| matches!(
        e,
        Event::RequestFailed { request, .. } if *request == a
    )));
    // Never transmitted: nothing counted as resumed.
    assert_eq!(n.client.resume_on_new_connection(n.now), 0);
    n.run();
    n.assert_answered_once(b, &req(2));
    assert_eq!(n.responses(a), 0);
}

#[test]
fn missing_keepalive_pong_reports_a_dead_connection_once() {
    let config = Config {
        ping_interval: Some(Duration::from_secs(60)),
        pong_timeout: Some(Duration::from_secs(10)),
        ..Config::default()
    };
    let mut n = Net::new(7, config);
    let id = n.client.enqueue(n.now, req(1));
    n.run();
    n.assert_answered_once(id, &req(1));
    // The keepalive goes out but nothing comes back.
    n.advance(Duration::from_secs(60));
    let ping = n.client_packets();
    assert_eq!(ping.len(), 1);
    assert_eq!(n.client.stats().keepalive_pings, 1);
    assert_eq!(
        n.client.poll_timeout(),
        Some(n.now.add(Duration::from_secs(10)))
    );
    n.advance(Duration::from_secs(9));
    assert!(!n.events.contains(&Event::ConnectionDead));
    n.advance(Duration::from_secs(1));
    assert_eq!(
        n.events
            .iter()
            .filter(|e| **e == Event::ConnectionDead)
            .count(),
        1
    );
    n.advance(Duration::from_secs(30));
    assert_eq!(
        n.events
            .iter()
            .filter(|e| **e == Event::ConnectionDead)
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
            .filter(|e| **e == Event::ConnectionDead)
            .count(),
        1
    );
}

#[test]
fn connection_wrapper_wraps_the_first_query_of_each_connection() {
    const WRAP: u32 = 0x0bad_f00d;
    let mut n = Net::new(8, Config::default());
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
    let p = n.client_packets();
    let bodies: Vec<Vec<u8>> = open(&n.key, &p[0])
        .messages
        .into_iter()
        .map(|m| m.1)
        .collect();
    assert_eq!(bodies, vec![wrapped(req(1)), req(2)]);
    // Lost; on the next connection the oldest unanswered one is wrapped.
    n.client.connection_lost(n.now);
    n.client.resume_on_new_connection(n.now);
    let p = n.client_packets();
    let bodies: Vec<Vec<u8>> = open(&n.key, &p[0])
        .messages
        .into_iter()
        .map(|m| m.1)
        .collect();
    assert_eq!(bodies, vec![wrapped(req(1)), req(2)]);
    n.fresh_server();
    n.deliver_to_server(&p);
    n.answer_all();
    let s = n.server_packets();
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
    let mut n = Net::new(9, Config::default());
    let id = n.client.enqueue(n.now, req(1));
    n.run();
    n.assert_answered_once(id, &req(1));
    let unknown = 0x1234_5678_0000_0004i64;
    n.server.push_raw(
        types::MsgResendReq {
            msg_ids: vec![unknown],
        }
        .to_bytes(),
        false,
        false,
    );
    let s = n.server_packets();
    n.deliver_to_client(&s);
    let p = n.client_packets();
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
    let mut n = Net::new(10, Config::default());
    let _id = n.client.enqueue(n.now, req(1));
    let p = n.client_packets();
    let sent_id = open(&n.key, &p[0]).messages[0].0;
    n.deliver_to_server(&p);
    // msgs_all_info: "4 = message received", +32 (being processed).
    n.server.push_raw(
        types::MsgsAllInfo {
            msg_ids: vec![sent_id],
            info: vec![4 | 32],
        }
        .to_bytes(),
        false,
        false,
    );
    let s = n.server_packets();
    n.deliver_to_client(&s);
    n.client.connection_lost(n.now);
    n.client.resume_on_new_connection(n.now);
    let p = n.client_packets();
    let plain = open(&n.key, &p[0]);
    assert!(plain
        .messages
        .iter()
        .all(|m| m.1[..4] != REQ_CTOR.to_le_bytes()));
    assert!(plain.messages.iter().any(|m| m.1[..4] == MSGS_STATE_REQ));
}

#[test]
fn state_info_for_an_unknown_request_is_a_violation() {
    let mut n = Net::new(11, Config::default());
    let id = n.client.enqueue(n.now, req(1));
    n.run();
    n.assert_answered_once(id, &req(1));
    n.server.push_raw(
        types::MsgsStateInfo {
            req_msg_id: 0x1234,
            info: vec![4],
        }
        .to_bytes(),
        false,
        true,
    );
    let s = n.server_packets();
    n.deliver_to_client(&s);
    assert!(n
        .events
        .contains(&Event::ProtocolViolation(Violation::UnknownRequest {
            req_msg_id: 0x1234
        })));
}

#[test]
fn future_salts_now_syncs_the_clock() {
    let mut n = Net::new(12, Config::default());
    // The server's clock is 20 s ahead (inside the window, so no
    // bad_msg_notification teaches the client).
    n.server.set_clock_skew(20);
    let id = n.client.get_future_salts(n.now, 1);
    n.run();
    assert_eq!(n.responses(id), 1);
    assert_eq!(n.client.time_offset(), 20);
    assert!(n
        .events
        .contains(&Event::TimeOffsetChanged { offset_secs: 20 }));
}

#[test]
fn rekey_starts_a_new_session_and_resends_under_the_new_key() {
    let mut n = Net::new(13, Config::default());
    let id = n.client.enqueue(n.now, req(5));
    let _lost = n.client_packets();
    let old_session = n.client.session_id();
    n.client.connection_lost(n.now);
    let new_key = key(99);
    assert_eq!(n.client.rekey(new_key.clone(), 0x77), 1);
    assert_eq!(n.client.resume_on_new_connection(n.now), 0);
    assert_ne!(n.client.session_id(), old_session);
    assert_eq!(n.client.salt(), 0x77);
    let p = n.client_packets();
    let plain = open(&new_key, &p[0]);
    assert_eq!(plain.session_id, n.client.session_id());
    assert_eq!(plain.messages[0].1, req(5));
    // Continue with a server on the new key.
    n.key = new_key.clone();
    n.server = ServerSession::new(new_key, 0x77, Config::default(), [3; 32]);
    n.deliver_to_server(&p);
    n.answer_all();
    let s = n.server_packets();
    n.deliver_to_client(&s);
    n.assert_answered_once(id, &req(5));
}

#[test]
fn cancelled_request_produces_no_event_and_is_not_resent() {
    let mut n = Net::new(14, Config::default());
    let a = n.client.enqueue(n.now, req(1));
    let b = n.client.enqueue(n.now, req(2));
    let _lost = n.client_packets();
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
        Event::Response { request, .. } | Event::RequestFailed { request, .. } if *request == a
    )));
}
