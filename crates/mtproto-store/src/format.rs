//! The session file format, version 1. All integers little-endian.
//!
//! | bytes | field |
//! |---|---|
//! | 4 | magic `"MTRS"` |
//! | 2 | format version (`u16`, [`VERSION`] = 1) |
//! | 4 | body length `N` (`u32`, at most [`MAX_BODY`]) |
//! | N | body |
//! | 4 | CRC-32 (IEEE) of everything before it |
//!
//! The body:
//!
//! | bytes | field |
//! |---|---|
//! | 4 | home DC id (`i32`) |
//! | 2 | DC count `D` (`u16`, at most [`MAX_DCS`]) |
//! | D × … | per DC: id `i32`; flags `u8` (bit 0: an address follows, bit 1: it is IPv6, bit 2: an auth key follows); address (4 or 16 bytes of IP, port `u16`); auth key (256 bytes); salt `i64`; time offset `i64` |
//! | 16 | update state: pts, qts, date, seq (`i32` each) |
//! | 4 | channel count `C` (`u32`) |
//! | C × 12 | per channel: id `i64`, pts `i32` |
//! | 4 | peer cache length `P` (`u32`) |
//! | P | the peer cache (`mtproto_peers::PeerCache::to_bytes`, itself versioned) |
//!
//! Nothing may follow the body but the checksum. A reader checks, in this
//! order: the magic, the version (an unknown one is
//! [`StoreError::Version`], never read as another), the length against the
//! bytes present ([`StoreError::Truncated`]), the checksum
//! ([`StoreError::Corrupt`]), then every count against the bytes left
//! before anything is allocated ([`StoreError::Malformed`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use mtproto_crypto::AuthKey;
use mtproto_peers::PeerCache;

use crate::error::StoreError;
use crate::session::{StoredDc, StoredSession, UpdateState};

/// `"MTRS"`.
pub const MAGIC: &[u8; 4] = b"MTRS";
/// The format version this build writes and reads.
pub const VERSION: u16 = 1;
/// Most DCs a file may list.
pub const MAX_DCS: usize = 64;
/// Largest body read (64 MiB: room for a peer cache at its bound).
pub const MAX_BODY: usize = 64 << 20;

const HAS_ADDR: u8 = 1;
const IPV6: u8 = 2;
const HAS_KEY: u8 = 4;

/// Bytes before the body: magic, version, length.
const HEADER: usize = 4 + 2 + 4;

fn count_u32(n: usize) -> [u8; 4] {
    u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes()
}

impl StoredSession {
    /// The file form (see [`format`](mod@crate::format)).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&self.home_dc.to_le_bytes());
        let dcs = &self.dcs[..self.dcs.len().min(MAX_DCS)];
        b.extend_from_slice(&u16::try_from(dcs.len()).unwrap_or(0).to_le_bytes());
        for dc in dcs {
            b.extend_from_slice(&dc.id.to_le_bytes());
            let mut flags = 0;
            if let Some(a) = dc.addr {
                flags |= HAS_ADDR;
                if a.is_ipv6() {
                    flags |= IPV6;
                }
            }
            if dc.auth_key.is_some() {
                flags |= HAS_KEY;
            }
            b.push(flags);
            if let Some(a) = dc.addr {
                match a.ip() {
                    IpAddr::V4(ip) => b.extend_from_slice(&ip.octets()),
                    IpAddr::V6(ip) => b.extend_from_slice(&ip.octets()),
                }
                b.extend_from_slice(&a.port().to_le_bytes());
            }
            if let Some(k) = &dc.auth_key {
                b.extend_from_slice(k.as_bytes());
            }
            b.extend_from_slice(&dc.salt.to_le_bytes());
            b.extend_from_slice(&dc.time_offset.to_le_bytes());
        }
        let u = &self.updates;
        for x in [u.pts, u.qts, u.date, u.seq] {
            b.extend_from_slice(&x.to_le_bytes());
        }
        b.extend_from_slice(&count_u32(u.channels.len()));
        for (id, pts) in &u.channels {
            b.extend_from_slice(&id.to_le_bytes());
            b.extend_from_slice(&pts.to_le_bytes());
        }
        let peers = self.peers.to_bytes();
        b.extend_from_slice(&count_u32(peers.len()));
        b.extend_from_slice(&peers);

