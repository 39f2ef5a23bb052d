//! Reading [`Value`] trees from JSON, checked against the schema: the
//! inverse of [`Value::to_json`], so what `mtproto decode --json` prints
//! can be sent back (`flags` words may be left out: they are computed).
//!
//! Every mismatch is a [`JsonError`] naming the JSON path (`$.peer.user_id`,
//! `$.id[2]`) and what is wrong: an unknown constructor or function, a
//! constructor of another type, a missing or unknown field, a wrong JSON
//! type, an integer out of range, malformed hex.

use std::fmt;

use serde_json::Value as Json;

use crate::decode::{is_bare_ctor, Ctx};
use crate::schema::{Def, DynSchema, ParamKind, TypeRef};
use crate::value::Value;

/// Most nesting of JSON objects and arrays read (the decoder's own bound).
const MAX_DEPTH: usize = 64;

/// JSON that does not fit the schema: where, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError {
    /// The JSON path (`$`, `$.peer`, `$.id[0].user_id`).
    pub path: String,
    /// What is wrong there.
    pub message: String,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for JsonError {}

fn err(path: &str, message: impl Into<String>) -> JsonError {
    JsonError {
        path: path.to_owned(),
        message: message.into(),
    }
}

fn kind(j: &Json) -> &'static str {
    match j {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

fn want(path: &str, what: &str, j: &Json) -> JsonError {
    err(path, format!("expected {what}, found {}", kind(j)))
}

fn hex(path: &str, s: &str, len: Option<usize>) -> Result<Vec<u8>, JsonError> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return Err(err(path, "malformed hex: odd number of digits"));
    }
    let digit = |c: u8| -> Result<u8, JsonError> {
        (c as char)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
            .ok_or_else(|| {
                err(
                    path,
                    format!("malformed hex: {:?} is not a hex digit", c as char),
                )
            })
    };
    let out = b
        .chunks_exact(2)
        .map(|p| Ok(digit(p[0])? << 4 | digit(p[1])?))
        .collect::<Result<Vec<u8>, JsonError>>()?;
    match len {
        Some(n) if out.len() != n => Err(err(
            path,
            format!("expected {n} bytes of hex, found {}", out.len()),
        )),
        _ => Ok(out),
    }
}

/// An integer: a JSON integer, or a string of one (for `long`s that some
/// JSON tools cannot hold exactly).
fn integer(path: &str, j: &Json, what: &str) -> Result<i128, JsonError> {
    let n = match j {
        Json::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .ok_or_else(|| err(path, format!("expected {what}, found a non-integer number"))),
        Json::String(s) => s
            .parse::<i128>()
            .map_err(|_| err(path, format!("expected {what}, found the string {s:?}"))),
        other => Err(want(path, what, other)),
    }?;
    Ok(n)
}

impl DynSchema {
    /// Reads a function call (`{"_": "users.getUsers", "id": [...]}`).
    pub fn function_from_json(&self, json: &Json) -> Result<Value, JsonError> {
        Reader { schema: self }.object(json, "$", Expect::Function, 0)
    }

    /// Reads a boxed value of type `type_name` (`InputPeer`, `Vector<long>`,
    /// `inputPeerUser` for a bare constructor).
    pub fn value_from_json(&self, type_name: &str, json: &Json) -> Result<Value, JsonError> {
        let ty = TypeRef::parse(type_name)
            .ok_or_else(|| err("$", format!("malformed type name {type_name:?}")))?;
        Reader { schema: self }.typed(json, "$", &ty, &Ctx::TOP, 0)
    }

    /// The type a call's answer has: the function's result, or for a
    /// generic wrapper (`invokeWithLayer`, `!X`) that of its query.
    pub fn result_type(&self, call: &Value) -> Option<TypeRef> {
        let mut cur = call;
        for _ in 0..MAX_DEPTH {
            let Value::Object { id, fields, .. } = cur else {
                return None;
            };
            let def = self.by_id(*id)?;
            if !def.type_params.contains(&def.result.name) {
                return Some(def.result.clone());
            }
            // The parameter typed `!X` holds the query whose answer it is.
            let q = def.params.iter().find_map(|p| match &p.kind {
                ParamKind::Normal { ty, .. } if ty.generic_ref => Some(&p.name),
                _ => None,
            })?;
            cur = fields.iter().find(|(n, _)| n == q).map(|(_, v)| v)?;
        }
        None
    }
}

/// What an object position accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect<'t> {
    /// A function (the top of a call, or a `!X` query).
    Function,
    /// A constructor of this boxed type.
    Of(&'t TypeRef),
    /// This bare constructor (`%message`, `inputPeerUser`).
    Bare(&'t TypeRef),
    /// Anything with an id (an `Object` position).
    Any,
}

struct Reader<'s> {
    schema: &'s DynSchema,
}

