//! Perfect forward secrecy (core.telegram.org/api/pfs): binding a temporary
//! auth key to the permanent one with `auth.bindTempAuthKey`, both roles.
//!
//! "In order to achieve PFS, the client must never use the permanent
//! auth_key_id directly. Every message that is sent to MTProto, must be
//! encrypted by a temp_auth_key_id, that was bound to the perm_auth_key_id."
//!
//! The client makes a temporary key with the handshake
//! ([`HandshakeConfig::temporary`](crate::handshake::HandshakeConfig::temporary)),
//! then the first request of a session on it is the binding
//! ([`ClientSession::bind_temp_key`](crate::session::ClientSession::bind_temp_key)),
//! whose `encrypted_message` [`bind_request`] builds for the msg_id it goes
//! out under. The server checks it with `verify_bind` (feature `server`).

#[cfg(feature = "server")]
use mtproto_crypto::packet::decrypt_v1;
use mtproto_crypto::packet::{encrypt_v1, V1_HEADER_LEN};
use mtproto_crypto::{AuthKey, Direction};
use mtproto_tl::api::functions::auth::BindTempAuthKey;
use mtproto_tl::mtproto::{enums, types};
use mtproto_tl::Serialize;
#[cfg(feature = "server")]
use mtproto_tl::{Deserialize, RpcError};
use rand::RngCore;

/// `bind_auth_key_inner` is five fields: 8 + 8 + 8 + 8 + 4 bytes and the
/// constructor id ("the correct msg_len (40 bytes in this case)").
pub const BIND_INNER_LEN: usize = 40;

/// How far past the temporary key's own expiry a binding's `expires_at`
/// may name (the two sides compute it on clocks rounded to seconds).
pub const EXPIRES_AT_SLACK_SECS: i64 = 5;

/// What a binding needs besides the session it goes out in: the permanent
/// key, the random nonce and the temporary key's expiry. `Debug` shows the
/// permanent key's id only.
#[derive(Clone, PartialEq, Eq)]
pub struct BindTempKey {
    /// The permanent key the temporary one is bound to.
    pub perm_key: AuthKey,
    /// "Random long".
    pub nonce: i64,
    /// "Unix timestamp to invalidate temporary key" (server time).
    pub expires_at: i32,
}

impl core::fmt::Debug for BindTempKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BindTempKey")
            .field(
                "perm_auth_key_id",
                &format_args!("{:016x}", self.perm_key.id_u64()),
            )
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

fn key_id(key: &AuthKey) -> i64 {
    i64::from_le_bytes(key.id())
}

/// The body of `auth.bindTempAuthKey` for a message `msg_id` of session
/// `temp_session_id` under the temporary key `temp_key_id`. Draws 16 bytes
/// (`random:int128`) then 8 bytes of padding from `rng`.
///
/// auth.bindTempAuthKey, "Encrypting the binding message": "one has to
/// prepend random:int128 (it replaces the customary session_id:long and
/// salt:long that are irrelevant in this case), then append the same msg_id
/// that will be used for the request, a seqno equal to zero, and the correct
/// msg_len (40 bytes in this case); after that, one computes the
/// msg_key:int128 as SHA1 of the resulting string, appends padding necessary
/// for a 16-byte alignment, encrypts the resulting string using the key
/// derived from perm_auth_key and msg_key, and prepends perm_auth_key_id and
/// msg_key to the encrypted data as usual."
pub fn bind_request<R: RngCore + ?Sized>(
    bind: &BindTempKey,
    temp_key_id: u64,
    temp_session_id: i64,
    msg_id: i64,
    rng: &mut R,
) -> Vec<u8> {
    let perm_auth_key_id = key_id(&bind.perm_key);
    let inner = enums::BindAuthKeyInner::BindAuthKeyInner(types::BindAuthKeyInner {
        nonce: bind.nonce,
        temp_auth_key_id: i64::from_le_bytes(temp_key_id.to_le_bytes()),
        perm_auth_key_id,
        temp_session_id,
        expires_at: bind.expires_at,
    })
    .to_bytes();
    let mut plain = Vec::with_capacity(V1_HEADER_LEN + inner.len());
    let mut random = [0u8; 16];
    rng.fill_bytes(&mut random);
    plain.extend_from_slice(&random);
    plain.extend_from_slice(&msg_id.to_le_bytes());
    plain.extend_from_slice(&0i32.to_le_bytes());
    // "the correct msg_len (40 bytes in this case)".
    let msg_len = i32::try_from(inner.len()).unwrap_or(i32::MAX);
    plain.extend_from_slice(&msg_len.to_le_bytes());
    plain.extend_from_slice(&inner);
    // 32 + 40 = 72 bytes: 8 of padding make 80.
    let mut padding = [0u8; 16];
    let n = (16 - plain.len() % 16) % 16;
    let padding = &mut padding[..n];
    rng.fill_bytes(padding);
    // Both lengths are fixed and valid: encryption cannot fail.
    let encrypted_message =
        encrypt_v1(&bind.perm_key, Direction::ClientToServer, &plain, padding).unwrap_or_default();
    BindTempAuthKey {
        perm_auth_key_id,
        nonce: bind.nonce,
        expires_at: bind.expires_at,
        encrypted_message,
    }
    .to_bytes()
}

