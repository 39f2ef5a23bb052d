//! Naming rules for generated items.
//!
//! **Type, struct and function names**: the TL name (without namespace) is
//! cut into words at `_`, at a lower-case-to-upper-case step, and before the
//! last capital of a run of capitals followed by a lower-case letter; each
//! word is then written with a capital first letter and the rest in lower
//! case; digits stay with the word before them. So `resPQ` -> `ResPq`,
//! `p_q_inner_data_dc` -> `PQInnerDataDc`, `Server_DH_Params` ->
//! `ServerDhParams`, `JSONObjectValue` -> `JsonObjectValue`,
//! `messages.setTyping` -> `SetTyping` (in module `messages`).
//!
//! **Enum variants**: the constructor's name by the rule above, with the
//! type's name removed from its front when what is left is non-empty, starts
//! with a capital, is not `Self`, and no other variant of the same enum ends
//! up with the same name (`inputPeerUser` -> `InputPeer::User`,
//! `inputPeerSelf` -> `InputPeer::InputPeerSelf`).
//!
//! **Fields**: the TL name in lower case (`srp_B` -> `srp_b`), with `_`
//! appended to Rust keywords (`type` -> `type_`).

/// PascalCase name of a TL identifier (see the module docs).
pub fn pascal(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut words: Vec<String> = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' || c == '.' {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_ascii_uppercase() && !cur.is_empty() {
            let prev = chars.get(i.wrapping_sub(1)).copied().unwrap_or('_');
            let next = chars.get(i + 1).copied().unwrap_or('_');
            let split = prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next.is_ascii_lowercase());
            if split {
                words.push(std::mem::take(&mut cur));
            }
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    let mut out = String::with_capacity(name.len());
    for w in words {
        let mut it = w.chars();
        if let Some(first) = it.next() {
            out.push(first.to_ascii_uppercase());
            for c in it {
                out.push(c.to_ascii_lowercase());
            }
        }
    }
    out
}

/// Rust keywords (and reserved words): a field named like one gets a `_`
/// suffix.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "union", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// A Rust field name for a TL parameter name.
pub fn field(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if KEYWORDS.contains(&lower.as_str()) {
        format!("{lower}_")
    } else {
        lower
    }
}

/// A Rust module name for a TL namespace.
pub fn module(ns: &str) -> String {
    field(&ns.replace('.', "_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pascal_rule() {
        assert_eq!(pascal("resPQ"), "ResPq");
        assert_eq!(pascal("ResPQ"), "ResPq");
        assert_eq!(pascal("p_q_inner_data_dc"), "PQInnerDataDc");
        assert_eq!(pascal("P_Q_inner_data"), "PQInnerData");
        assert_eq!(pascal("Server_DH_Params"), "ServerDhParams");
        assert_eq!(pascal("server_DH_params_ok"), "ServerDhParamsOk");
        assert_eq!(pascal("req_DH_params"), "ReqDhParams");
        assert_eq!(pascal("JSONObjectValue"), "JsonObjectValue");
        assert_eq!(pascal("DataJSON"), "DataJson");
        assert_eq!(pascal("inputPeerUser"), "InputPeerUser");
        assert_eq!(pascal("setTyping"), "SetTyping");
        assert_eq!(pascal("msgs_ack"), "MsgsAck");
        assert_eq!(pascal("true"), "True");
        assert_eq!(pascal("new_nonce_hash1"), "NewNonceHash1");
        assert_eq!(pascal("int128"), "Int128");
        assert_eq!(pascal("p2pCall"), "P2pCall");
    }

    #[test]
    fn field_rule() {
        assert_eq!(field("type"), "type_");
        assert_eq!(field("static"), "static_");
        assert_eq!(field("self"), "self_");
        assert_eq!(field("srp_B"), "srp_b");
        assert_eq!(field("M1"), "m1");
        assert_eq!(field("user_id"), "user_id");
    }
}
