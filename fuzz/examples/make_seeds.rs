//! Regenerates the checked-in seed corpora `fuzz/corpus/<target>/`.
//!
//! `cargo run --example make_seeds -- <path to shared/vectors> <path to tl-schema>`
//! (run from `fuzz/`). Reads Telethon objects, the grammers server packet and
//! the official handshake samples; adds inputs built in-process (a valid
//! handshake between our client and server, transport streams).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;

use bytes::BytesMut;
use mtproto_transport::{Transport, TransportConfig, TransportKind};
use rand::SeedableRng;

fn h(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// Minimal extraction of `"key": "hexstring"` values from a JSON text.
fn hex_values(json: &str, key: &str) -> Vec<Vec<u8>> {
    let pat = format!("\"{key}\": \"");
    json.match_indices(&pat)
        .filter_map(|(i, _)| {
            let rest = &json[i + pat.len()..];
            let end = rest.find('"')?;
            let v = &rest[..end];
            (v.len().is_multiple_of(2) && v.bytes().all(|b| b.is_ascii_hexdigit())).then(|| h(v))
        })
        .collect()
}

fn put(target: &str, name: &str, data: &[u8]) {
    let dir = Path::new("corpus").join(target);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(name), data).unwrap();
}

fn with(sel: u8, b: &[u8]) -> Vec<u8> {
    let mut v = vec![sel];
    v.extend_from_slice(b);
    v
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let vectors = Path::new(&args[1]);
    let schema = Path::new(&args[2]);
    let tl = fs::read_to_string(vectors.join("tl_objects.json")).unwrap();
    let enc = fs::read_to_string(vectors.join("mtproto2_encryption.json")).unwrap();
    let ake = fs::read_to_string(vectors.join("auth_key_exchange.json")).unwrap();

    // TL objects (Telethon).
    let objects = hex_values(&tl, "hex");
    for (i, o) in objects.iter().enumerate() {
        put("tl_decode_any", &format!("telethon_{i:02}"), o);
        put("cli_decode", &format!("telethon_{i:02}"), o);
        let mut gz = Vec::new();
        mtproto_tl::write_tl_bytes(&mtproto_tl::deflate(o), &mut gz);
        if i % 5 == 0 {
            put("gzip_packed", &format!("telethon_{i:02}"), &gz);
        }
    }
    // Server plaintext (new_session_created + pong in a container) and packet.
    for (i, p) in hex_values(&enc, "plaintext").iter().enumerate() {
        put("session_incoming", &format!("grammers_plain_{i}"), p);
        put(
            "cli_decode",
            &format!("grammers_plain_{i}"),
            p.get(16..).unwrap_or(p),
        );
        put(
            "tl_decode_any",
            &format!("grammers_container_{i}"),
            p.get(32..).unwrap_or(p),
        );
    }
    for (i, p) in hex_values(&enc, "encrypted_packet").iter().enumerate() {
        put("session_incoming", &format!("grammers_packet_{i}"), p);
    }
    for (i, p) in hex_values(&enc, "body_hex").iter().enumerate() {
        let mut m = vec![0u8];
        m.extend_from_slice(p);
        put("session_incoming", &format!("grammers_body_{i}"), &m);
        put("tl_decode_any", &format!("grammers_body_{i}"), p);
    }
    // Official handshake samples (2025/2024 pages): whole unencrypted messages.
    let names = [
        "req_pq_multi",
        "resPQ",
        "req_DH_params",
        "server_DH_params_ok",
        "set_client_DH_params",
        "dh_gen_ok",
    ];
    for (n, name) in names.iter().enumerate() {
        for (i, m) in hex_values(&ake, name).iter().enumerate() {
            let (target, sel) = if n % 2 == 0 {
                ("handshake_server", [0u8, 1, 2][n / 2])
            } else {
                ("handshake_client", [1u8, 2, 4][n / 2])
            };
            let body = m.get(20..).unwrap_or(m);
            put(target, &format!("official_{name}_{i}"), &with(sel, body));
            let mut framed = vec![0u8];
            framed.extend_from_slice(&u16::try_from(m.len()).unwrap().to_le_bytes());
            framed.extend_from_slice(m);
            put(target, &format!("official_{name}_{i}_framed"), &framed);
            put("tl_decode_any", &format!("official_{name}_{i}"), body);
        }
    }
    // A valid in-process handshake.
    for (i, (target, input)) in mtproto_fuzz::targets::handshake_seeds().iter().enumerate() {
        put(target, &format!("inproc_{i:02}"), input);
    }
    // Schema snippets.
    for file in ["mtproto.tl", "api.tl"] {
        let text = fs::read_to_string(schema.join(file)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, chunk) in lines.chunks(40).take(6).enumerate() {
            put(
                "tl_schema_parse",
                &format!("{file}_{i}"),
                chunk.join("\n").as_bytes(),
            );
        }
    }
    // Transports: raw client streams (mode 0) and round-trip payloads (mode 1).
    let packet = hex_values(&enc, "encrypted_packet")
        .into_iter()
        .next()
        .unwrap();
    let kinds = [
        ("transport_abridged", TransportKind::Abridged),
        ("transport_intermediate", TransportKind::Intermediate),
        ("transport_padded", TransportKind::PaddedIntermediate),
        ("transport_full", TransportKind::Full),
    ];
    let cfg = TransportConfig::default();
    for (target, kind) in kinds {
        let mut c = Transport::client(
            kind,
            cfg,
            Box::new(rand_chacha::ChaCha20Rng::seed_from_u64(1)),
        )
        .unwrap();
        let mut wire = BytesMut::new();
        c.encode(&packet, &mut wire).unwrap();
        c.encode(&packet[..64], &mut wire).unwrap();
        put(target, "client_stream", &with(0, &wire));
        put(
            target,
            "client_stream_split",
            &with(0b1010, &[&[3u8, 17, 200][..], &wire].concat()),
        );
        put(
            target,
            "roundtrip",
            &with(
                1,
                &[&[0x85u8][..], &packet[..24], &[0x02], &packet[24..36]].concat(),
            ),
        );
    }
    for (j, inner) in [
        "obfuscated-abridged",
        "obfuscated-intermediate",
        "obfuscated-padded",
    ]
    .iter()
    .enumerate()
    {
        let kind: TransportKind = inner.parse().unwrap();
        let mut c = Transport::client(
            kind,
            cfg,
            Box::new(rand_chacha::ChaCha20Rng::seed_from_u64(1)),
        )
        .unwrap();
        let mut wire = BytesMut::new();
        c.encode(&packet, &mut wire).unwrap();
        let j = u8::try_from(j).unwrap();
        put(
            "transport_obfuscated",
            &format!("client_stream_{inner}"),
            &with(j << 4, &wire),
        );
        put(
            "transport_obfuscated",
            &format!("roundtrip_{inner}"),
            &with(j << 4 | 1, &[&[0x85u8][..], &packet[..24]].concat()),
        );
    }
    // Structure-aware: a few byte strings (every selector).
    for sel in 0..36u8 {
        let data: Vec<u8> = (0..64u32)
            .map(|i| (i * 37 + u32::from(sel) * 11) as u8)
            .collect();
        put(
            "tl_roundtrip_structured",
            &format!("sel_{sel:02}"),
            &with(sel, &data),
        );
    }
}