#[cfg(feature = "server")]
/// How a binding failed on the server: each is one of the method's
/// documented errors (see [`BindError::rpc_error`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BindError {
    /// The request came under a permanent key: `TEMP_AUTH_KEY_EMPTY`.
    NotTemporary,
    /// `ENCRYPTED_MESSAGE_INVALID`, and which check failed.
    EncryptedMessageInvalid(&'static str),
    /// `EXPIRES_AT_INVALID`: in the past, or after the temporary key's own
    /// lifetime (`expires_in` of its handshake).
    ExpiresAtInvalid,
    /// `TEMP_AUTH_KEY_ALREADY_BOUND`: bound to another permanent key.
    AlreadyBound,
}

#[cfg(feature = "server")]
impl BindError {
    /// The `rpc_error` the server answers with (all are code 400 in the
    /// method's documentation).
    pub fn rpc_error(&self) -> RpcError {
        let message = match self {
            Self::NotTemporary => "TEMP_AUTH_KEY_EMPTY",
            Self::EncryptedMessageInvalid(_) => "ENCRYPTED_MESSAGE_INVALID",
            Self::ExpiresAtInvalid => "EXPIRES_AT_INVALID",
            Self::AlreadyBound => "TEMP_AUTH_KEY_ALREADY_BOUND",
        };
        RpcError::parse(400, message)
    }
}

#[cfg(feature = "server")]
impl core::fmt::Display for BindError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::EncryptedMessageInvalid(why) => {
                write!(f, "ENCRYPTED_MESSAGE_INVALID ({why})")
            }
            other => f.write_str(&other.rpc_error().name),
        }
    }
}

#[cfg(feature = "server")]
impl std::error::Error for BindError {}

#[cfg(feature = "server")]
/// What the server knows of a binding request besides its body: the key
/// and session it came in, its msg_id, the clock, and the temporary key.
#[derive(Clone, Copy, Debug)]
pub struct BindContext {
    /// The key the request came under.
    pub temp_key_id: u64,
    /// `Some(latest allowed expires_at)` for a temporary key (its
    /// handshake's time plus `expires_in`), `None` for a permanent one.
    pub temp_expires_at: Option<i64>,
    /// The session the request came in.
    pub session_id: i64,
    /// The request's msg_id.
    pub msg_id: i64,
    /// Server time, seconds.
    pub now_secs: i64,
}

#[cfg(feature = "server")]
/// A binding the server accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The permanent key the temporary one is now bound to.
    pub perm_key_id: u64,
    /// Until when (server time).
    pub expires_at: i32,
}

