#![no_main]
//! Fuzz target `session_incoming`; the logic is in `mtproto_fuzz::targets::session_incoming`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_fuzz::targets::session_incoming(data));
