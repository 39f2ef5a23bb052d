//! Request dispatch: a table from constructor id to handler (the shape of
//! gotd's tgtest dispatcher). Wrappers (`invokeWithLayer`,
//! `initConnection`, `invokeWithoutUpdates`, `invokeAfterMsg`) are handlers
//! that unwrap; methods are handlers that answer.

use std::sync::atomic::Ordering;

use mtproto_session::RpcError;
use mtproto_tl::api::functions::{
    InitConnection, InvokeAfterMsg, InvokeWithLayer, InvokeWithoutUpdates,
};
use mtproto_tl::api::{enums, functions, types};
use mtproto_tl::{Deserialize, Identifiable, RawObject, Serialize};

use crate::authorization::{auth_export_authorization, auth_import_authorization};
use crate::keys::{now_secs, KeyKind, TempKey};
use crate::limits::lock;
use crate::server::{now, Inner};
use crate::world::{self, Target};
use mtproto_session::pfs::{verify_bind, BindContext};

/// What a handler does with a request.
pub(crate) enum Step {
    /// A wrapper: the inner query is dispatched next.
    Unwrap(Vec<u8>),
    /// The answer.
    Answer(Result<Vec<u8>, RpcError>),
}

/// Who sent a request: the connection, the auth key it came under, and
/// the message that carried it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Caller {
    /// The connection's id (updates are pushed to the others).
    pub conn: u64,
    /// The key whose account is the sender (for a bound temporary key, its
    /// permanent key).
    pub auth_key_id: Option<u64>,
    /// The key the request came under.
    pub key: Option<u64>,
    /// The client's session_id.
    pub session_id: i64,
    /// The request's msg_id.
    pub msg_id: i64,
}

/// A request handler: the whole request (its constructor id included).
type Handler = fn(&Inner, Caller, &[u8]) -> Step;

/// Constructor id → handler. Anything else is answered
/// `400 INPUT_METHOD_INVALID_<id>`, as Telegram does.
const HANDLERS: &[(u32, Handler)] = &[
    (
        <InvokeWithLayer<RawObject> as Identifiable>::CONSTRUCTOR_ID,
        invoke_with_layer,
    ),
    (
        <InitConnection<RawObject> as Identifiable>::CONSTRUCTOR_ID,
        init_connection,
    ),
    (
        <InvokeWithoutUpdates<RawObject> as Identifiable>::CONSTRUCTOR_ID,
        invoke_without_updates,
    ),
    (
        <InvokeAfterMsg<RawObject> as Identifiable>::CONSTRUCTOR_ID,
        invoke_after_msg,
    ),
    (
        functions::messages::SetTyping::CONSTRUCTOR_ID,
        messages_set_typing,
    ),
    (functions::help::GetConfig::CONSTRUCTOR_ID, help_get_config),
    (
        functions::auth::BindTempAuthKey::CONSTRUCTOR_ID,
        auth_bind_temp_auth_key,
    ),
    (
        functions::auth::ExportAuthorization::CONSTRUCTOR_ID,
        auth_export_authorization,
    ),
    (
        functions::auth::ImportAuthorization::CONSTRUCTOR_ID,
        auth_import_authorization,
    ),
    (
        functions::contacts::ResolveUsername::CONSTRUCTOR_ID,
        contacts_resolve_username,
    ),
    (functions::users::GetUsers::CONSTRUCTOR_ID, users_get_users),
    (
        functions::channels::GetChannels::CONSTRUCTOR_ID,
        channels_get_channels,
    ),
    (
        functions::messages::SendMessage::CONSTRUCTOR_ID,
        messages_send_message,
    ),
    (
        functions::updates::GetState::CONSTRUCTOR_ID,
        updates_get_state,
    ),
    (
        functions::updates::GetDifference::CONSTRUCTOR_ID,
        updates_get_difference,
    ),
    (
        functions::updates::GetChannelDifference::CONSTRUCTOR_ID,
        updates_get_channel_difference,
    ),
];

