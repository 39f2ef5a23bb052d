//! The session file format, the stores, and Telethon's StringSession
//! (against strings Telethon 1.45 wrote).
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

use std::net::SocketAddr;

use mtproto_crypto::AuthKey;
use mtproto_store::format::{MAGIC, VERSION};
use mtproto_store::{
    telethon, FileStore, MemoryStore, SessionStore, StoreError, StoredDc, StoredSession,
    UpdateState,
};

fn key(f: impl Fn(usize) -> u8) -> AuthKey {
    let mut k = [0u8; 256];
    for (i, b) in k.iter_mut().enumerate() {
        *b = f(i);
    }
    AuthKey::from_bytes(k)
}

fn sample() -> StoredSession {
    let mut s = StoredSession::new(2);
    *s.dc_mut(2) = StoredDc {
        id: 2,
        addr: Some("149.154.167.51:443".parse().unwrap()),
        auth_key: Some(key(|i| i as u8)),
        salt: -77,
        time_offset: 3,
    };
    s.dc_mut(4).addr = Some("[2001:67c:4e8:f004::a]:443".parse().unwrap());
    s.dc_mut(5).salt = 9;
    s.updates = UpdateState {
        pts: 100,
        qts: 5,
        date: 1_700_000_000,
        seq: 42,
        channels: vec![(2001, 7), (2002, 9)],
    };
    let mut cache = peers_knowing_bob();
    std::mem::swap(&mut s.peers, &mut cache);
    s
}

/// A peer cache that knows one username (through its saved form).
fn peers_knowing_bob() -> mtproto_peers::PeerCache {
    let mut b = b"MTPC\x01".to_vec();
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(&1002i64.to_le_bytes());
    b.extend_from_slice(&7i64.to_le_bytes());
    b.push(0);
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&1u32.to_le_bytes());
    b.push(0);
    b.extend_from_slice(&1002i64.to_le_bytes());
    b.push(3);
    b.extend_from_slice(b"bob");
    mtproto_peers::PeerCache::from_bytes(&b).unwrap()
}

#[test]
fn round_trip_and_header() {
    let s = sample();
    let b = s.to_bytes();
    assert_eq!(&b[..4], MAGIC);
    assert_eq!(&b[4..6], &VERSION.to_le_bytes());
    let body = u32::from_le_bytes(b[6..10].try_into().unwrap()) as usize;
    assert_eq!(b.len(), 10 + body + 4);
    assert_eq!(StoredSession::from_bytes(&b).unwrap(), s);
    // Written the same way twice.
    assert_eq!(StoredSession::from_bytes(&b).unwrap().to_bytes(), b);
    // The Debug form never shows a key.
    let dbg = format!("{s:?}");
    assert!(!dbg.contains("auth_key:"), "{dbg}");
}

#[test]
fn damaged_files_are_refused_by_name() {
    let b = sample().to_bytes();
    // Cut anywhere: refused, never a panic.
    for cut in 0..b.len() {
        let e = StoredSession::from_bytes(&b[..cut]).unwrap_err();
        let want = if cut < 4 {
            StoreError::Magic
        } else {
            StoreError::Truncated
        };
        assert_eq!(e, want, "cut at {cut}");
    }
    // Any byte changed after the version: the checksum says so (or the
    // length no longer fits).
    for at in 6..b.len() {
        let mut c = b.clone();
        c[at] ^= 0x5a;
        let e = StoredSession::from_bytes(&c).unwrap_err();
        assert!(
            matches!(
                e,
                StoreError::Corrupt
                    | StoreError::Truncated
                    | StoreError::TooLarge
                    | StoreError::Malformed(_)
            ),
            "byte {at}: {e:?}"
        );
    }
    // A future version is named, not read as this one.
    let mut future = b.clone();
    future[4..6].copy_from_slice(&2u16.to_le_bytes());
    assert_eq!(
        StoredSession::from_bytes(&future),
        Err(StoreError::Version(2))
    );
    assert_eq!(
        StoredSession::from_bytes(b"not a session"),
        Err(StoreError::Magic)
    );
    let mut extra = b.clone();
    extra.push(0);
    assert!(matches!(
        StoredSession::from_bytes(&extra),
        Err(StoreError::Malformed(_))
    ));
}

