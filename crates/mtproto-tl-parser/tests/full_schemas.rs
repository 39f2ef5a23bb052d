//! Parses the real schemas in `../shared/tl` (`$MTPROTO_SHARED_DIR/tl` if
//! set). These tests run when the crate is built with `MTPROTO_FULL_SCHEMA=1`
//! (build.rs then enables `cfg(mtproto_full_schema_tests)`) and fail loudly
//! if the files are missing; otherwise they are reported as ignored (run them
//! anyway with `-- --include-ignored`).
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

fn shared_dir() -> PathBuf {
    let dir = match std::env::var_os("MTPROTO_SHARED_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    };
    assert!(
        dir.join("tl").is_dir(),
        "{} has no tl/ folder (set MTPROTO_SHARED_DIR)",
        dir.display()
    );
    dir
}

fn read(dir: &std::path::Path, rel: &str) -> String {
    let p = dir.join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

struct Counts {
    constructors: usize,
    functions: usize,
    types: usize,
    builtins: usize,
    mismatches: Vec<String>,
    duplicates: Vec<String>,
}

fn counts(text: &str) -> Counts {
    let s = mtproto_tl_parser::parse(text).unwrap();
    let mut mismatches: Vec<String> = s
        .crc_mismatches()
        .iter()
        .map(|m| m.definition.name.to_owned())
        .collect();
    mismatches.sort();
    Counts {
        constructors: s.constructors().count(),
        functions: s.functions().count(),
        types: s.types().len(),
        builtins: s.builtins().count(),
        mismatches,
        duplicates: s
            .duplicate_ids()
            .iter()
            .map(|d| format!("{}={}#{:08x}", d.first.name, d.duplicate.name, d.id))
            .collect(),
    }
}

fn sorted(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| (*s).to_owned()).collect();
    v.sort();
    v
}

/// Counts were cross-checked with an independent script (split on `;`,
/// skip builtin names, count per section).
#[test]
#[cfg_attr(
    not(mtproto_full_schema_tests),
    ignore = "needs the full schema: run with MTPROTO_FULL_SCHEMA=1 (and MTPROTO_SHARED_DIR=<shared>), or --include-ignored"
)]
fn api_tl_layer_228_tdlib() {
    let dir = shared_dir();
    let text = read(&dir, "tl/api.tl");
    let c = counts(&text);
    assert_eq!(c.constructors, 1648);
    assert_eq!(c.functions, 813);
    assert_eq!(c.types, 610);
    assert_eq!(c.builtins, 7);
    // tl_objects.json, crc32_constructor_ids.whole_schema_check: 2451 of 2460
    // declarations match; these are the exceptions.
    assert_eq!(
        c.mismatches,
        sorted(&[
            "ipPortSecret",
            "accessPointRule",
            "help.configSimple",
            "inputPeerPhotoFileLocationLegacy",
            "inputStickerSetThumbLegacy",
            "invokeWithBusinessConnectionPrefix",
            "invokeWithGooglePlayIntegrityPrefix",
            "invokeWithApnsSecretPrefix",
            "invokeWithReCaptchaPrefix",
        ])
    );
    let s = mtproto_tl_parser::parse(&text).unwrap();
    let explicit = s.definitions().iter().filter(|d| d.explicit_id).count();
    assert_eq!(explicit, 2460);
    assert_eq!(
        c.duplicates,
        [
            "invokeWithBusinessConnectionPrefix=invokeWithBusinessConnection#dd289f8e",
            "invokeWithGooglePlayIntegrityPrefix=invokeWithGooglePlayIntegrity#1df92984",
            "invokeWithApnsSecretPrefix=invokeWithApnsSecret#0dae54f8",
            "invokeWithReCaptchaPrefix=invokeWithReCaptcha#adbb0f94",
        ]
    );
    // No layer comment in tdlib's copy.
    assert_eq!(s.layer(), None);
    let st = s.function("messages.setTyping").unwrap();
    assert_eq!(st.id, 0x58943ee2);
    assert_eq!(s.constructor("inputPeerUser").unwrap().id, 0xdde8a54c);
    // Leading zero in the written id.
    assert_eq!(s.function("invokeWithApnsSecret").unwrap().id, 0x0dae54f8);
    // No id written: computed.
    let t = s.function("test.useConfigSimple").unwrap();
    assert!(!t.explicit_id);
    assert_eq!(
        t.id,
        crc32fast_hash("test.useConfigSimple = help.ConfigSimple")
    );
}

