//! JSON and indented-tree output.

use std::fmt::Write;

use crate::value::Value;

fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

/// Writes `s` as a JSON string literal.
pub fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_double(out: &mut String, x: f64) {
    if x.is_finite() {
        let s = format!("{x}");
        out.push_str(&s);
        if !s.contains(['.', 'e', 'E']) {
            out.push_str(".0");
        }
    } else {
        out.push_str("null");
    }
}

impl Value {
    /// One-line JSON: objects as `{"_": "name", "field": ...}` (fields in
    /// schema order), `bytes` / `int128` / `int256` as hex strings, `long`
    /// as a number, `gzip_packed` as its content.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    fn write_json(&self, out: &mut String) {
        match self {
            Value::Int(x) => {
                let _ = write!(out, "{x}");
            }
            Value::Long(x) => {
                let _ = write!(out, "{x}");
            }
            Value::Double(x) => json_double(out, *x),
            Value::Int128(b) => json_string(out, &hex(b)),
            Value::Int256(b) => json_string(out, &hex(b)),
            Value::Bytes(b) => json_string(out, &hex(b)),
            Value::String(s) => json_string(out, s),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::True => out.push_str("true"),
            Value::Vector(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Value::Object { name, fields, .. } => {
                out.push_str("{\"_\": ");
                json_string(out, name);
                for (k, v) in fields {
                    out.push_str(", ");
                    json_string(out, k);
                    out.push_str(": ");
                    v.write_json(out);
                }
                out.push('}');
            }
            Value::Gzip { inner, .. } => inner.write_json(out),
        }
    }

    /// An indented tree for people:
    ///
    /// ```text
    /// messages.setTyping#58943ee2
    ///   flags: 0
    ///   peer: inputPeerUser#dde8a54c
    ///     user_id: 42
    /// ```
    pub fn to_tree(&self) -> String {
        let mut out = String::new();
        self.write_tree(&mut out, 0);
        out
    }

    fn head(&self) -> String {
        match self {
            Value::Int(x) => format!("{x}"),
            Value::Long(x) => format!("{x}"),
            Value::Double(x) => format!("{x:?}"),
            Value::Int128(b) => format!("int128 {}", hex(b)),
            Value::Int256(b) => format!("int256 {}", hex(b)),
            Value::Bytes(b) => format!("bytes[{}] {}", b.len(), hex(b)),
            Value::String(s) => {
                let mut q = String::new();
                json_string(&mut q, s);
                q
            }
            Value::Bool(b) => format!("{b}"),
            Value::True => "true".to_owned(),
            Value::Vector(items) => format!("vector[{}]", items.len()),
            Value::Object { name, id, .. } => format!("{name}#{id:08x}"),
            Value::Gzip { inner, packed } => {
                format!("gzip_packed ({} bytes) -> {}", packed.len(), inner.head())
            }
        }
    }

    fn children(&self) -> Vec<(String, &Value)> {
        match self {
            Value::Vector(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("[{i}]"), v))
                .collect(),
            Value::Object { fields, .. } => fields.iter().map(|(k, v)| (k.clone(), v)).collect(),
            Value::Gzip { inner, .. } => inner.children(),
            _ => Vec::new(),
        }
    }

    fn write_tree(&self, out: &mut String, indent: usize) {
        out.push_str(&self.head());
        out.push('\n');
        for (k, v) in self.children() {
            for _ in 0..indent + 1 {
                out.push_str("  ");
            }
            out.push_str(&k);
            out.push_str(": ");
            v.write_tree(out, indent + 1);
        }
    }
}
