//! The server handshake driver (feature `server`): unencrypted messages in,
//! unencrypted messages out, over the typed states of [`super::server`].

use rand::{CryptoRng, RngCore};

use super::{
    decode_plain, encode_plain, server, ErrorKind, HandshakeError, MsgIdSource, RsaScheme, Step,
    REMEMBER_ANSWERS_FOR,
};
use crate::msg_id::{MsgIdGenerator, MsgIdKind};
use crate::Timestamp;
use mtproto_crypto::AuthKey;

/// What the server driver wants done next.
#[allow(clippy::large_enum_variant)] // returned once per message; boxing buys nothing
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerStep {
    /// Send these bytes (a whole unencrypted message) to the client.
    Send(Vec<u8>),
    /// Send `reply` (the `dh_gen_ok` message); the handshake is complete.
    Done {
        /// The final unencrypted message for the client.
        reply: Vec<u8>,
        /// The key and how the client negotiated it.
        outcome: server::ServerOutcome,
    },
}

enum ServerState {
    ReqPq(Box<server::AwaitingReqPq>),
    ReqDh(Box<server::AwaitingReqDhParams>),
    SetClientDh(Box<server::AwaitingSetClientDhParams>),
    Finished,
}

/// The last request the server answered and the answer's TL body (both
/// already on the wire, so public).
struct Answered {
    request: Vec<u8>,
    reply: Vec<u8>,
}

/// The server handshake driver: unencrypted messages in, unencrypted
/// messages out.
///
/// It remembers its last answer: a byte-identical repeat of the request it
/// answered (a lost answer) gets that answer again, with a fresh `msg_id`,
/// for up to [`REMEMBER_ANSWERS_FOR`] after `req_pq`.
pub struct ServerHandshake<M: MsgIdSource = MsgIdGenerator> {
    state: ServerState,
    msg_ids: M,
    scheme: Option<RsaScheme>,
    last: Option<Answered>,
    /// When `req_pq` was answered.
    started: Option<Timestamp>,
    failure: Option<HandshakeError>,
}

impl ServerHandshake<MsgIdGenerator> {
    /// A server handshake with a fresh server-response msg_id generator.
    pub fn new(config: server::ServerConfig) -> Self {
        Self::with_msg_ids(config, MsgIdGenerator::new(MsgIdKind::ServerResponse))
    }
}

impl<M: MsgIdSource> ServerHandshake<M> {
    /// A server handshake whose outgoing msg_ids come from `msg_ids`.
    pub fn with_msg_ids(config: server::ServerConfig, msg_ids: M) -> Self {
        Self {
            state: ServerState::ReqPq(Box::new(server::AwaitingReqPq::new(config))),
            msg_ids,
            scheme: None,
            last: None,
            started: None,
            failure: None,
        }
    }

    /// The RSA scheme the client used for `req_DH_params`, once known.
    pub fn rsa_scheme(&self) -> Option<RsaScheme> {
        self.scheme
    }

    /// Why the handshake failed after the server answered `dh_gen_fail`
    /// ([`ErrorKind::RetriesExhausted`]); `None` otherwise. (Other failures
    /// are returned by [`Self::feed`] directly.)
    pub fn failure(&self) -> Option<&HandshakeError> {
        self.failure.as_ref()
    }

