//! Runs the built `mtproto` binary on happy paths and on bad input.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::{Command, Output, Stdio};

use common::{assert_fails, dir_with_key, mtproto, serve, serve_with, stderr, stdout};

/// Telethon: messages.setTyping(inputPeerUser(777000, -6045902435384592131), typing).
const SET_TYPING: &str = "e23e9458000000004ca5e8dd28db0b0000000000fd783b80c4a318ac4e74bf16";

/// shared/vectors/mtproto2_encryption.json `decrypt_server_v2`: a real
/// server packet captured by grammers, and its auth key.
const SERVER_AUTH_KEY: &str = "5d2e7d65f49ec28bd029a88761ea27b8a4c79f12226525443e7d7c596ef3303530db2107e89aa997c7a0164ab694187adeff156bd6ef7118a1962347753c0e7e89a0354b8ec364f9997e71bc6923fb86e8e43491e010606a6ce845e2fa01940977ef0aa32adf5a97dbf6d428ec0434d717a2d3ad19622cc05887642113c7965ffb862a3e3ccb0ab95addda57f89245dbd76b492348f8e94bd5a7c0e0b84808523cfd1ea80b32fe9ad198bc2e103fceb7d52492ecc0273a28674bc923eee59265ab17a002df1f4aa2c59b819a5e5e1d105ec117336f5c76c6b187037d4b4270cee9cc21071d97e9bca220c6d7b01b998cf2e5cdb9a50ecda1852a36e635690c8e";
const SERVER_PACKET: &str = "7a7183c2c10e4f4df945fa9a9abd35e7c3840b61f045304f39674c19c0e209784f50f6226a073529d675c92cbf0bfa8c99a79b3f39c72a5d9a026d431ab7407ca04ecc55187d6c45f17871524edd90cea02ed728e14d7cb18aea2a636158f09459a9437710d894c79f368c4e8164b7647ea98612aefe942c5d92121acb8db02dccceb66d0f8720ac12a06db0582bfd955be34f365118e3bab8cd080ce6b45b28eac56dcd2a29374e";

fn tl_schema_dir() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../mtproto-tl/schema").to_owned()
}

#[test]
fn decode_set_typing_json() {
    let o = mtproto(&["decode", "--json", SET_TYPING]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "{\"_\": \"messages.setTyping\", \"flags\": 0, \"peer\": {\"_\": \"inputPeerUser\", \"user_id\": 777000, \"access_hash\": -6045902435384592131}, \"action\": {\"_\": \"sendMessageTypingAction\"}}\n"
    );
    // The same with --function, --schema and --reencode.
    let dir = tl_schema_dir();
    let o = mtproto(&[
        "decode",
        "--function",
        "--schema",
        &dir,
        "--reencode",
        SET_TYPING,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o)
        .starts_with("messages.setTyping#58943ee2\n  flags: 0\n  peer: inputPeerUser#dde8a54c\n"));
    assert!(stderr(&o).contains("identical (32 bytes)"));
}

