#![no_main]
//! Fuzz target `transport_abridged`; the logic is in `mtproto_fuzz::targets::transport_abridged`, run under
//! the amplification accounting (`mtproto_fuzz::targets::alloc_bound`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_fuzz::targets::run_checked(
    "transport_abridged",
    data
));
