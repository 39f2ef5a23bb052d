#![no_main]
//! Fuzz target `cli_decode`; the logic is in `mtproto_fuzz::targets::cli_decode`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_fuzz::targets::cli_decode(data));
