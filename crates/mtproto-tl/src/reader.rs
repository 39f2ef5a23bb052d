//! A bounded, zero-copy reader over a byte slice.

use crate::error::{DecodeError, DecodeErrorKind, Result};

/// Limits applied while decoding untrusted input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Maximum nesting of recursive constructors (those containing, directly
    /// or not, a value of their own type), `gzip_packed` payloads and vectors.
    pub max_depth: u32,
    /// Maximum size of one inflated `gzip_packed` payload, in bytes.
    pub max_gzip_size: usize,
    /// Maximum bytes inflated in total while decoding one input, however
    /// many `gzip_packed` objects it holds and however they nest (the
    /// amplification bound: a vector of small gzip bombs must not add up to
    /// gigabytes).
    pub max_inflated_total: usize,
}

impl Limits {
    /// The defaults: depth 64, gzip payloads up to 16 MiB, and 16 MiB
    /// inflated in total.
    pub const DEFAULT: Limits = Limits {
        max_depth: 64,
        max_gzip_size: 16 << 20,
        max_inflated_total: 16 << 20,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A reader over a byte slice that shrinks as it is consumed.
///
/// Every read checks the bytes left before touching them, so no decoder can
/// read past the end, and no length prefix can make it allocate more than the
/// input holds.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    /// The unread bytes.
    rest: &'a [u8],
    /// Length of the whole buffer (offset = len - rest.len()).
    len: usize,
    depth: u32,
    limits: Limits,
    /// Bytes inflated so far by this reader and the readers of the
    /// `gzip_packed` payloads inside it (against
    /// [`Limits::max_inflated_total`]).
    inflated: usize,
}

/// Cold path of every short read, kept out of line so the happy path of the
/// inlined readers is a compare and a pointer bump.
#[cold]
#[inline(never)]
fn eof(offset: usize, needed: usize) -> DecodeError {
    DecodeError::new(DecodeErrorKind::UnexpectedEof { needed }, offset)
}

impl<'a> Reader<'a> {
    /// A reader over `buf` with the default [`Limits`].
    #[inline]
    pub fn new(buf: &'a [u8]) -> Self {
        Self::with_limits(buf, Limits::DEFAULT)
    }

    /// A reader over `buf` with explicit limits.
    #[inline]
    pub fn with_limits(buf: &'a [u8], limits: Limits) -> Self {
        Self {
            rest: buf,
            len: buf.len(),
            depth: 0,
            limits,
            inflated: 0,
        }
    }

    /// Bytes inflated so far while decoding this input (every `gzip_packed`
    /// payload inside it, nested ones included).
    #[inline]
    pub fn inflated(&self) -> usize {
        self.inflated
    }

    /// How many more bytes may be inflated under
    /// [`Limits::max_inflated_total`], capped by [`Limits::max_gzip_size`]
    /// (the most one payload may inflate to now).
    #[inline]
    pub fn inflate_allowance(&self) -> usize {
        self.limits
            .max_inflated_total
            .saturating_sub(self.inflated)
            .min(self.limits.max_gzip_size)
    }

    /// Counts `n` inflated bytes against the total.
    #[inline]
    pub fn add_inflated(&mut self, n: usize) {
        self.inflated = self.inflated.saturating_add(n);
    }

    /// The limits in force.
    #[inline]
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Current nesting depth.
    #[inline]
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// Byte offset of the next read.
    #[inline]
    pub fn offset(&self) -> usize {
        self.len - self.rest.len()
    }

    /// Bytes left to read.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// The unread bytes, without consuming them.
    #[inline]
    pub fn rest(&self) -> &'a [u8] {
        self.rest
    }

    /// An error of `kind` at the current offset.
    #[cold]
    pub fn error(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError::new(kind, self.offset())
    }

