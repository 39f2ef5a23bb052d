//! Phase one of the server role: a client packet checked and decoded whole
//! (container rules, the msg_id checks of contained messages, valid TL, the
//! amplification bound), reading the session only.

use std::borrow::Cow;
use std::collections::BTreeSet;

use mtproto_tl::mtproto::{functions, types};
use mtproto_tl::{BareDeserialize, DecodeErrorKind, Identifiable, Limits, Reader, GZIP_PACKED_ID};

use super::ServerSession;
use crate::msg_id::msg_id_key;
use crate::wire::{parse_container, BadMsgCode, InnerMessage};
use crate::Timestamp;

/// One message of a client packet after phase one.
#[derive(Debug)]
pub(super) enum Planned {
    /// Refused with a bad_msg_notification of `code`; not processed.
    Notify {
        msg_id: i64,
        seqno: i32,
        code: BadMsgCode,
    },
    /// Received before (on any connection under this key): ignored.
    Duplicate,
    /// To process.
    Message {
        msg_id: i64,
        seqno: i32,
        what: Request,
    },
}

/// A decoded client message.
#[derive(Debug)]
pub(super) enum Request {
    Container,
    Ping(i64),
    PingDelayDisconnect(functions::PingDelayDisconnect),
    /// How many msg_ids it acknowledges.
    MsgsAck(u64),
    GetFutureSalts(i32),
    MsgsStateReq(Vec<i64>),
    MsgsStateInfo,
    MsgResendReq,
    /// An API query (inflated if it came `gzip_packed`).
    Query(Vec<u8>),
}

/// Why phase one refused a packet.
#[derive(Debug)]
pub(super) enum ScanError {
    /// A container rule broken, or malformed TL: "64: invalid container"
    /// for the whole packet.
    InvalidContainer,
    /// Over the amplification bound.
    Bound,
}

/// How deep `gzip_packed` may nest inside one client message.
const MAX_GZIP_DEPTH: u8 = 2;

/// Phase one over a client packet: checks and decodes every message,
/// reading the session only.
pub(super) struct Scan<'s> {
    session: &'s ServerSession,
    now: Timestamp,
    budget: usize,
    seen: BTreeSet<i64>,
    pub(super) out: Vec<Planned>,
}

impl<'s> Scan<'s> {
    pub(super) fn new(session: &'s ServerSession, now: Timestamp) -> Self {
        Self {
            session,
            now,
            budget: session.config.max_packet_inflation,
            seen: BTreeSet::new(),
            out: Vec::new(),
        }
    }

    fn charge(&mut self, n: usize) -> Result<(), ScanError> {
        self.budget = self.budget.checked_sub(n).ok_or(ScanError::Bound)?;
        Ok(())
    }

    fn reader<'b>(&self, body: &'b [u8]) -> Reader<'b> {
        Reader::with_limits(
            body,
            Limits {
                max_inflated_total: self.budget,
                ..Limits::DEFAULT
            },
        )
    }

    /// One message: the top-level one (`container` is `None`; its msg_id
    /// was checked already), or one inside the container `container`.
    pub(super) fn message(
        &mut self,
        m: InnerMessage<'_>,
        container: Option<i64>,
    ) -> Result<(), ScanError> {
        let msg_id = m.msg_id;
        if let Some(c) = container {
            // service_messages: "All messages in a container must have
            // msg_id lower than that of the container itself"; and a msg_id
            // identifies one message.
            if msg_id_key(msg_id) >= msg_id_key(c) || !self.seen.insert(msg_id) {
                return Err(ScanError::InvalidContainer);
            }
            // Messages inside a container pass the same msg_id checks as
            // top-level ones.
            if let Some(code) = self.session.msg_id_problem(msg_id, self.now) {
                self.out.push(Planned::Notify {
                    msg_id,
                    seqno: m.seqno,
                    code,
                });
                return Ok(());
            }
            if !self.session.replay.with(|w| w.is_fresh(msg_id)) {
                self.out.push(Planned::Duplicate);
                return Ok(());
            }
        }
        let mut r = self.reader(m.body);
        if r.peek_u32().ok() == Some(types::MsgContainer::CONSTRUCTOR_ID) {
            // "A container may not carry other simple containers."
            if container.is_some() {
                return Err(ScanError::InvalidContainer);
            }
            let bad = |_| ScanError::InvalidContainer;
            r.read_u32().map_err(bad)?;
            let inner = parse_container(&mut r).map_err(bad)?;
            r.finish().map_err(bad)?;
            self.out.push(Planned::Message {
                msg_id,
                seqno: m.seqno,
                what: Request::Container,
            });
            for im in inner {
                self.message(im, Some(msg_id))?;
            }
            return Ok(());
        }
        let what = self.body(Cow::Borrowed(m.body), 0)?;
        self.out.push(Planned::Message {
            msg_id,
            seqno: m.seqno,
            what,
        });
        Ok(())
    }

    fn body(&mut self, body: Cow<'_, [u8]>, depth: u8) -> Result<Request, ScanError> {
        let bad = |_| ScanError::InvalidContainer;
        let mut r = self.reader(&body);
        macro_rules! whole {
            ($t:ty) => {{
                let v = <$t>::deserialize_bare(&mut r).map_err(bad)?;
                r.finish().map_err(bad)?;
                v
            }};
        }
        let what = match r.read_u32().map_err(bad)? {
            types::MsgContainer::CONSTRUCTOR_ID => return Err(ScanError::InvalidContainer),
            GZIP_PACKED_ID => {
                if depth >= MAX_GZIP_DEPTH {
                    return Err(ScanError::InvalidContainer);
                }
                let inflated = match mtproto_tl::inflate_gzip_packed(&mut r) {
                    Ok(v) => v,
                    Err(e) if matches!(e.kind, DecodeErrorKind::GzipTooLarge { .. }) => {
                        return Err(ScanError::Bound)
                    }
                    Err(_) => return Err(ScanError::InvalidContainer),
                };
                r.finish().map_err(bad)?;
                self.charge(inflated.len())?;
                return self.body(Cow::Owned(inflated), depth + 1);
            }
            functions::Ping::CONSTRUCTOR_ID => Request::Ping(whole!(functions::Ping).ping_id),
            functions::PingDelayDisconnect::CONSTRUCTOR_ID => {
                Request::PingDelayDisconnect(whole!(functions::PingDelayDisconnect))
            }
            types::MsgsAck::CONSTRUCTOR_ID => {
                let n = whole!(types::MsgsAck).msg_ids.len();
                Request::MsgsAck(u64::try_from(n).unwrap_or(u64::MAX))
            }
            functions::GetFutureSalts::CONSTRUCTOR_ID => {
                Request::GetFutureSalts(whole!(functions::GetFutureSalts).num)
            }
            types::MsgsStateReq::CONSTRUCTOR_ID => {
                Request::MsgsStateReq(whole!(types::MsgsStateReq).msg_ids)
            }
            types::MsgsStateInfo::CONSTRUCTOR_ID => {
                whole!(types::MsgsStateInfo);
                Request::MsgsStateInfo
            }
            types::MsgResendReq::CONSTRUCTOR_ID => {
                whole!(types::MsgResendReq);
                Request::MsgResendReq
            }
            _ => Request::Query(match body {
                Cow::Owned(v) => v,
                Cow::Borrowed(b) => {
                    self.charge(b.len())?;
                    b.to_vec()
                }
            }),
        };
        Ok(what)
    }
}
