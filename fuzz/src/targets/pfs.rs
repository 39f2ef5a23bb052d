//! Fuzz target for the server's check of a binding (`auth.bindTempAuthKey`,
//! `mtproto_session::pfs::verify_bind`): any body is refused with a typed
//! error, and a genuine binding with the input XORed into it is accepted
//! only if what it says is still what was bound.

use mtproto_crypto::AuthKey;
use mtproto_session::pfs::{bind_request, verify_bind, BindContext, BindTempKey};
use mtproto_tl::api::functions::auth::BindTempAuthKey;
use mtproto_tl::Deserialize;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// Checks `data` as a binding body, then as a change to a genuine one.
pub fn pfs_bind(data: &[u8]) {
    let perm = AuthKey::from_bytes([7; 256]);
    let cx = BindContext {
        temp_key_id: 0x1122_3344_5566_7788,
        temp_expires_at: Some(2_000_000_000),
        session_id: 5,
        msg_id: 0x6000_0000_0000_0004,
        now_secs: 1_900_000_000,
    };
    let lookup = |id: u64| (id == perm.id_u64()).then(|| perm.clone());
    let _ = verify_bind(data, &cx, lookup);

    let bind = BindTempKey {
        perm_key: perm.clone(),
        nonce: 9,
        expires_at: 1_950_000_000,
    };
    let mut rng = ChaCha20Rng::from_seed([3; 32]);
    let genuine = bind_request(&bind, cx.temp_key_id, cx.session_id, cx.msg_id, &mut rng);
    let mut body = genuine.clone();
    for (b, d) in body.iter_mut().zip(data) {
        *b ^= d;
    }
    let unchanged = body == genuine;
    match verify_bind(&body, &cx, lookup) {
        Ok(b) => {
            let (g, got) = (
                BindTempAuthKey::from_bytes(&genuine).expect("ours decodes"),
                BindTempAuthKey::from_bytes(&body).expect("accepted, so it decodes"),
            );
            assert_eq!(b.perm_key_id, perm.id_u64());
            assert_eq!(
                (got.perm_auth_key_id, got.nonce, got.expires_at),
                (g.perm_auth_key_id, g.nonce, g.expires_at),
                "a changed binding was accepted"
            );
            assert_eq!(got.encrypted_message, g.encrypted_message);
        }
        Err(e) => assert!(!unchanged, "the genuine binding was refused: {e}"),
    }
}
