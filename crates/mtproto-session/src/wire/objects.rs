//! The envelopes around a message body (`rpc_result`, `rpc_error`,
//! `gzip_packed`) and the spec's limits on service messages.

use mtproto_tl::mtproto::types;
use mtproto_tl::{
    write_tl_bytes, BareDeserialize, DecodeError, Identifiable, Reader, Serialize, GZIP_PACKED_ID,
};

use crate::RpcError;

/// "MTProto container can have at have at most 1024 messages." (service_messages)
pub const MAX_CONTAINER_MESSAGES: usize = 1024;
/// "Max 8192 IDs are allowed per constructor." (service_messages_about_messages)
pub const MAX_IDS_PER_CONSTRUCTOR: usize = 8192;

/// `gzip_packed#3072cfa1 packed_data:bytes` around `data`.
pub fn write_gzip_packed(data: &[u8]) -> Vec<u8> {
    let packed = mtproto_tl::deflate(data);
    let mut out = Vec::with_capacity(packed.len() + 8);
    out.extend_from_slice(&GZIP_PACKED_ID.to_le_bytes());
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

/// Inflates a `gzip_packed` object (its constructor id already consumed),
/// bounded by the reader's limits.
pub fn read_gzip(r: &mut Reader<'_>) -> Result<Vec<u8>, DecodeError> {
    mtproto_tl::read_gzip_packed(r, |inner| Ok(inner.take_rest().to_vec()))
}

/// Writes `rpc_error#2144ca19 error_code:int error_message:string`.
pub fn write_rpc_error(error: &RpcError) -> Vec<u8> {
    types::RpcError {
        error_code: error.code,
        error_message: error.message(),
    }
    .to_bytes()
}

/// Writes `rpc_result#f35c6d01 req_msg_id:long result:Object` into `out`.
pub fn write_rpc_result(req_msg_id: i64, result: &[u8], out: &mut Vec<u8>) {
    out.reserve(12 + result.len());
    out.extend_from_slice(&types::RpcResult::CONSTRUCTOR_ID.to_le_bytes());
    out.extend_from_slice(&req_msg_id.to_le_bytes());
    out.extend_from_slice(result);
}

/// Decodes the `result` of an `rpc_result`: an `rpc_error` (through the
/// generated type), a `gzip_packed` object (inflated; it may itself hold an
/// `rpc_error`), or any other object as raw bytes.
pub fn decode_result(result: &[u8]) -> Result<Result<Vec<u8>, RpcError>, DecodeError> {
    let mut r = Reader::new(result);
    match r.read_u32()? {
        types::RpcError::CONSTRUCTOR_ID => Ok(Err(read_rpc_error(&mut r)?)),
        GZIP_PACKED_ID => {
            let inflated = read_gzip(&mut r)?;
            let mut ir = Reader::new(&inflated);
            if ir.peek_u32()? == types::RpcError::CONSTRUCTOR_ID {
                ir.read_u32()?;
                return Ok(Err(read_rpc_error(&mut ir)?));
            }
            Ok(Ok(inflated))
        }
        _ => Ok(Ok(result.to_vec())),
    }
}

/// The fields of an `rpc_error` (its constructor id already consumed).
fn read_rpc_error(r: &mut Reader<'_>) -> Result<RpcError, DecodeError> {
    let e = types::RpcError::deserialize_bare(r)?;
    Ok(RpcError::parse(e.error_code, &e.error_message))
}

/// "Max 8192 IDs are allowed per constructor" (service_messages_about_messages):
/// ids beyond that are ignored.
pub fn id_list(mut ids: Vec<i64>) -> Vec<i64> {
    ids.truncate(MAX_IDS_PER_CONSTRUCTOR);
    ids
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rpc_error_plain_and_gzipped() {
        // rpc_error#2144ca19 400 "PEER_ID_INVALID"
        let e = RpcError::parse(400, "PEER_ID_INVALID");
        let bytes = write_rpc_error(&e);
        assert_eq!(&bytes[..8], &[0x19, 0xca, 0x44, 0x21, 0x90, 0x01, 0, 0]);
        assert_eq!(decode_result(&bytes).unwrap(), Err(e.clone()));
        let packed = write_gzip_packed(&bytes);
        assert_eq!(decode_result(&packed).unwrap(), Err(e));
        assert_eq!(decode_result(&[1, 2, 3, 4]).unwrap(), Ok(vec![1, 2, 3, 4]));
        assert!(decode_result(&[0x19, 0xca, 0x44, 0x21, 1]).is_err());
    }
}
