//! Helpers the generated code calls. They are public so that generated code
//! (and hand-written types following the same conventions) can use them.

use crate::{
    BareDeserialize, DecodeError, DecodeErrorKind, Deserialize, Identifiable, Reader, Result,
    Serialize,
};

/// Reads a boxed value whose id must be `T::CONSTRUCTOR_ID`; a `gzip_packed`
/// wrapper is inflated transparently. `name` (the TL name) is reported when
/// the id does not match.
#[inline(always)]
pub fn read_boxed<T: Identifiable + BareDeserialize>(
    r: &mut Reader<'_>,
    name: &'static str,
) -> Result<T> {
    let id = r.read_u32()?;
    if id == T::CONSTRUCTOR_ID {
        r.enter()?;
        let v = T::deserialize_bare(r)?;
        r.leave();
        return Ok(v);
    }
    read_unlisted(r, id, name, |r| read_boxed::<T>(r, name))
}

/// A value that costs nothing to build or drop (zeros, empty strings and
/// vectors, `None`, a variant without data): what in-place decoding starts
/// from. Generated types implement it when they can hold such a value (not
/// those that always contain a `Box`).
///
/// A function rather than an associated constant: a constant of a large
/// enum or struct is copied from static memory as a whole, while the
/// function, inlined, stores only the discriminants and the few scalars.
pub trait Placeholder {
    /// The placeholder value.
    fn placeholder() -> Self;
}

macro_rules! placeholder {
    ($($t:ty = $v:expr),* $(,)?) => {
        $(impl Placeholder for $t {
            #[inline(always)]
            fn placeholder() -> Self {
                $v
            }
        })*
    };
}
placeholder! {
    i32 = 0,
    u32 = 0,
    i64 = 0,
    f64 = 0.0,
    bool = false,
    String = String::new(),
    crate::RawObject = crate::RawObject(Vec::new()),
}
impl<const N: usize> Placeholder for [u8; N] {
    #[inline(always)]
    fn placeholder() -> Self {
        [0; N]
    }
}
impl<T> Placeholder for Vec<T> {
    #[inline(always)]
    fn placeholder() -> Self {
        Vec::new()
    }
}
impl<T> Placeholder for Option<T> {
    #[inline(always)]
    fn placeholder() -> Self {
        None
    }
}
impl<T> Placeholder for crate::RawVec<T> {
    #[inline(always)]
    fn placeholder() -> Self {
        crate::RawVec(Vec::new())
    }
}
impl<T: Placeholder> Placeholder for crate::Bare<T> {
    #[inline(always)]
    fn placeholder() -> Self {
        crate::Bare(T::placeholder())
    }
}

/// Calls `f` on a copy of `r` and copies the position back. Generated
/// decoders call out-of-line decoders through this so that the caller's
/// reader never has its address taken: the optimizer then keeps it in
/// registers instead of storing and reloading it around every read.
#[inline(always)]
pub fn outlined<'a, T>(
    r: &mut Reader<'a>,
    f: impl FnOnce(&mut Reader<'a>) -> Result<T>,
) -> Result<T> {
    let mut local = r.clone();
    let v = f(&mut local);
    *r = local;
    v
}

/// The cold path of a generated enum decoder, for an `id` (already read)
/// that is none of the enum's constructors: a `gzip_packed` wrapper is
/// inflated and decoded with `decode`; anything else is an
/// [`DecodeErrorKind::UnknownConstructor`] error at the id's offset.
#[cold]
#[inline(never)]
pub fn read_unlisted<T>(
    r: &mut Reader<'_>,
    id: u32,
    expected: &'static str,
    decode: impl FnOnce(&mut Reader<'_>) -> Result<T>,
) -> Result<T> {
    if id == crate::GZIP_PACKED_ID {
        return crate::read_gzip_packed(r, decode);
    }
    Err(unknown_constructor(
        id,
        expected,
        r.offset().saturating_sub(4),
    ))
}

/// `N` bytes of `buf` from `at` (zeros if out of range, which generated
/// code never asks for: it passes constant offsets into a fixed array, so
/// the check folds away).
#[inline(always)]
pub fn array_at<const N: usize>(buf: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(s) = at.checked_add(N).and_then(|end| buf.get(at..end)) {
        out.copy_from_slice(s);
    }
    out
}

/// An [`DecodeErrorKind::UnknownConstructor`] error at `offset`.
#[cold]
pub fn unknown_constructor(id: u32, expected: &'static str, offset: usize) -> DecodeError {
    DecodeError::new(DecodeErrorKind::UnknownConstructor { id, expected }, offset)
}

/// Writes an `int` length, then whatever `body` writes, back-filling the
/// length (the `message msg_id:long seqno:int bytes:int body:Object` layout).
pub fn write_len_prefixed(out: &mut Vec<u8>, body: impl FnOnce(&mut Vec<u8>)) {
    let at = out.len();
    out.extend_from_slice(&[0u8; 4]);
    body(out);
    let len = out.len().saturating_sub(at + 4);
    let len = i32::try_from(len).unwrap_or(i32::MAX);
    if let Some(slot) = out.get_mut(at..at + 4) {
        slot.copy_from_slice(&len.to_le_bytes());
    }
}

/// Reads an `int` length, then exactly one `T` from a reader bounded to that
/// many bytes.
pub fn read_len_prefixed<T: Deserialize>(r: &mut Reader<'_>) -> Result<T> {
    let start = r.offset();
    let raw = r.read_i32()?;
    let len = usize::try_from(raw)
        .map_err(|_| DecodeError::new(DecodeErrorKind::InvalidLength(i64::from(raw)), start))?;
    if len > r.remaining() {
        return Err(DecodeError::new(
            DecodeErrorKind::LengthTooLarge {
                len,
                remaining: r.remaining(),
            },
            start,
        ));
    }
    let body_start = r.offset();
    let mut sub = r.sub(len)?;
    let v = T::deserialize(&mut sub);
    r.absorb(&sub);
    let v = v.map_err(|e| DecodeError::new(e.kind, body_start + e.offset))?;
    sub.finish()
        .map_err(|e| DecodeError::new(e.kind, body_start + e.offset))?;
    Ok(v)
}

/// Decodes exactly one `T` from `buf` and serializes it again.
pub fn reencode<T: Serialize + Deserialize>(buf: &[u8]) -> Result<Vec<u8>> {
    Ok(T::from_bytes(buf)?.to_bytes())
}
