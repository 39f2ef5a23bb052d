//! `mtproto-tl-subset`: makes `tl-schema/api.tl`, the part of a Telegram
//! API layer mtproto-rs builds by default, from a full layer and the list
//! in `tl-schema/api.subset`.
//!
//! ```text
//! cargo run -p mtproto-tl-subset -- --schema FULL.tl [--spec tl-schema/api.subset] [--layer N] [--write FILE | --check FILE]
//! ```
//!
//! The spec names functions (`function messages.setTyping`), root types
//! (`root InputPeer`) and types cut down to some of their constructors
//! (`only Update: updateNewMessage updateMessageID`). The output holds the
//! builtin lines, then every constructor of every type the functions and
//! roots reach (following parameters, type arguments and `%Type` through
//! the kept constructors), in the full layer's order and text, then the
//! functions in the spec's order, then `// LAYER N` from the full layer.
//! Without `--write` or `--check` it prints; `--check` compares with an
//! existing file and exits 1 where they differ.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mtproto_tl_parser::{Category, Definition, ParamType, Type};

/// The builtin types every schema of ours declares first (not generated).
const BUILTINS: &str = "\
// Builtin types (not generated).
int ? = Int;
long ? = Long;
double ? = Double;
string ? = String;
bytes = Bytes;
int128 4*[ int ] = Int128;
int256 8*[ int ] = Int256;
vector#1cb5c415 {t:Type} # [ t ] = Vector t;
";

/// What `tl-schema/api.subset` asks for.
#[derive(Debug, Default, PartialEq, Eq)]
struct Spec {
    functions: Vec<String>,
    roots: Vec<String>,
    /// type → the only constructors it keeps, in the spec's order.
    only: BTreeMap<String, Vec<String>>,
}

fn parse_spec(text: &str) -> Result<Spec, String> {
    let mut spec = Spec::default();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = |m: &str| format!("spec line {}: {m}", n + 1);
        let (word, rest) = line
            .split_once(char::is_whitespace)
            .ok_or_else(|| at("expected `function NAME`, `root TYPE` or `only TYPE: NAMES`"))?;
        let rest = rest.trim();
        match word {
            "function" => spec.functions.push(rest.to_owned()),
            "root" => spec.roots.push(rest.to_owned()),
            "only" => {
                let (ty, names) = rest
                    .split_once(':')
                    .ok_or_else(|| at("expected `only TYPE: NAMES`"))?;
                let names: Vec<String> = names.split_whitespace().map(str::to_owned).collect();
                if names.is_empty() {
                    return Err(at("`only` names no constructor"));
                }
                spec.only.insert(ty.trim().to_owned(), names);
            }
            other => return Err(at(&format!("unknown entry `{other}`"))),
        }
    }
    Ok(spec)
}

/// The boxed types a type reference names (`Vector<User>` → `User`,
/// `%Message` → `Message`, a bare constructor → its type).
fn referenced<'a>(
    ty: &Type<'a>,
    bare: &HashMap<&str, &'a str>,
    type_vars: &[&str],
    out: &mut Vec<&'a str>,
) {
    if let Some(arg) = &ty.arg {
        referenced(arg, bare, type_vars, out);
    }
    if ty.generic_ref || type_vars.contains(&ty.name) {
        return;
    }
    let first_upper = ty
        .short_name()
        .as_bytes()
        .first()
        .is_some_and(u8::is_ascii_uppercase);
    if first_upper {
        out.push(ty.name);
    } else if let Some(t) = bare.get(ty.name) {
        out.push(t);
    }
}

fn param_types<'a>(d: &Definition<'a>, bare: &HashMap<&str, &'a str>) -> Vec<&'a str> {
    let vars: Vec<&str> = d.type_params.iter().map(|p| p.name).collect();
    let mut out = Vec::new();
    for p in &d.params {
        if let ParamType::Normal { ty, .. } = &p.ty {
            referenced(ty, bare, &vars, &mut out);
        }
    }
    out
}

