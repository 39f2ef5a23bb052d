//! The amplification bound against the example: one packet holding a
//! container of 1,024 messages, each `gzip_packed(gzip_packed(16 MiB of
//! zeros))` (about 200 KB on the wire, 16 GiB once inflated). Both session
//! roles refuse it whole with `IncomingError::AmplificationBound { limit:
//! 16 MiB }`, process nothing in it, and the heap grows by no more than what
//! one refused 16 MiB inflation costs.
//!
//! The heap is measured with a counting global allocator (`peak_alloc`):
//! the peak of live bytes during `handle_incoming`, over those live before
//! it. Tests in this binary run one at a time (`SERIAL`), since the counts
//! are process-wide.
#![allow(clippy::unwrap_used)]

use std::sync::Mutex;

use mtproto_crypto::packet::Direction;
use mtproto_session::session::{IncomingError, DEFAULT_MAX_PACKET_INFLATION};
use mtproto_session::testing::{Pair, SALT};
use mtproto_session::wire::{seal_message, MessageHeader};
use mtproto_tl::mtproto::types;
use mtproto_tl::{Identifiable, GZIP_PACKED_ID};
use peak_alloc::PeakAlloc;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

/// One measurement at a time (the counts are process-wide).
static SERIAL: Mutex<()> = Mutex::new(());

/// Messages in the container: the most a container may hold.
const MESSAGES: usize = 1024;

/// The most the heap may grow while a session refuses the packet: the one
/// inflation that crosses the bound is stopped at 16 MiB, and the counting
/// allocator (which cannot grow a block in place) counts its last growth,
/// from about 8 to 16 MiB, as 24 MiB; plus 2 MiB for the packet's copies and
/// the container's message list. Without the bound: 16 GiB.
const MAX_GROWTH: usize = DEFAULT_MAX_PACKET_INFLATION * 3 / 2 + (2 << 20);

/// `gzip_packed` around `inner`.
fn gzip_packed(inner: &[u8]) -> Vec<u8> {
    let mut out = GZIP_PACKED_ID.to_le_bytes().to_vec();
    mtproto_tl::write_tl_bytes(&mtproto_tl::deflate(inner), &mut out);
    out
}

/// `gzip_packed(gzip_packed(16 MiB of zeros))`, deflated once and reused by
/// every message.
fn bomb() -> Vec<u8> {
    let once = gzip_packed(&vec![0u8; 16 << 20]);
    gzip_packed(&once)
}

/// A `msg_container` of `ids.len()` messages, each with body `body`.
fn container(ids: &[i64], body: &[u8]) -> Vec<u8> {
    let mut out = types::MsgContainer::CONSTRUCTOR_ID.to_le_bytes().to_vec();
    out.extend_from_slice(&u32::try_from(ids.len()).unwrap().to_le_bytes());
    for (i, id) in ids.iter().enumerate() {
        out.extend_from_slice(&id.to_le_bytes());
        out.extend_from_slice(&(2 * i32::try_from(i).unwrap() + 1).to_le_bytes());
        out.extend_from_slice(&u32::try_from(body.len()).unwrap().to_le_bytes());
        out.extend_from_slice(body);
    }
    out
}

/// Runs `f` and returns its result with the peak heap growth during it.
fn peak_growth<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let start = ALLOC.current_usage();
    ALLOC.reset_peak_usage();
    let r = f();
    (r, ALLOC.peak_usage().saturating_sub(start))
}

fn refused() -> Result<(), IncomingError> {
    Err(IncomingError::AmplificationBound {
        limit: DEFAULT_MAX_PACKET_INFLATION,
    })
}

