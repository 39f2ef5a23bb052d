//! Always-on parser tests over inline schema text: every syntax feature and
//! the error positions.
#![allow(clippy::unwrap_used)]

use mtproto_tl_parser::{parse, Category, Flag, ParamType};

const SAMPLE: &str = r#"
// Builtins, as tdlib and grammers write them.
int ? = Int;
long ? = Long;
vector#1cb5c415 {t:Type} # [ t ] = Vector t;
int128 4*[ int ] = Int128;
bytes = Bytes;

/* a block
   comment */
boolFalse#bc799737 = Bool;
boolTrue#997275b5 = Bool;
true#3fedd339 = True;

inputPeerUser#dde8a54c user_id:long access_hash:long = InputPeer;
ipPortSecret#37982646 ipv4:int port:int secret:bytes = IpPort;
future_salts#ae500895 req_msg_id:long now:int salts:vector<future_salt> = FutureSalts;
msg_container#73f1f8dc messages:vector<%message> = MessageContainer;
message msg_id:long seqno:int bytes:int body:Object = Message;
user#b1b8cc83 flags:# self:flags.10?true flags2:# close_friend:flags2.2?true id:long username:flags.3?string usernames:flags2.0?Vector<Username> = User;
help.configSimple#5a592a6c date:int expires:int rules:vector<AccessPointRule> = help.ConfigSimple;

---functions---

messages.setTyping#58943ee2 flags:# peer:InputPeer top_msg_id:flags.0?int action:SendMessageAction = Bool;
invokeWithLayer#da9b0d0d {X:Type} layer:int query:!X = X;
invokeWithApnsSecret#0dae54f8 {X:Type} nonce:string secret:string query:!X = X;
messages.deleteMessages#e58e95d2 flags:# revoke:flags.0?true id:Vector<int> = messages.AffectedMessages;
// LAYER 228
"#;

#[test]
fn every_feature() {
    let s = parse(SAMPLE).unwrap();
    assert_eq!(s.layer(), Some(228));
    let builtins: Vec<&str> = s.builtins().map(|d| d.name).collect();
    assert_eq!(builtins, ["int", "long", "vector", "int128", "bytes"]);
    assert_eq!(s.get("vector").unwrap().id, 0x1cb5c415);
    assert_eq!(s.constructors().count(), 10);
    assert_eq!(s.functions().count(), 4);
    assert_eq!(s.types().len(), 9);
    assert_eq!(
        s.constructors_of("Bool")
            .map(|d| d.name)
            .collect::<Vec<_>>(),
        ["boolFalse", "boolTrue"]
    );

    let u = s.constructor("user").unwrap();
    assert_eq!(u.params.len(), 7);
    assert_eq!(u.params[0].ty, ParamType::Flags);
    assert!(u.params[1].is_true_flag());
    assert_eq!(u.params[3].name, "close_friend");
    match &u.params[3].ty {
        ParamType::Normal { flag, .. } => assert_eq!(
            *flag,
            Some(Flag {
                name: "flags2",
                bit: 2
            })
        ),
        ParamType::Flags => panic!(),
    }
    match &u.params[6].ty {
        ParamType::Normal { ty, flag } => {
            assert_eq!(flag.unwrap().bit, 0);
            assert_eq!(ty.name, "Vector");
            assert_eq!(ty.arg.as_ref().unwrap().name, "Username");
            assert!(!ty.is_bare());
        }
        ParamType::Flags => panic!(),
    }

    let c = s.constructor("msg_container").unwrap();
    match &c.params[0].ty {
        ParamType::Normal { ty, .. } => {
            assert!(ty.is_bare());
            let arg = ty.arg.as_ref().unwrap();
            assert!(arg.percent && arg.is_bare());
            assert_eq!(arg.name, "message");
        }
        ParamType::Flags => panic!(),
    }
    // No id written: CRC32 of "message msg_id:long seqno:int bytes:int body:Object = Message".
    let m = s.constructor("message").unwrap();
    assert!(!m.explicit_id);
    assert_eq!(m.id, 0x5bb8e511);

    let h = s.constructor("help.configSimple").unwrap();
    assert_eq!(h.namespace(), Some("help"));
    assert_eq!(h.short_name(), "configSimple");
    assert_eq!(h.result.namespace(), Some("help"));
    assert_eq!(h.result.short_name(), "ConfigSimple");

    let st = s.function("messages.setTyping").unwrap();
    assert_eq!(st.category, Category::Function);
    assert_eq!(st.result.name, "Bool");
    assert_eq!(st.params[2].to_string(), "top_msg_id:flags.0?int");

    let inv = s.function("invokeWithLayer").unwrap();
    assert_eq!(inv.type_params.len(), 1);
    assert_eq!(inv.type_params[0].name, "X");
    assert_eq!(inv.type_params[0].kind, "Type");
    match &inv.params[1].ty {
        ParamType::Normal { ty, .. } => assert!(ty.generic_ref && ty.name == "X"),
        ParamType::Flags => panic!(),
    }
    // Leading zero in the id.
    assert_eq!(s.function("invokeWithApnsSecret").unwrap().id, 0x0dae54f8);
    assert_eq!(s.by_id(0xdde8a54c).unwrap().name, "inputPeerUser");
    assert_eq!(s.get("inputPeerUser").unwrap().line, 15);
    assert_eq!(s.get("inputPeerUser").unwrap().column, 1);

    // Known CRC exceptions: ipPortSecret and help.configSimple.
    let mism: Vec<&str> = s
        .crc_mismatches()
        .iter()
        .map(|m| m.definition.name)
        .collect();
    assert_eq!(mism, ["ipPortSecret", "user", "help.configSimple"]); // `user` is shortened here
    assert!(s.duplicate_ids().is_empty());
}

