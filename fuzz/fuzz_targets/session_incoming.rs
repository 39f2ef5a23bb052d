#![no_main]
//! Fuzz target `session_incoming`; the logic is in `mtproto_fuzz::targets::session_incoming`, run under
//! the amplification accounting (`mtproto_fuzz::targets::alloc_bound`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_fuzz::targets::run_checked(
    "session_incoming",
    data
));