        let mut out = Vec::with_capacity(HEADER + b.len() + 4);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&count_u32(b.len()));
        out.extend_from_slice(&b);
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Reads the file form; a [`StoreError`] for anything else.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StoreError> {
        let mut r = Cursor(bytes);
        if r.take(4).map_err(|_| StoreError::Magic)? != MAGIC {
            return Err(StoreError::Magic);
        }
        let version = r.u16()?;
        if version != VERSION {
            return Err(StoreError::Version(version));
        }
        let len = usize::try_from(r.u32()?).map_err(|_| StoreError::TooLarge)?;
        if len > MAX_BODY {
            return Err(StoreError::TooLarge);
        }
        let body = r.take(len)?;
        let crc = r.u32()?;
        if !r.0.is_empty() {
            return Err(StoreError::Malformed("bytes after the checksum"));
        }
        let covered = bytes.get(..HEADER + len).ok_or(StoreError::Truncated)?;
        if crc32fast::hash(covered) != crc {
            return Err(StoreError::Corrupt);
        }
        read_body(body)
    }
}

fn read_body(body: &[u8]) -> Result<StoredSession, StoreError> {
    let mut r = Cursor(body);
    let home_dc = r.i32()?;
    let n = usize::from(r.u16()?);
    if n > MAX_DCS {
        return Err(StoreError::Malformed("more DCs than allowed"));
    }
    let mut dcs = Vec::with_capacity(n);
    for _ in 0..n {
        let id = r.i32()?;
        let flags = r.take(1)?[0];
        if flags & !(HAS_ADDR | IPV6 | HAS_KEY) != 0 {
            return Err(StoreError::Malformed("unknown DC flags"));
        }
        let addr = if flags & HAS_ADDR != 0 {
            let ip = if flags & IPV6 != 0 {
                let o: [u8; 16] = r.array()?;
                IpAddr::V6(Ipv6Addr::from(o))
            } else {
                let o: [u8; 4] = r.array()?;
                IpAddr::V4(Ipv4Addr::from(o))
            };
            Some(SocketAddr::new(ip, r.u16()?))
        } else {
            None
        };
        let auth_key = if flags & HAS_KEY != 0 {
            Some(AuthKey::from_bytes(r.array()?))
        } else {
            None
        };
        let salt = r.i64()?;
        let time_offset = r.i64()?;
        if dcs.iter().any(|d: &StoredDc| d.id == id) {
            return Err(StoreError::Malformed("a DC listed twice"));
        }
        dcs.push(StoredDc {
            id,
            addr,
            auth_key,
            salt,
            time_offset,
        });
    }
    let (pts, qts, date, seq) = (r.i32()?, r.i32()?, r.i32()?, r.i32()?);
    let c = usize::try_from(r.u32()?).map_err(|_| StoreError::Truncated)?;
    if c.saturating_mul(12) > r.0.len() {
        return Err(StoreError::Truncated);
    }
    let mut channels = Vec::with_capacity(c);
    for _ in 0..c {
        channels.push((r.i64()?, r.i32()?));
    }
    let p = usize::try_from(r.u32()?).map_err(|_| StoreError::Truncated)?;
    let peers = PeerCache::from_bytes(r.take(p)?).map_err(StoreError::PeerCache)?;
    if !r.0.is_empty() {
        return Err(StoreError::Malformed("bytes after the peer cache"));
    }
    Ok(StoredSession {
        home_dc,
        dcs,
        peers,
        updates: UpdateState {
            pts,
            qts,
            date,
            seq,
            channels,
        },
    })
}

/// Reads little-endian values, refusing to read past the end.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], StoreError> {
        if self.0.len() < n {
            return Err(StoreError::Truncated);
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], StoreError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn u16(&mut self) -> Result<u16, StoreError> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, StoreError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn i32(&mut self) -> Result<i32, StoreError> {
        Ok(i32::from_le_bytes(self.array()?))
    }
    fn i64(&mut self) -> Result<i64, StoreError> {
        Ok(i64::from_le_bytes(self.array()?))
    }
}
