//! Server-side transport detection.
#![allow(clippy::unwrap_used)]

mod common;

use bytes::BytesMut;
use common::*;
use mtproto_transport::{detect, ObfuscatedInner, Transport, TransportError, TransportKind};

#[test]
fn detects_every_kind_from_client_bytes_and_server_accepts() {
    for kind in TransportKind::ALL {
        let mut c = client(kind);
        let mut wire = BytesMut::new();
        c.encode(&[7; 40], &mut wire).unwrap();
        c.encode(&[8; 56], &mut wire).unwrap();
        assert_eq!(detect(&wire).unwrap(), Some(kind), "{kind}");
        // (MTProto-shaped lengths, 24 + 16k: padded payloads come out trimmed)
        // every proper prefix shorter than the deciding point is "need more"
        let decide = match kind {
            TransportKind::Abridged => 1,
            TransportKind::Intermediate | TransportKind::PaddedIntermediate => 4,
            TransportKind::Full => 8,
            TransportKind::Obfuscated(_) => 64,
        };
        for n in 0..decide {
            assert_eq!(detect(&wire[..n]).unwrap(), None, "{kind} prefix {n}");
        }
        assert_eq!(detect(&wire[..decide]).unwrap(), Some(kind), "{kind}");
        // the server built from the detected kind consumes the same buffer
        let mut s = Transport::server(kind, cfg(), ByteRng::boxed(&[0])).unwrap();
        let frames = decode_all(&mut s, &mut wire).unwrap();
        assert_eq!(frames.len(), 2, "{kind}");
        assert_eq!(&frames[0][..40], &[7; 40][..]);
        assert_eq!(&frames[1][..56], &[8; 56][..]);
    }
}

#[test]
fn exact_prefixes() {
    assert_eq!(detect(&[0xef]).unwrap(), Some(TransportKind::Abridged));
    assert_eq!(
        detect(&h("eeeeeeee")).unwrap(),
        Some(TransportKind::Intermediate)
    );
    assert_eq!(
        detect(&h("dddddddd")).unwrap(),
        Some(TransportKind::PaddedIntermediate)
    );
    assert_eq!(
        detect(&h("10000000 00000000")).unwrap(),
        Some(TransportKind::Full)
    );
    assert_eq!(detect(&h("ee")).unwrap(), None);
    assert_eq!(detect(&h("10000000 000000")).unwrap(), None);
    assert_eq!(detect(&[]).unwrap(), None);
}

#[test]
fn http_and_tls_are_refused() {
    for p in [
        &b"POST /api"[..],
        b"GET / HTTP/1.1",
        b"HEAD /",
        b"OPTIONS *",
    ] {
        assert_eq!(
            detect(p),
            Err(TransportError::UnsupportedProtocol("http")),
            "{p:?}"
        );
    }
    assert_eq!(
        detect(&h("16030102 00")),
        Err(TransportError::UnsupportedProtocol("fake-tls"))
    );
}

#[test]
fn obfuscated_inner_is_read_from_the_encrypted_tag() {
    for inner in [
        ObfuscatedInner::Abridged,
        ObfuscatedInner::Intermediate,
        ObfuscatedInner::PaddedIntermediate,
    ] {
        let c = client(TransportKind::Obfuscated(inner));
        let mut c = c;
        let mut out = BytesMut::new();
        c.write_header(&mut out);
        assert_eq!(out.len(), 64);
        assert_eq!(
            detect(&out).unwrap(),
            Some(TransportKind::Obfuscated(inner))
        );
        // header is written only once
        c.write_header(&mut out);
        assert_eq!(out.len(), 64);
    }
}
