//! One download: into `<dir>/<name>.part` (resuming from its length), then
//! the SHA-256 of the whole file is checked, and only then does it get a
//! final name — never one that already exists: `name.ext`, else
//! `name (1).ext`, `name (2).ext`, ... A failed or cancelled download leaves
//! its `.part` (for resuming) and nothing under the final name.

use std::ffi::OsString;
use std::io::{self, SeekFrom};
use std::path::{Path, PathBuf};

use chatroom_shared::message::{ClientMessage, Direction, DownloadBegin, FileInfo, ServerMessage};
use chatroom_shared::rules::validate_file_name;
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _, AsyncWriteExt as _};
use tracing::{info, warn};

use super::data;
use super::{CHUNK, Control, Reporter, TransferError, sha256_file_async};

/// Where a download of `name` into `dir` is kept until it is complete.
pub fn part_path(dir: &Path, name: &str) -> PathBuf {
    let mut file = OsString::from(name);
    file.push(".part");
    dir.join(file)
}

/// The first of `name`, `stem (1).ext`, `stem (2).ext`, ... that does not
/// exist in `dir` (a leading dot is part of the stem: `.bashrc (1)`).
pub fn unique_target(dir: &Path, name: &str) -> PathBuf {
    let first = dir.join(name);
    if !exists(&first) {
        return first;
    }
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => name.split_at(i),
        _ => (name, ""),
    };
    (1u32..)
        .map(|n| dir.join(format!("{stem} ({n}){ext}")))
        .find(|p| !exists(p))
        .unwrap_or(first)
}

/// True when anything (even a dangling link) is at `path`.
fn exists(path: &Path) -> bool {
    path.symlink_metadata().is_ok()
}

/// Give the complete `.part` its final name without ever replacing a file:
/// a hard link fails when the target exists (then the next free name is
/// tried); where hard links are not supported, a rename after a check.
fn settle(part: &Path, dir: &Path, name: &str) -> io::Result<PathBuf> {
    for _ in 0..100 {
        let target = unique_target(dir, name);
        match std::fs::hard_link(part, &target) {
            Ok(()) => {
                std::fs::remove_file(part)?;
                return Ok(target);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                warn!(error = %e, "hard link failed; renaming");
                std::fs::rename(part, &target)?;
                return Ok(target);
            }
        }
    }
    Err(io::Error::other("no free file name"))
}