#[test]
fn server_refuses_1024_nested_gzip_bombs_whole() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let bomb = bomb();
    let mut p = Pair::new(0);
    let now = p.now;
    // Client msg_ids: divisible by 4, in the time window, the container's
    // the highest.
    let base = (mtproto_session::msg_id::raw_msg_id(now, 0) & !3) + 4096;
    let ids: Vec<i64> = (1..=MESSAGES as i64).map(|i| base + 4 * i).collect();
    let body = container(&ids, &bomb);
    let header = MessageHeader {
        salt: SALT,
        session_id: p.client.session_id(),
        msg_id: base + 4 * (MESSAGES as i64 + 1),
        seqno: 0,
    };
    let mut packet = Vec::new();
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    seal_message(
        &p.key,
        Direction::ClientToServer,
        &header,
        &body,
        &mut packet,
        &mut rng,
    )
    .unwrap();
    assert!(
        packet.len() < 400 << 10,
        "the packet is small: {} bytes",
        packet.len()
    );

    let (result, growth) = peak_growth(|| p.server.handle_incoming(now, &packet));
    assert_eq!(result, refused());
    assert!(
        p.server.poll_request().is_none(),
        "nothing from the packet handed over"
    );
    assert!(
        p.server.poll_transmit(now).is_none(),
        "nothing answered: the packet is refused unanswered"
    );
    assert!(
        growth <= MAX_GROWTH,
        "server heap grew by {growth} bytes (allowed {MAX_GROWTH})"
    );
    eprintln!(
        "server: {}-byte packet refused, heap peak growth {growth} bytes",
        packet.len()
    );
}

#[test]
fn client_refuses_1024_nested_gzip_bombs_whole() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let bomb = bomb();
    let mut p = Pair::new(0);
    let now = p.now;
    // Server msg_ids: odd, increasing; the container's the highest.
    let ids: Vec<i64> = (0..MESSAGES)
        .map(|_| p.server.next_msg_id(now, false))
        .collect();
    let body = container(&ids, &bomb);
    let header = MessageHeader {
        salt: SALT,
        session_id: p.client.session_id(),
        msg_id: p.server.next_msg_id(now, false),
        seqno: 0,
    };
    let mut packet = Vec::new();
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    seal_message(
        &p.key,
        Direction::ServerToClient,
        &header,
        &body,
        &mut packet,
        &mut rng,
    )
    .unwrap();

    let (result, growth) = peak_growth(|| p.client.handle_incoming(now, &packet));
    assert_eq!(result, refused());
    assert!(
        p.client.poll_event().is_none(),
        "nothing from the packet processed"
    );
    assert!(
        growth <= MAX_GROWTH,
        "client heap grew by {growth} bytes (allowed {MAX_GROWTH})"
    );
    eprintln!(
        "client: {}-byte packet refused, heap peak growth {growth} bytes",
        packet.len()
    );
}

#[test]
fn a_container_within_the_bound_is_processed() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // The control: 15 messages of gzip_packed(gzip_packed(1 MiB)) inflate to
    // 15 MiB plus the 15 middle layers, within 16 MiB: all handed over.
    let mut query = mtproto_session::testing::REQ_CTOR.to_le_bytes().to_vec();
    query.resize(1 << 20, 0);
    let small = gzip_packed(&gzip_packed(&query));
    let mut p = Pair::new(0);
    let now = p.now;
    let base = (mtproto_session::msg_id::raw_msg_id(now, 0) & !3) + 4096;
    let ids: Vec<i64> = (1..=15).map(|i| base + 4 * i).collect();
    let header = MessageHeader {
        salt: SALT,
        session_id: p.client.session_id(),
        msg_id: base + 4 * 16,
        seqno: 0,
    };
    let mut packet = Vec::new();
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    seal_message(
        &p.key,
        Direction::ClientToServer,
        &header,
        &container(&ids, &small),
        &mut packet,
        &mut rng,
    )
    .unwrap();
    assert_eq!(p.server.handle_incoming(now, &packet), Ok(()));
    let mut handed = 0;
    while let Some((_, q)) = p.server.poll_request() {
        assert_eq!(q, query);
        handed += 1;
    }
    assert_eq!(handed, 15);
}
