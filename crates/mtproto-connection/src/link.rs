//! The byte stream under a connection: the transport codec (detected from
//! the first bytes for a server), the bytes received and not yet framed,
//! and the bytes framed and not yet handed to the socket.

use bytes::BytesMut;
#[cfg(feature = "server")]
use mtproto_transport::{detect, TransportErrorCode};
use mtproto_transport::{BoxRng, Transport, TransportConfig, TransportError, TransportKind};

/// The transport side of a [`Connection`](crate::Connection).
pub(crate) struct Link {
    /// `None` on a server until the first bytes name the transport.
    transport: Option<Transport>,
    config: TransportConfig,
    /// For a server's transport, once detected.
    #[cfg(feature = "server")]
    rng: Option<BoxRng>,
    inbound: BytesMut,
    outbound: BytesMut,
}

impl core::fmt::Debug for Link {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Link")
            .field("kind", &self.kind())
            .field("inbound", &self.inbound.len())
            .field("outbound", &self.outbound.len())
            .finish_non_exhaustive()
    }
}

impl Link {
    /// A client link speaking `kind`.
    pub(crate) fn client(
        kind: TransportKind,
        config: TransportConfig,
        rng: BoxRng,
    ) -> Result<Self, TransportError> {
        Ok(Self {
            transport: Some(Transport::client(kind, config, rng)?),
            config,
            #[cfg(feature = "server")]
            rng: None,
            inbound: BytesMut::new(),
            outbound: BytesMut::new(),
        })
    }

    #[cfg(feature = "server")]
    /// A server link; the transport is detected from the client's first
    /// bytes.
    pub(crate) fn server(config: TransportConfig, rng: BoxRng) -> Self {
        Self {
            transport: None,
            config,
            rng: Some(rng),
            inbound: BytesMut::new(),
            outbound: BytesMut::new(),
        }
    }

    /// The transport, once known.
    pub(crate) fn kind(&self) -> Option<TransportKind> {
        self.transport.as_ref().map(Transport::kind)
    }

    /// The largest payload this link carries.
    pub(crate) fn max_payload(&self) -> usize {
        self.config.max_frame_len
    }

    /// Bytes received and not yet framed (ours, and those the transport
    /// keeps: an obfuscated stream's decrypted tail).
    pub(crate) fn buffered_inbound(&self) -> usize {
        self.inbound.len() + self.transport.as_ref().map_or(0, Transport::buffered_len)
    }

    /// Appends received bytes.
    pub(crate) fn push(&mut self, data: &[u8]) {
        self.inbound.extend_from_slice(data);
    }

    #[cfg(feature = "server")]
    /// Detects the transport from the bytes so far (server). `Ok(true)`
    /// once it is known.
    pub(crate) fn detect(&mut self) -> Result<bool, TransportError> {
        if self.transport.is_some() {
            return Ok(true);
        }
        let Some(kind) = detect(&self.inbound)? else {
            return Ok(false);
        };
        let rng = self.rng.take().unwrap_or_else(mtproto_transport::os_rng);
        self.transport = Some(Transport::server(kind, self.config, rng)?);
        Ok(true)
    }

    /// The next MTProto payload received (padding already trimmed by the
    /// transport), or `None` if more bytes are needed.
    pub(crate) fn next_payload(&mut self) -> Result<Option<BytesMut>, TransportError> {
        match self.transport.as_mut() {
            Some(t) => t.decode(&mut self.inbound),
            None => Ok(None),
        }
    }

    /// Frames `payload` for sending.
    pub(crate) fn send(&mut self, payload: &[u8]) -> Result<(), TransportError> {
        match self.transport.as_mut() {
            Some(t) => t.encode(payload, &mut self.outbound),
            None => Err(TransportError::Unsupported("no transport yet")),
        }
    }

    #[cfg(feature = "server")]
    /// Frames a transport error code (server).
    pub(crate) fn send_error(&mut self, code: TransportErrorCode) -> Result<(), TransportError> {
        match self.transport.as_mut() {
            Some(t) => t.encode_error(code, &mut self.outbound),
            None => Err(TransportError::Unsupported("no transport yet")),
        }
    }

    /// Moves the framed bytes into `out`; `false` if there were none.
    pub(crate) fn take_outbound(&mut self, out: &mut Vec<u8>) -> bool {
        if self.outbound.is_empty() {
            return false;
        }
        out.extend_from_slice(&self.outbound);
        self.outbound.clear();
        true
    }
}
