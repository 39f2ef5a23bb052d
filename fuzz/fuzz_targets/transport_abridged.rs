#![no_main]
//! Fuzz target `transport_abridged`; the logic is in `mtproto_fuzz::targets::transport_abridged`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_fuzz::targets::transport_abridged(data));
