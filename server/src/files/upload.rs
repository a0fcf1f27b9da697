//! Receiving an upload on a data connection.
//!
//! The socket is read on the connection's task; blocking threads append the bytes to
//! the partial file, hash them and write them back to disk side by side
//! ([`PartialFile::append_all`]), fed through a bounded channel so a slow disk slows
//! the sender (TCP backpressure) instead of growing memory. Once every byte
//! is in and the SHA-256 matches, the file is synced, moved into place, recorded and
//! announced. An upload that stops early keeps its partial file for a resume and lists
//! nothing.

use bytes::Bytes;
use chatroom_shared::ErrorCode;
use chatroom_shared::message::{
    Direction, FileInfo, FileShared, ServerMessage, TransferDone, TransferReady,
};
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::store::{FileStore, PartialFile};
use super::tickets::{Reservation, UploadPlan};
use super::{CHUNK, DataConn, Transfer, TransferError};
use crate::db::files::{self, InsertFileError, NewFile};
use crate::delivery::{Audience, Event};
use crate::time::now_ms;
use crate::untrusted::untrusted;

/// Chunks queued for the writer thread: with [`CHUNK`]-sized chunks, at most a few MiB
/// in memory per upload.
const QUEUE_CHUNKS: usize = 8;

/// Receive the bytes of `plan` on `conn`, then store and share the file.
pub async fn receive(
    conn: &mut DataConn,
    plan: UploadPlan,
    reservation: Reservation,
    ctx: &Transfer,
    shutdown: &CancellationToken,
) -> Result<(), TransferError> {
    let length = plan.size - plan.offset.min(plan.size);
    info!(name = %untrusted(&plan.name), size = plan.size, offset = plan.offset, "upload starts");
    let ready = ServerMessage::TransferReady(TransferReady {
        seq: conn.seq,
        direction: Direction::Upload,
        offset: plan.offset,
        length,
    });
    conn.send(&ready, ctx.write_timeout).await?;

    let _active =
        crate::metrics::Open::gauge(crate::metrics::TRANSFERS_ACTIVE, &[("direction", "upload")]);
    let store = ctx.store.clone();
    let (tx, rx) = mpsc::channel(QUEUE_CHUNKS);
    let (key, offset) = (plan.key.clone(), plan.offset);
    let writer = tokio::task::spawn_blocking(move || write_partial(&store, &key, offset, rx));
    let received = read_into(conn, length, tx, ctx, shutdown).await;
    let partial = match writer.await {
        Ok(Ok(p)) => {
            metrics::counter!(crate::metrics::TRANSFER_BYTES, "direction" => "upload")
                .increment(p.len().saturating_sub(plan.offset));
            p
        }
        Ok(Err(e)) => return Err(storage_failed(ctx, &plan.key, "writing the upload", &e).await),
        Err(e) => return Err(TransferError::internal("the upload writer", &e)),
    };
    received?;
    if partial.len() != plan.size {
        return Err(TransferError::internal(
            "the upload",
            &format!("{} bytes stored of {}", partial.len(), plan.size),
        ));
    }
    let sum = match blocking(move || partial.finish()).await {
        Ok(sum) => sum,
        Err(e) => return Err(storage_failed(ctx, &plan.key, "syncing the upload", &e).await),
    };
    if sum != plan.sha256 {
        info!(name = %untrusted(&plan.name), "checksum mismatch; upload discarded");
        remove_partial(ctx, &plan.key).await;
        return Err(TransferError::Refused(
            ErrorCode::ChecksumMismatch,
            format!(
                "the bytes received have SHA-256 {sum}, not {}; nothing was shared",
                plan.sha256
            ),
        ));
    }
    let file = store_and_record(ctx, &plan).await?;
    // Recorded: the name is now held by the database's UNIQUE index.
    drop(reservation);
    info!(id = file.id, name = %untrusted(&file.name), "file shared");
    let done = ServerMessage::TransferDone(TransferDone {
        seq: conn.seq,
        file: file.clone(),
    });
    if let Err(e) = conn.send(&done, ctx.write_timeout).await {
        // The file is shared all the same; the client sees it in file_shared.
        info!(error = %e, "could not send transfer_done");
    }
    let shared = Event::new(
        crate::outbox::encode_event(&ServerMessage::FileShared(FileShared { file })),
        Audience::EVERYONE,
    );
    if ctx.hub.deliver(vec![shared]).await.is_err() {
        warn!("the hub has stopped; file_shared not announced");
    }
    Ok(())
}

