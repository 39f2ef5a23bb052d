//! Minimal PEM (base64) and DER readers for RSA keys: PKCS#1 `RSA PUBLIC KEY`,
//! SubjectPublicKeyInfo `PUBLIC KEY`, and PKCS#1 `RSA PRIVATE KEY`.
//! Written for this crate (no new dependencies); every read is bounds-checked.

/// Errors of the PEM/DER readers (no key material is included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PemError {
    /// No `-----BEGIN <label>-----` / `-----END <label>-----` block of a supported kind.
    NoPemBlock,
    /// A character outside the base64 alphabet, or bad `=` padding.
    BadBase64,
    /// The DER structure is malformed, truncated, or not the expected one.
    BadDer,
    /// The SPKI algorithm is not rsaEncryption.
    NotRsa,
}

impl core::fmt::Display for PemError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            PemError::NoPemBlock => "no supported PEM block found",
            PemError::BadBase64 => "invalid base64 in PEM",
            PemError::BadDer => "malformed DER",
            PemError::NotRsa => "public key algorithm is not rsaEncryption",
        })
    }
}

impl std::error::Error for PemError {}

/// The kind of PEM block that was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PemKind {
    Pkcs1Public,
    Spki,
    Pkcs1Private,
}

fn b64_value(c: u8) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    } as u32)
}

/// Standard base64 (with optional `=` padding); ASCII whitespace is skipped.
pub(crate) fn base64_decode(s: &str) -> Result<Vec<u8>, PemError> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let mut acc = 0u32;
    let mut bits = 0u32;
    let mut pad = 0usize;
    for &c in s.as_bytes() {
        if c.is_ascii_whitespace() {
            continue;
        }
        if c == b'=' {
            pad += 1;
            continue;
        }
        if pad > 0 {
            return Err(PemError::BadBase64);
        }
        let v = b64_value(c).ok_or(PemError::BadBase64)?;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            // acc has `bits + 8` significant bits here: the shift leaves exactly
            // the next byte (the mask changes nothing).
            out.push(((acc >> bits) & 0xff) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // leftover bits must be zero and padding consistent
    if pad > 2 || acc != 0 || bits >= 6 {
        return Err(PemError::BadBase64);
    }
    Ok(out)
}

/// Finds the first supported PEM block and returns its kind and DER bytes.
pub(crate) fn pem_decode(pem: &str) -> Result<(PemKind, Vec<u8>), PemError> {
    const KINDS: [(&str, PemKind); 3] = [
        ("RSA PUBLIC KEY", PemKind::Pkcs1Public),
        ("PUBLIC KEY", PemKind::Spki),
        ("RSA PRIVATE KEY", PemKind::Pkcs1Private),
    ];
    for (label, kind) in KINDS {
        let begin = format!("-----BEGIN {label}-----");
        let end = format!("-----END {label}-----");
        if let Some(b) = pem.find(&begin) {
            let body_start = b + begin.len();
            let rest = pem.get(body_start..).ok_or(PemError::NoPemBlock)?;
            let e = rest.find(&end).ok_or(PemError::NoPemBlock)?;
            let body = rest.get(..e).ok_or(PemError::NoPemBlock)?;
            return Ok((kind, base64_decode(body)?));
        }
    }
    Err(PemError::NoPemBlock)
}

/// A DER reader over a byte slice.
pub(crate) struct Der<'a> {
    buf: &'a [u8],
}

