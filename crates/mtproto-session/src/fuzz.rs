//! Fuzz entry points (not part of the stable API).

use core::time::Duration;

use mtproto_crypto::packet::{encrypt_into_rng, Direction};
use mtproto_crypto::AuthKey;
use rand::SeedableRng;

use crate::session::{ClientSession, Config, ServerSession};
use crate::wire::{seal_message, MessageHeader};
use crate::Timestamp;

/// The fixed key used by [`session_incoming`]: bytes 0x00..=0xff.
fn fuzz_key() -> AuthKey {
    let mut k = [0u8; 256];
    for (b, v) in k.iter_mut().zip(0u8..=255) {
        *b = v;
    }
    AuthKey::from_bytes(k)
}

/// Feeds `data` to both session roles, raw and as validly encrypted
/// plaintext (so it gets past the msg_key check), with a fixed auth key and
/// seed. Must never panic.
pub fn session_incoming(data: &[u8]) {
    let key = fuzz_key();
    let now = Timestamp::from_secs(1_700_000_000);
    let mut client = ClientSession::new(key.clone(), 0x1111, Config::default(), [7; 32]);
    let mut server = ServerSession::new(key.clone(), 0x1111, Config::default(), [9; 32]);
    let _ = client.handle_incoming(now, data);
    let _ = server.handle_incoming(now, data);

    let mut rng = rand_chacha::ChaCha20Rng::from_seed([3; 32]);
    let mut out = Vec::new();
    // 1. `data` as the whole plaintext (header included).
    if encrypt_into_rng(&key, Direction::ServerToClient, data, &mut rng, &mut out).is_ok() {
        let _ = client.handle_incoming(now, &out);
    }
    if encrypt_into_rng(&key, Direction::ClientToServer, data, &mut rng, &mut out).is_ok() {
        let _ = server.handle_incoming(now, &out);
    }
    // 2. `data` as the body of a well-formed message of the right session,
    //    with a msg_id in the time window.
    let (seqno, body) = match data.split_first() {
        Some((s, rest)) => (i32::from(*s), rest),
        None => (0, data),
    };
    let body = &body[..body.len() - body.len() % 4];
    let server_id = (crate::msg_id::raw_msg_id(now, 0) & !3) | 1;
    let to_client = MessageHeader {
        salt: 0x1111,
        session_id: client.session_id(),
        msg_id: server_id,
        seqno,
    };
    if seal_message(
        &key,
        Direction::ServerToClient,
        &to_client,
        body,
        &mut out,
        &mut rng,
    )
    .is_ok()
    {
        let _ = client.handle_incoming(now, &out);
    }
    let to_server = MessageHeader {
        salt: 0x1111,
        session_id: 0x2222,
        msg_id: server_id & !3,
        seqno,
    };
    if seal_message(
        &key,
        Direction::ClientToServer,
        &to_server,
        body,
        &mut out,
        &mut rng,
    )
    .is_ok()
    {
        let _ = server.handle_incoming(now, &out);
    }
    // Drive both after the input.
    let later = now.add(Duration::from_secs(3600));
    for t in [now, later] {
        client.handle_timeout(t);
        server.handle_timeout(t);
        while client.poll_event().is_some() {}
        let _ = client.poll_transmit(t);
        let _ = server.poll_transmit(t);
        while server.poll_request().is_some() {}
    }
}
