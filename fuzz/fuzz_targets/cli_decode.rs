#![no_main]
//! Fuzz target `cli_decode`; the logic is in `mtproto_fuzz::targets::cli_decode`, run under
//! the amplification accounting (`mtproto_fuzz::targets::alloc_bound`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_fuzz::targets::run_checked("cli_decode", data));
