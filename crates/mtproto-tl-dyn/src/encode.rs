//! Schema-driven encoding of [`Value`] trees.

use mtproto_tl::{write_tl_bytes, BOOL_FALSE_ID, BOOL_TRUE_ID, GZIP_PACKED_ID, VECTOR_ID};

use crate::decode::{is_bare_ctor, Ctx};
use crate::schema::{Def, DynSchema, ParamKind, TypeRef};
use crate::value::{EncodeError, Value};

type Result<T> = core::result::Result<T, EncodeError>;

/// TL lengths are 24-bit.
const MAX_TL_BYTES: usize = (1 << 24) - 1;

fn mismatch(expected: &TypeRef, v: &Value) -> EncodeError {
    EncodeError::TypeMismatch {
        expected: expected.to_string(),
        found: v.kind(),
    }
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) -> Result<()> {
    if b.len() > MAX_TL_BYTES {
        return Err(EncodeError::TooLong);
    }
    write_tl_bytes(b, out);
    Ok(())
}

fn put_count(out: &mut Vec<u8>, n: usize) -> Result<()> {
    let n = i32::try_from(n).map_err(|_| EncodeError::TooLong)?;
    out.extend_from_slice(&n.to_le_bytes());
    Ok(())
}

pub(crate) struct Encoder<'s> {
    pub(crate) schema: &'s DynSchema,
}

