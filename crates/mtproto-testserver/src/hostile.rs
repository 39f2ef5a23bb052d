//! A hostile server for researchers: [`Rule`]s the server breaks on every
//! occurrence, one at a time (`mtproto serve --violate RULE`), so that a
//! client can be checked to refuse each of them, by name.
//!
//! Handshake rules are broken inside the sans-IO server handshake
//! ([`HandshakeViolation`]); packet rules by a [`PacketTamper`] that opens
//! every sealed server packet with the auth key and seals something else;
//! transport rules at the framing.

use core::fmt;
use std::sync::OnceLock;

use mtproto_connection::{PacketTamper, Tampered};
use mtproto_crypto::packet::{self, Direction};
use mtproto_crypto::AuthKey;
use mtproto_session::handshake::server::HandshakeViolation;
use mtproto_session::session::Check;
use mtproto_tl::mtproto::types;
use mtproto_tl::{write_tl_bytes, Identifiable, GZIP_PACKED_ID};
use mtproto_transport::{TransportErrorCode, DEFAULT_MAX_FRAME_LEN};

/// A rule the hostile server breaks on every occurrence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// `resPQ.nonce` is not the client's nonce.
    ResPqNonce,
    /// `resPQ` offers only RSA fingerprints the client does not know.
    Fingerprints,
    /// `pq` is the square of a prime.
    Pq,
    /// `server_DH_params_ok.server_nonce` differs from `resPQ`'s.
    ServerNonce,
    /// The SHA1 in `answer_with_hash` does not match the answer.
    AnswerHash,
    /// `dh_prime` is not a safe prime.
    DhPrime,
    /// `g` is outside 2..=7.
    G,
    /// `g_a` is 1.
    GA,
    /// `dh_gen_ok.new_nonce_hash1` is wrong.
    NewNonceHash,
    /// Every packet's `msg_key` has a flipped bit.
    MsgKey,
    /// Every packet names another `auth_key_id`.
    AuthKeyId,
    /// Every packet is for another session.
    SessionId,
    /// Every packet carries more than 1024 bytes of padding.
    Padding,
    /// Every packet's `message_data_length` exceeds the plaintext.
    Length,
    /// Every packet's msg_id is even (a client's).
    MsgIdParity,
    /// Every packet's msg_id is ten minutes old.
    MsgIdWindow,
    /// Every packet is sent twice on the same connection.
    Replay,
    /// Every packet is a container holding a container.
    ContainerNesting,
    /// Every packet is a container whose message has a higher msg_id than it.
    ContainerOrder,
    /// Every packet is a container of four `gzip_packed` of 6 MiB of zeros
    /// (24 MiB inflated from about 24 KiB).
    GzipBomb,
    /// Every packet is a frame longer than the client's 16 MiB limit.
    HugeFrame,
    /// Every packet is replaced by transport error -429 (transport flood).
    TransportError,
}

