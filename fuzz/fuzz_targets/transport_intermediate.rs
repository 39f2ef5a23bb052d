#![no_main]
//! Fuzz target `transport_intermediate`; the logic is in `mtproto_fuzz::targets::transport_intermediate`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_fuzz::targets::transport_intermediate(data));
