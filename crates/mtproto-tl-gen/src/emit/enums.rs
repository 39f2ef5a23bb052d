//! One enum per boxed type: a unit variant for a constructor without
//! parameters, a tuple variant holding the constructor's struct otherwise;
//! `constructor_id`, `Serialize`, `Deserialize` (in place when the type has
//! a placeholder), `Placeholder` and `From` each constructor's struct.

use mtproto_tl_parser::Definition;

use super::{
    decode_via_placeholder, placeholder_impl, read_unlisted, Emitter, ARB, DESERIALIZE,
    DESERIALIZE_INTO,
};
use crate::graph::SMALL_ENUM;
use crate::names;
use crate::writer::{wln, CodeWriter};

/// A variant: its name and its constructor.
type Row<'s, 'a> = (String, &'s Definition<'a>);

/// The variant names of enum `enum_name` for `ctors` (see [`names`]): the
/// constructor's name, the enum's name cut from its front when that leaves
/// a distinct name starting with a capital; full names for all when they
/// would still clash.
fn variant_names(enum_name: &str, ctors: &[&Definition<'_>]) -> Vec<String> {
    let full: Vec<String> = ctors
        .iter()
        .map(|c| names::pascal(c.short_name()))
        .collect();
    let cand: Vec<String> = full
        .iter()
        .map(|f| match f.strip_prefix(enum_name) {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_uppercase()) && rest != "Self" => {
                rest.to_owned()
            }
            _ => f.clone(),
        })
        .collect();
    let mut out: Vec<String> = cand
        .iter()
        .zip(&full)
        .map(|(c, f)| {
            if cand.iter().filter(|x| *x == c).count() > 1 {
                f.clone()
            } else {
                c.clone()
            }
        })
        .collect();
    // Still clashing (full name equal to another's stripped name): use
    // full names everywhere.
    let mut sorted = out.clone();
    sorted.sort();
    sorted.dedup();
    if sorted.len() != out.len() {
        out = full;
    }
    out
}

