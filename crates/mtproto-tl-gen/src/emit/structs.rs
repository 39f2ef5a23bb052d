//! One struct per constructor or function, with its trait impls:
//! `Identifiable`, `BareSerialize`, `Placeholder` (when it has one),
//! `BareDeserialize`, `Serialize`, `Deserialize` and, for a function,
//! `RemoteCall`.

use super::{
    de, decode_via_placeholder, placeholder_impl, read_unlisted, ser, Emitter, ARB, DESERIALIZE,
    DESERIALIZE_BARE_INTO, DESERIALIZE_INTO,
};
use crate::model::{fixed_size, has_non_leaf, FieldKind, Item};
use crate::writer::{wln, CodeWriter};

/// The names and generics of a struct, as its impls spell them.
struct Shape<'i> {
    /// The generic parameters.
    generics: &'i [String],
    /// `<X, Y>` after `impl` (empty without generics).
    gdecl: String,
    /// The struct's type as impls name it: `Name<X, Y>`.
    full: String,
}

impl Shape<'_> {
    /// `<X: {bound}, ...>` after `impl` (empty without generics).
    fn bound(&self, bound: &str) -> String {
        if self.generics.is_empty() {
            return String::new();
        }
        let parts: Vec<String> = self
            .generics
            .iter()
            .map(|g| format!("{g}: {bound}"))
            .collect();
        format!("<{}>", parts.join(", "))
    }
}

/// `#[inline(never)]` for a constructor with a field that is not a leaf,
/// else `#[inline]`. Functions are top-level values: inlined into their one
/// caller.
fn inline_attr(it: &Item<'_, '_>, is_fn: bool) -> &'static str {
    if has_non_leaf(it) && !is_fn {
        "#[inline(never)]"
    } else {
        "#[inline]"
    }
}

