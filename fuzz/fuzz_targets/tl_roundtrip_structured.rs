#![no_main]
//! Fuzz target `tl_roundtrip_structured`; the logic is in `mtproto_fuzz::targets::tl_roundtrip_structured`, run under
//! the amplification accounting (`mtproto_fuzz::targets::alloc_bound`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_fuzz::targets::run_checked(
    "tl_roundtrip_structured",
    data
));
