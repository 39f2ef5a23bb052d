#![no_main]
//! Fuzz target `tl_decode_any`; the logic is in `mtproto_fuzz::targets::tl_decode_any`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_fuzz::targets::tl_decode_any(data));
