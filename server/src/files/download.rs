//! Sending a stored file on a data connection: `transfer_ready`, then the raw bytes
//! from the requested offset, read in [`CHUNK`]-sized pieces (never the whole file).

use std::io;
use std::sync::Arc;

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{Direction, ServerMessage, TransferReady};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;
use tracing::info;

use super::tickets::DownloadPlan;
use super::{CHUNK, DataConn, TransferError};
use crate::server::Ctx;

/// Send `plan`'s bytes on `conn`.
pub async fn send(
    conn: &mut DataConn,
    plan: DownloadPlan,
    ctx: &Arc<Ctx>,
    shutdown: &CancellationToken,
) -> Result<(), TransferError> {
    let size = plan.file.size;
    let opened = ctx
        .files
        .store
        .open_read(&plan.storage_key, plan.offset)
        .await;
    let (file, on_disk) = match opened {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(TransferError::Refused(
                ErrorCode::FileNotFound,
                format!(
                    "the content of {:?} is missing on the server",
                    plan.file.name
                ),
            ));
        }
        Err(e) => return Err(TransferError::internal("opening the file", &e)),
    };
    if on_disk != size {
        return Err(TransferError::internal(
            "reading the file",
            &format!(
                "{} has {on_disk} bytes on disk, not {size}",
                plan.storage_key
            ),
        ));
    }
    let length = size - plan.offset;
    info!(name = %plan.file.name, size, offset = plan.offset, "download starts");
    let ready = ServerMessage::TransferReady(TransferReady {
        seq: conn.seq,
        direction: Direction::Download,
        offset: plan.offset,
        length,
    });
    conn.send(&ready, ctx.config.write_timeout).await?;

    let idle = ctx.config.transfer_idle_timeout;
    let mut file = file.take(length);
    let mut buf = vec![0u8; CHUNK];
    let mut sent = 0u64;
    while sent < length {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            return Err(TransferError::internal(
                "reading the file",
                &format!("it ended after {} bytes", plan.offset + sent),
            ));
        }
        let wrote = tokio::select! {
            // Raw bytes are flowing: an error frame now would read as file content,
            // so just close; the client resumes from what it has.
            () = shutdown.cancelled() => {
                return Err(io::Error::other("the server is shutting down").into());
            }
            r = tokio::time::timeout(idle, conn.write.write_all(&buf[..n])) => r,
        };
        match wrote {
            Ok(r) => r?,
            Err(_elapsed) => {
                info!(sent, length, "download stalled; closing");
                return Ok(());
            }
        }
        sent += n as u64;
    }
    conn.write.flush().await?;
    info!(sent, "download finished");
    Ok(())
}
