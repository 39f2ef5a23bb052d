//! Test support (feature `testing`, never in a default build): a client
//! and a server session joined in memory on a virtual clock, with seeded
//! randomness, shared by the session tests, the reconnect tests and the
//! fuzz targets.

use core::time::Duration;

use mtproto_crypto::packet::Direction;
use mtproto_crypto::AuthKey;
use mtproto_tl::mtproto::types;
use mtproto_tl::{Identifiable, Reader};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

use std::collections::VecDeque;

use crate::session::{
    Admission, ClientSession, Config, RequestError, RequestId, ServerSession, SessionEvent,
};
use crate::wire::{open, parse_container, BadMsgCode};
use crate::{Monotonic, Now, RpcError, Timestamp};

/// The virtual clock's start (2025-01-03, the official samples' time).
pub const START: u64 = 1_735_910_891;
/// The salt both sides start with.
pub const SALT: i64 = 0x0123_4567_89ab_cdef;
/// The constructor id of [`req`] bodies.
pub const REQ_CTOR: u32 = 0xdead_beef;
/// The constructor id of [`answer_for`] bodies.
pub const ANSWER_CTOR: u32 = 0x1111_1111;

/// A 256-byte auth key drawn from `seed`.
pub fn key(seed: u64) -> AuthKey {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut k = [0u8; 256];
    rng.fill_bytes(&mut k);
    AuthKey::from_bytes(k)
}

/// A request body: `REQ_CTOR n:long`.
pub fn req(n: u64) -> Vec<u8> {
    let mut v = REQ_CTOR.to_le_bytes().to_vec();
    v.extend_from_slice(&n.to_le_bytes());
    v
}

/// The test server's answer to a request: `ANSWER_CTOR` + the request body.
pub fn answer_for(body: &[u8]) -> Vec<u8> {
    let mut v = ANSWER_CTOR.to_le_bytes().to_vec();
    v.extend_from_slice(body);
    v
}

/// The monotonic reading the virtual clock gives for wall time `t` (the
/// pair runs both clocks as one: see [`Now`]'s `From<Timestamp>`).
pub fn mono(t: Timestamp) -> Monotonic {
    Now::from(t).mono
}

/// A decrypted client packet, opened with the wire layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlainPacket {
    /// The packet's session_id.
    pub session_id: i64,
    /// The packet's (top-level) msg_id.
    pub msg_id: i64,
    /// (msg_id, body) of each message: the container's contents, or the
    /// message itself.
    pub messages: Vec<(i64, Vec<u8>)>,
}

/// Opens a packet sent in direction `dir` under `key`.
///
/// # Panics
///
/// If the packet does not decrypt or its container does not parse (this is
/// a test helper).
#[allow(clippy::expect_used)]
pub fn open_packet(key: &AuthKey, dir: Direction, packet: &[u8]) -> PlainPacket {
    let mut buf = packet.to_vec();
    let m = open(key, dir, &mut buf).expect("packet decrypts");
    let mut r = Reader::new(m.body);
    let messages = if r.read_u32().ok() == Some(types::MsgContainer::CONSTRUCTOR_ID) {
        parse_container(&mut r)
            .expect("container parses")
            .into_iter()
            .map(|im| (im.msg_id, im.body.to_vec()))
            .collect()
    } else {
        vec![(m.header.msg_id, m.body.to_vec())]
    };
    PlainPacket {
        session_id: m.header.session_id,
        msg_id: m.header.msg_id,
        messages,
    }
}

/// A fault the pair injects into the server's handling of the next client
/// packet (through the server's admission policy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer the next packet with `bad_msg_notification` carrying this
    /// `error_code` (about the packet's top-level msg_id) instead of
    /// processing it.
    BadMsgNotification(BadMsgCode),
    /// Silently drop the next packet (as if it was lost).
    Drop,
}

impl Fault {
    /// The admission decision this fault stands for.
    pub fn admission(self) -> Admission {
        match self {
            Fault::BadMsgNotification(code) => Admission::Reject(code),
            Fault::Drop => Admission::Drop,
        }
    }
}

/// A client and a test server joined in memory on a virtual clock.
#[derive(Debug)]
pub struct Pair {
    /// The shared auth key.
    pub key: AuthKey,
    /// The client role.
    pub client: ClientSession,
    /// The server role.
    pub server: ServerSession,
    /// The true (server) time.
    pub now: Timestamp,
    /// How far the client's clock is off, in seconds.
    pub client_skew: i64,
    /// Whether [`run`](Self::run) answers requests automatically.
    pub auto_answer: bool,
    /// Every event the client reported, in order.
    pub events: Vec<SessionEvent>,
    /// Every packet the server sent during [`run`](Self::run), in order
    /// (for replay tests).
    pub server_log: Vec<Vec<u8>>,
    /// How many packets the client sent during [`run`](Self::run).
    pub client_packet_count: usize,
    config: Config,
    seed: u64,
    servers: u8,
    faults: VecDeque<Fault>,
}

impl Pair {
    /// A pair with default settings; `seed` decides the key and all
    /// randomness.
    pub fn new(seed: u64) -> Self {
        Self::with_config(seed, Config::default())
    }

    /// A pair whose sessions both use `config`.
    pub fn with_config(seed: u64, config: Config) -> Self {
        let k = key(seed);
        let mut s = [0u8; 32];
        s[..8].copy_from_slice(&seed.to_le_bytes());
        let client = ClientSession::new(k.clone(), SALT, config.clone(), s);
        s[31] = 1;
        let server = ServerSession::new(k.clone(), SALT, config.clone(), s);
        Self {
            key: k,
            client,
            server,
            now: Timestamp::from_secs(START),
            client_skew: 0,
            auto_answer: true,
            events: Vec::new(),
            server_log: Vec::new(),
            client_packet_count: 0,
            config,
            seed,
            servers: 1,
            faults: VecDeque::new(),
        }
    }

