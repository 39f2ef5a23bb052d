//! A small indenting code writer.
//!
//! Every line is written at the current indentation level (four spaces
//! each), so the emitters write each generated line on its own, without
//! hand-made indentation strings:
//!
//! ```text
//! w.open("impl Foo {");          // `impl Foo {`, then one level deeper
//! wln!(w, "const ID: u32 = {id:#010x};");
//! w.close("}");                  // one level up, then `}`
//! ```

use std::fmt::{self, Write as _};

/// One level of indentation.
const INDENT: &str = "    ";

/// Writes one formatted line: `wln!(w, "let x = {x};")` is
/// `w.line(format_args!("let x = {x};"))`.
macro_rules! wln {
    ($w:expr, $($arg:tt)*) => {
        $w.line(format_args!($($arg)*))
    };
}
pub(crate) use wln;

/// Appends lines of code, each indented to the current level.
#[derive(Debug, Default)]
pub(crate) struct CodeWriter {
    /// The code written so far.
    out: String,
    /// The current indentation level.
    level: usize,
}

impl CodeWriter {
    /// An empty writer at level 0 with room for `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        CodeWriter {
            out: String::with_capacity(capacity),
            level: 0,
        }
    }

    /// Writes `text` as one line at the current level. `text` must not
    /// contain a line break (use one call per line).
    pub(crate) fn line(&mut self, text: impl fmt::Display) {
        for _ in 0..self.level {
            self.out.push_str(INDENT);
        }
        let start = self.out.len();
        let _ = write!(self.out, "{text}");
        debug_assert!(
            !self.out[start..].contains('\n'),
            "a line break inside a line: {:?}",
            &self.out[start..]
        );
        self.out.push('\n');
    }

    /// Writes an empty line (no indentation).
    pub(crate) fn blank(&mut self) {
        self.out.push('\n');
    }

    /// Goes one level deeper.
    pub(crate) fn indent(&mut self) {
        self.level += 1;
    }

    /// Goes one level up.
    pub(crate) fn dedent(&mut self) {
        debug_assert!(self.level > 0, "dedent at level 0");
        self.level = self.level.saturating_sub(1);
    }

    /// Writes `head` (which opens a block), then goes one level deeper.
    pub(crate) fn open(&mut self, head: impl fmt::Display) {
        self.line(head);
        self.indent();
    }

    /// Goes one level up, then writes `tail` (which closes a block).
    pub(crate) fn close(&mut self, tail: impl fmt::Display) {
        self.dedent();
        self.line(tail);
    }

    /// Goes one level up, writes `text` (which closes a block and opens
    /// another, as `} else {`), then goes one level deeper again.
    pub(crate) fn reopen(&mut self, text: impl fmt::Display) {
        self.dedent();
        self.open(text);
    }

    /// Writes `head`, then `body` one level deeper, then `}`.
    pub(crate) fn block(&mut self, head: impl fmt::Display, body: impl FnOnce(&mut Self)) {
        self.open(head);
        body(self);
        self.close("}");
    }

    /// The code written.
    pub(crate) fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::CodeWriter;

    #[test]
    fn indents_blocks() {
        let mut w = CodeWriter::default();
        w.line("// top");
        w.block("mod m {", |w| {
            let x = 1;
            wln!(w, "const X: i32 = {x};");
            w.open("fn f() {");
            w.line("g();");
            w.reopen("} else {");
            w.line("h();");
            w.close("}");
        });
        w.blank();
        assert_eq!(
            w.finish(),
            concat!(
                "// top\n",
                "mod m {\n",
                "    const X: i32 = 1;\n",
                "    fn f() {\n",
                "        g();\n",
                "    } else {\n",
                "        h();\n",
                "    }\n",
                "}\n",
                "\n",
            )
        );
    }
}
