//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use bytes::BytesMut;
use mtproto_transport::{BoxRng, Transport, TransportConfig, TransportError, TransportKind};
use rand::RngCore;

/// A deterministic "RNG" that replays the given bytes (cycling), so padding and inits
/// are exactly predictable. `next_u32` takes 4 bytes little-endian.
pub(crate) struct ByteRng {
    data: Vec<u8>,
    pos: usize,
}

impl ByteRng {
    pub(crate) fn boxed(data: &[u8]) -> BoxRng {
        Box::new(ByteRng {
            data: data.to_vec(),
            pos: 0,
        })
    }
}

impl RngCore for ByteRng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for d in dest {
            *d = self.data[self.pos % self.data.len()];
            self.pos += 1;
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

pub(crate) fn cfg() -> TransportConfig {
    TransportConfig::default()
}

/// A client whose RNG yields zeros (no padding) or, for obfuscated kinds, the init
/// bytes 1, 2, ..., 64 (valid) followed by zeros.
pub(crate) fn client(kind: TransportKind) -> Transport {
    let rng = match kind {
        TransportKind::Obfuscated(_) => {
            let mut d: Vec<u8> = (1..=64).collect();
            d.extend_from_slice(&[0; 64]);
            ByteRng::boxed(&d)
        }
        _ => ByteRng::boxed(&[0]),
    };
    Transport::client(kind, cfg(), rng).unwrap()
}

pub(crate) fn server(kind: TransportKind) -> Transport {
    Transport::server(kind, cfg(), ByteRng::boxed(&[0])).unwrap()
}

pub(crate) fn bm(bytes: &[u8]) -> BytesMut {
    BytesMut::from(bytes)
}

/// Decodes every complete frame in `buf`.
pub(crate) fn decode_all(
    t: &mut Transport,
    buf: &mut BytesMut,
) -> Result<Vec<Vec<u8>>, TransportError> {
    let mut v = Vec::new();
    while let Some(f) = t.decode(buf)? {
        v.push(f.to_vec());
    }
    Ok(v)
}

pub(crate) fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace([' ', '\n'], "")).unwrap()
}