impl Emitter<'_, '_, '_> {
    /// The struct of `it` and its impls.
    pub(super) fn emit_struct(&self, w: &mut CodeWriter, it: &Item<'_, '_>, is_fn: bool) {
        let d = it.def;
        let gdecl = if it.generics.is_empty() {
            String::new()
        } else {
            format!("<{}>", it.generics.join(", "))
        };
        let shape = Shape {
            generics: &it.generics,
            full: format!("{}{gdecl}", it.rust_name),
            gdecl,
        };
        let what = if is_fn { "function" } else { "constructor" };
        wln!(w, "/// TL {what} `{}`.", d.display_source());
        emit_struct_decl(w, it, &shape);
        let full = &shape.full;
        let gdecl = &shape.gdecl;
        w.block(
            format_args!("impl{gdecl} crate::Identifiable for {full} {{"),
            |w| wln!(w, "const CONSTRUCTOR_ID: u32 = {:#010x};", d.id),
        );

        // Bare serialization.
        let bound = shape.bound("crate::Serialize");
        w.block(
            format_args!("impl{bound} crate::BareSerialize for {full} {{"),
            |w| {
                let out_var = if it.fields.is_empty() { "_out" } else { "out" };
                w.line("#[inline]");
                w.block(
                    format_args!("fn serialize_bare(&self, {out_var}: &mut Vec<u8>) {{"),
                    |w| ser::body(w, it, None),
                );
            },
        );

        // In place when the struct can hold a placeholder and has a field
        // of an enum decoded in place: decoding writes each field straight
        // into the destination (no enum built in a temporary and moved
        // through memory); `deserialize` decodes into a placeholder. Any
        // other struct is built from locals and returned.
        let has_ph =
            self.an.ph_defs.contains(d.name) && it.generics.is_empty() && !it.stored().is_empty();
        let in_place = has_ph
            && it.fields.iter().any(
                |f| matches!(&f.kind, FieldKind::Plain { ty } if self.an.inplace_enums.contains(ty)),
            );
        if has_ph {
            emit_placeholder(w, it, full);
        }
        self.emit_bare_de(w, it, &shape, is_fn, in_place);

        // Boxed: the id and the leading fixed-size fields in one write. A
        // constructor with a field that is not a leaf is written out of
        // line, so that an enum's `serialize` stays a small dispatch (no
        // large stack frame for the simple variants).
        w.block(
            format_args!("impl{bound} crate::Serialize for {full} {{"),
            |w| {
                w.line(inline_attr(it, is_fn));
                w.block("fn serialize(&self, out: &mut Vec<u8>) {", |w| {
                    ser::body(w, it, Some(d.id));
                });
            },
        );
        emit_boxed_de(w, it, &shape, in_place);
        if is_fn {
            let ret = it.ret.as_deref().unwrap_or_default();
            let b = if ret.ends_with("::Return")
                && it.generics.iter().any(|g| ret.starts_with(g.as_str()))
            {
                shape.bound("crate::RemoteCall")
            } else {
                shape.bound("crate::Serialize")
            };
            w.block(
                format_args!("impl{b} crate::RemoteCall for {full} {{"),
                |w| {
                    wln!(w, "type Return = {ret};");
                },
            );
            let error = self.m.path(
                "errors",
                it.def.namespace(),
                &format!("{}Error", it.rust_name),
            );
            w.block(format_args!("impl{b} crate::Method for {full} {{"), |w| {
                wln!(w, "type Error = {error};");
            });
        }
    }

    /// `BareDeserialize`: into locals, then the struct built from them; or,
    /// `in_place`, each field stored straight into `out`.
    fn emit_bare_de(
        &self,
        w: &mut CodeWriter,
        it: &Item<'_, '_>,
        shape: &Shape<'_>,
        is_fn: bool,
        in_place: bool,
    ) {
        let bound = shape.bound("crate::Deserialize");
        let full = &shape.full;
        // Only a constructor with a field in its own cycle of containment
        // (the boxed fields) counts a level of nesting depth: every
        // unbounded recursion goes through one of them or through a vector
        // (which counts its own level), so the depth limit still stops deep
        // recursion while every other constructor skips the bookkeeping.
        let nests = self.an.is_recursive(it.def);
        let stored = it.stored();
        w.open(format_args!(
            "impl{bound} crate::BareDeserialize for {full} {{"
        ));
        // The fewest bytes the bare form takes, so that a bare vector's
        // count is checked against the bytes left before allocating.
        let min = min_bare_len(it);
        if min > 0 {
            wln!(w, "const MIN_BARE_LEN: usize = {min};");
        }
        if in_place {
            decode_via_placeholder(
                w,
                "#[inline]",
                "deserialize_bare",
                "crate::BareDeserialize::deserialize_bare_into",
            );
            w.line(inline_attr(it, is_fn));
            w.open(DESERIALIZE_BARE_INTO);
        } else {
            let r_var = if it.fields.is_empty() && !nests {
                "_r"
            } else {
                "r"
            };
            w.line(inline_attr(it, is_fn));
            w.open(format_args!(
                "fn deserialize_bare({r_var}: &mut crate::Reader<'_>) -> crate::Result<Self> {{"
            ));
        }
        if nests {
            w.line("r.enter()?;");
        }
        de::body(w, it, in_place.then_some(&self.an.inplace_enums));
        if nests {
            w.line("r.leave();");
        }
        if in_place {
            w.line("Ok(())");
        } else if stored.is_empty() && it.generics.is_empty() {
            w.line("Ok(Self)");
        } else {
            let inits: Vec<String> = stored
                .iter()
                .map(|f| format!("{}: f_{}", f.name, f.name))
                .collect();
            wln!(w, "Ok(Self {{ {} }})", inits.join(", "));
        }
        w.close("}");
        w.close("}");
    }
}

