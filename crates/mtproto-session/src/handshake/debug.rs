//! `Debug` for the handshake's states: they hold nonces, `new_nonce` and
//! secret DH exponents, so `Debug` shows the state's name and nothing else.

use core::fmt;

use super::client::{AwaitingDhGen, AwaitingResPq, AwaitingServerDhParams, DhGenResult};
#[cfg(feature = "server")]
use super::server::{
    AwaitingReqDhParams, AwaitingReqPq, AwaitingSetClientDhParams, SetClientDhAnswer,
    SetClientDhResult,
};
#[cfg(feature = "server")]
use super::ServerHandshake;
use super::{ClientHandshake, MsgIdSource};

macro_rules! name_only {
    ($($t:ident),* $(,)?) => {
        $(impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($t)).finish_non_exhaustive()
            }
        })*
    };
}

name_only!(AwaitingResPq, AwaitingServerDhParams, AwaitingDhGen);
#[cfg(feature = "server")]
name_only!(
    AwaitingReqPq,
    AwaitingReqDhParams,
    AwaitingSetClientDhParams
);

impl fmt::Debug for DhGenResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Done(o) => f.debug_tuple("Done").field(o).finish(),
            Self::Retry(..) => f.write_str("Retry(..)"),
        }
    }
}

#[cfg(feature = "server")]
impl fmt::Debug for SetClientDhResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Done(_, o) => f.debug_tuple("Done").field(o).finish_non_exhaustive(),
            Self::Retry(..) => f.write_str("Retry(..)"),
        }
    }
}

#[cfg(feature = "server")]
impl fmt::Debug for SetClientDhAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Done(_, o) => f.debug_tuple("Done").field(o).finish_non_exhaustive(),
            Self::Retry(..) => f.write_str("Retry(..)"),
            Self::Fail(_, e) => f.debug_tuple("Fail").field(e).finish_non_exhaustive(),
        }
    }
}

impl<M: MsgIdSource> fmt::Debug for ClientHandshake<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientHandshake")
            .field("finished", &self.is_finished())
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "server")]
impl<M: MsgIdSource> fmt::Debug for ServerHandshake<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerHandshake")
            .field("finished", &self.is_finished())
            .field("rsa_scheme", &self.rsa_scheme())
            .finish_non_exhaustive()
    }
}
