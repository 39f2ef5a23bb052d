//! Phase one of the inbox: a packet is checked and decoded whole, reading
//! the session only (msg_id parity, container rules, the time window,
//! replays, valid TL, the amplification bound). One failure is an
//! [`IncomingError`] and nothing of the packet is processed.

use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Range;

use mtproto_tl::mtproto::types;
use mtproto_tl::{
    BareDeserialize, DecodeError, DecodeErrorKind, Identifiable, Limits, Reader, GZIP_PACKED_ID,
};

use super::ClientSession;
use crate::msg_id::msg_id_key;
use crate::session::{in_time_window, IncomingError};
use crate::wire::{parse_container, InnerMessage};
use crate::{Now, RpcError};

/// How deep `gzip_packed` may nest inside one message.
const MAX_GZIP_DEPTH: u8 = 2;

/// service_messages, "Simple Container".
const RULE_NESTED: &str = "A container may not carry other simple containers";
/// service_messages, "Simple Container".
const RULE_ORDER: &str =
    "All messages in a container must have msg_id lower than that of the container itself";
/// description: msg_id is "used uniquely to identify a message within a session".
const RULE_UNIQUE: &str = "msg_id used uniquely to identify a message within a session";

/// One message of a packet that passed phase one.
#[derive(Debug)]
pub(super) struct Checked {
    pub(super) msg_id: i64,
    pub(super) seqno: i32,
    /// Already received earlier: "if a message comes in with msg_id lower
    /// than all or equal to any of the stored values, the message is to be
    /// ignored".
    pub(super) duplicate: bool,
    pub(super) what: Decoded,
}

/// A decoded message body.
#[derive(Debug)]
pub(super) enum Decoded {
    /// The container itself (its messages follow it in the list).
    Container,
    RpcResult {
        req_msg_id: i64,
        result: Result<ResultBytes, RpcError>,
    },
    Pong {
        pong: types::Pong,
        body: Vec<u8>,
    },
    /// msgs_ack: its ids, these of [`Scratch::ids`].
    MsgsAck(Range<usize>),
    NewSessionCreated(types::NewSessionCreated),
    BadServerSalt(types::BadServerSalt),
    BadMsgNotification(types::BadMsgNotification),
    FutureSalts {
        salts: types::FutureSalts,
        body: Vec<u8>,
    },
    DetailedInfo {
        answer_msg_id: i64,
    },
    MsgsStateReq(types::MsgsStateReq),
    MsgResendReq(types::MsgResendReq),
    MsgsStateInfo(types::MsgsStateInfo),
    MsgsAllInfo(types::MsgsAllInfo),
    Update(Vec<u8>),
}

/// Where an answer's bytes are: in the packet (copied out in phase two,
/// into a buffer that needs no allocation), or inflated already.
#[derive(Debug)]
pub(super) enum ResultBytes {
    /// These bytes of the decrypted packet.
    InPacket(Range<usize>),
    /// Inflated from a `gzip_packed`.
    Owned(Vec<u8>),
}

/// What phase one fills, kept by the session between packets so that
/// checking one allocates nothing once they have grown.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    pub(super) out: Vec<Checked>,
    seen: HashSet<i64>,
    /// The ids of the packet's msgs_ack messages.
    pub(super) ids: Vec<i64>,
}

impl Decoded {
    /// Messages "to change server_salt and notifications of invalid client
    /// time" "may, nonetheless, be processed on the client even if the time
    /// appears to be 'incorrect'" (description). They are only acted upon if
    /// they name a msg_id this session recently sent.
    fn time_exempt(&self) -> bool {
        matches!(self, Self::BadServerSalt(_) | Self::BadMsgNotification(_))
    }
}

/// Phase one over one packet: checks and decodes, reading the session only.
pub(super) struct Scan<'s> {
    session: &'s ClientSession,
    now: Now,
    /// Bytes that may still be inflated or copied out of the packet.
    budget: usize,
    /// Where the decrypted packet lies in memory: answers inside it are
    /// named by their place in it ([`ResultBytes::InPacket`]).
    packet: Range<usize>,
    /// msg_ids seen in this packet, and the messages checked so far.
    pub(super) scratch: Scratch,
}