/// Read exactly `length` bytes (those already buffered first) and hand them to the
/// writer. Whatever arrived is handed over even when the connection fails half-way,
/// so a resume continues after it.
async fn read_into(
    conn: &mut DataConn,
    length: u64,
    tx: mpsc::Sender<Bytes>,
    ctx: &Transfer,
    shutdown: &CancellationToken,
) -> Result<(), TransferError> {
    let idle = ctx.idle_timeout;
    let mut remaining = length;
    let mut buf = std::mem::take(&mut conn.buffered);
    buf.truncate(usize::try_from(remaining).unwrap_or(usize::MAX));
    remaining -= buf.len() as u64;
    let writer_gone = || TransferError::Refused(ErrorCode::Internal, "storing failed".into());
    while remaining > 0 {
        if buf.len() >= CHUNK / 2 && tx.send(buf.split().freeze()).await.is_err() {
            return Err(writer_gone());
        }
        buf.reserve(CHUNK);
        let mut limited = (&mut conn.read).take(remaining);
        let read = tokio::select! {
            () = shutdown.cancelled() => None,
            r = tokio::time::timeout(idle, limited.read_buf(&mut buf)) => Some(r),
        };
        let stopped = match read {
            None => Some(TransferError::Refused(
                ErrorCode::ShuttingDown,
                "the server is shutting down; resume the upload later".into(),
            )),
            Some(Err(_elapsed)) => Some(TransferError::Refused(
                ErrorCode::TransferIncomplete,
                format!(
                    "no bytes arrived for {}; send upload_begin again to resume",
                    humantime::format_duration(idle)
                ),
            )),
            Some(Ok(Ok(0))) => Some(TransferError::Refused(
                ErrorCode::TransferIncomplete,
                format!(
                    "the upload ended {remaining} bytes early; send upload_begin again to resume"
                ),
            )),
            Some(Ok(Ok(n))) => {
                remaining -= n as u64;
                None
            }
            Some(Ok(Err(e))) => Some(TransferError::Io(e)),
        };
        if let Some(err) = stopped {
            info!(
                received = length - remaining,
                length, "upload interrupted; partial kept"
            );
            if !buf.is_empty() {
                let _ = tx.send(buf.freeze()).await;
            }
            return Err(err);
        }
    }
    if !buf.is_empty() && tx.send(buf.freeze()).await.is_err() {
        return Err(writer_gone());
    }
    Ok(())
}

/// The writer thread: open the partial file at `offset` and append every chunk.
fn write_partial(
    store: &FileStore,
    key: &str,
    offset: u64,
    mut rx: mpsc::Receiver<Bytes>,
) -> std::io::Result<PartialFile> {
    let mut partial = store.open_partial(key, offset)?;
    partial.append_all(|| rx.blocking_recv())?;
    Ok(partial)
}

/// Move the verified upload into place and record it. A name recorded meanwhile (by
/// another node, or a race the reservation missed) removes the file: `file_exists`.
async fn store_and_record(ctx: &Transfer, plan: &UploadPlan) -> Result<FileInfo, TransferError> {
    let store = ctx.store.clone();
    let key = plan.key.clone();
    let storage_key = blocking(move || store.finalize(&key))
        .await
        .map_err(|e| TransferError::internal("storing the upload", &e))?;
    let now = now_ms();
    let inserted = files::insert_file(
        &ctx.db,
        NewFile {
            name: &plan.name,
            size: plan.size,
            sha256: &plan.sha256,
            uid: plan.uid,
            comment: plan.comment.as_deref(),
            now,
            storage_key: &storage_key,
        },
    )
    .await;
    let id = match inserted {
        Ok(id) => id,
        Err(e) => {
            remove_stored(ctx, &storage_key).await;
            return Err(match e {
                InsertFileError::NameTaken => {
                    remove_partial(ctx, &plan.key).await;
                    TransferError::Refused(
                        ErrorCode::FileExists,
                        format!("a file named {:?} was shared meanwhile", plan.name),
                    )
                }
                // The partial stays: the upload can be resumed (at its end) later.
                InsertFileError::Db(e) => TransferError::internal("recording the upload", &e),
            });
        }
    };
    remove_partial(ctx, &plan.key).await;
    Ok(FileInfo {
        id,
        name: plan.name.clone(),
        size: plan.size,
        sha256: plan.sha256.clone(),
        uploader: plan.uploader.clone(),
        comment: plan.comment.clone(),
        ts: now,
    })
}

/// The disk failed the upload (not the client): the partial is deleted, since a full
/// disk would stay full with it and a failed write leaves bytes nobody can vouch for.
/// No space left is `storage_full`, anything else `internal`.
async fn storage_failed(
    ctx: &Transfer,
    key: &str,
    what: &str,
    e: &std::io::Error,
) -> TransferError {
    remove_partial(ctx, key).await;
    use std::io::ErrorKind::{FileTooLarge, QuotaExceeded, StorageFull};
    if matches!(e.kind(), StorageFull | QuotaExceeded | FileTooLarge) {
        warn!(error = %e, "{what} failed: no space left; upload discarded");
        return TransferError::Refused(
            ErrorCode::StorageFull,
            "the server ran out of storage space; nothing was shared and the bytes were \
             discarded; try again later"
                .into(),
        );
    }
    TransferError::internal(what, e)
}

async fn remove_partial(ctx: &Transfer, key: &str) {
    let store = ctx.store.clone();
    let key = key.to_owned();
    if let Err(e) = blocking(move || store.remove_partial(&key)).await {
        warn!(error = %e, "cannot remove a partial upload");
    }
}

async fn remove_stored(ctx: &Transfer, storage_key: &str) {
    let store = ctx.store.clone();
    let storage_key = storage_key.to_owned();
    if let Err(e) = blocking(move || store.remove_stored(&storage_key)).await {
        warn!(error = %e, "cannot remove a stored file");
    }
}

/// Run blocking file-system work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)))
}
