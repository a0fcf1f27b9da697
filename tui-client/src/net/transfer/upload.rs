//! One upload: hash the local file, `upload_begin` on the control
//! connection (the server may ask to resume from an offset), then send the
//! bytes on a data connection and read its `transfer_done`.

use std::io::SeekFrom;
use std::path::Path;

use chatroom_shared::message::{ClientMessage, Direction, ServerMessage, UploadBegin};
use chatroom_shared::rules::validate_file_name;
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _, AsyncWriteExt as _};
use tracing::info;

use super::data;
use super::{CHUNK, Control, Reporter, TransferError, sha256_file_async};

/// Share the file at `path`.
pub(crate) async fn run(
    server: &str,
    control: &Control,
    reporter: &mut Reporter,
    path: &Path,
    comment: Option<String>,
) -> Result<(), TransferError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| TransferError::Broken(format!("{} is not a file", path.display())))?;
    validate_file_name(&name).map_err(|e| TransferError::Broken(e.to_string()))?;
    let meta = tokio::fs::metadata(path)
        .await
        .map_err(TransferError::io(format!("cannot read {}", path.display())))?;
    if !meta.is_file() {
        return Err(TransferError::Broken(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    let (size, sha256) = sha256_file_async(path).await?;
    let begin = ClientMessage::UploadBegin(UploadBegin {
        name,
        size,
        sha256,
        comment: comment.filter(|c| !c.trim().is_empty()),
    });
    let ticket = match control.ask(begin).await? {
        ServerMessage::UploadReady(ready) => ready.ticket,
        other => {
            return Err(TransferError::Broken(format!(
                "unexpected answer to upload_begin: {}",
                format!("{other:?}").chars().take(120).collect::<String>()
            )));
        }
    };
    let mut conn = data::open(server, &control.transport, &ticket, Direction::Upload).await?;
    let (offset, length) = (conn.ready.offset, conn.ready.length);
    if offset.checked_add(length) != Some(size) {
        return Err(TransferError::Broken(format!(
            "the server asked for {length} bytes from {offset} of a {size}-byte file"
        )));
    }
    info!(offset, length, "sending");
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(TransferError::io(format!("cannot read {}", path.display())))?;
    file.seek(SeekFrom::Start(offset))
        .await
        .map_err(TransferError::io(format!("cannot read {}", path.display())))?;
    reporter.bytes_begin(offset);
    reporter.progress(offset, size).await;
    let mut buf = vec![0u8; CHUNK];
    let mut sent = 0u64;
    while sent < length {
        let want = usize::try_from(length - sent).map_or(CHUNK, |left| left.min(CHUNK));
        let n = file
            .read(&mut buf[..want])
            .await
            .map_err(TransferError::io(format!("cannot read {}", path.display())))?;
        if n == 0 {
            return Err(TransferError::Broken(format!(
                "{} became shorter while it was being sent",
                path.display()
            )));
        }
        conn.writer
            .write_all(&buf[..n])
            .await
            .map_err(TransferError::io("sending failed"))?;
        sent += n as u64;
        reporter.progress(offset + sent, size).await;
    }
    conn.writer
        .flush()
        .await
        .map_err(TransferError::io("sending failed"))?;
    let done = data::finish_upload(&mut conn.frames).await?;
    info!(id = done.file.id, "uploaded");
    Ok(())
}
