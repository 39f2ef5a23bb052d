//! The [`Transport`] codec: framing + optional obfuscation + tag handling, both roles.

use std::fmt;

use bytes::BytesMut;
use ctr::cipher::StreamCipher;
use rand::RngCore;

use crate::framing::Framing;
pub use crate::framing::{Frame, Role};
use crate::obfuscated::{server_accept, Ciphers, ObfuscatedInit, OBFUSCATED_INIT_LEN};
use crate::{ObfuscatedInner, TransportError, TransportKind, DEFAULT_MAX_FRAME_LEN};

/// A boxed random source (padding bytes, obfuscated init).
pub type BoxRng = Box<dyn RngCore + Send>;

/// The operating system's RNG, boxed for [`Transport`] constructors.
pub fn os_rng() -> BoxRng {
    Box::new(rand::rngs::OsRng)
}

/// Settings shared by all transports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransportConfig {
    /// Largest payload accepted by `decode` or `encode`, in bytes (padding of the
    /// padded intermediate transport not counted). Checked on the length header, before
    /// anything is allocated. Default [`DEFAULT_MAX_FRAME_LEN`] (16 MiB).
    pub max_frame_len: usize,
    /// Obfuscated clients only: DC id written at init bytes 60..62 (signed little-endian;
    /// +10000 for test DCs, negative for media DCs). `None` leaves those bytes random.
    pub dc_id: Option<i16>,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            dc_id: None,
        }
    }
}

/// What the server still has to consume before the first frame.
enum RxHeader {
    /// Nothing (client role, full transport, or already consumed).
    Done,
    /// A plain tag: `0xef`, `0xeeeeeeee` or `0xdddddddd`.
    Tag(&'static [u8]),
    /// A 64-byte obfuscated init announcing this inner transport.
    ObfuscatedInit(ObfuscatedInner),
}

/// Obfuscation state of one connection.
struct Obfuscation {
    ciphers: Ciphers,
    /// Decrypted bytes not yet framed.
    plain: BytesMut,
}

/// A sans-IO MTProto transport codec for one connection and one role.
///
/// Modelled on `tokio_util::codec::Decoder`: [`decode`](Self::decode) reserves room for
/// the next bytes of a partial frame (at most 64 KiB beyond what arrived, whatever
/// length its header announces) and splits complete frames off the buffer with
/// `split_to` (no copy). For obfuscated transports every received byte is consumed
/// (decrypted into an internal buffer) and frames are split off that buffer.
pub struct Transport {
    kind: TransportKind,
    role: Role,
    config: TransportConfig,
    framing: Framing,
    rng: BoxRng,
    /// Client: bytes to send before the first frame (tag or obfuscated init).
    tx_header: Option<Vec<u8>>,
    rx_header: RxHeader,
    obfuscation: Option<Obfuscation>,
    /// Server of an obfuscated connection: the DC id from the init.
    peer_dc_id: Option<i16>,
    poisoned: bool,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("kind", &self.kind)
            .field("role", &self.role)
            .field("config", &self.config)
            .field("poisoned", &self.poisoned)
            .finish_non_exhaustive()
    }
}

fn plain_framing(kind: TransportKind) -> Framing {
    match kind {
        TransportKind::Abridged | TransportKind::Obfuscated(ObfuscatedInner::Abridged) => {
            Framing::Abridged
        }
        TransportKind::Intermediate | TransportKind::Obfuscated(ObfuscatedInner::Intermediate) => {
            Framing::Intermediate
        }
        TransportKind::PaddedIntermediate
        | TransportKind::Obfuscated(ObfuscatedInner::PaddedIntermediate) => Framing::Padded,
        TransportKind::Full => Framing::Full {
            send_seq: 0,
            recv_seq: 0,
        },
    }
}

/// The tag a client sends first on a plain connection.
fn plain_tag(kind: TransportKind) -> Option<&'static [u8]> {
    match kind {
        // "the client must first send 0xef as the first byte"
        TransportKind::Abridged => Some(&[0xef]),
        // "the client must first send 0xeeeeeeee as the first int"
        TransportKind::Intermediate => Some(&crate::TAG_INTERMEDIATE),
        // "the client must first send 0xdddddddd as the first int"
        TransportKind::PaddedIntermediate => Some(&crate::TAG_PADDED),
        TransportKind::Full | TransportKind::Obfuscated(_) => None,
    }
}

impl Transport {
    fn new(kind: TransportKind, role: Role, config: TransportConfig, rng: BoxRng) -> Self {
        Self {
            kind,
            role,
            config,
            framing: plain_framing(kind),
            rng,
            tx_header: None,
            rx_header: RxHeader::Done,
            obfuscation: None,
            peer_dc_id: None,
            poisoned: false,
        }
    }

