//! The syntax tree of a TL schema. Every name borrows from the schema text.

use core::fmt;

/// Whether a definition is a constructor (`---types---`) or a function
/// (`---functions---`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// A constructor of a (boxed) type.
    Constructor,
    /// A remote function (RPC method).
    Function,
}

/// A type reference, e.g. `InputPeer`, `Vector<long>`, `%message`, `!X`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Type<'a> {
    /// The full name, with namespace (`help.ConfigSimple`, `vector`, `X`).
    pub name: &'a str,
    /// Written with the `%` bare marker.
    pub percent: bool,
    /// Written with the `!` marker (`!X`: any function whose result is `X`).
    pub generic_ref: bool,
    /// The type argument of a generic type (`Vector<long>` -> `long`,
    /// `Vector t` -> `t`).
    pub arg: Option<Box<Type<'a>>>,
}

impl<'a> Type<'a> {
    /// The namespace (`help` in `help.ConfigSimple`), if any.
    pub fn namespace(&self) -> Option<&'a str> {
        split_namespace(self.name).0
    }

    /// The name without its namespace.
    pub fn short_name(&self) -> &'a str {
        split_namespace(self.name).1
    }

    /// True for bare types: written with `%`, or named in lower case
    /// (a constructor or a builtin like `int`, `vector`).
    pub fn is_bare(&self) -> bool {
        self.percent
            || self
                .short_name()
                .as_bytes()
                .first()
                .is_some_and(|c| c.is_ascii_lowercase())
    }
}

impl fmt::Display for Type<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.percent {
            f.write_str("%")?;
        }
        if self.generic_ref {
            f.write_str("!")?;
        }
        f.write_str(self.name)?;
        if let Some(arg) = &self.arg {
            write!(f, "<{arg}>")?;
        }
        Ok(())
    }
}

/// A condition on a flags field: `flags.3?` is `{ name: "flags", bit: 3 }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flag<'a> {
    /// Name of the `#` parameter holding the bit.
    pub name: &'a str,
    /// Bit index, 0..=31.
    pub bit: u32,
}

/// The type of a parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamType<'a> {
    /// `name:#`, a 32-bit flags word.
    Flags,
    /// A normal, possibly conditional, parameter.
    Normal {
        /// The parameter's type.
        ty: Type<'a>,
        /// Present for `flags.N?Type`.
        flag: Option<Flag<'a>>,
    },
}

/// One parameter of a definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param<'a> {
    /// The parameter name as written.
    pub name: &'a str,
    /// Its type.
    pub ty: ParamType<'a>,
}

impl Param<'_> {
    /// True for `name:flags.N?true`: a bit with no data.
    pub fn is_true_flag(&self) -> bool {
        matches!(&self.ty, ParamType::Normal { ty, flag: Some(_) } if ty.name == "true")
    }
}

impl fmt::Display for Param<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.ty {
            ParamType::Flags => write!(f, "{}:#", self.name),
            ParamType::Normal { ty, flag: None } => write!(f, "{}:{ty}", self.name),
            ParamType::Normal {
                ty,
                flag: Some(flag),
            } => write!(f, "{}:{}.{}?{ty}", self.name, flag.name, flag.bit),
        }
    }
}

/// A type parameter `{X:Type}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypeParam<'a> {
    /// The variable name (`X`).
    pub name: &'a str,
    /// Its kind (`Type`).
    pub kind: &'a str,
}

/// One TL declaration (constructor or function).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Definition<'a> {
    /// Full name with namespace (`messages.setTyping`).
    pub name: &'a str,
    /// The id: the written `#id` or, if none, the CRC32 of the normalized line.
    pub id: u32,
    /// Whether `#id` was written in the schema.
    pub explicit_id: bool,
    /// `{X:Type}` parameters.
    pub type_params: Vec<TypeParam<'a>>,
    /// The parameters in order.
    pub params: Vec<Param<'a>>,
    /// The result type (for a constructor, the type it builds).
    pub result: Type<'a>,
    /// Constructor or function.
    pub category: Category,
    /// A builtin line such as `int ? = Int;` or
    /// `vector#1cb5c415 {t:Type} # [ t ] = Vector t;`; not generated.
    pub builtin: bool,
    /// 1-based line of the declaration's first character.
    pub line: u32,
    /// 1-based column (in bytes) of the declaration's first character.
    pub column: u32,
    /// The declaration text as written, without the final `;`.
    pub source: &'a str,
}

impl<'a> Definition<'a> {
    /// The namespace (`messages` in `messages.setTyping`), if any.
    pub fn namespace(&self) -> Option<&'a str> {
        split_namespace(self.name).0
    }

    /// The name without its namespace.
    pub fn short_name(&self) -> &'a str {
        split_namespace(self.name).1
    }

    /// The declaration in the normal form whose CRC32 is the id (see
    /// [`normalize`]).
    pub fn normalized(&self) -> String {
        normalize(self.source)
    }

    /// CRC32 of [`Definition::normalized`].
    pub fn computed_id(&self) -> u32 {
        crc32fast::hash(self.normalized().as_bytes())
    }

    /// The declaration with single spaces between lexemes (for docs).
    pub fn display_source(&self) -> String {
        let mut out = String::with_capacity(self.source.len());
        for word in self.source.split_ascii_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
        out
    }
}

/// Splits `ns.name` into `(Some("ns"), "name")`.
pub(crate) fn split_namespace(full: &str) -> (Option<&str>, &str) {
    match full.rfind('.') {
        Some(i) => (full.get(..i), full.get(i + 1..).unwrap_or("")),
        None => (None, full),
    }
}

/// Normalizes a declaration (without its `;`) for the CRC32 id.
///
/// Spec (core.telegram.org, TL glossary): the combinator number is "CRC32 of
/// the string containing the combinator description without the final
/// semicolon, and with one space between contiguous lexemes". What working
/// implementations do on top of that, and what we do here:
/// - drop the `#id` after the name;
/// - drop every `name:flagsN.K?true` parameter;
/// - write `bytes` as `string` (`:bytes`, `?bytes`; same wire type);
/// - `<` becomes a space, `>`, `{`, `}` and the bare marker `%` are deleted;
/// - single spaces between the remaining words.
pub fn normalize(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut push = |word: &str| {
        if word.is_empty() {
            return;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    };
    for (i, word) in source.split_ascii_whitespace().enumerate() {
        let word = if i == 0 {
            match word.find('#') {
                Some(p) => word.get(..p).unwrap_or(word),
                None => word,
            }
        } else {
            word
        };
        if word.ends_with("?true") && word.contains(':') {
            continue;
        }
        let mut w = String::with_capacity(word.len());
        for c in word.chars() {
            match c {
                '<' => w.push(' '),
                '>' | '{' | '}' | '%' => {}
                c => w.push(c),
            }
        }
        let w = w.replace(":bytes", ":string").replace("?bytes", "?string");
        for part in w.split(' ') {
            push(part);
        }
    }
    out
}
