#![doc = include_str!("../README.md")]
//!
//! ## In detail
//!
//! Generates Rust source from a parsed TL schema.
//!
//! The output is meant to be `include!`d inside a module of the
//! `mtproto-tl` crate (so every path starts with `crate::`). For a schema
//! generated with [`GeneratorConfig::module_path`] `crate::api` it holds:
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
//!
//! # Pipeline
//!
//! [`generate`] goes model -> graph -> emit, one private module each:
//!
//! 1. `graph::dedup_ids` keeps one definition per id (the others are
//!    reported in [`Generated::skipped_duplicates`]).
//! 2. `model`: `Model::new` indexes the kept definitions, giving every
//!    constructor and function its struct path (`types::...`,
//!    `functions::...`) and every boxed type its enum path (`enums::...`);
//!    two items with the same path are an error.
//! 3. `graph`: `Analysis::new` works on the graph of inline containment (a
//!    constructor points at what its fields hold without a `Vec`, a type at
//!    its constructors). A field whose target is in the same strongly
//!    connected component as its constructor is boxed (that constructor is
//!    recursive and counts a level of nesting depth when decoding); a
//!    fixpoint finds the types and definitions that have a placeholder
//!    value, which decode in place.
//! 4. `model`: `Model::items` builds an `Item` per constructor and function,
//!    each parameter a `Field` with its Rust type (boxed as step 3 decided)
//!    and its `FieldKind` (flags word, `true` flag, `Option`, plain, length
//!    prefix, length-bounded `Object`). Every other schema error (unknown
//!    type, bad bare type, `true` outside flags, two fields with one name,
//!    bare result type) is found here: the first in schema order, then the
//!    first bad function result type.
//! 5. `emit` writes the code through `writer::CodeWriter`, an indenting line
//!    writer: the structs (`emit::structs`), enums (`emit::enums`), their
//!    serialization and deserialization bodies (`emit::ser`, `emit::de`),
//!    then `name_for_id` and `decode_and_reencode`. Emission cannot fail.

pub mod names;

mod emit;
mod errors;
mod graph;
mod model;
mod writer;

use std::fmt;

use mtproto_tl_parser::{Definition, ParseError, Schema};

/// Options for one generated schema module.
#[derive(Clone, Debug)]
pub struct GeneratorConfig<'c> {
    /// Absolute path of the module the output is included in, e.g.
    /// `crate::api`.
    pub module_path: &'c str,
    /// Layer to use when the schema has no `// LAYER N` comment.
    pub default_layer: i32,
    /// Name of the schema shown in the `@generated` header.
    pub source_name: &'c str,
    /// The documented errors of the methods: the text of
    /// `tl-schema/method_errors.tsv` (method, code, name[, description], tab
    /// separated); empty if none are known. Every function gets an error
    /// enum either way.
    pub method_errors: &'c str,
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

/// A [`GenError::Schema`] at `d`, its message prefixed with `d`'s name.
pub(crate) fn schema_err(d: &Definition<'_>, message: String) -> GenError {
    GenError::Schema {
        line: d.line,
        column: d.column,
        message: format!("{}: {message}", d.name),
    }
}

/// Parses `text` and generates code for it.
pub fn generate_from_text(text: &str, cfg: &GeneratorConfig<'_>) -> Result<Generated, GenError> {
    let schema = Schema::parse(text)?;
    generate(&schema, cfg)
}

/// Generates code for a parsed schema.
pub fn generate(schema: &Schema<'_>, cfg: &GeneratorConfig<'_>) -> Result<Generated, GenError> {
    // The steps of the pipeline (see the crate docs).
    let defs: Vec<&Definition<'_>> = schema.definitions().iter().filter(|d| !d.builtin).collect();
    let (kept, skipped) = graph::dedup_ids(&defs);
    let model = model::Model::new(schema, cfg.module_path, kept)?;
    let analysis = graph::Analysis::new(&model);
    let items = model.items(&analysis.boxed)?;
    let layer = schema.layer();
    let errors = errors::parse(cfg.method_errors)?;
    let code = emit::emit(&model, &analysis, &items, cfg, layer, &errors);
    Ok(Generated {
        code,
        skipped_duplicates: skipped,
        layer_from_schema: layer.is_some(),
    })
}
