//! The fuzz targets as plain functions: `fn(&[u8])`, panicking only on a bug.
//!
//! Shared by the libFuzzer binaries (`fuzz/fuzz_targets/*.rs`) and by the
//! workspace replay test (`tests/tests/fuzz_replay.rs`, which includes this
//! module with `#[path]`), so it depends only on our crates, `arbitrary`,
//! `bytes`, `rand` and `rand_chacha` — never on `libfuzzer-sys`.
//!
//! One submodule per attack surface: `tl` (schema parser, generated decoders,
//! structure-aware round trips), `gzip`, `cli_decode` (the run-time decoder),
//! `transport`, `session`, `handshake` (with the seeds of its corpus),
//! `user_input` (saved peer caches, `--peer`, `mtproto call` JSON), `pfs`
//! (the server's check of `auth.bindTempAuthKey`).
//!
//! Every input runs under the amplification accounting of [`alloc_bound`]
//! ([`run_checked`]): the peak of heap bytes it makes the code hold must stay
//! within the target's bound (the third column of [`TARGETS`]).

pub mod alloc_bound;
mod cli_decode;
mod gzip;
mod handshake;
mod pfs;
mod session;
mod tl;
mod transport;
mod user_input;

pub use cli_decode::cli_decode;
pub use gzip::gzip_packed;
pub use handshake::{handshake_client, handshake_seeds, handshake_server, FUZZ_RSA_PRIVATE_PEM};
pub use pfs::pfs_bind;
pub use session::{session_gzip_containers, session_incoming};
pub use tl::{tl_decode_any, tl_roundtrip_structured, tl_schema_parse};
pub use transport::{
    transport_abridged, transport_full, transport_intermediate, transport_obfuscated,
    transport_padded,
};
pub use user_input::user_input;

use alloc_bound::INFLATION_BOUND;

/// A fuzz target: must not panic on any input unless it found a bug.
pub type Target = fn(&[u8]);

/// Every target by name (the names of the `fuzz_targets/*.rs` binaries and of
/// the `corpus/<name>/` folders), with its amplification bound: the
/// inflation budget of what it drives (16 MiB, the default of
/// `Limits::max_inflated_total` and `Config::max_packet_inflation`; a target
/// that configured a smaller budget everywhere would name it here). See [`alloc_bound`] for what else one input
/// may hold.
pub const TARGETS: &[(&str, Target, usize)] = &[
    ("tl_schema_parse", tl_schema_parse, INFLATION_BOUND),
    ("tl_decode_any", tl_decode_any, INFLATION_BOUND),
    // Its inflation under a 1 MiB cap (parts 1 and 3) runs beside the
    // generated decoders' `decode_and_reencode` of boxed `gzip_packed`
    // (part 2), which uses `Limits::DEFAULT`: 16 MiB.
    ("gzip_packed", gzip_packed, INFLATION_BOUND),
    ("transport_abridged", transport_abridged, INFLATION_BOUND),
    (
        "transport_intermediate",
        transport_intermediate,
        INFLATION_BOUND,
    ),
    ("transport_padded", transport_padded, INFLATION_BOUND),
    ("transport_full", transport_full, INFLATION_BOUND),
    (
        "transport_obfuscated",
        transport_obfuscated,
        INFLATION_BOUND,
    ),
    ("session_incoming", session_incoming, INFLATION_BOUND),
    (
        "session_gzip_containers",
        session_gzip_containers,
        INFLATION_BOUND,
    ),
    ("handshake_client", handshake_client, INFLATION_BOUND),
    ("handshake_server", handshake_server, INFLATION_BOUND),
    ("cli_decode", cli_decode, INFLATION_BOUND),
    (
        "tl_roundtrip_structured",
        tl_roundtrip_structured,
        INFLATION_BOUND,
    ),
    ("user_input", user_input, INFLATION_BOUND),
    ("pfs_bind", pfs_bind, INFLATION_BOUND),
];

/// Runs the target `name` (of [`TARGETS`]) on `data` under the amplification
/// accounting ([`alloc_bound::check`] with the target's bound). What every
/// `fuzz_targets/*.rs` binary and the replay test call.
///
/// # Panics
///
/// On a finding of the target or of the accounting, and on an unknown name.
pub fn run_checked(name: &str, data: &[u8]) {
    let Some(&(_, target, bound)) = TARGETS.iter().find(|(n, _, _)| *n == name) else {
        panic!("no fuzz target named {name}");
    };
    alloc_bound::check(data.len(), bound, || target(data));
}