impl Rule {
    /// Every rule, in the order `--list-violations` prints them.
    pub const ALL: &'static [Rule] = &[
        Rule::ResPqNonce,
        Rule::Fingerprints,
        Rule::Pq,
        Rule::ServerNonce,
        Rule::AnswerHash,
        Rule::DhPrime,
        Rule::G,
        Rule::GA,
        Rule::NewNonceHash,
        Rule::MsgKey,
        Rule::AuthKeyId,
        Rule::SessionId,
        Rule::Padding,
        Rule::Length,
        Rule::MsgIdParity,
        Rule::MsgIdWindow,
        Rule::Replay,
        Rule::ContainerNesting,
        Rule::ContainerOrder,
        Rule::GzipBomb,
        Rule::HugeFrame,
        Rule::TransportError,
    ];

    /// The rule's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Rule::ResPqNonce => "res-pq-nonce",
            Rule::Fingerprints => "fingerprints",
            Rule::Pq => "pq",
            Rule::ServerNonce => "server-nonce",
            Rule::AnswerHash => "answer-hash",
            Rule::DhPrime => "dh-prime",
            Rule::G => "g",
            Rule::GA => "g-a",
            Rule::NewNonceHash => "new-nonce-hash",
            Rule::MsgKey => "msg-key",
            Rule::AuthKeyId => "auth-key-id",
            Rule::SessionId => "session-id",
            Rule::Padding => "padding",
            Rule::Length => "length",
            Rule::MsgIdParity => "msg-id-parity",
            Rule::MsgIdWindow => "msg-id-window",
            Rule::Replay => "replay",
            Rule::ContainerNesting => "container-nesting",
            Rule::ContainerOrder => "container-order",
            Rule::GzipBomb => "gzip-bomb",
            Rule::HugeFrame => "huge-frame",
            Rule::TransportError => "transport-error",
        }
    }

    /// The rule called `name`.
    pub fn from_name(name: &str) -> Option<Rule> {
        Rule::ALL.iter().copied().find(|r| r.name() == name)
    }

    /// What the server does wrong.
    pub fn description(self) -> &'static str {
        match self {
            Rule::ResPqNonce => "resPQ carries another nonce than the client's",
            Rule::Fingerprints => "resPQ offers only unknown RSA key fingerprints",
            Rule::Pq => "pq is the square of a prime, not a product of two distinct primes",
            Rule::ServerNonce => "server_DH_params_ok carries another server_nonce",
            Rule::AnswerHash => "the SHA1 of answer_with_hash does not match the answer",
            Rule::DhPrime => "dh_prime is not a safe 2048-bit prime",
            Rule::G => "g = 9, outside 2..=7",
            Rule::GA => "g_a = 1, outside (1, dh_prime - 1)",
            Rule::NewNonceHash => "dh_gen_ok carries a wrong new_nonce_hash1",
            Rule::MsgKey => "every packet's msg_key has a flipped bit",
            Rule::AuthKeyId => "every packet names another auth_key_id",
            Rule::SessionId => "every packet is for another session_id",
            Rule::Padding => "every packet has more than 1024 bytes of padding",
            Rule::Length => "every packet's message_data_length exceeds the plaintext",
            Rule::MsgIdParity => "every packet's msg_id is even",
            Rule::MsgIdWindow => "every packet's msg_id is ten minutes old",
            Rule::Replay => "every packet is sent twice on the same connection",
            Rule::ContainerNesting => "every packet is a container inside a container",
            Rule::ContainerOrder => {
                "every packet is a container whose message has a higher msg_id than it"
            }
            Rule::GzipBomb => "every packet is a container of four gzip_packed of 6 MiB of zeros",
            Rule::HugeFrame => "every packet is a frame over the 16 MiB limit",
            Rule::TransportError => "every packet is replaced by transport error -429",
        }
    }

    /// What a client must say when it refuses the rule: the start of the
    /// check's name as our client reports it.
    pub fn client_check(self) -> &'static str {
        match self {
            Rule::ResPqNonce => "nonce mismatch",
            Rule::Fingerprints => "no known RSA key",
            Rule::Pq => "pq",
            Rule::ServerNonce => "server_nonce mismatch",
            Rule::AnswerHash => "SHA1 of the decrypted payload does not match",
            Rule::DhPrime => "dh_prime",
            Rule::G => "g = 9 is not in 2..=7",
            Rule::GA => "g_a is not in (1, dh_prime - 1)",
            Rule::NewNonceHash => "new_nonce_hash mismatch",
            Rule::MsgKey => Check::MsgKey.name(),
            Rule::AuthKeyId => Check::AuthKeyId.name(),
            Rule::SessionId => Check::SessionId.name(),
            Rule::Padding => Check::Padding.name(),
            Rule::Length => Check::Length.name(),
            Rule::MsgIdParity => Check::MsgIdParity.name(),
            Rule::MsgIdWindow => Check::TimeWindow.name(),
            Rule::Replay => Check::Replay.name(),
            Rule::ContainerNesting | Rule::ContainerOrder => Check::Container.name(),
            Rule::GzipBomb => Check::AmplificationBound.name(),
            Rule::HugeFrame => "exceeds the maximum",
            Rule::TransportError => "transport error -429",
        }
    }

    /// Whether the rule is broken during the handshake (the client cannot
    /// make a key).
    pub fn is_handshake(self) -> bool {
        self.handshake().is_some()
    }

    /// The handshake violation, for a handshake rule.
    pub(crate) fn handshake(self) -> Option<HandshakeViolation> {
        Some(match self {
            Rule::ResPqNonce => HandshakeViolation::ResPqNonce,
            Rule::Fingerprints => HandshakeViolation::Fingerprints,
            Rule::Pq => HandshakeViolation::Pq,
            Rule::ServerNonce => HandshakeViolation::ServerNonce,
            Rule::AnswerHash => HandshakeViolation::AnswerHash,
            Rule::DhPrime => HandshakeViolation::DhPrime,
            Rule::G => HandshakeViolation::G,
            Rule::GA => HandshakeViolation::GA,
            Rule::NewNonceHash => HandshakeViolation::NewNonceHash,
            _ => return None,
        })
    }

    /// The largest frame the server must be able to send for this rule.
    pub(crate) fn max_frame_len(self) -> usize {
        match self {
            Rule::HugeFrame => 2 * DEFAULT_MAX_FRAME_LEN,
            _ => DEFAULT_MAX_FRAME_LEN,
        }
    }

    /// The packet hook, for a packet or transport rule.
    pub(crate) fn tamper(self) -> Option<PacketTamper> {
        if self.is_handshake() {
            return None;
        }
        Some(Box::new(move |key: &AuthKey, packet: Vec<u8>| {
            tamper(self, key, packet)
        }))
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl core::str::FromStr for Rule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Rule::from_name(s).ok_or_else(|| format!("unknown rule {s:?} (see --list-violations)"))
    }
}