fn crc32fast_hash(s: &str) -> u32 {
    // Independent CRC-32 (IEEE, reflected, poly 0xEDB88320), bit by bit.
    let mut crc = 0xffff_ffffu32;
    for b in s.bytes() {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
#[cfg_attr(
    not(mtproto_full_schema_tests),
    ignore = "needs the full schema: run with MTPROTO_FULL_SCHEMA=1 (and MTPROTO_SHARED_DIR=<shared>), or --include-ignored"
)]
fn api_tl_layer_228_gotd() {
    let dir = shared_dir();
    let text = read(&dir, "tl/api_layer228_gotd.tl");
    let c = counts(&text);
    assert_eq!((c.constructors, c.functions, c.types), (1648, 808, 611));
    assert_eq!(
        c.mismatches,
        sorted(&[
            "ipPortSecret",
            "accessPointRule",
            "help.configSimple",
            "inputPeerPhotoFileLocationLegacy",
            "inputStickerSetThumbLegacy",
        ])
    );
    assert!(c.duplicates.is_empty());
    assert_eq!(mtproto_tl_parser::parse(&text).unwrap().layer(), Some(228));
}

#[test]
#[cfg_attr(
    not(mtproto_full_schema_tests),
    ignore = "needs the full schema: run with MTPROTO_FULL_SCHEMA=1 (and MTPROTO_SHARED_DIR=<shared>), or --include-ignored"
)]
fn mtproto_schemas() {
    let dir = shared_dir();
    let c = counts(&read(&dir, "tl/mtproto.tl"));
    assert_eq!((c.constructors, c.functions, c.builtins), (49, 10, 7));
    assert_eq!(
        c.mismatches,
        sorted(&["ipPortSecret", "accessPointRule", "help.configSimple"])
    );
    // tl_objects.json lists msg_container as a mismatch under Telethon's rules
    // and notes that the `%` bare marker must be dropped; our normalization
    // drops it, so this file has no mismatch.
    let c = counts(&read(&dir, "tl/mtproto_gotd.tl"));
    assert_eq!((c.constructors, c.functions), (35, 10));
    assert!(c.mismatches.is_empty(), "{:?}", c.mismatches);
    let c = counts(&read(&dir, "tl/mtproto_tdlib.tl"));
    assert_eq!((c.constructors, c.functions), (33, 8));
    // `gzip_packed ... = GzipPacked`: the id is the CRC of the `= Object` form.
    assert_eq!(c.mismatches, ["gzip_packed"]);
    let s_text = read(&dir, "tl/mtproto_gotd.tl");
    let s = mtproto_tl_parser::parse(&s_text).unwrap();
    // `message` has no written id; its CRC is 0x5bb8e511.
    assert_eq!(s.constructor("message").unwrap().id, 0x5bb8e511);
}

#[test]
#[cfg_attr(
    not(mtproto_full_schema_tests),
    ignore = "needs the full schema: run with MTPROTO_FULL_SCHEMA=1 (and MTPROTO_SHARED_DIR=<shared>), or --include-ignored"
)]
fn normalization_examples_from_vectors() {
    let dir = shared_dir();
    let v: serde_json::Value =
        serde_json::from_str(&read(&dir, "vectors/tl_objects.json")).unwrap();
    let examples = v["crc32_constructor_ids"]["examples"].as_array().unwrap();
    assert!(examples.len() >= 10);
    for e in examples {
        let line = e["schema_line"].as_str().unwrap();
        let line = line
            .split("//")
            .next()
            .unwrap()
            .trim()
            .trim_end_matches(';');
        let schema_text = format!("{line};");
        let s = mtproto_tl_parser::parse(&schema_text).unwrap();
        let d = &s.definitions()[0];
        assert_eq!(d.normalized(), e["normalized"].as_str().unwrap(), "{line}");
        let crc =
            u32::from_str_radix(e["crc32"].as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
        assert_eq!(d.computed_id(), crc, "{line}");
        let id = u32::from_str_radix(
            e["schema_id"].as_str().unwrap().trim_start_matches("0x"),
            16,
        )
        .unwrap();
        assert_eq!(d.id, id);
    }
}
