//! TL encoding of the handshake objects (mtproto.tl, auth-key section).
//!
//! These few constructors are written by hand on top of the `mtproto-tl`
//! runtime so that the handshake does not depend on the generated schema
//! module; `tests/handshake.rs` checks them byte for byte against real
//! captures (grammers, core.telegram.org samples).
//!
//! Decoders are bounded: they use [`Reader`], which checks every length
//! against the bytes left before slicing.

use mtproto_tl::{write_tl_bytes, DecodeError, DecodeErrorKind, Reader, VECTOR_ID};

/// `req_pq#60469778 nonce:int128 = ResPQ;`
pub const REQ_PQ_ID: u32 = 0x6046_9778;
/// `req_pq_multi#be7e8ef1 nonce:int128 = ResPQ;`
pub const REQ_PQ_MULTI_ID: u32 = 0xbe7e_8ef1;
/// `resPQ#05162463 nonce:int128 server_nonce:int128 pq:bytes server_public_key_fingerprints:Vector<long> = ResPQ;`
pub const RES_PQ_ID: u32 = 0x0516_2463;
/// `p_q_inner_data#83c95aec`
pub const P_Q_INNER_DATA_ID: u32 = 0x83c9_5aec;
/// `p_q_inner_data_dc#a9f55f95`
pub const P_Q_INNER_DATA_DC_ID: u32 = 0xa9f5_5f95;
/// `p_q_inner_data_temp#3c6a84d4`
pub const P_Q_INNER_DATA_TEMP_ID: u32 = 0x3c6a_84d4;
/// `p_q_inner_data_temp_dc#56fddf88`
pub const P_Q_INNER_DATA_TEMP_DC_ID: u32 = 0x56fd_df88;
/// `req_DH_params#d712e4be nonce:int128 server_nonce:int128 p:bytes q:bytes public_key_fingerprint:long encrypted_data:bytes = Server_DH_Params;`
pub const REQ_DH_PARAMS_ID: u32 = 0xd712_e4be;
/// `server_DH_params_fail#79cb045d nonce:int128 server_nonce:int128 new_nonce_hash:int128 = Server_DH_Params;`
pub const SERVER_DH_PARAMS_FAIL_ID: u32 = 0x79cb_045d;
/// `server_DH_params_ok#d0e8075c nonce:int128 server_nonce:int128 encrypted_answer:bytes = Server_DH_Params;`
pub const SERVER_DH_PARAMS_OK_ID: u32 = 0xd0e8_075c;
/// `server_DH_inner_data#b5890dba nonce:int128 server_nonce:int128 g:int dh_prime:bytes g_a:bytes server_time:int = Server_DH_inner_data;`
pub const SERVER_DH_INNER_DATA_ID: u32 = 0xb589_0dba;
/// `client_DH_inner_data#6643b654 nonce:int128 server_nonce:int128 retry_id:long g_b:bytes = Client_DH_Inner_Data;`
pub const CLIENT_DH_INNER_DATA_ID: u32 = 0x6643_b654;
/// `set_client_DH_params#f5045f1f nonce:int128 server_nonce:int128 encrypted_data:bytes = Set_client_DH_params_answer;`
pub const SET_CLIENT_DH_PARAMS_ID: u32 = 0xf504_5f1f;
/// `dh_gen_ok#3bcbf734 nonce:int128 server_nonce:int128 new_nonce_hash1:int128`
pub const DH_GEN_OK_ID: u32 = 0x3bcb_f734;
/// `dh_gen_retry#46dc1fb9 nonce:int128 server_nonce:int128 new_nonce_hash2:int128`
pub const DH_GEN_RETRY_ID: u32 = 0x46dc_1fb9;
/// `dh_gen_fail#a69dae02 nonce:int128 server_nonce:int128 new_nonce_hash3:int128`
pub const DH_GEN_FAIL_ID: u32 = 0xa69d_ae02;

/// Most fingerprints a `resPQ` may list before we call it garbage.
const MAX_FINGERPRINTS: usize = 64;

fn unexpected(r: &Reader<'_>, id: u32, expected: &'static str) -> DecodeError {
    DecodeError::new(
        DecodeErrorKind::UnknownConstructor { id, expected },
        r.offset(),
    )
}