/// Most ids `users.getUsers` and `channels.getChannels` look at (Telegram
/// takes 200 at most).
const MAX_IDS: usize = 200;

/// The wrappers' ids (unwrapped on any DC).
const WRAPPERS: [u32; 4] = [
    <InvokeWithLayer<RawObject> as Identifiable>::CONSTRUCTOR_ID,
    <InitConnection<RawObject> as Identifiable>::CONSTRUCTOR_ID,
    <InvokeWithoutUpdates<RawObject> as Identifiable>::CONSTRUCTOR_ID,
    <InvokeAfterMsg<RawObject> as Identifiable>::CONSTRUCTOR_ID,
];

/// api/pfs: "An unbound temp_auth_key_id may only be used with the
/// following methods: auth.bindTempAuthKey, help.getConfig,
/// help.getNearestDc" (and the wrappers around them).
const UNBOUND_ALLOWED: [u32; 2] = [
    functions::auth::BindTempAuthKey::CONSTRUCTOR_ID,
    functions::help::GetConfig::CONSTRUCTOR_ID,
];

/// What any DC answers, the account's home or not: the binding, the
/// config, and carrying the authorization to another DC.
const ANY_DC: [u32; 4] = [
    functions::auth::BindTempAuthKey::CONSTRUCTOR_ID,
    functions::help::GetConfig::CONSTRUCTOR_ID,
    functions::auth::ExportAuthorization::CONSTRUCTOR_ID,
    functions::auth::ImportAuthorization::CONSTRUCTOR_ID,
];

/// How many dispatch steps (wrappers, then the method) a request may take.
const MAX_WRAPPERS: usize = 8;

pub(crate) fn rpc(code: i32, message: &str) -> RpcError {
    RpcError::parse(code, message)
}

pub(crate) fn invalid() -> RpcError {
    rpc(400, "INPUT_REQUEST_INVALID")
}

fn first_id(b: &[u8]) -> Option<u32> {
    let h = b.get(..4)?;
    Some(u32::from_le_bytes([h[0], h[1], h[2], h[3]]))
}

/// A request as the dispatcher saw it.
#[derive(Debug)]
pub(crate) struct Handled {
    /// The innermost method's TL name (or its id in hex).
    pub name: String,
    /// Whether it came inside wrappers.
    pub wrapped: bool,
    /// The answer.
    pub result: Result<Vec<u8>, RpcError>,
    /// It bound a temporary key.
    pub bound: bool,
}

