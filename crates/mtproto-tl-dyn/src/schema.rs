//! An owned, indexed view of one or more parsed TL schemas.

use std::collections::HashMap;
use std::fmt;

use mtproto_tl_parser::{Category, ParamType, ParseError, Type};

/// Core constructors that the published `mtproto.tl` has only as comments
/// ("parsed manually"); added when the given schemas lack them.
const CORE_LINES: &str = "\
rpc_result#f35c6d01 req_msg_id:long result:Object = RpcResult;
message msg_id:long seqno:int bytes:int body:Object = Message;
msg_container#73f1f8dc messages:vector<%message> = MessageContainer;
msg_copy#e06046b2 orig_message:Message = MessageCopy;
gzip_packed#3072cfa1 packed_data:bytes = Object;
boolFalse#bc799737 = Bool;
boolTrue#997275b5 = Bool;
true#3fedd339 = True;
";

/// A type reference inside a definition (`InputPeer`, `Vector<long>`,
/// `%message`, `!X`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeRef {
    /// Full name with namespace.
    pub name: String,
    /// Written with `%`.
    pub percent: bool,
    /// Written as `!X`.
    pub generic_ref: bool,
    /// The type argument (`Vector<long>` -> `long`).
    pub arg: Option<Box<TypeRef>>,
}

impl TypeRef {
    fn from_ast(t: &Type<'_>) -> Self {
        TypeRef {
            name: t.name.to_owned(),
            percent: t.percent,
            generic_ref: t.generic_ref,
            arg: t.arg.as_ref().map(|a| Box::new(TypeRef::from_ast(a))),
        }
    }

    /// Parses a type name as given on a command line: `InputPeer`,
    /// `inputPeerUser`, `%Message`, `Vector<long>`, `vector<int>`, `long`.
    pub fn parse(text: &str) -> Option<TypeRef> {
        let text = text.trim();
        let (percent, text) = match text.strip_prefix('%') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (name, arg) = match text.find('<') {
            Some(i) => {
                let inner = text.get(i + 1..)?.strip_suffix('>')?;
                (text.get(..i)?, Some(Box::new(TypeRef::parse(inner)?)))
            }
            None => (text, None),
        };
        let ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        ok.then(|| TypeRef {
            name: name.to_owned(),
            percent,
            generic_ref: false,
            arg,
        })
    }

    /// The name without its namespace.
    pub fn short_name(&self) -> &str {
        self.name.rsplit('.').next().unwrap_or(&self.name)
    }
}

impl fmt::Display for TypeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.percent {
            f.write_str("%")?;
        }
        if self.generic_ref {
            f.write_str("!")?;
        }
        f.write_str(&self.name)?;
        if let Some(a) = &self.arg {
            write!(f, "<{a}>")?;
        }
        Ok(())
    }
}

/// What a parameter holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// `name:#`, a 32-bit flags word.
    Flags,
    /// A value, present only when `flag` (flags field name, bit) is set.
    Normal {
        /// The type.
        ty: TypeRef,
        /// `flags.N?` condition: the flags field's name and the bit.
        flag: Option<(String, u32)>,
    },
}

/// One parameter of a definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamDef {
    /// The parameter name.
    pub name: String,
    /// Its kind.
    pub kind: ParamKind,
}

impl ParamDef {
    /// `name:flags.N?true`.
    pub fn is_true_flag(&self) -> bool {
        matches!(&self.kind, ParamKind::Normal { ty, flag: Some(_) } if ty.name == "true")
    }
}

/// One constructor or function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Def {
    /// Full name (`messages.setTyping`).
    pub name: String,
    /// The constructor id.
    pub id: u32,
    /// A function (request) rather than a constructor.
    pub is_function: bool,
    /// `{X:Type}` parameter names.
    pub type_params: Vec<String>,
    /// Parameters in order.
    pub params: Vec<ParamDef>,
    /// The result type (the boxed type a constructor builds).
    pub result: TypeRef,
    /// The declaration with single spaces.
    pub source: String,
    /// Index of the text it came from in [`DynSchema::from_texts`] (the
    /// number of texts for the built-in core lines). Bare references
    /// (`%message`) resolve to a constructor of the same text first, so the
    /// MTProto `message` and the API `message` can coexist.
    pub origin: usize,
}

/// A schema text that failed to parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaError {
    /// Index of the failing text in the slice given to
    /// [`DynSchema::from_texts`].
    pub index: usize,
    /// The parser's error, with line and column.
    pub error: ParseError,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "schema #{}: {}", self.index, self.error)
    }
}

impl std::error::Error for SchemaError {}

/// Several TL schemas combined and indexed for run-time decoding.
#[derive(Clone, Debug)]
pub struct DynSchema {
    pub(crate) defs: Vec<Def>,
    by_id: HashMap<u32, usize>,
    ctor_by_name: HashMap<String, Vec<usize>>,
    fn_by_name: HashMap<String, usize>,
    ctors_of_type: HashMap<String, Vec<usize>>,
    layer: Option<i32>,
}

