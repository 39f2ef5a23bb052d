//! Telethon's `StringSession` (`telethon/sessions/string.py`): the version
//! character `1`, then URL-safe base64 of `dc_id:u8`, the server's IP (4 or
//! 16 bytes), `port:u16` (big-endian) and the 256-byte auth key: 352
//! characters of base64 after the version for IPv4, 368 for IPv6.
//!
//! ```
//! use mtproto_store::telethon;
//! // Made by Telethon 1.45: DC 1, 127.0.0.1:4430, a key of 0xab bytes.
//! let s = format!("1AX8AAAERTq{}s=", "urq6".repeat(85));
//! let (dc, addr, key) = telethon::import(&s).unwrap();
//! assert_eq!((dc, addr.to_string()), (1, "127.0.0.1:4430".to_owned()));
//! assert_eq!(key.as_bytes(), &[0xab; 256]);
//! assert_eq!(telethon::export(dc, addr, &key).unwrap(), s);
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use mtproto_crypto::AuthKey;

use crate::base64;
use crate::error::StoreError;
use crate::session::{StoredDc, StoredSession};

/// The version character Telethon writes first.
const CURRENT_VERSION: char = '1';

/// The DC, address and key of a Telethon `StringSession`.
pub fn import(text: &str) -> Result<(i32, SocketAddr, AuthKey), StoreError> {
    let text = text.trim();
    let body = text
        .strip_prefix(CURRENT_VERSION)
        .ok_or(StoreError::StringSession("unknown version (not 1)"))?;
    let b = base64::decode(body).ok_or(StoreError::StringSession("malformed base64"))?;
    let ip_len = match b.len() {
        263 => 4,
        275 => 16,
        _ => return Err(StoreError::StringSession("wrong length")),
    };
    let dc = i32::from(b[0]);
    let ip = match ip_len {
        4 => IpAddr::V4(Ipv4Addr::new(b[1], b[2], b[3], b[4])),
        _ => {
            let mut o = [0u8; 16];
            o.copy_from_slice(&b[1..17]);
            IpAddr::V6(Ipv6Addr::from(o))
        }
    };
    let at = 1 + ip_len;
    let port = u16::from_be_bytes([b[at], b[at + 1]]);
    let key = AuthKey::from_slice(&b[at + 2..])
        .map_err(|_| StoreError::StringSession("wrong key length"))?;
    Ok((dc, SocketAddr::new(ip, port), key))
}

/// The `StringSession` Telethon would write for this DC, address and key.
/// A DC id outside 0..=255 cannot be written (Telethon stores one byte).
pub fn export(dc: i32, addr: SocketAddr, key: &AuthKey) -> Result<String, StoreError> {
    let dc =
        u8::try_from(dc).map_err(|_| StoreError::StringSession("DC id does not fit one byte"))?;
    let mut b = Vec::with_capacity(275);
    b.push(dc);
    match addr.ip() {
        IpAddr::V4(ip) => b.extend_from_slice(&ip.octets()),
        IpAddr::V6(ip) => b.extend_from_slice(&ip.octets()),
    }
    b.extend_from_slice(&addr.port().to_be_bytes());
    b.extend_from_slice(key.as_bytes());
    Ok(format!("{CURRENT_VERSION}{}", base64::encode(&b)))
}

impl StoredSession {
    /// A session homed on the DC of a Telethon `StringSession`, with its
    /// key and address.
    pub fn from_telethon(text: &str) -> Result<Self, StoreError> {
        let (dc, addr, key) = import(text)?;
        let mut s = StoredSession::new(dc);
        *s.dc_mut(dc) = StoredDc {
            id: dc,
            addr: Some(addr),
            auth_key: Some(key),
            salt: 0,
            time_offset: 0,
        };
        Ok(s)
    }

    /// The home DC as a Telethon `StringSession`: `None` if its key or
    /// address is not known.
    pub fn to_telethon(&self) -> Option<Result<String, StoreError>> {
        let home = self.home()?;
        Some(export(home.id, home.addr?, home.auth_key.as_ref()?))
    }
}