/// `req_pq` or `req_pq_multi`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ReqPq {
    /// `true` for `req_pq_multi`, `false` for the older `req_pq`.
    pub multi: bool,
    /// The client's nonce.
    pub nonce: [u8; 16],
}

impl ReqPq {
    /// Serializes the boxed object.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(20);
        let id = if self.multi {
            REQ_PQ_MULTI_ID
        } else {
            REQ_PQ_ID
        };
        out.extend_from_slice(&id.to_le_bytes());
        out.extend_from_slice(&self.nonce);
        out
    }

    /// Decodes exactly one `req_pq`/`req_pq_multi` from `buf`.
    pub fn from_bytes(buf: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf);
        let id = r.read_u32()?;
        let multi = match id {
            REQ_PQ_MULTI_ID => true,
            REQ_PQ_ID => false,
            _ => return Err(unexpected(&r, id, "req_pq_multi")),
        };
        let nonce = r.take_array()?;
        r.finish()?;
        Ok(Self { multi, nonce })
    }
}

/// `resPQ`.
#[derive(Clone, PartialEq, Eq)]
pub struct ResPq {
    /// Echo of the client's nonce.
    pub nonce: [u8; 16],
    /// The server's nonce.
    pub server_nonce: [u8; 16],
    /// `pq`, big-endian.
    pub pq: Vec<u8>,
    /// `server_public_key_fingerprints`.
    pub fingerprints: Vec<i64>,
}

impl ResPq {
    /// Serializes the boxed object.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + 8 * self.fingerprints.len());
        out.extend_from_slice(&RES_PQ_ID.to_le_bytes());
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&self.server_nonce);
        write_tl_bytes(&self.pq, &mut out);
        out.extend_from_slice(&VECTOR_ID.to_le_bytes());
        let n = i32::try_from(self.fingerprints.len()).unwrap_or(i32::MAX);
        out.extend_from_slice(&n.to_le_bytes());
        for fp in &self.fingerprints {
            out.extend_from_slice(&fp.to_le_bytes());
        }
        out
    }

    /// Decodes exactly one `resPQ` from `buf`.
    pub fn from_bytes(buf: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf);
        let id = r.read_u32()?;
        if id != RES_PQ_ID {
            return Err(unexpected(&r, id, "ResPQ"));
        }
        let nonce = r.take_array()?;
        let server_nonce = r.take_array()?;
        let pq = r.read_tl_bytes()?.to_vec();
        let vid = r.read_u32()?;
        if vid != VECTOR_ID {
            return Err(unexpected(&r, vid, "Vector<long>"));
        }
        let start = r.offset();
        let n = r.read_vector_len(8)?;
        if n > MAX_FINGERPRINTS {
            return Err(DecodeError::new(
                DecodeErrorKind::VectorTooLong { count: n },
                start,
            ));
        }
        let mut fingerprints = Vec::with_capacity(n);
        for _ in 0..n {
            fingerprints.push(r.read_i64()?);
        }
        r.finish()?;
        Ok(Self {
            nonce,
            server_nonce,
            pq,
            fingerprints,
        })
    }
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
            Self::Plain => P_Q_INNER_DATA_ID,
            Self::Dc { .. } => P_Q_INNER_DATA_DC_ID,
            Self::Temp { .. } => P_Q_INNER_DATA_TEMP_ID,
            Self::TempDc { .. } => P_Q_INNER_DATA_TEMP_DC_ID,
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

/// `p_q_inner_data` in any of its four forms. Holds `new_nonce` (secret), so
/// it has no `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct PqInnerData {
    /// Which constructor.
    pub variant: PqInnerVariant,
    /// `pq`, big-endian.
    pub pq: Vec<u8>,
    /// `p`, big-endian.
    pub p: Vec<u8>,
    /// `q`, big-endian.
    pub q: Vec<u8>,
    /// The client nonce.
    pub nonce: [u8; 16],
    /// The server nonce.
    pub server_nonce: [u8; 16],
    /// The client's secret new_nonce.
    pub new_nonce: [u8; 32],
}