    /// A client transport. The tag (or, for obfuscated kinds, a fresh init drawn from
    /// `rng` with `config.dc_id`) is sent before the first frame. `rng` also provides
    /// padding for the padded intermediate transport.
    pub fn client(
        kind: TransportKind,
        config: TransportConfig,
        mut rng: BoxRng,
    ) -> Result<Self, TransportError> {
        match kind {
            TransportKind::Obfuscated(inner) => {
                let init = ObfuscatedInit::generate(rng.as_mut(), inner, config.dc_id)?;
                Ok(Self::obfuscated_client(init, config, rng))
            }
            _ => {
                let mut t = Self::new(kind, Role::Client, config, rng);
                t.tx_header = plain_tag(kind).map(<[u8]>::to_vec);
                Ok(t)
            }
        }
    }

    /// An obfuscated client using a given init (deterministic: the init's random bytes
    /// were injected by the caller, see [`ObfuscatedInit::from_random`]).
    /// `config.dc_id` is ignored (the init already holds it).
    pub fn obfuscated_client(init: ObfuscatedInit, config: TransportConfig, rng: BoxRng) -> Self {
        let kind = TransportKind::Obfuscated(init.inner());
        let mut t = Self::new(kind, Role::Client, config, rng);
        let (ciphers, wire) = init.client_ciphers();
        t.tx_header = Some(wire.to_vec());
        t.obfuscation = Some(Obfuscation {
            ciphers,
            plain: BytesMut::new(),
        });
        t
    }

    /// A server transport for a connection whose client speaks `kind` (see
    /// [`detect`](crate::detect)). The server consumes the client's tag or 64-byte obfuscated init
    /// from the first bytes passed to [`decode`](Self::decode) and sends no header.
    /// `rng` provides padding for padded intermediate.
    pub fn server(
        kind: TransportKind,
        config: TransportConfig,
        rng: BoxRng,
    ) -> Result<Self, TransportError> {
        let mut t = Self::new(kind, Role::Server, config, rng);
        t.rx_header = match kind {
            TransportKind::Obfuscated(inner) => RxHeader::ObfuscatedInit(inner),
            _ => plain_tag(kind).map_or(RxHeader::Done, RxHeader::Tag),
        };
        Ok(t)
    }

    /// The transport kind.
    pub fn kind(&self) -> TransportKind {
        self.kind
    }

    /// The role (client or server).
    pub fn role(&self) -> Role {
        self.role
    }

    /// The configuration.
    pub fn config(&self) -> &TransportConfig {
        &self.config
    }

    /// Server of an obfuscated connection: the DC id decoded from init bytes 60..62,
    /// once the init has been received.
    pub fn peer_dc_id(&self) -> Option<i16> {
        self.peer_dc_id
    }

    /// Client: appends the tag / obfuscated init to `out` if it has not been sent yet.
    /// [`encode`](Self::encode) does this automatically before the first frame.
    pub fn write_header(&mut self, out: &mut BytesMut) {
        if let Some(h) = self.tx_header.take() {
            out.extend_from_slice(&h);
        }
    }

    /// Appends `payload` framed (and encrypted, for obfuscated kinds) to `out`, preceded
    /// by the client's tag / init the first time. On error `out` is unchanged.
    pub fn encode(&mut self, payload: &[u8], out: &mut BytesMut) -> Result<(), TransportError> {
        self.encode_with(payload, false, out)
    }

    /// Like [`encode`](Self::encode); `quick_ack` (client only, not on the full
    /// transport) sets the quick-ACK request bit of the envelope.
    pub fn encode_with(
        &mut self,
        payload: &[u8],
        quick_ack: bool,
        out: &mut BytesMut,
    ) -> Result<(), TransportError> {
        let mark = out.len();
        let header = self.tx_header.as_deref().map_or(0, <[u8]>::len);
        if let Some(h) = &self.tx_header {
            out.extend_from_slice(h);
        }
        let body = mark + header;
        let role = self.role;
        let max = self.config.max_frame_len;
        match self
            .framing
            .encode(role, payload, quick_ack, max, self.rng.as_mut(), out)
        {
            Ok(()) => {
                self.tx_header = None;
                self.encrypt_from(body, out);
                Ok(())
            }
            Err(e) => {
                out.truncate(mark);
                Err(e)
            }
        }
    }

    /// Server: appends a standalone quick-ACK packet for `token` (its MSB is forced on).
    pub fn encode_quick_ack(
        &mut self,
        token: u32,
        out: &mut BytesMut,
    ) -> Result<(), TransportError> {
        if self.role != Role::Server {
            return Err(TransportError::Unsupported(
                "only servers send quick-ACK tokens",
            ));
        }
        let body = out.len();
        self.framing
            .encode_quick_ack(token, self.rng.as_mut(), out)?;
        self.encrypt_from(body, out);
        Ok(())
    }

