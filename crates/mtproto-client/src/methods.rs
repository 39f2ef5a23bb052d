//! Typed API methods: every function of the schema names its documented
//! errors, with no hand-written line.
//!
//! The generator gives each function `F` an error enum
//! (`mtproto_tl::api::errors::<ns>::FError`, [`Method::Error`]) with a
//! variant per error its documentation lists, taken from
//! `tl-schema/method_errors.tsv` (made from the official method pages by
//! `mtproto-method-errors`); errors carrying a number (`FLOOD_WAIT_%d`) hold
//! it, and anything else is kept verbatim in `Other`. Errors are matched by
//! name; [`TypedError::code`] is the code the server sent. [`call`] invokes
//! any function with them.
//!
//! ```
//! use mtproto_client::methods::{SetTypingError, TypedError};
//! use mtproto_client::RpcError;
//! let e = SetTypingError::from(RpcError::parse(400, "USER_IS_BOT"));
//! assert_eq!(e, SetTypingError::UserIsBot { code: 400 });
//! assert_eq!(e.description(), "Bots can't send messages to other bots");
//! // The docs say 406 for CHANNEL_PRIVATE, the reference page 400: the
//! // server decides.
//! let e = SetTypingError::from(RpcError::parse(400, "CHANNEL_PRIVATE"));
//! assert_eq!(e.code(), 400);
//! ```

use core::fmt;

use mtproto_tl::api::{enums, functions};

pub use mtproto_tl::api::errors::help::GetConfigError;
pub use mtproto_tl::api::errors::messages::SetTypingError;
pub use mtproto_tl::{Method, TypedError};

use crate::peers::{PeerError, PeerRef};
use crate::{Client, InvocationError, ResolveError};

pub use mtproto_tl::api::errors::contacts::ResolveUsernameError;
pub use mtproto_tl::api::errors::messages::SendMessageError;

/// Why a typed method call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MethodError<E> {
    /// The server answered with an error; documented ones are typed.
    Rpc(E),
    /// The call did not get an answer (timeout, disconnected, undecodable, ...).
    Invocation(InvocationError),
    /// The peer could not be resolved; nothing was sent.
    Peer(PeerError),
}

impl<E: fmt::Display> fmt::Display for MethodError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rpc(e) => write!(f, "{e}"),
            Self::Invocation(e) => write!(f, "{e}"),
            Self::Peer(e) => write!(f, "{e}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for MethodError<E> {}

impl<E> From<ResolveError> for MethodError<E> {
    fn from(e: ResolveError) -> Self {
        match e {
            ResolveError::Peer(e) => Self::Peer(e),
            ResolveError::Invocation(e) => Self::Invocation(e),
        }
    }
}

/// Invokes any function with its typed errors (with the client's
/// `FLOOD_WAIT` policy).
pub async fn call<M: Method>(
    client: &Client,
    request: &M,
) -> Result<M::Return, MethodError<M::Error>> {
    client.invoke(request).await.map_err(|e| match e {
        InvocationError::Rpc(r) => MethodError::Rpc(M::Error::from_rpc(r)),
        e => MethodError::Invocation(e),
    })
}

/// `messages.setTyping`: sends a typing (or other) action to `peer`, named
/// in any [`PeerRef`] form (`InputPeer`, username, Bot-API id, `Peer`,
/// `Message`, `Update`). `top_msg_id` targets a thread / forum topic.
pub async fn set_typing(
    client: &Client,
    peer: impl Into<PeerRef>,
    action: enums::SendMessageAction,
    top_msg_id: Option<i32>,
) -> Result<bool, MethodError<SetTypingError>> {
    let peer = client.resolve_peer(&peer.into()).await?;
    call(
        client,
        &functions::messages::SetTyping {
            peer,
            top_msg_id,
            action,
        },
    )
    .await
}

/// `messages.sendMessage`: sends a text message to `peer` (any
/// [`PeerRef`] form); `random_id` makes a re-send idempotent.
pub async fn send_message(
    client: &Client,
    peer: impl Into<PeerRef>,
    text: &str,
    random_id: i64,
) -> Result<enums::Updates, MethodError<SendMessageError>> {
    let peer = client.resolve_peer(&peer.into()).await?;
    let req = functions::messages::SendMessage {
        no_webpage: false,
        silent: false,
        background: false,
        clear_draft: false,
        noforwards: false,
        update_stickersets_order: false,
        invert_media: false,
        allow_paid_floodskip: false,
        peer,
        reply_to: None,
        message: text.to_owned(),
        random_id,
        reply_markup: None,
        entities: None,
        schedule_date: None,
        schedule_repeat_period: None,
        send_as: None,
        quick_reply_shortcut: None,
        effect: None,
        allow_paid_stars: None,
        suggested_post: None,
        rich_message: None,
    };
    call(client, &req).await
}

/// `help.getConfig`: the server's configuration (DC list, limits).
pub async fn get_config(client: &Client) -> Result<enums::Config, MethodError<GetConfigError>> {
    call(client, &functions::help::GetConfig).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RpcError;

    #[test]
    fn every_documented_error_maps_by_name_with_the_sent_code() {
        // The reference page's 11 errors keep their descriptions; the docs
        // add more.
        let described = SetTypingError::DOCUMENTED
            .iter()
            .filter(|(_, _, d)| !d.is_empty())
            .count();
        assert_eq!(described, 11);
        assert!(SetTypingError::DOCUMENTED.len() > 11);
        for (code, name, desc) in SetTypingError::DOCUMENTED {
            // Whatever code the server sends, the name decides.
            let message = name.replacen("%d", "7", 1);
            let e = SetTypingError::from(RpcError::parse(code + 1, &message));
            assert!(!matches!(e, SetTypingError::Other(_)), "{name}");
            assert_eq!(e.code(), code + 1);
            assert_eq!(e.name(), *name);
            assert_eq!(e.description(), *desc);
        }
        let other = RpcError::parse(400, "YOU_BLOCKED_USER");
        assert_eq!(
            SetTypingError::from(other.clone()),
            SetTypingError::Other(other)
        );
        let flood = RpcError::parse(420, "FLOOD_WAIT_3");
        assert_eq!(
            GetConfigError::from(flood),
            GetConfigError::FloodWait {
                code: 420,
                value: 3
            }
        );
    }
}