#[test]
fn decode_bare_type_and_stdin() {
    let o = mtproto(&[
        "decode",
        "--json",
        "--type",
        "inputPeerUser",
        "--reencode",
        "2a00000000000000d204000000000000",
    ]);
    assert_eq!(
        stdout(&o),
        "{\"_\": \"inputPeerUser\", \"user_id\": 42, \"access_hash\": 1234}\n"
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_mtproto"))
        .args(["decode", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"b5757299\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(stdout(&o), "true\n");
}

#[test]
fn decode_real_server_packet() {
    let o = mtproto(&[
        "decode",
        "--packet",
        "--auth-key",
        SERVER_AUTH_KEY,
        "--from",
        "server",
        "--json",
        SERVER_PACKET,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "{\"auth_key_id\": \"7a7183c2c10e4f4d\", \"salt\": -204760796269739268, \"session_id\": 7542758775007277664, \"msg_id\": 6787078096601346049, \"seq_no\": 2, \"length\": 88, \"padding\": 24, \"body\": {\"_\": \"msg_container\", \"messages\": [{\"_\": \"message\", \"msg_id\": 6787078096601327617, \"seqno\": 1, \"bytes\": 28, \"body\": {\"_\": \"new_session_created\", \"first_msg_id\": 6787078096239721924, \"unique_id\": 1610298583411501080, \"server_salt\": -204760796269739268}}, {\"_\": \"message\", \"msg_id\": 6787078096601336833, \"seqno\": 2, \"bytes\": 20, \"body\": {\"_\": \"pong\", \"msg_id\": 6787078096239721924, \"ping_id\": 3147876}}]}}\n"
    );
    let o = mtproto(&[
        "decode",
        "--packet",
        "--auth-key",
        SERVER_AUTH_KEY,
        SERVER_PACKET,
    ]);
    assert!(stdout(&o).contains("msg_key: ok"));
    assert!(stdout(&o).contains("      body: new_session_created#9ec20908"));
}

#[test]
fn decode_bad_input() {
    // Malformed hex: usage error.
    assert_fails(&mtproto(&["decode", "zz"]), 2, "malformed hex");
    assert_fails(&mtproto(&["decode", "abc"]), 2, "malformed hex");
    // Wrong schema path: I/O error.
    assert_fails(
        &mtproto(&["decode", "--schema", "/no/such/dir", SET_TYPING]),
        1,
        "/no/such/dir",
    );
    // Truncated TL blob.
    assert_fails(
        &mtproto(&["decode", &SET_TYPING[..40]]),
        1,
        "unexpected end of input",
    );
    // Re-encoding that differs: non-canonical string padding is refused at decode.
    assert_fails(
        &mtproto(&[
            "decode",
            "--reencode",
            "19ca4421a40100000d464c4f4f445f574149545f33300001",
        ]),
        1,
        "non-canonical",
    );
    // Truncated packet, wrong key, wrong direction.
    assert_fails(
        &mtproto(&[
            "decode",
            "--packet",
            "--auth-key",
            SERVER_AUTH_KEY,
            &SERVER_PACKET[..60],
        ]),
        1,
        "packet",
    );
    assert_fails(
        &mtproto(&[
            "decode",
            "--packet",
            "--auth-key",
            SERVER_AUTH_KEY,
            "--from",
            "client",
            SERVER_PACKET,
        ]),
        1,
        "msg_key",
    );
    assert_fails(
        &mtproto(&["decode", "--packet", "--auth-key", "00", SERVER_PACKET]),
        2,
        "auth key",
    );
    assert_fails(
        &mtproto(&["decode", "--packet", "--auth-key", "xyz", SERVER_PACKET]),
        2,
        "malformed hex",
    );
    // Unknown flag: clap's usage error.
    assert_eq!(mtproto(&["decode", "--bogus", "00"]).status.code(), Some(2));
}

#[test]
fn schema_check_and_show() {
    let dir = tl_schema_dir();
    let api = format!("{dir}/api.tl");
    let mt = format!("{dir}/mtproto.tl");
    let o = mtproto(&["schema", "check", &api, &mt]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("api.tl: layer 230, 108 types, 395 constructors, 17 functions, 0 duplicate ids, 0 CRC32 mismatches"), "{out}");
    assert!(
        out.contains("mtproto.tl: no layer, 28 types, 42 constructors, 10 functions"),
        "{out}"
    );
    let o = mtproto(&["schema", "show", "messages.setTyping"]);
    let out = stdout(&o);
    assert!(out.starts_with(
        "messages.setTyping#58943ee2 flags:# peer:InputPeer top_msg_id:flags.0?int action:SendMessageAction = Bool;\nid: 0x58943ee2 (function returning Bool)\nerrors: "
    ), "{out}");
    // The method's typed errors, documented code and name, one per line: the
    // reference page's and the newer ones of the docs.
    for line in [
        "400 CHANNEL_INVALID",
        "406 CHANNEL_PRIVATE",
        "400 USER_IS_BOT",
        "403 CHAT_WRITE_FORBIDDEN",
        "400 TEXTDRAFT_PEER_INVALID",
    ] {
        assert!(out.lines().any(|l| l == line), "{line}: {out}");
    }
    let n: usize = out
        .lines()
        .find_map(|l| l.strip_prefix("errors: "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(out.lines().count(), 3 + n);
    let o = mtproto(&["schema", "show", "0x5bb8e511", "--schema", &dir]);
    assert!(
        stdout(&o).starts_with("message msg_id:long seqno:int bytes:int body:Object = Message;")
    );
    assert_fails(
        &mtproto(&["schema", "show", "noSuchThing"]),
        1,
        "noSuchThing",
    );
    // A parse error names line and column.
    let bad = std::env::temp_dir().join(format!("mtproto-cli-bad-{}.tl", std::process::id()));
    std::fs::write(&bad, "ok#1 = T;\nbroken#zz x:int = T;\n").unwrap();
    let o = mtproto(&["schema", "check", bad.to_str().unwrap()]);
    let _ = std::fs::remove_file(&bad);
    assert_fails(&o, 1, ":2:");
    assert_fails(
        &mtproto(&["schema", "check", "/no/such.tl"]),
        1,
        "/no/such.tl",
    );
}

#[test]
fn demo_prints_true_and_peer_id_invalid() {
    let o = mtproto(&["demo"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("-> req_pq_multi"), "{out}");
    assert!(out.contains("<- dh_gen_ok"), "{out}");
    assert!(out.contains("-> true"), "{out}");
    assert!(out.contains("rpc_error 400 PEER_ID_INVALID"), "{out}");
    for t in ["abridged", "padded", "full", "obfuscated"] {
        let o = mtproto(&["demo", "--json", "--transport", t]);
        assert_eq!(o.status.code(), Some(0), "{t}: {}", stderr(&o));
        let out = stdout(&o);
        assert!(out.lines().all(|l| l.starts_with("{\"step\": ")), "{out}");
        assert!(
            out.contains(
                "{\"step\": \"set_typing\", \"peer\": \"inputPeerSelf\", \"result\": true"
            ),
            "{out}"
        );
        assert!(
            out.contains("\"code\": 400, \"message\": \"PEER_ID_INVALID\""),
            "{out}"
        );
    }
    assert_fails(&mtproto(&["demo", "--transport", "bogus"]), 2, "bogus");
}

#[test]
fn connect_against_serve_with_key_file_reuse() {
    let (mut server, port) = serve();
    let (dir, pem) = dir_with_key("connect");
    let key_file = dir.join("session.key");
    let _ = std::fs::remove_file(&key_file);
    let addr = format!("127.0.0.1:{port}");
    let pem = pem.to_str().unwrap();
    let kf = key_file.to_str().unwrap();
    let o = mtproto(&[
        "connect",
        "--addr",
        &addr,
        "--rsa-key",
        pem,
        "--key-file",
        kf,
        "--json",
        "set-typing",
        "--peer",
        "self",
        "--action",
        "typing",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).lines().last(),
        Some("{\"result\": true, \"dc\": 2, \"migrated\": [], \"pfs\": null}")
    );
    assert!(key_file.exists(), "key file created");
    // Reuse: no RSA key needed any more.
    let o = mtproto(&[
        "connect",
        "--addr",
        &addr,
        "--key-file",
        kf,
        "--json",
        "--transport",
        "abridged",
        "set-typing",
        "--peer",
        "empty",
        "--action",
        "upload-photo:50",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).lines().last(),
        Some("{\"rpc_error\": {\"code\": 400, \"message\": \"PEER_ID_INVALID\"}, \"dc\": 2, \"migrated\": [], \"pfs\": null}")
    );
    let o = mtproto(&[
        "connect",
        "--addr",
        &addr,
        "--key-file",
        kf,
        "set-typing",
        "--peer",
        "user:42:1234",
        "--action",
        "speaking-in-group-call",
    ]);
    assert_eq!(stdout(&o), "true\n", "{}", stderr(&o));
    // Every SendMessageAction constructor of the schema has a short name.
    for action in [
        "typing",
        "cancel",
        "record-video",
        "upload-video:1",
        "record-audio",
        "upload-audio:2",
        "upload-photo:3",
        "upload-document:4",
        "geo-location",
        "choose-contact",
        "game-play",
        "record-round",
        "upload-round:5",
        "speaking-in-group-call",
        "history-import:6",
        "choose-sticker",
        "emoji-interaction:X:7:{}",
        "emoji-interaction-seen:X",
        "text-draft:8:hello",
        "input-rich-message-draft:9:*hi*",
        "rich-message-draft:10",
    ] {
        let o = mtproto(&[
            "connect",
            "--addr",
            &addr,
            "--key-file",
            kf,
            "set-typing",
            "--peer",
            "self",
            "--action",
            action,
        ]);
        assert_eq!(stdout(&o), "true\n", "{action}: {}", stderr(&o));
    }
    // Without the server's RSA key and without a key file: a protocol error.
    assert_fails(
        &mtproto(&[
            "connect",
            "--addr",
            &addr,
            "set-typing",
            "--peer",
            "self",
            "--action",
            "typing",
        ]),
        1,
        "RSA",
    );
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn connect_bad_input() {
    // Refused connection.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let addr = format!("127.0.0.1:{port}");
    assert_fails(
        &mtproto(&[
            "connect",
            "--addr",
            &addr,
            "set-typing",
            "--peer",
            "self",
            "--action",
            "typing",
        ]),
        1,
        "refused",
    );
    // Usage errors.
    assert_fails(
        &mtproto(&[
            "connect",
            "--addr",
            &addr,
            "set-typing",
            "--peer",
            "not a peer!",
            "--action",
            "typing",
        ]),
        2,
        "peer",
    );
    assert_fails(
        &mtproto(&[
            "connect",
            "--addr",
            &addr,
            "set-typing",
            "--peer",
            "user:1",
            "--action",
            "typing",
        ]),
        2,
        "peer",
    );
    assert_fails(
        &mtproto(&[
            "connect",
            "--addr",
            &addr,
            "set-typing",
            "--peer",
            "self",
            "--action",
            "dance",
        ]),
        2,
        "action",
    );
    assert_fails(
        &mtproto(&[
            "connect",
            "--addr",
            &addr,
            "set-typing",
            "--peer",
            "self",
            "--action",
            "upload-photo",
        ]),
        2,
        "PROGRESS",
    );
    // A server that sends garbage mid-handshake.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let t = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut s, _) = l.accept().unwrap();
        let mut buf = [0u8; 64];
        let _ = s.read(&mut buf);
        let _ = s.write_all(&[
            0x10, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
        ]);
        std::thread::sleep(std::time::Duration::from_secs(2));
    });
    let start = std::time::Instant::now();
    let o = mtproto(&[
        "connect",
        "--addr",
        &addr,
        "--timeout",
        "5",
        "set-typing",
        "--peer",
        "self",
        "--action",
        "typing",
    ]);
    assert_fails(&o, 1, "error");
    assert!(start.elapsed() < std::time::Duration::from_secs(8));
    t.join().unwrap();
}

/// The auth key is a secret: the key file is created readable by its owner
/// only, and no temporary file is left next to it.
#[cfg(unix)]
#[test]
fn key_file_is_created_with_mode_0600() {
    use std::os::unix::fs::PermissionsExt;
    let (mut server, port) = serve();
    let dir = std::env::temp_dir().join(format!("mtproto-cli-mode-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // A folder others may read: only the file's own mode keeps the key private.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let pem = dir.join("server.pem");
    std::fs::write(&pem, mtproto_testserver::TEST_RSA_PRIVATE_PEM).unwrap();
    let key_file = dir.join("session.key");
    let addr = format!("127.0.0.1:{port}");
    let o = mtproto(&[
        "connect",
        "--addr",
        &addr,
        "--rsa-key",
        pem.to_str().unwrap(),
        "--key-file",
        key_file.to_str().unwrap(),
        "set-typing",
        "--peer",
        "self",
        "--action",
        "typing",
    ]);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(stdout(&o), "true\n", "{}", stderr(&o));
    let meta = std::fs::metadata(&key_file).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    // Two lines of hex: the session (auth key and more) and the peer cache.
    let text = std::fs::read_to_string(&key_file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].len() > 512, "{} bytes", lines[0].len());
    assert!(lines[1].starts_with("4d545043"), "MTPC: {}", lines[1]);
    for l in lines {
        assert!(l.bytes().all(|b| b.is_ascii_hexdigit()), "{text}");
    }
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["server.pem", "session.key"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `mtproto args` with stdout already closed by its reader (or stderr,
/// with `close_stderr`): every write gets EPIPE.
fn with_closed_output(args: &[&str], close_stderr: bool) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mtproto"));
    cmd.args(args).stdin(Stdio::null());
    if close_stderr {
        cmd.stdout(Stdio::piped()).stderr(writer);
    } else {
        cmd.stdout(writer).stderr(Stdio::piped());
    }
    cmd.output().unwrap()
}

/// A reader that goes away (`mtproto ... | head -1`) ends the command with
/// exit code 0 and nothing on stderr: no "failed printing to stdout" panic.
#[test]
fn closed_stdout_ends_quietly_with_exit_0() {
    use std::io::BufRead;
    // demo --json: read one line, then hang up while the demo goes on.
    let mut child = Command::new(env!("CARGO_BIN_EXE_mtproto"))
        .args(["demo", "--json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("{\"step\": \"server\", "), "{line}");
    let o = child.wait_with_output().unwrap();
    assert_eq!(stderr(&o), "");
    assert_eq!(o.status.code(), Some(0));

    // Every printing command, with stdout closed before the first write.
    let dir = tl_schema_dir();
    let api = format!("{dir}/api.tl");
    let mt = format!("{dir}/mtproto.tl");
    let commands: &[&[&str]] = &[
        &["demo"],
        &["demo", "--json"],
        &["schema", "check", &api, &mt],
        &["schema", "show", "messages.setTyping"],
        &["decode", SET_TYPING],
        &["decode", "--json", "--reencode", SET_TYPING],
        &[
            "decode",
            "--packet",
            "--auth-key",
            SERVER_AUTH_KEY,
            SERVER_PACKET,
        ],
        &["serve", "--port", "0"],
        &["serve", "--port", "0", "--json"],
    ];
    for args in commands {
        let o = with_closed_output(args, false);
        assert_eq!(stderr(&o), "", "{args:?}");
        assert_eq!(o.status.code(), Some(0), "{args:?}");
    }
}

/// A closed stderr costs the message, not the exit code, and never panics
/// (a panic would exit 101).
#[test]
fn closed_stderr_keeps_the_exit_code() {
    let o = with_closed_output(&["decode", "zz"], true);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o), "");
    let o = with_closed_output(&["schema", "show", "noSuchThing"], true);
    assert_eq!(o.status.code(), Some(1));
    // The success path writes "re-encoded: identical" to stderr.
    let o = with_closed_output(&["decode", "--json", "--reencode", SET_TYPING], true);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).starts_with("{\"_\": \"messages.setTyping\", "));
}

#[test]
fn connect_against_a_hostile_server_fails_fast_naming_the_check() {
    // A server that breaks msg_key on every packet: the client closes and
    // reconnects, and after the same check failed on 3 connections in a row
    // `connect` exits 1 within 2 s naming it (not "timed out" after 10 s).
    let (dir, pem) = dir_with_key("hostile");
    for (rule, check) in [
        ("msg-key", "msg_key mismatch"),
        ("msg-id-window", "msg_id outside the time window"),
    ] {
        let (mut server, port) = serve_with(&["--violate", rule]);
        let addr = format!("127.0.0.1:{port}");
        let started = std::time::Instant::now();
        let o = mtproto(&[
            "connect",
            "--addr",
            &addr,
            "--rsa-key",
            pem.to_str().unwrap(),
            "--timeout",
            "10",
            "set-typing",
            "--peer",
            "self",
            "--action",
            "typing",
        ]);
        let took = started.elapsed();
        let _ = server.kill();
        let _ = server.wait();
        assert_fails(&o, 1, check);
        assert!(
            took < std::time::Duration::from_secs(2),
            "{rule}: {took:?}: {}",
            stderr(&o)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_lists_and_checks_violations() {
    let o = mtproto(&["serve", "--list-violations"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let names: Vec<String> = stdout(&o)
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .collect();
    let want: Vec<&str> = mtproto_testserver::Rule::ALL
        .iter()
        .map(|r| r.name())
        .collect();
    assert_eq!(names, want);
    assert!(names.contains(&"gzip-bomb".to_owned()) && names.contains(&"msg-key".to_owned()));
    let o = mtproto(&["serve", "--list-violations", "--json"]);
    assert!(stdout(&o)
        .lines()
        .any(|l| l == r#"{"rule": "msg-key", "description": "every packet's msg_key has a flipped bit", "client_check": "msg_key mismatch"}"#));
    assert_fails(
        &mtproto(&["serve", "--port", "0", "--violate", "nope"]),
        2,
        "unknown rule",
    );
}
