//! The bodies of `serialize_bare` and of the boxed `serialize`.
//!
//! Flags words are computed first (they depend only on `self`); then the
//! fields are written in order. Consecutive fixed-size pieces (the id,
//! flags words, numbers, `Bool`s) are written with one `extend_from_slice`,
//! so the buffer's capacity is checked once per run.

use crate::model::{fixed_size, FieldKind, Item};
use crate::writer::{wln, CodeWriter};

/// The body of `serialize_bare` (`id` None) or of the boxed `serialize`.
pub(super) fn body(w: &mut CodeWriter, it: &Item<'_, '_>, id: Option<u32>) {
    flags_words(w, it);
    let mut run = Run::default();
    if let Some(id) = id {
        run.push(4, format!("&{id:#010x}u32.to_le_bytes()"));
    }
    for f in &it.fields {
        let name = &f.name;
        match &f.kind {
            FieldKind::FlagsWord => run.push(4, format!("&fw_{name}.to_le_bytes()")),
            FieldKind::TrueFlag { .. } | FieldKind::LenPrefix => {}
            FieldKind::Plain { ty } if fixed_size(ty, false).is_some() => {
                let n = fixed_size(ty, false).unwrap_or(0);
                let e = match ty.as_str() {
                    "bool" => format!(
                        "&(if self.{name} {{ crate::BOOL_TRUE_ID }} else {{ crate::BOOL_FALSE_ID }}).to_le_bytes()"
                    ),
                    t if t.starts_with('[') => format!("&self.{name}"),
                    _ => format!("&self.{name}.to_le_bytes()"),
                };
                run.push(n, e);
            }
            FieldKind::Optional { .. } => {
                run.flush(w);
                w.block(format_args!("if let Some(v) = &self.{name} {{"), |w| {
                    w.line("crate::Serialize::serialize(v, out);");
                });
            }
            FieldKind::Plain { .. } => {
                run.flush(w);
                wln!(w, "crate::Serialize::serialize(&self.{name}, out);");
            }
            FieldKind::Bounded { .. } => {
                run.flush(w);
                let ser = format!("crate::Serialize::serialize(&self.{name}, out)");
                wln!(w, "crate::support::write_len_prefixed(out, |out| {ser});");
            }
        }
    }
    run.flush(w);
}

/// `let fw_<word>: u32 = ...;` for every flags word: the bits of its
/// `Option` and `true` fields, one term per line.
fn flags_words(w: &mut CodeWriter, it: &Item<'_, '_>) {
    for f in &it.fields {
        if !matches!(f.kind, FieldKind::FlagsWord) {
            continue;
        }
        let terms: Vec<String> = it
            .fields
            .iter()
            .filter_map(|g| match &g.kind {
                FieldKind::TrueFlag { word, bit } if *word == f.name => Some(format!(
                    "if self.{} {{ {:#x} }} else {{ 0 }}",
                    g.name,
                    1u32 << bit
                )),
                FieldKind::Optional { word, bit, .. } if *word == f.name => Some(format!(
                    "if self.{}.is_some() {{ {:#x} }} else {{ 0 }}",
                    g.name,
                    1u32 << bit
                )),
                _ => None,
            })
            .collect();
        let Some((first, rest)) = terms.split_first() else {
            wln!(w, "let fw_{}: u32 = 0;", f.name);
            continue;
        };
        let end = if rest.is_empty() { ";" } else { "" };
        wln!(w, "let fw_{}: u32 = {first}{end}", f.name);
        w.indent();
        for (i, t) in rest.iter().enumerate() {
            let end = if i + 1 == rest.len() { ";" } else { "" };
            wln!(w, "| {t}{end}");
        }
        w.dedent();
    }
}

/// A run of fixed-size pieces `(size, bytes expression)` not written yet.
#[derive(Default)]
struct Run {
    /// The pieces, in order.
    pieces: Vec<(usize, String)>,
}

impl Run {
    /// Adds a piece of `size` bytes.
    fn push(&mut self, size: usize, bytes: String) {
        self.pieces.push((size, bytes));
    }

    /// Writes the pieces (one `extend_from_slice` for the whole run) and
    /// empties the run.
    fn flush(&mut self, w: &mut CodeWriter) {
        match self.pieces.as_slice() {
            [] => {}
            [(_, e)] => wln!(w, "out.extend_from_slice({e});"),
            pieces => {
                let total: usize = pieces.iter().map(|(n, _)| n).sum();
                w.block("{", |w| {
                    wln!(w, "let mut b = [0u8; {total}];");
                    let mut at = 0;
                    for (n, e) in pieces {
                        wln!(w, "b[{at}..{}].copy_from_slice({e});", at + n);
                        at += n;
                    }
                    w.line("out.extend_from_slice(&b);");
                });
            }
        }
        self.pieces.clear();
    }
}
