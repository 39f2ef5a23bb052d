//! The model: the kept definitions indexed by name and Rust path, and the
//! items (structs) built from them.
//!
//! [`Model::new`] indexes the definitions (and reports Rust name clashes);
//! after the [`graph`](crate::graph) analyses have decided which fields are
//! boxed, [`Model::items`] turns every constructor and function into an
//! [`Item`] whose [`Field`]s carry their Rust types and [`FieldKind`]s. The
//! type classification helpers ([`fixed_size`], [`has_non_leaf`]) work on
//! those Rust types.

use std::collections::{BTreeMap, HashMap, HashSet};

use mtproto_tl_parser::{Category, Definition, ParamType, Schema, Type};

use crate::{names, schema_err, GenError};

/// How a parameter is stored and encoded.
#[derive(Clone, Debug)]
pub(crate) enum FieldKind {
    /// `name:#`: a flags word, computed, not stored.
    FlagsWord,
    /// `name:flags.N?true`: a bool.
    TrueFlag {
        /// The flags word holding the bit (its TL name).
        word: String,
        /// The bit number.
        bit: u32,
    },
    /// `name:flags.N?T`: an Option.
    Optional {
        /// The flags word holding the bit (its TL name).
        word: String,
        /// The bit number.
        bit: u32,
        /// The Rust type inside the `Option`.
        ty: String,
    },
    /// A plain field.
    Plain {
        /// The Rust type.
        ty: String,
    },
    /// `bytes:int` directly before an `Object`: computed, not stored.
    LenPrefix,
    /// The `Object` after `bytes:int`, bounded by it.
    Bounded {
        /// The Rust type.
        ty: String,
    },
}

/// One parameter of a definition.
#[derive(Clone, Debug)]
pub(crate) struct Field {
    /// Rust name (for a flags word, the TL name).
    pub(crate) name: String,
    /// TL text of the parameter.
    pub(crate) tl: String,
    /// How it is stored and encoded.
    pub(crate) kind: FieldKind,
}

impl Field {
    /// Whether the field is stored in the struct (flags words and length
    /// prefixes are computed when serializing).
    pub(crate) fn is_stored(&self) -> bool {
        !matches!(self.kind, FieldKind::FlagsWord | FieldKind::LenPrefix)
    }
}

/// A struct to emit (constructor or function).
#[derive(Clone, Debug)]
pub(crate) struct Item<'d, 'a> {
    /// The definition.
    pub(crate) def: &'d Definition<'a>,
    /// The struct's name (without its module).
    pub(crate) rust_name: String,
    /// The namespace module, if any.
    pub(crate) module: Option<String>,
    /// Every parameter, stored or not, in schema order.
    pub(crate) fields: Vec<Field>,
    /// The generic parameters (`{X:Type}`).
    pub(crate) generics: Vec<String>,
    /// For a function, the Rust type of `RemoteCall::Return`.
    pub(crate) ret: Option<String>,
}

impl Item<'_, '_> {
    /// The fields stored in the struct.
    pub(crate) fn stored(&self) -> Vec<&Field> {
        self.fields.iter().filter(|f| f.is_stored()).collect()
    }
}

/// The items of a schema: structs for constructors and for functions.
pub(crate) struct Items<'s, 'a> {
    /// Constructors (those of `Bool` excluded), in schema order.
    pub(crate) ctors: Vec<Item<'s, 'a>>,
    /// Functions, in schema order.
    pub(crate) fns: Vec<Item<'s, 'a>>,
}

/// The kept definitions, indexed by name and Rust path.
pub(crate) struct Model<'s, 'a> {
    /// Absolute path of the generated module, e.g. `crate::api`.
    module_path: String,
    /// The whole schema (for `%Type` lookups).
    schema: &'s Schema<'a>,
    /// Definitions kept (duplicates removed), builtins excluded.
    pub(crate) kept: Vec<&'s Definition<'a>>,
    /// Constructor full name -> struct path.
    pub(crate) ctor_path: HashMap<&'a str, String>,
    /// Type full name -> constructors (kept, non-Bool, non-Object types).
    pub(crate) type_ctors: BTreeMap<&'a str, Vec<&'s Definition<'a>>>,
    /// Type full name -> enum path.
    pub(crate) enum_path: HashMap<&'a str, String>,
}

