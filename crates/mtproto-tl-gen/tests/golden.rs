//! Golden-file tests: each `fixtures/*.tl` is generated and compared with
//! `fixtures/*.rs.golden`. Run with `UPDATE_GOLDEN=1` to rewrite the goldens
//! after an intended change (then review the diff).
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Documented errors for the fixtures' functions: a plain one with a
/// description, numbers at the end and inside, a leading digit, a generic
/// function.
const ERRORS: &str = "# fixture\n\
messages.setTyping\t400\tPEER_ID_INVALID\tThe provided peer id is invalid\n\
messages.setTyping\t420\tFLOOD_WAIT_%d\n\
messages.setTyping\t400\tFILE_PART_%d_MISSING\n\
messages.setTyping\t420\t2FA_CONFIRM_WAIT_%d\n\
invokeWithLayer\t400\tCONNECTION_LAYER_INVALID\n";

fn check(name: &str) {
    let dir = fixtures();
    let tl = std::fs::read_to_string(dir.join(format!("{name}.tl"))).unwrap();
    let cfg = mtproto_tl_gen::GeneratorConfig {
        module_path: "crate::fixture",
        default_layer: 228,
        source_name: &format!("{name}.tl"),
        method_errors: ERRORS,
    };
    let code = mtproto_tl_gen::generate_from_text(&tl, &cfg).unwrap().code;
    // Deterministic: a second run gives the same text.
    let again = mtproto_tl_gen::generate_from_text(&tl, &cfg).unwrap().code;
    assert_eq!(code, again);
    assert!(code.starts_with("// @generated"));
    let golden = dir.join(format!("{name}.rs.golden"));
    if std::env::var("UPDATE_GOLDEN").ok().as_deref() == Some("1") {
        std::fs::write(&golden, &code).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&golden)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", golden.display()));
    if code != expected {
        let line = code
            .lines()
            .zip(expected.lines())
            .position(|(a, b)| a != b)
            .map_or(code.lines().count().min(expected.lines().count()), |i| i);
        panic!(
            "{name}: generated code differs from {} at line {} (run with UPDATE_GOLDEN=1 to accept)\n  got:      {:?}\n  expected: {:?}",
            golden.display(),
            line + 1,
            code.lines().nth(line),
            expected.lines().nth(line)
        );
    }
}

#[test]
fn features() {
    check("features");
}

#[test]
fn mtproto_core() {
    check("mtproto_core");
}

#[test]
fn schema_errors_carry_positions() {
    let cfg = mtproto_tl_gen::GeneratorConfig {
        module_path: "crate::x",
        default_layer: 1,
        source_name: "x.tl",
        method_errors: "",
    };
    let e = mtproto_tl_gen::generate_from_text("a#1 = A;\nb#2 x:Missing = B;\n", &cfg).unwrap_err();
    assert_eq!(e.to_string(), "2:1: b: unknown type `Missing`");
    let e = mtproto_tl_gen::generate_from_text("a#1 x:int = A;\n  b#2 x:flags.0?int = B;\n", &cfg)
        .unwrap_err();
    assert!(e.to_string().starts_with("2:9: expected `flags`"), "{e}");
}

#[test]
fn duplicates_keep_the_crc_match_and_are_reported() {
    let cfg = mtproto_tl_gen::GeneratorConfig {
        module_path: "crate::x",
        default_layer: 1,
        source_name: "x.tl",
        method_errors: "",
    };
    // As in tdlib's api.tl: the `...Prefix` pseudo-constructor comes first
    // and borrows the id of the real method, whose CRC32 is adbb0f94.
    let g = mtproto_tl_gen::generate_from_text(
        "error#c4b9f9bb code:int text:string = Error;\n\
         invokeWithReCaptchaPrefix#adbb0f94 token:string = Error;\n\
         ---functions---\n\
         invokeWithReCaptcha#adbb0f94 {X:Type} token:string query:!X = X;\n",
        &cfg,
    )
    .unwrap();
    assert_eq!(
        g.skipped_duplicates,
        vec!["invokeWithReCaptchaPrefix (line 2) has the id #adbb0f94 of invokeWithReCaptcha (line 4); skipped".to_owned()]
    );
    assert!(g.code.contains("pub struct InvokeWithReCaptcha<X>"));
    assert!(!g.code.contains("InvokeWithReCaptchaPrefix"));
    assert!(g.code.contains("0xadbb0f94 => \"invokeWithReCaptcha\","));
    assert!(!g.layer_from_schema);
    assert!(g.code.contains("pub const LAYER: i32 = 1;"));
}

#[test]
fn duplicates_without_one_crc_match_keep_the_first() {
    let cfg = mtproto_tl_gen::GeneratorConfig {
        module_path: "crate::x",
        default_layer: 1,
        source_name: "x.tl",
        method_errors: "",
    };
    // Neither written id is a CRC32 of its line: the first wins.
    let g = mtproto_tl_gen::generate_from_text(
        "a#11111111 x:int = A;\nb#11111111 y:int = B;\nc#22222222 = C;\n",
        &cfg,
    )
    .unwrap();
    assert_eq!(
        g.skipped_duplicates,
        vec!["b (line 2) has the id #11111111 of a (line 1); skipped".to_owned()]
    );
    assert!(g.code.contains("pub struct A "));
    assert!(!g.code.contains("pub struct B "));
    // Both match (the same line written twice, ids computed): the first.
    let g = mtproto_tl_gen::generate_from_text("a x:int = A;\na x:int = A;\n", &cfg).unwrap();
    assert_eq!(g.skipped_duplicates.len(), 1);
    assert!(g.skipped_duplicates[0].starts_with("a (line 2) has the id"));
}
