//! Fuzz entry points (not part of the stable API; feature `testing`).

use core::time::Duration;

use mtproto_crypto::packet::{encrypt_into_rng, Direction};
use rand::SeedableRng;

use crate::testing::{req, Pair, SALT};
use crate::wire::objects::MAX_CONTAINER_MESSAGES;
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

/// What one payload template of [`GzipContainers`] holds once fully
/// inflated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GzipBody {
    /// An API query (an unknown constructor id, opaque to the session): handed
    /// to the caller through `poll_request`.
    Query,
    /// `msgs_ack` with `len / 8` msg_ids (decoded by the session).
    MsgsAck,
    /// `msgs_state_req` with `len / 8` msg_ids (decoded and kept until
    /// answered).
    MsgsStateReq,
}

/// A message body: `body`'s constructor followed by `len` bytes (rounded
/// down to whole words, at most [`GZIP_TEMPLATE_MAX`]) of `fill`, or of
/// pseudo-random bytes seeded by `fill` when `random` (at most
/// [`GZIP_RANDOM_MAX`] of them, so they stay quick to deflate).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GzipTemplate {
    /// The body's kind.
    pub body: GzipBody,
    /// Payload bytes after the constructor (and vector header).
    pub len: usize,
    /// The fill byte, or the seed of the random bytes.
    pub fill: u8,
    /// Incompressible payload instead of a run of `fill`.
    pub random: bool,
}

/// One message of a [`GzipContainers`] packet: a template, wrapped in
/// `depth` levels of `gzip_packed` (0 = plain; the server refuses a third
/// level as an invalid container).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GzipMessage {
    /// Index into [`GzipContainers::templates`] (taken modulo their count).
    pub template: usize,
    /// Levels of `gzip_packed` around the body, 0..=3.
    pub depth: u8,
}

/// A client->server packet holding a container of messages with nested
/// `gzip_packed` bodies (see [`session_gzip_containers`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GzipContainers {
    /// The bodies messages are built from (at most 4 are used).
    pub templates: Vec<GzipTemplate>,
    /// The container's messages (at most 1024 are used, and as many as fit
    /// in [`GZIP_PACKET_MAX`] bytes of plaintext).
    pub messages: Vec<GzipMessage>,
    /// The server's [`Config::max_packet_inflation`](crate::session::Config::max_packet_inflation)
    /// (clamped to 1..=16 MiB).
    pub max_packet_inflation: usize,
}

/// The largest template payload: just over the default amplification
/// bound, so one message can exceed it alone.
pub const GZIP_TEMPLATE_MAX: usize = (16 << 20) + (64 << 10);
/// The largest incompressible template payload.
pub const GZIP_RANDOM_MAX: usize = 64 << 10;
/// The largest plaintext packet [`session_gzip_containers`] builds: the
/// harness's own copies of the packet stay small next to the bound.
pub const GZIP_PACKET_MAX: usize = 1 << 20;

/// What the server must do with a [`GzipContainers`] packet, computed the
/// way phase one charges it: the bytes each `gzip_packed` level inflates
/// to, and the bytes of a plain query copied out, in message order.
#[derive(Debug, PartialEq, Eq)]
enum Expect {
    /// Everything fits: processed.
    Fits,
    /// Over the bound before anything invalid: refused whole, nothing
    /// handed to the caller.
    Bound,
    /// A third `gzip_packed` level before the bound was crossed: "invalid
    /// container", nothing handed to the caller.
    Invalid,
}

/// The serialized body of `t`.
fn template_body(t: &GzipTemplate) -> Vec<u8> {
    use mtproto_tl::{mtproto::types, Identifiable};
    let cap = if t.random {
        GZIP_RANDOM_MAX
    } else {
        GZIP_TEMPLATE_MAX
    };
    let len = t.len.min(cap);
    let mut out = Vec::new();
    let payload = match t.body {
        GzipBody::Query => {
            out.extend_from_slice(&crate::testing::REQ_CTOR.to_le_bytes());
            len & !3
        }
        GzipBody::MsgsAck | GzipBody::MsgsStateReq => {
            let ctor = if t.body == GzipBody::MsgsAck {
                types::MsgsAck::CONSTRUCTOR_ID
            } else {
                types::MsgsStateReq::CONSTRUCTOR_ID
            };
            out.extend_from_slice(&ctor.to_le_bytes());
            out.extend_from_slice(&mtproto_tl::VECTOR_ID.to_le_bytes());
            let n = len / 8;
            out.extend_from_slice(&u32::try_from(n).unwrap_or(0).to_le_bytes());
            n * 8
        }
    };
    if t.random {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(u64::from(t.fill));
        let at = out.len();
        out.resize(at + payload, 0);
        rand::RngCore::fill_bytes(&mut rng, &mut out[at..]);
    } else {
        out.resize(out.len() + payload, t.fill);
    }
    out
}

/// `gzip_packed` around `inner`.
fn gzip_packed(inner: &[u8]) -> Vec<u8> {
    let mut out = mtproto_tl::GZIP_PACKED_ID.to_le_bytes().to_vec();
    mtproto_tl::write_tl_bytes(&mtproto_tl::deflate(inner), &mut out);
    out
}

/// A template's levels: `[body, gzip_packed(body), gzip_packed(gzip_packed(body)), ...]`
/// up to `depth`, and the lengths of every level (kept once the big ones
/// are dropped).
struct Levels {
    /// The wire bodies by depth, built as needed (a level is dropped once
    /// the next one is built, unless it is small).
    wire: [Option<Vec<u8>>; 4],
    /// `len[d]`: the length of level `d`.
    len: [usize; 4],
    body: GzipBody,
}

