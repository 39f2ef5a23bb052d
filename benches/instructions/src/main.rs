//! The hot paths, one at a time, for instruction counting under
//! `valgrind --tool=callgrind` (`benches/instructions/check.sh`, run in CI
//! against `benches/instructions/baseline.json`). Each path runs inside an
//! `#[inline(never)]` function whose name starts with `measured_`; callgrind
//! counts only inside those (`--toggle-collect`), so setup is not counted.
//!
//!   instructions NAME      runs one path ITERATIONS times
//!   instructions --names   lists the paths
//!
//! Wall-clock numbers are elsewhere (criterion); these counts are the same
//! on a busy machine and a quiet one, which is what a CI gate needs.

use std::hint::black_box;
use std::time::Duration;

use mtproto_crypto::packet::{self, AuthKey, Direction};
use mtproto_session::session::{Admission, SessionEvent};
use mtproto_session::testing::Pair;
use mtproto_tl::api::{enums, functions};
use mtproto_tl::{Deserialize, Serialize};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// Times each path runs in one measurement (the count is divided by it).
const ITERATIONS: u64 = 100;

/// The paths, by name.
const NAMES: [&str; 7] = [
    "set_typing_encode",
    "set_typing_decode",
    "packet_seal_64",
    "packet_open_64",
    "packet_seal_64k",
    "packet_open_64k",
    "session_round_trip",
];

fn set_typing() -> functions::messages::SetTyping {
    functions::messages::SetTyping {
        peer: enums::InputPeer::InputPeerSelf,
        top_msg_id: None,
        action: enums::SendMessageAction::SendMessageTypingAction,
    }
}

#[inline(never)]
fn measured_set_typing_encode(out: &mut Vec<u8>) {
    for _ in 0..ITERATIONS {
        out.clear();
        black_box(set_typing()).serialize(out);
        black_box(&out);
    }
}

#[inline(never)]
fn measured_set_typing_decode(bytes: &[u8]) {
    for _ in 0..ITERATIONS {
        black_box(functions::messages::SetTyping::from_bytes(black_box(bytes)).ok());
    }
}

/// A valid inner plaintext of `len` bytes (its message length field set).
fn inner_plaintext(len: usize) -> Vec<u8> {
    let mut p: Vec<u8> = (0..len).map(|i: usize| i.to_le_bytes()[0]).collect();
    p[28..32].copy_from_slice(&i32::try_from(len - 32).unwrap_or(i32::MAX).to_le_bytes());
    p
}

fn key() -> AuthKey {
    AuthKey::from_bytes(core::array::from_fn(|i| (i * 7 + 3).to_le_bytes()[0]))
}

#[inline(never)]
fn measured_packet_seal(key: &AuthKey, plain: &[u8], out: &mut Vec<u8>) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    for _ in 0..ITERATIONS {
        packet::encrypt_into_rng(key, Direction::ClientToServer, plain, &mut rng, out)
            .expect("seal");
        black_box(&out);
    }
}

#[inline(never)]
fn measured_packet_open(key: &AuthKey, sealed: &[u8], buf: &mut [u8]) {
    for _ in 0..ITERATIONS {
        buf.copy_from_slice(sealed);
        let m = packet::decrypt_in_place(key, Direction::ServerToClient, buf).expect("open");
        black_box(m.body.len());
    }
}

fn packet_paths(name: &str) {
    let len = if name.ends_with("64k") { 64 * 1024 } else { 64 };
    let key = key();
    let plain = inner_plaintext(len);
    if name.starts_with("packet_seal") {
        let mut out = Vec::with_capacity(len + 64);
        measured_packet_seal(&key, &plain, &mut out);
    } else {
        let mut sealed = Vec::new();
        packet::encrypt_into(
            &key,
            Direction::ServerToClient,
            &plain,
            &[9u8; 16],
            &mut sealed,
        )
        .expect("seal");
        let mut buf = sealed.clone();
        measured_packet_open(&key, &sealed, &mut buf);
    }
}

