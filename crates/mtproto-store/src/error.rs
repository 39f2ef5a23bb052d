//! Why a session could not be loaded or saved.

use core::fmt;

use mtproto_peers::PeerCacheError;

/// Why a session could not be loaded or saved. A file is never reset or
/// half-read: any of these leaves it as it was.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError {
    /// Reading or writing the file failed.
    Io {
        /// What was being done (`"read"`, `"write"`, `"rename"`, ...).
        op: &'static str,
        /// The error's kind.
        kind: std::io::ErrorKind,
        /// Its message.
        message: String,
    },
    /// Not a session file (no `"MTRS"` magic).
    Magic,
    /// A format version this build does not read (a newer program wrote it).
    Version(u16),
    /// Shorter than its header says: cut off.
    Truncated,
    /// The checksum does not match: the bytes changed.
    Corrupt,
    /// Larger than any session this build writes.
    TooLarge,
    /// The checksum matches but the content breaks a rule of the format.
    Malformed(&'static str),
    /// The peer cache inside is not readable.
    PeerCache(PeerCacheError),
    /// A Telethon `StringSession` string that is not one.
    StringSession(&'static str),
}

impl StoreError {
    pub(crate) fn io(op: &'static str, e: &std::io::Error) -> Self {
        Self::Io {
            op,
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { op, message, .. } => write!(f, "cannot {op} the session file: {message}"),
            Self::Magic => f.write_str("not a session file (no MTRS magic)"),
            Self::Version(v) => write!(
                f,
                "session file version {v} is not supported (this build reads version {})",
                crate::format::VERSION
            ),
            Self::Truncated => f.write_str("session file is cut short"),
            Self::Corrupt => f.write_str("session file is corrupt (checksum mismatch)"),
            Self::TooLarge => f.write_str("session file is too large"),
            Self::Malformed(why) => write!(f, "malformed session file: {why}"),
            Self::PeerCache(e) => write!(f, "session file: {e}"),
            Self::StringSession(why) => write!(f, "not a Telethon StringSession: {why}"),
        }
    }
}

impl std::error::Error for StoreError {}
