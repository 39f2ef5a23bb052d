#![no_main]
//! Fuzz target `handshake_server`; the logic is in `mtproto_fuzz::targets::handshake_server`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_fuzz::targets::handshake_server(data));
