//! TL benchmarks, side by side with grammers' crates from crates.io:
//! - parsing the full layer-228 `api.tl` (read from `../shared/tl/api.tl`,
//!   or `MTPROTO_SHARED_DIR`; skipped with a message if absent);
//! - serializing and deserializing `messages.setTyping`;
//! - a 1 MiB `bytes` payload, against a plain `memcpy` of the same size.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn shared_dir() -> PathBuf {
    match std::env::var_os("MTPROTO_SHARED_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    }
}

fn parse(c: &mut Criterion) {
    let path = shared_dir().join("tl/api.tl");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipping parse benchmark: {} not found", path.display());
        return;
    };
    let mut g = c.benchmark_group("parse_api_tl");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("mtproto-tl-parser", |b| {
        b.iter(|| {
            let s = mtproto_tl_parser::parse(black_box(&text)).unwrap();
            black_box(s.definitions().len())
        })
    });
    g.bench_function("grammers-tl-parser", |b| {
        b.iter(|| {
            let defs: Vec<_> = grammers_tl_parser::parse_tl_file(black_box(&text))
                .filter_map(Result::ok)
                .collect();
            black_box(defs.len())
        })
    });
    g.finish();
}

fn set_typing(c: &mut Criterion) {
    use mtproto_tl::api::{enums, functions, types};
    use mtproto_tl::{Deserialize, Serialize};
    let ours = functions::messages::SetTyping {
        peer: enums::InputPeer::User(types::InputPeerUser {
            user_id: 42,
            access_hash: 1234,
        }),
        top_msg_id: Some(7),
        action: enums::SendMessageAction::SendMessageUploadPhotoAction(
            types::SendMessageUploadPhotoAction { progress: 50 },
        ),
    };
    let theirs = grammers_tl_types::functions::messages::SetTyping {
        peer: grammers_tl_types::enums::InputPeer::User(grammers_tl_types::types::InputPeerUser {
            user_id: 42,
            access_hash: 1234,
        }),
        top_msg_id: Some(7),
        action: grammers_tl_types::enums::SendMessageAction::SendMessageUploadPhotoAction(
            grammers_tl_types::types::SendMessageUploadPhotoAction { progress: 50 },
        ),
    };
    let bytes = ours.to_bytes();
    assert_eq!(
        bytes,
        grammers_tl_types::Serializable::to_bytes(&theirs),
        "both encode the same bytes"
    );

    let mut g = c.benchmark_group("set_typing_serialize");
    g.bench_function("mtproto-tl", |b| {
        let mut buf = Vec::with_capacity(64);
        b.iter(|| {
            buf.clear();
            black_box(&ours).serialize(&mut buf);
            black_box(buf.len())
        })
    });
    g.bench_function("grammers-tl-types", |b| {
        let mut buf = Vec::with_capacity(64);
        b.iter(|| {
            buf.clear();
            grammers_tl_types::Serializable::serialize(black_box(&theirs), &mut buf);
            black_box(buf.len())
        })
    });
    g.finish();

    let mut g = c.benchmark_group("set_typing_deserialize");
    g.bench_function("mtproto-tl", |b| {
        b.iter(|| functions::messages::SetTyping::from_bytes(black_box(&bytes)).unwrap())
    });
    g.bench_function("grammers-tl-types", |b| {
        b.iter(|| {
            <grammers_tl_types::functions::messages::SetTyping as grammers_tl_types::Deserializable>::from_bytes(
                black_box(&bytes[4..]),
            )
            .unwrap()
        })
    });
    g.finish();
}

fn big_bytes(c: &mut Criterion) {
    use mtproto_tl::{Deserialize, Serialize};
    let payload: Vec<u8> = (0..(1usize << 20))
        .map(|i: usize| (i * 7 + 1).to_le_bytes()[0])
        .collect();
    let encoded = payload.to_bytes();
    let mut g = c.benchmark_group("bytes_1mib");
    g.throughput(Throughput::Bytes(payload.len() as u64));
    g.bench_with_input(BenchmarkId::new("memcpy", "1MiB"), &payload, |b, p| {
        let mut buf = Vec::with_capacity(p.len() + 8);
        b.iter(|| {
            buf.clear();
            buf.extend_from_slice(black_box(p));
            black_box(buf.len())
        })
    });
    g.bench_with_input(
        BenchmarkId::new("mtproto-tl serialize", "1MiB"),
        &payload,
        |b, p| {
            let mut buf = Vec::with_capacity(p.len() + 8);
            b.iter(|| {
                buf.clear();
                black_box(p).serialize(&mut buf);
                black_box(buf.len())
            })
        },
    );
    g.bench_with_input(
        BenchmarkId::new("mtproto-tl deserialize", "1MiB"),
        &encoded,
        |b, e| b.iter(|| Vec::<u8>::from_bytes(black_box(e)).unwrap()),
    );
    g.bench_with_input(
        BenchmarkId::new("grammers serialize", "1MiB"),
        &payload,
        |b, p| {
            let mut buf = Vec::with_capacity(p.len() + 8);
            b.iter(|| {
                buf.clear();
                grammers_tl_types::Serializable::serialize(black_box(p), &mut buf);
                black_box(buf.len())
            })
        },
    );
    g.bench_with_input(
        BenchmarkId::new("grammers deserialize", "1MiB"),
        &encoded,
        |b, e| {
            b.iter(|| {
                <Vec<u8> as grammers_tl_types::Deserializable>::from_bytes(black_box(e)).unwrap()
            })
        },
    );
    g.finish();
}

criterion_group!(benches, parse, set_typing, big_bytes);
criterion_main!(benches);
