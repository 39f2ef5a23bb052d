#![no_main]
//! Fuzz target `handshake_client`; the logic is in `mtproto_fuzz::targets::handshake_client`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_fuzz::targets::handshake_client(data));
