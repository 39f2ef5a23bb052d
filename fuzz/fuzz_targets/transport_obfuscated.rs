#![no_main]
//! Fuzz target `transport_obfuscated`; the logic is in `mtproto_fuzz::targets::transport_obfuscated`, run under
//! the amplification accounting (`mtproto_fuzz::targets::alloc_bound`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_fuzz::targets::run_checked(
    "transport_obfuscated",
    data
));
