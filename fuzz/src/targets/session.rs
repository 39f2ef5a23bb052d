//! Fuzz targets for the encrypted session (`session_incoming`) and for its
//! amplification bound against crafted containers of nested `gzip_packed`
//! (`session_gzip_containers`).

use arbitrary::{Arbitrary, Unstructured};
use mtproto_session::fuzz::{GzipBody, GzipContainers, GzipMessage, GzipTemplate};

/// The encrypted session, both roles, fixed auth key: raw packets and the
/// input as validly encrypted plaintext (`mtproto_session::fuzz::session_incoming`).
pub fn session_incoming(data: &[u8]) {
    mtproto_session::fuzz::session_incoming(data);
}

/// A payload template as the fuzzer describes it.
#[derive(Arbitrary, Debug)]
struct Template {
    /// 0 query, 1 msgs_ack, 2 msgs_state_req (mod 3).
    body: u8,
    /// Payload length: `base << (shift % 10)` bytes, so lengths from 0 to
    /// 32 MiB (capped just over 16 MiB by the entry point) are all reachable.
    base: u16,
    shift: u8,
    fill: u8,
    random: bool,
}

/// One message: template index and `gzip_packed` depth (mod 4).
#[derive(Arbitrary, Debug)]
struct Message {
    template: u8,
    depth: u8,
}

/// The whole packet as the fuzzer describes it.
#[derive(Arbitrary, Debug)]
struct Spec {
    /// The server's `max_packet_inflation`: 16 MiB, 1 MiB or 64 KiB (mod 3),
    /// the smaller ones crossed with small templates (quick inputs).
    limit: u8,
    templates: Vec<Template>,
    /// Each entry repeated `1 + repeat` times, so 1024 messages are a few
    /// bytes of input.
    messages: Vec<(Message, u8)>,
}

/// `mtproto_session::fuzz::session_gzip_containers` on a structure read from
/// the input with `arbitrary`: up to 4 templates (query / msgs_ack /
/// msgs_state_req bodies of 0..16 MiB of one byte, or up to 64 KiB of random
/// bytes), up to 1024 messages each wrapping one in 0..=3 levels of
/// `gzip_packed`, against a server whose limit is 16 MiB, 1 MiB or 64 KiB.
/// The entry point asserts that a packet over the limit is refused whole
/// (`AmplificationBound`, nothing handed over) and one within it processed;
/// the accounting (`alloc_bound`) that the memory stays within the bound.
pub fn session_gzip_containers(data: &[u8]) {
    let Ok(spec) = Spec::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let templates = spec
        .templates
        .iter()
        .take(4)
        .map(|t| GzipTemplate {
            body: match t.body % 3 {
                0 => GzipBody::Query,
                1 => GzipBody::MsgsAck,
                _ => GzipBody::MsgsStateReq,
            },
            len: usize::from(t.base) << (t.shift % 10),
            fill: t.fill,
            random: t.random,
        })
        .collect();
    let mut messages = Vec::new();
    for (m, repeat) in &spec.messages {
        for _ in 0..=*repeat {
            if messages.len() < 1024 {
                messages.push(GzipMessage {
                    template: usize::from(m.template),
                    depth: m.depth % 4,
                });
            }
        }
    }
    mtproto_session::fuzz::session_gzip_containers(&GzipContainers {
        templates,
        messages,
        max_packet_inflation: match spec.limit % 3 {
            0 => 16 << 20,
            1 => 1 << 20,
            _ => 64 << 10,
        },
    });
}
