//! Glue between the handshake and the generated TL types of the auth-key
//! section of `mtproto.tl` ([`mtproto_tl::mtproto`]: `types`, `enums`,
//! `functions`), which do all encoding and decoding.
//!
//! Decoding is stricter than the generic TL runtime: unencrypted handshake
//! messages never carry `gzip_packed`, so a `gzip_packed` where an object is
//! expected is an unexpected constructor and a nested one cannot inflate
//! (the gzip size limit is 0). Every other check (lengths before slicing,
//! nesting depth) is the runtime's.
//!
//! The generated structs derive `Debug` over every field, `new_nonce`
//! included: the handshake never formats them, and errors only carry the
//! position and kind of a decoding failure, never field values.

use mtproto_tl::mtproto::{enums, types};
use mtproto_tl::{
    DecodeError, DecodeErrorKind, Deserialize, Identifiable, Limits, Reader, GZIP_PACKED_ID,
};

use super::error::ErrorKind;

/// Most fingerprints a `resPQ` may list before we call it garbage.
pub(crate) const MAX_FINGERPRINTS: usize = 64;

/// Reader limits for handshake bodies: shallow nesting, no gzip.
const LIMITS: Limits = Limits {
    max_depth: 8,
    max_gzip_size: 0,
    max_inflated_total: 0,
};

/// Maps a TL decoding error to a handshake error kind; a wrong constructor
/// becomes [`ErrorKind::UnexpectedConstructor`].
pub(crate) fn decode_error(e: DecodeError) -> ErrorKind {
    match e.kind {
        DecodeErrorKind::UnknownConstructor { id, .. } => ErrorKind::UnexpectedConstructor { id },
        _ => ErrorKind::Decode(e),
    }
}

#[cfg(feature = "server")]
/// The constructor id at the start of `body` (a decode error if shorter than 4 bytes).
pub(crate) fn peek_id(body: &[u8]) -> Result<u32, ErrorKind> {
    Reader::new(body).peek_u32().map_err(decode_error)
}

/// A reader over a handshake body with the handshake's limits.
pub(crate) fn reader(buf: &[u8]) -> Reader<'_> {
    Reader::with_limits(buf, LIMITS)
}

/// Reads one boxed `T` from the front of `r`, leaving anything after it
/// (padding) unread.
pub(crate) fn read<T: Deserialize>(r: &mut Reader<'_>) -> Result<T, ErrorKind> {
    if r.peek_u32().ok() == Some(GZIP_PACKED_ID) {
        return Err(ErrorKind::UnexpectedConstructor { id: GZIP_PACKED_ID });
    }
    T::deserialize(r).map_err(decode_error)
}

/// Decodes exactly one boxed `T` from a whole handshake body.
pub(crate) fn decode<T: Deserialize>(body: &[u8]) -> Result<T, ErrorKind> {
    let mut r = reader(body);
    let v = read(&mut r)?;
    r.finish().map_err(decode_error)?;
    Ok(v)
}

/// Which `p_q_inner_data` constructor, with its extra fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PqInnerVariant {
    /// `p_q_inner_data` (no dc; permanent key).
    Plain,
    /// `p_q_inner_data_dc dc:int` (permanent key).
    Dc {
        /// DC id (+10000 for test DCs, negative for media DCs).
        dc: i32,
    },
    /// `p_q_inner_data_temp expires_in:int` (temporary key, no dc).
    Temp {
        /// Lifetime in seconds.
        expires_in: i32,
    },
    /// `p_q_inner_data_temp_dc dc:int expires_in:int` (temporary key).
    TempDc {
        /// DC id.
        dc: i32,
        /// Lifetime in seconds.
        expires_in: i32,
    },
}

