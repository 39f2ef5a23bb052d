//! A hand-written, zero-copy parser for TL schema text.

use crate::ast::{Category, Definition, Flag, Param, ParamType, Type, TypeParam};
use crate::ParseError;

/// What [`parse_definitions`] returns: the definitions and the layer number
/// from a `// LAYER N` comment, if there is one.
pub(crate) struct Parsed<'a> {
    pub definitions: Vec<Definition<'a>>,
    pub layer: Option<i32>,
}

struct Cursor<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: u32,
    line_start: usize,
    layer: Option<i32>,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

/// Bytes allowed inside an identifier: letters, digits, `_`, `.`.
static IDENT: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        // i < 256 (the loop bound), so this cannot truncate; `u8::try_from`
        // is not usable in a const initializer.
        #[allow(clippy::cast_possible_truncation)]
        let c = i as u8;
        t[i] = c.is_ascii_alphanumeric() || c == b'_' || c == b'.';
        i += 1;
    }
    t
};

#[inline]
fn is_ident_char(c: u8) -> bool {
    IDENT[usize::from(c)]
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn peek_at(&self, off: usize) -> Option<u8> {
        self.bytes.get(self.pos + off).copied()
    }

    fn column(&self) -> u32 {
        u32::try_from(self.pos - self.line_start + 1).unwrap_or(u32::MAX)
    }

    fn bump(&mut self) {
        if let Some(c) = self.peek() {
            self.pos += 1;
            if c == b'\n' {
                self.line = self.line.saturating_add(1);
                self.line_start = self.pos;
            }
        }
    }

    fn error(&self, expected: &str) -> ParseError {
        let found = match self.peek() {
            None => "end of input".to_owned(),
            Some(_) => {
                let rest = self.src.get(self.pos..).unwrap_or("");
                let token: String = rest
                    .chars()
                    .take_while(|c| !c.is_whitespace())
                    .take(24)
                    .collect();
                format!("`{token}`")
            }
        };
        ParseError {
            line: self.line,
            column: self.column(),
            message: format!("expected {expected}, found {found}"),
        }
    }

    /// Skips whitespace, `// ...` and `/* ... */` comments. Records a
    /// `// LAYER N` comment.
    fn skip_trivia(&mut self) -> Result<(), ParseError> {
        loop {
            match self.peek() {
                Some(c) if c.is_ascii_whitespace() => self.bump(),
                Some(b'/') if self.peek_at(1) == Some(b'/') => {
                    let start = self.pos + 2;
                    while let Some(c) = self.peek() {
                        if c == b'\n' {
                            break;
                        }
                        self.pos += 1;
                    }
                    let text = self.src.get(start..self.pos).unwrap_or("").trim();
                    if let Some(n) = text.strip_prefix("LAYER") {
                        if let Ok(n) = n.trim().parse::<i32>() {
                            self.layer = Some(n);
                        }
                    }
                }
                Some(b'/') if self.peek_at(1) == Some(b'*') => {
                    let (line, column) = (self.line, self.column());
                    self.bump();
                    self.bump();
                    loop {
                        match self.peek() {
                            None => {
                                return Err(ParseError {
                                    line,
                                    column,
                                    message: "unterminated `/*` comment: expected `*/`".to_owned(),
                                })
                            }
                            Some(b'*') if self.peek_at(1) == Some(b'/') => {
                                self.bump();
                                self.bump();
                                break;
                            }
                            Some(_) => self.bump(),
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8, what: &str) -> Result<(), ParseError> {
        self.skip_trivia()?;
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    /// An identifier (letters, digits, `_`, `.` for namespaces).
    fn ident(&mut self, what: &str) -> Result<&'a str, ParseError> {
        self.skip_trivia()?;
        match self.peek() {
            Some(c) if is_ident_start(c) => {}
            _ => return Err(self.error(what)),
        }
        let start = self.pos;
        let mut end = start;
        let mut prev_dot = false;
        let mut bad = false;
        for &b in self.bytes.get(start..).unwrap_or(&[]) {
            if !is_ident_char(b) {
                break;
            }
            let dot = b == b'.';
            bad |= dot && prev_dot;
            prev_dot = dot;
            end += 1;
        }
        if bad || prev_dot {
            return Err(self.error(what));
        }
        self.pos = end;
        Ok(self.src.get(start..end).unwrap_or(""))
    }

    /// A type expression: `[%|!]name[<type>]`.
    fn type_expr(&mut self) -> Result<Type<'a>, ParseError> {
        self.skip_trivia()?;
        let percent = self.eat(b'%');
        let generic_ref = !percent && self.eat(b'!');
        let name = self.ident("a type name")?;
        let mut arg = None;
        self.skip_trivia()?;
        if self.eat(b'<') {
            arg = Some(Box::new(self.type_expr()?));
            self.expect(b'>', "`>` closing the type argument")?;
        }
        Ok(Type {
            name,
            percent,
            generic_ref,
            arg,
        })
    }
}

/// Parses schema text into definitions.
pub(crate) fn parse_definitions(src: &str) -> Result<Parsed<'_>, ParseError> {
    let mut c = Cursor {
        src,
        bytes: src.as_bytes(),
        pos: 0,
        line: 1,
        line_start: 0,
        layer: None,
    };
    let mut category = Category::Constructor;
    // A rough guess: one declaration per ~110 bytes of schema.
    let mut definitions = Vec::with_capacity(src.len() / 110 + 4);
    loop {
        c.skip_trivia()?;
        match c.peek() {
            None => break,
            Some(b'-') => {
                let rest = src.get(c.pos..).unwrap_or("");
                if rest.starts_with("---types---") {
                    category = Category::Constructor;
                    c.pos += "---types---".len();
                } else if rest.starts_with("---functions---") {
                    category = Category::Function;
                    c.pos += "---functions---".len();
                } else {
                    return Err(c.error("`---types---` or `---functions---`"));
                }
            }
            Some(_) => definitions.push(definition(&mut c, category)?),
        }
    }
    Ok(Parsed {
        definitions,
        layer: c.layer,
    })
}

fn definition<'a>(c: &mut Cursor<'a>, category: Category) -> Result<Definition<'a>, ParseError> {
    let (line, column, start) = (c.line, c.column(), c.pos);
    let name = c.ident("a declaration name (or `---functions---` / `---types---`)")?;
    // `name#1cb5c415`: the id follows the name without a space.
    let mut explicit = None;
    if c.eat(b'#') {
        let id_start = c.pos;
        while c.peek().is_some_and(|b| b.is_ascii_hexdigit()) {
            c.pos += 1;
        }
        let hex = src_slice(c.src, id_start, c.pos);
        if hex.is_empty() || hex.len() > 8 {
            c.pos = id_start;
            return Err(c.error("a constructor id of 1 to 8 hex digits after `#`"));
        }
        explicit = u32::from_str_radix(hex, 16).ok();
        if explicit.is_none() {
            c.pos = id_start;
            return Err(c.error("a constructor id of 1 to 8 hex digits after `#`"));
        }
    }
    let mut type_params = Vec::new();
    let mut params: Vec<Param<'a>> = Vec::new();
    let mut builtin = matches!(
        name,
        "int" | "long" | "double" | "string" | "bytes" | "int128" | "int256" | "vector"
    );
    loop {
        c.skip_trivia()?;
        match c.peek() {
            Some(b'=') => {
                c.bump();
                break;
            }
            Some(b'{') if params.is_empty() => {
                c.bump();
                let pname = c.ident("a type variable name inside `{...}`")?;
                c.expect(b':', "`:` after the type variable name")?;
                let kind = c.ident("a kind such as `Type` after `:`")?;
                c.expect(b'}', "`}` closing the type variable")?;
                type_params.push(TypeParam { name: pname, kind });
            }
            // Builtin syntax: `int ? = Int`, `# [ t ]`, `4*[ int ]`.
            Some(b'?' | b'#' | b'[' | b']' | b'*') => {
                builtin = true;
                c.bump();
            }
            Some(d) if d.is_ascii_digit() && builtin => c.bump(),
            Some(d) if d.is_ascii_digit() => {
                builtin = true;
                c.bump();
            }
            Some(ch) if is_ident_start(ch) => {
                let save = (c.pos, c.line, c.line_start);
                let pname = c.ident("a parameter name")?;
                c.skip_trivia()?;
                if !c.eat(b':') {
                    if builtin {
                        continue;
                    }
                    // `name` alone (e.g. `[ t ]` body): only valid in builtins.
                    (c.pos, c.line, c.line_start) = save;
                    c.pos += pname.len();
                    return Err(c.error("`:` after the parameter name"));
                }
                let ty = param_type(c, &params, &type_params)?;
                params.push(Param { name: pname, ty });
            }
            _ => return Err(c.error("a parameter `name:Type` or `=`")),
        }
    }
    let result = result_type(c)?;
    if result.generic_ref || result.percent {
        return Err(ParseError {
            line: c.line,
            column: c.column(),
            message: "expected a plain result type after `=`".to_owned(),
        });
    }
    c.skip_trivia()?;
    let end = c.pos;
    if !c.eat(b';') {
        return Err(c.error("`;` at the end of the declaration"));
    }
    let source = src_slice(c.src, start, end).trim_end();
    let mut def = Definition {
        name,
        id: explicit.unwrap_or(0),
        explicit_id: explicit.is_some(),
        type_params,
        params,
        result,
        category,
        builtin,
        line,
        column,
        source,
    };
    if explicit.is_none() {
        def.id = def.computed_id();
    }
    Ok(def)
}

fn src_slice(src: &str, a: usize, b: usize) -> &str {
    src.get(a..b).unwrap_or("")
}

/// After `name:` — `#`, `flags.N?Type`, `!X`, `%T`, `Vector<T>`, `T`.
fn param_type<'a>(
    c: &mut Cursor<'a>,
    params: &[Param<'a>],
    type_params: &[TypeParam<'a>],
) -> Result<ParamType<'a>, ParseError> {
    c.skip_trivia()?;
    if c.eat(b'#') {
        return Ok(ParamType::Flags);
    }
    let (line, column) = (c.line, c.column());
    let ty = c.type_expr()?;
    c.skip_trivia()?;
    if c.peek() == Some(b'?') {
        // `flags.N?Type`
        let cond = ty.name;
        let Some((fname, bit)) = cond.rsplit_once('.') else {
            return Err(ParseError {
                line,
                column,
                message: format!("expected a flag condition `field.N?` , found `{cond}?`"),
            });
        };
        let bit: u32 = match bit.parse() {
            Ok(b) if b < 32 => b,
            _ => {
                return Err(ParseError {
                    line,
                    column,
                    message: format!("expected a flag bit 0..=31 in `{cond}?`"),
                })
            }
        };
        let declared = params
            .iter()
            .any(|p| p.name == fname && p.ty == ParamType::Flags);
        if !declared {
            return Err(ParseError {
                line,
                column,
                message: format!(
                    "expected `{fname}` to be a `{fname}:#` flags field declared earlier in this line"
                ),
            });
        }
        if ty.percent || ty.generic_ref || ty.arg.is_some() {
            return Err(ParseError {
                line,
                column,
                message: "expected `field.N?` before the type".to_owned(),
            });
        }
        c.bump();
        let inner = c.type_expr()?;
        check_generic(&inner, type_params, line, column)?;
        return Ok(ParamType::Normal {
            ty: inner,
            flag: Some(Flag { name: fname, bit }),
        });
    }
    check_generic(&ty, type_params, line, column)?;
    Ok(ParamType::Normal { ty, flag: None })
}

fn check_generic(
    ty: &Type<'_>,
    type_params: &[TypeParam<'_>],
    line: u32,
    column: u32,
) -> Result<(), ParseError> {
    if ty.generic_ref && !type_params.iter().any(|t| t.name == ty.name) {
        return Err(ParseError {
            line,
            column,
            message: format!(
                "expected `!{}` to name a type variable declared as `{{{}:Type}}`",
                ty.name, ty.name
            ),
        });
    }
    Ok(())
}

/// The result after `=`: `Type`, `Vector<T>`, or the builtin `Vector t`.
fn result_type<'a>(c: &mut Cursor<'a>) -> Result<Type<'a>, ParseError> {
    let mut ty = c.type_expr()?;
    c.skip_trivia()?;
    if ty.arg.is_none() && c.peek().is_some_and(is_ident_start) {
        let arg = c.type_expr()?;
        ty.arg = Some(Box::new(arg));
    }
    Ok(ty)
}
