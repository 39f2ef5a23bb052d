//! Transport kind names.

use std::fmt;
use std::str::FromStr;

/// The transport wrapped by obfuscation ("obfuscated2").
///
/// Only these three have a protocol tag that fits the init payload:
/// "The protocol identifier, if present, must be inserted in the initialization payload
/// at byte offset `56`".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObfuscatedInner {
    /// Abridged, tag `0xefefefef`.
    Abridged,
    /// Intermediate, tag `0xeeeeeeee`.
    Intermediate,
    /// Padded intermediate, tag `0xdddddddd`.
    PaddedIntermediate,
}

impl ObfuscatedInner {
    /// The plain (unobfuscated) transport kind with the same framing.
    pub fn plain(self) -> TransportKind {
        match self {
            Self::Abridged => TransportKind::Abridged,
            Self::Intermediate => TransportKind::Intermediate,
            Self::PaddedIntermediate => TransportKind::PaddedIntermediate,
        }
    }

    /// The 4-byte protocol tag placed at init bytes 56..60.
    pub fn tag(self) -> [u8; 4] {
        match self {
            Self::Abridged => crate::TAG_ABRIDGED,
            Self::Intermediate => crate::TAG_INTERMEDIATE,
            Self::PaddedIntermediate => crate::TAG_PADDED,
        }
    }

    /// The inner transport announced by a 4-byte protocol tag, if known.
    pub fn from_tag(tag: [u8; 4]) -> Option<Self> {
        match tag {
            crate::TAG_ABRIDGED => Some(Self::Abridged),
            crate::TAG_INTERMEDIATE => Some(Self::Intermediate),
            crate::TAG_PADDED => Some(Self::PaddedIntermediate),
            _ => None,
        }
    }
}

/// Which MTProto transport a connection uses.
///
/// Names (for [`FromStr`] / [`Display`](fmt::Display), used by the CLI):
/// `abridged`, `intermediate`, `padded`, `full`, `obfuscated` (= obfuscated
/// intermediate), `obfuscated-abridged`, `obfuscated-intermediate`, `obfuscated-padded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// Abridged: 1 or 4 byte length header counted in 4-byte words.
    Abridged,
    /// Intermediate: 4 byte little-endian length.
    Intermediate,
    /// Padded intermediate: intermediate with 0..15 random padding bytes.
    PaddedIntermediate,
    /// Full: length, seqno, payload, CRC32.
    Full,
    /// Obfuscated2 (AES-256-CTR) around an inner transport.
    Obfuscated(ObfuscatedInner),
}

impl TransportKind {
    /// All kinds, one per name (useful for tests and CLIs).
    pub const ALL: [TransportKind; 7] = [
        TransportKind::Abridged,
        TransportKind::Intermediate,
        TransportKind::PaddedIntermediate,
        TransportKind::Full,
        TransportKind::Obfuscated(ObfuscatedInner::Abridged),
        TransportKind::Obfuscated(ObfuscatedInner::Intermediate),
        TransportKind::Obfuscated(ObfuscatedInner::PaddedIntermediate),
    ];

    /// Whether this transport appends 0..15 random padding bytes to every
    /// payload (padded intermediate, plain or obfuscated): its
    /// [`Transport::decode`](crate::Transport::decode) output then needs
    /// [`trim_mtproto_padding`](crate::trim_mtproto_padding).
    pub fn is_padded(self) -> bool {
        matches!(
            self,
            TransportKind::PaddedIntermediate
                | TransportKind::Obfuscated(ObfuscatedInner::PaddedIntermediate)
        )
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Abridged => "abridged",
            Self::Intermediate => "intermediate",
            Self::PaddedIntermediate => "padded",
            Self::Full => "full",
            Self::Obfuscated(ObfuscatedInner::Intermediate) => "obfuscated",
            Self::Obfuscated(ObfuscatedInner::Abridged) => "obfuscated-abridged",
            Self::Obfuscated(ObfuscatedInner::PaddedIntermediate) => "obfuscated-padded",
        })
    }
}

/// Error returned when a transport name is not one of the known names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseKindError(pub String);

impl fmt::Display for ParseKindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown transport {:?} (expected abridged|intermediate|padded|full|obfuscated\
             |obfuscated-abridged|obfuscated-intermediate|obfuscated-padded)",
            self.0
        )
    }
}

impl std::error::Error for ParseKindError {}

impl FromStr for TransportKind {
    type Err = ParseKindError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "abridged" => Self::Abridged,
            "intermediate" => Self::Intermediate,
            "padded" | "padded-intermediate" => Self::PaddedIntermediate,
            "full" => Self::Full,
            "obfuscated" | "obfuscated-intermediate" => {
                Self::Obfuscated(ObfuscatedInner::Intermediate)
            }
            "obfuscated-abridged" => Self::Obfuscated(ObfuscatedInner::Abridged),
            "obfuscated-padded" => Self::Obfuscated(ObfuscatedInner::PaddedIntermediate),
            _ => return Err(ParseKindError(s.to_owned())),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in TransportKind::ALL {
            assert_eq!(k.to_string().parse::<TransportKind>().unwrap(), k);
        }
        assert_eq!(
            "obfuscated".parse::<TransportKind>().unwrap(),
            TransportKind::Obfuscated(ObfuscatedInner::Intermediate)
        );
        assert_eq!(
            "padded".parse::<TransportKind>().unwrap(),
            TransportKind::PaddedIntermediate
        );
        assert!("http".parse::<TransportKind>().is_err());
    }
}