impl Levels {
    fn new(t: &GzipTemplate) -> Self {
        let body = template_body(t);
        let mut len = [0; 4];
        let mut wire: [Option<Vec<u8>>; 4] = [None, None, None, None];
        len[0] = body.len();
        let mut prev = body;
        for d in 1..4 {
            let next = gzip_packed(&prev);
            len[d] = next.len();
            // Keep small levels for plain messages; the 16 MiB body is only
            // needed to build its gzip_packed.
            if prev.len() <= GZIP_PACKET_MAX {
                wire[d - 1] = Some(prev);
            }
            prev = next;
        }
        wire[3] = Some(prev);
        Self {
            wire,
            len,
            body: t.body,
        }
    }
}

/// Feeds a fresh server session (`ServerSession` of a [`Pair`], valid key,
/// salt, session and msg_ids in the time window) one client packet: a
/// container of `spec.messages`, each a template's body under 0..=3 levels
/// of `gzip_packed`, so a small fuzz input can make the packet inflate to
/// far more than [`Config::max_packet_inflation`](crate::session::Config::max_packet_inflation).
///
/// # Panics
///
/// When the server's answer disagrees with the bound: a packet whose
/// inflated (and copied-out) bytes exceed the limit before anything
/// invalid in it must fail with `IncomingError::AmplificationBound { limit }`
/// and hand no request to the caller; one that fits must be processed
/// (every query in it handed over). Must not panic otherwise.
pub fn session_gzip_containers(spec: &GzipContainers) {
    use crate::session::{Config, IncomingError};
    use mtproto_tl::mtproto::types;
    use mtproto_tl::Identifiable;

    let limit = spec.max_packet_inflation.clamp(1, 16 << 20);
    let config = Config {
        max_packet_inflation: limit,
        ..Config::default()
    };
    let mut p = Pair::with_config(0, config);
    let now = p.now;

    let n = spec.templates.len().min(4);
    if n == 0 {
        return;
    }
    let messages = &spec.messages[..spec.messages.len().min(MAX_CONTAINER_MESSAGES)];
    // Only the templates some message uses are built (deflating 16 MiB
    // takes a while).
    let templates: Vec<Levels> = spec.templates[..n]
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let used = messages.iter().any(|m| m.template % n == i);
            Levels::new(&GzipTemplate {
                len: if used { t.len } else { 0 },
                ..*t
            })
        })
        .collect();

    // The container body, message by message, with the charges phase one
    // makes for each (until it would stop).
    let base = (crate::msg_id::raw_msg_id(now, 0) & !3).wrapping_add(4096);
    let mut container = types::MsgContainer::CONSTRUCTOR_ID.to_le_bytes().to_vec();
    container.extend_from_slice(&[0; 4]);
    let mut count = 0u32;
    let mut charged = 0usize;
    let mut expect = Expect::Fits;
    let mut queries = 0usize;
    for m in messages {
        let t = &templates[m.template % n];
        let depth = usize::from(m.depth.min(3));
        let Some(wire) = t.wire[depth].as_ref() else {
            continue;
        };
        if container.len() + 16 + wire.len() > GZIP_PACKET_MAX {
            continue;
        }
        count += 1;
        let msg_id = base.wrapping_add(4 * i64::from(count));
        container.extend_from_slice(&msg_id.to_le_bytes());
        let seqno = if t.body == GzipBody::Query {
            2 * i32::try_from(count).unwrap_or(0) + 1
        } else {
            2 * i32::try_from(count).unwrap_or(0)
        };
        container.extend_from_slice(&seqno.to_le_bytes());
        container.extend_from_slice(&u32::try_from(wire.len()).unwrap_or(0).to_le_bytes());
        container.extend_from_slice(wire);
        if expect != Expect::Fits {
            continue;
        }
        // Phase one: inflating level d charges the length of level d - 1,
        // down to the body, or stops at a third level; a plain query is
        // copied out.
        let mut charges: Vec<usize> = (1..=depth).rev().map(|d| t.len[d - 1]).collect();
        let invalid = depth == 3;
        if invalid {
            charges.truncate(2);
        }
        if depth == 0 && t.body == GzipBody::Query {
            charges.push(t.len[0]);
        }
        for c in charges {
            charged = charged.saturating_add(c);
            if charged > limit {
                expect = Expect::Bound;
                break;
            }
        }
        if expect == Expect::Fits {
            if invalid {
                expect = Expect::Invalid;
            } else if t.body == GzipBody::Query {
                queries += 1;
            }
        }
    }
    container[4..8].copy_from_slice(&count.to_le_bytes());
    drop(templates);

    let header = MessageHeader {
        salt: SALT,
        session_id: p.client.session_id(),
        msg_id: base.wrapping_add(4 * (i64::from(count) + 1)),
        seqno: 0,
    };
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([5; 32]);
    let mut packet = Vec::new();
    if seal_message(
        &p.key,
        Direction::ClientToServer,
        &header,
        &container,
        &mut packet,
        &mut rng,
    )
    .is_err()
    {
        return;
    }
    drop(container);
    let result = p.server.handle_incoming(now, &packet);
    let mut handed = 0usize;
    while p.server.poll_request().is_some() {
        handed += 1;
    }
    match expect {
        Expect::Bound => {
            assert_eq!(
                result,
                Err(IncomingError::AmplificationBound { limit }),
                "{charged} bytes charged over the {limit} limit"
            );
            assert_eq!(handed, 0, "requests handed over from a refused packet");
        }
        Expect::Invalid => {
            assert_eq!(result, Ok(()), "a third gzip_packed level");
            assert_eq!(handed, 0, "requests handed over from an invalid container");
        }
        Expect::Fits => {
            assert_eq!(result, Ok(()), "{charged} bytes within the {limit} limit");
            assert_eq!(handed, queries, "queries handed over");
        }
    }
    let _ = p.server.poll_transmit(now);
}
