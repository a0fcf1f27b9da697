//! Where shared files' bytes live: a directory on local disk.
//!
//! `<data>/files/<storage key>` holds a finished file; `<data>/files/.partial/<key>.part`
//! holds an upload in progress (kept after an interruption so the upload can resume).
//! Everything the rest of the server does with file content goes through [`FileStore`],
//! so an object store could replace the directory later.
//!
//! The blocking calls here (`std::fs`) are meant for `spawn_blocking` or the upload's
//! writer thread; [`FileStore::open_read`] is async (tokio fs) for downloads.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::io::AsyncSeekExt;
use tracing::{info, warn};

/// Name of the directory of partial uploads inside the files directory.
const PARTIAL_DIR: &str = ".partial";
/// Suffix of a partial upload.
const PARTIAL_SUFFIX: &str = ".part";
/// Read size when hashing a partial file before a resume.
const HASH_BUFFER: usize = 256 * 1024;

/// The files directory and its partial uploads.
#[derive(Debug, Clone)]
pub struct FileStore {
    root: PathBuf,
    partial: PathBuf,
}

/// An open partial upload: appended to by the upload's writer threads.
#[derive(Debug)]
pub struct PartialFile {
    file: fs::File,
    hasher: Sha256,
    len: u64,
}

/// Bytes of an upload written between nudges to its write-back thread.
pub const SYNC_EVERY: u64 = 4 * 1024 * 1024;

/// Bytes of an upload the writer may have ahead of the disk before it waits.
pub const MAX_UNSYNCED: u64 = 12 * 1024 * 1024;

/// Chunks waiting for the hashing thread of [`PartialFile::append_all`].
const HASH_QUEUE: usize = 8;

impl FileStore {
    /// Create `<data_dir>/files` and its `.partial` directory if missing.
    pub fn open(data_dir: &Path) -> io::Result<Self> {
        let root = data_dir.join("files");
        let partial = root.join(PARTIAL_DIR);
        fs::create_dir_all(&partial)?;
        Ok(Self { root, partial })
    }

    /// The directory holding stored files (for free-space checks and tests).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the partial upload with this key lives.
    pub fn partial_path(&self, key: &str) -> PathBuf {
        self.partial.join(format!("{key}{PARTIAL_SUFFIX}"))
    }

    /// Where the stored file with this storage key lives.
    fn stored_path(&self, storage_key: &str) -> PathBuf {
        self.root.join(storage_key)
    }