impl PqInnerData {
    /// Serializes the boxed object.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(112);
        out.extend_from_slice(&self.variant.constructor_id().to_le_bytes());
        write_tl_bytes(&self.pq, &mut out);
        write_tl_bytes(&self.p, &mut out);
        write_tl_bytes(&self.q, &mut out);
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&self.server_nonce);
        out.extend_from_slice(&self.new_nonce);
        if let Some(dc) = self.variant.dc() {
            out.extend_from_slice(&dc.to_le_bytes());
        }
        if let Some(e) = self.variant.expires_in() {
            out.extend_from_slice(&e.to_le_bytes());
        }
        out
    }

    /// Reads one boxed `P_Q_inner_data` from `r`, leaving anything after it
    /// (RSA padding) unread.
    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let id = r.read_u32()?;
        if !matches!(
            id,
            P_Q_INNER_DATA_ID
                | P_Q_INNER_DATA_DC_ID
                | P_Q_INNER_DATA_TEMP_ID
                | P_Q_INNER_DATA_TEMP_DC_ID
        ) {
            return Err(unexpected(r, id, "P_Q_inner_data"));
        }
        let pq = r.read_tl_bytes()?.to_vec();
        let p = r.read_tl_bytes()?.to_vec();
        let q = r.read_tl_bytes()?.to_vec();
        let nonce = r.take_array()?;
        let server_nonce = r.take_array()?;
        let new_nonce = r.take_array()?;
        let variant = match id {
            P_Q_INNER_DATA_DC_ID => PqInnerVariant::Dc { dc: r.read_i32()? },
            P_Q_INNER_DATA_TEMP_ID => PqInnerVariant::Temp {
                expires_in: r.read_i32()?,
            },
            P_Q_INNER_DATA_TEMP_DC_ID => {
                let dc = r.read_i32()?;
                PqInnerVariant::TempDc {
                    dc,
                    expires_in: r.read_i32()?,
                }
            }
            _ => PqInnerVariant::Plain,
        };
        Ok(Self {
            variant,
            pq,
            p,
            q,
            nonce,
            server_nonce,
            new_nonce,
        })
    }
}

/// `req_DH_params`.
#[derive(Clone, PartialEq, Eq)]
pub struct ReqDhParams {
    /// Client nonce.
    pub nonce: [u8; 16],
    /// Server nonce.
    pub server_nonce: [u8; 16],
    /// `p`, big-endian.
    pub p: Vec<u8>,
    /// `q`, big-endian.
    pub q: Vec<u8>,
    /// `public_key_fingerprint`.
    pub fingerprint: i64,
    /// RSA-encrypted `p_q_inner_data` (256 bytes).
    pub encrypted_data: Vec<u8>,
}

impl ReqDhParams {
    /// Serializes the boxed object.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(320);
        out.extend_from_slice(&REQ_DH_PARAMS_ID.to_le_bytes());
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&self.server_nonce);
        write_tl_bytes(&self.p, &mut out);
        write_tl_bytes(&self.q, &mut out);
        out.extend_from_slice(&self.fingerprint.to_le_bytes());
        write_tl_bytes(&self.encrypted_data, &mut out);
        out
    }

    /// Decodes exactly one `req_DH_params` from `buf`.
    pub fn from_bytes(buf: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf);
        let id = r.read_u32()?;
        if id != REQ_DH_PARAMS_ID {
            return Err(unexpected(&r, id, "req_DH_params"));
        }
        let v = Self {
            nonce: r.take_array()?,
            server_nonce: r.take_array()?,
            p: r.read_tl_bytes()?.to_vec(),
            q: r.read_tl_bytes()?.to_vec(),
            fingerprint: r.read_i64()?,
            encrypted_data: r.read_tl_bytes()?.to_vec(),
        };
        r.finish()?;
        Ok(v)
    }
}

/// `Server_DH_Params`: `server_DH_params_ok` or `server_DH_params_fail`.
#[derive(Clone, PartialEq, Eq)]
pub enum ServerDhParams {
    /// `server_DH_params_ok`.
    Ok {
        /// Client nonce.
        nonce: [u8; 16],
        /// Server nonce.
        server_nonce: [u8; 16],
        /// AES-IGE encrypted `answer_with_hash`.
        encrypted_answer: Vec<u8>,
    },
    /// `server_DH_params_fail`.
    Fail {
        /// Client nonce.
        nonce: [u8; 16],
        /// Server nonce.
        server_nonce: [u8; 16],
        /// Lower 128 bits of SHA1(new_nonce).
        new_nonce_hash: [u8; 16],
    },
}

