//! The bodies of `deserialize_bare` and `deserialize_bare_into`.
//!
//! `deserialize_bare` binds a local `f_<field>` per stored field (and
//! `fw_<word>` per flags word that some field reads); `deserialize_bare_into`
//! assigns `out.<field>` instead. A run of two or more fixed-size fields is
//! taken with one bounds check (`take_chunk`).

use std::collections::HashSet;

use crate::model::{fixed_size, Field, FieldKind, Item};
use crate::writer::{wln, CodeWriter};

/// Where decoded fields go.
struct Dest<'e> {
    /// `Some` for `deserialize_bare_into` (assigns `out.<field>`), with the
    /// paths of the enums decoded in place into their field; `None` binds
    /// `f_<field>` locals.
    into_with: Option<&'e HashSet<String>>,
}

impl Dest<'_> {
    /// Whether fields are assigned into `out`.
    fn into(&self) -> bool {
        self.into_with.is_some()
    }

    /// The left-hand side storing field `name`.
    fn lhs(&self, name: &str) -> String {
        if self.into() {
            format!("out.{name}")
        } else {
            format!("let f_{name}")
        }
    }
}

/// Wire size of a field read as part of a fixed-size run.
fn fixed(f: &Field) -> Option<usize> {
    match &f.kind {
        FieldKind::FlagsWord => Some(4),
        FieldKind::Plain { ty } => fixed_size(ty, true),
        _ => None,
    }
}

/// Whether a field reads the flags word `w`.
fn word_used(it: &Item<'_, '_>, w: &str) -> bool {
    it.fields.iter().any(|g| match &g.kind {
        FieldKind::TrueFlag { word, .. } | FieldKind::Optional { word, .. } => word == w,
        _ => false,
    })
}

/// The body of `deserialize_bare` (`into_with` None: binds `f_<field>`
/// locals) or of `deserialize_bare_into` (assigns `out.<field>`; fields of
/// the enums in `into_with` are decoded in place).
pub(super) fn body(w: &mut CodeWriter, it: &Item<'_, '_>, into_with: Option<&HashSet<String>>) {
    let dst = Dest { into_with };
    let fields = &it.fields;
    let mut i = 0;
    while let Some(f) = fields.get(i) {
        // A run of fixed-size fields starting here.
        let run: Vec<&Field> = fields[i..]
            .iter()
            .take_while(|g| fixed(g).is_some())
            .collect();
        if run.len() >= 2 {
            fixed_run(w, it, &dst, &run);
            i += run.len();
            continue;
        }
        field(w, it, &dst, f);
        i += 1;
    }
}

/// Two or more fixed-size fields, taken with one bounds check.
fn fixed_run(w: &mut CodeWriter, it: &Item<'_, '_>, dst: &Dest<'_>, run: &[&Field]) {
    let total: usize = run.iter().filter_map(|g| fixed(g)).sum();
    wln!(w, "let b: &[u8; {total}] = r.take_chunk()?;");
    let mut at = 0;
    for g in run {
        let n = fixed(g).unwrap_or(0);
        let bytes = format!("crate::support::array_at(b, {at})");
        match &g.kind {
            FieldKind::FlagsWord if word_used(it, &g.name) => {
                wln!(w, "let fw_{} = u32::from_le_bytes({bytes});", g.name);
            }
            FieldKind::FlagsWord => {}
            FieldKind::Plain { ty } if ty.starts_with('[') => {
                let typed = if dst.into() {
                    String::new()
                } else {
                    format!(": {ty}")
                };
                wln!(w, "{}{typed} = {bytes};", dst.lhs(&g.name));
            }
            FieldKind::Plain { ty } => {
                wln!(w, "{} = {ty}::from_le_bytes({bytes});", dst.lhs(&g.name));
            }
            _ => {}
        }
        at += n;
    }
}

/// One field read on its own.
fn field(w: &mut CodeWriter, it: &Item<'_, '_>, dst: &Dest<'_>, f: &Field) {
    let name = &f.name;
    match &f.kind {
        FieldKind::FlagsWord => {
            if word_used(it, name) {
                wln!(w, "let fw_{name} = r.read_u32()?;");
            } else {
                w.line("let _ = r.read_u32()?;");
            }
        }
        FieldKind::TrueFlag { word, bit } => {
            wln!(
                w,
                "{} = (fw_{word} & {:#x}) != 0;",
                dst.lhs(name),
                1u32 << bit
            );
        }
        FieldKind::Optional { word, bit, .. } => {
            let lhs = dst.lhs(name);
            w.open(format_args!(
                "{lhs} = if (fw_{word} & {:#x}) != 0 {{",
                1u32 << bit
            ));
            w.line("Some(crate::Deserialize::deserialize(r)?)");
            w.reopen("} else {");
            w.line("None");
            w.close("};");
        }
        FieldKind::Plain { ty } if dst.into_with.is_some_and(|e| e.contains(ty)) => {
            // In place (the enum's decoder is inlined).
            let into = format!("crate::Deserialize::deserialize_into(r, &mut out.{name})");
            wln!(w, "crate::support::outlined(r, |r| {into})?;");
        }
        FieldKind::Plain { ty } if dst.into() && fixed_size(ty, true).is_none() => {
            // Through a copy of the reader in case the decoder is not
            // inlined (see `support::outlined`).
            wln!(
                w,
                "out.{name} = crate::support::outlined(r, crate::Deserialize::deserialize)?;"
            );
        }
        FieldKind::Plain { .. } => {
            wln!(
                w,
                "{} = crate::Deserialize::deserialize(r)?;",
                dst.lhs(name)
            );
        }
        FieldKind::LenPrefix => {}
        FieldKind::Bounded { .. } => {
            wln!(
                w,
                "{} = crate::support::read_len_prefixed(r)?;",
                dst.lhs(name)
            );
        }
    }
}