const DIR: Direction = Direction::ServerToClient;
/// auth_key_id and msg_key.
const EXTERNAL: usize = 24;
/// salt, session_id, msg_id, seqno, message_data_length.
const INTERNAL: usize = 32;

fn tamper(rule: Rule, key: &AuthKey, mut pkt: Vec<u8>) -> Tampered {
    match rule {
        Rule::MsgKey => {
            if let Some(b) = pkt.get_mut(8) {
                *b ^= 1;
            }
            Tampered::Send(vec![pkt])
        }
        Rule::AuthKeyId => {
            if let Some(b) = pkt.first_mut() {
                *b ^= 1;
            }
            Tampered::Send(vec![pkt])
        }
        Rule::Replay => Tampered::Send(vec![pkt.clone(), pkt]),
        Rule::HugeFrame => Tampered::Send(vec![vec![0u8; DEFAULT_MAX_FRAME_LEN + 64]]),
        Rule::TransportError => Tampered::TransportError(TransportErrorCode::TRANSPORT_FLOOD),
        _ => match open(key, &mut pkt) {
            Some(m) => Tampered::Send(vec![rewrite(rule, key, m)]),
            // Not a packet of ours: nothing to rewrite.
            None => Tampered::Send(vec![pkt]),
        },
    }
}

/// The plaintext fields of a server packet.
struct Plain {
    salt: i64,
    session_id: i64,
    msg_id: i64,
    seqno: i32,
    body: Vec<u8>,
}

fn le_i64(b: &[u8], at: usize) -> i64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(b.get(at..at + 8).unwrap_or(&[0; 8]));
    i64::from_le_bytes(a)
}

