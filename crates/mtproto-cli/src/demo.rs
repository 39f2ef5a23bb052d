//! `mtproto demo`: an embedded test server and a client, step by step.

use std::time::{Duration, Instant};

use mtproto_client::methods::{set_typing, MethodError, TypedError};
use mtproto_client::{Client, ClientConfig, ConnectEvent, MessageDirection};
use mtproto_testserver::{TestServer, TestServerConfig};
use mtproto_tl::api::enums::{InputPeer, SendMessageAction};
use mtproto_tl_dyn::json_string;
use mtproto_transport::TransportKind;

use crate::out::outln;
use crate::{failed, usage, CliResult};

fn step(json: bool, name: &str, human: String, fields: &[(&str, String)]) -> CliResult {
    if json {
        let mut out = String::from("{\"step\": ");
        json_string(&mut out, name);
        for (k, v) in fields {
            out.push_str(", ");
            json_string(&mut out, k);
            out.push_str(": ");
            out.push_str(v);
        }
        out.push('}');
        outln!("{out}")
    } else {
        outln!("{human}")
    }
}

fn q(s: &str) -> String {
    let mut out = String::new();
    json_string(&mut out, s);
    out
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn event(json: bool, ev: &ConnectEvent) -> CliResult {
    match ev {
        ConnectEvent::Connecting { addr, transport, .. } => step(
            json,
            "connecting",
            format!("connecting to {addr} ({transport:?})"),
            &[("addr", q(&addr.to_string())), ("transport", q(&format!("{transport:?}")))],
        ),
        ConnectEvent::Connected { elapsed, .. } => step(
            json,
            "connected",
            format!("tcp connected in {} ms", ms(*elapsed)),
            &[("ms", ms(*elapsed))],
        ),
        ConnectEvent::HandshakeStep { direction, name, bytes, elapsed } => {
            let arrow = match direction {
                MessageDirection::Sent => "->",
                MessageDirection::Received => "<-",
            };
            step(
                json,
                "handshake",
                format!("  {arrow} {name:<22} {bytes:>4} bytes  {:>7} ms", ms(*elapsed)),
                &[
                    ("direction", q(if matches!(direction, MessageDirection::Sent) { "sent" } else { "received" })),
                    ("name", q(name)),
                    ("bytes", bytes.to_string()),
                    ("ms", ms(*elapsed)),
                ],
            )
        }
        ConnectEvent::HandshakeDone { rsa_fingerprint, auth_key_id, time_offset, elapsed, expires_at } => {
            let kind = if expires_at.is_some() { "temporary" } else { "permanent" };
            step(
                json,
                "auth_key",
                format!(
                    "{kind} auth key created in {} ms: auth_key_id {auth_key_id:016x}, server RSA fingerprint {:016x}, time offset {time_offset} s",
                    ms(*elapsed),
                    *rsa_fingerprint as u64
                ),
                &[
                    ("auth_key_id", q(&format!("{auth_key_id:016x}"))),
                    ("kind", q(kind)),
                    ("rsa_fingerprint", q(&format!("{:016x}", *rsa_fingerprint as u64))),
                    ("time_offset", time_offset.to_string()),
                    ("ms", ms(*elapsed)),
                ],
            )
        }
        ConnectEvent::TempKeyBound { temp_auth_key_id, expires_at } => step(
            json,
            "temp_key_bound",
            format!(
                "temporary key {temp_auth_key_id:016x} bound to the permanent key (auth.bindTempAuthKey), expires at {expires_at}"
            ),
            &[("temp_auth_key_id", q(&format!("{temp_auth_key_id:016x}"))), ("expires_at", expires_at.to_string())],
        ),
        other => step(json, "event", format!("{other:?}"), &[("event", q(&format!("{other:?}")))]),
    }
}

/// Runs the demo.
pub(crate) fn run(json: bool, transport: &str) -> CliResult {
    let kind: TransportKind = transport
        .parse()
        .map_err(|_| usage(format!("unknown transport {transport:?}")))?;
    let rt =
        tokio::runtime::Runtime::new().map_err(|e| failed(format!("cannot start tokio: {e}")))?;
    rt.block_on(async move {
        let t0 = Instant::now();
        let server = TestServer::start(TestServerConfig::with_test_key())
            .await
            .map_err(|e| failed(format!("cannot start the test server: {e}")))?;
        let fp = server.fingerprint() as u64;
        step(
            json,
            "server",
            format!(
                "test server listening on {} (RSA key fingerprint {fp:016x})",
                server.addr()
            ),
            &[
                ("addr", q(&server.addr().to_string())),
                ("rsa_fingerprint", q(&format!("{fp:016x}"))),
            ],
        )?;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut cfg = ClientConfig::new(server.addr(), kind).with_rsa_key(server.public_key());
        cfg.events = Some(tx);
        cfg.connect_timeout = Duration::from_secs(10);
        let connect = Client::connect(cfg);
        tokio::pin!(connect);
        let client = loop {
            tokio::select! {
                Some(ev) = rx.recv() => event(json, &ev)?,
                res = &mut connect => break res,
            }
        };
        while let Ok(ev) = rx.try_recv() {
            event(json, &ev)?;
        }
        let client = client.map_err(|e| failed(format!("cannot connect: {e}")))?;
        let t = Instant::now();
        let ok = set_typing(
            &client,
            InputPeer::InputPeerSelf,
            SendMessageAction::SendMessageTypingAction,
            None,
        )
        .await
        .map_err(|e| failed(format!("messages.setTyping failed: {e}")))?;
        step(
            json,
            "set_typing",
            format!(
                "messages.setTyping(inputPeerSelf, typing) -> {ok}  ({} ms)",
                ms(t.elapsed())
            ),
            &[
                ("peer", q("inputPeerSelf")),
                ("result", ok.to_string()),
                ("ms", ms(t.elapsed())),
            ],
        )?;
        let t = Instant::now();
        match set_typing(
            &client,
            InputPeer::Empty,
            SendMessageAction::SendMessageTypingAction,
            None,
        )
        .await
        {
            Err(MethodError::Rpc(e)) => step(
                json,
                "rpc_error",
                format!(
                    "messages.setTyping(inputPeerEmpty, typing) -> rpc_error {} {}: {}  ({} ms)",
                    e.code(),
                    e.name(),
                    e.description(),
                    ms(t.elapsed())
                ),
                &[
                    ("peer", q("inputPeerEmpty")),
                    ("code", e.code().to_string()),
                    ("message", q(&e.name())),
                    ("description", q(e.description())),
                ],
            )?,
            Ok(v) => return Err(failed(format!("expected PEER_ID_INVALID, got {v}"))),
            Err(e) => return Err(failed(format!("messages.setTyping failed: {e}"))),
        }
        step(
            json,
            "done",
            format!("done in {} ms", ms(t0.elapsed())),
            &[("ms", ms(t0.elapsed()))],
        )?;
        drop(client);
        server.shutdown().await;
        Ok(())
    })
}
