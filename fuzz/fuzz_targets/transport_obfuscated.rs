#![no_main]
//! Fuzz target `transport_obfuscated`; the logic is in `mtproto_fuzz::targets::transport_obfuscated`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_fuzz::targets::transport_obfuscated(data));