/// The subset's text. `layer` is for a full layer without a `// LAYER N`
/// comment (tdlib's form).
fn subset(
    full: &str,
    source_name: &str,
    spec: &Spec,
    layer: Option<i32>,
) -> Result<String, String> {
    let schema = mtproto_tl_parser::parse(full).map_err(|e| format!("{source_name}:{e}"))?;
    let layer = schema
        .layer()
        .or(layer)
        .ok_or_else(|| format!("{source_name} has no `// LAYER N` comment: give --layer N"))?;
    let constructors: Vec<&Definition<'_>> = schema.constructors().collect();
    let mut by_type: HashMap<&str, Vec<&Definition<'_>>> = HashMap::new();
    let mut bare: HashMap<&str, &str> = HashMap::new();
    for c in &constructors {
        by_type.entry(c.result.name).or_default().push(c);
        bare.insert(c.name, c.result.name);
    }
    for (ty, names) in &spec.only {
        let cons = by_type
            .get(ty.as_str())
            .ok_or_else(|| format!("only {ty}: no such type in {source_name}"))?;
        for n in names {
            if !cons.iter().any(|c| c.name == n) {
                return Err(format!("only {ty}: {n} is not one of its constructors"));
            }
        }
    }
    let keeps = |c: &Definition<'_>| {
        spec.only
            .get(c.result.name)
            .is_none_or(|names| names.iter().any(|n| n == c.name))
    };
    let mut functions = Vec::new();
    for f in &spec.functions {
        let d = schema
            .functions()
            .find(|d| d.name == f)
            .ok_or_else(|| format!("function {f}: not in {source_name}"))?;
        functions.push(d);
    }
    // The closure.
    let mut reached: BTreeSet<&str> = BTreeSet::new();
    let mut todo: Vec<&str> = spec.roots.iter().map(String::as_str).collect();
    for f in &functions {
        todo.extend(param_types(f, &bare));
        let vars: Vec<&str> = f.type_params.iter().map(|p| p.name).collect();
        referenced(&f.result, &bare, &vars, &mut todo);
    }
    while let Some(t) = todo.pop() {
        if !reached.insert(t) {
            continue;
        }
        for c in by_type.get(t).into_iter().flatten().filter(|c| keeps(c)) {
            todo.extend(param_types(c, &bare));
        }
    }
    for r in &spec.roots {
        if !by_type.contains_key(r.as_str()) {
            return Err(format!("root {r}: no such type in {source_name}"));
        }
    }

    let mut out = String::new();
    out.push_str(&header(layer, source_name, spec));
    out.push('\n');
    out.push_str(BUILTINS);
    out.push('\n');
    for c in constructors
        .iter()
        .filter(|c| reached.contains(c.result.name) && keeps(c))
    {
        debug_assert_eq!(c.category, Category::Constructor);
        out.push_str(&c.display_source());
        out.push_str(";\n");
    }
    out.push_str("\n---functions---\n");
    for f in &functions {
        out.push_str(&f.display_source());
        out.push_str(";\n");
    }
    out.push_str(&format!("\n// LAYER {layer}\n"));
    Ok(out)
}

