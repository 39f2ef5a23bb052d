#![doc = include_str!("../README.md")]
//!
//! ## In detail
//!
//! MTProto transports as sans-IO codecs over [`bytes::BytesMut`].
//!
//! Implements the TCP envelopes of <https://core.telegram.org/mtproto/mtproto-transports>:
//! abridged, intermediate, padded intermediate, full, and transport obfuscation
//! ("obfuscated2", AES-256-CTR) wrapping abridged / intermediate / padded intermediate,
//! for both roles (client and server), plus server-side transport detection.
//!
//! The codec never performs I/O. The caller appends received bytes to a
//! [`BytesMut`](bytes::BytesMut) and calls [`Transport::decode`] until it returns
//! `Ok(None)` ("need more bytes"); to send, it calls [`Transport::encode`] and writes
//! the output buffer to the socket. Randomness (padding, obfuscated init) comes from an
//! injected [`rand::RngCore`].
//!
//! ```
//! # use bytes::BytesMut;
//! # use mtproto_transport::{Transport, TransportConfig, TransportKind};
//! let kind: TransportKind = "intermediate".parse().unwrap();
//! let cfg = TransportConfig::default();
//! let mut client = Transport::client(kind, cfg, mtproto_transport::os_rng()).unwrap();
//! let mut server = Transport::server(kind, cfg, mtproto_transport::os_rng()).unwrap();
//! let mut wire = BytesMut::new();
//! client.encode(&[1, 2, 3, 4], &mut wire).unwrap();
//! assert_eq!(&wire[..], &[0xee, 0xee, 0xee, 0xee, 4, 0, 0, 0, 1, 2, 3, 4]);
//! let frame = server.decode(&mut wire).unwrap().unwrap();
//! assert_eq!(&frame[..], &[1, 2, 3, 4]);
//! ```

mod detect;
mod error;
mod framing;
#[cfg(feature = "testing")]
#[doc(hidden)]
pub mod fuzz;
mod kind;
mod obfuscated;
mod padding;
mod transport;

pub use detect::detect;
pub use error::{TransportError, TransportErrorCode};
pub use kind::{ObfuscatedInner, ParseKindError, TransportKind};
pub use obfuscated::{
    check_init_random, ObfuscatedInit, OBFUSCATED_INIT_LEN, TAG_ABRIDGED, TAG_INTERMEDIATE,
    TAG_PADDED,
};
pub use padding::trim_mtproto_padding;
pub use transport::{os_rng, BoxRng, Frame, Role, Transport, TransportConfig};

/// Default maximum payload length accepted or produced by a transport: 16 MiB.
pub const DEFAULT_MAX_FRAME_LEN: usize = 16 * 1024 * 1024;
