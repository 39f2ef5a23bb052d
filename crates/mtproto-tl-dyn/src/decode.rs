//! Schema-driven decoding.

use mtproto_tl::{DecodeErrorKind, Reader, BOOL_FALSE_ID, BOOL_TRUE_ID, GZIP_PACKED_ID, VECTOR_ID};

use crate::schema::{Def, DynSchema, ParamKind, TypeRef};
use crate::value::{DynError, DynErrorKind, Value};

type Result<T> = core::result::Result<T, DynError>;

/// What a boxed position accepts.
#[derive(Clone, Copy)]
pub(crate) enum Expect<'a> {
    /// A constructor of this boxed type.
    Type(&'a str),
    /// Any constructor or function (`Object`, a type variable).
    Any,
    /// A function (`!X`).
    Function,
}

impl Expect<'_> {
    fn describe(&self) -> String {
        match self {
            Expect::Type(t) => (*t).to_owned(),
            Expect::Any => "any object".to_owned(),
            Expect::Function => "a function".to_owned(),
        }
    }
}

/// Builtin scalar type names.
pub(crate) fn is_builtin_scalar(name: &str) -> bool {
    matches!(
        name,
        "int" | "long" | "double" | "int128" | "int256" | "string" | "bytes" | "true"
    )
}

/// True if a type reference names a constructor used bare (`%T`, or a
/// lower-case constructor name).
pub(crate) fn is_bare_ctor(ty: &TypeRef) -> bool {
    ty.percent
        || ty
            .short_name()
            .as_bytes()
            .first()
            .is_some_and(|c| c.is_ascii_lowercase())
}

fn map_sub(e: DynError, base: usize) -> DynError {
    DynError::new(e.kind, base.saturating_add(e.offset))
}

/// Reads a TL `bytes`/`string`, rejecting encodings that re-encoding could
/// not reproduce.
///
/// serialize.html: "If L <= 253, the serialization contains one byte with
/// the value of L, then L bytes of the string followed by 0 to 3 characters
/// containing 0 [...] If L >= 254, the serialization contains byte 254,
/// followed by 3 bytes with the string length L, followed by L bytes of the
/// string, further followed by 0 to 3 null padding bytes."
pub(crate) fn read_bytes_strict<'a>(r: &mut Reader<'a>) -> Result<&'a [u8]> {
    // mtproto-tl's reader enforces both rules; its error is reported as ours.
    r.read_tl_bytes().map_err(|e| match e.kind {
        DecodeErrorKind::NonCanonicalBytes => {
            DynError::new(DynErrorKind::NonCanonicalBytes, e.offset)
        }
        _ => e.into(),
    })
}

/// Where a type reference appears: the enclosing definition's type
/// parameters and source text.
pub(crate) struct Ctx<'a> {
    pub(crate) tparams: &'a [String],
    pub(crate) origin: usize,
}

impl<'a> Ctx<'a> {
    pub(crate) fn of(def: &'a Def) -> Self {
        Ctx {
            tparams: &def.type_params,
            origin: def.origin,
        }
    }

    /// A top-level type (no enclosing definition).
    pub(crate) const TOP: Ctx<'static> = Ctx {
        tparams: &[],
        origin: 0,
    };
}

pub(crate) struct Decoder<'s> {
    pub(crate) schema: &'s DynSchema,
    /// Objects left to decode. An untyped vector (a `vector` where any
    /// object may stand) is read by trial and fallback, and nested trials
    /// could otherwise re-read the same bytes an exponential number of times
    /// (a fuzzing finding); the budget bounds the total work linearly in the
    /// input size.
    pub(crate) budget: core::cell::Cell<usize>,
}

impl<'s> Decoder<'s> {
    /// A decoder for an input of `input_len` bytes: every object takes at
    /// least 4 bytes, so a straight decode needs at most `input_len / 4`
    /// objects; the budget allows 64 times that, for trial decoding.
    pub(crate) fn new(schema: &'s DynSchema, input_len: usize) -> Self {
        let budget = input_len.saturating_mul(16).saturating_add(4096);
        Self {
            schema,
            budget: core::cell::Cell::new(budget),
        }
    }
}