/// Unwraps the wrappers and answers the request.
pub(crate) fn handle_request(inner: &Inner, caller: Caller, body: &[u8]) -> Handled {
    let mut cur = body.to_vec();
    let mut wrapped = false;
    let unbound = matches!(
        caller.key.map(|k| inner.key_kind(k)),
        Some(KeyKind::Temporary(TempKey { bound: None, .. }))
    );
    for _ in 0..MAX_WRAPPERS {
        let Some(id) = first_id(&cur) else {
            break;
        };
        let name = mtproto_tl::api::name_for_id(id)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{id:#010x}"));
        let answer = |result| Handled {
            name: name.clone(),
            wrapped,
            bound: false,
            result,
        };
        // api/pfs: a query under a temporary key that is not bound yet
        // (Telegram answers 401 AUTH_KEY_UNREGISTERED).
        if unbound && !WRAPPERS.contains(&id) && !UNBOUND_ALLOWED.contains(&id) {
            return answer(Err(rpc(401, "AUTH_KEY_UNREGISTERED")));
        }
        // An account homed elsewhere: content requests go to its DC
        // ("303 USER_MIGRATE_X: the user whose identity is being used to
        // execute queries is associated with DC X").
        if let Some(home) = inner.dc.home.filter(|h| *h != inner.dc.id) {
            if !WRAPPERS.contains(&id) && !ANY_DC.contains(&id) {
                return answer(Err(rpc(303, &format!("USER_MIGRATE_{home}"))));
            }
        }
        let Some((_, handler)) = HANDLERS.iter().find(|(i, _)| *i == id) else {
            // Telegram answers unknown methods with INPUT_METHOD_INVALID_<id>.
            return answer(Err(rpc(400, &format!("INPUT_METHOD_INVALID_{id}"))));
        };
        match handler(inner, caller, &cur) {
            Step::Unwrap(q) => {
                cur = q;
                wrapped = true;
            }
            Step::Answer(result) => {
                let bound =
                    id == functions::auth::BindTempAuthKey::CONSTRUCTOR_ID && result.is_ok();
                return Handled {
                    bound,
                    ..answer(result)
                };
            }
        }
    }
    Handled {
        name: "?".into(),
        wrapped,
        bound: false,
        result: Err(invalid()),
    }
}

fn unwrap_or_invalid(r: Result<Vec<u8>, mtproto_tl::DecodeError>) -> Step {
    match r {
        Ok(q) => Step::Unwrap(q),
        Err(_) => Step::Answer(Err(invalid())),
    }
}

fn invoke_with_layer(_: &Inner, _: Caller, body: &[u8]) -> Step {
    unwrap_or_invalid(InvokeWithLayer::<RawObject>::from_bytes(body).map(|w| w.query.0))
}

fn init_connection(inner: &Inner, _: Caller, body: &[u8]) -> Step {
    inner.stats.init_connections.fetch_add(1, Ordering::Relaxed);
    unwrap_or_invalid(InitConnection::<RawObject>::from_bytes(body).map(|w| w.query.0))
}

fn invoke_without_updates(_: &Inner, _: Caller, body: &[u8]) -> Step {
    unwrap_or_invalid(InvokeWithoutUpdates::<RawObject>::from_bytes(body).map(|w| w.query.0))
}

fn invoke_after_msg(_: &Inner, _: Caller, body: &[u8]) -> Step {
    unwrap_or_invalid(InvokeAfterMsg::<RawObject>::from_bytes(body).map(|w| w.query.0))
}

fn messages_set_typing(inner: &Inner, caller: Caller, body: &[u8]) -> Step {
    inner.stats.set_typing.fetch_add(1, Ordering::Relaxed);
    Step::Answer(match functions::messages::SetTyping::from_bytes(body) {
        Ok(req) => {
            let me = lock(&inner.world).account(caller.auth_key_id);
            set_typing(inner, me, &req.peer).map(|b| b.to_bytes())
        }
        Err(_) => Err(invalid()),
    })
}

fn help_get_config(inner: &Inner, _: Caller, body: &[u8]) -> Step {
    Step::Answer(match functions::help::GetConfig::from_bytes(body) {
        Ok(_) => Ok(config(inner).to_bytes()),
        Err(_) => Err(invalid()),
    })
}

/// `auth.bindTempAuthKey`: every field of `bind_auth_key_inner` checked
/// (`mtproto_session::pfs::verify_bind`), then the binding recorded.
fn auth_bind_temp_auth_key(inner: &Inner, caller: Caller, body: &[u8]) -> Step {
    let Some(key) = caller.key else {
        return Step::Answer(Err(invalid()));
    };
    let temp_expires_at = match inner.key_kind(key) {
        KeyKind::Temporary(t) => Some(t.expires_at),
        KeyKind::Permanent => None,
    };
    let cx = BindContext {
        temp_key_id: key,
        temp_expires_at,
        session_id: caller.session_id,
        msg_id: caller.msg_id,
        now_secs: now_secs(),
    };
    let result = verify_bind(body, &cx, |id| inner.permanent_key(id))
        .and_then(|b| inner.bind(key, b.perm_key_id));
    if result.is_ok() {
        inner.stats.bindings.fetch_add(1, Ordering::Relaxed);
    }
    Step::Answer(result.map(|()| true.to_bytes()).map_err(|e| e.rpc_error()))
}

fn date_now() -> i32 {
    i32::try_from(now().as_secs()).unwrap_or(i32::MAX)
}

fn contacts_resolve_username(inner: &Inner, caller: Caller, body: &[u8]) -> Step {
    let Ok(req) = functions::contacts::ResolveUsername::from_bytes(body) else {
        return Step::Answer(Err(invalid()));
    };
    let me = lock(&inner.world).account(caller.auth_key_id);
    Step::Answer(resolve_username(me, &req.username).map(|r| r.to_bytes()))
}

/// `contacts.resolveUsername` in the world.
fn resolve_username(me: i64, name: &str) -> Result<enums::contacts::ResolvedPeer, RpcError> {
    if !world::username_is_valid(name) {
        return Err(rpc(400, "USERNAME_INVALID"));
    }
    let is = |u: &str| u.eq_ignore_ascii_case(name);
    let mut users = Vec::new();
    let mut chats = Vec::new();
    let peer = if let Some(u) = world::USERS.iter().find(|u| u.username.is_some_and(is)) {
        users.push(world::user_tl(u, me));
        Target::User(u).peer()
    } else if let Some(c) = world::CHANNELS.iter().find(|c| is(c.username)) {
        chats.push(world::channel_tl(c));
        Target::Channel(c).peer()
    } else {
        return Err(rpc(400, "USERNAME_NOT_OCCUPIED"));
    };
    Ok(enums::contacts::ResolvedPeer::ResolvedPeer(
        types::contacts::ResolvedPeer { peer, chats, users },
    ))
}

fn users_get_users(inner: &Inner, caller: Caller, body: &[u8]) -> Step {
    let Ok(req) = functions::users::GetUsers::from_bytes(body) else {
        return Step::Answer(Err(invalid()));
    };
    let me = lock(&inner.world).account(caller.auth_key_id);
    // Users that do not exist, or named with a wrong access hash, are left
    // out of the answer, as Telegram does.
    let found: Vec<enums::User> = req
        .id
        .iter()
        .take(MAX_IDS)
        .filter_map(|u| match u {
            enums::InputUser::InputUserSelf => world::user(me),
            enums::InputUser::InputUser(u) => {
                world::user(u.user_id).filter(|w| w.access_hash == u.access_hash)
            }
            _ => None,
        })
        .map(|u| world::user_tl(u, me))
        .collect();
    Step::Answer(Ok(found.to_bytes()))
}

fn channels_get_channels(_: &Inner, _: Caller, body: &[u8]) -> Step {
    let Ok(req) = functions::channels::GetChannels::from_bytes(body) else {
        return Step::Answer(Err(invalid()));
    };
    let mut chats = Vec::new();
    for c in req.id.iter().take(MAX_IDS) {
        let found = match c {
            enums::InputChannel::InputChannel(c) => {
                world::channel(c.channel_id).filter(|w| w.access_hash == c.access_hash)
            }
            _ => None,
        };
        // A channel that cannot be named is the documented CHANNEL_INVALID.
        let Some(w) = found else {
            return Step::Answer(Err(rpc(400, "CHANNEL_INVALID")));
        };
        chats.push(world::channel_tl(w));
    }
    Step::Answer(Ok(enums::messages::Chats::Chats(types::messages::Chats {
        chats,
    })
    .to_bytes()))
}

fn messages_send_message(inner: &Inner, caller: Caller, body: &[u8]) -> Step {
    let Ok(req) = functions::messages::SendMessage::from_bytes(body) else {
        return Step::Answer(Err(invalid()));
    };
    let mut w = lock(&inner.world);
    let me = w.account(caller.auth_key_id);
    let target = match world::input_peer(me, &req.peer) {
        Ok(Some(t)) => t,
        // Peers outside the world: the documented PEER_ID_INVALID.
        Ok(None) => return Step::Answer(Err(rpc(400, "PEER_ID_INVALID"))),
        Err(e) => return Step::Answer(Err(e)),
    };
    Step::Answer(
        w.send_message(me, caller.conn, target, &req.message, date_now())
            .map(|s| s.answer.to_bytes()),
    )
}

fn updates_get_state(inner: &Inner, caller: Caller, body: &[u8]) -> Step {
    let Ok(_) = functions::updates::GetState::from_bytes(body) else {
        return Step::Answer(Err(invalid()));
    };
    let w = lock(&inner.world);
    let me = w.account(caller.auth_key_id);
    Step::Answer(Ok(w.get_state(me, date_now()).to_bytes()))
}

fn updates_get_difference(inner: &Inner, caller: Caller, body: &[u8]) -> Step {
    let Ok(req) = functions::updates::GetDifference::from_bytes(body) else {
        return Step::Answer(Err(invalid()));
    };
    let w = lock(&inner.world);
    let me = w.account(caller.auth_key_id);
    Step::Answer(Ok(w.get_difference(me, req.pts, date_now()).to_bytes()))
}

fn updates_get_channel_difference(inner: &Inner, _: Caller, body: &[u8]) -> Step {
    let Ok(req) = functions::updates::GetChannelDifference::from_bytes(body) else {
        return Step::Answer(Err(invalid()));
    };
    let channel = match &req.channel {
        enums::InputChannel::InputChannel(c) => {
            world::channel(c.channel_id).filter(|w| w.access_hash == c.access_hash)
        }
        _ => None,
    };
    let Some(channel) = channel else {
        return Step::Answer(Err(rpc(400, "CHANNEL_INVALID")));
    };
    let limit = usize::try_from(req.limit).unwrap_or(0);
    let w = lock(&inner.world);
    Step::Answer(Ok(w
        .get_channel_difference(channel.id, req.pts, limit)
        .to_bytes()))
}

/// The world's peers (access hashes checked), then the peer → error table
/// of the crate docs.
fn set_typing(inner: &Inner, me: i64, peer: &enums::InputPeer) -> Result<bool, RpcError> {
    if world::input_peer(me, peer)?.is_some() {
        return Ok(true);
    }
    match peer {
        enums::InputPeer::Empty => Err(rpc(400, "PEER_ID_INVALID")),
        enums::InputPeer::Chat(c) => match c.chat_id {
            400001 => Err(rpc(400, "CHAT_ID_INVALID")),
            400002 => Err(rpc(400, "CHAT_ADMIN_REQUIRED")),
            403001 => Err(rpc(403, "CHAT_WRITE_FORBIDDEN")),
            _ => Ok(true),
        },
        enums::InputPeer::Channel(c) => match c.channel_id {
            400101 => Err(rpc(400, "CHANNEL_INVALID")),
            400102 => Err(rpc(400, "CHANNEL_PRIVATE")),
            400103 => Err(rpc(400, "USER_BANNED_IN_CHANNEL")),
            _ => Ok(true),
        },
        enums::InputPeer::User(u) => match u.user_id {
            400201 => Err(rpc(400, "USER_IS_BLOCKED")),
            400202 => Err(rpc(400, "USER_IS_BOT")),
            400203 => Err(rpc(400, "INPUT_USER_DEACTIVATED")),
            406001 => Err(rpc(406, "AUTH_KEY_DUPLICATED")),
            400299 => Err(rpc(400, "YOU_BLOCKED_USER")),
            id @ 420000..=420999 => {
                let n = id - 420000;
                let flood = rpc(420, &format!("FLOOD_WAIT_{n}"));
                if u.access_hash <= 0 {
                    return Err(flood);
                }
                let mut floods = lock(&inner.floods);
                let pair = (id, u.access_hash);
                // Every distinct pair a peer names is a counter: at most
                // `max_flood_counters`, an arbitrary one evicted for a new one.
                if !floods.contains_key(&pair)
                    && floods.len() >= inner.limits.max_flood_counters.max(1)
                {
                    if let Some(old) = floods.keys().next().copied() {
                        floods.remove(&old);
                    }
                }
                let given = floods.entry(pair).or_insert(0);
                if *given < u.access_hash {
                    *given += 1;
                    Err(flood)
                } else {
                    Ok(true)
                }
            }
            _ => Ok(true),
        },
        _ => Ok(true),
    }
}

/// A plausible `config`: this server's DC, and every DC of its cluster in
/// `dc_options`.
fn config(inner: &Inner) -> enums::Config {
    let date = i32::try_from(now().as_secs()).unwrap_or(i32::MAX);
    let dc_options = lock(&inner.dc.table)
        .iter()
        .map(|(id, addr)| {
            enums::DcOption::DcOption(types::DcOption {
                ipv6: addr.is_ipv6(),
                media_only: false,
                tcpo_only: false,
                cdn: false,
                static_: false,
                this_port_only: true,
                id: *id,
                ip_address: addr.ip().to_string(),
                port: i32::from(addr.port()),
                secret: None,
            })
        })
        .collect();
    enums::Config::Config(types::Config {
        default_p2p_contacts: false,
        preload_featured_stickers: false,
        revoke_pm_inbox: true,
        blocked_mode: false,
        force_try_ipv6: false,
        date,
        expires: date.saturating_add(3600),
        test_mode: true,
        this_dc: inner.dc.id,
        dc_options,
        dc_txt_domain_name: "localhost".into(),
        chat_size_max: 200,
        megagroup_size_max: 200_000,
        forwarded_count_max: 100,
        online_update_period_ms: 210_000,
        offline_blur_timeout_ms: 5_000,
        offline_idle_timeout_ms: 30_000,
        online_cloud_timeout_ms: 300_000,
        notify_cloud_delay_ms: 30_000,
        notify_default_delay_ms: 1_500,
        push_chat_period_ms: 60_000,
        push_chat_limit: 2,
        edit_time_limit: 172_800,
        revoke_time_limit: i32::MAX,
        revoke_pm_time_limit: i32::MAX,
        rating_e_decay: 2_419_200,
        stickers_recent_limit: 200,
        channels_read_media_period: 604_800,
        tmp_sessions: None,
        call_receive_timeout_ms: 20_000,
        call_ring_timeout_ms: 90_000,
        call_connect_timeout_ms: 30_000,
        call_packet_timeout_ms: 10_000,
        me_url_prefix: "https://t.me/".into(),
        autoupdate_url_prefix: None,
        gif_search_username: None,
        venue_search_username: None,
        img_search_username: None,
        static_maps_provider: None,
        caption_length_max: 1024,
        message_length_max: 4096,
        webfile_dc_id: 4,
        suggested_lang_code: None,
        lang_pack_version: None,
        base_lang_pack_version: None,
        reactions_default: None,
        autologin_token: None,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn inner() -> Inner {
        Inner::for_tests(std::net::SocketAddr::from(([127, 0, 0, 1], 4430)))
    }

    fn typing(peer: enums::InputPeer) -> Vec<u8> {
        functions::messages::SetTyping {
            peer,
            top_msg_id: None,
            action: enums::SendMessageAction::SendMessageTypingAction,
        }
        .to_bytes()
    }

    fn user(user_id: i64, access_hash: i64) -> enums::InputPeer {
        enums::InputPeer::User(types::InputPeerUser {
            user_id,
            access_hash,
        })
    }

    #[test]
    fn wrappers_are_removed() {
        let i = inner();
        let wrapped = InvokeWithLayer {
            layer: mtproto_tl::api::LAYER,
            query: InitConnection {
                api_id: 1,
                device_model: "d".into(),
                system_version: "s".into(),
                app_version: "a".into(),
                system_lang_code: "en".into(),
                lang_pack: String::new(),
                lang_code: "en".into(),
                proxy: None,
                params: None,
                query: InvokeWithoutUpdates {
                    query: RawObject(typing(enums::InputPeer::InputPeerSelf)),
                },
            },
        }
        .to_bytes();
        let Handled {
            name,
            wrapped: was_wrapped,
            result: r,
            ..
        } = handle_request(&i, Caller::default(), &wrapped);
        assert_eq!(name, "messages.setTyping");
        assert!(was_wrapped);
        // boolTrue#997275b5
        assert_eq!(r.unwrap(), vec![0xb5, 0x75, 0x72, 0x99]);
        assert_eq!(i.stats.init_connections.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn unknown_and_garbage_requests() {
        let i = inner();
        let Handled { result: r, .. } =
            handle_request(&i, Caller::default(), &[0x78, 0x56, 0x34, 0x12]);
        assert_eq!(r, Err(rpc(400, "INPUT_METHOD_INVALID_305419896")));
        let Handled { result: r, .. } = handle_request(&i, Caller::default(), &[1, 2]);
        assert_eq!(r, Err(rpc(400, "INPUT_REQUEST_INVALID")));
        // setTyping id with a truncated body
        let Handled { result: r, .. } =
            handle_request(&i, Caller::default(), &[0xe2, 0x3e, 0x94, 0x58, 0]);
        assert_eq!(r, Err(rpc(400, "INPUT_REQUEST_INVALID")));
        // invokeWithLayer nested deeper than 8
        let mut b = typing(enums::InputPeer::InputPeerSelf);
        for _ in 0..9 {
            b = InvokeWithoutUpdates {
                query: RawObject(b),
            }
            .to_bytes();
        }
        let Handled { result: r, .. } = handle_request(&i, Caller::default(), &b);
        assert_eq!(r, Err(rpc(400, "INPUT_REQUEST_INVALID")));
    }

    #[test]
    fn flood_budget_per_user_and_hash() {
        let i = inner();
        let p = user(420_003, 2);
        assert_eq!(
            set_typing(&i, world::ALICE, &p),
            Err(rpc(420, "FLOOD_WAIT_3"))
        );
        assert_eq!(
            set_typing(&i, world::ALICE, &p),
            Err(rpc(420, "FLOOD_WAIT_3"))
        );
        assert_eq!(set_typing(&i, world::ALICE, &p), Ok(true));
        assert_eq!(
            set_typing(&i, world::ALICE, &user(420_003, 0)),
            Err(rpc(420, "FLOOD_WAIT_3"))
        );
        assert_eq!(
            set_typing(&i, world::ALICE, &enums::InputPeer::Empty),
            Err(rpc(400, "PEER_ID_INVALID"))
        );
        assert_eq!(set_typing(&i, world::ALICE, &user(5, 5)), Ok(true));
    }

    #[test]
    fn flood_counters_are_bounded() {
        let i = inner();
        let max = i.limits.max_flood_counters;
        for h in 1..=(i64::try_from(max).unwrap() + 100) {
            let _ = set_typing(&i, world::ALICE, &user(420_001, h));
        }
        assert_eq!(i.floods.lock().unwrap().len(), max);
        // a new pair still gets its budget
        let p = user(420_002, 1);
        assert_eq!(
            set_typing(&i, world::ALICE, &p),
            Err(rpc(420, "FLOOD_WAIT_2"))
        );
        assert_eq!(set_typing(&i, world::ALICE, &p), Ok(true));
    }

    #[test]
    fn config_decodes() {
        let c = config(&inner());
        let b = c.to_bytes();
        assert_eq!(&b[..4], &0xcc1a241e_u32.to_le_bytes());
        assert_eq!(enums::Config::from_bytes(&b).unwrap(), c);
    }
}