fn open(key: &AuthKey, pkt: &mut [u8]) -> Option<Plain> {
    let plain = packet::decrypt_raw_in_place(key, DIR, pkt).ok()?;
    let len = i32::from_le_bytes(plain.get(28..32)?.try_into().ok()?);
    let len = usize::try_from(len).ok()?;
    Some(Plain {
        salt: le_i64(plain, 0),
        session_id: le_i64(plain, 8),
        msg_id: le_i64(plain, 16),
        seqno: i32::from_le_bytes(plain.get(24..28)?.try_into().ok()?),
        body: plain.get(INTERNAL..INTERNAL + len)?.to_vec(),
    })
}

/// The plaintext of `m` with `len` as its message_data_length and `pad`
/// bytes of padding.
fn plaintext(m: &Plain, len: i32, pad: usize) -> Vec<u8> {
    let mut pt = Vec::with_capacity(INTERNAL + m.body.len() + pad);
    pt.extend_from_slice(&m.salt.to_le_bytes());
    pt.extend_from_slice(&m.session_id.to_le_bytes());
    pt.extend_from_slice(&m.msg_id.to_le_bytes());
    pt.extend_from_slice(&m.seqno.to_le_bytes());
    pt.extend_from_slice(&len.to_le_bytes());
    pt.extend_from_slice(&m.body);
    pt.resize(INTERNAL + m.body.len() + pad, 0x5a);
    pt
}

/// Encrypts a plaintext (padding included) whatever it holds: the hostile
/// server's own sealing, which checks nothing.
fn seal_raw(key: &AuthKey, mut pt: Vec<u8>) -> Vec<u8> {
    let mk = packet::msg_key(key, DIR, &pt);
    let kiv = packet::kdf(key, &mk, DIR);
    // The plaintext is always a multiple of 16 here.
    let _ = mtproto_crypto::ige::encrypt(&mut pt, &kiv.key, &kiv.iv);
    let mut out = Vec::with_capacity(EXTERNAL + pt.len());
    out.extend_from_slice(&key.id());
    out.extend_from_slice(&mk);
    out.extend_from_slice(&pt);
    out
}

/// A well-formed packet of `m` (valid length and padding).
fn seal(key: &AuthKey, m: &Plain) -> Vec<u8> {
    let len = i32::try_from(m.body.len()).unwrap_or(i32::MAX);
    let pad = packet::min_padding_len(INTERNAL + m.body.len());
    seal_raw(key, plaintext(m, len, pad))
}

/// `msg_container` holding one message per `(msg_id, seqno, body)`.
fn container(messages: &[(i64, i32, &[u8])]) -> Vec<u8> {
    let mut out = types::MsgContainer::CONSTRUCTOR_ID.to_le_bytes().to_vec();
    let count = u32::try_from(messages.len()).unwrap_or(0);
    out.extend_from_slice(&count.to_le_bytes());
    for (id, seqno, body) in messages {
        out.extend_from_slice(&id.to_le_bytes());
        out.extend_from_slice(&seqno.to_le_bytes());
        let len = i32::try_from(body.len()).unwrap_or(0);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(body);
    }
    out
}

fn ten_minutes_back(msg_id: i64) -> i64 {
    msg_id.wrapping_sub(600 << 32)
}

/// Applies `f` to the msg_id of every message of `body`, if it is a
/// `msg_container`.
fn shift_container_ids(body: &mut [u8], f: impl Fn(i64) -> i64) {
    if body.get(..4) != Some(&types::MsgContainer::CONSTRUCTOR_ID.to_le_bytes()[..]) {
        return;
    }
    let count = body
        .get(4..8)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map_or(0, u32::from_le_bytes);
    let mut at = 8usize;
    for _ in 0..count {
        let Some(id) = body.get(at..at + 8).map(|_| le_i64(body, at)) else {
            return;
        };
        let len = body
            .get(at + 12..at + 16)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map_or(0, u32::from_le_bytes);
        body[at..at + 8].copy_from_slice(&f(id).to_le_bytes());
        at = at + 16 + usize::try_from(len).unwrap_or(usize::MAX / 2);
    }
}

