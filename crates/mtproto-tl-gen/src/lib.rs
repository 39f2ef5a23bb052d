//! Generates Rust source from a parsed TL schema.
//!
//! The output is meant to be `include!`d inside a module of the
//! `mtproto-tl` crate (so every path starts with `crate::`). For a schema
//! generated with [`Config::module_path`] `crate::api` it holds:
//!
//! - `types`: one struct per constructor (`types::InputPeerUser`,
//!   `types::help::ConfigSimple` for namespaces), with `Identifiable`,
//!   `Serialize`/`Deserialize` (boxed) and `BareSerialize`/`BareDeserialize`;
//! - `enums`: one enum per boxed type (`enums::InputPeer`), a unit variant
//!   for a constructor without parameters and a tuple variant holding the
//!   struct otherwise;
//! - `functions`: one struct per function implementing `RemoteCall`
//!   (`functions::messages::SetTyping`), generic over `X` for `{X:Type}`;
//! - `LAYER`, `name_for_id` and `decode_and_reencode`.
//!
//! Type mapping: `int` i32, `long` i64, `double` f64, `int128` `[u8; 16]`,
//! `int256` `[u8; 32]`, `string` String, `bytes` `Vec<u8>`, `Bool` bool,
//! `Vector<T>` `Vec<T>`, `vector<T>` `crate::RawVec<T>`, `%T` or a
//! lower-case constructor `crate::Bare<types::T>`, `Object` (and `!X` when
//! decoded without a type) `crate::RawObject`. `flags:#` words are not stored:
//! they are computed from the `Option` and `bool` (`flags.N?true`) fields when
//! serializing. An `Object` directly after an `int` named `bytes` (the
//! `message` constructor) is length-prefixed: the length is not stored
//! either, it is written from the body and bounds the body when reading.
//! Fields that would make a type infinitely large (a cycle through a
//! struct field) are boxed. Naming rules: see [`names`].
//!
//! Decoding is in place where it pays: a type that can hold a cheap
//! placeholder value (no `Box` needed) implements `support::Placeholder`;
//! small enums and the structs holding them implement
//! `deserialize_into`/`deserialize_bare_into`, which store each field and
//! variant straight into the destination, and `deserialize` decodes into a
//! placeholder. Out-of-line decoders are called through
//! `support::outlined` so the caller's reader stays in registers.
//!
//! The output is deterministic: items are sorted by name, the match arms of
//! `name_for_id` by id.

pub mod names;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::{self, Write as _};

use mtproto_tl_parser::{Category, Definition, ParamType, ParseError, Schema, Type};

/// Options for one generated schema module.
#[derive(Clone, Debug)]
pub struct Config<'c> {
    /// Absolute path of the module the output is included in, e.g.
    /// `crate::api`.
    pub module_path: &'c str,
    /// Layer to use when the schema has no `// LAYER N` comment.
    pub default_layer: i32,
    /// Name of the schema shown in the `@generated` header.
    pub source_name: &'c str,
}

/// The generated code and what the caller should report.
#[derive(Clone, Debug)]
pub struct Generated {
    /// Rust source, starting with a `// @generated` line.
    pub code: String,
    /// Definitions skipped because another one has the same id
    /// (`"skipped (line N) has the id #id of kept (line M); skipped"`). Of
    /// the definitions sharing an id, the one whose written id equals its
    /// computed CRC32 is kept (if exactly one does), else the first.
    pub skipped_duplicates: Vec<String>,
    /// True when the layer came from a `// LAYER N` comment.
    pub layer_from_schema: bool,
}

/// Why generation failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GenError {
    /// The schema text does not parse.
    Parse(ParseError),
    /// The schema parses but cannot be generated (unknown type, name clash...).
    Schema {
        /// 1-based line of the definition.
        line: u32,
        /// 1-based column of the definition.
        column: u32,
        /// What is wrong.
        message: String,
    },
}

impl fmt::Display for GenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GenError::Parse(e) => write!(f, "{e}"),
            GenError::Schema {
                line,
                column,
                message,
            } => write!(f, "{line}:{column}: {message}"),
        }
    }
}

impl std::error::Error for GenError {}

impl From<ParseError> for GenError {
    fn from(e: ParseError) -> Self {
        GenError::Parse(e)
    }
}

fn schema_err(d: &Definition<'_>, message: String) -> GenError {
    GenError::Schema {
        line: d.line,
        column: d.column,
        message: format!("{}: {message}", d.name),
    }
}

/// Parses `text` and generates code for it.
pub fn generate_from_text(text: &str, cfg: &Config<'_>) -> Result<Generated, GenError> {
    let schema = Schema::parse(text)?;
    generate(&schema, cfg)
}

/// Generates code for a parsed schema.
pub fn generate(schema: &Schema<'_>, cfg: &Config<'_>) -> Result<Generated, GenError> {
    Gen::new(schema, cfg)?.run()
}

/// How a parameter is stored and encoded.
#[derive(Clone, Debug)]
enum FieldKind {
    /// `name:#`: a flags word, computed, not stored.
    FlagsWord,
    /// `name:flags.N?true`: a bool.
    TrueFlag { word: String, bit: u32 },
    /// `name:flags.N?T`: an Option.
    Optional { word: String, bit: u32, ty: String },
    /// A plain field.
    Plain { ty: String },
    /// `bytes:int` directly before an `Object`: computed, not stored.
    LenPrefix,
    /// The `Object` after `bytes:int`, bounded by it.
    Bounded { ty: String },
}

#[derive(Clone, Debug)]
struct Field {
    /// Rust name (for a flags word, the TL name).
    name: String,
    /// TL text of the parameter.
    tl: String,
    kind: FieldKind,
}

/// A struct to emit (constructor or function).
#[derive(Clone, Debug)]
struct Item<'d, 'a> {
    def: &'d Definition<'a>,
    rust_name: String,
    module: Option<String>,
    fields: Vec<Field>,
    generics: Vec<String>,
}

struct Gen<'s, 'a, 'c> {
    cfg: &'c Config<'c>,
    schema: &'s Schema<'a>,
    /// Definitions kept (duplicates removed), builtins excluded.
    kept: Vec<&'s Definition<'a>>,
    skipped: Vec<String>,
    /// Constructor full name -> struct path.
    ctor_path: HashMap<&'a str, String>,
    /// Type full name -> constructors (kept, non-Bool, non-Object types).
    type_ctors: BTreeMap<&'a str, Vec<&'s Definition<'a>>>,
    /// Type full name -> enum path.
    enum_path: HashMap<&'a str, String>,
    /// Fields to box, by (definition name, param index).
    boxed: HashSet<(&'a str, usize)>,
    /// Constructors and functions with a placeholder value (no `Box`
    /// needed to build one): they decode in place.
    ph_defs: HashSet<&'a str>,
    /// Type full name -> the constructor its placeholder uses.
    ph_variant: HashMap<&'a str, &'s Definition<'a>>,
    /// Paths of the enums decoded in place into a field: those with a
    /// placeholder whose decoder is always inlined (see `SMALL_ENUM`).
    inplace_enums: HashSet<String>,
    /// Constructors with a field that is not a leaf (see [`has_non_leaf`]).
    non_leaf: HashSet<&'a str>,
}