#[cfg(feature = "server")]
/// Checks an `auth.bindTempAuthKey` request `body` (the bare function, its
/// constructor id included). `perm_key` finds a permanent key by id.
/// Checks every field of `bind_auth_key_inner` against the request and
/// `cx`, the MTProto 1.0 `msg_key`, and the expiry.
pub fn verify_bind(
    body: &[u8],
    cx: &BindContext,
    perm_key: impl FnOnce(u64) -> Option<AuthKey>,
) -> Result<Binding, BindError> {
    let invalid = BindError::EncryptedMessageInvalid;
    let req = BindTempAuthKey::from_bytes(body).map_err(|_| invalid("malformed request"))?;
    let Some(latest) = cx.temp_expires_at else {
        return Err(BindError::NotTemporary);
    };
    let perm_id = u64::from_le_bytes(req.perm_auth_key_id.to_le_bytes());
    let key = perm_key(perm_id).ok_or(invalid("unknown permanent key"))?;
    let plain = decrypt_v1(&key, Direction::ClientToServer, &req.encrypted_message)
        .map_err(|_| invalid("does not decrypt under the permanent key"))?;
    // The header: random:int128, then "the same msg_id that will be used
    // for the request, a seqno equal to zero, and the correct msg_len".
    let field = |at: usize, n: usize| plain.get(at..at + n).unwrap_or_default();
    let msg_id = i64::from_le_bytes(field(16, 8).try_into().unwrap_or_default());
    let seqno = i32::from_le_bytes(field(24, 4).try_into().unwrap_or_default());
    if msg_id != cx.msg_id {
        return Err(invalid("msg_id is not the request's"));
    }
    if seqno != 0 {
        return Err(invalid("seqno is not zero"));
    }
    if plain.len() != V1_HEADER_LEN + BIND_INNER_LEN {
        return Err(invalid("msg_len is not 40"));
    }
    let enums::BindAuthKeyInner::BindAuthKeyInner(inner) =
        enums::BindAuthKeyInner::from_bytes(field(V1_HEADER_LEN, BIND_INNER_LEN))
            .map_err(|_| invalid("not a bind_auth_key_inner"))?;
    if inner.nonce != req.nonce {
        return Err(invalid("nonce differs from the request's"));
    }
    if u64::from_le_bytes(inner.temp_auth_key_id.to_le_bytes()) != cx.temp_key_id {
        return Err(invalid("temp_auth_key_id is not the key it came under"));
    }
    if inner.perm_auth_key_id != req.perm_auth_key_id {
        return Err(invalid("perm_auth_key_id differs from the request's"));
    }
    if inner.temp_session_id != cx.session_id {
        return Err(invalid("temp_session_id is not the session it came in"));
    }
    if inner.expires_at != req.expires_at {
        return Err(invalid("expires_at differs from the request's"));
    }
    // EXPIRES_AT_INVALID: "The specified expires_at timestamp is invalid":
    // in the past, or later than the temporary key lives (the client's
    // "time + expires_in" is on its own clock, synced to ours within
    // seconds: EXPIRES_AT_SLACK_SECS of leeway).
    let at = i64::from(req.expires_at);
    if at <= cx.now_secs || at > latest.saturating_add(EXPIRES_AT_SLACK_SECS) {
        return Err(BindError::ExpiresAtInvalid);
    }
    Ok(Binding {
        perm_key_id: perm_id,
        expires_at: req.expires_at,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn key(b: u8) -> AuthKey {
        AuthKey::from_bytes([b; 256])
    }

    fn cx() -> BindContext {
        BindContext {
            temp_key_id: key(2).id_u64(),
            temp_expires_at: Some(2_000),
            session_id: 77,
            msg_id: 0x5f00_0000_0000_0004,
            now_secs: 1_000,
        }
    }

    fn body(bind: &BindTempKey, cx: &BindContext) -> Vec<u8> {
        let mut rng = ChaCha20Rng::from_seed([5; 32]);
        bind_request(bind, cx.temp_key_id, cx.session_id, cx.msg_id, &mut rng)
    }

    fn bind() -> BindTempKey {
        BindTempKey {
            perm_key: key(1),
            nonce: 1234,
            expires_at: 1_500,
        }
    }

    #[test]
    fn the_layout_is_the_methods() {
        let b = body(&bind(), &cx());
        let req = BindTempAuthKey::from_bytes(&b).unwrap();
        assert_eq!(req.perm_auth_key_id, key_id(&key(1)));
        // auth_key_id + msg_key + 80 bytes (72 padded to 16).
        assert_eq!(req.encrypted_message.len(), 8 + 16 + 80);
        assert_eq!(req.encrypted_message[..8], key(1).id());
        let plain = decrypt_v1(&key(1), Direction::ClientToServer, &req.encrypted_message).unwrap();
        assert_eq!(plain.len(), 72);
        assert_eq!(plain[16..24], cx().msg_id.to_le_bytes());
        assert_eq!(plain[24..28], [0; 4]);
        assert_eq!(plain[28..32], 40i32.to_le_bytes());
        // bind_auth_key_inner#75a3f765
        assert_eq!(plain[32..36], 0x75a3_f765u32.to_le_bytes());
        assert!(format!("{:?}", bind()).starts_with("BindTempKey { perm_auth_key_id:"));
        assert!(!format!("{:?}", bind()).contains("01, 01"));
    }

    #[test]
    fn a_good_binding_is_accepted() {
        let got = verify_bind(&body(&bind(), &cx()), &cx(), |id| {
            (id == key(1).id_u64()).then(|| key(1))
        });
        assert_eq!(
            got,
            Ok(Binding {
                perm_key_id: key(1).id_u64(),
                expires_at: 1_500
            })
        );
    }

    #[test]
    fn every_field_is_checked() {
        let good = body(&bind(), &cx());
        let perm = |id: u64| (id == key(1).id_u64()).then(|| key(1));
        let check = |b: &[u8], c: &BindContext| verify_bind(b, c, perm).map_err(|e| e.to_string());
        let err = |what: &'static str| Err(format!("ENCRYPTED_MESSAGE_INVALID ({what})"));
        // Another msg_id, session, or temporary key than the inner says.
        let mut c = cx();
        c.msg_id += 4;
        assert_eq!(check(&good, &c), err("msg_id is not the request's"));
        let mut c = cx();
        c.session_id = 78;
        assert_eq!(
            check(&good, &c),
            err("temp_session_id is not the session it came in")
        );
        let mut c = cx();
        c.temp_key_id ^= 1;
        assert_eq!(
            check(&good, &c),
            err("temp_auth_key_id is not the key it came under")
        );
        // The outer fields changed after encryption.
        let mut req = BindTempAuthKey::from_bytes(&good).unwrap();
        req.nonce += 1;
        assert_eq!(
            check(&req.to_bytes(), &cx()),
            err("nonce differs from the request's")
        );
        let mut req = BindTempAuthKey::from_bytes(&good).unwrap();
        req.expires_at += 1;
        assert_eq!(
            check(&req.to_bytes(), &cx()),
            err("expires_at differs from the request's")
        );
        let mut req = BindTempAuthKey::from_bytes(&good).unwrap();
        req.perm_auth_key_id = key_id(&key(3));
        assert_eq!(check(&req.to_bytes(), &cx()), err("unknown permanent key"));
        // One flipped ciphertext bit: the msg_key check fails.
        let mut req = BindTempAuthKey::from_bytes(&good).unwrap();
        req.encrypted_message[40] ^= 1;
        assert_eq!(
            check(&req.to_bytes(), &cx()),
            err("does not decrypt under the permanent key")
        );
        // Encrypted under another key with the right id in front.
        let mut other = bind();
        other.perm_key = key(9);
        let mut req = BindTempAuthKey::from_bytes(&body(&other, &cx())).unwrap();
        req.perm_auth_key_id = key_id(&key(1));
        req.encrypted_message[..8].copy_from_slice(&key(1).id());
        assert_eq!(
            check(&req.to_bytes(), &cx()),
            err("does not decrypt under the permanent key")
        );
        // Expiry: past, or beyond the temporary key's life.
        let beyond = i32::try_from(2_001 + EXPIRES_AT_SLACK_SECS).unwrap();
        for at in [999, 1_000, beyond] {
            let mut b = bind();
            b.expires_at = at;
            assert_eq!(
                check(&body(&b, &cx()), &cx()),
                Err("EXPIRES_AT_INVALID".into())
            );
        }
        // A permanent key binds nothing.
        let mut c = cx();
        c.temp_expires_at = None;
        assert_eq!(check(&good, &c), Err("TEMP_AUTH_KEY_EMPTY".into()));
        assert_eq!(check(&good[..20], &cx()), err("malformed request"));
        assert_eq!(BindError::AlreadyBound.rpc_error().code, 400);
    }
}