#[test]
fn normalization() {
    let s = parse(SAMPLE).unwrap();
    assert_eq!(
        s.get("vector").unwrap().normalized(),
        "vector t:Type # [ t ] = Vector t"
    );
    assert_eq!(
        s.get("user").unwrap().normalized(),
        "user flags:# flags2:# id:long username:flags.3?string usernames:flags2.0?Vector Username = User"
    );
    assert_eq!(
        s.get("msg_container").unwrap().normalized(),
        "msg_container messages:vector message = MessageContainer"
    );
    assert_eq!(s.get("msg_container").unwrap().computed_id(), 0x73f1f8dc);
    assert_eq!(
        s.get("invokeWithLayer").unwrap().normalized(),
        "invokeWithLayer X:Type layer:int query:!X = X"
    );
    assert_eq!(s.get("invokeWithLayer").unwrap().computed_id(), 0xda9b0d0d);
    // bytes is written as string.
    assert_eq!(
        s.get("ipPortSecret").unwrap().normalized(),
        "ipPortSecret ipv4:int port:int secret:string = IpPort"
    );
}

#[test]
fn duplicate_ids_are_reported() {
    let s = parse(
        "---functions---\n\
         invokeWithReCaptchaPrefix#adbb0f94 token:string = Error;\n\
         invokeWithReCaptcha#adbb0f94 {X:Type} token:string query:!X = X;\n",
    )
    .unwrap();
    let d = s.duplicate_ids();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].id, 0xadbb0f94);
    assert_eq!(d[0].first.name, "invokeWithReCaptchaPrefix");
    assert_eq!(d[0].duplicate.name, "invokeWithReCaptcha");
    // Both stay in the schema: nothing is merged.
    assert_eq!(s.functions().count(), 2);
}

fn err(text: &str) -> (u32, u32, String) {
    let e = parse(text).unwrap_err();
    (e.line, e.column, e.message)
}

#[test]
fn errors_have_positions_and_say_what_was_expected() {
    let (l, c, m) = err("a#1 x:int = A;\nb#2 x:int = B\n");
    assert_eq!((l, c), (3, 1), "{m}");
    assert!(m.contains("expected `;`"), "{m}");
    assert!(m.contains("end of input"), "{m}");

    let (l, c, m) = err("\n  foo#zz = Foo;");
    assert_eq!((l, c), (2, 7));
    assert!(m.contains("hex digits"), "{m}");

    let (l, c, m) = err("foo#1 x:flags.0?int = Foo;");
    assert_eq!((l, c), (1, 9));
    assert!(m.contains("`flags:#`"), "{m}");

    let (l, c, m) = err("foo#1 flags:# x:flags.32?int = Foo;");
    assert_eq!((l, c), (1, 17));
    assert!(m.contains("0..=31"), "{m}");

    let (l, c, m) = err("foo#1 q:!X = X;");
    assert_eq!((l, c), (1, 9));
    assert!(m.contains("{X:Type}"), "{m}");

    let (l, c, m) = err("foo#1 x:Vector<int = Foo;");
    assert_eq!((l, c), (1, 20));
    assert!(m.contains("`>`"), "{m}");

    let (l, c, m) = err("---typez---\n");
    assert_eq!((l, c), (1, 1));
    assert!(m.contains("---functions---"), "{m}");

    let (l, c, m) = err("foo#1 x y:int = Foo;");
    assert_eq!((l, c), (1, 8));
    assert!(m.contains("`:`"), "{m}");

    let (l, c, m) = err("foo#1 x:int = ;");
    assert_eq!((l, c), (1, 15));
    assert!(m.contains("a type name"), "{m}");

    let (l, c, m) = err("ok#1 = Ok;\n/* never closed\n");
    assert_eq!((l, c), (2, 1));
    assert!(m.contains("*/"), "{m}");

    let (l, c, m) = err("foo#123456789 = Foo;");
    assert_eq!((l, c), (1, 5));
    assert!(m.contains("1 to 8 hex digits"), "{m}");

    let (_, _, m) = err("foo#1 x:int = Foo;;");
    let shown = parse("foo#1 x:int = Foo;;").unwrap_err().to_string();
    assert!(shown.starts_with("1:19: expected"), "{shown} / {m}");
}

#[test]
fn comments_anywhere_and_crlf() {
    let s = parse(
        "// c\r\nfoo#1 /* inline */ x:int = Foo; // tail\r\n---functions---\r\nbar#2 = Foo;\r\n",
    )
    .unwrap();
    assert_eq!(s.constructors().count(), 1);
    assert_eq!(s.functions().next().unwrap().line, 4);
}
