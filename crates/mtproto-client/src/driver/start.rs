//! How a connection starts: the first connection's session (a saved key,
//! or a new one; under perfect forward secrecy always a new temporary key)
//! and the wrapper around the first query of every connection.

use mtproto_session::session::{ClientSession, ConnectionWrapper};
use mtproto_tl::api::functions::{InitConnection, InvokeWithLayer};
use mtproto_tl::{RawObject, Serialize};

use super::Driver;
use crate::config::ClientConfig;
use crate::net::{self, Keys, Start};

/// The connection wrapper: the first query of every connection goes inside
/// `invokeWithLayer(initConnection(..))` when an `api_id` is configured.
pub(super) fn connection_wrapper(cfg: &ClientConfig) -> Option<ConnectionWrapper> {
    let p = cfg.init.clone()?;
    Some(Box::new(move |body: &[u8]| {
        InvokeWithLayer {
            layer: mtproto_tl::api::LAYER,
            query: InitConnection {
                api_id: p.api_id,
                device_model: p.device_model.clone(),
                system_version: p.system_version.clone(),
                app_version: p.app_version.clone(),
                system_lang_code: p.system_lang_code.clone(),
                lang_pack: p.lang_pack.clone(),
                lang_code: p.lang_code.clone(),
                proxy: None,
                params: None,
                query: RawObject(body.to_vec()),
            },
        }
        .to_bytes()
    }))
}

/// Used by [`Client::connect`](crate::Client::connect): the first
/// connection's start, and the saved (permanent) key. With perfect forward
/// secrecy the session runs on a new temporary key.
pub(crate) fn first_start(cfg: &ClientConfig) -> (Start, Option<Keys>) {
    if let (Some(saved), Some(_)) = (&cfg.session, cfg.pfs) {
        let keys = Keys {
            auth_key: saved.auth_key.clone(),
            salt: saved.salt,
            time_offset: saved.time_offset,
        };
        return (Start::NewKey, Some(keys));
    }
    match &cfg.session {
        Some(saved) => {
            let mut s = ClientSession::new(
                saved.auth_key.clone(),
                saved.salt,
                cfg.session_config.clone(),
                net::seed(),
            );
            s.set_time_offset(saved.time_offset);
            Driver::wrap(cfg, &mut s);
            let keys = Keys {
                auth_key: saved.auth_key.clone(),
                salt: saved.salt,
                time_offset: saved.time_offset,
            };
            (Start::Resume(s), Some(keys))
        }
        None => (Start::NewKey, None),
    }
}
