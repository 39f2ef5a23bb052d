//! `mtproto bench`: its JSON object (the contract outside tools read), the
//! human form on a pipe (no progress bar), and a server that is not there.
#![allow(clippy::unwrap_used)]

mod common;

use common::{assert_fails, dir_with_key, mtproto, serve, serve_with, stderr, stdout};
use mtproto_tl_dyn::serde_json;

#[test]
fn bench_prints_one_json_object_with_every_answer_checked() {
    let o = mtproto(&[
        "bench",
        "--connections",
        "2",
        "--concurrency",
        "4",
        "--count",
        "300",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(
        out.lines().count(),
        1,
        "one object, no progress bar: {out:?}"
    );
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut want = vec![
        "connections",
        "concurrency",
        "calls",
        "errors",
        "seconds",
        "rps",
        "handshake_ms",
        "latency_us",
        // Added to the shape: null against the embedded server
        // (one process holds both sides).
        "idle_bytes_per_connection",
    ];
    want.sort_unstable();
    let mut got = keys.clone();
    got.sort_unstable();
    assert_eq!(got, want);
    assert_eq!(v["connections"], 2);
    assert_eq!(v["concurrency"], 4);
    assert_eq!(v["calls"], 300);
    assert_eq!(v["errors"], 0);
    assert!(v["idle_bytes_per_connection"].is_null());
    assert!(v["rps"].as_f64().unwrap() > 0.0);
    let h = &v["handshake_ms"];
    assert!(h["p50"].as_f64().unwrap() > 0.0);
    assert!(h["p50"].as_f64() <= h["p99"].as_f64());
    let l = &v["latency_us"];
    let p: Vec<u64> = ["p50", "p90", "p99", "max"]
        .iter()
        .map(|k| l[*k].as_u64().unwrap())
        .collect();
    assert!(p[0] > 0 && p.windows(2).all(|w| w[0] <= w[1]), "{l}");
}

#[test]
fn bench_against_a_server_and_nothing() {
    let (mut server, port) = serve();
    let (dir, pem) = dir_with_key("bench");
    let addr = format!("127.0.0.1:{port}");
    let o = mtproto(&[
        "bench",
        "--addr",
        &addr,
        "--rsa-key",
        pem.to_str().unwrap(),
        "--duration",
        "0.5",
        "--transport",
        "abridged",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(!out.contains('\r'), "no progress bar on a pipe: {out:?}");
    assert!(out.contains("rpc/s, 0 errors"), "{out}");
    server.kill().unwrap();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
    // Nothing listening: exit 1, saying so.
    assert_fails(
        &mtproto(&["bench", "--addr", "127.0.0.1:1", "--count", "10"]),
        1,
        "cannot connect",
    );
    assert_fails(
        &mtproto(&["bench", "--connections", "0"]),
        2,
        "--connections",
    );
}

/// A load run's server (`serve --quiet --threads 1 --max-connections N
/// --write-public-key FILE`), and `bench --idle` against it with the key it
/// wrote: the idle memory per session is measured (a number, not null).
#[test]
fn a_quiet_load_server_and_the_idle_memory() {
    let (dir, _) = dir_with_key("bench-load");
    let public = dir.join("public.pem");
    let (mut server, port) = serve_with(&[
        "--quiet",
        "--threads",
        "1",
        "--max-connections",
        "64",
        "--write-public-key",
        public.to_str().unwrap(),
    ]);
    let pem = std::fs::read_to_string(&public).unwrap();
    assert!(pem.starts_with("-----BEGIN RSA PUBLIC KEY-----"), "{pem}");
    let addr = format!("127.0.0.1:{port}");
    let o = mtproto(&[
        "bench",
        "--addr",
        &addr,
        "--rsa-key",
        public.to_str().unwrap(),
        "--connections",
        "20",
        "--concurrency",
        "2",
        "--count",
        "200",
        "--idle",
        "0.2",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("idle: 20 connections"),
        "{}",
        stderr(&o)
    );
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["calls"], 200);
    assert!(v["idle_bytes_per_connection"].is_u64(), "{v}");
    server.kill().unwrap();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert_fails(
        &mtproto(&["serve", "--port", "0", "--threads", "0"]),
        2,
        "--threads",
    );
}
