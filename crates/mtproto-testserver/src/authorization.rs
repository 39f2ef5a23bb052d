//! Carrying an account to another DC (core.telegram.org/api/datacenter):
//! `auth.exportAuthorization` on the DC where the key is authorized gives
//! a one-time token for DC X; `auth.importAuthorization` on DC X signs the
//! key it comes under in as the same user. The tokens live in the world
//! state every DC of a cluster shares.

use std::collections::VecDeque;

use mtproto_tl::api::{enums, functions, types};
use mtproto_tl::{Deserialize, Serialize};
use rand::RngCore;

use crate::dispatch::{invalid, rpc, Caller, Step};
use crate::limits::lock;
use crate::server::Inner;
use crate::world;

/// Most tokens waiting to be imported (the oldest is forgotten first).
pub(crate) const MAX_EXPORTS: usize = 1024;

/// One exported authorization.
#[derive(Debug)]
struct Export {
    token: [u8; 32],
    user_id: i64,
    dc: i32,
}

/// Tokens exported and not yet imported.
#[derive(Debug, Default)]
pub(crate) struct Exports(VecDeque<Export>);

/// `auth.exportAuthorization dc_id:int`: a token for DC `dc_id` carrying
/// the caller's account. `DC_ID_INVALID` for this DC or one the cluster
/// does not have.
pub(crate) fn auth_export_authorization(inner: &Inner, caller: Caller, body: &[u8]) -> Step {
    let Ok(req) = functions::auth::ExportAuthorization::from_bytes(body) else {
        return Step::Answer(Err(invalid()));
    };
    let known = lock(&inner.dc.table).iter().any(|(id, _)| *id == req.dc_id);
    if req.dc_id == inner.dc.id || !known {
        return Step::Answer(Err(rpc(400, "DC_ID_INVALID")));
    }
    let mut token = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut token);
    let mut w = lock(&inner.world);
    let user_id = w.account(caller.auth_key_id);
    let exports = w.exports_mut();
    if exports.0.len() >= MAX_EXPORTS {
        exports.0.pop_front();
    }
    exports.0.push_back(Export {
        token,
        user_id,
        dc: req.dc_id,
    });
    let answer = enums::auth::ExportedAuthorization::ExportedAuthorization(
        types::auth::ExportedAuthorization {
            id: user_id,
            bytes: token.to_vec(),
        },
    );
    Step::Answer(Ok(answer.to_bytes()))
}

/// `auth.importAuthorization id:long bytes:bytes`: signs the caller's key
/// in as user `id` with a token exported for this DC (used once).
/// `AUTH_BYTES_INVALID` for an unknown token or one for another DC,
/// `USER_ID_INVALID` when `id` is not the token's user.
pub(crate) fn auth_import_authorization(inner: &Inner, caller: Caller, body: &[u8]) -> Step {
    let Ok(req) = functions::auth::ImportAuthorization::from_bytes(body) else {
        return Step::Answer(Err(invalid()));
    };
    let Some(key) = caller.auth_key_id else {
        return Step::Answer(Err(invalid()));
    };
    let mut w = lock(&inner.world);
    let exports = w.exports_mut();
    let Some(at) = exports
        .0
        .iter()
        .position(|e| e.token[..] == req.bytes[..] && e.dc == inner.dc.id)
    else {
        return Step::Answer(Err(rpc(400, "AUTH_BYTES_INVALID")));
    };
    if exports.0[at].user_id != req.id {
        return Step::Answer(Err(rpc(400, "USER_ID_INVALID")));
    }
    exports.0.remove(at);
    let Some(user) = world::user(req.id) else {
        return Step::Answer(Err(rpc(400, "USER_ID_INVALID")));
    };
    w.sign_in(key, req.id);
    let answer = enums::auth::Authorization::Authorization(types::auth::Authorization {
        setup_password_required: false,
        otherwise_relogin_days: None,
        tmp_sessions: None,
        future_auth_token: None,
        user: world::user_tl(user, req.id),
    });
    Step::Answer(Ok(answer.to_bytes()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::dispatch::handle_request;

    /// DCs 2 and 3 of one cluster (one world).
    fn cluster() -> (Inner, Inner) {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 4430));
        let dc2 = Inner::for_tests(addr);
        lock(&dc2.dc.table).push((3, addr));
        let mut dc3 = Inner::for_tests(addr);
        dc3.dc.id = 3;
        dc3.dc.table = dc2.dc.table.clone();
        dc3.world = dc2.world.clone();
        (dc2, dc3)
    }

    fn caller(key: u64) -> Caller {
        Caller {
            auth_key_id: Some(key),
            key: Some(key),
            ..Caller::default()
        }
    }

    fn export(
        inner: &Inner,
        key: u64,
        dc_id: i32,
    ) -> Result<types::auth::ExportedAuthorization, String> {
        let body = functions::auth::ExportAuthorization { dc_id }.to_bytes();
        match handle_request(inner, caller(key), &body).result {
            Ok(b) => {
                let enums::auth::ExportedAuthorization::ExportedAuthorization(x) =
                    enums::auth::ExportedAuthorization::from_bytes(&b).unwrap();
                Ok(x)
            }
            Err(e) => Err(e.message()),
        }
    }

    fn import(inner: &Inner, key: u64, id: i64, bytes: Vec<u8>) -> Result<i64, String> {
        let body = functions::auth::ImportAuthorization { id, bytes }.to_bytes();
        match handle_request(inner, caller(key), &body).result {
            Ok(b) => {
                let enums::auth::Authorization::Authorization(a) =
                    enums::auth::Authorization::from_bytes(&b).unwrap()
                else {
                    panic!("sign-up required")
                };
                let enums::User::User(u) = a.user else {
                    panic!("empty user")
                };
                Ok(u.id)
            }
            Err(e) => Err(e.message()),
        }
    }

    #[test]
    fn an_exported_authorization_signs_in_a_key_on_its_dc_once() {
        let (dc2, dc3) = cluster();
        assert!(lock(&dc2.world).sign_in(11, 1002));
        let x = export(&dc2, 11, 3).unwrap();
        assert_eq!(x.id, 1002);
        // Not for this DC, not for another user, not a made-up token.
        assert_eq!(
            import(&dc2, 22, 1002, x.bytes.clone()),
            Err("AUTH_BYTES_INVALID".into())
        );
        assert_eq!(
            import(&dc3, 22, 1001, x.bytes.clone()),
            Err("USER_ID_INVALID".into())
        );
        assert_eq!(
            import(&dc3, 22, 1002, vec![0; 32]),
            Err("AUTH_BYTES_INVALID".into())
        );
        assert_eq!(
            lock(&dc3.world).account(Some(22)),
            1001,
            "not signed in yet"
        );
        assert_eq!(import(&dc3, 22, 1002, x.bytes.clone()), Ok(1002));
        assert_eq!(lock(&dc3.world).account(Some(22)), 1002);
        // Used once.
        assert_eq!(
            import(&dc3, 33, 1002, x.bytes),
            Err("AUTH_BYTES_INVALID".into())
        );
    }

    #[test]
    fn export_names_another_dc_of_the_cluster() {
        let (dc2, _) = cluster();
        assert_eq!(export(&dc2, 1, 2).unwrap_err(), "DC_ID_INVALID");
        assert_eq!(export(&dc2, 1, 9).unwrap_err(), "DC_ID_INVALID");
        // Tokens waiting are bounded.
        for _ in 0..MAX_EXPORTS + 10 {
            export(&dc2, 1, 3).unwrap();
        }
        assert_eq!(lock(&dc2.world).exports_mut().0.len(), MAX_EXPORTS);
    }
}
