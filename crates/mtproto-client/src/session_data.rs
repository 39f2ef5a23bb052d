//! A saved session: auth key, salt, time offset and DC, so a session survives a restart.

use core::fmt;

use mtproto_crypto::AuthKey;

const MAGIC: &[u8; 4] = b"MTPS";
const VERSION: u8 = 1;
/// magic + version + dc + salt + time offset + key.
const LEN: usize = 4 + 1 + 4 + 8 + 8 + 256;

/// What a client needs to resume without a new handshake.
///
/// Binary form ([`to_bytes`](Self::to_bytes)): `"MTPS"`, version `1`, then
/// little-endian `dc_id:i32`, `salt:i64`, `time_offset:i64`, and the 256-byte
/// auth key (281 bytes). [`to_hex`](Self::to_hex) is the same as lowercase hex
/// (one line, for a text file). The `Debug` output never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionData {
    /// The DC this key belongs to.
    pub dc_id: i32,
    /// The permanent auth key.
    pub auth_key: AuthKey,
    /// The latest server salt.
    pub salt: i64,
    /// Server time minus local time, seconds.
    pub time_offset: i64,
}

impl fmt::Debug for SessionData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionData")
            .field("dc_id", &self.dc_id)
            .field(
                "auth_key_id",
                &format_args!("{:016x}", self.auth_key.id_u64()),
            )
            .field("time_offset", &self.time_offset)
            .finish_non_exhaustive()
    }
}

/// Why saved session bytes were rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionDataError {
    /// Not exactly 281 bytes.
    Length(usize),
    /// Does not start with `"MTPS"`.
    Magic,
    /// Unknown format version.
    Version(u8),
    /// Not valid hex.
    Hex,
}

impl fmt::Display for SessionDataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Length(n) => write!(f, "session data has {n} bytes, expected {LEN}"),
            Self::Magic => f.write_str("not session data (bad magic)"),
            Self::Version(v) => write!(f, "unsupported session data version {v}"),
            Self::Hex => f.write_str("session data is not valid hex"),
        }
    }
}

impl std::error::Error for SessionDataError {}

fn arr<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(s) = b.get(at..at + N) {
        out.copy_from_slice(s);
    }
    out
}

impl SessionData {
    /// The binary form (281 bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(LEN);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&self.dc_id.to_le_bytes());
        out.extend_from_slice(&self.salt.to_le_bytes());
        out.extend_from_slice(&self.time_offset.to_le_bytes());
        out.extend_from_slice(self.auth_key.as_bytes());
        out
    }

    /// Parses the binary form.
    pub fn from_bytes(b: &[u8]) -> Result<Self, SessionDataError> {
        if b.len() != LEN {
            return Err(SessionDataError::Length(b.len()));
        }
        if b.get(..4) != Some(&MAGIC[..]) {
            return Err(SessionDataError::Magic);
        }
        let version = b.get(4).copied().unwrap_or(0);
        if version != VERSION {
            return Err(SessionDataError::Version(version));
        }
        Ok(Self {
            dc_id: i32::from_le_bytes(arr(b, 5)),
            salt: i64::from_le_bytes(arr(b, 9)),
            time_offset: i64::from_le_bytes(arr(b, 17)),
            auth_key: AuthKey::from_bytes(arr(b, 25)),
        })
    }

    /// The binary form as lowercase hex.
    pub fn to_hex(&self) -> String {
        self.to_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parses [`to_hex`](Self::to_hex) output (surrounding whitespace ignored).
    pub fn from_hex(s: &str) -> Result<Self, SessionDataError> {
        let s = s.trim().as_bytes();
        if !s.len().is_multiple_of(2) {
            return Err(SessionDataError::Hex);
        }
        let nib = |c: u8| -> Result<u8, SessionDataError> {
            match c {
                b'0'..=b'9' => Ok(c - b'0'),
                b'a'..=b'f' => Ok(c - b'a' + 10),
                b'A'..=b'F' => Ok(c - b'A' + 10),
                _ => Err(SessionDataError::Hex),
            }
        };
        let mut out = Vec::with_capacity(s.len() / 2);
        for pair in s.chunks_exact(2) {
            if let [h, l] = pair {
                out.push(nib(*h)? << 4 | nib(*l)?);
            }
        }
        Self::from_bytes(&out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn round_trip() {
        let mut k = [0u8; 256];
        for (b, v) in k.iter_mut().zip(0u8..=255) {
            *b = v;
        }
        let d = SessionData {
            dc_id: 2,
            auth_key: AuthKey::from_bytes(k),
            salt: -5,
            time_offset: 3,
        };
        let b = d.to_bytes();
        assert_eq!(b.len(), 281);
        assert_eq!(&b[..9], b"MTPS\x01\x02\x00\x00\x00");
        assert_eq!(SessionData::from_bytes(&b).unwrap(), d);
        assert_eq!(SessionData::from_hex(&d.to_hex()).unwrap(), d);
        assert_eq!(
            SessionData::from_bytes(&b[..10]),
            Err(SessionDataError::Length(10))
        );
        assert_eq!(SessionData::from_hex("zz"), Err(SessionDataError::Hex));
        assert!(!format!("{d:?}").contains("auth_key:"));
    }
}
