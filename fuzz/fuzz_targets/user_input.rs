#![no_main]
//! Fuzz target `user_input`; the logic is in `mtproto_fuzz::targets::user_input`, run under
//! the amplification accounting (`mtproto_fuzz::targets::alloc_bound`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_fuzz::targets::run_checked("user_input", data));
