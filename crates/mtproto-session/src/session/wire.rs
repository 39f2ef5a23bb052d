//! Wire forms of the MTProto envelopes and service messages the session
//! reads and writes.
//!
//! The envelopes (`msg_container`, `message`, `rpc_result`, `gzip_packed`) are
//! parsed by hand: the spec (service_messages) lists them as parsed manually,
//! and this is the hot path. Every read goes through the bounded
//! [`Reader`], so no input can make it read out of bounds or allocate more
//! than the input holds.

use mtproto_tl::{write_tl_bytes, DecodeError, DecodeErrorKind, Reader};

/// `rpc_result#f35c6d01 req_msg_id:long result:Object = RpcResult;`
pub const RPC_RESULT: u32 = 0xf35c_6d01;
/// `rpc_error#2144ca19 error_code:int error_message:string = RpcError;`
pub const RPC_ERROR: u32 = 0x2144_ca19;
/// `msg_container#73f1f8dc messages:vector<%Message> = MessageContainer;`
pub const MSG_CONTAINER: u32 = 0x73f1_f8dc;
/// `gzip_packed#3072cfa1 packed_data:bytes = Object;`
pub const GZIP_PACKED: u32 = mtproto_tl::GZIP_PACKED_ID;
/// `msgs_ack#62d6b459 msg_ids:Vector<long> = MsgsAck;`
pub const MSGS_ACK: u32 = 0x62d6_b459;
/// `bad_msg_notification#a7eff811 bad_msg_id:long bad_msg_seqno:int error_code:int`
pub const BAD_MSG_NOTIFICATION: u32 = 0xa7ef_f811;
/// `bad_server_salt#edab447b bad_msg_id:long bad_msg_seqno:int error_code:int new_server_salt:long`
pub const BAD_SERVER_SALT: u32 = 0xedab_447b;
/// `new_session_created#9ec20908 first_msg_id:long unique_id:long server_salt:long`
pub const NEW_SESSION_CREATED: u32 = 0x9ec2_0908;
/// `pong#347773c5 msg_id:long ping_id:long = Pong;`
pub const PONG: u32 = 0x3477_73c5;
/// `ping#7abe77ec ping_id:long = Pong;`
pub const PING: u32 = 0x7abe_77ec;
/// `ping_delay_disconnect#f3427b8c ping_id:long disconnect_delay:int = Pong;`
pub const PING_DELAY_DISCONNECT: u32 = 0xf342_7b8c;
/// `get_future_salts#b921bd04 num:int = FutureSalts;`
pub const GET_FUTURE_SALTS: u32 = 0xb921_bd04;
/// `future_salts#ae500895 req_msg_id:long now:int salts:vector<future_salt>`
pub const FUTURE_SALTS: u32 = 0xae50_0895;
/// `msg_detailed_info#276d3ec6 msg_id:long answer_msg_id:long bytes:int status:int`
pub const MSG_DETAILED_INFO: u32 = 0x276d_3ec6;
/// `msg_new_detailed_info#809db6df answer_msg_id:long bytes:int status:int`
pub const MSG_NEW_DETAILED_INFO: u32 = 0x809d_b6df;
/// `msgs_state_req#da69fb52 msg_ids:Vector<long> = MsgsStateReq;`
pub const MSGS_STATE_REQ: u32 = 0xda69_fb52;
/// `msgs_state_info#04deb57d req_msg_id:long info:string = MsgsStateInfo;`
pub const MSGS_STATE_INFO: u32 = 0x04de_b57d;
/// `msgs_all_info#8cc0d131 msg_ids:Vector<long> info:string = MsgsAllInfo;`
pub const MSGS_ALL_INFO: u32 = 0x8cc0_d131;
/// `msg_resend_req#7d861a08 msg_ids:Vector<long> = MsgResendReq;`
pub const MSG_RESEND_REQ: u32 = 0x7d86_1a08;

/// "MTProto container can have at have at most 1024 messages." (service_messages)
pub const MAX_CONTAINER_MESSAGES: usize = 1024;
/// "Max 8192 IDs are allowed per constructor." (service_messages_about_messages)
pub const MAX_IDS_PER_CONSTRUCTOR: usize = 8192;
/// Size of a `message` header inside a container: msg_id, seqno, bytes.
pub const MESSAGE_HEADER_LEN: usize = 16;