impl<'s> Scan<'s> {
    /// `packet`: where the packet's bytes lie (addresses), for
    /// [`ResultBytes::InPacket`].
    pub(super) fn new(
        session: &'s ClientSession,
        now: Now,
        packet: Range<usize>,
        scratch: Scratch,
    ) -> Self {
        let mut scratch = scratch;
        scratch.out.clear();
        scratch.seen.clear();
        scratch.ids.clear();
        Self {
            session,
            now,
            budget: session.config.max_packet_inflation,
            packet,
            scratch,
        }
    }

    /// `bytes`'s place in the packet, if it lies in it.
    fn in_packet(&self, bytes: &[u8]) -> Option<Range<usize>> {
        let start = bytes.as_ptr() as usize;
        (self.packet.start <= start && start + bytes.len() <= self.packet.end)
            .then(|| start - self.packet.start..start - self.packet.start + bytes.len())
    }

    fn over_budget(&self) -> IncomingError {
        IncomingError::AmplificationBound {
            limit: self.session.config.max_packet_inflation,
        }
    }

    /// Counts `n` bytes copied out of the packet.
    fn charge(&mut self, n: usize) -> Result<(), IncomingError> {
        match self.budget.checked_sub(n) {
            Some(left) => {
                self.budget = left;
                Ok(())
            }
            None => Err(self.over_budget()),
        }
    }

    fn copy(&mut self, bytes: &[u8]) -> Result<Vec<u8>, IncomingError> {
        self.charge(bytes.len())?;
        Ok(bytes.to_vec())
    }

