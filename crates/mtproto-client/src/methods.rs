//! Typed API methods: each method names its documented errors.
//!
//! Adding a method is two steps:
//!
//! 1. declare its errors with [`rpc_errors!`](crate::rpc_errors) (code, name,
//!    description, from the method's documentation);
//! 2. `impl Method for functions::x::Y { type Error = YError; }` and, if
//!    wanted, a small `async fn y(client, ..)` that builds the request and calls
//!    [`call`].
//!
//! Errors the documentation does not list are kept verbatim in the `Other`
//! variant.
//!
//! ```
//! use mtproto_client::methods::SetTypingError;
//! use mtproto_client::RpcError;
//! let e = SetTypingError::from(RpcError::parse(400, "USER_IS_BOT"));
//! assert_eq!(e, SetTypingError::UserIsBot);
//! assert_eq!(e.description(), "Bots can't send messages to other bots");
//! ```

use core::fmt;

use mtproto_tl::api::{enums, functions};
use mtproto_tl::RemoteCall;

use crate::{Client, InvocationError, RpcError};

/// A TL function with typed errors.
pub trait Method: RemoteCall {
    /// The method's documented errors (plus `Other`).
    type Error: From<RpcError> + fmt::Debug;
}

/// Why a typed method call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MethodError<E> {
    /// The server answered with an error; documented ones are typed.
    Rpc(E),
    /// The call did not get an answer (timeout, disconnected, undecodable, ...).
    Invocation(InvocationError),
}

impl<E: fmt::Display> fmt::Display for MethodError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rpc(e) => write!(f, "{e}"),
            Self::Invocation(e) => write!(f, "{e}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for MethodError<E> {}

/// Invokes a typed method (with the client's `FLOOD_WAIT` policy).
pub async fn call<M: Method>(
    client: &Client,
    request: &M,
) -> Result<M::Return, MethodError<M::Error>> {
    client.invoke(request).await.map_err(|e| match e {
        InvocationError::Rpc(r) => MethodError::Rpc(r.into()),
        e => MethodError::Invocation(e),
    })
}

/// Declares a method's error enum: one variant per documented error, plus
/// `Other(RpcError)` for anything else.
///
/// ```
/// mtproto_client::rpc_errors! {
///     /// Errors of a made-up method.
///     pub enum FooError {
///         400 BarInvalid = "BAR_INVALID": "The bar is invalid",
///     }
/// }
/// let e = FooError::from(mtproto_client::RpcError::parse(400, "BAR_INVALID"));
/// assert_eq!(e, FooError::BarInvalid);
/// assert_eq!(e.code(), 400);
/// ```
#[macro_export]
macro_rules! rpc_errors {
    ($(#[$meta:meta])* pub enum $name:ident {
        $($code:literal $variant:ident = $text:literal : $desc:literal),* $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub enum $name {
            $(
                #[doc = concat!("`", stringify!($code), " ", $text, "`: ", $desc, ".")]
                $variant,
            )*
            /// An error the documentation does not list, kept verbatim.
            Other($crate::RpcError),
        }

        impl $name {
            /// Every documented error: (code, name, description).
            pub const DOCUMENTED: &'static [(i32, &'static str, &'static str)] =
                &[$(($code, $text, $desc)),*];

            /// The error code.
            pub fn code(&self) -> i32 {
                match self {
                    $(Self::$variant => $code,)*
                    Self::Other(e) => e.code,
                }
            }

            /// The error name as the server sends it.
            pub fn name(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)*
                    Self::Other(e) => &e.name,
                }
            }

            /// The documented description (empty for `Other`).
            pub fn description(&self) -> &'static str {
                match self {
                    $(Self::$variant => $desc,)*
                    Self::Other(_) => "",
                }
            }
        }

        impl From<$crate::RpcError> for $name {
            fn from(e: $crate::RpcError) -> Self {
                if e.value.is_none() {
                    $(if e.name == $text { return Self::$variant; })*
                }
                Self::Other(e)
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                write!(f, "rpc error {}: {}", self.code(), self.name())?;
                let d = self.description();
                if !d.is_empty() {
                    write!(f, " ({d})")?;
                }
                Ok(())
            }
        }

        impl ::std::error::Error for $name {}
    };
}

rpc_errors! {
    /// Errors of `messages.setTyping` (as documented for the method).
    pub enum SetTypingError {
        400 ChannelInvalid = "CHANNEL_INVALID": "The provided channel is invalid",
        400 ChannelPrivate = "CHANNEL_PRIVATE": "You haven't joined this channel/supergroup",
        400 ChatAdminRequired = "CHAT_ADMIN_REQUIRED": "You must be an admin in this chat to do this",
        400 ChatIdInvalid = "CHAT_ID_INVALID": "The provided chat id is invalid",
        400 InputUserDeactivated = "INPUT_USER_DEACTIVATED": "The specified user was deleted",
        400 PeerIdInvalid = "PEER_ID_INVALID": "The provided peer id is invalid",
        400 UserBannedInChannel = "USER_BANNED_IN_CHANNEL": "You're banned from sending messages in supergroups/channels",
        400 UserIsBlocked = "USER_IS_BLOCKED": "You were blocked by this user",
        400 UserIsBot = "USER_IS_BOT": "Bots can't send messages to other bots",
        406 AuthKeyDuplicated = "AUTH_KEY_DUPLICATED": "An auth key with the same ID was already generated",
        403 ChatWriteForbidden = "CHAT_WRITE_FORBIDDEN": "You can't write in this chat",
    }
}

rpc_errors! {
    /// Errors of `help.getConfig` (none documented: everything is `Other`).
    pub enum GetConfigError {}
}

impl Method for functions::messages::SetTyping {
    type Error = SetTypingError;
}

impl Method for functions::help::GetConfig {
    type Error = GetConfigError;
}

/// `messages.setTyping`: sends a typing (or other) action to `peer`.
/// `top_msg_id` targets a thread / forum topic.
pub async fn set_typing(
    client: &Client,
    peer: enums::InputPeer,
    action: enums::SendMessageAction,
    top_msg_id: Option<i32>,
) -> Result<bool, MethodError<SetTypingError>> {
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

/// `help.getConfig`: the server's configuration (DC list, limits).
pub async fn get_config(client: &Client) -> Result<enums::Config, MethodError<GetConfigError>> {
    call(client, &functions::help::GetConfig).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_error_maps() {
        assert_eq!(SetTypingError::DOCUMENTED.len(), 11);
        for (code, name, desc) in SetTypingError::DOCUMENTED {
            let e = SetTypingError::from(RpcError::parse(*code, name));
            assert!(!matches!(e, SetTypingError::Other(_)), "{name}");
            assert_eq!(e.code(), *code);
            assert_eq!(e.name(), *name);
            assert_eq!(e.description(), *desc);
        }
        let other = RpcError::parse(400, "YOU_BLOCKED_USER");
        assert_eq!(
            SetTypingError::from(other.clone()),
            SetTypingError::Other(other)
        );
        let flood = RpcError::parse(420, "FLOOD_WAIT_3");
        assert!(matches!(
            GetConfigError::from(flood),
            GetConfigError::Other(_)
        ));
    }
}
