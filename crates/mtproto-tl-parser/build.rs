//! Enables `cfg(mtproto_full_schema_tests)` when `MTPROTO_FULL_SCHEMA=1`: the
//! tests that parse the real schemas in `../shared/tl` then run (and fail
//! loudly if the files are missing); otherwise the test runner reports them
//! as ignored.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(mtproto_full_schema_tests)");
    println!("cargo:rerun-if-env-changed=MTPROTO_FULL_SCHEMA");
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("MTPROTO_FULL_SCHEMA").is_some_and(|v| v == "1") {
        println!("cargo:rustc-cfg=mtproto_full_schema_tests");
    }
}
