#![doc = include_str!("../README.md")]
//!
//! ## In detail
//!
//! Parser for the TL schema language as Telegram uses it.
//!
//! ```
//! let schema = mtproto_tl_parser::parse(
//!     "inputPeerUser#dde8a54c user_id:long access_hash:long = InputPeer;\n\
//!      ---functions---\n\
//!      messages.setTyping#58943ee2 flags:# peer:InputPeer top_msg_id:flags.0?int \
//!      action:SendMessageAction = Bool;",
//! )
//! .unwrap();
//! assert_eq!(schema.constructors().count(), 1);
//! let f = schema.function("messages.setTyping").unwrap();
//! assert_eq!(f.id, 0x58943ee2);
//! assert_eq!(f.namespace(), Some("messages"));
//! assert!(schema.crc_mismatches().is_empty());
//! ```
//!
//! Supported syntax: `---types---` / `---functions---` sections, `//` and
//! `/* */` comments (a `// LAYER N` comment sets [`Schema::layer`]),
//! explicit `#id` (leading zeros allowed) or the CRC32 of the normalized line
//! ([`normalize`]), `flags:#` words (several per line), `flags.N?Type` and
//! `flags.N?true`, `Vector<T>`, bare `vector<T>`, `%T`, `{X:Type}` with `!X`,
//! namespaces (`messages.setTyping`) and builtin lines (`int ? = Int;`,
//! `vector#1cb5c415 {t:Type} # [ t ] = Vector t;`, `int128 4*[ int ] = Int128;`),
//! which are kept but marked [`Definition::builtin`].
//!
//! Parsing borrows every name from the input text (no per-token allocation).

mod ast;
mod parser;

use core::fmt;

pub use ast::{normalize, Category, Definition, Flag, Param, ParamType, Type, TypeParam};

/// A syntax error with its 1-based position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in bytes.
    pub column: u32,
    /// What was expected and what was found.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for ParseError {}

/// A parsed schema. Borrows the text it was parsed from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schema<'a> {
    definitions: Vec<Definition<'a>>,
    layer: Option<i32>,
}

/// Two definitions sharing one id (e.g. tdlib's `invokeWith*Prefix` lines).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DuplicateId<'s, 'a> {
    /// The shared id.
    pub id: u32,
    /// The definition that comes first in the text (the one a generator keeps).
    pub first: &'s Definition<'a>,
    /// A later definition with the same id.
    pub duplicate: &'s Definition<'a>,
}

/// A definition whose written `#id` differs from the CRC32 of its normalized
/// line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrcMismatch<'s, 'a> {
    /// The definition.
    pub definition: &'s Definition<'a>,
    /// The id written in the schema.
    pub written: u32,
    /// The CRC32 of [`Definition::normalized`].
    pub computed: u32,
}

/// Parses schema text.
pub fn parse(text: &str) -> Result<Schema<'_>, ParseError> {
    Schema::parse(text)
}

impl<'a> Schema<'a> {
    /// Parses schema text.
    pub fn parse(text: &'a str) -> Result<Self, ParseError> {
        let parsed = parser::parse_definitions(text)?;
        Ok(Schema {
            definitions: parsed.definitions,
            layer: parsed.layer,
        })
    }

    /// Every definition in text order, builtins included.
    pub fn definitions(&self) -> &[Definition<'a>] {
        &self.definitions
    }

    /// The layer from a `// LAYER N` comment, if present.
    pub fn layer(&self) -> Option<i32> {
        self.layer
    }

    /// Non-builtin constructors, in text order.
    pub fn constructors(&self) -> impl Iterator<Item = &Definition<'a>> + '_ {
        self.definitions
            .iter()
            .filter(|d| !d.builtin && d.category == Category::Constructor)
    }

    /// Functions, in text order.
    pub fn functions(&self) -> impl Iterator<Item = &Definition<'a>> + '_ {
        self.definitions
            .iter()
            .filter(|d| !d.builtin && d.category == Category::Function)
    }

    /// Builtin lines (`int ? = Int;` ...).
    pub fn builtins(&self) -> impl Iterator<Item = &Definition<'a>> + '_ {
        self.definitions.iter().filter(|d| d.builtin)
    }

    /// The distinct boxed types built by non-builtin constructors, sorted.
    pub fn types(&self) -> Vec<&'a str> {
        let mut v: Vec<&'a str> = self.constructors().map(|d| d.result.name).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The first definition with this full name (`messages.setTyping`).
    pub fn get(&self, name: &str) -> Option<&Definition<'a>> {
        self.definitions.iter().find(|d| d.name == name)
    }

    /// The first constructor with this full name.
    pub fn constructor(&self, name: &str) -> Option<&Definition<'a>> {
        self.constructors().find(|d| d.name == name)
    }

    /// The first function with this full name.
    pub fn function(&self, name: &str) -> Option<&Definition<'a>> {
        self.functions().find(|d| d.name == name)
    }

    /// The first non-builtin definition with this id.
    pub fn by_id(&self, id: u32) -> Option<&Definition<'a>> {
        self.definitions.iter().find(|d| !d.builtin && d.id == id)
    }

    /// The constructors of a boxed type, in text order.
    pub fn constructors_of<'s>(
        &'s self,
        type_name: &'s str,
    ) -> impl Iterator<Item = &'s Definition<'a>> + 's {
        self.constructors()
            .filter(move |d| d.result.name == type_name)
    }

    /// Every later non-builtin definition whose id was already used by an
    /// earlier one. Never merged silently: generators keep `first`.
    pub fn duplicate_ids(&self) -> Vec<DuplicateId<'_, 'a>> {
        let mut seen: std::collections::HashMap<u32, &Definition<'a>> =
            std::collections::HashMap::with_capacity(self.definitions.len());
        let mut out = Vec::new();
        for d in self.definitions.iter().filter(|d| !d.builtin) {
            match seen.get(&d.id) {
                Some(first) => out.push(DuplicateId {
                    id: d.id,
                    first,
                    duplicate: d,
                }),
                None => {
                    seen.insert(d.id, d);
                }
            }
        }
        out
    }

    /// Definitions with an explicit `#id` that differs from the CRC32 of
    /// their normalized line (builtins included, e.g. `vector#1cb5c415`).
    pub fn crc_mismatches(&self) -> Vec<CrcMismatch<'_, 'a>> {
        self.definitions
            .iter()
            .filter(|d| d.explicit_id)
            .filter_map(|d| {
                let computed = d.computed_id();
                (computed != d.id).then_some(CrcMismatch {
                    definition: d,
                    written: d.id,
                    computed,
                })
            })
            .collect()
    }
}
