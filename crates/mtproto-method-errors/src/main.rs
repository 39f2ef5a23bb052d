//! `method-errors`: turns the official method documentation into
//! `tl-schema/method_errors.tsv`, the data file the TL generator reads to
//! give every method its typed errors.
//!
//! ```text
//! cargo run -p mtproto-method-errors -- [--docs FILE] [--reference DIR] [--out FILE | --check FILE]
//! ```
//!
//! - `--docs`: the docs extract (default `../shared/docs/method_docs_getdoc.json`):
//!   `methods.<name>.errors[]` with `code` and `type` (the error name;
//!   `%d` stands for the number some errors carry, e.g. `FLOOD_WAIT_%d`).
//! - `--reference`: pages like `messages.setTyping.md` (default
//!   `../shared/reference`) whose "Errors" table adds its errors and their
//!   descriptions to that method.
//! - `--out`: where to write (default: standard output); `--check`: compare
//!   with an existing file instead, exit 1 if it differs.
//!
//! The output holds facts only: one line per (method, error), sorted, tab
//! separated: `method`, documented `code`, `name`, and a description only
//! where a reference page gives one. The method `*` lists the errors any
//! method may return (migrations and flood waits, from the errors page). Errors are matched by name at run time;
//! the code the server sends is the one a caller sees.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Errors any method may return (core.telegram.org/api/errors: "303
/// SEE_OTHER [...] FILE_MIGRATE_X, PHONE_MIGRATE_X, NETWORK_MIGRATE_X,
/// USER_MIGRATE_X, STATS_MIGRATE_X"; "420 FLOOD [...] FLOOD_WAIT_X",
/// "FLOOD_PREMIUM_WAIT_X"), written under the method name `*`: every
/// method's error enum gets them.
const ANY_METHOD: &[(i32, &str)] = &[
    (303, "FILE_MIGRATE_%d"),
    (303, "NETWORK_MIGRATE_%d"),
    (303, "PHONE_MIGRATE_%d"),
    (303, "STATS_MIGRATE_%d"),
    (303, "USER_MIGRATE_%d"),
    (420, "FLOOD_PREMIUM_WAIT_%d"),
    (420, "FLOOD_WAIT_%d"),
];

/// One documented error of a method.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Doc {
    code: i32,
    description: String,
}

/// method -> error name -> what is documented.
type Table = BTreeMap<String, BTreeMap<String, Doc>>;

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("method-errors: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Vec<String>) -> Result<ExitCode, String> {
    let mut docs = PathBuf::from("../shared/docs/method_docs_getdoc.json");
    let mut reference = Some(PathBuf::from("../shared/reference"));
    let mut out: Option<PathBuf> = None;
    let mut check: Option<PathBuf> = None;
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--docs" => docs = PathBuf::from(value()?),
            "--reference" => reference = Some(PathBuf::from(value()?)),
            "--no-reference" => reference = None,
            "--out" => out = Some(PathBuf::from(value()?)),
            "--check" => check = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let text = std::fs::read_to_string(&docs)
        .map_err(|e| format!("cannot read {}: {e}", docs.display()))?;
    let mut table = from_docs(&text)?;
    if let Some(dir) = reference {
        add_reference_pages(&dir, &mut table)?;
    }
    let tsv = render(&table);
    if let Some(path) = check {
        let shipped = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if shipped == tsv {
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!(
            "method-errors: {} is out of date; regenerate it with --out",
            path.display()
        );
        return Ok(ExitCode::FAILURE);
    }
    match out {
        Some(path) => std::fs::write(&path, tsv)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?,
        None => print!("{tsv}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The `errors` of every method of the docs extract.
fn from_docs(text: &str) -> Result<Table, String> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("docs are not JSON: {e}"))?;
    let methods = json
        .get("methods")
        .and_then(|m| m.as_object())
        .ok_or("docs have no `methods` object")?;
    let mut table = Table::new();
    let any = table.entry("*".to_owned()).or_default();
    for (code, name) in ANY_METHOD {
        any.insert(
            (*name).to_owned(),
            Doc {
                code: *code,
                description: String::new(),
            },
        );
    }
    for (name, m) in methods {
        let errors = table.entry(name.clone()).or_default();
        let Some(list) = m.get("errors").and_then(|e| e.as_array()) else {
            continue;
        };
        for e in list {
            let code = e
                .get("code")
                .and_then(serde_json::Value::as_i64)
                .and_then(|c| i32::try_from(c).ok())
                .ok_or_else(|| format!("{name}: an error without a code"))?;
            let kind = e
                .get("type")
                .and_then(|t| t.as_str())
                .ok_or_else(|| format!("{name}: an error without a type"))?;
            check_name(name, kind)?;
            errors.entry(kind.to_owned()).or_insert(Doc {
                code,
                description: String::new(),
            });
        }
    }
    Ok(table)
}

/// An error name is `[0-9A-Za-z_]` (`Timeout` is one) with at most one `%d`.
fn check_name(method: &str, name: &str) -> Result<(), String> {
    let plain = name.replacen("%d", "", 1);
    let ok = !plain.is_empty()
        && plain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!("{method}: unexpected error name {name:?}"))
    }
}

