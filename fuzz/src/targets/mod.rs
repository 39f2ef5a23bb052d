//! The fuzz targets as plain functions: `fn(&[u8])`, panicking only on a bug.
//!
//! Shared by the libFuzzer binaries (`fuzz/fuzz_targets/*.rs`) and by the
//! workspace replay test (`tests/tests/fuzz_replay.rs`, which includes this
//! module with `#[path]`), so it depends only on our crates, `arbitrary`,
//! `bytes`, `rand` and `rand_chacha` — never on `libfuzzer-sys`.
//!
//! One submodule per attack surface: `tl` (schema parser, generated decoders,
//! structure-aware round trips), `gzip`, `cli_decode` (the run-time decoder),
//! `transport`, `session`, `handshake` (with the seeds of its corpus).

mod cli_decode;
mod gzip;
mod handshake;
mod session;
mod tl;
mod transport;

pub use cli_decode::cli_decode;
pub use gzip::gzip_packed;
pub use handshake::{handshake_client, handshake_seeds, handshake_server, FUZZ_RSA_PRIVATE_PEM};
pub use session::session_incoming;
pub use tl::{tl_decode_any, tl_roundtrip_structured, tl_schema_parse};
pub use transport::{
    transport_abridged, transport_full, transport_intermediate, transport_obfuscated,
    transport_padded,
};

/// A fuzz target: must not panic on any input unless it found a bug.
pub type Target = fn(&[u8]);

/// Every target by name (the names of the `fuzz_targets/*.rs` binaries and of
/// the `corpus/<name>/` folders).
pub const TARGETS: &[(&str, Target)] = &[
    ("tl_schema_parse", tl_schema_parse),
    ("tl_decode_any", tl_decode_any),
    ("gzip_packed", gzip_packed),
    ("transport_abridged", transport_abridged),
    ("transport_intermediate", transport_intermediate),
    ("transport_padded", transport_padded),
    ("transport_full", transport_full),
    ("transport_obfuscated", transport_obfuscated),
    ("session_incoming", session_incoming),
    ("handshake_client", handshake_client),
    ("handshake_server", handshake_server),
    ("cli_decode", cli_decode),
    ("tl_roundtrip_structured", tl_roundtrip_structured),
];