impl<'s, 'a> Emitter<'_, 's, 'a> {
    /// The enum `name` of type `t` and its impls.
    pub(super) fn emit_enum(&self, w: &mut CodeWriter, name: &str, t: &str) {
        let Some(ctors) = self.m.type_ctors.get(t) else {
            return;
        };
        let variants = variant_names(name, ctors);
        let mut rows: Vec<Row<'s, 'a>> = variants.into_iter().zip(ctors.iter().copied()).collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        self.emit_enum_decl(w, name, t, &rows);

        w.block(format_args!("impl {name} {{"), |w| {
            w.line("/// The constructor id of this value.");
            w.line("#[inline]");
            w.block("pub fn constructor_id(&self) -> u32 {", |w| {
                w.block("match self {", |w| {
                    for (v, c) in &rows {
                        let pat = if c.params.is_empty() { "" } else { "(_)" };
                        wln!(w, "Self::{v}{pat} => {:#010x},", c.id);
                    }
                });
            });
        });

        // Serialize: one match; a variant's struct writes its own id.
        w.block(format_args!("impl crate::Serialize for {name} {{"), |w| {
            w.line("#[inline]");
            w.block("fn serialize(&self, out: &mut Vec<u8>) {", |w| {
                w.block("match self {", |w| {
                    for (v, c) in &rows {
                        if c.params.is_empty() {
                            let bytes = format!("&{:#010x}u32.to_le_bytes()", c.id);
                            wln!(w, "Self::{v} => out.extend_from_slice({bytes}),");
                        } else {
                            wln!(w, "Self::{v}(x) => crate::Serialize::serialize(x, out),");
                        }
                    }
                });
            });
        });

        self.emit_enum_de(w, name, t, &rows);
        self.emit_from(w, name, &rows);
    }

    /// The enum itself: a variant per constructor.
    fn emit_enum_decl(&self, w: &mut CodeWriter, name: &str, t: &str, rows: &[Row<'s, 'a>]) {
        wln!(w, "/// TL type `{t}`.");
        w.line("#[derive(Clone, Debug, PartialEq)]");
        w.line(ARB);
        w.block(format_args!("pub enum {name} {{"), |w| {
            for (v, c) in rows {
                wln!(w, "/// `{}`", c.display_source());
                if c.params.is_empty() {
                    wln!(w, "{v},");
                } else {
                    let p = self.m.ctor_path.get(c.name).cloned().unwrap_or_default();
                    wln!(w, "{v}({p}),");
                }
            }
        });
    }

    /// `Deserialize` (and `Placeholder` when the type has one): the listed
    /// ids first; `gzip_packed` and unknown ids on the cold path.
    ///
    /// Small enums are always inlined: the match is a few compares plus
    /// leaf constructors' loads (other constructors are calls), and inlined
    /// it writes straight into the caller's value. No depth bookkeeping
    /// here: recursive constructors count the level.
    fn emit_enum_de(&self, w: &mut CodeWriter, name: &str, t: &str, rows: &[Row<'s, 'a>]) {
        let inline = if rows.len() <= SMALL_ENUM {
            "#[inline(always)]"
        } else {
            "#[inline]"
        };
        let mut by_id = rows.to_vec();
        by_id.sort_by_key(|(_, c)| c.id);
        let unlisted = read_unlisted(t);
        w.open(format_args!("impl crate::Deserialize for {name} {{"));
        let Some(ph) = self.an.ph_variant.get(t) else {
            // No placeholder: build the value and return it.
            w.line(inline);
            w.block(DESERIALIZE, |w| {
                w.line("let id = r.read_u32()?;");
                w.open("Ok(match id {");
                arms(w, &by_id, "");
                wln!(w, "_ => return {unlisted},");
                w.close("})");
            });
            w.close("}");
            return;
        };
        // In place: `deserialize` decodes into the placeholder, and each
        // arm stores its variant into `out`. A constructor with only leaves
        // is inlined, so its fields go from the input straight into `out`;
        // any other is decoded out of line into a temporary that is then
        // moved (passing `out` itself to an out-of-line call would make the
        // optimizer keep the whole destination in memory and drop it
        // blindly).
        let ph_v = rows
            .iter()
            .find(|(_, c)| c.name == ph.name)
            .map(|(v, _)| v.as_str())
            .unwrap_or_default();
        let ph_expr = if ph.params.is_empty() {
            format!("Self::{ph_v}")
        } else {
            let p = self.m.ctor_path.get(ph.name).cloned().unwrap_or_default();
            format!("Self::{ph_v}(<{p} as crate::support::Placeholder>::placeholder())")
        };
        decode_via_placeholder(
            w,
            inline,
            "deserialize",
            "crate::Deserialize::deserialize_into",
        );
        w.line(inline);
        w.block(DESERIALIZE_INTO, |w| {
            if ph.params.is_empty() && by_id.len() > 1 {
                // Reset to the placeholder first (a no-op when `out`
                // holds it already, as when `deserialize` calls this),
                // so the optimizer sees that the assignments below have
                // nothing to drop.
                w.block(format_args!("if !matches!(out, {ph_expr}) {{"), |w| {
                    wln!(w, "*out = {ph_expr};");
                });
            }
            w.line("let id = r.read_u32()?;");
            w.block("match id {", |w| {
                arms(w, &by_id, "*out = ");
                wln!(w, "_ => *out = {unlisted}?,");
            });
            w.line("Ok(())");
        });
        w.close("}");
        placeholder_impl(w, name, |w| w.line(&ph_expr));
    }

    /// `From<constructor struct>` for each variant.
    fn emit_from(&self, w: &mut CodeWriter, name: &str, rows: &[Row<'s, 'a>]) {
        for (v, c) in rows {
            let p = self.m.ctor_path.get(c.name).cloned().unwrap_or_default();
            w.block(format_args!("impl From<{p}> for {name} {{"), |w| {
                if c.params.is_empty() {
                    w.block(format_args!("fn from(_: {p}) -> Self {{"), |w| {
                        wln!(w, "Self::{v}");
                    });
                } else {
                    w.block(format_args!("fn from(x: {p}) -> Self {{"), |w| {
                        wln!(w, "Self::{v}(x)");
                    });
                }
            });
        }
    }
}

/// One match arm per constructor, by id; `assign` is `""` (the arm is the
/// value) or `"*out = "` (the arm stores it).
fn arms(w: &mut CodeWriter, by_id: &[Row<'_, '_>], assign: &str) {
    for (v, c) in by_id {
        if c.params.is_empty() {
            wln!(w, "{:#010x} => {assign}Self::{v},", c.id);
        } else {
            let de = "crate::support::outlined(r, crate::BareDeserialize::deserialize_bare)?";
            wln!(w, "{:#010x} => {assign}Self::{v}({de}),", c.id);
        }
    }
}
