#![no_main]
//! Fuzz target `gzip_packed`; the logic is in `mtproto_fuzz::targets::gzip_packed`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_fuzz::targets::gzip_packed(data));
