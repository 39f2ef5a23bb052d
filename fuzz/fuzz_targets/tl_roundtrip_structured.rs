#![no_main]
//! Fuzz target `tl_roundtrip_structured`; the logic is in `mtproto_fuzz::targets::tl_roundtrip_structured`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_fuzz::targets::tl_roundtrip_structured(data));