/// `gzip_packed` of 6 MiB of zeros (deflated once).
fn bomb() -> &'static [u8] {
    static BOMB: OnceLock<Vec<u8>> = OnceLock::new();
    BOMB.get_or_init(|| {
        let mut out = GZIP_PACKED_ID.to_le_bytes().to_vec();
        write_tl_bytes(&mtproto_tl::deflate(&vec![0u8; 6 << 20]), &mut out);
        out
    })
}

fn rewrite(rule: Rule, key: &AuthKey, mut m: Plain) -> Vec<u8> {
    // Server msg_ids keep their residue mod 4 when moved by multiples of 4.
    let below = |n: i64| m.msg_id.wrapping_sub(4 * n);
    match rule {
        Rule::SessionId => {
            m.session_id ^= 1;
            seal(key, &m)
        }
        Rule::Padding => {
            // Over 1024 bytes, keeping the plaintext a multiple of 16.
            let used = INTERNAL + m.body.len();
            let pad = 1025 + (16 - (used + 1025) % 16) % 16;
            let len = i32::try_from(m.body.len()).unwrap_or(i32::MAX);
            seal_raw(key, plaintext(&m, len, pad))
        }
        Rule::Length => {
            let len = i32::try_from(m.body.len() + 4096).unwrap_or(i32::MAX);
            let pad = packet::min_padding_len(INTERNAL + m.body.len());
            seal_raw(key, plaintext(&m, len, pad))
        }
        Rule::MsgIdParity => {
            m.msg_id &= !3;
            seal(key, &m)
        }
        Rule::MsgIdWindow => {
            // Every msg_id ten minutes back: the container's and those of
            // the messages in it, so that nothing but the time is wrong.
            m.msg_id = ten_minutes_back(m.msg_id);
            shift_container_ids(&mut m.body, ten_minutes_back);
            seal(key, &m)
        }
        Rule::ContainerNesting => {
            let inner = container(&[(below(2), m.seqno, &m.body)]);
            m.body = container(&[(below(1), 0, &inner)]);
            seal(key, &m)
        }
        Rule::ContainerOrder => {
            let above = m.msg_id.wrapping_add(4);
            m.body = container(&[(above, m.seqno, &m.body)]);
            seal(key, &m)
        }
        Rule::GzipBomb => {
            let b = bomb();
            m.body = container(&[
                (below(4), 1, b),
                (below(3), 1, b),
                (below(2), 1, b),
                (below(1), 1, b),
            ]);
            seal(key, &m)
        }
        _ => seal(key, &m),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut names: Vec<&str> = Rule::ALL.iter().map(|r| r.name()).collect();
        for r in Rule::ALL {
            assert_eq!(Rule::from_name(r.name()), Some(*r));
            assert_eq!(r.name().parse::<Rule>(), Ok(*r));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Rule::ALL.len());
        assert!("nope".parse::<Rule>().is_err());
    }

    #[test]
    fn rewritten_packets_open_with_the_key_unless_the_rule_breaks_that() {
        let key = AuthKey::from_bytes([7u8; 256]);
        let m = Plain {
            salt: 1,
            session_id: 2,
            msg_id: (1_700_000_000i64 << 32) | 1,
            seqno: 1,
            body: vec![0x11; 20],
        };
        let good = seal(&key, &m);
        let mut g = good.clone();
        let opened = open(&key, &mut g).map(|p| (p.session_id, p.msg_id, p.body));
        assert_eq!(opened, Some((2, m.msg_id, vec![0x11; 20])));
        // The session-level decryption refuses the padding and length rules.
        for (rule, want) in [(Rule::Padding, "padding"), (Rule::Length, "length")] {
            let mut pkt = rewrite(
                rule,
                &key,
                Plain {
                    body: m.body.clone(),
                    ..m
                },
            );
            let err = packet::decrypt_in_place(&key, DIR, &mut pkt).unwrap_err();
            assert!(
                format!("{err:?}").to_lowercase().contains(want),
                "{rule}: {err:?}"
            );
        }
    }
}
