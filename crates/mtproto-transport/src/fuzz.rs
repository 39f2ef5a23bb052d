//! Fuzz entry points (not part of the stable API).

use bytes::BytesMut;
use rand::{rngs::StdRng, SeedableRng};

use crate::{detect, ObfuscatedInit, Transport, TransportConfig, TransportKind};

/// Small maximum so that fuzz inputs reach the "too large" paths cheaply.
const FUZZ_MAX: usize = 1 << 16;

/// Fuzzing entry point: decodes arbitrary `data` with every role of `kind`, feeding it
/// in chunks whose sizes are derived from the input itself, and also runs [`detect`].
///
/// Must never panic, loop forever or allocate more than the configured maximum frame
/// length (64 KiB here) per frame, whatever the input. Errors are expected and ignored.
pub fn decode_kind(kind: TransportKind, data: &[u8]) {
    let _ = detect(data);
    let cfg = TransportConfig {
        max_frame_len: FUZZ_MAX,
        dc_id: None,
    };
    let seed = data
        .iter()
        .fold(0u64, |a, &b| a.rotate_left(5) ^ u64::from(b));
    let mut transports = Vec::with_capacity(2);
    if let Ok(t) = Transport::server(kind, cfg, Box::new(StdRng::seed_from_u64(seed))) {
        transports.push(t);
    }
    let client = match kind {
        // A client with a fixed init, so its decrypting stream is deterministic.
        TransportKind::Obfuscated(inner) => ObfuscatedInit::from_random([0x42; 64], inner, None)
            .ok()
            .map(|init| {
                Transport::obfuscated_client(init, cfg, Box::new(StdRng::seed_from_u64(seed)))
            }),
        _ => Transport::client(kind, cfg, Box::new(StdRng::seed_from_u64(seed))).ok(),
    };
    transports.extend(client);

    for mut t in transports {
        let mut buf = BytesMut::new();
        let mut rest = data;
        let mut i = 0usize;
        while !rest.is_empty() {
            // Chunk sizes 1..=64 taken from the input bytes themselves.
            let step = usize::from(data.get(i % data.len()).copied().unwrap_or(0) % 64) + 1;
            i = i.wrapping_add(1);
            let (chunk, tail) = rest.split_at(step.min(rest.len()));
            rest = tail;
            buf.extend_from_slice(chunk);
            // Every decode either consumes a frame, needs more, or fails; bounded.
            while let Ok(Some(_)) = t.decode_frame(&mut buf) {}
        }
    }
}

/// Fuzzing entry point that also picks the transport kind from the input: the first
/// byte selects one of [`TransportKind::ALL`], the rest goes to [`decode_kind`].
pub fn decode(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let kind = TransportKind::ALL[usize::from(sel) % TransportKind::ALL.len()];
    decode_kind(kind, rest);
}
