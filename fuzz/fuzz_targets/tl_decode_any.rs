#![no_main]
//! Fuzz target `tl_decode_any`; the logic is in `mtproto_fuzz::targets::tl_decode_any`, run under
//! the amplification accounting (`mtproto_fuzz::targets::alloc_bound`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_fuzz::targets::run_checked(
    "tl_decode_any",
    data
));