impl<'a> Der<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Der { buf }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Reads one TLV with the expected tag; returns its contents.
    pub(crate) fn read(&mut self, tag: u8) -> Result<&'a [u8], PemError> {
        let (&t, rest) = self.buf.split_first().ok_or(PemError::BadDer)?;
        if t != tag {
            return Err(PemError::BadDer);
        }
        let (&l0, mut rest) = rest.split_first().ok_or(PemError::BadDer)?;
        let len = if l0 < 0x80 {
            l0 as usize
        } else {
            let n = (l0 & 0x7f) as usize;
            if n == 0 || n > 4 {
                return Err(PemError::BadDer);
            }
            let (lb, r) = (rest.get(..n), rest.get(n..));
            let (lb, r) = (lb.ok_or(PemError::BadDer)?, r.ok_or(PemError::BadDer)?);
            rest = r;
            lb.iter().fold(0usize, |a, &b| (a << 8) | b as usize)
        };
        let content = rest.get(..len).ok_or(PemError::BadDer)?;
        self.buf = rest.get(len..).ok_or(PemError::BadDer)?;
        Ok(content)
    }

    /// Reads a SEQUENCE and returns a reader over its contents.
    pub(crate) fn sequence(&mut self) -> Result<Der<'a>, PemError> {
        Ok(Der::new(self.read(0x30)?))
    }

    /// Reads a non-negative INTEGER as minimal big-endian bytes (no sign byte).
    pub(crate) fn uint(&mut self) -> Result<&'a [u8], PemError> {
        let v = self.read(0x02)?;
        if v.first().is_some_and(|&b| b & 0x80 != 0) || v.is_empty() {
            return Err(PemError::BadDer); // negative or empty
        }
        let skip = v.iter().position(|&b| b != 0).unwrap_or(v.len());
        Ok(v.get(skip..).unwrap_or(&[]))
    }
}

/// rsaEncryption OID 1.2.840.113549.1.1.1
const RSA_OID: [u8; 9] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// Parses any supported public-key PEM into (n, e) big-endian bytes.
pub(crate) fn parse_public_pem(pem: &str) -> Result<(Vec<u8>, Vec<u8>), PemError> {
    let (kind, der) = pem_decode(pem)?;
    match kind {
        PemKind::Pkcs1Public => parse_pkcs1_public(&der),
        PemKind::Spki => {
            let mut outer = Der::new(&der);
            let mut spki = outer.sequence()?;
            let mut alg = spki.sequence()?;
            if alg.read(0x06)? != RSA_OID {
                return Err(PemError::NotRsa);
            }
            let bits = spki.read(0x03)?;
            let (&unused, key) = bits.split_first().ok_or(PemError::BadDer)?;
            if unused != 0 {
                return Err(PemError::BadDer);
            }
            parse_pkcs1_public(key)
        }
        PemKind::Pkcs1Private => {
            let k = parse_pkcs1_private_der(&der)?;
            Ok((k.n, k.e))
        }
    }
}

fn parse_pkcs1_public(der: &[u8]) -> Result<(Vec<u8>, Vec<u8>), PemError> {
    let mut outer = Der::new(der);
    let mut seq = outer.sequence()?;
    let n = seq.uint()?.to_vec();
    let e = seq.uint()?.to_vec();
    if !seq.is_empty() {
        return Err(PemError::BadDer);
    }
    Ok((n, e))
}

/// Components of a PKCS#1 RSAPrivateKey (big-endian, minimal). Without the
/// `server` feature only `n` and `e` are read (a public key may be loaded
/// from a private PEM).
#[cfg_attr(not(feature = "server"), allow(dead_code))]
pub(crate) struct PrivateParts {
    pub(crate) n: Vec<u8>,
    pub(crate) e: Vec<u8>,
    pub(crate) d: Vec<u8>,
    pub(crate) p: Vec<u8>,
    pub(crate) q: Vec<u8>,
}

fn parse_pkcs1_private_der(der: &[u8]) -> Result<PrivateParts, PemError> {
    let mut outer = Der::new(der);
    let mut seq = outer.sequence()?;
    let version = seq.uint()?;
    if !version.is_empty() {
        return Err(PemError::BadDer); // only two-prime version 0
    }
    let n = seq.uint()?.to_vec();
    let e = seq.uint()?.to_vec();
    let d = seq.uint()?.to_vec();
    let p = seq.uint()?.to_vec();
    let q = seq.uint()?.to_vec();
    Ok(PrivateParts { n, e, d, p, q })
}

