//! Sending a stored file on a data connection: `transfer_ready`, then the raw bytes
//! from the requested offset, moved by the kernel with `sendfile(2)` on a plain
//! connection on Linux, and in [`CHUNK`]-sized reads under TLS (whose bytes must be
//! encrypted on their way) or elsewhere: never the whole file in memory.

use std::io;

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{Direction, ServerMessage, TransferReady};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;
use tracing::info;

use super::tickets::DownloadPlan;
use super::{CHUNK, DataConn, Transfer, TransferError};
use crate::untrusted::untrusted;

/// Send `plan`'s bytes on `conn`.
pub async fn send(
    conn: &mut DataConn,
    plan: DownloadPlan,
    ctx: &Transfer,
    shutdown: &CancellationToken,
) -> Result<(), TransferError> {
    let size = plan.file.size;
    let opened = ctx.store.open_read(&plan.storage_key, plan.offset).await;
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
    info!(name = %untrusted(&plan.file.name), size, offset = plan.offset, "download starts");
    let ready = ServerMessage::TransferReady(TransferReady {
        seq: conn.seq,
        direction: Direction::Download,
        offset: plan.offset,
        length,
    });
    conn.send(&ready, ctx.write_timeout).await?;

    let _active = crate::metrics::Open::gauge(
        crate::metrics::TRANSFERS_ACTIVE,
        &[("direction", "download")],
    );
    let idle = ctx.idle_timeout;
    let sent = tokio::select! {
        // Raw bytes are flowing: an error frame now would read as file content,
        // so just close; the client resumes from what it has.
        () = shutdown.cancelled() => {
            return Err(io::Error::other("the server is shutting down").into());
        }
        r = copy_range(file, plan.offset, length, conn, idle) => r?,
    };
    metrics::counter!(crate::metrics::TRANSFER_BYTES, "direction" => "download").increment(sent);
    if sent < length {
        info!(sent, length, "download stalled; closing");
        return Ok(());
    }
    conn.write.flush().await?;
    info!(sent, "download finished");
    Ok(())
}

/// Send `length` bytes of `file` (positioned at `offset`) the cheapest way the
/// connection allows. Returns the bytes sent: fewer than `length` when the client
/// stopped reading for `idle`.
async fn copy_range(
    file: tokio::fs::File,
    offset: u64,
    length: u64,
    conn: &mut DataConn,
    idle: std::time::Duration,
) -> Result<u64, TransferError> {
    #[cfg(target_os = "linux")]
    if let Some(socket) = crate::transport::plain_socket(&conn.write) {
        return send_file(file, offset, length, socket, idle).await;
    }
    let _ = offset;
    copy_by_reads(file, length, conn, idle).await
}

/// Send `length` bytes of `file` from `offset` with `sendfile(2)`: the kernel moves
/// page-cache pages to the socket without copying them through this process, which
/// leaves the CPU to the receiver (on loopback, to the client). Returns the bytes
/// sent: fewer than `length` when the client stopped reading for `idle`.
#[cfg(target_os = "linux")]
async fn send_file(
    file: tokio::fs::File,
    offset: u64,
    length: u64,
    socket: &tokio::net::TcpStream,
    idle: std::time::Duration,
) -> Result<u64, TransferError> {
    use tokio::io::Interest;
    let file = file.into_std().await;
    let mut pos = offset;
    let end = offset + length;
    while pos < end {
        let want = usize::try_from((end - pos).min(SENDFILE_STEP)).unwrap_or(CHUNK);
        let ready = tokio::time::timeout(idle, socket.writable()).await;
        match ready {
            Err(_elapsed) => return Ok(pos - offset),
            Ok(r) => r?,
        }
        let sent = socket.try_io(Interest::WRITABLE, || {
            rustix::fs::sendfile(socket, &file, Some(&mut pos), want).map_err(io::Error::from)
        });
        match sent {
            Ok(0) => {
                return Err(TransferError::internal(
                    "reading the file",
                    &format!("it ended after {pos} bytes"),
                ));
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(length)
}

/// Bytes asked of one `sendfile` call: large enough to fill the socket buffer, small
/// enough that one call never holds the task for long.
#[cfg(target_os = "linux")]
const SENDFILE_STEP: u64 = 4 * 1024 * 1024;

/// Send `length` bytes of `file` (positioned at the offset) in [`CHUNK`]-sized reads
/// and writes, where `sendfile(2)` cannot be used. Returns the bytes sent: fewer
/// than `length` when the client stopped reading for `idle`.
async fn copy_by_reads(
    file: tokio::fs::File,
    length: u64,
    conn: &mut DataConn,
    idle: std::time::Duration,
) -> Result<u64, TransferError> {
    let mut file = file.take(length);
    let mut buf = vec![0u8; CHUNK];
    let mut sent = 0u64;
    while sent < length {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            return Err(TransferError::internal(
                "reading the file",
                &format!("it ended after {sent} bytes"),
            ));
        }
        match tokio::time::timeout(idle, conn.write.write_all(&buf[..n])).await {
            Ok(r) => r?,
            Err(_elapsed) => return Ok(sent),
        }
        sent += n as u64;
    }
    Ok(sent)
}