/// Adds the "Errors" table of each `<method>.md` page in `dir`: its errors
/// (with the page's code when the docs do not list them) and descriptions.
fn add_reference_pages(dir: &Path, table: &mut Table) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut pages: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    pages.sort();
    for page in pages {
        let Some(method) = page.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let text = std::fs::read_to_string(&page)
            .map_err(|e| format!("cannot read {}: {e}", page.display()))?;
        let errors = table.entry(method.to_owned()).or_default();
        for (code, name, description) in reference_errors(&text) {
            check_name(method, &name)?;
            let doc = errors.entry(name).or_insert(Doc {
                code,
                description: String::new(),
            });
            doc.description = description;
        }
    }
    Ok(())
}

/// The rows `|code|NAME|description|` of a page's "### Errors" table.
fn reference_errors(text: &str) -> Vec<(i32, String, String)> {
    let mut rows = Vec::new();
    let mut in_errors = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("###") {
            in_errors = line.trim_start_matches('#').trim() == "Errors";
            continue;
        }
        if !in_errors || !line.starts_with('|') {
            continue;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if let [code, name, description] = cells.as_slice() {
            if let Ok(code) = code.parse::<i32>() {
                // Descriptions are one line of text: no tabs.
                let d = description.replace('\t', " ");
                rows.push((code, (*name).to_owned(), d));
            }
        }
    }
    rows
}

/// The data file.
fn render(table: &Table) -> String {
    let mut out = String::from(
        "# Documented errors of each API method: method, code, name[, description].\n\
         # Generated by `cargo run -p mtproto-method-errors -- --out tl-schema/method_errors.tsv`\n\
         # from the official method pages (../shared/docs/method_docs_getdoc.json) and the\n\
         # reference pages (../shared/reference); do not edit. `%d` is the number an error carries;\n\
         # the method `*` lists the errors any method may return (core.telegram.org/api/errors).\n",
    );
    for (method, errors) in table {
        for (name, doc) in errors {
            out.push_str(method);
            out.push('\t');
            out.push_str(&doc.code.to_string());
            out.push('\t');
            out.push_str(name);
            if !doc.description.is_empty() {
                out.push('\t');
                out.push_str(&doc.description);
            }
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn docs_and_reference_pages_merge() {
        let docs = r#"{"methods": {
            "messages.setTyping": {"errors": [
                {"code": 406, "type": "CHANNEL_PRIVATE", "description": "x"},
                {"code": 420, "type": "FLOOD_WAIT_%d", "description": "y"}]},
            "help.getConfig": {}}}"#;
        let mut t = from_docs(docs).unwrap();
        let page = "### Errors\n\n| Code | Type | Description |\n|---|---|---|\n\
                    |400|CHANNEL_PRIVATE|You haven't joined this channel/supergroup|\n\
                    |400|PEER_ID_INVALID|The provided peer id is invalid|\n\n### Other\n|1|NO|x|\n";
        let errors = t.get_mut("messages.setTyping").unwrap();
        for (code, name, d) in reference_errors(page) {
            let doc = errors.entry(name).or_insert(Doc {
                code,
                description: String::new(),
            });
            doc.description = d;
        }
        let tsv = render(&t);
        let lines: Vec<&str> = tsv
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with('*'))
            .collect();
        assert!(tsv.contains("*\t420\tFLOOD_WAIT_%d\n"));
        assert_eq!(
            lines,
            vec![
                "messages.setTyping\t406\tCHANNEL_PRIVATE\tYou haven't joined this channel/supergroup",
                "messages.setTyping\t420\tFLOOD_WAIT_%d",
                "messages.setTyping\t400\tPEER_ID_INVALID\tThe provided peer id is invalid",
            ]
        );
        assert!(check_name("m", "2FA_CONFIRM_WAIT_%d").is_ok());
        assert!(check_name("m", "bad name").is_err());
    }
}
