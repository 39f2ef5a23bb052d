#![no_main]
//! Fuzz target `tl_schema_parse`; the logic is in `mtproto_fuzz::targets::tl_schema_parse`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_fuzz::targets::tl_schema_parse(data));
