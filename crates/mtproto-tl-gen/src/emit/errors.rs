//! `errors`: one enum per function, a variant per documented error (those
//! with a number carry it) and `Other`, implementing `TypedError`.

use std::collections::HashSet;

use super::Emitter;
use crate::errors::{variant, DocError};
use crate::model::Item;
use crate::writer::{wln, CodeWriter};

/// A variant of an error enum.
struct Variant<'t> {
    name: String,
    doc: &'t DocError<'t>,
    /// Text before and after `%d`, for an error carrying a number.
    number: Option<(&'t str, &'t str)>,
}

/// A Rust string literal of `s`.
fn lit(s: &str) -> String {
    format!("{s:?}")
}

impl Emitter<'_, '_, '_> {
    /// The error enum of the function `it`.
    pub(super) fn emit_error_enum(&self, w: &mut CodeWriter, it: &Item<'_, '_>) {
        // The method's own errors, then those of every method (`*`).
        let own = self.errors.get(it.def.name).map(Vec::as_slice);
        let any = self.errors.get("*").map(Vec::as_slice);
        let docs: Vec<&DocError<'_>> = own
            .unwrap_or_default()
            .iter()
            .chain(any.unwrap_or_default())
            .collect();
        let mut taken: HashSet<String> = HashSet::from(["Other".to_owned()]);
        let mut seen: HashSet<&str> = HashSet::new();
        let mut variants = Vec::new();
        for d in docs {
            if !seen.insert(d.name) {
                continue;
            }
            let base = variant(d.name);
            let mut name = base.clone();
            let mut n = 2;
            while !taken.insert(name.clone()) {
                name = format!("{base}{n}");
                n += 1;
            }
            variants.push(Variant {
                name,
                doc: d,
                number: d.name.split_once("%d"),
            });
        }
        let ty = format!("{}Error", it.rust_name);
        let fn_path = self.m.path("functions", it.def.namespace(), &it.rust_name);
        wln!(
            w,
            "/// Errors of [`{}`]({fn_path}): one variant per error its documentation",
            it.def.name
        );
        w.line("/// lists, `Other` for any other.");
        w.line("#[derive(Clone, Debug, PartialEq, Eq)]");
        w.block(format_args!("pub enum {ty} {{"), |w| {
            for v in &variants {
                let d = v.doc;
                if d.description.is_empty() {
                    wln!(w, "/// `{} {}`", d.code, d.name);
                } else {
                    wln!(w, "/// `{} {}`: {}", d.code, d.name, d.description);
                }
                w.open(format_args!("{} {{", v.name));
                w.line("/// The code the server sent.");
                w.line("code: i32,");
                if v.number.is_some() {
                    w.line("/// The number in the message (`%d`).");
                    w.line("value: u32,");
                }
                w.close("},");
            }
            w.line("/// An error the documentation does not list, as received.");
            w.line("Other(crate::RpcError),");
        });
        w.block(format_args!("impl crate::TypedError for {ty} {{"), |w| {
            w.line("const DOCUMENTED: &'static [(i32, &'static str, &'static str)] = &[");
            for v in &variants {
                let d = v.doc;
                wln!(
                    w,
                    "    ({}, {}, {}),",
                    d.code,
                    lit(d.name),
                    lit(d.description)
                );
            }
            w.line("];");
            self.emit_from_rpc(w, &variants);
            w.block("fn code(&self) -> i32 {", |w| {
                w.block("match self {", |w| {
                    for v in &variants {
                        wln!(w, "Self::{} {{ code, .. }} => *code,", v.name);
                    }
                    w.line("Self::Other(e) => e.code,");
                });
            });
            w.block("fn name(&self) -> String {", |w| {
                w.block("match self {", |w| {
                    for v in &variants {
                        wln!(
                            w,
                            "Self::{} {{ .. }} => {}.to_owned(),",
                            v.name,
                            lit(v.doc.name)
                        );
                    }
                    w.line("Self::Other(e) => e.message(),");
                });
            });
            w.block("fn description(&self) -> &'static str {", |w| {
                w.block("match self {", |w| {
                    for v in variants.iter().filter(|v| !v.doc.description.is_empty()) {
                        wln!(
                            w,
                            "Self::{} {{ .. }} => {},",
                            v.name,
                            lit(v.doc.description)
                        );
                    }
                    w.line("_ => \"\",");
                });
            });
        });
        w.block(format_args!("impl core::fmt::Display for {ty} {{"), |w| {
            w.block(
                "fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {",
                |w| {
                    w.line("use crate::TypedError as _;");
                    w.open("let message = match self {");
                    for v in variants.iter().filter(|v| v.number.is_some()) {
                        wln!(
                            w,
                            "Self::{} {{ value, .. }} => {}.replacen(\"%d\", &value.to_string(), 1),",
                            v.name,
                            lit(v.doc.name)
                        );
                    }
                    w.line("_ => self.name(),");
                    w.close("};");
                    w.line("write!(f, \"rpc error {}: {message}\", self.code())?;");
                    w.block("if !self.description().is_empty() {", |w| {
                        w.line("write!(f, \": {}\", self.description())?;");
                    });
                    w.line("Ok(())");
                },
            );
        });
        w.block(
            format_args!("impl From<crate::RpcError> for {ty} {{"),
            |w| {
                w.block("fn from(error: crate::RpcError) -> Self {", |w| {
                    w.line("<Self as crate::TypedError>::from_rpc(error)");
                });
            },
        );
    }

    /// `documented(name)`: the documented errors of a function by its TL
    /// name (for tools that only have the name, e.g. `mtproto schema show`).
    pub(super) fn emit_documented_lookup(&self, w: &mut CodeWriter, fns: &[Item<'_, '_>]) {
        w.line("/// The documented errors of the function named `method` (its TL name,");
        w.line("/// `messages.setTyping`): (documented code, name, description); `None`");
        w.line("/// for a name that is not a function of this schema.");
        w.open("pub fn documented(method: &str) -> Option<&'static [(i32, &'static str, &'static str)]> {");
        w.line("use crate::TypedError as _;");
        w.open("Some(match method {");
        let mut sorted: Vec<&Item<'_, '_>> = fns.iter().collect();
        sorted.sort_by_key(|it| it.def.name);
        let mut seen: HashSet<&str> = HashSet::new();
        for it in sorted {
            if !seen.insert(it.def.name) {
                continue;
            }
            let path = self.m.path(
                "errors",
                it.def.namespace(),
                &format!("{}Error", it.rust_name),
            );
            wln!(w, "{} => {path}::DOCUMENTED,", lit(it.def.name));
        }
        w.line("_ => return None,");
        w.close("})");
        w.close("}");
    }

    /// `TypedError::from_rpc`: by name, then the names with a number.
    fn emit_from_rpc(&self, w: &mut CodeWriter, variants: &[Variant<'_>]) {
        if variants.is_empty() {
            w.block("fn from_rpc(error: crate::RpcError) -> Self {", |w| {
                w.line("Self::Other(error)");
            });
            return;
        }
        w.block("fn from_rpc(error: crate::RpcError) -> Self {", |w| {
            w.line("let message = error.message();");
            w.line("let code = error.code;");
            let plain: Vec<&Variant<'_>> = variants.iter().filter(|v| v.number.is_none()).collect();
            if !plain.is_empty() {
                w.block("match message.as_str() {", |w| {
                    for v in &plain {
                        wln!(w, "{} => return Self::{} {{ code }},", lit(v.doc.name), v.name);
                    }
                    w.line("_ => {}");
                });
            }
            for v in variants {
                if let Some((before, after)) = v.number {
                    wln!(
                        w,
                        "if let Some(value) = crate::rpc_error::number_between(&message, {}, {}) {{",
                        lit(before),
                        lit(after)
                    );
                    wln!(w, "    return Self::{} {{ code, value }};", v.name);
                    w.line("}");
                }
            }
            w.line("Self::Other(error)");
        });
    }
}