impl Encoder<'_> {
    /// A `gzip_packed` wrapper: the original stream if `inner` still
    /// encodes to the same bytes, else freshly compressed.
    fn write_gzip(
        &self,
        out: &mut Vec<u8>,
        packed: &[u8],
        encode_inner: impl FnOnce(&mut Vec<u8>) -> Result<()>,
    ) -> Result<()> {
        let mut inner = Vec::new();
        encode_inner(&mut inner)?;
        out.extend_from_slice(&GZIP_PACKED_ID.to_le_bytes());
        let same = mtproto_tl::inflate_limited(packed, mtproto_tl::Limits::DEFAULT.max_gzip_size)
            .is_ok_and(|v| v == inner);
        if same {
            put_bytes(out, packed)
        } else {
            put_bytes(out, &mtproto_tl::deflate(&inner))
        }
    }

    /// Writes a value in an `Object` position: self-describing.
    pub(crate) fn write_any(&self, out: &mut Vec<u8>, v: &Value) -> Result<()> {
        match v {
            Value::Int(x) => out.extend_from_slice(&x.to_le_bytes()),
            Value::Long(x) => out.extend_from_slice(&x.to_le_bytes()),
            Value::Double(x) => out.extend_from_slice(&x.to_le_bytes()),
            Value::Int128(x) => out.extend_from_slice(x),
            Value::Int256(x) => out.extend_from_slice(x),
            Value::Bytes(b) => put_bytes(out, b)?,
            Value::String(s) => put_bytes(out, s.as_bytes())?,
            Value::Bool(b) => {
                let id = if *b { BOOL_TRUE_ID } else { BOOL_FALSE_ID };
                out.extend_from_slice(&id.to_le_bytes());
            }
            Value::True => {}
            Value::Vector(items) => {
                out.extend_from_slice(&VECTOR_ID.to_le_bytes());
                put_count(out, items.len())?;
                for item in items {
                    self.write_any(out, item)?;
                }
            }
            Value::Object { id, fields, .. } => {
                let def = self.schema.by_id(*id).ok_or(EncodeError::UnknownId(*id))?;
                out.extend_from_slice(&id.to_le_bytes());
                self.write_fields(out, def, fields)?;
            }
            Value::Gzip { inner, packed } => {
                self.write_gzip(out, packed, |o| self.write_any(o, inner))?
            }
        }
        Ok(())
    }

    /// Writes the fields of `def` (no id). `#` words are computed from the
    /// fields present, keeping any bits no field is conditioned on.
    pub(crate) fn write_fields(
        &self,
        out: &mut Vec<u8>,
        def: &Def,
        fields: &[(String, Value)],
    ) -> Result<()> {
        let get = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v);
        let present = |q: &crate::schema::ParamDef| {
            if q.is_true_flag() {
                matches!(get(&q.name), Some(Value::True | Value::Bool(true)))
            } else {
                get(&q.name).is_some()
            }
        };
        let mut skip_next = false;
        for (i, p) in def.params.iter().enumerate() {
            if skip_next {
                skip_next = false;
                continue;
            }
            match &p.kind {
                ParamKind::Flags => {
                    let mut known = 0u32;
                    let mut set = 0u32;
                    for q in &def.params {
                        if let ParamKind::Normal {
                            flag: Some((f, bit)),
                            ..
                        } = &q.kind
                        {
                            if *f == p.name {
                                let mask = 1u32.checked_shl(*bit).unwrap_or(0);
                                known |= mask;
                                if present(q) {
                                    set |= mask;
                                }
                            }
                        }
                    }
                    let stored = match get(&p.name) {
                        Some(Value::Int(x)) => *x as u32,
                        _ => 0,
                    };
                    let word = (stored & !known) | set;
                    out.extend_from_slice(&word.to_le_bytes());
                }
                ParamKind::Normal { ty, flag } => {
                    if flag.is_some() && !present(p) {
                        continue;
                    }
                    if ty.name == "true" {
                        continue;
                    }
                    let missing = || EncodeError::MissingField {
                        object: def.name.clone(),
                        field: p.name.clone(),
                    };
                    // `bytes:int body:Object`: the length of the body, computed.
                    let next = def.params.get(i + 1);
                    let bounded = p.name == "bytes"
                        && ty.name == "int"
                        && flag.is_none()
                        && next.is_some_and(|n| {
                            matches!(&n.kind, ParamKind::Normal { ty, flag: None } if ty.name == "Object")
                        });
                    if let (true, Some(next)) = (bounded, next) {
                        let body = get(&next.name).ok_or(EncodeError::MissingField {
                            object: def.name.clone(),
                            field: next.name.clone(),
                        })?;
                        let mut tmp = Vec::new();
                        self.write_any(&mut tmp, body)?;
                        put_count(out, tmp.len())?;
                        out.extend_from_slice(&tmp);
                        skip_next = true;
                        continue;
                    }
                    let v = get(&p.name).ok_or_else(missing)?;
                    self.write_type(out, ty, v, &Ctx::of(def))?;
                }
            }
        }
        Ok(())
    }

    /// Writes `v` as a value of type `ty`.
    pub(crate) fn write_type(
        &self,
        out: &mut Vec<u8>,
        ty: &TypeRef,
        v: &Value,
        cx: &Ctx<'_>,
    ) -> Result<()> {
        if ty.generic_ref || ty.name == "Object" || cx.tparams.contains(&ty.name) {
            return self.write_any(out, v);
        }
        match (ty.name.as_str(), v) {
            ("int", Value::Int(x)) => out.extend_from_slice(&x.to_le_bytes()),
            ("long", Value::Long(x)) => out.extend_from_slice(&x.to_le_bytes()),
            ("double", Value::Double(x)) => out.extend_from_slice(&x.to_le_bytes()),
            ("int128", Value::Int128(x)) => out.extend_from_slice(x),
            ("int256", Value::Int256(x)) => out.extend_from_slice(x),
            ("true", _) => {}
            ("string" | "bytes", Value::Bytes(b)) => put_bytes(out, b)?,
            ("string" | "bytes", Value::String(s)) => put_bytes(out, s.as_bytes())?,
            ("int" | "long" | "double" | "int128" | "int256" | "string" | "bytes", _) => {
                return Err(mismatch(ty, v))
            }
            (_, Value::Gzip { inner, packed }) => {
                self.write_gzip(out, packed, |o| self.write_type(o, ty, inner, cx))?
            }
            ("Vector", Value::Vector(items)) => {
                let elem = ty.arg.as_deref().ok_or_else(|| mismatch(ty, v))?;
                out.extend_from_slice(&VECTOR_ID.to_le_bytes());
                put_count(out, items.len())?;
                for item in items {
                    self.write_type(out, elem, item, cx)?;
                }
            }
            ("vector", Value::Vector(items)) => {
                let elem = ty.arg.as_deref().ok_or_else(|| mismatch(ty, v))?;
                put_count(out, items.len())?;
                for item in items {
                    self.write_type(out, elem, item, cx)?;
                }
            }
            ("Vector" | "vector", _) => return Err(mismatch(ty, v)),
            (_, Value::Bool(b)) => {
                let id = if *b { BOOL_TRUE_ID } else { BOOL_FALSE_ID };
                out.extend_from_slice(&id.to_le_bytes());
            }
            (_, Value::Object { id, name, fields }) => {
                if is_bare_ctor(ty) {
                    let def = self
                        .schema
                        .by_id(*id)
                        .filter(|d| d.name == *name)
                        .or_else(|| self.schema.constructor_from(name, cx.origin))
                        .ok_or_else(|| EncodeError::UnknownType(name.clone()))?;
                    self.write_fields(out, def, fields)?;
                } else {
                    let def = self.schema.by_id(*id).ok_or(EncodeError::UnknownId(*id))?;
                    if def.is_function || def.result.name != ty.name {
                        return Err(EncodeError::TypeMismatch {
                            expected: ty.to_string(),
                            found: "object of another type",
                        });
                    }
                    out.extend_from_slice(&id.to_le_bytes());
                    self.write_fields(out, def, fields)?;
                }
            }
            _ => return Err(mismatch(ty, v)),
        }
        Ok(())
    }
}