    /// Appends a transport error frame: the 4-byte little-endian `code`, which must be
    /// negative (e.g. [`TransportErrorCode::AUTH_KEY_NOT_FOUND`](crate::TransportErrorCode::AUTH_KEY_NOT_FOUND)).
    pub fn encode_error(
        &mut self,
        code: crate::TransportErrorCode,
        out: &mut BytesMut,
    ) -> Result<(), TransportError> {
        if code.0 >= 0 {
            return Err(TransportError::Unsupported(
                "transport error codes are negative",
            ));
        }
        self.encode(&code.0.to_le_bytes(), out)
    }

    fn encrypt_from(&mut self, body: usize, out: &mut BytesMut) {
        if let Some(o) = &mut self.obfuscation {
            if let Some(tail) = out.get_mut(body..) {
                o.ciphers.enc.apply_keystream(tail);
            }
        }
    }

    /// Splits the next MTProto payload off `buf`.
    ///
    /// `Ok(None)`: more bytes are needed. Quick-ACK tokens are skipped (use
    /// [`decode_frame`](Self::decode_frame) to see them). For the padded
    /// intermediate transport (also inside obfuscation) the random padding
    /// is cut off here with [`trim_mtproto_padding`](crate::trim_mtproto_padding),
    /// so every caller gets the MTProto message alone. A transport error
    /// packet from the peer gives `Err(TransportError::Remote(code))`; every
    /// other error is fatal.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<BytesMut>, TransportError> {
        loop {
            match self.decode_frame(buf)? {
                None => return Ok(None),
                Some(Frame::Payload { mut data, .. }) => {
                    if self.kind.is_padded() {
                        crate::trim_mtproto_padding(&mut data);
                    }
                    return Ok(Some(data));
                }
                Some(Frame::QuickAck(_)) => continue,
            }
        }
    }

    /// Bytes this transport holds internally, received but not yet framed (the
    /// decrypted tail of an obfuscated stream; always 0 for plain transports, whose
    /// partial frames stay in the caller's buffer).
    pub fn buffered_len(&self) -> usize {
        self.obfuscation.as_ref().map_or(0, |o| o.plain.len())
    }

    /// Splits the next frame (payload or quick ACK) off `buf`; see [`decode`](Self::decode).
    pub fn decode_frame(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, TransportError> {
        if self.poisoned {
            return Err(TransportError::Poisoned);
        }
        let r = self.decode_inner(buf);
        if let Err(e) = &r {
            if !matches!(e, TransportError::Remote(_)) {
                self.poisoned = true;
            }
        }
        r
    }

    fn decode_inner(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, TransportError> {
        if !self.consume_header(buf)? {
            return Ok(None);
        }
        let role = self.role;
        let max = self.config.max_frame_len;
        match &mut self.obfuscation {
            None => self.framing.decode(role, max, buf),
            Some(o) => {
                if !buf.is_empty() {
                    let mut chunk = buf.split();
                    o.ciphers.dec.apply_keystream(&mut chunk);
                    if o.plain.is_empty() {
                        o.plain = chunk;
                    } else {
                        o.plain.unsplit(chunk);
                    }
                }
                self.framing.decode(role, max, &mut o.plain)
            }
        }
    }

    /// Server: consumes the client's tag or obfuscated init. `Ok(false)`: need more.
    fn consume_header(&mut self, buf: &mut BytesMut) -> Result<bool, TransportError> {
        match self.rx_header {
            RxHeader::Done => Ok(true),
            RxHeader::Tag(tag) => {
                let n = buf.len().min(tag.len());
                if buf.get(..n) != tag.get(..n) {
                    return Err(TransportError::BadTag);
                }
                if n < tag.len() {
                    buf.reserve(tag.len() - n);
                    return Ok(false);
                }
                let _ = buf.split_to(tag.len());
                self.rx_header = RxHeader::Done;
                Ok(true)
            }
            RxHeader::ObfuscatedInit(expected) => {
                let Some(init) = buf.get(..OBFUSCATED_INIT_LEN) else {
                    buf.reserve(OBFUSCATED_INIT_LEN - buf.len());
                    return Ok(false);
                };
                let mut wire = [0u8; OBFUSCATED_INIT_LEN];
                wire.copy_from_slice(init);
                let accepted = server_accept(&wire);
                if accepted.inner != Some(expected) {
                    return Err(TransportError::BadTag);
                }
                let _ = buf.split_to(OBFUSCATED_INIT_LEN);
                self.peer_dc_id = Some(accepted.dc_id);
                self.obfuscation = Some(Obfuscation {
                    ciphers: accepted.ciphers,
                    plain: BytesMut::new(),
                });
                self.rx_header = RxHeader::Done;
                Ok(true)
            }
        }
    }
}
