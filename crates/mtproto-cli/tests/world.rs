//! The `mtproto` binary against the test server's world: `call` for any
//! method, every `--peer` form, session files and Telethon strings,
//! `updates`, several DCs.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::{Command, Stdio};

use common::{assert_fails, dir_with_key, mtproto, serve, stderr, stdout};
use mtproto_tl_dyn::serde_json;

/// `mtproto call` for methods the CLI has no command for, with their JSON
/// answers; then every `--peer` form of `set-typing`, the cache carried
/// from one command to the next by the key file.
#[test]
fn call_any_method_and_name_peers_every_way() {
    use std::io::Write;
    let (mut server, port) = serve();
    let (dir, pem) = dir_with_key("call");
    let key_file = dir.join("session.key");
    let _ = std::fs::remove_file(&key_file);
    let addr = format!("127.0.0.1:{port}");
    let (pem, kf) = (pem.to_str().unwrap(), key_file.to_str().unwrap());
    let opts = ["--addr", &addr, "--rsa-key", pem, "--key-file", kf];
    let call = |json: &str| {
        let mut a = vec!["call"];
        a.extend(opts);
        a.push(json);
        mtproto(&a)
    };
    // users.getUsers: Bob by id and hash, and self.
    let o = call(
        r#"{"_": "users.getUsers", "id": [{"_": "inputUserSelf"}, {"_": "inputUser", "user_id": 1002, "access_hash": 7310010010021002}]}"#,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let users: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(users[0]["_"], "user");
    assert_eq!(users[0]["id"], 1001);
    assert_eq!(users[0]["self"], true);
    assert_eq!(users[1]["username"], "bob");
    // From stdin, wrapped in invokeWithLayer: the answer is typed by the
    // query's result.
    let mut a = vec!["call", "--json"];
    a.extend(opts);
    a.push("-");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mtproto"))
        .args(&a)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"_": "invokeWithLayer", "layer": 228, "query": {"_": "channels.getChannels", "id": [{"_": "inputChannel", "channel_id": 2001, "access_hash": 7320010020012001}]}}"#)
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let chats: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(chats["result"]["_"], "messages.chats");
    assert_eq!(chats["result"]["chats"][0]["title"], "News");
    // An rpc_error is printed as received.
    let o = call(r#"{"_": "contacts.resolveUsername", "username": "nobody_here"}"#);
    assert_eq!(
        stdout(&o),
        "rpc_error 400 USERNAME_NOT_OCCUPIED\n",
        "{}",
        stderr(&o)
    );
    // JSON that does not fit: exit 2, the path named, nothing sent (no
    // server on this port).
    for (json, path) in [
        (r#"{"_": "users.getUserz", "id": []}"#, "$._"),
        (r#"{"_": "users.getUsers"}"#, "$.id"),
        (r#"{"_": "users.getUsers", "id": [], "x": 1}"#, "$.x"),
        (
            r#"{"_": "users.getUsers", "id": [{"_": "inputUser", "user_id": "a", "access_hash": 1}]}"#,
            "$.id[0].user_id",
        ),
        (
            r#"{"_": "messages.setTyping", "peer": {"_": "inputPeerSelf"}, "top_msg_id": 2147483648, "action": {"_": "sendMessageTypingAction"}}"#,
            "$.top_msg_id",
        ),
        (
            r#"{"_": "messages.setTyping", "peer": {"_": "boolTrue"}, "action": {"_": "sendMessageTypingAction"}}"#,
            "$.peer._",
        ),
    ] {
        let o = mtproto(&["call", "--addr", "127.0.0.1:9", json]);
        assert_fails(&o, 2, path);
    }
    let o = mtproto(&["call", "--addr", "127.0.0.1:9", "{"]);
    assert_fails(&o, 2, "not JSON");

    // --peer in every form; ids once the cache (kept in the key file)
    // has seen the peer.
    let typing = |peer: &str| {
        let mut a = vec!["connect"];
        a.extend(opts);
        a.extend(["set-typing", "--peer", peer, "--action", "typing"]);
        mtproto(&a)
    };
    // (News was seen in the getChannels answer above; Devs was not.)
    let o = typing("-1000000002002");
    assert_fails(&o, 1, "channel 2002 has no known access hash");
    for peer in [
        "-1000000002001",
        "@devs",
        "-1000000002002",
        "t.me/helper_bot",
        "1003",
        "bob",
        "1002",
        "-3001",
        "self",
        "chat:3001",
        "channel:2001:7320010020012001",
        // A serialized peerUser 1002 and inputPeerUser 1002/hash.
        "tl:22175159ea03000000000000",
        "tl:4ca5e8ddea030000000000008aacf3556af81900",
    ] {
        let o = typing(peer);
        assert_eq!(stdout(&o), "true\n", "{peer}: {}", stderr(&o));
    }
    let o = typing("@nobody_here");
    assert_fails(&o, 1, "USERNAME_NOT_OCCUPIED");
    let o = typing("tl:00000000");
    assert_fails(&o, 2, "not an Update, Message, Peer or InputPeer");
    let o = typing("a b");
    assert_fails(&o, 2, "--peer");
    server.kill().unwrap();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--session FILE`: the versioned session file (key, peers), reused
/// without an RSA key; `mtproto session show`, Telethon StringSession out
/// and back in; damaged files refused by name.
#[test]
fn session_files_and_telethon_strings() {
    let (mut server, port) = serve();
    let (dir, pem) = dir_with_key("session");
    let file = dir.join("s.mtrs");
    let addr = format!("127.0.0.1:{port}");
    let (pem, f) = (pem.to_str().unwrap(), file.to_str().unwrap());
    let typing = |session: &str, peer: &str, rsa: bool| {
        let mut a = vec!["connect", "--addr", &addr, "--session", session];
        if rsa {
            a.extend(["--rsa-key", pem]);
        }
        a.extend(["set-typing", "--peer", peer, "--action", "typing"]);
        mtproto(&a)
    };
    let o = typing(f, "@devs", true);
    assert_eq!(stdout(&o), "true\n", "{}", stderr(&o));
    // Again without the RSA key (no handshake), Devs by its id.
    let o = typing(f, "-1000000002002", false);
    assert_eq!(stdout(&o), "true\n", "{}", stderr(&o));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let o = mtproto(&["session", "show", f, "--json"]);
    let shown: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(shown["home_dc"], 2);
    assert_eq!(shown["dcs"][0]["addr"], addr.as_str());
    assert_eq!(shown["peers"], 1);
    assert!(!stdout(&o).contains("auth_key\""), "never the key");
    // Out to Telethon and back into a new file: the same key works.
    let o = mtproto(&["session", "export-telethon", f]);
    let text = stdout(&o).trim().to_owned();
    assert!(text.starts_with('1') && text.len() == 353, "{text}");
    let copy = dir.join("copy.mtrs");
    let c = copy.to_str().unwrap();
    let o = mtproto(&["session", "import-telethon", &text, c]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = typing(c, "self", false);
    assert_eq!(stdout(&o), "true\n", "{}", stderr(&o));
    assert_fails(
        &mtproto(&["session", "import-telethon", &text, c]),
        2,
        "exists",
    );
    assert_fails(
        &mtproto(&["session", "import-telethon", "2xyz", c, "--force"]),
        2,
        "not a Telethon StringSession",
    );
    // Damaged: refused by name, left alone, exit 1.
    let good = std::fs::read(&file).unwrap();
    std::fs::write(&file, &good[..good.len() - 1]).unwrap();
    assert_fails(&typing(f, "self", false), 1, "cut short");
    let mut future = good.clone();
    future[4] = 2;
    std::fs::write(&file, &future).unwrap();
    assert_fails(&typing(f, "self", false), 1, "version 2 is not supported");
    assert_eq!(std::fs::read(&file).unwrap(), future);
    server.kill().unwrap();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `mtproto updates --count N`: the messages another connection sends to
/// the same account, as JSON lines, in order.
#[test]
fn updates_prints_pushed_updates_as_json_lines() {
    let (mut server, port) = serve();
    let (dir, pem) = dir_with_key("updates");
    let addr = format!("127.0.0.1:{port}");
    let pem = pem.to_str().unwrap();
    let follower = Command::new(env!("CARGO_BIN_EXE_mtproto"))
        .args(["updates", "--addr", &addr, "--rsa-key", pem, "--count", "3"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A watchdog: the test never hangs, whatever happens.
    let pid = follower.id().to_string();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(30));
        let _ = Command::new("kill").arg(&pid).status();
    });
    // Connected and following (updates.getState answered).
    std::thread::sleep(std::time::Duration::from_millis(1500));
    for i in 1..=3 {
        let call = format!(
            r#"{{"_": "messages.sendMessage", "peer": {{"_": "inputPeerSelf"}}, "message": "note {i}", "random_id": {i}}}"#
        );
        let o = mtproto(&["call", "--addr", &addr, "--rsa-key", pem, &call]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(
            stdout(&o).contains("updateShortSentMessage"),
            "{}",
            stdout(&o)
        );
    }
    let o = follower.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let texts: Vec<&str> = lines
        .iter()
        .map(|l| {
            assert_eq!(l["update"]["_"], "updateNewMessage");
            l["update"]["message"]["message"].as_str().unwrap()
        })
        .collect();
    assert_eq!(texts, ["note 1", "note 2", "note 3"]);
    server.kill().unwrap();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `mtproto serve --dcs 3 --home-dc 3`: three DCs, one line each; a
/// `connect` to DC 1 follows USER_MIGRATE_3 and `--json` says so.
#[test]
fn serve_several_dcs_and_connect_follows_the_migration() {
    use std::io::BufRead;
    let mut server = Command::new(env!("CARGO_BIN_EXE_mtproto"))
        .args([
            "serve",
            "--port",
            "0",
            "--json",
            "--dcs",
            "3",
            "--home-dc",
            "3",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(server.stdout.take().unwrap()).lines();
    let mut ports = Vec::new();
    for dc in 1..=3 {
        let l: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
        assert_eq!(
            (l["event"].as_str(), l["dc"].as_i64()),
            (Some("listening"), Some(dc))
        );
        ports.push(l["port"].as_u64().unwrap());
    }
    let (dir, pem) = dir_with_key("dcs");
    let addr = format!("127.0.0.1:{}", ports[0]);
    let o = mtproto(&[
        "connect",
        "--addr",
        &addr,
        "--dc",
        "1",
        "--rsa-key",
        pem.to_str().unwrap(),
        "--pfs",
        "--json",
        "set-typing",
        "--peer",
        "self",
        "--action",
        "typing",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let last: serde_json::Value = serde_json::from_str(stdout(&o).lines().last().unwrap()).unwrap();
    assert_eq!(last["result"], true);
    assert_eq!(last["dc"], 3);
    // Under DC 3's own temporary key, bound to DC 3's permanent key.
    assert_eq!(last["pfs"]["bound"], true, "{last}");
    assert_eq!(
        last["migrated"],
        serde_json::json!([{"from": 1, "to": 3, "error": "USER_MIGRATE_3"}])
    );
    assert_fails(
        &mtproto(&["serve", "--port", "0", "--dcs", "3", "--home-dc", "5"]),
        2,
        "--home-dc",
    );
    server.kill().unwrap();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `connect --pfs --json`: the request went under a bound temporary key,
/// reported with its id and expiry; the next run (same key file) binds a
/// new temporary key to the same permanent key.
#[test]
fn connect_with_pfs_reports_the_bound_temporary_key() {
    let (mut server, port) = serve();
    let (dir, pem) = dir_with_key("pfs");
    let key_file = dir.join("session.key");
    let _ = std::fs::remove_file(&key_file);
    let addr = format!("127.0.0.1:{port}");
    let run = |lifetime: &str| {
        let o = mtproto(&[
            "connect",
            "--addr",
            &addr,
            "--rsa-key",
            pem.to_str().unwrap(),
            "--key-file",
            key_file.to_str().unwrap(),
            "--pfs",
            "--temp-key-lifetime",
            lifetime,
            "--json",
            "set-typing",
            "--peer",
            "self",
            "--action",
            "typing",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let last: serde_json::Value =
            serde_json::from_str(stdout(&o).lines().last().unwrap()).unwrap();
        assert_eq!(last["result"], true);
        last["pfs"].clone()
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let first = run("3600");
    assert_eq!(first["bound"], true, "{first}");
    let id = first["temp_auth_key_id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 16);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    let expires = first["expires_at"].as_i64().unwrap();
    assert!((expires - now - 3600).abs() <= 5, "{expires} vs {now}");
    let second = run("600");
    assert_eq!(second["bound"], true);
    assert_ne!(second["temp_auth_key_id"], first["temp_auth_key_id"]);
    // --temp-key-lifetime without --pfs is a usage error.
    assert_fails(
        &mtproto(&[
            "connect",
            "--addr",
            &addr,
            "--temp-key-lifetime",
            "60",
            "set-typing",
            "--peer",
            "self",
            "--action",
            "typing",
        ]),
        2,
        "--pfs",
    );
    server.kill().unwrap();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
