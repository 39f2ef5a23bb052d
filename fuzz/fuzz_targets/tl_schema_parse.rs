#![no_main]
//! Fuzz target `tl_schema_parse`; the logic is in `mtproto_fuzz::targets::tl_schema_parse`, run under
//! the amplification accounting (`mtproto_fuzz::targets::alloc_bound`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_fuzz::targets::run_checked(
    "tl_schema_parse",
    data
));
