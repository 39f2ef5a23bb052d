#![no_main]
//! Fuzz target `pfs_bind`; the logic is in `mtproto_fuzz::targets::pfs_bind`, run under
//! the amplification accounting (`mtproto_fuzz::targets::alloc_bound`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_fuzz::targets::run_checked("pfs_bind", data));