impl PqInnerVariant {
    /// The constructor id of this variant.
    pub fn constructor_id(self) -> u32 {
        match self {
            Self::Plain => types::PQInnerData::CONSTRUCTOR_ID,
            Self::Dc { .. } => types::PQInnerDataDc::CONSTRUCTOR_ID,
            Self::Temp { .. } => types::PQInnerDataTemp::CONSTRUCTOR_ID,
            Self::TempDc { .. } => types::PQInnerDataTempDc::CONSTRUCTOR_ID,
        }
    }

    /// `expires_in` for temporary-key variants.
    pub fn expires_in(self) -> Option<i32> {
        match self {
            Self::Temp { expires_in } | Self::TempDc { expires_in, .. } => Some(expires_in),
            _ => None,
        }
    }

    /// `dc` for the `_dc` variants.
    pub fn dc(self) -> Option<i32> {
        match self {
            Self::Dc { dc } | Self::TempDc { dc, .. } => Some(dc),
            _ => None,
        }
    }
}

/// The fields every `p_q_inner_data*` constructor shares.
pub(crate) struct PqInnerFields {
    pub pq: Vec<u8>,
    pub p: Vec<u8>,
    pub q: Vec<u8>,
    pub nonce: [u8; 16],
    pub server_nonce: [u8; 16],
    pub new_nonce: [u8; 32],
}

/// Builds the `p_q_inner_data*` constructor `variant` selects.
pub(crate) fn pq_inner_data(variant: PqInnerVariant, f: PqInnerFields) -> enums::PQInnerData {
    let PqInnerFields {
        pq,
        p,
        q,
        nonce,
        server_nonce,
        new_nonce,
    } = f;
    match variant {
        PqInnerVariant::Plain => types::PQInnerData {
            pq,
            p,
            q,
            nonce,
            server_nonce,
            new_nonce,
        }
        .into(),
        PqInnerVariant::Dc { dc } => types::PQInnerDataDc {
            pq,
            p,
            q,
            nonce,
            server_nonce,
            new_nonce,
            dc,
        }
        .into(),
        PqInnerVariant::Temp { expires_in } => types::PQInnerDataTemp {
            pq,
            p,
            q,
            nonce,
            server_nonce,
            new_nonce,
            expires_in,
        }
        .into(),
        PqInnerVariant::TempDc { dc, expires_in } => types::PQInnerDataTempDc {
            pq,
            p,
            q,
            nonce,
            server_nonce,
            new_nonce,
            dc,
            expires_in,
        }
        .into(),
    }
}

#[cfg(feature = "server")]
/// Splits a decoded `P_Q_inner_data` into its variant and shared fields.
pub(crate) fn split_pq_inner_data(d: enums::PQInnerData) -> (PqInnerVariant, PqInnerFields) {
    match d {
        enums::PQInnerData::PQInnerData(x) => (
            PqInnerVariant::Plain,
            PqInnerFields {
                pq: x.pq,
                p: x.p,
                q: x.q,
                nonce: x.nonce,
                server_nonce: x.server_nonce,
                new_nonce: x.new_nonce,
            },
        ),
        enums::PQInnerData::Dc(x) => (
            PqInnerVariant::Dc { dc: x.dc },
            PqInnerFields {
                pq: x.pq,
                p: x.p,
                q: x.q,
                nonce: x.nonce,
                server_nonce: x.server_nonce,
                new_nonce: x.new_nonce,
            },
        ),
        enums::PQInnerData::Temp(x) => (
            PqInnerVariant::Temp {
                expires_in: x.expires_in,
            },
            PqInnerFields {
                pq: x.pq,
                p: x.p,
                q: x.q,
                nonce: x.nonce,
                server_nonce: x.server_nonce,
                new_nonce: x.new_nonce,
            },
        ),
        enums::PQInnerData::TempDc(x) => (
            PqInnerVariant::TempDc {
                dc: x.dc,
                expires_in: x.expires_in,
            },
            PqInnerFields {
                pq: x.pq,
                p: x.p,
                q: x.q,
                nonce: x.nonce,
                server_nonce: x.server_nonce,
                new_nonce: x.new_nonce,
            },
        ),
    }
}
