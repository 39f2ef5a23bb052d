//! [`FileStore`] and atomic file writes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::error::StoreError;
use crate::format::MAX_BODY;
use crate::session::StoredSession;
use crate::SessionStore;

/// Temporary files made by this process (their names must differ).
static TEMP_FILES: AtomicU64 = AtomicU64::new(0);

/// Replaces `path` with `contents` atomically: a new file beside it, with
/// mode 0600 on unix (set when it is created, never wider), written and
/// `fsync`ed, renamed over `path`, then the folder `fsync`ed so the rename
/// survives a crash. A crash leaves the old file or the new one, never a
/// mix; a failure removes the temporary file.
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(
        ".tmp{}.{}",
        std::process::id(),
        TEMP_FILES.fetch_add(1, Ordering::Relaxed)
    ));
    let tmp = path.with_file_name(tmp_name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&tmp).and_then(|mut f| {
        f.write_all(contents)?;
        f.sync_all()
    });
    let renamed = written.and_then(|()| std::fs::rename(&tmp, path));
    if renamed.is_err() {
        let _ = std::fs::remove_file(&tmp);
        return renamed;
    }
    // The rename is durable once the folder is synced (unix; elsewhere a
    // folder cannot be opened, and the rename is what the system gives).
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// A session kept in one file (see [`format`](mod@crate::format)), written
/// with [`write_atomic`]. Saves from several threads are serialized.
#[derive(Debug)]
pub struct FileStore {
    path: PathBuf,
    saving: Mutex<()>,
}

impl FileStore {
    /// A store at `path` (nothing is read or written yet).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            saving: Mutex::new(()),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl SessionStore for FileStore {
    fn load(&self) -> Result<Option<StoredSession>, StoreError> {
        let meta = match std::fs::metadata(&self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::io("read", &e)),
        };
        // Length checked before anything is read into memory.
        if meta.len() > (MAX_BODY + 64) as u64 {
            return Err(StoreError::TooLarge);
        }
        let bytes = std::fs::read(&self.path).map_err(|e| StoreError::io("read", &e))?;
        StoredSession::from_bytes(&bytes).map(Some)
    }

    fn save(&self, session: &StoredSession) -> Result<(), StoreError> {
        let _one_at_a_time = self
            .saving
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        write_atomic(&self.path, &session.to_bytes()).map_err(|e| StoreError::io("write", &e))
    }
}
