#![no_main]
//! Fuzz target `transport_full`; the logic is in `mtproto_fuzz::targets::transport_full`, run under
//! the amplification accounting (`mtproto_fuzz::targets::alloc_bound`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_fuzz::targets::run_checked(
    "transport_full",
    data
));