/// One setTyping round trip through the sans-IO client session: enqueue,
/// the packet out, the server's answer in, the event. The client's three
/// steps are each called through a `measured_*` wrapper once warm; the
/// server's side runs in between, uncounted.
fn client_enqueue(p: &mut Pair, body: Vec<u8>) {
    let now = p.client_now();
    black_box(p.client.enqueue(now, body));
}

fn client_transmit(p: &mut Pair, out: &mut Vec<u8>) -> bool {
    let now = p.client_now();
    p.client.poll_transmit_into(now, out)
}

fn client_receive(p: &mut Pair, packet: &mut [u8]) -> Option<Vec<u8>> {
    let now = p.client_now();
    p.client
        .handle_incoming_in_place(now, packet)
        .expect("accepted");
    let mut answer = None;
    while let Some(ev) = p.client.poll_event() {
        if let SessionEvent::Response { result, .. } = ev {
            answer = result.ok();
        }
    }
    answer
}

#[inline(never)]
fn measured_client_enqueue(p: &mut Pair, body: Vec<u8>) {
    client_enqueue(p, body);
}

#[inline(never)]
fn measured_client_transmit(p: &mut Pair, out: &mut Vec<u8>) -> bool {
    client_transmit(p, out)
}

#[inline(never)]
fn measured_client_receive(p: &mut Pair, packet: &mut [u8]) -> Option<Vec<u8>> {
    client_receive(p, packet)
}

/// The client's three steps of a round trip (plain or measured).
type ClientSteps = (
    fn(&mut Pair, Vec<u8>),
    fn(&mut Pair, &mut Vec<u8>) -> bool,
    fn(&mut Pair, &mut [u8]) -> Option<Vec<u8>>,
);

/// Rounds before counting: the session's queues and maps reach their
/// working size.
const WARM_UP: u64 = 20;

fn session_round_trips() {
    let mut p = Pair::new(3);
    let mut out = Vec::with_capacity(1024);
    let mut back = Vec::with_capacity(1024);
    let mut answer = Vec::new();
    true.serialize(&mut answer);
    let mut body = Vec::with_capacity(64);
    for round in 0..(ITERATIONS + WARM_UP) {
        let counted = round >= WARM_UP;
        let (enqueue, transmit, receive): ClientSteps = if counted {
            (
                measured_client_enqueue,
                measured_client_transmit,
                measured_client_receive,
            )
        } else {
            (client_enqueue, client_transmit, client_receive)
        };
        body.clear();
        set_typing().serialize(&mut body);
        enqueue(&mut p, std::mem::take(&mut body));
        while transmit(&mut p, &mut out) {
            p.server
                .handle_incoming_with(p.now, &mut out, |_| Admission::Process)
                .expect("server accepts");
        }
        while let Some((req, _)) = p.server.poll_request() {
            p.server.respond(req, Ok(answer.clone()));
        }
        while p.server.poll_transmit_into(p.now, &mut back) {
            if let Some(bytes) = receive(&mut p, &mut back) {
                assert_eq!(bytes, answer);
                body = bytes;
            }
        }
        p.now = p.now.add(Duration::from_millis(1));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(String::as_str);
    match name {
        None => {
            if args.iter().any(|a| a == "--names") {
                for n in NAMES {
                    println!("{n}");
                }
            } else {
                println!("instructions: give a path name (--names lists them); counted by benches/instructions/check.sh");
            }
        }
        Some("set_typing_encode") => measured_set_typing_encode(&mut Vec::with_capacity(64)),
        Some("set_typing_decode") => measured_set_typing_decode(&set_typing().to_bytes()),
        Some(n) if n.starts_with("packet_") && NAMES.contains(&n) => packet_paths(n),
        Some("session_round_trip") => session_round_trips(),
        Some(other) => {
            eprintln!("instructions: unknown path {other:?}");
            std::process::exit(2);
        }
    }
}
