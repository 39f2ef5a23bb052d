//! Fuzz target for what a user (or a file a user keeps) hands the client
//! and the CLI: a session file and a Telethon `StringSession`
//! (`mtproto-store`), a saved peer cache (`mtproto-peers`), `--peer` text, a
//! `--peer tl:HEX` object, results the cache learns from, and the JSON of
//! `mtproto call` (read against the built-in schema, `mtproto-tl-dyn`).

use mtproto_peers::{PeerCache, PeerRef};
use mtproto_store::{telethon, StoredSession};
use mtproto_tl_dyn::{serde_json, DynSchema};

/// Each reader must refuse garbage with a typed error; what it accepts
/// must survive a round trip.
pub fn user_input(data: &[u8]) {
    // A session file: whatever reads back writes the same session again.
    if let Ok(s) = StoredSession::from_bytes(data) {
        let again = StoredSession::from_bytes(&s.to_bytes());
        assert_eq!(again.as_ref(), Ok(&s), "session file round trip");
    }
    // A Telethon string: what imports exports to a string that imports
    // to the same DC, address and key.
    if let Ok(text) = core::str::from_utf8(data) {
        if let Ok((dc, addr, key)) = telethon::import(text) {
            let out = telethon::export(dc, addr, &key).expect("an imported DC id fits");
            let back = telethon::import(&out).ok();
            assert_eq!(
                back.as_ref().map(|b| (b.0, b.1)),
                Some((dc, addr)),
                "telethon round trip"
            );
            assert!(back.is_some_and(|b| b.2 == key), "telethon key round trip");
        }
    }
    // A saved cache: whatever reads back writes the same cache again.
    if let Ok(cache) = PeerCache::from_bytes(data) {
        let again = PeerCache::from_bytes(&cache.to_bytes());
        assert_eq!(again.as_ref(), Ok(&cache), "peer cache round trip");
    }
    // --peer text.
    if let Ok(text) = core::str::from_utf8(data) {
        let _ = text.parse::<PeerRef>();
    }
    // --peer tl:HEX, resolved against a cache that learned from the same
    // bytes as a result.
    let mut cache = PeerCache::new();
    cache.absorb(data);
    if let Ok(peer) = PeerRef::from_tl(data) {
        let _ = cache.resolve(&peer, false);
        let _ = cache.resolve(&peer, true);
    }
    // mtproto call's JSON: checked against the schema, then encoded.
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) {
        let schema = DynSchema::builtin();
        if let Ok(v) = schema.function_from_json(&json) {
            let _ = schema.encode_boxed(&v);
            let _ = schema.result_type(&v);
        }
    }
}