impl<'s> Decoder<'s> {
    /// Reads a boxed value: an id, then the fields.
    pub(crate) fn read_boxed(&self, r: &mut Reader<'_>, expect: Expect<'_>) -> Result<Value> {
        let start = r.offset();
        match self.budget.get().checked_sub(1) {
            Some(left) => self.budget.set(left),
            None => return Err(DynError::new(DynErrorKind::WorkLimitExceeded, start)),
        }
        let id = r.read_u32()?;
        if id == GZIP_PACKED_ID {
            return self.read_gzip(r, |d, inner| d.read_boxed(inner, expect));
        }
        let bool_ok = matches!(expect, Expect::Any | Expect::Type("Bool"));
        if bool_ok && id == BOOL_TRUE_ID {
            return Ok(Value::Bool(true));
        }
        if bool_ok && id == BOOL_FALSE_ID {
            return Ok(Value::Bool(false));
        }
        if id == VECTOR_ID && matches!(expect, Expect::Any) {
            return self.read_untyped_vector(r);
        }
        let unknown = || {
            DynError::new(
                DynErrorKind::UnknownConstructor {
                    id,
                    expected: expect.describe(),
                },
                start,
            )
        };
        let def = self.schema.by_id(id).ok_or_else(unknown)?;
        match expect {
            Expect::Any => {}
            Expect::Function if def.is_function => {}
            Expect::Function => return Err(unknown()),
            Expect::Type(t) => {
                if def.is_function {
                    return Err(unknown());
                }
                if def.result.name != t {
                    return Err(DynError::new(
                        DynErrorKind::WrongType {
                            name: def.name.clone(),
                            expected: t.to_owned(),
                        },
                        start,
                    ));
                }
            }
        }
        r.enter()?;
        let fields = self.read_fields(r, def)?;
        r.leave();
        Ok(Value::Object {
            name: def.name.clone(),
            id: def.id,
            fields,
        })
    }