    /// Bytes already received for this partial upload (0 if none).
    pub async fn partial_len(&self, key: &str) -> io::Result<u64> {
        match tokio::fs::metadata(self.partial_path(key)).await {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// Bytes free on the file system of the files directory.
    pub fn available_space(&self) -> io::Result<u64> {
        fs4::available_space(&self.root)
    }

    /// Open (or create) a partial upload to append from `offset` on: the first `offset`
    /// bytes already there are hashed, anything past them is cut off. Blocking.
    pub fn open_partial(&self, key: &str, offset: u64) -> io::Result<PartialFile> {
        let mut file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(self.partial_path(key))?;
        let have = file.metadata()?.len();
        if have < offset {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("the partial upload has {have} bytes, not {offset}"),
            ));
        }
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; HASH_BUFFER];
        let mut left = offset;
        while left > 0 {
            let want = usize::try_from(left.min(HASH_BUFFER as u64)).unwrap_or(HASH_BUFFER);
            let n = file.read(&mut buf[..want])?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            hasher.update(&buf[..n]);
            left -= n as u64;
        }
        file.set_len(offset)?;
        Ok(PartialFile {
            file,
            hasher,
            len: offset,
        })
    }

    /// Move a complete, synced partial upload into place under a new random storage key,
    /// never replacing an existing file, and make the new name durable. The partial stays
    /// until [`FileStore::remove_partial`] (so a failure after this can still resume).
    /// Returns the storage key. Blocking.
    pub fn finalize(&self, key: &str) -> io::Result<String> {
        let storage_key = new_storage_key();
        // A hard link fails if the target exists, so nothing is ever overwritten.
        fs::hard_link(self.partial_path(key), self.stored_path(&storage_key))?;
        sync_dir(&self.root)?;
        Ok(storage_key)
    }

    /// Delete a partial upload (missing is fine). Blocking.
    pub fn remove_partial(&self, key: &str) -> io::Result<()> {
        remove_if_present(&self.partial_path(key))
    }

    /// Delete a stored file (missing is fine). Blocking.
    pub fn remove_stored(&self, storage_key: &str) -> io::Result<()> {
        remove_if_present(&self.stored_path(storage_key))?;
        sync_dir(&self.root)
    }

    /// Open a stored file for reading from `offset`; also returns its length on disk.
    pub async fn open_read(
        &self,
        storage_key: &str,
        offset: u64,
    ) -> io::Result<(tokio::fs::File, u64)> {
        let mut file = tokio::fs::File::open(self.stored_path(storage_key)).await?;
        let len = file.metadata().await?.len();
        file.seek(io::SeekFrom::Start(offset)).await?;
        Ok((file, len))
    }

    /// Remove partial uploads not touched for `max_age` (abandoned uploads). Blocking.
    pub fn sweep_partials(&self, max_age: Duration) -> io::Result<usize> {
        let now = SystemTime::now();
        let mut removed = 0;
        for entry in fs::read_dir(&self.partial)? {
            let entry = entry?;
            let modified = entry.metadata().and_then(|m| m.modified());
            let old = match modified {
                Ok(t) => now.duration_since(t).is_ok_and(|age| age > max_age),
                Err(_) => false,
            };
            if old {
                match fs::remove_file(entry.path()) {
                    Ok(()) => removed += 1,
                    Err(e) => {
                        warn!(path = %entry.path().display(), error = %e, "cannot remove an old partial upload")
                    }
                }
            }
        }
        if removed > 0 {
            info!(removed, "removed abandoned partial uploads");
        }
        Ok(removed)
    }
}

impl PartialFile {
    /// Append every chunk `next` yields until it yields `None`, with the three jobs
    /// on three threads so they overlap: this one writes, a second hashes (SHA-256
    /// runs at about the speed of loopback TCP, so doing it between writes would
    /// halve the rate), a third keeps writing the data back to disk while the
    /// writing goes on, so the final sync is short and the database's own syncs
    /// (chat messages are stored durably) never queue behind one huge flush of a
    /// whole file. A sync costs about the same however much it carries, so the
    /// write-back thread syncs whatever is written each time it comes round instead
    /// of a fixed amount; the writer only waits for the disk when more than
    /// [`MAX_UNSYNCED`] bytes are not yet on it. The hash queue is bounded: a slow
    /// disk or hash slows `next`'s producer instead of growing memory. Blocking.
    pub fn append_all(&mut self, mut next: impl FnMut() -> Option<Bytes>) -> io::Result<()> {
        let syncing = self.file.try_clone()?;
        let hasher = &mut self.hasher;
        let file = &mut self.file;
        let len = &mut self.len;
        let written = AtomicU64::new(*len);
        let synced = AtomicU64::new(*len);
        std::thread::scope(|scope| {
            let (to_hash, hash_rx) = std::sync::mpsc::sync_channel::<Bytes>(HASH_QUEUE);
            let hashing = std::thread::Builder::new()
                .name("upload-hash".into())
                .spawn_scoped(scope, move || {
                    for chunk in hash_rx {
                        hasher.update(&chunk);
                    }
                })?;
            // A pending nudge is enough: the next sync takes everything written.
            let (nudge, nudges) = std::sync::mpsc::sync_channel::<()>(1);
            let (written, synced) = (&written, &synced);
            let write_back = std::thread::Builder::new()
                .name("upload-sync".into())
                .spawn_scoped(scope, move || -> io::Result<()> {
                    for () in nudges {
                        let upto = written.load(Ordering::Acquire);
                        syncing.sync_data()?;
                        synced.store(upto, Ordering::Release);
                    }
                    Ok(())
                })?;
            let mut result = Ok(());
            let mut nudged_at = *len;
            while let Some(chunk) = next() {
                if let Err(e) = file.write_all(&chunk) {
                    result = Err(e);
                    break;
                }
                *len += chunk.len() as u64;
                written.store(*len, Ordering::Release);
                if *len - nudged_at >= SYNC_EVERY {
                    nudged_at = *len;
                    // Full: a sync is already due and will take these bytes too.
                    let _ = nudge.try_send(());
                }
                if *len - synced.load(Ordering::Acquire) > MAX_UNSYNCED
                    && let Err(e) = file.sync_data()
                {
                    result = Err(e);
                    break;
                }
                if to_hash.send(chunk).is_err() {
                    break;
                }
            }
            drop((to_hash, nudge));
            let hashed = hashing.join();
            let synced = write_back
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the write-back thread panicked")));
            if hashed.is_err() {
                return Err(io::Error::other("the hashing thread panicked"));
            }
            result.and(synced)
        })
    }

