//! Generates `mtproto` and `api` from the TL schemas.
//!
//! Schema folder: `$MTPROTO_TL_SCHEMA_DIR` if set (e.g. `../shared/tl` for
//! the full layer), else this crate's own `schema/` (packaged with it; the
//! workspace's `tl-schema/` is a link to it). It must hold `mtproto.tl`
//! and `api.tl`; `$MTPROTO_TL_API` names another API schema file instead of
//! the folder's `api.tl` (e.g. `../shared/tl/api_layer230_grammers.tl`). When the chosen `mtproto.tl` lacks the core constructors
//! (`rpc_result`, `message`, `msg_container`, `msg_copy`, `gzip_packed`; the
//! published schema has them only as comments), our own declarations of the
//! missing ones are appended, so `mtproto::types::RpcResult` and friends
//! always exist. With `MTPROTO_TL_SCHEMA_DIR` set, the cfg
//! `mtproto_full_schema` is enabled. A schema error fails the build with
//! `file:line:col: message`.
//!
//! The API functions get typed errors from `method_errors.tsv` (the schema
//! folder's, else `schema/method_errors.tsv`).
//!
//! With `MTPROTO_FULL_SCHEMA=1`, the cfg `mtproto_full_schema_tests` is
//! enabled too: the tests against the Telethon objects in `../shared` run
//! (and fail loudly if the files, or the full-schema build, are missing)
//! instead of being reported as ignored.

use std::path::{Path, PathBuf};

/// Our declarations of the core constructors, appended when missing.
const CORE_LINES: &[(&str, &str)] = &[
    (
        "rpc_result",
        "rpc_result#f35c6d01 req_msg_id:long result:Object = RpcResult;",
    ),
    (
        "message",
        "message msg_id:long seqno:int bytes:int body:Object = Message;",
    ),
    (
        "msg_container",
        "msg_container#73f1f8dc messages:vector<%message> = MessageContainer;",
    ),
    (
        "msg_copy",
        "msg_copy#e06046b2 orig_message:Message = MessageCopy;",
    ),
    (
        "gzip_packed",
        "gzip_packed#3072cfa1 packed_data:bytes = Object;",
    ),
];

/// The layer of a schema without a `// LAYER N` comment (tdlib's
/// `telegram_api.tl` has none: ours at `../shared/tl/api.tl` is layer 228).
const DEFAULT_LAYER: i32 = 228;

fn fail(msg: String) -> ! {
    // Shown by cargo as the build script's error output.
    eprintln!("error: {msg}");
    std::process::exit(1);
}

fn read(path: &Path) -> String {
    println!("cargo:rerun-if-changed={}", path.display());
    match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) => fail(format!("cannot read TL schema {}: {e}", path.display())),
    }
}

fn generate(
    path: &Path,
    text: &str,
    module_path: &str,
    out: &Path,
    warn_layer: bool,
    method_errors: &str,
) {
    let cfg = mtproto_tl_gen::GeneratorConfig {
        module_path,
        default_layer: DEFAULT_LAYER,
        source_name: path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("schema"),
        method_errors,
    };
    let generated = match mtproto_tl_gen::generate_from_text(text, &cfg) {
        Ok(g) => g,
        Err(e) => fail(format!("{}:{e}", path.display())),
    };
    for d in &generated.skipped_duplicates {
        println!("cargo:warning={}: duplicate id: {d}", path.display());
    }
    if warn_layer && !generated.layer_from_schema {
        println!(
            "cargo:warning={} has no `// LAYER N` comment; LAYER defaults to {DEFAULT_LAYER}",
            path.display()
        );
    }
    if let Err(e) = std::fs::write(out, generated.code) {
        fail(format!("cannot write {}: {e}", out.display()));
    }
}

fn main() {
    println!("cargo::rustc-check-cfg=cfg(mtproto_full_schema)");
    println!("cargo::rustc-check-cfg=cfg(mtproto_full_schema_tests)");
    println!("cargo:rerun-if-env-changed=MTPROTO_TL_SCHEMA_DIR");
    println!("cargo:rerun-if-env-changed=MTPROTO_TL_API");
    println!("cargo:rerun-if-env-changed=MTPROTO_FULL_SCHEMA");
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("MTPROTO_FULL_SCHEMA").is_some_and(|v| v == "1") {
        println!("cargo:rustc-cfg=mtproto_full_schema_tests");
    }
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let (dir, full) = match std::env::var_os("MTPROTO_TL_SCHEMA_DIR") {
        Some(d) if !d.is_empty() => (PathBuf::from(d), true),
        _ => (manifest.join("schema"), false),
    };
    if full {
        println!("cargo:rustc-cfg=mtproto_full_schema");
    }
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());

    let mtproto_path = dir.join("mtproto.tl");
    let mut mtproto = read(&mtproto_path);
    let names: Vec<String> = match mtproto_tl_parser::parse(&mtproto) {
        Ok(s) => s.definitions().iter().map(|d| d.name.to_owned()).collect(),
        Err(e) => fail(format!("{}:{e}", mtproto_path.display())),
    };
    let missing: Vec<&str> = CORE_LINES
        .iter()
        .filter(|(n, _)| !names.iter().any(|x| x == n))
        .map(|(_, line)| *line)
        .collect();
    if !missing.is_empty() {
        mtproto
            .push_str("\n// Appended by mtproto-tl's build.rs (core constructors).\n---types---\n");
        for line in missing {
            mtproto.push_str(line);
            mtproto.push('\n');
        }
    }
    generate(
        &mtproto_path,
        &mtproto,
        "crate::mtproto",
        &out_dir.join("mtproto.rs"),
        false,
        "",
    );

    // The documented errors of the API methods (made from the official docs
    // by `mtproto-method-errors`): the schema folder's own file if it has
    // one, else ours; they apply to any layer (errors match by name).
    let own = dir.join("method_errors.tsv");
    let errors_path = if own.exists() {
        own
    } else {
        manifest.join("schema/method_errors.tsv")
    };
    let errors = read(&errors_path);
    let api_path = match std::env::var_os("MTPROTO_TL_API") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => dir.join("api.tl"),
    };
    let api = read(&api_path);
    generate(
        &api_path,
        &api,
        "crate::api",
        &out_dir.join("api.rs"),
        true,
        &errors,
    );
}