    /// Takes the next `n` bytes, or fails without consuming anything.
    #[inline]
    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        match self.rest.split_at_checked(n) {
            Some((out, rest)) => {
                self.rest = rest;
                Ok(out)
            }
            None => Err(eof(self.offset(), n - self.rest.len())),
        }
    }

    /// Takes the next `N` bytes as an array.
    #[inline]
    pub fn take_array<const N: usize>(&mut self) -> Result<[u8; N]> {
        match self.rest.split_first_chunk::<N>() {
            Some((out, rest)) => {
                self.rest = rest;
                Ok(*out)
            }
            None => Err(eof(self.offset(), N - self.rest.len())),
        }
    }

    /// Borrows the next `N` bytes as an array reference (no copy: fields
    /// are then loaded straight from the input).
    #[inline]
    pub fn take_chunk<const N: usize>(&mut self) -> Result<&'a [u8; N]> {
        match self.rest.split_first_chunk::<N>() {
            Some((out, rest)) => {
                self.rest = rest;
                Ok(out)
            }
            None => Err(eof(self.offset(), N - self.rest.len())),
        }
    }

    /// Takes everything left.
    #[inline]
    pub fn take_rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.rest)
    }

    /// Reads a little-endian `u32` (a constructor id, for example).
    #[inline]
    pub fn read_u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take_array()?))
    }

    /// Reads a little-endian `i32`.
    #[inline]
    pub fn read_i32(&mut self) -> Result<i32> {
        Ok(i32::from_le_bytes(self.take_array()?))
    }

    /// Reads a little-endian `i64`.
    #[inline]
    pub fn read_i64(&mut self) -> Result<i64> {
        Ok(i64::from_le_bytes(self.take_array()?))
    }

    /// Reads the next `u32` without consuming it.
    #[inline]
    pub fn peek_u32(&self) -> Result<u32> {
        match self.rest.first_chunk::<4>() {
            Some(b) => Ok(u32::from_le_bytes(*b)),
            None => Err(eof(self.offset(), 4 - self.rest.len())),
        }
    }

    /// Reads the payload of a TL `bytes`/`string`: a 1-byte length (0..=253),
    /// or 254 followed by a 3-byte little-endian length (254 or more), then
    /// the data, then zero to three zero bytes of padding up to a multiple of
    /// four. Borrows. Only the canonical encoding is accepted (the one
    /// [`crate::write_tl_bytes`] produces), so decoding then encoding gives
    /// back the input bytes; anything else is
    /// [`DecodeErrorKind::NonCanonicalBytes`] at the value's first byte.
    #[inline]
    pub fn read_tl_bytes(&mut self) -> Result<&'a [u8]> {
        let start = self.offset();
        let Some((&first, after)) = self.rest.split_first() else {
            return Err(eof(start, 1));
        };
        // serialize.html: "If L <= 253, the serialization contains one byte
        // with the value of L, then L bytes of the string followed by 0 to 3
        // characters containing 0, such that the overall length of the value
        // be divisible by 4 [...] If L >= 254, the serialization contains
        // byte 254, followed by 3 bytes with the string length L, followed by
        // L bytes of the string, further followed by 0 to 3 null padding
        // bytes."
        let (len, header, body) = if first < 254 {
            (usize::from(first), 1, after)
        } else if first == 254 {
            let Some((l, body)) = after.split_first_chunk::<3>() else {
                return Err(eof(start + 1, 3 - after.len()));
            };
            let len = usize::from(l[0]) | usize::from(l[1]) << 8 | usize::from(l[2]) << 16;
            // The long form is for L >= 254 only.
            if len < 254 {
                return Err(non_canonical(start));
            }
            (len, 4, body)
        } else {
            return Err(DecodeError::new(DecodeErrorKind::InvalidLength(255), start));
        };
        // Length is checked against what is left before anything is sliced.
        let padded = (header + len).next_multiple_of(4) - header;
        match (body.split_at_checked(len), body.get(padded..)) {
            (Some((data, tail)), Some(rest)) => {
                // The 0 to 3 padding bytes must be zero.
                if tail
                    .get(..padded - len)
                    .is_some_and(|p| p.iter().any(|&b| b != 0))
                {
                    return Err(non_canonical(start));
                }
                self.rest = rest;
                Ok(data)
            }
            _ => Err(too_large(start, len, body.len())),
        }
    }

    /// A reader bounded to the next `len` bytes; this reader skips past them.
    /// The sub-reader keeps the depth, the limits and the inflated total so
    /// far, and reports offsets relative to its own start; give what it
    /// inflates back with [`Reader::absorb`].
    pub fn sub(&mut self, len: usize) -> Result<Reader<'a>> {
        let bytes = self.take(len)?;
        Ok(Reader {
            rest: bytes,
            len: bytes.len(),
            depth: self.depth,
            limits: self.limits,
            inflated: self.inflated,
        })
    }

    /// Counts what a sub-reader (from [`Reader::sub`]) inflated in this
    /// reader's total.
    #[inline]
    pub fn absorb(&mut self, sub: &Reader<'_>) {
        self.inflated = self.inflated.max(sub.inflated);
    }

    /// Enters one level of nesting, failing past `limits.max_depth`.
    /// Pair with [`Reader::leave`].
    #[inline]
    pub fn enter(&mut self) -> Result<()> {
        if self.depth >= self.limits.max_depth {
            return Err(self.depth_error());
        }
        self.depth += 1;
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn depth_error(&self) -> DecodeError {
        self.error(DecodeErrorKind::DepthLimitExceeded {
            limit: self.limits.max_depth,
        })
    }

    /// Leaves one level of nesting.
    #[inline]
    pub fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Reads a vector element count and checks that the input can hold that
    /// many elements of at least `min_elem_len` bytes each.
    #[inline]
    pub fn read_vector_len(&mut self, min_elem_len: usize) -> Result<usize> {
        let start = self.offset();
        let raw = self.read_i32()?;
        let count = usize::try_from(raw)
            .map_err(|_| DecodeError::new(DecodeErrorKind::InvalidLength(i64::from(raw)), start))?;
        let fits = match min_elem_len {
            0 => count <= self.remaining().max(1) * 8,
            n => count
                .checked_mul(n)
                .is_some_and(|need| need <= self.remaining()),
        };
        if !fits {
            return Err(DecodeError::new(
                DecodeErrorKind::VectorTooLong { count },
                start,
            ));
        }
        Ok(count)
    }

    /// Fails unless every byte has been consumed.
    #[inline]
    pub fn finish(&self) -> Result<()> {
        match self.remaining() {
            0 => Ok(()),
            remaining => Err(self.error(DecodeErrorKind::TrailingBytes { remaining })),
        }
    }
}

#[cold]
#[inline(never)]
fn non_canonical(offset: usize) -> DecodeError {
    DecodeError::new(DecodeErrorKind::NonCanonicalBytes, offset)
}

#[cold]
#[inline(never)]
fn too_large(offset: usize, len: usize, remaining: usize) -> DecodeError {
    DecodeError::new(DecodeErrorKind::LengthTooLarge { len, remaining }, offset)
}
