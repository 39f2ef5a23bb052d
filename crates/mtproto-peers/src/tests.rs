//! Unit tests of the crate.
#![allow(clippy::unwrap_used)]
use crate::*;
use mtproto_tl::api::{enums, types};
use mtproto_tl::Deserialize;

fn user(id: i64, hash: i64, min: bool, name: Option<&str>) -> enums::User {
    // user#b1b8cc83 with flags, flags2, id = 0, then typed.
    let mut b = 0xb1b8cc83_u32.to_le_bytes().to_vec();
    b.extend_from_slice(&[0; 16]);
    let enums::User::User(mut u) = enums::User::from_bytes(&b).unwrap() else {
        panic!()
    };
    u.id = id;
    u.access_hash = Some(hash);
    u.min = min;
    u.username = name.map(str::to_owned);
    enums::User::User(u)
}

#[test]
fn string_forms() {
    let p = |s: &str| s.parse::<PeerRef>();
    for s in [
        "@alice",
        "alice",
        "ALICE",
        "t.me/alice",
        "https://t.me/alice/12",
        "http://telegram.me/alice?start=1",
    ] {
        assert_eq!(p(s), Ok(PeerRef::Username("alice".into())), "{s}");
    }
    assert_eq!(p("1001"), Ok(PeerRef::BotApiId(1001)));
    assert_eq!(p("-3001"), Ok(PeerRef::BotApiId(-3001)));
    assert_eq!(
        p("self"),
        Ok(PeerRef::Input(enums::InputPeer::InputPeerSelf))
    );
    assert_eq!(
        p("chat:3001"),
        Ok(PeerRef::Input(enums::InputPeer::Chat(
            types::InputPeerChat { chat_id: 3001 }
        )))
    );
    for bad in [
        "", "@", "@a", "t.me/", "user:1", "user:x:1", "a b", "1abc", "@al-ice",
    ] {
        assert!(p(bad).is_err(), "{bad}");
    }
}

#[test]
fn bot_api_ids() {
    let peer = |id| peer_from_bot_api_id(id).unwrap();
    assert_eq!(
        peer(1001),
        enums::Peer::User(types::PeerUser { user_id: 1001 })
    );
    assert_eq!(
        peer(-3001),
        enums::Peer::Chat(types::PeerChat { chat_id: 3001 })
    );
    assert_eq!(
        peer(-1002001),
        enums::Peer::Chat(types::PeerChat { chat_id: 1002001 })
    );
    assert_eq!(
        peer(-1_000_000_002_001),
        enums::Peer::Channel(types::PeerChannel { channel_id: 2001 })
    );
    assert!(peer_from_bot_api_id(0).is_err());
    assert!(peer_from_bot_api_id(-BOT_API_CHANNEL_BASE).is_err());
    assert!(peer_from_bot_api_id(i64::MIN).is_err());
    assert!(peer_from_bot_api_id(i64::MIN + 1).is_ok());
}

#[test]
fn min_never_overwrites_full_and_the_form_round_trips() {
    let mut c = PeerCache::new();
    c.add_user(&user(7, 70, false, Some("Seven")));
    c.add_user(&user(7, 71, true, None));
    let seven = enums::Peer::User(types::PeerUser { user_id: 7 });
    let want = enums::InputPeer::User(types::InputPeerUser {
        user_id: 7,
        access_hash: 70,
    });
    assert_eq!(c.input_peer(&seven), Some(want.clone()));
    assert_eq!(c.username("seven"), Some(seven.clone()));
    // A min user alone is not used outside its message.
    c.add_user(&user(8, 80, true, None));
    let eight = enums::Peer::User(types::PeerUser { user_id: 8 });
    assert_eq!(c.input_peer(&eight), None);
    // A full one replaces a min one.
    c.add_user(&user(8, 81, false, None));
    assert!(c.input_peer(&eight).is_some());
    let again = PeerCache::from_bytes(&c.to_bytes()).unwrap();
    assert_eq!(again, c);
    assert_eq!(again.to_bytes(), c.to_bytes());
}

#[test]
fn saved_caches_are_checked() {
    let c = {
        let mut c = PeerCache::new();
        c.add_user(&user(7, 70, false, Some("seven")));
        c.to_bytes()
    };
    for cut in 0..c.len() {
        assert!(PeerCache::from_bytes(&c[..cut]).is_err(), "{cut}");
    }
    let mut v = c.clone();
    v[4] = 9;
    assert_eq!(PeerCache::from_bytes(&v), Err(PeerCacheError::Version(9)));
    let mut extra = c.clone();
    extra.push(0);
    assert_eq!(
        PeerCache::from_bytes(&extra),
        Err(PeerCacheError::Malformed)
    );
    // A count far beyond the bytes is refused before anything is read.
    let mut huge = b"MTPC\x01".to_vec();
    huge.extend_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(PeerCache::from_bytes(&huge), Err(PeerCacheError::Truncated));
}
