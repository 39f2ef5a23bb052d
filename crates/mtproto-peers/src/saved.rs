//! The binary form of a [`PeerCache`], saved with the session.

use core::fmt;

use crate::cache::{bounded_insert, Known, Named, PeerCache};

/// `"MTPC"`, then the version.
const MAGIC: &[u8; 4] = b"MTPC";
const VERSION: u8 = 1;

/// Why saved cache bytes were refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerCacheError {
    /// Not `"MTPC"`.
    Magic,
    /// A version this build does not know.
    Version(u8),
    /// Cut short, or a count larger than the bytes left.
    Truncated,
    /// A username that is not UTF-8, or bytes after the end.
    Malformed,
}

impl fmt::Display for PeerCacheError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Magic => f.write_str("not a peer cache (bad magic)"),
            Self::Version(v) => write!(f, "unsupported peer cache version {v}"),
            Self::Truncated => f.write_str("peer cache cut short"),
            Self::Malformed => f.write_str("malformed peer cache"),
        }
    }
}

impl std::error::Error for PeerCacheError {}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], PeerCacheError> {
        if self.0.len() < n {
            return Err(PeerCacheError::Truncated);
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u32(&mut self) -> Result<u32, PeerCacheError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn i64(&mut self) -> Result<i64, PeerCacheError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_le_bytes(a))
    }
    /// A count whose entries take at least `min_each` bytes each.
    fn count(&mut self, min_each: usize) -> Result<usize, PeerCacheError> {
        let n = usize::try_from(self.u32()?).map_err(|_| PeerCacheError::Truncated)?;
        if n.saturating_mul(min_each) > self.0.len() {
            return Err(PeerCacheError::Truncated);
        }
        Ok(n)
    }
}

impl PeerCache {
    /// The binary form: `"MTPC"`, version `1`, then (little-endian) the
    /// users and the channels, each a `u32` count of `(id:i64,
    /// access_hash:i64, min:u8)`, then the usernames, a `u32` count of
    /// `(kind:u8 (0 user, 1 channel), id:i64, len:u8, UTF-8 name)`. Entries
    /// are sorted, so equal caches give equal bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        for map in [&self.users, &self.channels] {
            let mut rows: Vec<(&i64, &Known)> = map.iter().collect();
            rows.sort();
            out.extend_from_slice(&u32::try_from(rows.len()).unwrap_or(0).to_le_bytes());
            for (id, k) in rows {
                out.extend_from_slice(&id.to_le_bytes());
                out.extend_from_slice(&k.access_hash.to_le_bytes());
                out.push(u8::from(k.min));
            }
        }
        let mut names: Vec<(&String, &Named)> = self
            .usernames
            .iter()
            .filter(|(n, _)| n.len() <= usize::from(u8::MAX))
            .collect();
        names.sort_by(|a, b| a.0.cmp(b.0));
        out.extend_from_slice(&u32::try_from(names.len()).unwrap_or(0).to_le_bytes());
        for (name, named) in names {
            let (kind, id) = match *named {
                Named::User(id) => (0u8, id),
                Named::Channel(id) => (1u8, id),
            };
            out.push(kind);
            out.extend_from_slice(&id.to_le_bytes());
            out.push(u8::try_from(name.len()).unwrap_or(0));
            out.extend_from_slice(name.as_bytes());
        }
        out
    }

    /// Reads [`to_bytes`](Self::to_bytes)'s form; a typed error for
    /// anything else, never a panic.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PeerCacheError> {
        let mut c = Cursor(bytes);
        if c.take(4)? != MAGIC {
            return Err(PeerCacheError::Magic);
        }
        let v = c.take(1)?[0];
        if v != VERSION {
            return Err(PeerCacheError::Version(v));
        }
        let mut cache = Self::new();
        for which in 0..2 {
            let n = c.count(17)?;
            for _ in 0..n {
                let id = c.i64()?;
                let access_hash = c.i64()?;
                let min = c.take(1)?[0] != 0;
                let map = if which == 0 {
                    &mut cache.users
                } else {
                    &mut cache.channels
                };
                bounded_insert(map, id, Known { access_hash, min });
            }
        }
        let n = c.count(10)?;
        for _ in 0..n {
            let kind = c.take(1)?[0];
            let id = c.i64()?;
            let len = usize::from(c.take(1)?[0]);
            let name = core::str::from_utf8(c.take(len)?).map_err(|_| PeerCacheError::Malformed)?;
            let named = match kind {
                0 => Named::User(id),
                1 => Named::Channel(id),
                _ => return Err(PeerCacheError::Malformed),
            };
            bounded_insert(&mut cache.usernames, name.to_owned(), named);
        }
        if !c.0.is_empty() {
            return Err(PeerCacheError::Malformed);
        }
        Ok(cache)
    }
}
