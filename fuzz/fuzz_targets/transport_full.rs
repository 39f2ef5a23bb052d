#![no_main]
//! Fuzz target `transport_full`; the logic is in `mtproto_fuzz::targets::transport_full`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_fuzz::targets::transport_full(data));