/// The struct itself: its stored fields, each with its TL text.
fn emit_struct_decl(w: &mut CodeWriter, it: &Item<'_, '_>, shape: &Shape<'_>) {
    let name = &it.rust_name;
    w.line("#[derive(Clone, Debug, PartialEq)]");
    w.line(ARB);
    let stored = it.stored();
    if stored.is_empty() && it.generics.is_empty() {
        wln!(w, "pub struct {name};");
        return;
    }
    w.block(format_args!("pub struct {name}{} {{", shape.gdecl), |w| {
        for f in &stored {
            let (ty, extra) = match &f.kind {
                FieldKind::TrueFlag { .. } => ("bool".to_owned(), ""),
                FieldKind::Optional { ty, .. } => (format!("Option<{ty}>"), ""),
                FieldKind::Plain { ty } => (ty.clone(), ""),
                FieldKind::Bounded { ty } => (
                    ty.clone(),
                    " (its length, the `bytes` field, is written when serializing)",
                ),
                // Not stored.
                FieldKind::FlagsWord | FieldKind::LenPrefix => continue,
            };
            wln!(w, "/// `{}`{extra}", f.tl);
            wln!(w, "pub {}: {ty},", f.name);
        }
    });
}

/// Placeholder of a struct: `false`, `None` or the field type's placeholder
/// in every field.
fn emit_placeholder(w: &mut CodeWriter, it: &Item<'_, '_>, full: &str) {
    placeholder_impl(w, full, |w| {
        w.block("Self {", |w| {
            for f in it.stored() {
                match &f.kind {
                    FieldKind::TrueFlag { .. } => wln!(w, "{}: false,", f.name),
                    FieldKind::Optional { .. } => wln!(w, "{}: None,", f.name),
                    FieldKind::Plain { ty } | FieldKind::Bounded { ty } => wln!(
                        w,
                        "{}: <{ty} as crate::support::Placeholder>::placeholder(),",
                        f.name
                    ),
                    // Not stored.
                    FieldKind::FlagsWord | FieldKind::LenPrefix => {}
                }
            }
        });
    });
}

/// `Deserialize`: the id, then the bare decoder; any other id (as
/// `gzip_packed`) out of line.
fn emit_boxed_de(w: &mut CodeWriter, it: &Item<'_, '_>, shape: &Shape<'_>, in_place: bool) {
    let d = it.def;
    let full = &shape.full;
    let unlisted = read_unlisted(d.name);
    if in_place {
        w.block(format_args!("impl crate::Deserialize for {full} {{"), |w| {
            let into = "crate::Deserialize::deserialize_into";
            decode_via_placeholder(w, "#[inline]", "deserialize", into);
            w.line("#[inline]");
            w.block(DESERIALIZE_INTO, |w| {
                w.line("let id = r.read_u32()?;");
                w.open(format_args!("if id == {:#010x} {{", d.id));
                w.line("crate::BareDeserialize::deserialize_bare_into(r, out)");
                w.reopen("} else {");
                wln!(w, "*out = {unlisted}?;");
                w.line("Ok(())");
                w.close("}");
            });
        });
    } else {
        let bound = shape.bound("crate::Deserialize");
        w.block(
            format_args!("impl{bound} crate::Deserialize for {full} {{"),
            |w| {
                w.line("#[inline]");
                w.block(DESERIALIZE, |w| {
                    w.line("let id = r.read_u32()?;");
                    w.open(format_args!("if id == {:#010x} {{", d.id));
                    w.line("crate::BareDeserialize::deserialize_bare(r)");
                    w.reopen("} else {");
                    w.line(&unlisted);
                    w.close("}");
                });
            },
        );
    }
}

/// The fewest bytes the bare form of `it` takes on the wire: every flags
/// word and unconditional field (at least 4 bytes each, their fixed size
/// when they have one); conditional fields, `true` flags and bare types
/// (which may be empty) count nothing.
fn min_bare_len(it: &Item<'_, '_>) -> usize {
    it.fields
        .iter()
        .map(|f| match &f.kind {
            FieldKind::FlagsWord | FieldKind::LenPrefix => 4,
            FieldKind::Plain { ty } => match fixed_size(ty, true) {
                Some(n) => n,
                None if ty.starts_with("crate::Bare<") || ty.starts_with("crate::RawObject") => 0,
                None => 4,
            },
            FieldKind::TrueFlag { .. } | FieldKind::Optional { .. } | FieldKind::Bounded { .. } => {
                0
            }
        })
        .sum()
}