/// Enums with at most this many constructors decode `#[inline(always)]`.
const SMALL_ENUM: usize = 32;

const ARB: &str = "#[cfg_attr(feature = \"arbitrary\", derive(arbitrary::Arbitrary))]";

fn is_skipped_type(name: &str) -> bool {
    name == "Bool" || name == "Object"
}

impl<'s, 'a, 'c> Gen<'s, 'a, 'c> {
    fn new(schema: &'s Schema<'a>, cfg: &'c Config<'c>) -> Result<Self, GenError> {
        let defs: Vec<&'s Definition<'a>> =
            schema.definitions().iter().filter(|d| !d.builtin).collect();
        let (kept, skipped) = dedup_ids(&defs);
        let mut g = Gen {
            cfg,
            schema,
            kept,
            skipped,
            ctor_path: HashMap::new(),
            type_ctors: BTreeMap::new(),
            enum_path: HashMap::new(),
            boxed: HashSet::new(),
            ph_defs: HashSet::new(),
            ph_variant: HashMap::new(),
            inplace_enums: HashSet::new(),
            non_leaf: HashSet::new(),
        };
        g.index()?;
        g.find_boxed()?;
        g.find_placeholders();
        Ok(g)
    }

    /// Whether every stored field of `d` can hold a placeholder, given the
    /// types known so far to have one.
    fn fields_have_placeholder(&self, d: &Definition<'a>, types: &HashSet<&'a str>) -> bool {
        let generics: Vec<&str> = d.type_params.iter().map(|t| t.name).collect();
        d.params.iter().enumerate().all(|(pi, p)| {
            let ParamType::Normal { ty, flag } = &p.ty else {
                return true; // a flags word: not stored
            };
            if flag.is_some() {
                return true; // Option or bool
            }
            if self.boxed.contains(&(d.name, pi)) || ty.generic_ref || generics.contains(&ty.name) {
                return false;
            }
            match self.inline_targets(ty) {
                // A constructor used bare, or a boxed type.
                Some(t) if self.enum_path.contains_key(t) && !ty.is_bare() => types.contains(t),
                Some(c) => self
                    .kept
                    .iter()
                    .find(|k| k.name == c)
                    .is_some_and(|k| self.fields_have_placeholder(k, types)),
                // Numbers, strings, bytes, Bool, Object, vectors.
                None => true,
            }
        })
    }

    /// Finds which types and definitions have a placeholder value. Only
    /// unboxed fields are followed, and boxing breaks every cycle of inline
    /// containment, so the placeholders never refer to themselves.
    fn find_placeholders(&mut self) {
        let mut types: HashSet<&'a str> = HashSet::new();
        loop {
            let before = types.len();
            for (t, ctors) in &self.type_ctors {
                if !types.contains(t)
                    && ctors
                        .iter()
                        .any(|c| self.fields_have_placeholder(c, &types))
                {
                    types.insert(t);
                }
            }
            if types.len() == before {
                break;
            }
        }
        for d in &self.kept {
            if self.fields_have_placeholder(d, &types) {
                self.ph_defs.insert(d.name);
            }
        }
        // A variant without data if there is one, else the first by name.
        for (t, ctors) in &self.type_ctors {
            let mut cands: Vec<&'s Definition<'a>> = ctors
                .iter()
                .copied()
                .filter(|c| self.ph_defs.contains(c.name))
                .collect();
            cands.sort_by_key(|c| (!c.params.is_empty(), c.name));
            if let Some(c) = cands.first() {
                self.ph_variant.insert(t, c);
                if ctors.len() <= SMALL_ENUM {
                    if let Some(p) = self.enum_path.get(t) {
                        self.inplace_enums.insert(p.clone());
                    }
                }
            }
        }
    }

    fn path(&self, kind: &str, d_ns: Option<&str>, name: &str) -> String {
        match d_ns {
            Some(ns) => format!(
                "{}::{kind}::{}::{name}",
                self.cfg.module_path,
                names::module(ns)
            ),
            None => format!("{}::{kind}::{name}", self.cfg.module_path),
        }
    }

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
            let ns = mtproto_tl_parser::Type {
                name: t,
                percent: false,
                generic_ref: false,
                arg: None,
            };
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

