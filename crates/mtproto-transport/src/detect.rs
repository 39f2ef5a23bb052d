//! Server-side transport detection.

use crate::obfuscated::{server_accept, OBFUSCATED_INIT_LEN};
use crate::{TransportError, TransportKind};

/// Detects the transport from the first bytes a client sent on a new connection.
///
/// "The server recognizes these different protocols (and distinguishes them from HTTP,
/// too) by the header." Rules, in order:
/// - first byte `0xef` → [`TransportKind::Abridged`];
/// - first int `0xeeeeeeee` → [`TransportKind::Intermediate`], `0xdddddddd` →
///   [`TransportKind::PaddedIntermediate`];
/// - `HEAD`, `POST`, `GET `, `OPTI` → `Err(UnsupportedProtocol("http"))`, TLS record
///   start `16 03 01 02` → `Err(UnsupportedProtocol("fake-tls"))`;
/// - bytes 4..8 all zero (a full-transport frame with seqno 0: "that would indicate use
///   of the full transport with the initial TCP sequence number (0)") →
///   [`TransportKind::Full`];
/// - otherwise a 64-byte obfuscated init: its tag (decrypted bytes 56..60) gives
///   [`TransportKind::Obfuscated`], an unknown tag is
///   `Err(UnsupportedProtocol("obfuscated init with unknown tag"))`.
///
/// `Ok(None)`: not decidable yet, read more bytes. Nothing is consumed: pass the same
/// buffer to [`Transport::server`](crate::Transport::server)'s `decode`.
pub fn detect(buf: &[u8]) -> Result<Option<TransportKind>, TransportError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    // "the client must first send 0xef as the first byte"
    if first == 0xef {
        return Ok(Some(TransportKind::Abridged));
    }
    let Some(head) = buf.get(..4) else {
        return Ok(None);
    };
    match head {
        // "the client must first send 0xeeeeeeee as the first int"
        [0xee, 0xee, 0xee, 0xee] => return Ok(Some(TransportKind::Intermediate)),
        // "the client must first send 0xdddddddd as the first int"
        [0xdd, 0xdd, 0xdd, 0xdd] => return Ok(Some(TransportKind::PaddedIntermediate)),
        b"HEAD" | b"POST" | b"GET " | b"OPTI" => {
            return Err(TransportError::UnsupportedProtocol("http"))
        }
        [0x16, 0x03, 0x01, 0x02] => return Err(TransportError::UnsupportedProtocol("fake-tls")),
        _ => {}
    }
    let Some(seq) = buf.get(4..8) else {
        return Ok(None);
    };
    if seq == [0, 0, 0, 0] {
        return Ok(Some(TransportKind::Full));
    }
    let Some(init) = buf.get(..OBFUSCATED_INIT_LEN) else {
        return Ok(None);
    };
    let mut wire = [0u8; OBFUSCATED_INIT_LEN];
    wire.copy_from_slice(init);
    match server_accept(&wire).inner {
        Some(inner) => Ok(Some(TransportKind::Obfuscated(inner))),
        None => Err(TransportError::UnsupportedProtocol(
            "obfuscated init with unknown tag",
        )),
    }
}
