#![no_main]
//! Fuzz target `transport_padded`; the logic is in `mtproto_fuzz::targets::transport_padded`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_fuzz::targets::transport_padded(data));
