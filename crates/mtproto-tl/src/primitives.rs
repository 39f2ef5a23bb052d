//! Serialization of TL's built-in types.

use std::io::Read;

use crate::{
    BareDeserialize, BareSerialize, DecodeErrorKind, Deserialize, Reader, Result, Serialize,
};

/// Id of the boxed `Vector t` constructor (`vector#1cb5c415`).
pub const VECTOR_ID: u32 = 0x1cb5_c415;
/// Id of `boolTrue`.
pub const BOOL_TRUE_ID: u32 = 0x9972_75b5;
/// Id of `boolFalse`.
pub const BOOL_FALSE_ID: u32 = 0xbc79_9737;
/// Id of `gzip_packed#3072cfa1 packed_data:bytes = Object`.
pub const GZIP_PACKED_ID: u32 = 0x3072_cfa1;

impl Serialize for i32 {
    #[inline]
    fn serialize(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}
impl Deserialize for i32 {
    #[inline]
    fn deserialize(r: &mut Reader<'_>) -> Result<Self> {
        r.read_i32()
    }
}

impl Serialize for u32 {
    #[inline]
    fn serialize(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}
impl Deserialize for u32 {
    #[inline]
    fn deserialize(r: &mut Reader<'_>) -> Result<Self> {
        r.read_u32()
    }
}

impl Serialize for i64 {
    #[inline]
    fn serialize(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}
impl Deserialize for i64 {
    const MIN_LEN: usize = 8;
    #[inline]
    fn deserialize(r: &mut Reader<'_>) -> Result<Self> {
        r.read_i64()
    }
}

impl Serialize for f64 {
    #[inline]
    fn serialize(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}
impl Deserialize for f64 {
    const MIN_LEN: usize = 8;
    #[inline]
    fn deserialize(r: &mut Reader<'_>) -> Result<Self> {
        Ok(f64::from_le_bytes(r.take_array()?))
    }
}

/// `int128` and `int256` travel as raw bytes in wire order.
impl<const N: usize> Serialize for [u8; N] {
    #[inline]
    fn serialize(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
}
impl<const N: usize> Deserialize for [u8; N] {
    const MIN_LEN: usize = N;
    #[inline]
    fn deserialize(r: &mut Reader<'_>) -> Result<Self> {
        r.take_array()
    }
}

/// `Bool`: boxed, `boolTrue` or `boolFalse`.
impl Serialize for bool {
    #[inline]
    fn serialize(&self, out: &mut Vec<u8>) {
        let id = if *self { BOOL_TRUE_ID } else { BOOL_FALSE_ID };
        id.serialize(out);
    }
}
impl Deserialize for bool {
    #[inline]
    fn deserialize(r: &mut Reader<'_>) -> Result<Self> {
        let start = r.offset();
        match r.read_u32()? {
            BOOL_TRUE_ID => Ok(true),
            BOOL_FALSE_ID => Ok(false),
            GZIP_PACKED_ID => crate::read_gzip_packed(r, bool::deserialize),
            id => Err(crate::DecodeError::new(
                DecodeErrorKind::UnknownConstructor {
                    id,
                    expected: "Bool",
                },
                start,
            )),
        }
    }
}

/// A boxed field (used to break recursive types) encodes as its content.
impl<T: Serialize + ?Sized> Serialize for Box<T> {
    #[inline]
    fn serialize(&self, out: &mut Vec<u8>) {
        (**self).serialize(out);
    }
}
impl<T: Deserialize> Deserialize for Box<T> {
    const MIN_LEN: usize = T::MIN_LEN;
    #[inline]
    fn deserialize(r: &mut Reader<'_>) -> Result<Self> {
        T::deserialize(r).map(Box::new)
    }
}

/// The longest `bytes`/`string` TL can express: the long form carries a
/// 3-byte length.
pub const MAX_TL_BYTES: usize = (1 << 24) - 1;

/// Writes the TL `bytes`/`string` encoding of `data`. Never panics.
///
/// TL has no encoding for 2^24 bytes or more. Such a value is written cut
/// to [`MAX_TL_BYTES`] with a matching length, so the output stays
/// well-formed: a reader never takes the rest of the data for the following
/// fields. It never reaches a peer either: a body that long is over every
/// transport's frame limit, and a session refuses to enqueue it with a typed
/// error (`RequestError::TooLarge` in `mtproto-session`).
#[inline]
pub fn write_tl_bytes(data: &[u8], out: &mut Vec<u8>) {
    let data = data.get(..MAX_TL_BYTES).unwrap_or(data);
    let len = data.len();
    let header = match u8::try_from(len) {
        Ok(short) if short < 254 => {
            out.push(short);
            1
        }
        _ => {
            // len <= MAX_TL_BYTES: the low three bytes hold all of it.
            let [b0, b1, b2, _] = u32::try_from(len).unwrap_or(0x00ff_ffff).to_le_bytes();
            out.extend_from_slice(&[254, b0, b1, b2]);
            4
        }
    };
    out.extend_from_slice(data);
    let pad = (header + len).next_multiple_of(4) - (header + len);
    out.extend_from_slice(&[0u8; 3][..pad]);
}

/// `bytes`: decoding copies the payload exactly once.
impl Serialize for Vec<u8> {
    #[inline]
    fn serialize(&self, out: &mut Vec<u8>) {
        write_tl_bytes(self, out);
    }
}
impl Deserialize for Vec<u8> {
    #[inline]
    fn deserialize(r: &mut Reader<'_>) -> Result<Self> {
        Ok(r.read_tl_bytes()?.to_vec())
    }
}

/// `string`: UTF-8 text in the `bytes` encoding.
impl Serialize for String {
    #[inline]
    fn serialize(&self, out: &mut Vec<u8>) {
        write_tl_bytes(self.as_bytes(), out);
    }
}
impl Deserialize for String {
    #[inline]
    fn deserialize(r: &mut Reader<'_>) -> Result<Self> {
        let start = r.offset();
        let raw = r.read_tl_bytes()?;
        match core::str::from_utf8(raw) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) => Err(crate::DecodeError::new(DecodeErrorKind::InvalidUtf8, start)),
        }
    }
}

/// Boxed `Vector<T>`: `vector#1cb5c415`, a count, then the elements.
impl<T: Serialize> Serialize for Vec<T> {
    #[inline]
    fn serialize(&self, out: &mut Vec<u8>) {
        VECTOR_ID.serialize(out);
        write_elements(self, out);
    }
}
impl<T: Deserialize> Deserialize for Vec<T> {
    const MIN_LEN: usize = 8;
    #[inline]
    fn deserialize(r: &mut Reader<'_>) -> Result<Self> {
        let start = r.offset();
        match r.read_u32()? {
            VECTOR_ID => read_elements(r),
            GZIP_PACKED_ID => crate::read_gzip_packed(r, Vec::<T>::deserialize),
            id => Err(crate::DecodeError::new(
                DecodeErrorKind::UnknownConstructor {
                    id,
                    expected: "Vector",
                },
                start,
            )),
        }
    }
}

/// Writes the `int` count, then the elements. Never panics: past
/// `i32::MAX` elements (a count TL cannot encode, and many gigabytes no
/// transport carries) only the first `i32::MAX` are written, so the output
/// stays well-formed.
#[inline]
fn write_elements<T: Serialize>(items: &[T], out: &mut Vec<u8>) {
    let count = i32::try_from(items.len()).unwrap_or(i32::MAX);
    count.serialize(out);
    let n = usize::try_from(count).unwrap_or(0);
    for item in items.iter().take(n) {
        item.serialize(out);
    }
}

#[inline]
fn read_elements<T: Deserialize>(r: &mut Reader<'_>) -> Result<Vec<T>> {
    let count = r.read_vector_len(T::MIN_LEN)?;
    r.enter()?;
    // `count` fits the bytes left at `MIN_LEN` bytes each; an element that
    // may take no bytes at all gets no up-front allocation beyond a page.
    let mut items = Vec::with_capacity(if T::MIN_LEN == 0 {
        count.min(1024)
    } else {
        count
    });
    for _ in 0..count {
        items.push(T::deserialize(r)?);
    }
    r.leave();
    Ok(items)
}

/// Bare `vector<T>`: a count then the elements, with no constructor id.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct RawVec<T>(pub Vec<T>);

impl<T: Serialize> Serialize for RawVec<T> {
    #[inline]
    fn serialize(&self, out: &mut Vec<u8>) {
        write_elements(&self.0, out);
    }
}
impl<T: Deserialize> Deserialize for RawVec<T> {
    #[inline]
    fn deserialize(r: &mut Reader<'_>) -> Result<Self> {
        read_elements(r).map(RawVec)
    }
}

/// A constructor used bare (`%T`, or a lowercase constructor name as a type):
/// serialized without its id.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Bare<T>(pub T);

impl<T: BareSerialize> Serialize for Bare<T> {
    #[inline]
    fn serialize(&self, out: &mut Vec<u8>) {
        self.0.serialize_bare(out);
    }
}
impl<T: BareDeserialize> Deserialize for Bare<T> {
    const MIN_LEN: usize = T::MIN_BARE_LEN;
    #[inline]
    fn deserialize(r: &mut Reader<'_>) -> Result<Self> {
        T::deserialize_bare(r).map(Bare)
    }
    #[inline]
    fn deserialize_into(r: &mut Reader<'_>, out: &mut Self) -> Result<()> {
        T::deserialize_bare_into(r, &mut out.0)
    }
}

/// A TL `Object` whose type is not known statically (`rpc_result`'s result,
/// a `message` body, a generic `!X` query decoded without its type): the raw
/// bytes, up to the end of the enclosing bounded reader.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct RawObject(pub Vec<u8>);

impl Serialize for RawObject {
    #[inline]
    fn serialize(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}
impl Deserialize for RawObject {
    const MIN_LEN: usize = 0;
    #[inline]
    fn deserialize(r: &mut Reader<'_>) -> Result<Self> {
        Ok(RawObject(r.take_rest().to_vec()))
    }
}
impl crate::RemoteCall for RawObject {
    type Return = RawObject;
}

/// Inflates a gzip stream, refusing to produce more than `limit` bytes.
///
/// The output buffer never holds more than `limit` bytes of capacity
/// (`read_to_end` doubles past the cap when a stream runs up to it: a
/// 16 MiB limit held 32 MiB). It starts at `limit / 2^k` (rounded up), about
/// four times the packed size, and doubles, so its last growth is from
/// about `limit / 2` to `limit`, never a full copy for a few more bytes.
pub fn inflate_limited(
    packed: &[u8],
    limit: usize,
) -> core::result::Result<Vec<u8>, DecodeErrorKind> {
    let want = packed.len().saturating_mul(4).max(64);
    let mut cap = limit;
    while cap > want {
        cap = cap.div_ceil(2);
    }
    let mut out = Vec::with_capacity(cap);
    let mut decoder = flate2::read::GzDecoder::new(packed);
    let mut chunk = [0u8; 8 << 10];
    loop {
        let n = match decoder.read(&mut chunk) {
            Ok(0) => return Ok(out),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return Err(DecodeErrorKind::Gzip),
        };
        if n > limit - out.len() {
            return Err(DecodeErrorKind::GzipTooLarge { limit });
        }
        if out.capacity() - out.len() < n {
            let grown = out
                .capacity()
                .saturating_mul(2)
                .max(out.len() + n)
                .min(limit);
            out.reserve_exact(grown - out.len());
        }
        out.extend_from_slice(&chunk[..n]);
    }
}

/// Compresses `data` as a gzip stream (for building `gzip_packed`).
pub fn deflate(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}
