//! Replays every fuzz target (the plain functions of `fuzz/src/targets/`,
//! included here without libFuzzer) over its checked-in corpus
//! (`fuzz/corpus/<target>/`), every regression input
//! (`fuzz/regressions/<target>/`), and 300 deterministic pseudo-random inputs
//! per target. A panic here is a fuzzing finding.
//!
//! Every input runs under the same amplification accounting as in the fuzz
//! binaries (`targets::run_checked`; `targets/alloc_bound.rs` installs its
//! counting allocator as this test binary's global allocator): the heap
//! bytes an input makes the code hold must stay within the target's bound.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

#[path = "../../fuzz/src/targets/mod.rs"]
// Its re-exports used only by the fuzz crate (`handshake_seeds`, ...).
#[allow(unused_imports)]
pub mod targets;

use std::path::Path;

/// Pseudo-random inputs per target (xorshift, fixed seed).
const RANDOM_INPUTS: usize = 300;

fn xorshift(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<_> = rd
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .map(|e| {
            (
                e.path().display().to_string(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// One target replays at a time: the amplification accounting reads the
/// process-wide heap, so another test reading its corpus (or building
/// inputs) on another thread would count against the input being measured.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn replay(name: &str) {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let corpus = files(&root.join("corpus").join(name));
    assert!(!corpus.is_empty(), "no seed corpus for {name}");
    for (path, data) in corpus
        .iter()
        .chain(&files(&root.join("regressions").join(name)))
    {
        let r = std::panic::catch_unwind(|| targets::run_checked(name, data));
        assert!(r.is_ok(), "{name} panics on {path}");
    }
    // Random inputs: fresh bytes, and mutations (bit flips, truncation) of seeds.
    let mut s = 0x9e37_79b9_7f4a_7c15u64 ^ name.len() as u64;
    for i in 0..RANDOM_INPUTS {
        let mut data = if i % 2 == 0 || corpus.is_empty() {
            let len = (xorshift(&mut s) % 300) as usize;
            (0..len)
                .map(|_| xorshift(&mut s).to_le_bytes()[0])
                .collect::<Vec<u8>>()
        } else {
            let mut d = corpus[usize::try_from(xorshift(&mut s)).unwrap_or(0) % corpus.len()]
                .1
                .clone();
            let len = d.len();
            if len > 0 {
                for _ in 0..1 + xorshift(&mut s) % 4 {
                    let at = usize::try_from(xorshift(&mut s)).unwrap_or(0) % len;
                    d[at] ^= 1 << (xorshift(&mut s) % 8);
                }
                if xorshift(&mut s).is_multiple_of(4) {
                    d.truncate(usize::try_from(xorshift(&mut s)).unwrap_or(0) % len);
                }
            }
            d
        };
        if i % 3 == 0 && !data.is_empty() {
            // Keep the selector byte of the seed (mode) but vary the rest.
            data[0] = (xorshift(&mut s) % 8) as u8;
        }
        let r = std::panic::catch_unwind(|| targets::run_checked(name, &data));
        assert!(
            r.is_ok(),
            "{name} panics on random input #{i}: {}",
            hex(&data)
        );
    }
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

macro_rules! replay_tests {
    ($($t:ident),* $(,)?) => {
        $(
            #[test]
            fn $t() {
                let _: targets::Target = targets::$t;
                replay(stringify!($t));
            }
        )*
        #[test]
        fn every_target_has_a_replay_test() {
            let mine = [$(stringify!($t)),*];
            for (name, _, _) in targets::TARGETS {
                assert!(mine.contains(name), "{name} not replayed");
            }
        }
    };
}

replay_tests!(
    pfs_bind,
    tl_schema_parse,
    tl_decode_any,
    gzip_packed,
    transport_abridged,
    transport_intermediate,
    transport_padded,
    transport_full,
    transport_obfuscated,
    session_incoming,
    session_gzip_containers,
    handshake_client,
    handshake_server,
    cli_decode,
    tl_roundtrip_structured,
    user_input,
);