/// Whether a boxed type gets no enum (`Bool` is `bool`, `Object` is
/// `crate::RawObject`).
fn is_skipped_type(name: &str) -> bool {
    name == "Bool" || name == "Object"
}

/// A type reference to the type named `name` (no argument).
pub(crate) fn type_named(name: &str) -> Type<'_> {
    Type {
        name,
        percent: false,
        generic_ref: false,
        arg: None,
    }
}

impl<'s, 'a> Model<'s, 'a> {
    /// Indexes `kept`: the Rust path of every struct and enum. Fails when
    /// two of them get the same path.
    pub(crate) fn new(
        schema: &'s Schema<'a>,
        module_path: &str,
        kept: Vec<&'s Definition<'a>>,
    ) -> Result<Self, GenError> {
        let mut m = Model {
            module_path: module_path.to_owned(),
            schema,
            kept,
            ctor_path: HashMap::new(),
            type_ctors: BTreeMap::new(),
            enum_path: HashMap::new(),
        };
        m.index()?;
        Ok(m)
    }

    /// The absolute path of an item of module `kind` (`types`, `enums` or
    /// `functions`) in namespace `d_ns`.
    pub(crate) fn path(&self, kind: &str, d_ns: Option<&str>, name: &str) -> String {
        match d_ns {
            Some(ns) => format!(
                "{}::{kind}::{}::{name}",
                self.module_path,
                names::module(ns)
            ),
            None => format!("{}::{kind}::{name}", self.module_path),
        }
    }

    /// Fills `ctor_path`, `type_ctors` and `enum_path`.
    fn index(&mut self) -> Result<(), GenError> {
        let mut taken: HashMap<String, &str> = HashMap::new();
        for d in &self.kept {
            let (kind, key) = match d.category {
                Category::Constructor => ("types", d.name),
                Category::Function => ("functions", d.name),
            };
            let path = self.path(kind, d.namespace(), &names::pascal(d.short_name()));
            if let Some(other) = taken.insert(path.clone(), d.name) {
                return Err(schema_err(
                    d,
                    format!("its Rust name {path} is also the name of {other}"),
                ));
            }
            if d.category == Category::Constructor {
                self.ctor_path.insert(key, path);
                if !is_skipped_type(d.result.name) {
                    self.type_ctors.entry(d.result.name).or_default().push(d);
                }
            }
        }
        for (t, ctors) in &self.type_ctors {
            let ns = type_named(t);
            let path = self.path("enums", ns.namespace(), &names::pascal(ns.short_name()));
            if let Some(other) = taken.insert(path.clone(), t) {
                if let Some(d) = ctors.first() {
                    return Err(schema_err(
                        d,
                        format!("type name {path} is also the name of {other}"),
                    ));
                }
            }
            self.enum_path.insert(t, path);
        }
        Ok(())
    }