    /// Feeds one incoming unencrypted message from the client.
    ///
    /// `key_exists` is asked whether a new auth key's id is already taken; if
    /// so the server answers `dh_gen_retry` (pass `|_| false` to skip), and
    /// after [`server::SERVER_MAX_RETRIES`] retries `dh_gen_fail`: that comes
    /// back as [`ServerStep::Send`], the handshake is then finished and
    /// [`Self::failure`] says why.
    ///
    /// Any error ends the handshake and forgets the remembered answer.
    pub fn feed<R: RngCore + CryptoRng>(
        &mut self,
        incoming: &[u8],
        rng: &mut R,
        now: Timestamp,
        key_exists: impl FnMut(&AuthKey) -> bool,
    ) -> Result<ServerStep, HandshakeError> {
        // auth_key.html, "Error Handling (Lost Queries and Responses)": "If the
        // server has already sent a response to this query (exactly the same
        // request and not just similar: all the parameters during the repeat
        // request must take on the same values) but it did not get to the
        // client, the server will simply re-send the same response."
        let fresh = self
            .started
            .is_some_and(|t| now.since(t) <= REMEMBER_ANSWERS_FOR);
        if let (Some(last), Ok(msg), true) = (&self.last, decode_plain(incoming), fresh) {
            if msg.body == last.request.as_slice() {
                return Ok(ServerStep::Send(encode_plain(
                    self.msg_ids.next_msg_id(now),
                    &last.reply,
                )));
            }
        }
        // "The server may consider that if the client has already sent in the
        // next query using the data from the previous server response to the
        // specific client, the response is known to have been received by the
        // client and may be forgotten by the server."
        let result = self.step(incoming, rng, now, key_exists);
        if result.is_err() {
            self.last = None;
        }
        result
    }

    fn step<R: RngCore + CryptoRng>(
        &mut self,
        incoming: &[u8],
        rng: &mut R,
        now: Timestamp,
        key_exists: impl FnMut(&AuthKey) -> bool,
    ) -> Result<ServerStep, HandshakeError> {
        let state = core::mem::replace(&mut self.state, ServerState::Finished);
        let step = match &state {
            ServerState::ReqPq(_) => Step::ServerReqPq,
            ServerState::ReqDh(_) => Step::ServerReqDhParams,
            ServerState::SetClientDh(_) => Step::ServerSetClientDhParams,
            ServerState::Finished => {
                return Err(HandshakeError::new(
                    Step::ServerReqPq,
                    ErrorKind::OutOfOrder,
                ))
            }
        };
        let msg = decode_plain(incoming)
            .map_err(|e| HandshakeError::new(step, ErrorKind::Envelope(e)))?;
        let (next, body) = match state {
            ServerState::ReqPq(s) => {
                let (n, b) = (*s).handle_req_pq(msg.body, rng)?;
                self.started = Some(now);
                (ServerState::ReqDh(Box::new(n)), b)
            }
            ServerState::ReqDh(s) => {
                let (n, b) = (*s).handle_req_dh_params(msg.body, rng, now)?;
                self.scheme = Some(n.rsa_scheme());
                (ServerState::SetClientDh(Box::new(n)), b)
            }
            ServerState::SetClientDh(s) => {
                match (*s).answer_set_client_dh_params(msg.body, key_exists)? {
                    server::SetClientDhAnswer::Done(reply, outcome) => {
                        let out = encode_plain(self.msg_ids.next_msg_id(now), &reply);
                        self.remember(msg.body, reply);
                        return Ok(ServerStep::Done {
                            reply: out,
                            outcome,
                        });
                    }
                    server::SetClientDhAnswer::Retry(n, b) => {
                        (ServerState::SetClientDh(Box::new(n)), b)
                    }
                    server::SetClientDhAnswer::Fail(reply, error) => {
                        self.failure = Some(error);
                        (ServerState::Finished, reply)
                    }
                }
            }
            ServerState::Finished => return Err(HandshakeError::new(step, ErrorKind::OutOfOrder)),
        };
        self.state = next;
        let out = encode_plain(self.msg_ids.next_msg_id(now), &body);
        self.remember(msg.body, body);
        Ok(ServerStep::Send(out))
    }

    fn remember(&mut self, request: &[u8], reply: Vec<u8>) {
        self.last = Some(Answered {
            request: request.to_vec(),
            reply,
        });
    }

    /// Whether the handshake has finished (successfully or not).
    pub fn is_finished(&self) -> bool {
        matches!(self.state, ServerState::Finished)
    }
}