    /// Bytes in the file so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing has been written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Flush the content to disk and return the SHA-256 (lowercase hex) of all of it.
    pub fn finish(self) -> io::Result<String> {
        self.file.sync_all()?;
        Ok(hex(&self.hasher.finalize()))
    }
}

/// The key of a partial upload: the same user sending the same name, size and content
/// finds its partial again, and nobody else's.
pub fn partial_key(uid: i64, name: &str, size: u64, sha256: &str) -> String {
    let mut h = Sha256::new();
    h.update(uid.to_be_bytes());
    h.update((name.len() as u64).to_be_bytes());
    h.update(name.as_bytes());
    h.update(size.to_be_bytes());
    h.update(sha256.as_bytes());
    hex(&h.finalize())
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A fresh random storage key (128 bits, 32 hex digits).
fn new_storage_key() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Make a directory's entries durable (on Unix; elsewhere a no-op).
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        fs::File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_keys_separate_users_names_and_content() {
        let a = partial_key(1, "a", 3, "x");
        assert_eq!(a.len(), 64);
        assert_eq!(a, partial_key(1, "a", 3, "x"));
        assert_ne!(a, partial_key(2, "a", 3, "x"));
        assert_ne!(a, partial_key(1, "b", 3, "x"));
        assert_ne!(a, partial_key(1, "a", 4, "x"));
        assert_ne!(a, partial_key(1, "a", 3, "y"));
    }

    #[test]
    fn resume_hashes_what_is_there_and_finalize_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        let mut p = store.open_partial("k", 0).unwrap();
        let mut chunks = vec![Bytes::from_static(b"hello ")].into_iter();
        p.append_all(|| chunks.next()).unwrap();
        drop(p);
        let mut p = store.open_partial("k", 6).unwrap();
        let mut chunks = vec![Bytes::from_static(b"wor"), Bytes::from_static(b"ld")].into_iter();
        p.append_all(|| chunks.next()).unwrap();
        let sum = p.finish().unwrap();
        assert_eq!(sum, hex(&Sha256::digest(b"hello world")));
        let key = store.finalize("k").unwrap();
        store.remove_partial("k").unwrap();
        assert_eq!(fs::read(store.root().join(&key)).unwrap(), b"hello world");
        assert!(store.open_partial("k", 1).is_err());
    }

    #[test]
    fn append_all_hashes_and_writes_back_past_several_syncs() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        let total = usize::try_from(SYNC_EVERY).unwrap() * 2 + 12_345;
        let data: Vec<u8> = (0..total).map(|i| (i % 251) as u8).collect();
        let mut chunks = data.chunks(100_003).map(Bytes::copy_from_slice);
        let mut p = store.open_partial("big", 0).unwrap();
        p.append_all(|| chunks.next()).unwrap();
        assert_eq!(p.len(), total as u64);
        let sum = p.finish().unwrap();
        assert_eq!(sum, hex(&Sha256::digest(&data)));
        assert_eq!(fs::read(store.partial_path("big")).unwrap(), data);
    }
}