impl Reader<'_> {
    fn object(
        &self,
        json: &Json,
        path: &str,
        expect: Expect<'_>,
        depth: usize,
    ) -> Result<Value, JsonError> {
        if depth > MAX_DEPTH {
            return Err(err(path, format!("nested deeper than {MAX_DEPTH}")));
        }
        let Json::Object(map) = json else {
            return Err(want(path, "an object with \"_\"", json));
        };
        let type_path = format!("{path}._");
        let name = match map.get("_") {
            Some(Json::String(s)) => s.as_str(),
            Some(other) => return Err(want(&type_path, "a constructor name", other)),
            None => {
                return Err(err(
                    path,
                    "missing \"_\" (the constructor or function name)",
                ))
            }
        };
        let def: &Def = match expect {
            Expect::Function => self
                .schema
                .function(name)
                .ok_or_else(|| err(&type_path, format!("unknown function {name:?}")))?,
            Expect::Any => self
                .schema
                .get(name)
                .ok_or_else(|| err(&type_path, format!("unknown constructor {name:?}")))?,
            Expect::Of(ty) => {
                let d = self
                    .schema
                    .constructor(name)
                    .ok_or_else(|| err(&type_path, format!("unknown constructor {name:?}")))?;
                if d.result.name != ty.name {
                    return Err(err(
                        &type_path,
                        format!("{name} is a {}, expected a {}", d.result, ty.name),
                    ));
                }
                d
            }
            Expect::Bare(ty) => {
                let d = self
                    .schema
                    .constructor(name)
                    .ok_or_else(|| err(&type_path, format!("unknown constructor {name:?}")))?;
                // `inputPeerUser` names the constructor; `%InputPeer` any
                // constructor of the type, written bare.
                let same = d.name == ty.name || (ty.percent && d.result.name == ty.name);
                if !same {
                    return Err(err(&type_path, format!("expected {ty}, found {name}")));
                }
                d
            }
        };
        for key in map.keys() {
            let known = key == "_" || def.params.iter().any(|p| &p.name == key);
            if !known {
                return Err(err(
                    &format!("{path}.{key}"),
                    format!("{} has no field {key:?}", def.name),
                ));
            }
        }
        let cx = Ctx::of(def);
        let mut fields = Vec::with_capacity(def.params.len());
        for p in &def.params {
            let fpath = format!("{path}.{}", p.name);
            let given = map.get(&p.name);
            match &p.kind {
                ParamKind::Flags => {
                    // Computed from the fields present; bits no field is
                    // conditioned on are kept.
                    let v = match given {
                        None | Some(Json::Null) => 0,
                        Some(j) => u32::try_from(integer(&fpath, j, "a flags word")?)
                            .map_err(|_| err(&fpath, "flags word out of range (0..2^32)"))?,
                    };
                    fields.push((p.name.clone(), Value::Int(v as i32)));
                }
                ParamKind::Normal { ty, flag } => {
                    if ty.name == "true" {
                        match given {
                            None | Some(Json::Null | Json::Bool(false)) => {}
                            Some(Json::Bool(true)) => fields.push((p.name.clone(), Value::True)),
                            Some(j) => return Err(want(&fpath, "true or false", j)),
                        }
                        continue;
                    }
                    let j = match (given, flag) {
                        (None | Some(Json::Null), Some(_)) => continue,
                        (None, None) => {
                            return Err(err(&fpath, format!("missing field of {}", def.name)))
                        }
                        (Some(j), _) => j,
                    };
                    // `bytes:int body:Object`: computed by the encoder.
                    let v = self.typed(j, &fpath, ty, &cx, depth + 1)?;
                    fields.push((p.name.clone(), v));
                }
            }
        }
        Ok(Value::Object {
            name: def.name.clone(),
            id: def.id,
            fields,
        })
    }

    fn typed(
        &self,
        j: &Json,
        path: &str,
        ty: &TypeRef,
        cx: &Ctx<'_>,
        depth: usize,
    ) -> Result<Value, JsonError> {
        if depth > MAX_DEPTH {
            return Err(err(path, format!("nested deeper than {MAX_DEPTH}")));
        }
        if ty.generic_ref || cx.tparams.contains(&ty.name) {
            return self.object(j, path, Expect::Function, depth);
        }
        let range = |lo: i128, hi: i128, what: &str| -> Result<i128, JsonError> {
            let n = integer(path, j, what)?;
            if (lo..=hi).contains(&n) {
                Ok(n)
            } else {
                Err(err(path, format!("{n} is out of range for {what}")))
            }
        };
        Ok(match ty.name.as_str() {
            "Object" => self.object(j, path, Expect::Any, depth)?,
            "int" => Value::Int(
                i32::try_from(range(i128::from(i32::MIN), i128::from(i32::MAX), "an int")?)
                    .map_err(|_| err(path, "out of range for an int"))?,
            ),
            "long" => Value::Long(
                i64::try_from(range(i128::from(i64::MIN), i128::from(i64::MAX), "a long")?)
                    .map_err(|_| err(path, "out of range for a long"))?,
            ),
            "double" => match j {
                Json::Number(n) => Value::Double(n.as_f64().unwrap_or_default()),
                other => return Err(want(path, "a number", other)),
            },
            "int128" | "int256" => {
                let n = if ty.name == "int128" { 16 } else { 32 };
                let Json::String(s) = j else {
                    return Err(want(path, "a hex string", j));
                };
                let b = hex(path, s, Some(n))?;
                match (
                    <[u8; 16]>::try_from(b.as_slice()),
                    <[u8; 32]>::try_from(b.as_slice()),
                ) {
                    (Ok(a), _) => Value::Int128(a),
                    (_, Ok(a)) => Value::Int256(a),
                    _ => return Err(err(path, "wrong length")),
                }
            }
            "bytes" => match j {
                Json::String(s) => Value::Bytes(hex(path, s, None)?),
                other => return Err(want(path, "a hex string", other)),
            },
            "string" => match j {
                Json::String(s) => Value::String(s.clone()),
                other => return Err(want(path, "a string", other)),
            },
            "Bool" => match j {
                Json::Bool(b) => Value::Bool(*b),
                other => return Err(want(path, "true or false", other)),
            },
            "Vector" | "vector" => {
                let Json::Array(items) = j else {
                    return Err(want(path, "an array", j));
                };
                let elem = ty
                    .arg
                    .as_deref()
                    .ok_or_else(|| err(path, "a vector without an element type"))?;
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    out.push(self.typed(item, &format!("{path}[{i}]"), elem, cx, depth + 1)?);
                }
                Value::Vector(out)
            }
            _ if is_bare_ctor(ty) => self.object(j, path, Expect::Bare(ty), depth)?,
            _ => self.object(j, path, Expect::Of(ty), depth)?,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn call(text: &str) -> Result<Vec<u8>, JsonError> {
        let s = DynSchema::builtin();
        let j: Json = serde_json::from_str(text).unwrap();
        let v = s.function_from_json(&j)?;
        Ok(s.encode_boxed(&v).unwrap())
    }

    #[test]
    fn what_decode_prints_reads_back_to_the_same_bytes() {
        let s = DynSchema::builtin();
        // messages.setTyping(peer: inputPeerUser 1001/7, top_msg_id 5, typing)
        let bytes = call(
            r#"{"_": "messages.setTyping", "peer": {"_": "inputPeerUser", "user_id": 1001, "access_hash": 7}, "top_msg_id": 5, "action": {"_": "sendMessageTypingAction"}}"#,
        )
        .unwrap();
        let v = s.decode_function(&bytes).unwrap();
        // The flags word (bit 0, top_msg_id) was computed.
        assert_eq!(v.field("flags"), Some(&Value::Int(1)));
        let again = s
            .function_from_json(&serde_json::from_str(&v.to_json()).unwrap())
            .unwrap();
        assert_eq!(s.encode_boxed(&again).unwrap(), bytes);
    }

    #[test]
    fn mismatches_name_the_path() {
        let e = |t: &str| call(t).unwrap_err();
        assert_eq!(e(r#"{"_": "nope.nope"}"#).path, "$._");
        assert_eq!(e(r#"[1]"#).path, "$");
        let missing = e(r#"{"_": "messages.setTyping", "peer": {"_": "inputPeerSelf"}}"#);
        assert_eq!(missing.path, "$.action");
        let extra = e(r#"{"_": "help.getConfig", "x": 1}"#);
        assert_eq!(extra.path, "$.x");
        let wrong_type = e(
            r#"{"_": "messages.setTyping", "peer": {"_": "sendMessageTypingAction"}, "action": {"_": "sendMessageTypingAction"}}"#,
        );
        assert_eq!(wrong_type.path, "$.peer._");
        let range = e(
            r#"{"_": "messages.setTyping", "peer": {"_": "inputPeerSelf"}, "top_msg_id": 4294967296, "action": {"_": "sendMessageTypingAction"}}"#,
        );
        assert_eq!(range.path, "$.top_msg_id");
        let not_int = e(
            r#"{"_": "messages.setTyping", "peer": {"_": "inputPeerChat", "chat_id": "x"}, "action": {"_": "sendMessageTypingAction"}}"#,
        );
        assert_eq!(not_int.path, "$.peer.chat_id");
        let vec = e(r#"{"_": "users.getUsers", "id": [{"_": "inputUserSelf"}, 5]}"#);
        assert_eq!(vec.path, "$.id[1]");
        let s = DynSchema::builtin();
        let bad_hex = s
            .value_from_json(
                "InputPhoto",
                &serde_json::from_str(
                    r#"{"_": "inputPhoto", "id": 1, "access_hash": 2, "file_reference": "0g"}"#,
                )
                .unwrap(),
            )
            .unwrap_err();
        assert_eq!(bad_hex.path, "$.file_reference");
        assert!(bad_hex.message.contains("hex"), "{bad_hex}");
    }

    #[test]
    fn wrapped_calls_answer_with_their_query_type() {
        let s = DynSchema::builtin();
        let j = serde_json::from_str(
            r#"{"_": "invokeWithLayer", "layer": 228, "query": {"_": "users.getUsers", "id": [{"_": "inputUserSelf"}]}}"#,
        )
        .unwrap();
        let v = s.function_from_json(&j).unwrap();
        assert_eq!(s.result_type(&v).unwrap().to_string(), "Vector<User>");
    }
}