    /// The Rust type of a TL type reference. `boxed` wraps it in a `Box`.
    fn rust_type(
        &self,
        d: &Definition<'a>,
        ty: &Type<'a>,
        generics: &[String],
    ) -> Result<String, GenError> {
        if ty.generic_ref || generics.iter().any(|g| g == ty.name) {
            return Ok(ty.name.to_owned());
        }
        let arg = |g: &Self| -> Result<String, GenError> {
            match &ty.arg {
                Some(a) => g.rust_type(d, a, generics),
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
            let ctor = if ty
                .short_name()
                .starts_with(|c: char| c.is_ascii_uppercase())
            {
                let ctors: Vec<&Definition<'a>> = self.schema.constructors_of(ty.name).collect();
                match ctors.as_slice() {
                    [one] => one.name,
                    _ => {
                        return Err(schema_err(
                            d,
                            format!("`{ty}`: a bare type needs exactly one constructor"),
                        ))
                    }
                }
            } else {
                ty.name
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

    /// Graph nodes a type reference contains inline (not behind a Vec).
    fn inline_targets(&self, ty: &Type<'a>) -> Option<&'a str> {
        if ty.generic_ref || matches!(ty.name, "Vector" | "vector") {
            return None;
        }
        if ty.is_bare() {
            if ty
                .short_name()
                .starts_with(|c: char| c.is_ascii_uppercase())
            {
                let ctors: Vec<&Definition<'a>> = self.schema.constructors_of(ty.name).collect();
                return match ctors.as_slice() {
                    [one] => Some(one.name),
                    _ => None,
                };
            }
            return self.ctor_path.contains_key(ty.name).then_some(ty.name);
        }
        self.enum_path.contains_key(ty.name).then_some(ty.name)
    }

    /// Boxes every struct field whose target is in the same strongly
    /// connected component as the struct (that breaks every cycle of
    /// inline containment, so every type has a finite size).
    fn find_boxed(&mut self) -> Result<(), GenError> {
        // Node names: constructor names and type names never collide in case
        // (constructors start lower case, types upper case), but to be safe
        // prefix them.
        let mut nodes: Vec<String> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut edges: Vec<Vec<usize>> = Vec::new();
        let mut node = |name: String, nodes: &mut Vec<String>, edges: &mut Vec<Vec<usize>>| {
            if let Some(&i) = index.get(&name) {
                return i;
            }
            let i = nodes.len();
            index.insert(name.clone(), i);
            nodes.push(name);
            edges.push(Vec::new());
            i
        };
        let mut field_edges: Vec<(&'a str, usize, usize, usize)> = Vec::new();
        for d in &self.kept {
            if d.category != Category::Constructor {
                continue;
            }
            let s = node(format!("c:{}", d.name), &mut nodes, &mut edges);
            for (pi, p) in d.params.iter().enumerate() {
                let ParamType::Normal { ty, .. } = &p.ty else {
                    continue;
                };
                if let Some(t) = self.inline_targets(ty) {
                    let key = if self.enum_path.contains_key(t) && !ty.is_bare() {
                        format!("t:{t}")
                    } else {
                        format!("c:{t}")
                    };
                    let ti = node(key, &mut nodes, &mut edges);
                    if let Some(e) = edges.get_mut(s) {
                        e.push(ti);
                    }
                    field_edges.push((d.name, pi, s, ti));
                }
            }
        }
        for (t, ctors) in &self.type_ctors {
            let ti = node(format!("t:{t}"), &mut nodes, &mut edges);
            for c in ctors {
                let ci = node(format!("c:{}", c.name), &mut nodes, &mut edges);
                if let Some(e) = edges.get_mut(ti) {
                    e.push(ci);
                }
            }
        }
        let comp = scc(&edges);
        for (name, pi, s, t) in field_edges {
            if comp.get(s) == comp.get(t) {
                self.boxed.insert((name, pi));
            }
        }
        Ok(())
    }

    fn build_item(&self, d: &'s Definition<'a>) -> Result<Item<'s, 'a>, GenError> {
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
                    if self.boxed.contains(&(d.name, pi)) {
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
                                && matches!(&prev.ty, ParamType::Normal { ty: t, flag: None } if t.name == "int")
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
            fields.push(Field {
                name: if stored { name } else { names::field(p.name) },
                tl,
                kind,
            });
        }
        Ok(Item {
            def: d,
            rust_name: names::pascal(d.short_name()),
            module: d.namespace().map(names::module),
            fields,
            generics,
        })
    }

    fn run(mut self) -> Result<Generated, GenError> {
        let layer = self.schema.layer();
        let mut out = String::with_capacity(self.kept.len() * 2500);
        let _ = writeln!(
            out,
            "// @generated by mtproto-tl-gen from {}. Do not edit by hand.",
            self.cfg.source_name
        );
        out.push('\n');
        let _ = writeln!(
            out,
            "/// The TL layer of this schema ({}).",
            if layer.is_some() {
                "from its `// LAYER N` comment"
            } else {
                "the schema has no `// LAYER N` comment; default"
            }
        );
        let _ = writeln!(
            out,
            "pub const LAYER: i32 = {};\n",
            layer.unwrap_or(self.cfg.default_layer)
        );

        // Structs for constructors (Bool's excluded) and functions.
        let mut ctor_items = Vec::new();
        let mut fn_items = Vec::new();
        for d in &self.kept {
            match d.category {
                Category::Constructor if d.result.name == "Bool" => {}
                Category::Constructor => ctor_items.push(self.build_item(d)?),
                Category::Function => fn_items.push(self.build_item(d)?),
            }
        }
        for d in &fn_items {
            self.return_type(d)?;
        }
        self.non_leaf = ctor_items
            .iter()
            .filter(|it| has_non_leaf(it))
            .map(|it| it.def.name)
            .collect();

        out.push_str(
            "/// One struct per constructor: its fields, id, and boxed and bare encodings.\n",
        );
        out.push_str("pub mod types {\n");
        self.emit_grouped(&mut out, &ctor_items, |g, o, it| {
            g.emit_struct(o, it, false)
        })?;
        out.push_str("}\n\n");

        out.push_str("/// One enum per boxed type, with a variant per constructor.\n");
        out.push_str("pub mod enums {\n");
        let mut by_ns: BTreeMap<Option<String>, Vec<(String, &str)>> = BTreeMap::new();
        for t in self.type_ctors.keys() {
            let ty = mtproto_tl_parser::Type {
                name: t,
                percent: false,
                generic_ref: false,
                arg: None,
            };
            by_ns
                .entry(ty.namespace().map(names::module))
                .or_default()
                .push((names::pascal(ty.short_name()), t));
        }
        for (ns, mut list) in by_ns {
            list.sort();
            let indent = if ns.is_some() { "    " } else { "" };
            if let Some(ns) = &ns {
                let _ = writeln!(out, "    /// Namespace `{ns}`.\n    pub mod {ns} {{");
            }
            for (name, t) in list {
                self.emit_enum(&mut out, indent, &name, t)?;
            }
            if ns.is_some() {
                out.push_str("    }\n");
            }
        }
        out.push_str("}\n\n");

        out.push_str("/// One struct per function (RPC method), implementing `RemoteCall`.\n");
        out.push_str("pub mod functions {\n");
        self.emit_grouped(&mut out, &fn_items, |g, o, it| g.emit_struct(o, it, true))?;
        out.push_str("}\n\n");

        self.emit_name_for_id(&mut out);
        self.emit_decode_and_reencode(&mut out);

        Ok(Generated {
            code: out,
            skipped_duplicates: self.skipped,
            layer_from_schema: layer.is_some(),
        })
    }

    fn emit_grouped(
        &self,
        out: &mut String,
        items: &[Item<'s, 'a>],
        emit: impl Fn(&Self, &mut String, &Item<'s, 'a>) -> Result<(), GenError>,
    ) -> Result<(), GenError> {
        let mut by_ns: BTreeMap<Option<&str>, Vec<&Item<'s, 'a>>> = BTreeMap::new();
        for it in items {
            by_ns.entry(it.module.as_deref()).or_default().push(it);
        }
        for (ns, mut list) in by_ns {
            list.sort_by(|a, b| a.rust_name.cmp(&b.rust_name));
            if let Some(ns) = ns {
                let _ = writeln!(out, "    /// Namespace `{ns}`.\n    pub mod {ns} {{");
            }
            for it in list {
                emit(self, out, it)?;
            }
            if ns.is_some() {
                out.push_str("    }\n");
            }
        }
        Ok(())
    }

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

    fn emit_struct(
        &self,
        out: &mut String,
        it: &Item<'s, 'a>,
        is_fn: bool,
    ) -> Result<(), GenError> {
        let ind = if it.module.is_some() {
            "        "
        } else {
            "    "
        };
        let d = it.def;
        let name = &it.rust_name;
        let (gdecl, guse) = if it.generics.is_empty() {
            (String::new(), String::new())
        } else {
            let g = it.generics.join(", ");
            (format!("<{g}>"), format!("<{g}>"))
        };
        let bound = |b: &str| -> String {
            if it.generics.is_empty() {
                String::new()
            } else {
                let parts: Vec<String> = it.generics.iter().map(|g| format!("{g}: {b}")).collect();
                format!("<{}>", parts.join(", "))
            }
        };
        let what = if is_fn { "function" } else { "constructor" };
        let _ = writeln!(out, "{ind}/// TL {what} `{}`.", d.display_source());
        let _ = writeln!(out, "{ind}#[derive(Clone, Debug, PartialEq)]");
        let _ = writeln!(out, "{ind}{ARB}");
        let stored: Vec<&Field> = it
            .fields
            .iter()
            .filter(|f| !matches!(f.kind, FieldKind::FlagsWord | FieldKind::LenPrefix))
            .collect();
        if stored.is_empty() && it.generics.is_empty() {
            let _ = writeln!(out, "{ind}pub struct {name};");
        } else {
            let _ = writeln!(out, "{ind}pub struct {name}{gdecl} {{");
            for f in &stored {
                let ty = match &f.kind {
                    FieldKind::TrueFlag { .. } => "bool".to_owned(),
                    FieldKind::Optional { ty, .. } => format!("Option<{ty}>"),
                    FieldKind::Plain { ty } | FieldKind::Bounded { ty } => ty.clone(),
                    FieldKind::FlagsWord | FieldKind::LenPrefix => continue,
                };
                let extra = match &f.kind {
                    FieldKind::Bounded { .. } => {
                        " (its length, the `bytes` field, is written when serializing)"
                    }
                    _ => "",
                };
                let _ = writeln!(out, "{ind}    /// `{}`{extra}", f.tl);
                let _ = writeln!(out, "{ind}    pub {}: {ty},", f.name);
            }
            let _ = writeln!(out, "{ind}}}");
        }
        let full = format!("{name}{guse}");
        let _ = writeln!(
            out,
            "{ind}impl{gdecl} crate::Identifiable for {full} {{\n{ind}    const CONSTRUCTOR_ID: u32 = {:#010x};\n{ind}}}",
            d.id
        );

        // Bare serialization.
        let _ = writeln!(
            out,
            "{ind}impl{} crate::BareSerialize for {full} {{",
            bound("crate::Serialize")
        );
        let out_var = if it.fields.is_empty() { "_out" } else { "out" };
        let _ = writeln!(
            out,
            "{ind}    #[inline]\n{ind}    fn serialize_bare(&self, {out_var}: &mut Vec<u8>) {{"
        );
        out.push_str(&ser_body(it, None, &format!("{ind}        ")));
        let _ = writeln!(out, "{ind}    }}\n{ind}}}");

        // In place when the struct can hold a placeholder and has a field
        // of an enum decoded in place: decoding writes each field straight
        // into the destination (no enum built in a temporary and moved
        // through memory); `deserialize` decodes into a placeholder. Any
        // other struct is built from locals and returned.
        let has_ph = self.ph_defs.contains(d.name) && it.generics.is_empty() && !stored.is_empty();
        let in_place = has_ph
            && it.fields.iter().any(
                |f| matches!(&f.kind, FieldKind::Plain { ty } if self.inplace_enums.contains(ty)),
            );
        if has_ph {
            let inits: Vec<String> = stored
                .iter()
                .map(|f| {
                    let v = match &f.kind {
                        FieldKind::TrueFlag { .. } => "false".to_owned(),
                        FieldKind::Optional { .. } => "None".to_owned(),
                        FieldKind::Plain { ty } | FieldKind::Bounded { ty } => {
                            format!("<{ty} as crate::support::Placeholder>::placeholder()")
                        }
                        FieldKind::FlagsWord | FieldKind::LenPrefix => String::new(),
                    };
                    format!("{ind}            {}: {v},", f.name)
                })
                .collect();
            let _ = writeln!(
                out,
                "{ind}impl crate::support::Placeholder for {full} {{\n{ind}    #[inline(always)]\n{ind}    fn placeholder() -> Self {{\n{ind}        Self {{\n{}\n{ind}        }}\n{ind}    }}\n{ind}}}",
                inits.join("\n")
            );
        }

        // Bare deserialization.
        let _ = writeln!(
            out,
            "{ind}impl{} crate::BareDeserialize for {full} {{",
            bound("crate::Deserialize")
        );
        // Only a constructor with a field in its own cycle of containment
        // (the boxed fields) counts a level of nesting depth: every unbounded
        // recursion goes through one of them or through a vector (which
        // counts its own level), so the depth limit still stops deep
        // recursion while every other constructor skips the bookkeeping.
        let nests = (0..d.params.len()).any(|pi| self.boxed.contains(&(d.name, pi)));
        let r_var = if it.fields.is_empty() && !nests {
            "_r"
        } else {
            "r"
        };
        // Functions are top-level values: inlined into their one caller.
        let bare_inline = if has_non_leaf(it) && !is_fn {
            "#[inline(never)]"
        } else {
            "#[inline]"
        };
        if in_place {
            let _ = writeln!(
                out,
                "{ind}    #[inline]\n{ind}    fn deserialize_bare(r: &mut crate::Reader<'_>) -> crate::Result<Self> {{\n{ind}        let mut v = <Self as crate::support::Placeholder>::placeholder();\n{ind}        crate::BareDeserialize::deserialize_bare_into(r, &mut v)?;\n{ind}        Ok(v)\n{ind}    }}"
            );
            let _ = writeln!(
                out,
                "{ind}    {bare_inline}\n{ind}    fn deserialize_bare_into(r: &mut crate::Reader<'_>, out: &mut Self) -> crate::Result<()> {{"
            );
        } else {
            let _ = writeln!(
                out,
                "{ind}    {bare_inline}\n{ind}    fn deserialize_bare({r_var}: &mut crate::Reader<'_>) -> crate::Result<Self> {{"
            );
        }
        if nests {
            let _ = writeln!(out, "{ind}        r.enter()?;");
        }
        out.push_str(&de_body(
            it,
            &format!("{ind}        "),
            in_place.then_some(&self.inplace_enums),
        ));
        if nests {
            let _ = writeln!(out, "{ind}        r.leave();");
        }
        if in_place {
            let _ = writeln!(out, "{ind}        Ok(())");
        } else if stored.is_empty() && it.generics.is_empty() {
            let _ = writeln!(out, "{ind}        Ok(Self)");
        } else {
            let inits: Vec<String> = stored
                .iter()
                .map(|f| format!("{}: f_{}", f.name, f.name))
                .collect();
            let _ = writeln!(out, "{ind}        Ok(Self {{ {} }})", inits.join(", "));
        }
        let _ = writeln!(out, "{ind}    }}\n{ind}}}");

        // Boxed: the id and the leading fixed-size fields in one write. A
        // constructor with a field that is not a leaf is written out of
        // line, so that an enum's `serialize` stays a small dispatch (no
        // large stack frame for the simple variants).
        let ser_inline = if has_non_leaf(it) && !is_fn {
            "#[inline(never)]"
        } else {
            "#[inline]"
        };
        let _ = writeln!(
            out,
            "{ind}impl{} crate::Serialize for {full} {{\n{ind}    {ser_inline}\n{ind}    fn serialize(&self, out: &mut Vec<u8>) {{",
            bound("crate::Serialize")
        );
        out.push_str(&ser_body(it, Some(d.id), &format!("{ind}        ")));
        let _ = writeln!(out, "{ind}    }}\n{ind}}}");
        if in_place {
            let _ = writeln!(
                out,
                "{ind}impl crate::Deserialize for {full} {{\n{ind}    #[inline]\n{ind}    fn deserialize(r: &mut crate::Reader<'_>) -> crate::Result<Self> {{\n{ind}        let mut v = <Self as crate::support::Placeholder>::placeholder();\n{ind}        crate::Deserialize::deserialize_into(r, &mut v)?;\n{ind}        Ok(v)\n{ind}    }}\n{ind}    #[inline]\n{ind}    fn deserialize_into(r: &mut crate::Reader<'_>, out: &mut Self) -> crate::Result<()> {{\n{ind}        let id = r.read_u32()?;\n{ind}        if id == {:#010x} {{\n{ind}            crate::BareDeserialize::deserialize_bare_into(r, out)\n{ind}        }} else {{\n{ind}            *out = crate::support::outlined(r, |r| crate::support::read_unlisted(r, id, {:?}, Self::deserialize))?;\n{ind}            Ok(())\n{ind}        }}\n{ind}    }}\n{ind}}}",
                d.id,
                d.name
            );
        } else {
            let _ = writeln!(
                out,
                "{ind}impl{} crate::Deserialize for {full} {{\n{ind}    #[inline]\n{ind}    fn deserialize(r: &mut crate::Reader<'_>) -> crate::Result<Self> {{\n{ind}        let id = r.read_u32()?;\n{ind}        if id == {:#010x} {{\n{ind}            crate::BareDeserialize::deserialize_bare(r)\n{ind}        }} else {{\n{ind}            crate::support::outlined(r, |r| crate::support::read_unlisted(r, id, {:?}, Self::deserialize))\n{ind}        }}\n{ind}    }}\n{ind}}}",
                bound("crate::Deserialize"),
                d.id,
                d.name
            );
        }
        if is_fn {
            let ret = self.return_type(it)?;
            let b = if ret.ends_with("::Return")
                && it.generics.iter().any(|g| ret.starts_with(g.as_str()))
            {
                bound("crate::RemoteCall")
            } else {
                bound("crate::Serialize")
            };
            let _ = writeln!(
                out,
                "{ind}impl{b} crate::RemoteCall for {full} {{\n{ind}    type Return = {ret};\n{ind}}}"
            );
        }
        Ok(())
    }

    fn variant_names(&self, enum_name: &str, ctors: &[&Definition<'a>]) -> Vec<String> {
        let full: Vec<String> = ctors
            .iter()
            .map(|c| names::pascal(c.short_name()))
            .collect();
        let cand: Vec<String> = full
            .iter()
            .map(|f| match f.strip_prefix(enum_name) {
                Some(rest)
                    if rest.starts_with(|c: char| c.is_ascii_uppercase()) && rest != "Self" =>
                {
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

    fn emit_enum(&self, out: &mut String, ind0: &str, name: &str, t: &str) -> Result<(), GenError> {
        let ind = format!("{ind0}    ");
        let Some(ctors) = self.type_ctors.get(t) else {
            return Ok(());
        };
        let variants = self.variant_names(name, ctors);
        let mut rows: Vec<(String, &Definition<'a>)> =
            variants.into_iter().zip(ctors.iter().copied()).collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        let _ = writeln!(out, "{ind}/// TL type `{t}`.");
        let _ = writeln!(out, "{ind}#[derive(Clone, Debug, PartialEq)]");
        let _ = writeln!(out, "{ind}{ARB}");
        let _ = writeln!(out, "{ind}pub enum {name} {{");
        for (v, c) in &rows {
            let _ = writeln!(out, "{ind}    /// `{}`", c.display_source());
            if c.params.is_empty() {
                let _ = writeln!(out, "{ind}    {v},");
            } else {
                let p = self.ctor_path.get(c.name).cloned().unwrap_or_default();
                let _ = writeln!(out, "{ind}    {v}({p}),");
            }
        }
        let _ = writeln!(out, "{ind}}}");
        // constructor_id
        let _ = writeln!(out, "{ind}impl {name} {{");
        let _ = writeln!(out, "{ind}    /// The constructor id of this value.");
        let _ = writeln!(out, "{ind}    #[inline]");
        let _ = writeln!(out, "{ind}    pub fn constructor_id(&self) -> u32 {{");
        let _ = writeln!(out, "{ind}        match self {{");
        for (v, c) in &rows {
            let pat = if c.params.is_empty() {
                String::new()
            } else {
                "(_)".to_owned()
            };
            let _ = writeln!(out, "{ind}            Self::{v}{pat} => {:#010x},", c.id);
        }
        let _ = writeln!(out, "{ind}        }}\n{ind}    }}\n{ind}}}");
        // Serialize: one match; a variant's struct writes its own id.
        let _ = writeln!(out, "{ind}impl crate::Serialize for {name} {{");
        let _ = writeln!(
            out,
            "{ind}    #[inline]\n{ind}    fn serialize(&self, out: &mut Vec<u8>) {{"
        );
        let _ = writeln!(out, "{ind}        match self {{");
        for (v, c) in &rows {
            if c.params.is_empty() {
                let _ = writeln!(
                    out,
                    "{ind}            Self::{v} => out.extend_from_slice(&{:#010x}u32.to_le_bytes()),",
                    c.id
                );
            } else {
                let _ = writeln!(
                    out,
                    "{ind}            Self::{v}(x) => crate::Serialize::serialize(x, out),"
                );
            }
        }
        let _ = writeln!(out, "{ind}        }}\n{ind}    }}\n{ind}}}");
        // Deserialize: the listed ids first; gzip_packed and unknown ids on
        // the cold path.
        // Small enums are always inlined: the match is a few compares plus
        // leaf constructors' loads (other constructors are calls), and
        // inlined it writes straight into the caller's value. No depth
        // bookkeeping here: recursive constructors count the level.
        let inline = if rows.len() <= SMALL_ENUM {
            "#[inline(always)]"
        } else {
            "#[inline]"
        };
        let mut by_id = rows.clone();
        by_id.sort_by_key(|(_, c)| c.id);
        // One arm per constructor, by id; `assign` is `""` (the arm is the
        // value) or `"*out = "` (the arm stores it).
        let emit_arms = |out: &mut String, assign: &str| {
            for (v, c) in &by_id {
                if c.params.is_empty() {
                    let _ = writeln!(out, "{ind}            {:#010x} => {assign}Self::{v},", c.id);
                } else {
                    let _ = writeln!(
                        out,
                        "{ind}            {:#010x} => {assign}Self::{v}(crate::support::outlined(r, crate::BareDeserialize::deserialize_bare)?),",
                        c.id
                    );
                }
            }
        };
        let _ = writeln!(out, "{ind}impl crate::Deserialize for {name} {{");
        let Some(ph) = self.ph_variant.get(t) else {
            // No placeholder: build the value and return it.
            let _ = writeln!(
                out,
                "{ind}    {inline}\n{ind}    fn deserialize(r: &mut crate::Reader<'_>) -> crate::Result<Self> {{"
            );
            let _ = writeln!(out, "{ind}        let id = r.read_u32()?;");
            let _ = writeln!(out, "{ind}        Ok(match id {{");
            emit_arms(out, "");
            let _ = writeln!(
                out,
                "{ind}            _ => return crate::support::outlined(r, |r| crate::support::read_unlisted(r, id, {t:?}, Self::deserialize)),"
            );
            let _ = writeln!(out, "{ind}        }})\n{ind}    }}\n{ind}}}");
            self.emit_from(out, &ind, name, &rows);
            return Ok(());
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
            let p = self.ctor_path.get(ph.name).cloned().unwrap_or_default();
            format!("Self::{ph_v}(<{p} as crate::support::Placeholder>::placeholder())")
        };
        let _ = writeln!(
            out,
            "{ind}    {inline}\n{ind}    fn deserialize(r: &mut crate::Reader<'_>) -> crate::Result<Self> {{\n{ind}        let mut v = <Self as crate::support::Placeholder>::placeholder();\n{ind}        crate::Deserialize::deserialize_into(r, &mut v)?;\n{ind}        Ok(v)\n{ind}    }}"
        );
        let _ = writeln!(
            out,
            "{ind}    {inline}\n{ind}    fn deserialize_into(r: &mut crate::Reader<'_>, out: &mut Self) -> crate::Result<()> {{"
        );
        if ph.params.is_empty() && by_id.len() > 1 {
            // Reset to the placeholder first (a no-op when `out` holds it
            // already, as when `deserialize` calls this), so the optimizer
            // sees that the assignments below have nothing to drop.
            let _ = writeln!(
                out,
                "{ind}        if !matches!(out, {ph_expr}) {{\n{ind}            *out = {ph_expr};\n{ind}        }}"
            );
        }
        let _ = writeln!(out, "{ind}        let id = r.read_u32()?;");
        let _ = writeln!(out, "{ind}        match id {{");
        emit_arms(out, "*out = ");
        let _ = writeln!(
            out,
            "{ind}            _ => *out = crate::support::outlined(r, |r| crate::support::read_unlisted(r, id, {t:?}, Self::deserialize))?,"
        );
        let _ = writeln!(
            out,
            "{ind}        }}\n{ind}        Ok(())\n{ind}    }}\n{ind}}}"
        );
        let _ = writeln!(
            out,
            "{ind}impl crate::support::Placeholder for {name} {{\n{ind}    #[inline(always)]\n{ind}    fn placeholder() -> Self {{\n{ind}        {ph_expr}\n{ind}    }}\n{ind}}}"
        );
        self.emit_from(out, &ind, name, &rows);
        Ok(())
    }

    /// `From<constructor struct>` for each variant.
    fn emit_from(
        &self,
        out: &mut String,
        ind: &str,
        name: &str,
        rows: &[(String, &Definition<'a>)],
    ) {
        for (v, c) in rows {
            let p = self.ctor_path.get(c.name).cloned().unwrap_or_default();
            if c.params.is_empty() {
                let _ = writeln!(
                    out,
                    "{ind}impl From<{p}> for {name} {{\n{ind}    fn from(_: {p}) -> Self {{\n{ind}        Self::{v}\n{ind}    }}\n{ind}}}"
                );
            } else {
                let _ = writeln!(
                    out,
                    "{ind}impl From<{p}> for {name} {{\n{ind}    fn from(x: {p}) -> Self {{\n{ind}        Self::{v}(x)\n{ind}    }}\n{ind}}}"
                );
            }
        }
    }

    fn emit_name_for_id(&self, out: &mut String) {
        let mut rows: Vec<(u32, &str)> = self.kept.iter().map(|d| (d.id, d.name)).collect();
        rows.sort();
        out.push_str("/// The TL name of a constructor or function of this schema, by id.\n");
        out.push_str("pub fn name_for_id(id: u32) -> Option<&'static str> {\n");
        out.push_str("    Some(match id {\n");
        for (id, name) in rows {
            let _ = writeln!(out, "        {id:#010x} => {name:?},");
        }
        out.push_str("        _ => return None,\n    })\n}\n\n");
    }

    fn emit_decode_and_reencode(&self, out: &mut String) {
        // Target type path -> ids.
        let mut targets: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        for d in &self.kept {
            let path = match d.category {
                Category::Constructor if d.result.name == "Bool" => "bool".to_owned(),
                Category::Constructor if d.result.name == "Object" => {
                    self.ctor_path.get(d.name).cloned().unwrap_or_default()
                }
                Category::Constructor => self
                    .enum_path
                    .get(d.result.name)
                    .cloned()
                    .unwrap_or_default(),
                Category::Function => {
                    let base =
                        self.path("functions", d.namespace(), &names::pascal(d.short_name()));
                    if d.type_params.is_empty() {
                        base
                    } else {
                        let args: Vec<&str> =
                            d.type_params.iter().map(|_| "crate::RawObject").collect();
                        format!("{base}<{}>", args.join(", "))
                    }
                }
            };
            targets.entry(path).or_default().push(d.id);
        }
        out.push_str(
            "/// Decodes `buf` as the boxed type (or function) that owns its first\n\
             /// constructor id, then serializes the value again. Generic functions\n\
             /// decode their `!X` query as `crate::RawObject`.\n",
        );
        out.push_str("pub fn decode_and_reencode(buf: &[u8]) -> crate::Result<Vec<u8>> {\n");
        out.push_str("    let id = crate::Reader::new(buf).peek_u32()?;\n");
        out.push_str("    match id {\n");
        for (path, mut ids) in targets {
            ids.sort_unstable();
            let pats: Vec<String> = ids.iter().map(|i| format!("{i:#010x}")).collect();
            let _ = writeln!(
                out,
                "        {} => crate::support::reencode::<{path}>(buf),",
                pats.join("\n        | ")
            );
        }
        out.push_str(
            "        _ => Err(crate::support::unknown_constructor(id, \"any constructor or function\", 0)),\n    }\n}\n",
        );
    }
}

/// Whether `it` has a field that is not a leaf: fixed-size numbers, `Bool`,
/// `string`/`bytes` (plain or optional), flags and `true` flags are leaves.
/// A constructor with only leaves decodes in a few loads and is inlined into
/// its callers; any other is decoded out of line (inlining it into every
/// enum and caller multiplies code size and stack moves for no gain).
fn has_non_leaf(it: &Item<'_, '_>) -> bool {
    let leaf = |ty: &str| fixed_size(ty, false).is_some() || matches!(ty, "String" | "Vec<u8>");
    it.fields.iter().any(|f| match &f.kind {
        FieldKind::FlagsWord | FieldKind::TrueFlag { .. } | FieldKind::LenPrefix => false,
        FieldKind::Optional { ty, .. } | FieldKind::Plain { ty } => !leaf(ty),
        FieldKind::Bounded { .. } => true,
    }) || !it.generics.is_empty()
}

/// Wire size of a field type that always encodes in the same number of
/// bytes (`Bool` counts when writing only: reading must check its id).
fn fixed_size(ty: &str, reading: bool) -> Option<usize> {
    match ty {
        "i32" => Some(4),
        "i64" | "f64" => Some(8),
        "[u8; 16]" => Some(16),
        "[u8; 32]" => Some(32),
        "bool" if !reading => Some(4),
        _ => None,
    }
}

/// Appends the statements writing a run of fixed-size pieces `(size, bytes
/// expression)`: one `extend_from_slice` for the whole run.
fn flush_run(body: &mut String, run: &mut Vec<(usize, String)>, i2: &str) {
    match run.as_slice() {
        [] => {}
        [(_, e)] => {
            let _ = writeln!(body, "{i2}out.extend_from_slice({e});");
        }
        pieces => {
            let total: usize = pieces.iter().map(|(n, _)| n).sum();
            let _ = writeln!(body, "{i2}{{\n{i2}    let mut b = [0u8; {total}];");
            let mut at = 0;
            for (n, e) in pieces {
                let _ = writeln!(body, "{i2}    b[{at}..{}].copy_from_slice({e});", at + n);
                at += n;
            }
            let _ = writeln!(body, "{i2}    out.extend_from_slice(&b);\n{i2}}}");
        }
    }
    run.clear();
}

/// The body of `serialize_bare` (`id` None) or of the boxed `serialize`.
/// Consecutive fixed-size fields (and the id) are written with one
/// `extend_from_slice`, so the buffer's capacity is checked once per run.
fn ser_body(it: &Item<'_, '_>, id: Option<u32>, i2: &str) -> String {
    let mut body = String::new();
    // Flags words first: they depend only on `self`.
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
        let expr = if terms.is_empty() {
            "0".to_owned()
        } else {
            terms.join(&format!("\n{i2}    | "))
        };
        let _ = writeln!(body, "{i2}let fw_{}: u32 = {expr};", f.name);
    }
    let mut run: Vec<(usize, String)> = Vec::new();
    if let Some(id) = id {
        run.push((4, format!("&{id:#010x}u32.to_le_bytes()")));
    }
    for f in &it.fields {
        match &f.kind {
            FieldKind::FlagsWord => run.push((4, format!("&fw_{}.to_le_bytes()", f.name))),
            FieldKind::TrueFlag { .. } | FieldKind::LenPrefix => {}
            FieldKind::Plain { ty } if fixed_size(ty, false).is_some() => {
                let n = fixed_size(ty, false).unwrap_or(0);
                let e = match ty.as_str() {
                    "bool" => format!(
                        "&(if self.{} {{ crate::BOOL_TRUE_ID }} else {{ crate::BOOL_FALSE_ID }}).to_le_bytes()",
                        f.name
                    ),
                    t if t.starts_with('[') => format!("&self.{}", f.name),
                    _ => format!("&self.{}.to_le_bytes()", f.name),
                };
                run.push((n, e));
            }
            FieldKind::Optional { .. } => {
                flush_run(&mut body, &mut run, i2);
                let _ = writeln!(
                    body,
                    "{i2}if let Some(v) = &self.{} {{\n{i2}    crate::Serialize::serialize(v, out);\n{i2}}}",
                    f.name
                );
            }
            FieldKind::Plain { .. } => {
                flush_run(&mut body, &mut run, i2);
                let _ = writeln!(
                    body,
                    "{i2}crate::Serialize::serialize(&self.{}, out);",
                    f.name
                );
            }
            FieldKind::Bounded { .. } => {
                flush_run(&mut body, &mut run, i2);
                let _ = writeln!(
                    body,
                    "{i2}crate::support::write_len_prefixed(out, |out| crate::Serialize::serialize(&self.{}, out));",
                    f.name
                );
            }
        }
    }
    flush_run(&mut body, &mut run, i2);
    body
}

/// The statements of `deserialize_bare` that bind `fw_*` and `f_*`. A run
/// of two or more fixed-size fields is taken with one bounds check.
/// The body of `deserialize_bare` (`into_with` None: binds `f_<field>`
/// locals) or of `deserialize_bare_into` (assigns `out.<field>`; fields of
/// the enums in `into_with` are decoded in place).
fn de_body(it: &Item<'_, '_>, i2: &str, into_with: Option<&HashSet<String>>) -> String {
    let into = into_with.is_some();
    let dst = |name: &str| {
        if into {
            format!("out.{name}")
        } else {
            format!("let f_{name}")
        }
    };
    let used_word = |w: &str| {
        it.fields.iter().any(|g| {
            matches!(&g.kind, FieldKind::TrueFlag { word, .. } | FieldKind::Optional { word, .. } if word == w)
        })
    };
    let fixed = |f: &Field| -> Option<usize> {
        match &f.kind {
            FieldKind::FlagsWord => Some(4),
            FieldKind::Plain { ty } => fixed_size(ty, true),
            _ => None,
        }
    };
    let mut body = String::new();
    let fields = &it.fields;
    let mut i = 0;
    while let Some(f) = fields.get(i) {
        // A run of fixed-size fields starting here.
        let run: Vec<&Field> = fields[i..]
            .iter()
            .take_while(|g| fixed(g).is_some())
            .collect();
        if run.len() >= 2 {
            let total: usize = run.iter().filter_map(|g| fixed(g)).sum();
            let _ = writeln!(body, "{i2}let b: &[u8; {total}] = r.take_chunk()?;");
            let mut at = 0;
            for g in &run {
                let n = fixed(g).unwrap_or(0);
                match &g.kind {
                    FieldKind::FlagsWord if used_word(&g.name) => {
                        let _ = writeln!(
                            body,
                            "{i2}let fw_{} = u32::from_le_bytes(crate::support::array_at(b, {at}));",
                            g.name
                        );
                    }
                    FieldKind::FlagsWord => {}
                    FieldKind::Plain { ty } if ty.starts_with('[') => {
                        let typed = if into {
                            String::new()
                        } else {
                            format!(": {ty}")
                        };
                        let _ = writeln!(
                            body,
                            "{i2}{}{typed} = crate::support::array_at(b, {at});",
                            dst(&g.name)
                        );
                    }
                    FieldKind::Plain { ty } => {
                        let _ = writeln!(
                            body,
                            "{i2}{} = {ty}::from_le_bytes(crate::support::array_at(b, {at}));",
                            dst(&g.name)
                        );
                    }
                    _ => {}
                }
                at += n;
            }
            i += run.len();
            continue;
        }
        match &f.kind {
            FieldKind::FlagsWord => {
                if used_word(&f.name) {
                    let _ = writeln!(body, "{i2}let fw_{} = r.read_u32()?;", f.name);
                } else {
                    let _ = writeln!(body, "{i2}let _ = r.read_u32()?;");
                }
            }
            FieldKind::TrueFlag { word, bit } => {
                let _ = writeln!(
                    body,
                    "{i2}{} = (fw_{word} & {:#x}) != 0;",
                    dst(&f.name),
                    1u32 << bit
                );
            }
            FieldKind::Optional { word, bit, .. } => {
                let _ = writeln!(
                    body,
                    "{i2}{} = if (fw_{word} & {:#x}) != 0 {{\n{i2}    Some(crate::Deserialize::deserialize(r)?)\n{i2}}} else {{\n{i2}    None\n{i2}}};",
                    dst(&f.name),
                    1u32 << bit
                );
            }
            FieldKind::Plain { ty } if into_with.is_some_and(|e| e.contains(ty)) => {
                // In place (the enum's decoder is inlined).
                let _ = writeln!(
                    body,
                    "{i2}crate::support::outlined(r, |r| crate::Deserialize::deserialize_into(r, &mut out.{}))?;",
                    f.name
                );
            }
            FieldKind::Plain { ty } if into && fixed_size(ty, true).is_none() => {
                // Through a copy of the reader in case the decoder is not
                // inlined (see `support::outlined`).
                let _ = writeln!(
                    body,
                    "{i2}out.{} = crate::support::outlined(r, crate::Deserialize::deserialize)?;",
                    f.name
                );
            }
            FieldKind::Plain { .. } => {
                let _ = writeln!(
                    body,
                    "{i2}{} = crate::Deserialize::deserialize(r)?;",
                    dst(&f.name)
                );
            }
            FieldKind::LenPrefix => {}
            FieldKind::Bounded { .. } => {
                let _ = writeln!(
                    body,
                    "{i2}{} = crate::support::read_len_prefixed(r)?;",
                    dst(&f.name)
                );
            }
        }
        i += 1;
    }
    body
}

/// Among definitions sharing an id, keeps the one whose written id equals
/// the CRC32 of its normalized line (the real definition; tdlib's `api.tl`
/// declares `invokeWith*Prefix` pseudo-constructors with the ids of the real
/// `invokeWith*` methods before them); if none or several match, keeps the
/// first. Returns the kept definitions in schema order and a message per
/// skipped one.
fn dedup_ids<'s, 'a>(defs: &[&'s Definition<'a>]) -> (Vec<&'s Definition<'a>>, Vec<String>) {
    let mut groups: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, d) in defs.iter().enumerate() {
        groups.entry(d.id).or_default().push(i);
    }
    let mut winner: HashMap<u32, usize> = HashMap::new();
    for (id, members) in &groups {
        let matching: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&i| defs.get(i).is_some_and(|d| d.computed_id() == d.id))
            .collect();
        let w = match matching.as_slice() {
            [one] => *one,
            _ => members.first().copied().unwrap_or_default(),
        };
        winner.insert(*id, w);
    }
    let mut kept = Vec::new();
    let mut skipped = Vec::new();
    for (i, d) in defs.iter().enumerate() {
        match winner.get(&d.id).and_then(|&w| defs.get(w).map(|k| (w, k))) {
            Some((w, k)) if w != i => skipped.push(format!(
                "{} (line {}) has the id #{:08x} of {} (line {}); skipped",
                d.name, d.line, d.id, k.name, k.line
            )),
            _ => kept.push(*d),
        }
    }
    (kept, skipped)
}

/// Strongly connected components (Tarjan, iterative); returns the component
/// index of every node.
fn scc(edges: &[Vec<usize>]) -> Vec<usize> {
    let n = edges.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut comp = vec![usize::MAX; n];
    let mut stack: Vec<usize> = Vec::new();
    let mut next_index = 0usize;
    let mut next_comp = 0usize;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        // (node, next edge position)
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut ei)) = work.last_mut() {
            if let Some(&w) = edges[v].get(*ei) {
                *ei += 1;
                if index[w] == usize::MAX {
                    index[w] = next_index;
                    low[w] = next_index;
                    next_index += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                work.pop();
                if let Some(&(u, _)) = work.last() {
                    low[u] = low[u].min(low[v]);
                }
                if low[v] == index[v] {
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        comp[w] = next_comp;
                        if w == v {
                            break;
                        }
                    }
                    next_comp += 1;
                }
            }
        }
    }
    comp
}
