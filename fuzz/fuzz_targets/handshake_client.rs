#![no_main]
//! Fuzz target `handshake_client`; the logic is in `mtproto_fuzz::targets::handshake_client`, run under
//! the amplification accounting (`mtproto_fuzz::targets::alloc_bound`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_fuzz::targets::run_checked(
    "handshake_client",
    data
));