#[cfg(feature = "server")]
/// Parses a PKCS#1 `RSA PRIVATE KEY` PEM.
pub(crate) fn parse_private_pem(pem: &str) -> Result<PrivateParts, PemError> {
    let (kind, der) = pem_decode(pem)?;
    if kind != PemKind::Pkcs1Private {
        return Err(PemError::NoPemBlock);
    }
    parse_pkcs1_private_der(&der)
}

/// Encodes bytes as standard base64 with padding.
pub(crate) fn base64_encode(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let v = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((v >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn der_len(len: usize, out: &mut Vec<u8>) {
    match u8::try_from(len) {
        Ok(short) if short < 0x80 => out.push(short),
        _ => {
            let bytes = len.to_be_bytes();
            let skip = bytes
                .iter()
                .position(|&b| b != 0)
                .unwrap_or(bytes.len() - 1);
            let sig = bytes.get(skip..).unwrap_or(&[]);
            // sig is at most size_of::<usize>() <= 16 bytes, so this cannot truncate.
            #[allow(clippy::cast_possible_truncation)]
            let count = sig.len() as u8;
            out.push(0x80 | count);
            out.extend_from_slice(sig);
        }
    }
}

fn der_uint(v: &[u8], out: &mut Vec<u8>) {
    let skip = v.iter().position(|&b| b != 0).unwrap_or(v.len());
    let v = v.get(skip..).unwrap_or(&[]);
    let pad = v.first().is_none_or(|&b| b & 0x80 != 0);
    out.push(0x02);
    der_len(v.len() + pad as usize, out);
    if pad {
        out.push(0);
    }
    out.extend_from_slice(v);
}

/// Encodes a DER SEQUENCE of unsigned INTEGERs.
pub(crate) fn der_uint_sequence(ints: &[&[u8]]) -> Vec<u8> {
    let mut body = Vec::new();
    for i in ints {
        der_uint(i, &mut body);
    }
    let mut out = vec![0x30];
    der_len(body.len(), &mut out);
    out.extend_from_slice(&body);
    out
}

/// Wraps DER in PEM armor with 64-column lines.
pub(crate) fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = base64_encode(der);
    let mut s = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        s.push_str(core::str::from_utf8(line).unwrap_or(""));
        s.push('\n');
    }
    s.push_str(&format!("-----END {label}-----\n"));
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn base64_roundtrip_and_errors() {
        for len in 0..20 {
            let data: Vec<u8> = (0..len).map(|i| ((i * 37 + 5) & 0xff) as u8).collect();
            assert_eq!(base64_decode(&base64_encode(&data)).unwrap(), data);
        }
        assert_eq!(base64_decode("TWFu").unwrap(), b"Man");
        assert_eq!(base64_decode("TWE=").unwrap(), b"Ma");
        assert_eq!(base64_decode("TQ==").unwrap(), b"M");
        assert_eq!(base64_decode("TQ=a"), Err(PemError::BadBase64));
        assert_eq!(base64_decode("T"), Err(PemError::BadBase64));
        assert_eq!(base64_decode("TR=="), Err(PemError::BadBase64));
        assert_eq!(base64_decode("T*=="), Err(PemError::BadBase64));
    }

    #[test]
    fn der_truncations_are_errors() {
        let der = der_uint_sequence(&[&[1, 2, 3], &[0x80], &[]]);
        for cut in 0..der.len() {
            let mut r = Der::new(&der[..cut]);
            let res = r.sequence().and_then(|mut s| {
                s.uint()?;
                s.uint()?;
                s.uint()
            });
            assert!(res.is_err(), "cut {cut}");
        }
        let mut r = Der::new(&der);
        let mut s = r.sequence().unwrap();
        assert_eq!(s.uint().unwrap(), &[1, 2, 3]);
        assert_eq!(s.uint().unwrap(), &[0x80]);
        assert_eq!(s.uint().unwrap(), &[] as &[u8]);
    }
}