impl DynSchema {
    /// Parses and combines schema texts (e.g. `api.tl` and `mtproto.tl`).
    /// Builtin lines are skipped; when two definitions share an id the first
    /// one wins. `rpc_result`, `message`, `msg_container`, `msg_copy`,
    /// `gzip_packed`, `boolTrue`/`boolFalse` and `true` are added when no
    /// text declares them.
    pub fn from_texts(texts: &[&str]) -> Result<Self, SchemaError> {
        let mut s = DynSchema::empty();
        for (index, text) in texts.iter().enumerate() {
            let parsed =
                mtproto_tl_parser::parse(text).map_err(|error| SchemaError { index, error })?;
            if s.layer.is_none() {
                s.layer = parsed.layer();
            }
            for d in parsed.definitions().iter().filter(|d| !d.builtin) {
                s.add(d, index);
            }
        }
        let core = mtproto_tl_parser::parse(CORE_LINES).map_err(|error| SchemaError {
            index: texts.len(),
            error,
        })?;
        for d in core.definitions() {
            s.add(d, texts.len());
        }
        Ok(s)
    }

    fn add(&mut self, d: &mtproto_tl_parser::Definition<'_>, origin: usize) {
        if self.by_id.contains_key(&d.id) {
            return;
        }
        let is_function = d.category == Category::Function;
        let params = d
            .params
            .iter()
            .map(|p| ParamDef {
                name: p.name.to_owned(),
                kind: match &p.ty {
                    ParamType::Flags => ParamKind::Flags,
                    ParamType::Normal { ty, flag } => ParamKind::Normal {
                        ty: TypeRef::from_ast(ty),
                        flag: flag.map(|f| (f.name.to_owned(), f.bit)),
                    },
                },
            })
            .collect();
        let def = Def {
            name: d.name.to_owned(),
            id: d.id,
            is_function,
            type_params: d.type_params.iter().map(|t| t.name.to_owned()).collect(),
            params,
            result: TypeRef::from_ast(&d.result),
            source: d.display_source(),
            origin,
        };
        let i = self.defs.len();
        self.by_id.insert(def.id, i);
        if is_function {
            self.fn_by_name.entry(def.name.clone()).or_insert(i);
        } else {
            self.ctor_by_name
                .entry(def.name.clone())
                .or_default()
                .push(i);
            self.ctors_of_type
                .entry(def.result.name.clone())
                .or_default()
                .push(i);
        }
        self.defs.push(def);
    }

    /// The schema embedded from the workspace's `tl-schema/` folder
    /// (`api.tl` + `mtproto.tl`), parsed once.
    pub fn builtin() -> &'static DynSchema {
        static BUILTIN: std::sync::OnceLock<DynSchema> = std::sync::OnceLock::new();
        // The embedded schema is tested to parse (`builtin_schema_parses`);
        // the empty fallback only keeps this function total.
        BUILTIN.get_or_init(|| {
            DynSchema::from_texts(&[BUILTIN_API, BUILTIN_MTPROTO])
                .unwrap_or_else(|_| DynSchema::empty())
        })
    }

    fn empty() -> DynSchema {
        DynSchema {
            defs: Vec::new(),
            by_id: HashMap::new(),
            ctor_by_name: HashMap::new(),
            fn_by_name: HashMap::new(),
            ctors_of_type: HashMap::new(),
            layer: None,
        }
    }

    /// The `// LAYER N` of the first text that has one.
    pub fn layer(&self) -> Option<i32> {
        self.layer
    }

    /// Every definition, in order (first definition of each id only).
    pub fn definitions(&self) -> &[Def] {
        &self.defs
    }

    /// The definition with this id (constructor or function).
    pub fn by_id(&self, id: u32) -> Option<&Def> {
        self.by_id.get(&id).and_then(|&i| self.defs.get(i))
    }

    /// A constructor by full name.
    pub fn constructor(&self, name: &str) -> Option<&Def> {
        self.ctor_by_name
            .get(name)
            .and_then(|v| v.first())
            .and_then(|&i| self.defs.get(i))
    }

    /// A constructor by full name, preferring one from text `origin`.
    pub fn constructor_from(&self, name: &str, origin: usize) -> Option<&Def> {
        let all = self.ctor_by_name.get(name)?;
        all.iter()
            .filter_map(|&i| self.defs.get(i))
            .find(|d| d.origin == origin)
            .or_else(|| all.first().and_then(|&i| self.defs.get(i)))
    }

    /// A function by full name.
    pub fn function(&self, name: &str) -> Option<&Def> {
        self.fn_by_name.get(name).and_then(|&i| self.defs.get(i))
    }

    /// A constructor or, failing that, a function by full name.
    pub fn get(&self, name: &str) -> Option<&Def> {
        self.constructor(name).or_else(|| self.function(name))
    }

    /// The constructors of a boxed type, in schema order.
    pub fn constructors_of(&self, type_name: &str) -> Vec<&Def> {
        self.ctors_of_type
            .get(type_name)
            .map(|v| v.iter().filter_map(|&i| self.defs.get(i)).collect())
            .unwrap_or_default()
    }

    /// True if some constructor builds this boxed type.
    pub fn has_type(&self, type_name: &str) -> bool {
        self.ctors_of_type.contains_key(type_name)
    }
}

/// The API schema `mtproto-tl` ships (its `schema/api.tl`).
pub const BUILTIN_API: &str = mtproto_tl::schema::API_TL;
/// The service-layer schema `mtproto-tl` ships (its `schema/mtproto.tl`).
pub const BUILTIN_MTPROTO: &str = mtproto_tl::schema::MTPROTO_TL;
