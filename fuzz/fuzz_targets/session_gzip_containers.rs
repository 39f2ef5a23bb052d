#![no_main]
//! Fuzz target `session_gzip_containers`; the logic is in `mtproto_fuzz::targets::session_gzip_containers`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_fuzz::targets::run_checked(
    "session_gzip_containers",
    data
));