    /// The client's (possibly skewed) clock.
    pub fn client_now(&self) -> Timestamp {
        let secs = i128::from(self.now.as_secs()) + i128::from(self.client_skew);
        let secs = u64::try_from(secs.max(0)).unwrap_or(u64::MAX);
        Timestamp(secs.saturating_mul(1_000_000_000) + u64::from(self.now.subsec_nanos()))
    }

    /// Enqueues a request on the client at the client's time.
    pub fn enqueue(&mut self, body: Vec<u8>) -> RequestId {
        let now = self.client_now();
        self.client.enqueue(now, body)
    }

    /// A fresh server session: a new connection to a server that kept no
    /// state for this client session. A reconnect takes time (and the new
    /// server's msg_ids must not collide with the old one's).
    pub fn fresh_server(&mut self) {
        self.now = self.now.add(Duration::from_secs(1));
        let mut s = [0u8; 32];
        s[..8].copy_from_slice(&self.seed.to_le_bytes());
        self.servers = self.servers.wrapping_add(1);
        s[30] = self.servers;
        self.server = ServerSession::new(self.key.clone(), SALT, self.config.clone(), s);
    }

    /// Advances the virtual clock, runs both sides' timers and collects the
    /// client's events.
    pub fn advance(&mut self, d: Duration) {
        self.now = self.now.add(d);
        let cnow = self.client_now();
        self.client.handle_timeout(cnow);
        self.server.handle_timeout(self.now);
        self.collect();
    }

    /// Moves the client's events into [`events`](Self::events).
    pub fn collect(&mut self) {
        while let Some(e) = self.client.poll_event() {
            self.events.push(e);
        }
    }

    /// Every packet the client has to send now.
    pub fn take_client_packets(&mut self) -> Vec<Vec<u8>> {
        let now = self.client_now();
        std::iter::from_fn(|| self.client.poll_transmit(now)).collect()
    }

    /// Every packet the server has to send now.
    pub fn take_server_packets(&mut self) -> Vec<Vec<u8>> {
        let now = self.now;
        std::iter::from_fn(|| self.server.poll_transmit(now)).collect()
    }

    /// Queues a fault for the next client packet the server gets.
    pub fn inject_fault(&mut self, fault: Fault) {
        self.faults.push_back(fault);
    }

    /// Hands `packets` to the server (each through the next queued fault,
    /// if any).
    ///
    /// # Panics
    ///
    /// If the server rejects one.
    #[allow(clippy::expect_used)]
    pub fn deliver_to_server(&mut self, packets: &[Vec<u8>]) {
        for p in packets {
            let mut buf = p.clone();
            let fault = self.faults.pop_front();
            self.server
                .handle_incoming_with(self.now, &mut buf, |_| {
                    fault.map_or(Admission::Process, Fault::admission)
                })
                .expect("server accepts the packet");
        }
    }

    /// Hands `packets` to the client and collects its events.
    ///
    /// # Panics
    ///
    /// If the client rejects one.
    #[allow(clippy::expect_used)]
    pub fn deliver_to_client(&mut self, packets: &[Vec<u8>]) {
        let now = self.client_now();
        for p in packets {
            self.client
                .handle_incoming(now, p)
                .expect("client accepts the packet");
        }
        self.collect();
    }

    /// The server answers every request it has with [`answer_for`].
    pub fn answer_all(&mut self) {
        while let Some((id, body)) = self.server.poll_request() {
            self.server.respond(id, Ok(answer_for(&body)));
        }
    }

    /// Runs both sides until neither has anything to send (20 ms of virtual
    /// time per round trip).
    ///
    /// # Panics
    ///
    /// If they do not settle within 100 rounds, or a side rejects a packet.
    pub fn run(&mut self) {
        for _ in 0..100 {
            let c = self.take_client_packets();
            self.client_packet_count += c.len();
            self.deliver_to_server(&c);
            if self.auto_answer {
                self.answer_all();
            }
            let s = self.take_server_packets();
            self.server_log.extend(s.iter().cloned());
            self.deliver_to_client(&s);
            self.now = self.now.add(Duration::from_millis(20));
            if c.is_empty() && s.is_empty() {
                return;
            }
        }
        panic!("no quiescence");
    }

    /// Every result the client reported for `id`.
    pub fn responses(&self, id: RequestId) -> Vec<&Result<Vec<u8>, RpcError>> {
        self.events
            .iter()
            .filter_map(|e| match e {
                SessionEvent::Response { request, result } if *request == id => Some(result),
                _ => None,
            })
            .collect()
    }

    /// Every failure the client reported for `id`.
    pub fn failures(&self, id: RequestId) -> Vec<&RequestError> {
        self.events
            .iter()
            .filter_map(|e| match e {
                SessionEvent::RequestFailed { request, error } if *request == id => Some(error),
                _ => None,
            })
            .collect()
    }

    /// Asserts that `id` was answered exactly once, with [`answer_for`]`(body)`,
    /// and never failed.
    ///
    /// # Panics
    ///
    /// If it was not.
    pub fn assert_answered_once(&self, id: RequestId, body: &[u8]) {
        let r = self.responses(id);
        assert_eq!(r.len(), 1, "request {id:?}: {:?}", self.events);
        assert_eq!(r[0], &Ok(answer_for(body)));
        assert!(self.failures(id).is_empty(), "{:?}", self.events);
    }
}
