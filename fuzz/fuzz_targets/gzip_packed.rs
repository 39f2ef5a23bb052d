#![no_main]
//! Fuzz target `gzip_packed`; the logic is in `mtproto_fuzz::targets::gzip_packed`, run under
//! the amplification accounting (`mtproto_fuzz::targets::alloc_bound`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_fuzz::targets::run_checked("gzip_packed", data));
