//! Helpers shared by the CLI's integration tests: run the binary, read
//! its output, start `mtproto serve`.
#![allow(dead_code)]

use std::process::{Command, Output, Stdio};

pub(crate) fn mtproto(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mtproto"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// A failure: the exit code, and exactly one line on stderr, without a
/// panic or backtrace.
pub(crate) fn assert_fails(o: &Output, code: i32, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
    if code == 1 {
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    }
    assert!(err.contains(needle), "{err:?} should mention {needle:?}");
}

/// Starts `mtproto serve --port 0 --json` and returns it with its port.
pub(crate) fn serve() -> (std::process::Child, u16) {
    serve_with(&[])
}

/// `mtproto serve --port 0 --json` plus `extra`; the port it listens on.
pub(crate) fn serve_with(extra: &[&str]) -> (std::process::Child, u16) {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_mtproto"))
        .args(["serve", "--port", "0", "--json"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .split("\"port\": ")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap();
    (child, port.trim().parse().unwrap())
}

/// A fresh folder for one test (`mtproto-cli-<name>-<pid>` under the temp
/// dir) holding the test server's RSA key as `server.pem`: (folder, key).
pub(crate) fn dir_with_key(name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("mtproto-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let pem = dir.join("server.pem");
    std::fs::write(&pem, mtproto_testserver::TEST_RSA_PRIVATE_PEM).unwrap();
    (dir, pem)
}