    /// `gzip_packed#3072cfa1 packed_data:bytes = Object` (id already read):
    /// inflates within the cap and decodes exactly one value from it.
    fn read_gzip(
        &self,
        r: &mut Reader<'_>,
        decode: impl FnOnce(&Self, &mut Reader<'_>) -> Result<Value>,
    ) -> Result<Value> {
        let start = r.offset();
        let packed = read_bytes_strict(r)?;
        let limits = r.limits();
        // The amplification bound: this payload, and everything inflated
        // before it in the same input, within `max_inflated_total`.
        let inflated = mtproto_tl::inflate_limited(packed, r.inflate_allowance())
            .map_err(|k| DynError::new(DynErrorKind::Tl(k), start))?;
        r.add_inflated(inflated.len());
        let mut inner = Reader::with_limits(&inflated, limits);
        inner.add_inflated(r.inflated());
        for _ in 0..=r.depth() {
            inner.enter()?;
        }
        let v = decode(self, &mut inner);
        r.add_inflated(inner.inflated().saturating_sub(r.inflated()));
        let v = v?;
        inner.finish()?;
        Ok(Value::Gzip {
            inner: Box::new(v),
            packed: packed.to_vec(),
        })
    }

    /// A boxed vector where the element type is unknown (an `Object`
    /// position): boxed objects if every element decodes as one, else
    /// `long`s or `int`s by the bytes left.
    fn read_untyped_vector(&self, r: &mut Reader<'_>) -> Result<Value> {
        let start = r.offset();
        let raw = r.read_i32()?;
        let count = usize::try_from(raw).map_err(|_| {
            DynError::new(
                DynErrorKind::Tl(DecodeErrorKind::InvalidLength(raw.into())),
                start,
            )
        })?;
        let rest = r.rest();
        if !matches!(count.checked_mul(4), Some(n) if n <= rest.len()) {
            return Err(DynError::new(
                DynErrorKind::Tl(DecodeErrorKind::VectorTooLong { count }),
                start,
            ));
        }
        r.enter()?;
        // Trial: boxed objects.
        let mut trial = Reader::with_limits(rest, r.limits());
        trial.add_inflated(r.inflated());
        let mut ok = true;
        for _ in 0..r.depth() {
            if trial.enter().is_err() {
                ok = false;
            }
        }
        let mut items = Vec::with_capacity(count.min(1024));
        if ok {
            for _ in 0..count {
                match self.read_boxed(&mut trial, Expect::Any) {
                    Ok(v) => items.push(v),
                    Err(_) => {
                        ok = false;
                        break;
                    }
                }
            }
        }
        let out = if ok {
            r.take(trial.offset())?;
            r.absorb(&trial);
            items
        } else {
            let as_ints = count.checked_mul(4) == Some(rest.len());
            let longs_fit = count.checked_mul(8).is_some_and(|n| n <= rest.len());
            let mut v = Vec::with_capacity(count.min(1024));
            for _ in 0..count {
                v.push(if longs_fit && !as_ints {
                    Value::Long(r.read_i64()?)
                } else {
                    Value::Int(r.read_i32()?)
                });
            }
            v
        };
        r.leave();
        Ok(Value::Vector(out))
    }

    /// The parameters of `def`, in order.
    pub(crate) fn read_fields(
        &self,
        r: &mut Reader<'_>,
        def: &Def,
    ) -> Result<Vec<(String, Value)>> {
        let mut flags: Vec<(&str, u32)> = Vec::new();
        let mut fields: Vec<(String, Value)> = Vec::with_capacity(def.params.len());
        let mut prev_len: Option<i32> = None;
        for p in &def.params {
            let this_len = prev_len.take();
            match &p.kind {
                ParamKind::Flags => {
                    let w = r.read_u32()?;
                    flags.push((&p.name, w));
                    fields.push((p.name.clone(), Value::Int(w as i32)));
                }
                ParamKind::Normal { ty, flag } => {
                    if let Some((fname, bit)) = flag {
                        let word = flags
                            .iter()
                            .rev()
                            .find(|(n, _)| n == fname)
                            .map(|(_, w)| *w)
                            .ok_or_else(|| {
                                r.error_dyn(DynErrorKind::UnknownFlagsField(fname.clone()))
                            })?;
                        // TL: `flags.N?T` is present only if bit N of `flags` is set.
                        if word & 1u32.checked_shl(*bit).unwrap_or(0) == 0 {
                            continue;
                        }
                        if ty.name == "true" {
                            fields.push((p.name.clone(), Value::True));
                            continue;
                        }
                    }
                    let v = match this_len {
                        // `message msg_id:long seqno:int bytes:int body:Object`:
                        // the body is exactly `bytes` long.
                        Some(len) if flag.is_none() && ty.name == "Object" => {
                            self.read_bounded_object(r, len)?
                        }
                        _ => self.read_type(r, ty, &Ctx::of(def))?,
                    };
                    if p.name == "bytes" && ty.name == "int" && flag.is_none() {
                        if let Value::Int(n) = v {
                            prev_len = Some(n);
                        }
                    }
                    fields.push((p.name.clone(), v));
                }
            }
        }
        Ok(fields)
    }

    fn read_bounded_object(&self, r: &mut Reader<'_>, len: i32) -> Result<Value> {
        let start = r.offset();
        let len = usize::try_from(len).map_err(|_| {
            DynError::new(
                DynErrorKind::Tl(DecodeErrorKind::InvalidLength(len.into())),
                start,
            )
        })?;
        if len > r.remaining() {
            return Err(DynError::new(
                DynErrorKind::Tl(DecodeErrorKind::LengthTooLarge {
                    len,
                    remaining: r.remaining(),
                }),
                start,
            ));
        }
        let mut sub = r.sub(len)?;
        let v = self.read_boxed(&mut sub, Expect::Any);
        r.absorb(&sub);
        let v = v.map_err(|e| map_sub(e, start))?;
        sub.finish().map_err(|e| map_sub(e.into(), start))?;
        Ok(v)
    }

    /// Reads a value of type `ty`.
    pub(crate) fn read_type(
        &self,
        r: &mut Reader<'_>,
        ty: &TypeRef,
        cx: &Ctx<'_>,
    ) -> Result<Value> {
        if ty.generic_ref {
            return self.read_boxed(r, Expect::Function);
        }
        match ty.name.as_str() {
            "int" => return Ok(Value::Int(r.read_i32()?)),
            "long" => return Ok(Value::Long(r.read_i64()?)),
            "double" => return Ok(Value::Double(f64::from_le_bytes(r.take_array()?))),
            "int128" => return Ok(Value::Int128(r.take_array()?)),
            "int256" => return Ok(Value::Int256(r.take_array()?)),
            "true" => return Ok(Value::True),
            "bytes" => return Ok(Value::Bytes(read_bytes_strict(r)?.to_vec())),
            "string" => {
                let b = read_bytes_strict(r)?;
                return Ok(match core::str::from_utf8(b) {
                    Ok(s) => Value::String(s.to_owned()),
                    Err(_) => Value::Bytes(b.to_vec()),
                });
            }
            "Object" => return self.read_boxed(r, Expect::Any),
            _ => {}
        }
        if cx.tparams.contains(&ty.name) {
            return self.read_boxed(r, Expect::Any);
        }
        if let Some(arg) = &ty.arg {
            if ty.name == "Vector" {
                let start = r.offset();
                let id = r.read_u32()?;
                if id == GZIP_PACKED_ID {
                    return self.read_gzip(r, |d, inner| d.read_type(inner, ty, cx));
                }
                if id != VECTOR_ID {
                    return Err(DynError::new(
                        DynErrorKind::UnknownConstructor {
                            id,
                            expected: ty.to_string(),
                        },
                        start,
                    ));
                }
                return self.read_elements(r, arg, cx);
            }
            if ty.name == "vector" {
                return self.read_elements(r, arg, cx);
            }
            return Err(r.error_dyn(DynErrorKind::UnknownType(ty.to_string())));
        }
        if is_bare_ctor(ty) {
            let def = if ty.percent
                && !ty
                    .short_name()
                    .starts_with(|c: char| c.is_ascii_lowercase())
            {
                // `%Type`: the type's only constructor, bare.
                match self.schema.constructors_of(&ty.name).as_slice() {
                    [one] => Some(*one),
                    _ => None,
                }
            } else {
                self.schema.constructor_from(&ty.name, cx.origin)
            };
            let def = def.ok_or_else(|| r.error_dyn(DynErrorKind::UnknownType(ty.to_string())))?;
            r.enter()?;
            let fields = self.read_fields(r, def)?;
            r.leave();
            return Ok(Value::Object {
                name: def.name.clone(),
                id: def.id,
                fields,
            });
        }
        if ty.name != "Bool" && !self.schema.has_type(&ty.name) {
            return Err(r.error_dyn(DynErrorKind::UnknownType(ty.to_string())));
        }
        self.read_boxed(r, Expect::Type(&ty.name))
    }

    fn read_elements(&self, r: &mut Reader<'_>, elem: &TypeRef, cx: &Ctx<'_>) -> Result<Value> {
        let count = r.read_vector_len(self.min_len(elem, cx.origin, 0))?;
        r.enter()?;
        let mut items = Vec::with_capacity(count.min(1024));
        for _ in 0..count {
            items.push(self.read_type(r, elem, cx)?);
        }
        r.leave();
        Ok(Value::Vector(items))
    }

    /// The fewest bytes a value of `ty` occupies (for vector count checks).
    fn min_len(&self, ty: &TypeRef, origin: usize, depth: u32) -> usize {
        if ty.generic_ref {
            return 4;
        }
        match ty.name.as_str() {
            "int" | "string" | "bytes" => 4,
            "long" | "double" => 8,
            "int128" => 16,
            "int256" => 32,
            "true" => 0,
            "vector" => 4,
            "Vector" => 8,
            _ if is_bare_ctor(ty) && !is_builtin_scalar(&ty.name) => {
                if depth > 4 {
                    return 0;
                }
                match self.schema.constructor_from(&ty.name, origin) {
                    Some(def) => def
                        .params
                        .iter()
                        .map(|p| match &p.kind {
                            ParamKind::Flags => 4,
                            ParamKind::Normal { flag: Some(_), .. } => 0,
                            ParamKind::Normal { ty, flag: None } => {
                                self.min_len(ty, origin, depth + 1)
                            }
                        })
                        .fold(0usize, usize::saturating_add),
                    None => 0,
                }
            }
            _ => 4,
        }
    }
}

trait ErrorDyn {
    fn error_dyn(&self, kind: DynErrorKind) -> DynError;
}

impl ErrorDyn for Reader<'_> {
    fn error_dyn(&self, kind: DynErrorKind) -> DynError {
        DynError::new(kind, self.offset())
    }
}