/// One message inside a `msg_container` (or the top-level message).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InnerMessage<'a> {
    /// Its msg_id.
    pub msg_id: i64,
    /// Its seqno.
    pub seqno: i32,
    /// Its body (exactly `bytes` bytes).
    pub body: &'a [u8],
}

fn invalid(offset: usize, v: i64) -> DecodeError {
    DecodeError::new(DecodeErrorKind::InvalidLength(v), offset)
}

/// Parses the body of a `msg_container` (its id already consumed):
/// `messages:vector<%message>`, each `msg_id:long seqno:int bytes:int body`.
pub fn parse_container<'a>(r: &mut Reader<'a>) -> Result<Vec<InnerMessage<'a>>, DecodeError> {
    // Each message is at least its 16-byte header plus a 4-byte body.
    let count = r.read_vector_len(MESSAGE_HEADER_LEN + 4)?;
    // "MTProto container can have at have at most 1024 messages."
    if count > MAX_CONTAINER_MESSAGES {
        return Err(DecodeError::new(
            DecodeErrorKind::VectorTooLong { count },
            r.offset(),
        ));
    }
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let msg_id = r.read_i64()?;
        let seqno = r.read_i32()?;
        let at = r.offset();
        let bytes = r.read_i32()?;
        // "bytes is the number of bytes in the body serialization" — a TL
        // object is a whole number of 4-byte words.
        let len = usize::try_from(bytes).map_err(|_| invalid(at, i64::from(bytes)))?;
        if len % 4 != 0 || len < 4 {
            return Err(invalid(at, i64::from(bytes)));
        }
        let body = r.take(len)?;
        out.push(InnerMessage {
            msg_id,
            seqno,
            body,
        });
    }
    Ok(out)
}

/// Writes one `message` (header and body) as it appears inside a container.
pub fn write_message(out: &mut Vec<u8>, msg_id: i64, seqno: i32, body: &[u8]) {
    out.extend_from_slice(&msg_id.to_le_bytes());
    out.extend_from_slice(&seqno.to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
}

/// `gzip_packed#3072cfa1 packed_data:bytes` around `data`.
pub fn write_gzip_packed(data: &[u8]) -> Vec<u8> {
    let packed = mtproto_tl::deflate(data);
    let mut out = Vec::with_capacity(packed.len() + 8);
    out.extend_from_slice(&GZIP_PACKED.to_le_bytes());
    write_tl_bytes(&packed, &mut out);
    out
}

/// `body`, or its `gzip_packed` form when `body` is longer than `threshold`
/// and packing makes it smaller.
pub fn maybe_gzip(body: Vec<u8>, threshold: usize) -> Vec<u8> {
    if body.len() <= threshold {
        return body;
    }
    let packed = write_gzip_packed(&body);
    if packed.len() < body.len() {
        packed
    } else {
        body
    }
}

/// Inflates a `gzip_packed` object (its constructor id already consumed)
/// and returns the inflated bytes, bounded by the reader's limits.
pub fn read_gzip(r: &mut Reader<'_>) -> Result<Vec<u8>, DecodeError> {
    mtproto_tl::read_gzip_packed(r, |inner| Ok(inner.take_rest().to_vec()))
}

/// `rpc_error` fields.
pub fn read_rpc_error(r: &mut Reader<'_>) -> Result<(i32, String), DecodeError> {
    let code = r.read_i32()?;
    let at = r.offset();
    let msg = r.read_tl_bytes()?;
    let msg = core::str::from_utf8(msg)
        .map_err(|_| DecodeError::new(DecodeErrorKind::InvalidUtf8, at))?
        .to_owned();
    Ok((code, msg))
}

/// Writes `rpc_error#2144ca19 error_code:int error_message:string`.
pub fn write_rpc_error(code: i32, message: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + message.len());
    out.extend_from_slice(&RPC_ERROR.to_le_bytes());
    out.extend_from_slice(&code.to_le_bytes());
    write_tl_bytes(message.as_bytes(), &mut out);
    out
}

/// Writes `rpc_result#f35c6d01 req_msg_id:long result:Object`.
pub fn write_rpc_result(req_msg_id: i64, result: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + result.len());
    out.extend_from_slice(&RPC_RESULT.to_le_bytes());
    out.extend_from_slice(&req_msg_id.to_le_bytes());
    out.extend_from_slice(result);
    out
}