    /// A reader whose inflation is bounded by what is left of the budget.
    fn reader<'b>(&self, body: &'b [u8]) -> Reader<'b> {
        Reader::with_limits(
            body,
            Limits {
                max_inflated_total: self.budget,
                ..Limits::DEFAULT
            },
        )
    }

    /// Inflates the `gzip_packed` in `r` (id consumed) within the budget.
    fn inflate(&mut self, msg_id: i64, r: &mut Reader<'_>) -> Result<Vec<u8>, IncomingError> {
        match mtproto_tl::inflate_gzip_packed(r) {
            Ok(v) => {
                self.charge(v.len())?;
                Ok(v)
            }
            Err(e) if matches!(e.kind, DecodeErrorKind::GzipTooLarge { .. }) => {
                Err(self.over_budget())
            }
            Err(error) => Err(IncomingError::Malformed { msg_id, error }),
        }
    }

    /// Checks one message (top-level, or inside the container `container`)
    /// and decodes it.
    pub(super) fn message(
        &mut self,
        m: InnerMessage<'_>,
        container: Option<i64>,
    ) -> Result<(), IncomingError> {
        let msg_id = m.msg_id;
        // description, "Important Checks": "msg_id has [...] odd parity for
        // messages from server to client".
        if msg_id & 1 == 0 {
            return Err(IncomingError::MsgIdParity { msg_id });
        }
        // service_messages: "All messages in a container must have msg_id
        // lower than that of the container itself."
        if container.is_some_and(|c| msg_id_key(msg_id) >= msg_id_key(c)) {
            return Err(IncomingError::Container {
                msg_id,
                rule: RULE_ORDER,
            });
        }
        // Unique within the container (the container's own id is above its
        // messages', by the rule above).
        if container.is_some() && !self.scratch.seen.insert(msg_id) {
            return Err(IncomingError::Container {
                msg_id,
                rule: RULE_UNIQUE,
            });
        }
        let s = self.session;
        // "if a message comes in with msg_id lower than all or equal to any
        // of the stored values, the message is to be ignored" — unless the
        // whole packet repeats one received on this very connection: a byte
        // stream does not duplicate packets, so that is a replay.
        let duplicate = !s.replay.is_fresh(msg_id);
        if duplicate && container.is_none() && s.replay.seen_on(msg_id, s.conn_epoch) {
            return Err(IncomingError::Replayed { msg_id });
        }
        let mut r = self.reader(m.body);
        if r.peek_u32().ok() == Some(types::MsgContainer::CONSTRUCTOR_ID) {
            // "A container may not carry other simple containers."
            if container.is_some() {
                return Err(IncomingError::Container {
                    msg_id,
                    rule: RULE_NESTED,
                });
            }
            let malformed = |error| IncomingError::Malformed { msg_id, error };
            r.read_u32().map_err(malformed)?;
            let inner = parse_container(&mut r).map_err(malformed)?;
            r.finish().map_err(malformed)?;
            let at = self.scratch.out.len();
            self.scratch.out.push(Checked {
                msg_id,
                seqno: m.seqno,
                duplicate,
                what: Decoded::Container,
            });
            for im in inner {
                self.message(im, Some(msg_id))?;
            }
            // A container holding only time-exempt messages is exempt too.
            let exempt = self.scratch.out[at + 1..]
                .iter()
                .all(|c| c.what.time_exempt());
            return self.time_window(msg_id, duplicate, exempt);
        }
        let what = self.body(msg_id, Cow::Borrowed(m.body), 0)?;
        let exempt = what.time_exempt();
        self.scratch.out.push(Checked {
            msg_id,
            seqno: m.seqno,
            duplicate,
            what,
        });
        self.time_window(msg_id, duplicate, exempt)
    }

    /// description, "Important Checks": "msg_id values that belong over 30
    /// seconds in the future or over 300 seconds in the past are to be
    /// ignored" — here, the whole packet is.
    fn time_window(&self, msg_id: i64, duplicate: bool, exempt: bool) -> Result<(), IncomingError> {
        if duplicate || exempt {
            return Ok(());
        }
        if in_time_window(msg_id, self.now.wall, self.session.time_offset()) {
            Ok(())
        } else {
            Err(IncomingError::TimeWindow { msg_id })
        }
    }

    /// Decodes a message body (not a container) at `gzip_packed` depth
    /// `depth`.
    fn body(
        &mut self,
        msg_id: i64,
        body: Cow<'_, [u8]>,
        depth: u8,
    ) -> Result<Decoded, IncomingError> {
        let malformed = |error| IncomingError::Malformed { msg_id, error };
        let mut r = self.reader(&body);
        let ctor = r.read_u32().map_err(malformed)?;
        macro_rules! whole {
            ($t:ty) => {{
                let v = <$t>::deserialize_bare(&mut r).map_err(malformed)?;
                r.finish().map_err(malformed)?;
                v
            }};
        }
        let what = match ctor {
            types::MsgContainer::CONSTRUCTOR_ID => {
                return Err(IncomingError::Container {
                    msg_id,
                    rule: RULE_NESTED,
                })
            }
            GZIP_PACKED_ID => {
                if depth >= MAX_GZIP_DEPTH {
                    let limit = u32::from(MAX_GZIP_DEPTH);
                    return Err(malformed(
                        r.error(DecodeErrorKind::DepthLimitExceeded { limit }),
                    ));
                }
                let inflated = self.inflate(msg_id, &mut r)?;
                r.finish().map_err(malformed)?;
                return self.body(msg_id, Cow::Owned(inflated), depth + 1);
            }
            types::RpcResult::CONSTRUCTOR_ID => {
                let req_msg_id = r.read_i64().map_err(malformed)?;
                let result = self.result(msg_id, r.take_rest())?;
                Decoded::RpcResult { req_msg_id, result }
            }
            types::Pong::CONSTRUCTOR_ID => {
                let pong = whole!(types::Pong);
                Decoded::Pong {
                    pong,
                    body: self.copy(&body)?,
                }
            }
            types::MsgsAck::CONSTRUCTOR_ID => {
                // msgs_ack#62d6b459 msg_ids:Vector<long>: read into the kept
                // id list (no allocation once it has grown).
                let start = self.scratch.ids.len();
                read_long_vector(&mut r, &mut self.scratch.ids).map_err(malformed)?;
                r.finish().map_err(malformed)?;
                Decoded::MsgsAck(start..self.scratch.ids.len())
            }
            types::NewSessionCreated::CONSTRUCTOR_ID => {
                Decoded::NewSessionCreated(whole!(types::NewSessionCreated))
            }
            types::BadServerSalt::CONSTRUCTOR_ID => {
                Decoded::BadServerSalt(whole!(types::BadServerSalt))
            }
            types::BadMsgNotification::CONSTRUCTOR_ID => {
                Decoded::BadMsgNotification(whole!(types::BadMsgNotification))
            }
            types::FutureSalts::CONSTRUCTOR_ID => {
                let salts = whole!(types::FutureSalts);
                Decoded::FutureSalts {
                    salts,
                    body: self.copy(&body)?,
                }
            }
            types::MsgDetailedInfo::CONSTRUCTOR_ID => Decoded::DetailedInfo {
                answer_msg_id: whole!(types::MsgDetailedInfo).answer_msg_id,
            },
            types::MsgNewDetailedInfo::CONSTRUCTOR_ID => Decoded::DetailedInfo {
                answer_msg_id: whole!(types::MsgNewDetailedInfo).answer_msg_id,
            },
            types::MsgsStateReq::CONSTRUCTOR_ID => {
                Decoded::MsgsStateReq(whole!(types::MsgsStateReq))
            }
            types::MsgResendReq::CONSTRUCTOR_ID => {
                Decoded::MsgResendReq(whole!(types::MsgResendReq))
            }
            types::MsgsStateInfo::CONSTRUCTOR_ID => {
                Decoded::MsgsStateInfo(whole!(types::MsgsStateInfo))
            }
            types::MsgsAllInfo::CONSTRUCTOR_ID => Decoded::MsgsAllInfo(whole!(types::MsgsAllInfo)),
            // Anything else is an update, kept as bytes (inflated ones are
            // moved, not copied).
            _ => Decoded::Update(match body {
                Cow::Owned(v) => v,
                Cow::Borrowed(b) => self.copy(b)?,
            }),
        };
        Ok(what)
    }

    /// The `result` of an `rpc_result`: an `rpc_error`, a `gzip_packed`
    /// object (inflated within the budget; it may hold an `rpc_error`), or
    /// any other object as bytes.
    fn result(
        &mut self,
        msg_id: i64,
        result: &[u8],
    ) -> Result<Result<ResultBytes, RpcError>, IncomingError> {
        let malformed = |error| IncomingError::Malformed { msg_id, error };
        let mut r = self.reader(result);
        match r.read_u32().map_err(malformed)? {
            types::RpcError::CONSTRUCTOR_ID => Ok(Err(read_rpc_error(&mut r).map_err(malformed)?)),
            GZIP_PACKED_ID => {
                let inflated = self.inflate(msg_id, &mut r)?;
                r.finish().map_err(malformed)?;
                let mut ir = Reader::new(&inflated);
                if ir.read_u32().ok() == Some(types::RpcError::CONSTRUCTOR_ID) {
                    return Ok(Err(read_rpc_error(&mut ir).map_err(malformed)?));
                }
                Ok(Ok(ResultBytes::Owned(inflated)))
            }
            _ => {
                // Copied out in phase two; counted against the budget now.
                self.charge(result.len())?;
                Ok(Ok(match self.in_packet(result) {
                    Some(range) => ResultBytes::InPacket(range),
                    None => ResultBytes::Owned(result.to_vec()),
                }))
            }
        }
    }
}

/// A boxed `Vector<long>` appended to `out`, as the generated decoder reads
/// it (a count the input can hold; a `gzip_packed` one through it).
fn read_long_vector(r: &mut Reader<'_>, out: &mut Vec<i64>) -> Result<(), DecodeError> {
    if r.peek_u32().ok() != Some(mtproto_tl::VECTOR_ID) {
        // A gzip_packed vector, or an error: the generic decoder says which.
        out.extend(<Vec<i64> as mtproto_tl::Deserialize>::deserialize(r)?);
        return Ok(());
    }
    r.read_u32()?;
    let count = r.read_vector_len(8)?;
    out.reserve(count);
    for _ in 0..count {
        out.push(r.read_i64()?);
    }
    Ok(())
}

/// The fields of an `rpc_error` (its constructor id consumed), exactly.
fn read_rpc_error(r: &mut Reader<'_>) -> Result<RpcError, DecodeError> {
    let e = types::RpcError::deserialize_bare(r)?;
    r.finish()?;
    Ok(RpcError::parse(e.error_code, &e.error_message))
}