    /// The only constructor of the type of a bare `%Type` reference (a
    /// lower-case bare reference names the constructor itself).
    fn bare_ctor(&self, ty: &Type<'a>) -> Option<Option<&'a str>> {
        if !ty
            .short_name()
            .starts_with(|c: char| c.is_ascii_uppercase())
        {
            return None;
        }
        let ctors: Vec<&Definition<'a>> = self.schema.constructors_of(ty.name).collect();
        Some(match ctors.as_slice() {
            [one] => Some(one.name),
            _ => None,
        })
    }

    /// The Rust type of a TL type reference in `d`.
    pub(crate) fn rust_type(
        &self,
        d: &Definition<'a>,
        ty: &Type<'a>,
        generics: &[String],
    ) -> Result<String, GenError> {
        if ty.generic_ref || generics.iter().any(|g| g == ty.name) {
            return Ok(ty.name.to_owned());
        }
        let arg = |m: &Self| -> Result<String, GenError> {
            match &ty.arg {
                Some(a) => m.rust_type(d, a, generics),
                None => Err(schema_err(d, format!("`{ty}` needs a type argument"))),
            }
        };
        let simple = match ty.name {
            "int" => Some("i32"),
            "long" => Some("i64"),
            "double" => Some("f64"),
            "int128" => Some("[u8; 16]"),
            "int256" => Some("[u8; 32]"),
            "string" => Some("String"),
            "bytes" => Some("Vec<u8>"),
            "Bool" => Some("bool"),
            "Object" => Some("crate::RawObject"),
            _ => None,
        };
        if let Some(s) = simple {
            return Ok(s.to_owned());
        }
        match ty.name {
            "Vector" => return Ok(format!("Vec<{}>", arg(self)?)),
            "vector" => return Ok(format!("crate::RawVec<{}>", arg(self)?)),
            _ => {}
        }
        if ty.is_bare() {
            // `%Type` names the type's only constructor; `ctor` names itself.
            let ctor = match self.bare_ctor(ty) {
                Some(Some(one)) => one,
                Some(None) => {
                    return Err(schema_err(
                        d,
                        format!("`{ty}`: a bare type needs exactly one constructor"),
                    ))
                }
                None => ty.name,
            };
            return match self.ctor_path.get(ctor) {
                Some(p) => Ok(format!("crate::Bare<{p}>")),
                None => Err(schema_err(
                    d,
                    format!("unknown constructor `{ctor}` in `{ty}`"),
                )),
            };
        }
        match self.enum_path.get(ty.name) {
            Some(p) => Ok(p.clone()),
            None => Err(schema_err(d, format!("unknown type `{ty}`"))),
        }
    }

    /// The graph node a type reference contains inline (not behind a
    /// `Vec`): a constructor name (bare references) or a type name.
    pub(crate) fn inline_target(&self, ty: &Type<'a>) -> Option<&'a str> {
        if ty.generic_ref || matches!(ty.name, "Vector" | "vector") {
            return None;
        }
        if ty.is_bare() {
            return match self.bare_ctor(ty) {
                Some(one) => one,
                None => self.ctor_path.contains_key(ty.name).then_some(ty.name),
            };
        }
        self.enum_path.contains_key(ty.name).then_some(ty.name)
    }

    /// Whether `target` (from [`Self::inline_target`] of `ty`) is a type,
    /// decoded through its enum, rather than a constructor used bare.
    pub(crate) fn targets_enum(&self, target: &str, ty: &Type<'a>) -> bool {
        self.enum_path.contains_key(target) && !ty.is_bare()
    }

    /// The items of every kept definition (constructors of `Bool`
    /// excluded); `boxed` lists the fields to box, by (definition name,
    /// param index). Fails on the first definition, in schema order, that
    /// cannot be generated, then on the first function whose result type
    /// cannot.
    pub(crate) fn items(
        &self,
        boxed: &HashSet<(&'a str, usize)>,
    ) -> Result<Items<'s, 'a>, GenError> {
        let mut ctors = Vec::new();
        let mut fns = Vec::new();
        for d in &self.kept {
            match d.category {
                Category::Constructor if d.result.name == "Bool" => {}
                Category::Constructor => ctors.push(self.build_item(d, boxed)?),
                Category::Function => fns.push(self.build_item(d, boxed)?),
            }
        }
        for it in &mut fns {
            it.ret = Some(self.return_type(it)?);
        }
        Ok(Items { ctors, fns })
    }

    /// The item of one definition.
    fn build_item(
        &self,
        d: &'s Definition<'a>,
        boxed: &HashSet<(&'a str, usize)>,
    ) -> Result<Item<'s, 'a>, GenError> {
        let generics: Vec<String> = d.type_params.iter().map(|t| t.name.to_owned()).collect();
        let mut fields = Vec::new();
        let mut used = HashSet::new();
        for (pi, p) in d.params.iter().enumerate() {
            let tl = p.to_string();
            let name = names::field(p.name);
            let kind = match &p.ty {
                ParamType::Flags => FieldKind::FlagsWord,
                ParamType::Normal { ty, flag } => {
                    let mut rt = self.rust_type(d, ty, &generics)?;
                    if boxed.contains(&(d.name, pi)) {
                        rt = format!("Box<{rt}>");
                    }
                    let next_is_object = matches!(
                        d.params.get(pi + 1).map(|n| &n.ty),
                        Some(ParamType::Normal { ty: t, flag: None }) if t.name == "Object"
                    );
                    let prev_is_len = pi > 0
                        && matches!(
                            d.params.get(pi - 1),
                            Some(prev) if prev.name == "bytes"
                                && matches!(
                                    &prev.ty,
                                    ParamType::Normal { ty: t, flag: None } if t.name == "int"
                                )
                        );
                    match flag {
                        Some(f) if ty.name == "true" => FieldKind::TrueFlag {
                            word: f.name.to_owned(),
                            bit: f.bit,
                        },
                        Some(f) => FieldKind::Optional {
                            word: f.name.to_owned(),
                            bit: f.bit,
                            ty: rt,
                        },
                        None if ty.name == "true" => {
                            return Err(schema_err(
                                d,
                                format!("`{tl}`: `true` is only supported as `flags.N?true`"),
                            ))
                        }
                        None if p.name == "bytes" && ty.name == "int" && next_is_object => {
                            FieldKind::LenPrefix
                        }
                        None if ty.name == "Object" && prev_is_len => FieldKind::Bounded { ty: rt },
                        None => FieldKind::Plain { ty: rt },
                    }
                }
            };
            let stored = !matches!(kind, FieldKind::FlagsWord | FieldKind::LenPrefix);
            if stored && !used.insert(name.clone()) {
                return Err(schema_err(d, format!("two fields are named `{name}`")));
            }
            fields.push(Field { name, tl, kind });
        }
        Ok(Item {
            def: d,
            rust_name: names::pascal(d.short_name()),
            module: d.namespace().map(names::module),
            fields,
            generics,
            ret: None,
        })
    }

    /// The Rust type of a function's result (`X::Return` for a generic
    /// `X`).
    fn return_type(&self, it: &Item<'s, 'a>) -> Result<String, GenError> {
        let d = it.def;
        if it.generics.iter().any(|g| g == d.result.name) && d.result.arg.is_none() {
            return Ok(format!("{}::Return", d.result.name));
        }
        if d.result.is_bare() && !matches!(d.result.name, "vector") {
            return Err(schema_err(d, format!("result type `{}` is bare", d.result)));
        }
        self.rust_type(d, &d.result, &[])
    }
}

/// Whether `it` has a field that is not a leaf: fixed-size numbers, `Bool`,
/// `string`/`bytes` (plain or optional), flags and `true` flags are leaves.
/// A constructor with only leaves decodes in a few loads and is inlined into
/// its callers; any other is decoded out of line (inlining it into every
/// enum and caller multiplies code size and stack moves for no gain).
pub(crate) fn has_non_leaf(it: &Item<'_, '_>) -> bool {
    let leaf = |ty: &str| fixed_size(ty, false).is_some() || matches!(ty, "String" | "Vec<u8>");
    it.fields.iter().any(|f| match &f.kind {
        FieldKind::FlagsWord | FieldKind::TrueFlag { .. } | FieldKind::LenPrefix => false,
        FieldKind::Optional { ty, .. } | FieldKind::Plain { ty } => !leaf(ty),
        FieldKind::Bounded { .. } => true,
    }) || !it.generics.is_empty()
}

/// Wire size of a field type that always encodes in the same number of
/// bytes (`Bool` counts when writing only: reading must check its id).
pub(crate) fn fixed_size(ty: &str, reading: bool) -> Option<usize> {
    match ty {
        "i32" => Some(4),
        "i64" | "f64" => Some(8),
        "[u8; 16]" => Some(16),
        "[u8; 32]" => Some(32),
        "bool" if !reading => Some(4),
        _ => None,
    }
}