/// `words` joined by `sep` in `//` comment lines of at most 78 columns,
/// the first starting with `first`, the others indented by `indent`.
fn wrap(first: &str, indent: &str, words: &[String], sep: &str) -> String {
    let mut out = String::new();
    let mut line = format!("// {first}");
    for (i, w) in words.iter().enumerate() {
        let piece = if i + 1 < words.len() {
            format!("{w}{sep}")
        } else {
            w.clone()
        };
        if line.len() + piece.len() > 78 && line.trim_end().len() > 3 + first.len() {
            out.push_str(line.trim_end());
            out.push('\n');
            line = format!("// {indent}");
        }
        line.push_str(&piece);
        line.push(' ');
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

/// The comment at the top of the subset: what it is and how it was made.
fn header(layer: i32, source_name: &str, spec: &Spec) -> String {
    let mut h = format!(
        "// Telegram API, layer {layer}: the subset mtproto-rs builds by default.\n\
         //\n\
         // Made from {source_name} by `cargo run -p mtproto-tl-subset --\n\
         // --schema {source_name} --write tl-schema/api.tl` (.ci/run checks\n\
         // it): do not edit, change tl-schema/api.subset. The constructors are\n\
         // those of the types reachable from the functions below and from these\n\
         // roots:\n"
    );
    h.push_str(&wrap("  ", "  ", &spec.roots, ","));
    h.push_str(
        "// except that these types keep only the constructors named (anything\n\
         // else decodes as an unknown-constructor error; the whole layer is one\n\
         // MTPROTO_TL_SCHEMA_DIR away):\n",
    );
    for (ty, names) in &spec.only {
        h.push_str(&wrap(&format!("  {ty}: "), "    ", names, ","));
    }
    h.push_str(
        "// To build the whole layer instead, set MTPROTO_TL_SCHEMA_DIR to a folder\n\
         // holding api.tl and mtproto.tl.\n",
    );
    h
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn run(args: Vec<String>) -> Result<ExitCode, String> {
    let mut schema = None;
    let mut spec_path = PathBuf::from("tl-schema/api.subset");
    let mut write = None;
    let mut check = None;
    let mut layer = None;
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--schema" => schema = Some(PathBuf::from(value()?)),
            "--spec" => spec_path = PathBuf::from(value()?),
            "--write" => write = Some(PathBuf::from(value()?)),
            "--check" => check = Some(PathBuf::from(value()?)),
            "--layer" => {
                let v = value()?;
                layer = Some(
                    v.parse()
                        .map_err(|_| format!("--layer {v}: not a number"))?,
                );
            }
            "-h" | "--help" => {
                println!(
                    "usage: mtproto-tl-subset --schema FULL.tl [--spec tl-schema/api.subset] [--layer N] [--write FILE | --check FILE]"
                );
                return Ok(ExitCode::SUCCESS);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let schema = schema.ok_or("--schema FULL.tl is required")?;
    let name = schema
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("schema")
        .to_owned();
    let spec = parse_spec(&read(&spec_path)?)?;
    let text = subset(&read(&schema)?, &name, &spec, layer)?;
    match (write, check) {
        (Some(p), _) => std::fs::write(&p, text)
            .map(|()| ExitCode::SUCCESS)
            .map_err(|e| format!("cannot write {}: {e}", p.display())),
        (None, Some(p)) => {
            let have = read(&p)?;
            match have.lines().zip(text.lines()).position(|(a, b)| a != b) {
                None if have == text => {
                    println!("{} is the subset of {name}", p.display());
                    Ok(ExitCode::SUCCESS)
                }
                at => {
                    let line = at.unwrap_or_else(|| have.lines().count().min(text.lines().count()));
                    eprintln!(
                        "{} differs from the subset of {name} at line {}: run with --write",
                        p.display(),
                        line + 1
                    );
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        (None, None) => {
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mtproto-tl-subset: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const FULL: &str = "\
// LAYER 7
boolFalse#bc799737 = Bool;
boolTrue#997275b5 = Bool;
a#00000001 x:B y:Vector<C> = A;
b1#00000002 = B;
b2#00000003 d:D = B;
c#00000004 = C;
d#00000005 = D;
e#00000006 = E;
---functions---
f#00000010 a:A = Bool;
g#00000011 = E;
";

    fn spec(text: &str) -> Spec {
        parse_spec(text).unwrap()
    }

    #[test]
    fn the_closure_follows_parameters_and_type_arguments() {
        let out = subset(FULL, "full.tl", &spec("function f\n"), None).unwrap();
        let decls: Vec<&str> = out
            .lines()
            .filter(|l| l.contains('#') && !l.starts_with("//") && !l.starts_with("vector"))
            .collect();
        assert_eq!(
            decls,
            [
                "boolFalse#bc799737 = Bool;",
                "boolTrue#997275b5 = Bool;",
                "a#00000001 x:B y:Vector<C> = A;",
                "b1#00000002 = B;",
                "b2#00000003 d:D = B;",
                "c#00000004 = C;",
                "d#00000005 = D;",
                "f#00000010 a:A = Bool;",
            ]
        );
        assert!(out.ends_with("\n// LAYER 7\n"));
    }

    #[test]
    fn only_cuts_a_type_and_what_its_other_constructors_reach() {
        let out = subset(
            FULL,
            "full.tl",
            &spec("function f\nonly B: b1\nroot E\n"),
            None,
        )
        .unwrap();
        assert!(out.contains("b1#00000002"));
        assert!(!out.contains("b2#"), "{out}");
        assert!(!out.contains("d#00000005"), "D is reached only through b2");
        assert!(out.contains("e#00000006"), "a root");
        assert!(out.contains("//   B: b1\n"));
    }

    #[test]
    fn mistakes_in_the_spec_are_named() {
        for (text, want) in [
            ("function nope\n", "function nope: not in full.tl"),
            ("root Nope\n", "root Nope: no such type"),
            (
                "function f\nonly B: zz\n",
                "only B: zz is not one of its constructors",
            ),
        ] {
            let e = subset(FULL, "full.tl", &spec(text), None).unwrap_err();
            assert!(e.contains(want), "{e}");
        }
        assert!(parse_spec("frobnicate x\n")
            .unwrap_err()
            .contains("unknown entry"));
        assert!(parse_spec("only B:\n")
            .unwrap_err()
            .contains("names no constructor"));
    }
}
