//! Fuzz entry points (not part of the stable API; feature `testing`).

use core::time::Duration;

use mtproto_crypto::packet::{encrypt_into_rng, Direction};
use rand::SeedableRng;

use crate::testing::{req, Pair, SALT};
use crate::wire::{seal_message, MessageHeader};

/// Feeds `data` to both session roles of a [`Pair`] that has already
/// exchanged a request (one answered, one in flight, so the sent log, the
/// replay window and the acks hold something): raw, as validly encrypted
/// plaintext (so it gets past the msg_key check), and as the body of a
/// well-formed message of the right session with a msg_id in the time
/// window. Must never panic.
pub fn session_incoming(data: &[u8]) {
    let mut p = Pair::new(0);
    p.enqueue(req(1));
    p.run();
    p.enqueue(req(2));
    let in_flight = p.take_client_packets();
    p.deliver_to_server(&in_flight);
    let now = p.now;
    let _ = p.client.handle_incoming(now, data);
    let _ = p.server.handle_incoming(now, data);

    let mut rng = rand_chacha::ChaCha20Rng::from_seed([3; 32]);
    let mut out = Vec::new();
    // 1. `data` as the whole plaintext (header included).
    if encrypt_into_rng(&p.key, Direction::ServerToClient, data, &mut rng, &mut out).is_ok() {
        let _ = p.client.handle_incoming(now, &out);
    }
    if encrypt_into_rng(&p.key, Direction::ClientToServer, data, &mut rng, &mut out).is_ok() {
        let _ = p.server.handle_incoming(now, &out);
    }
    // 2. `data` as the body of a well-formed message of the right session,
    //    with a msg_id in the time window.
    let (seqno, body) = match data.split_first() {
        Some((s, rest)) => (i32::from(*s), rest),
        None => (0, data),
    };
    let body = &body[..body.len() - body.len() % 4];
    let server_id = p.server.next_msg_id(now, false);
    let to_client = MessageHeader {
        salt: SALT,
        session_id: p.client.session_id(),
        msg_id: server_id,
        seqno,
    };
    if seal_message(
        &p.key,
        Direction::ServerToClient,
        &to_client,
        body,
        &mut out,
        &mut rng,
    )
    .is_ok()
    {
        let _ = p.client.handle_incoming(now, &out);
    }
    let to_server = MessageHeader {
        salt: SALT,
        session_id: p.client.session_id(),
        msg_id: (crate::msg_id::raw_msg_id(now, 0) & !3).wrapping_add(4096),
        seqno,
    };
    if seal_message(
        &p.key,
        Direction::ClientToServer,
        &to_server,
        body,
        &mut out,
        &mut rng,
    )
    .is_ok()
    {
        let _ = p.server.handle_incoming(now, &out);
    }
    // Drive both after the input.
    let later = now.add(Duration::from_secs(3600));
    for t in [now, later] {
        p.client.handle_timeout(t);
        p.server.handle_timeout(t);
        while p.client.poll_event().is_some() {}
        let _ = p.client.poll_transmit(t);
        let _ = p.server.poll_transmit(t);
        while p.server.poll_request().is_some() {}
    }
}