impl ServerDhParams {
    /// Serializes the boxed object.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Self::Ok {
                nonce,
                server_nonce,
                encrypted_answer,
            } => {
                out.reserve(40 + encrypted_answer.len());
                out.extend_from_slice(&SERVER_DH_PARAMS_OK_ID.to_le_bytes());
                out.extend_from_slice(nonce);
                out.extend_from_slice(server_nonce);
                write_tl_bytes(encrypted_answer, &mut out);
            }
            Self::Fail {
                nonce,
                server_nonce,
                new_nonce_hash,
            } => {
                out.extend_from_slice(&SERVER_DH_PARAMS_FAIL_ID.to_le_bytes());
                out.extend_from_slice(nonce);
                out.extend_from_slice(server_nonce);
                out.extend_from_slice(new_nonce_hash);
            }
        }
        out
    }

    /// Decodes exactly one `Server_DH_Params` from `buf`.
    pub fn from_bytes(buf: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf);
        let id = r.read_u32()?;
        let v = match id {
            SERVER_DH_PARAMS_OK_ID => Self::Ok {
                nonce: r.take_array()?,
                server_nonce: r.take_array()?,
                encrypted_answer: r.read_tl_bytes()?.to_vec(),
            },
            SERVER_DH_PARAMS_FAIL_ID => Self::Fail {
                nonce: r.take_array()?,
                server_nonce: r.take_array()?,
                new_nonce_hash: r.take_array()?,
            },
            _ => return Err(unexpected(&r, id, "Server_DH_Params")),
        };
        r.finish()?;
        Ok(v)
    }
}

/// `server_DH_inner_data`.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerDhInnerData {
    /// Client nonce.
    pub nonce: [u8; 16],
    /// Server nonce.
    pub server_nonce: [u8; 16],
    /// Generator.
    pub g: i32,
    /// The DH prime, big-endian.
    pub dh_prime: Vec<u8>,
    /// `g^a mod dh_prime`, big-endian.
    pub g_a: Vec<u8>,
    /// Server Unix time.
    pub server_time: i32,
}

impl ServerDhInnerData {
    /// Serializes the boxed object.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(564);
        out.extend_from_slice(&SERVER_DH_INNER_DATA_ID.to_le_bytes());
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&self.server_nonce);
        out.extend_from_slice(&self.g.to_le_bytes());
        write_tl_bytes(&self.dh_prime, &mut out);
        write_tl_bytes(&self.g_a, &mut out);
        out.extend_from_slice(&self.server_time.to_le_bytes());
        out
    }

    /// Reads one boxed `server_DH_inner_data` from `r`, leaving padding unread.
    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let id = r.read_u32()?;
        if id != SERVER_DH_INNER_DATA_ID {
            return Err(unexpected(r, id, "Server_DH_inner_data"));
        }
        Ok(Self {
            nonce: r.take_array()?,
            server_nonce: r.take_array()?,
            g: r.read_i32()?,
            dh_prime: r.read_tl_bytes()?.to_vec(),
            g_a: r.read_tl_bytes()?.to_vec(),
            server_time: r.read_i32()?,
        })
    }
}

/// `client_DH_inner_data`.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientDhInnerData {
    /// Client nonce.
    pub nonce: [u8; 16],
    /// Server nonce.
    pub server_nonce: [u8; 16],
    /// 0 on the first attempt, else the previous auth_key_aux_hash.
    pub retry_id: i64,
    /// `g^b mod dh_prime`, big-endian.
    pub g_b: Vec<u8>,
}

