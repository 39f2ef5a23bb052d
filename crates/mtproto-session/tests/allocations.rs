//! No heap allocation per call on the client's request path, once warmed
//! up: `messages.setTyping` round trips through the sans-IO client session
//! (enqueue, poll_transmit_into, handle_incoming_in_place, poll_event),
//! answered by the server role in memory, with a counting global allocator
//! switched on only around the client's calls. The caller reuses buffers
//! the way the client driver does: one outgoing packet buffer, and the
//! answer's bytes become the next request's buffer. N calls must cost a
//! number of allocations bounded by a constant, not growing with N.
//!
//! The counts are taken on the test's own thread (the global counters are
//! read before and after each counted call, and this binary runs one test).
#![allow(clippy::unwrap_used)]

use std::alloc::System;
use std::cell::Cell;
use std::time::Duration;

use mtproto_session::session::{Admission, SessionEvent};
use mtproto_session::testing::Pair;
use mtproto_tl::api::{enums, functions};
use mtproto_tl::Serialize;
use stats_alloc::{StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

thread_local! {
    /// Allocations and reallocations counted so far on this thread.
    static COUNT: Cell<usize> = const { Cell::new(0) };
    /// The same, by phase: enqueue, transmit, receive, events.
    static PHASES: Cell<[usize; 4]> = const { Cell::new([0; 4]) };
}

/// Like [`counted`], also adding to phase `i`.
fn phase<R>(i: usize, f: impl FnOnce() -> R) -> R {
    let before = COUNT.with(Cell::get);
    let r = counted(f);
    let n = COUNT.with(Cell::get) - before;
    PHASES.with(|p| {
        let mut v = p.get();
        v[i] += n;
        p.set(v);
    });
    r
}

/// Runs `f` and adds the allocations and reallocations it made to [`COUNT`].
fn counted<R>(f: impl FnOnce() -> R) -> R {
    let before = GLOBAL.stats();
    let r = f();
    let after = GLOBAL.stats();
    let n = (after.allocations - before.allocations) + (after.reallocations - before.reallocations);
    COUNT.with(|c| c.set(c.get() + n));
    r
}

/// `messages.setTyping(inputPeerSelf, typing)` into `buf`.
fn set_typing(buf: &mut Vec<u8>) {
    buf.clear();
    functions::messages::SetTyping {
        peer: enums::InputPeer::InputPeerSelf,
        top_msg_id: None,
        action: enums::SendMessageAction::SendMessageTypingAction,
    }
    .serialize(buf);
}

/// `boolTrue`.
fn bool_true() -> Vec<u8> {
    let mut v = Vec::new();
    true.serialize(&mut v);
    v
}

/// `calls` round trips; returns the allocations counted in the last
/// `calls - warmup` of them.
fn round_trips(p: &mut Pair, calls: usize, warmup: usize) -> usize {
    let mut body = Vec::with_capacity(64);
    let mut out = Vec::with_capacity(1024);
    let mut back = Vec::with_capacity(1024);
    let answer = bool_true();
    for call in 0..calls {
        if call == warmup {
            COUNT.with(|c| c.set(0));
            PHASES.with(|p| p.set([0; 4]));
        }
        set_typing(&mut body);
        let now = p.client_now();
        let id = phase(0, || p.client.enqueue(now, std::mem::take(&mut body)));
        // Everything the client has to send (the request, maybe acks).
        while phase(1, || p.client.poll_transmit_into(now, &mut out)) {
            p.server
                .handle_incoming_with(p.now, &mut out, |_| Admission::Process)
                .unwrap();
        }
        while let Some((req, _)) = p.server.poll_request() {
            p.server.respond(req, Ok(answer.clone()));
        }
        while p.server.poll_transmit_into(p.now, &mut back) {
            phase(2, || p.client.handle_incoming_in_place(now, &mut back)).unwrap();
        }
        let mut answered = false;
        while let Some(ev) = phase(3, || p.client.poll_event()) {
            if let SessionEvent::Response { request, result } = ev {
                assert_eq!(request, id);
                let bytes = result.unwrap();
                assert_eq!(bytes, answer);
                body = bytes; // the next request is written into it
                answered = true;
            }
        }
        assert!(answered, "call {call} was answered");
        p.now = p.now.add(Duration::from_millis(1));
    }
    COUNT.with(Cell::get)
}

#[test]
fn the_request_path_does_not_allocate_per_call() {
    let mut p = Pair::new(7);
    // Warm up: the session's queues, maps and buffers reach their working
    // size (the sent log holds the last 16,384 msg_ids, two or three per
    // call); then 1,000 and 10,000 more calls cost the same.
    round_trips(&mut p, 20_000, 0);
    let small = round_trips(&mut p, 1_000, 0);
    let large = round_trips(&mut p, 10_000, 0);
    println!("allocations: {small} in 1,000 calls, {large} in 10,000 calls");
    println!(
        "by phase (enqueue, transmit, receive, events) in the 10,000: {:?}",
        PHASES.with(Cell::get)
    );
    assert!(
        large <= small.max(8),
        "allocations grow with the number of calls: {small} for 1,000, {large} for 10,000"
    );
    // A constant, and a small one: none are expected once warm (the answer
    // lands in the request's own buffer, the packet's scratch lists and the
    // sent log's id lists are kept and reused, the replay window is a ring).
    assert!(
        large <= 8,
        "{large} allocations in 10,000 calls: more than a constant"
    );
}
