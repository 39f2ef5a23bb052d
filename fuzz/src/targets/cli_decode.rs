//! Fuzz target for the run-time schema-driven decoder of `mtproto-cli decode`
//! (`cli_decode`), and its agreement with the generated code.

use std::collections::HashSet;
use std::sync::OnceLock;

use mtproto_tl_dyn::{Def, DynSchema, ParamDef, ParamKind, TypeRef};

use super::tl::mentions_gzip;

/// The run-time schema-driven decoder (`mtproto-cli decode`): its own fuzz
/// entry point (boxed and bare `msg_container` round trips), plus agreement with the
/// generated code: bytes the generated decoders read back exactly must also
/// decode and re-encode exactly at run time.
pub fn cli_decode(data: &[u8]) {
    mtproto_tl_dyn::fuzz::decode(data);
    if mentions_gzip(data) {
        return;
    }
    let typed = mtproto_tl::api::decode_and_reencode(data)
        .or_else(|_| mtproto_tl::mtproto::decode_and_reencode(data));
    if typed.as_deref().ok() == Some(data) {
        let schema = DynSchema::builtin();
        match schema.decode_boxed(data) {
            Ok(v) => {
                let again = schema.encode_boxed(&v);
                assert_eq!(again.as_deref().ok(), Some(data), "dyn re-encode of {v:?}");
            }
            // The generated code keeps `Object` fields and `!X` queries
            // (rpc_result's result, a message body, invokeWithLayer's query)
            // opaque: it takes the rest of the input without looking at it.
            // The run-time decoder decodes them, so any error in there
            // (unknown id, truncation, bad length) is no disagreement
            // (`fuzz/regressions/cli_decode/`).
            Err(_) if holds_opaque(data) => {}
            // Nesting is bounded by both decoders, counted differently.
            Err(e) if is_depth_limit(&e) => {}
            // The generated types were built from a larger schema than the
            // run-time decoder's built-in one (MTPROTO_TL_SCHEMA_DIR, e.g. the
            // full layer): a constructor only the generated code knows is no
            // disagreement.
            Err(e) if only_generated_knows(schema, &e) => {}
            Err(e) => panic!("generated code decodes these bytes, run-time decoder fails: {e}"),
        }
    }
}

/// Whether the run-time decoder failed on a constructor id that the generated
/// code knows but the run-time decoder's schema does not define.
pub(super) fn only_generated_knows(schema: &DynSchema, e: &mtproto_tl_dyn::DynError) -> bool {
    match e.kind {
        mtproto_tl_dyn::DynErrorKind::UnknownConstructor { id, .. } => {
            schema.by_id(id).is_none()
                && (mtproto_tl::api::name_for_id(id).is_some()
                    || mtproto_tl::mtproto::name_for_id(id).is_some())
        }
        _ => false,
    }
}

/// Whether the run-time decoder stopped at its nesting limit.
pub(super) fn is_depth_limit(e: &mtproto_tl_dyn::DynError) -> bool {
    matches!(
        e.kind,
        mtproto_tl_dyn::DynErrorKind::Tl(mtproto_tl::DecodeErrorKind::DepthLimitExceeded { .. })
    )
}

/// The constructor id at the start of `data`.
fn leading_id(data: &[u8]) -> Option<u32> {
    data.get(..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_le_bytes)
}

/// Whether the definition whose id starts `data` may hold (directly or
/// nested) an `Object` or `!X` parameter, which the generated code decodes as
/// an opaque `RawObject`.
fn holds_opaque(data: &[u8]) -> bool {
    static IDS: OnceLock<HashSet<u32>> = OnceLock::new();
    let ids = IDS.get_or_init(|| {
        ids_reaching(
            DynSchema::builtin(),
            |_| false,
            |t| t.generic_ref || t.name == "Object",
        )
    });
    leading_id(data).is_some_and(|id| ids.contains(&id))
}

/// Whether the definition whose id starts `data` may hold (directly, nested,
/// or through a `!X` query) a constructor with two parameters on the same
/// flag bit (channel's `restricted:flags.9?true` and
/// `restriction_reason:flags.9?Vector<..>`; config's `suggested_lang_code`,
/// `lang_pack_version` and `base_lang_pack_version` on `flags.2`).
pub(super) fn shares_flag_bit(data: &[u8]) -> bool {
    static IDS: OnceLock<HashSet<u32>> = OnceLock::new();
    let ids = IDS.get_or_init(|| {
        ids_reaching(
            DynSchema::builtin(),
            |d| {
                let flag = |p: &ParamDef| match &p.kind {
                    ParamKind::Normal { flag, .. } => flag.clone(),
                    ParamKind::Flags => None,
                };
                d.params.iter().enumerate().any(|(i, a)| {
                    flag(a).is_some() && d.params.iter().skip(i + 1).any(|b| flag(b) == flag(a))
                })
            },
            |t| t.generic_ref,
        )
    });
    leading_id(data).is_some_and(|id| ids.contains(&id))
}

/// Ids of every definition that is `base` or has a parameter whose type is
/// `base_type` or (nested in a vector, transitively) a type / bare
/// constructor with such a definition: a fixed point over the schema.
fn ids_reaching(
    schema: &DynSchema,
    base: impl Fn(&Def) -> bool,
    base_type: impl Fn(&TypeRef) -> bool,
) -> HashSet<u32> {
    fn mentions(
        t: &TypeRef,
        names: &HashSet<String>,
        base_type: &dyn Fn(&TypeRef) -> bool,
    ) -> bool {
        base_type(t)
            || names.contains(&t.name)
            || t.arg
                .as_deref()
                .is_some_and(|a| mentions(a, names, base_type))
    }
    // Type names and constructor names (for bare `%message` references).
    let mut names: HashSet<String> = HashSet::new();
    let mut ids = HashSet::new();
    loop {
        let before = ids.len();
        for d in schema.definitions() {
            let hit = base(d)
                || d.params.iter().any(|p| match &p.kind {
                    ParamKind::Normal { ty, .. } => mentions(ty, &names, &base_type),
                    ParamKind::Flags => false,
                });
            if hit && ids.insert(d.id) {
                names.insert(d.name.clone());
                if !d.is_function {
                    names.insert(d.result.name.clone());
                }
            }
        }
        if ids.len() == before {
            return ids;
        }
    }
}
