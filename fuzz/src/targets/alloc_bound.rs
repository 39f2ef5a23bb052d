//! Amplification accounting: every fuzz input must keep the bytes the code
//! under test holds (live heap bytes, at their peak) within the
//! amplification bound plus what legitimately scales with the input.
//!
//! The counting global allocator is [`peak_alloc::PeakAlloc`] (a crate, so
//! none of our code is `unsafe`): a shim over the system allocator that
//! counts live bytes and their peak. It is installed here, so it is the
//! allocator of every binary that links this module: the libFuzzer targets
//! (`fuzz_targets/*.rs`, through the `mtproto_fuzz` library), the `replay`
//! example, and the workspace replay test (`tests/tests/fuzz_replay.rs`,
//! which includes `targets/` with `#[path]`).
//!
//! [`check`] measures one input from its start: the peak of live heap bytes
//! during the input, minus the live bytes when it started, must not exceed
//! [`allowed`]`(input_len, bound)`:
//!
//! ```text
//! bound * 5/2 + PER_INPUT_BYTE * input_len + FIXED_OVERHEAD
//! ```
//!
//! - `bound`: the inflation budget of the surface under test, 16 MiB
//!   ([`INFLATION_BOUND`], `Limits::DEFAULT.max_inflated_total` and
//!   `Config::max_packet_inflation`'s default). Targets that cannot inflate
//!   at all (transport framing, handshake, schema parser) use the same
//!   16 MiB: the bound says what one input may make a component hold,
//!   however it does.
//! - `bound * 5/2` = the inflated bytes themselves (1×), the values decoded
//!   from them or the harness's re-encoding of those values (1×: a
//!   `msgs_state_req` inflated to 16 MiB decodes to a 16 MiB `Vec<i64>`
//!   while its inflated buffer is still alive; `decode_and_reencode`
//!   re-encodes what it decoded), and 1/2 for the counting itself:
//!   `PeakAlloc` cannot grow a block in place, its `realloc` is alloc-new,
//!   copy, free-old, so a buffer growing geometrically up to `bound` (a
//!   `Vec` doubling, capped at `bound`) is counted at up to 1.5 × its final
//!   size at its last growth. The system allocator's `realloc` (mremap for
//!   large blocks) has no such moment; that half is the measurement's
//!   artefact, not memory the code may keep. An inflater whose buffer
//!   doubles past its cap (2× capacity, 3× counted at the growth) does not
//!   fit.
//! - [`PER_INPUT_BYTE`] × input length: copies of the input (the harness's
//!   own: framing, encrypting, the session copying a packet before
//!   decrypting it) and values decoded from it (a `Vec<InnerMessage>` of 32
//!   bytes per 16-byte container entry, a boxed enum per 4-byte
//!   constructor id, the run-time decoder's `Value` tree, its JSON and text
//!   renderings), each growing by doubling.
//! - [`FIXED_OVERHEAD`]: what any input may cost regardless of its length:
//!   fixtures built lazily by the first input and kept (the run-time
//!   decoder's built-in schema, the handshake fixture, the RSA key), the
//!   session `Pair`'s buffers, a deflate compressor's state (about 300 KB),
//!   `arbitrary`'s and libtest's bookkeeping.
//!
//! Measured over the replay test's inputs (corpus, regressions, 300 random
//! and mutated inputs per target; `MTPROTO_FUZZ_ALLOC_REPORT=1` prints every
//! input's peak): the targets that cannot inflate peak at 5 to 80 KB
//! (at most 173 bytes per input byte, on inputs of 64 to 300 bytes, mostly
//! the fixed part), `cli_decode` and `gzip_packed` at 350 KB,
//! `session_gzip_containers` at 25 MB for a 16 MiB limit (the 16 MiB an
//! inflation may reach before it is refused, counted at 1.5× at its last
//! growth), within the 44 MiB allowed.
//!
//! Live bytes are process-wide: two inputs measured at once would count each
//! other's, so [`check`] holds a lock for its measurement (libFuzzer runs
//! one input at a time anyway; the replay test runs targets on several
//! threads).

use std::sync::{Mutex, OnceLock, PoisonError};

use peak_alloc::PeakAlloc;

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

/// Serializes measurements (live bytes are counted for the whole process).
static MEASURING: Mutex<()> = Mutex::new(());

/// The default amplification bound: 16 MiB inflated (or copied out of one
/// packet) per input.
pub const INFLATION_BOUND: usize = 16 << 20;

/// Bytes that each input byte may legitimately make the code hold (copies
/// of the input, decoded values; see the module docs).
pub const PER_INPUT_BYTE: usize = 64;

/// Bytes any input may make the code hold, whatever its length (lazily
/// built fixtures, buffers; see the module docs).
pub const FIXED_OVERHEAD: usize = 4 << 20;

/// The most live heap bytes one input of `input_len` bytes may add, for a
/// surface whose inflation budget is `bound`.
pub fn allowed(input_len: usize, bound: usize) -> usize {
    bound
        .saturating_mul(2)
        .saturating_add(bound / 2)
        .saturating_add(PER_INPUT_BYTE.saturating_mul(input_len))
        .saturating_add(FIXED_OVERHEAD)
}

/// Runs `f` and returns its result with the peak of live heap bytes during
/// it, over those live when it started.
pub fn measure<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let _serial = MEASURING.lock().unwrap_or_else(PoisonError::into_inner);
    let start = ALLOC.current_usage();
    ALLOC.reset_peak_usage();
    let r = f();
    let peak = ALLOC.peak_usage().saturating_sub(start);
    (r, peak)
}

/// Runs `f` (one fuzz input of `input_len` bytes) and asserts that the live
/// heap bytes it added never exceeded [`allowed`]`(input_len, bound)`.
///
/// # Panics
///
/// When they did (a finding: something one input controls makes the code
/// hold more than the amplification bound), or when `f` panics.
pub fn check<R>(input_len: usize, bound: usize, f: impl FnOnce() -> R) -> R {
    let (r, peak) = measure(f);
    let allowed = allowed(input_len, bound);
    if report() {
        eprintln!(
            "alloc_bound: input {input_len} bytes, peak {peak} bytes held, allowed {allowed}"
        );
    }
    assert!(
        peak <= allowed,
        "amplification bound: a {input_len}-byte input made the code hold {peak} bytes at peak, \
         over the {allowed} allowed ({bound} bound * 5/2 + {PER_INPUT_BYTE} * input + \
         {FIXED_OVERHEAD})"
    );
    r
}

/// Whether `MTPROTO_FUZZ_ALLOC_REPORT` is set: [`check`] then prints every
/// input's peak to stderr (for tuning the constants).
fn report() -> bool {
    static REPORT: OnceLock<bool> = OnceLock::new();
    *REPORT.get_or_init(|| std::env::var_os("MTPROTO_FUZZ_ALLOC_REPORT").is_some())
}