/// Download `file` into `dir`; returns where it was saved.
pub(crate) async fn run(
    server: &str,
    control: &Control,
    reporter: &mut Reporter,
    file: &FileInfo,
    dir: &Path,
) -> Result<PathBuf, TransferError> {
    // The name comes from the server: never let it point elsewhere.
    validate_file_name(&file.name).map_err(|e| TransferError::Broken(e.to_string()))?;
    let meta = tokio::fs::metadata(dir)
        .await
        .map_err(TransferError::io(format!(
            "cannot save to {}",
            dir.display()
        )))?;
    if !meta.is_dir() {
        return Err(TransferError::Broken(format!(
            "{} is not a directory",
            dir.display()
        )));
    }
    let part = part_path(dir, &file.name);
    let write_err = || TransferError::io(format!("cannot write {}", part.display()));
    let mut out = tokio::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .open(&part)
        .await
        .map_err(write_err())?;
    let mut have = out.metadata().await.map_err(write_err())?.len();
    if have > file.size {
        have = 0;
    }
    let begin = ClientMessage::DownloadBegin(DownloadBegin {
        file_id: file.id,
        offset: have,
    });
    let (ticket, offset, info) = match control.ask(begin).await? {
        ServerMessage::DownloadReady(r) => (r.ticket, r.offset, r.file),
        other => {
            return Err(TransferError::Broken(format!(
                "unexpected answer to download_begin: {}",
                format!("{other:?}").chars().take(120).collect::<String>()
            )));
        }
    };
    if offset > have || info.size != file.size || info.sha256 != file.sha256 {
        return Err(TransferError::Broken(
            "the server's answer does not fit the file asked for".into(),
        ));
    }
    let conn = data::open(server, &control.transport, &ticket, Direction::Download).await?;
    if conn.ready.offset != offset || conn.ready.offset + conn.ready.length != file.size {
        return Err(TransferError::Broken(format!(
            "the server offered {} bytes from {} of a {}-byte file",
            conn.ready.length, conn.ready.offset, file.size
        )));
    }
    out.set_len(offset).await.map_err(write_err())?;
    out.seek(SeekFrom::Start(offset))
        .await
        .map_err(write_err())?;
    info!(offset, length = conn.ready.length, "receiving");
    let length = conn.ready.length;
    let parts = conn.frames.into_parts();
    let (mut socket, pending) = (parts.io, parts.read_buf);
    drop(conn.writer);
    reporter.bytes_begin(offset);
    reporter.progress(offset, file.size).await;
    let mut buf = vec![0u8; CHUNK];
    let mut got = 0u64;
    if pending.len() as u64 > length {
        return Err(TransferError::Broken(
            "the server sent more bytes than announced".into(),
        ));
    }
    if !pending.is_empty() {
        out.write_all(&pending).await.map_err(write_err())?;
        got += pending.len() as u64;
    }
    while got < length {
        let want = usize::try_from(length - got).map_or(CHUNK, |left| left.min(CHUNK));
        let n = socket
            .read(&mut buf[..want])
            .await
            .map_err(TransferError::io("receiving failed"))?;
        if n == 0 {
            return Err(TransferError::Broken(format!(
                "the connection closed after {} of {} bytes; download again to resume",
                offset + got,
                file.size
            )));
        }
        out.write_all(&buf[..n]).await.map_err(write_err())?;
        got += n as u64;
        reporter.progress(offset + got, file.size).await;
    }
    out.flush().await.map_err(write_err())?;
    out.sync_all().await.map_err(write_err())?;
    drop(out);
    let (size, sha256) = sha256_file_async(&part).await?;
    if size != file.size || sha256 != file.sha256 {
        // A corrupt part must not be resumed from.
        let _ = tokio::fs::remove_file(&part).await;
        return Err(TransferError::Broken(
            "the downloaded file does not match its SHA-256; nothing was saved".into(),
        ));
    }
    let (part2, dir2, name) = (part.clone(), dir.to_owned(), file.name.clone());
    let saved = tokio::task::spawn_blocking(move || settle(&part2, &dir2, &name))
        .await
        .map_err(|e| TransferError::Broken(format!("saving stopped: {e}")))?
        .map_err(TransferError::io(format!(
            "cannot save into {}",
            dir.display()
        )))?;
    info!(saved = %saved.display(), "downloaded");
    Ok(saved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_overwrites_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert_eq!(unique_target(d, "report.pdf"), d.join("report.pdf"));
        std::fs::write(d.join("report.pdf"), b"mine").unwrap();
        assert_eq!(unique_target(d, "report.pdf"), d.join("report (1).pdf"));
        std::fs::write(d.join("report (1).pdf"), b"mine too").unwrap();
        assert_eq!(unique_target(d, "report.pdf"), d.join("report (2).pdf"));
        std::fs::write(d.join("README"), b"x").unwrap();
        assert_eq!(unique_target(d, "README"), d.join("README (1)"));
        std::fs::write(d.join(".bashrc"), b"x").unwrap();
        assert_eq!(unique_target(d, ".bashrc"), d.join(".bashrc (1)"));
        assert_eq!(
            unique_target(d, "a.tar.gz"),
            d.join("a.tar.gz"),
            "free names are used as they are"
        );
    }

    #[test]
    fn settling_a_part_keeps_the_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("photo.jpg"), b"old").unwrap();
        let part = part_path(d, "photo.jpg");
        assert_eq!(part, d.join("photo.jpg.part"));
        std::fs::write(&part, b"new").unwrap();
        let saved = settle(&part, d, "photo.jpg").unwrap();
        assert_eq!(saved, d.join("photo (1).jpg"));
        assert_eq!(std::fs::read(d.join("photo.jpg")).unwrap(), b"old");
        assert_eq!(std::fs::read(saved).unwrap(), b"new");
        assert!(!part.exists());
    }
}