impl ClientDhInnerData {
    /// Serializes the boxed object.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(304);
        out.extend_from_slice(&CLIENT_DH_INNER_DATA_ID.to_le_bytes());
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&self.server_nonce);
        out.extend_from_slice(&self.retry_id.to_le_bytes());
        write_tl_bytes(&self.g_b, &mut out);
        out
    }

    /// Reads one boxed `client_DH_inner_data` from `r`, leaving padding unread.
    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let id = r.read_u32()?;
        if id != CLIENT_DH_INNER_DATA_ID {
            return Err(unexpected(r, id, "Client_DH_Inner_Data"));
        }
        Ok(Self {
            nonce: r.take_array()?,
            server_nonce: r.take_array()?,
            retry_id: r.read_i64()?,
            g_b: r.read_tl_bytes()?.to_vec(),
        })
    }
}

/// `set_client_DH_params`.
#[derive(Clone, PartialEq, Eq)]
pub struct SetClientDhParams {
    /// Client nonce.
    pub nonce: [u8; 16],
    /// Server nonce.
    pub server_nonce: [u8; 16],
    /// AES-IGE encrypted `data_with_hash`.
    pub encrypted_data: Vec<u8>,
}

impl SetClientDhParams {
    /// Serializes the boxed object.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(40 + self.encrypted_data.len());
        out.extend_from_slice(&SET_CLIENT_DH_PARAMS_ID.to_le_bytes());
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&self.server_nonce);
        write_tl_bytes(&self.encrypted_data, &mut out);
        out
    }

    /// Decodes exactly one `set_client_DH_params` from `buf`.
    pub fn from_bytes(buf: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf);
        let id = r.read_u32()?;
        if id != SET_CLIENT_DH_PARAMS_ID {
            return Err(unexpected(&r, id, "set_client_DH_params"));
        }
        let v = Self {
            nonce: r.take_array()?,
            server_nonce: r.take_array()?,
            encrypted_data: r.read_tl_bytes()?.to_vec(),
        };
        r.finish()?;
        Ok(v)
    }
}

/// Which `Set_client_DH_params_answer` constructor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DhGenKind {
    /// `dh_gen_ok` (carries new_nonce_hash1).
    Ok,
    /// `dh_gen_retry` (carries new_nonce_hash2).
    Retry,
    /// `dh_gen_fail` (carries new_nonce_hash3).
    Fail,
}

impl DhGenKind {
    /// The byte appended to new_nonce when hashing: 1, 2 or 3.
    pub fn hash_number(self) -> u8 {
        match self {
            Self::Ok => 1,
            Self::Retry => 2,
            Self::Fail => 3,
        }
    }
}

/// `dh_gen_ok` / `dh_gen_retry` / `dh_gen_fail`.
#[derive(Clone, PartialEq, Eq)]
pub struct DhGenAnswer {
    /// Which answer.
    pub kind: DhGenKind,
    /// Client nonce.
    pub nonce: [u8; 16],
    /// Server nonce.
    pub server_nonce: [u8; 16],
    /// `new_nonce_hash1/2/3`.
    pub new_nonce_hash: [u8; 16],
}

impl DhGenAnswer {
    /// Serializes the boxed object.
    pub fn to_bytes(&self) -> Vec<u8> {
        let id = match self.kind {
            DhGenKind::Ok => DH_GEN_OK_ID,
            DhGenKind::Retry => DH_GEN_RETRY_ID,
            DhGenKind::Fail => DH_GEN_FAIL_ID,
        };
        let mut out = Vec::with_capacity(52);
        out.extend_from_slice(&id.to_le_bytes());
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&self.server_nonce);
        out.extend_from_slice(&self.new_nonce_hash);
        out
    }

    /// Decodes exactly one `Set_client_DH_params_answer` from `buf`.
    pub fn from_bytes(buf: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf);
        let id = r.read_u32()?;
        let kind = match id {
            DH_GEN_OK_ID => DhGenKind::Ok,
            DH_GEN_RETRY_ID => DhGenKind::Retry,
            DH_GEN_FAIL_ID => DhGenKind::Fail,
            _ => return Err(unexpected(&r, id, "Set_client_DH_params_answer")),
        };
        let v = Self {
            kind,
            nonce: r.take_array()?,
            server_nonce: r.take_array()?,
            new_nonce_hash: r.take_array()?,
        };
        r.finish()?;
        Ok(v)
    }
}

/// The constructor id at the start of `buf`, if there are 4 bytes.
pub fn peek_constructor(buf: &[u8]) -> Option<u32> {
    Reader::new(buf).peek_u32().ok()
}