#[test]
fn counts_are_checked_before_allocating() {
    // A valid envelope (right checksum) around a body claiming 2^32-1
    // channels.
    let mut body = Vec::new();
    body.extend_from_slice(&2i32.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
    body.extend_from_slice(&[0u8; 16]);
    body.extend_from_slice(&u32::MAX.to_le_bytes());
    let mut b = MAGIC.to_vec();
    b.extend_from_slice(&VERSION.to_le_bytes());
    b.extend_from_slice(&(body.len() as u32).to_le_bytes());
    b.extend_from_slice(&body);
    let crc = crc32(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(StoredSession::from_bytes(&b), Err(StoreError::Truncated));
}

/// CRC-32 (IEEE), bit by bit: independent of the crate's.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn memory_store() {
    let m = MemoryStore::new();
    assert_eq!(m.load().unwrap(), None);
    m.save(&sample()).unwrap();
    assert_eq!(m.load().unwrap(), Some(sample()));
}

#[test]
fn file_store_is_atomic_private_and_refuses_damage() {
    let dir = std::env::temp_dir().join(format!("mtproto-store-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("session.mtrs");
    let store = FileStore::new(&path);
    assert_eq!(store.load().unwrap(), None);
    store.save(&sample()).unwrap();
    assert_eq!(store.load().unwrap(), Some(sample()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Saved again over it, from several threads at once: one file, whole.
    std::thread::scope(|s| {
        for i in 0..8 {
            let store = &store;
            s.spawn(move || {
                let mut x = sample();
                x.updates.pts = i;
                store.save(&x).unwrap();
            });
        }
    });
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("session.mtrs")]);
    assert!(store.load().unwrap().is_some());

    let good = std::fs::read(&path).unwrap();
    std::fs::write(&path, &good[..good.len() / 2]).unwrap();
    assert_eq!(store.load(), Err(StoreError::Truncated));
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 1;
    std::fs::write(&path, &bad).unwrap();
    assert_eq!(store.load(), Err(StoreError::Corrupt));
    let mut future = good.clone();
    future[4..6].copy_from_slice(&9u16.to_le_bytes());
    std::fs::write(&path, &future).unwrap();
    assert_eq!(store.load(), Err(StoreError::Version(9)));
    // The refused file is left as it was.
    assert_eq!(std::fs::read(&path).unwrap(), future);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Strings Telethon 1.45.0 wrote (`StringSession.save()` after `set_dc`
/// and `auth_key = AuthKey(...)`).
#[test]
fn telethon_string_sessions() {
    let v4 = "1ApWapzMBuwABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj9AQUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVpbXF1eX2BhYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ent8fX5_gIGCg4SFhoeIiYqLjI2Oj5CRkpOUlZaXmJmam5ydnp-goaKjpKWmp6ipqqusra6vsLGys7S1tre4ubq7vL2-v8DBwsPExcbHyMnKy8zNzs_Q0dLT1NXW19jZ2tvc3d7f4OHi4-Tl5ufo6err7O3u7_Dx8vP09fb3-Pn6-_z9_v8=";
    let (dc, addr, k) = telethon::import(v4).unwrap();
    assert_eq!(dc, 2);
    assert_eq!(addr, "149.154.167.51:443".parse::<SocketAddr>().unwrap());
    assert_eq!(k, key(|i| i as u8));
    assert_eq!(telethon::export(dc, addr, &k).unwrap(), v4);

    let v6 = "1BCABBnwE6PAEAAAAAAAAAAoBuwAHDhUcIyoxOD9GTVRbYmlwd36FjJOaoaivtr3Ey9LZ4Ofu9fwDChEYHyYtNDtCSVBXXmVsc3qBiI-WnaSrsrnAx87V3OPq8fj_Bg0UGyIpMDc-RUxTWmFob3Z9hIuSmaCnrrW8w8rR2N_m7fT7AgkQFx4lLDM6QUhPVl1ka3J5gIeOlZyjqrG4v8bN1Nvi6fD3_gUMExohKC82PURLUllgZ251fIOKkZifpq20u8LJ0Nfe5ezz-gEIDxYdJCsyOUBHTlVcY2pxeH-GjZSboqmwt77FzNPa4ejv9v0ECxIZICcuNTxDSlFYX2ZtdHuCiZCXnqWss7rByM_W3eTr8vk=";
    let (dc, addr, k) = telethon::import(v6).unwrap();
    assert_eq!(dc, 4);
    assert_eq!(
        addr,
        "[2001:67c:4e8:f004::a]:443".parse::<SocketAddr>().unwrap()
    );
    assert_eq!(k, key(|i| (i * 7 % 256) as u8));
    assert_eq!(telethon::export(dc, addr, &k).unwrap(), v6);

    // Into a stored session and back.
    let s = StoredSession::from_telethon(v4).unwrap();
    assert_eq!(s.home_dc, 2);
    assert_eq!(s.to_telethon().unwrap().unwrap(), v4);
    // Not one: named, never a panic.
    for bad in ["", "1", "2ApWap", "1!!!!", &v4[..100], &format!("{v4}A")] {
        assert!(
            matches!(telethon::import(bad), Err(StoreError::StringSession(_))),
            "{bad:?}"
        );
    }
    assert!(telethon::export(300, addr, &k).is_err());
}
