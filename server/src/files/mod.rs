//! Shared files: where their bytes live, the tickets that open data connections, and
//! the data connections themselves.
//!
//! The control connection (see `session::files`) checks `upload_begin` and
//! `download_begin` and hands out one-time tickets ([`tickets`]). A client then opens a
//! new TCP connection to the same port and sends `transfer{ticket}` as its first
//! request; that connection becomes a data connection, served by [`serve`] on its own
//! task: [`upload`] receives bytes into a partial file and shares the file once its
//! SHA-256 matches, [`download`] streams a stored file. A data connection is never a
//! chat session (no presence, no hub entry), so a transfer never delays chat.
//!
//! - [`store`]: the files directory (partial uploads, stored files), behind one
//!   small interface.
//! - [`tickets`]: tickets and the names of uploads in progress.

pub mod download;
pub mod store;
pub mod tickets;
pub mod upload;

use std::time::Duration;

use bytes::BytesMut;
use chatroom_shared::ErrorCode;
use chatroom_shared::message::{ErrorReply, FileInfo, ServerMessage};
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::db::files::StoredFile;
use crate::hub::Hub;
use crate::transport::{ReadHalf, WriteHalf};
use store::FileStore;
use tickets::{Grant, Tickets};

/// Partial uploads untouched for this long are removed at start.
pub const PARTIAL_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// Bytes read or written per step on a data connection.
pub const CHUNK: usize = 256 * 1024;

/// The file-sharing state every session shares.
#[derive(Debug, Clone)]
pub struct Files {
    /// Where the bytes live.
    pub store: FileStore,
    /// Outstanding tickets and reserved names.
    pub tickets: Tickets,
}

impl Files {
    /// Open the files directory under `data_dir` (creating it) and drop partial uploads
    /// abandoned for more than [`PARTIAL_MAX_AGE`]. Tickets last `ticket_ttl`; one user
    /// has at most `max_uploads_per_user` uploads at once (0: no limit).
    pub fn open(
        data_dir: &std::path::Path,
        ticket_ttl: Duration,
        max_uploads_per_user: u32,
    ) -> std::io::Result<Self> {
        let store = FileStore::open(data_dir)?;
        if let Err(e) = store.sweep_partials(PARTIAL_MAX_AGE) {
            warn!(error = %e, "cannot sweep old partial uploads");
        }
        Ok(Self {
            store,
            tickets: Tickets::new(ticket_ttl, max_uploads_per_user),
        })
    }
}

/// A stored file as clients see it.
pub fn to_info(f: &StoredFile) -> FileInfo {
    FileInfo {
        id: f.id,
        name: f.name.clone(),
        size: f.size,
        sha256: f.sha256.clone(),
        uploader: f.uploader.clone(),
        comment: f.comment.clone(),
        ts: f.send_time,
    }
}

/// A connection whose first request was a valid `transfer`.
pub struct DataConn {
    /// The socket's read half.
    pub read: ReadHalf,
    /// Bytes read past the `transfer` frame: the first bytes of an upload.
    pub buffered: BytesMut,
    /// The socket's write half.
    pub write: WriteHalf,
    /// The `transfer` request's `seq`, carried by every reply.
    pub seq: u32,
}

/// Why a data connection failed after its ticket was accepted.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// Refused with this code and message.
    #[error("{1}")]
    Refused(ErrorCode, String),
    /// The peer went away or stopped moving bytes.
    #[error("the connection failed: {0}")]
    Io(#[from] std::io::Error),
}

impl TransferError {
    /// An `internal` error, logged here.
    pub fn internal(what: &str, err: &dyn std::fmt::Display) -> Self {
        warn!(error = %err, "{what} failed");
        Self::Refused(
            ErrorCode::Internal,
            format!("{what} failed inside the server; try again"),
        )
    }
}

impl DataConn {
    /// Write one message, within the write timeout.
    pub async fn send(&mut self, msg: &ServerMessage, limit: Duration) -> std::io::Result<()> {
        let frame = chatroom_shared::encode_frame(msg).map_err(std::io::Error::other)?;
        tokio::time::timeout(limit, self.write.write_all(&frame))
            .await
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))?
    }

    /// Send an error for the `transfer` request.
    pub async fn send_error(&mut self, code: ErrorCode, message: String, limit: Duration) {
        let reply = ServerMessage::Error(ErrorReply::new(Some(self.seq), code, message));
        if let Err(e) = self.send(&reply, limit).await {
            debug!(error = %e, "could not send an error on a data connection");
        }
    }
}

/// What a data connection uses: where the bytes live, the database (to record
/// a shared file), the hub (to announce it) and its timeouts.
#[derive(Debug, Clone)]
pub struct Transfer {
    /// Where the bytes live.
    pub store: FileStore,
    /// The database pool.
    pub db: sea_orm::DatabaseConnection,
    /// Announces a file once it is shared.
    pub hub: Hub,
    /// How long one write may take.
    pub write_timeout: Duration,
    /// How long a transfer may move no bytes.
    pub idle_timeout: Duration,
}

/// Tickets issued by other nodes of a cluster, which this node does not hold:
/// claimed from the node that issued them (the cluster implements this).
pub trait TicketsElsewhere: Send + Sync + 'static {
    /// The plan of a ticket another node issued, now redeemed there; `None`
    /// when no node held it or none answered in time.
    fn claim<'a>(
        &'a self,
        ticket: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<tickets::Plan>> + Send + 'a>>;
}

/// Serve a data connection until its transfer ends; then the connection closes.
pub async fn serve(mut conn: DataConn, grant: Grant, ctx: Transfer, shutdown: CancellationToken) {
    let result = match grant {
        Grant::Upload(plan, reservation) => {
            upload::receive(&mut conn, plan, reservation, &ctx, &shutdown).await
        }
        Grant::Download(plan) => download::send(&mut conn, plan, &ctx, &shutdown).await,
    };
    match result {
        Ok(()) => {}
        Err(TransferError::Refused(code, message)) => {
            debug!(%code, "transfer failed");
            conn.send_error(code, message, ctx.write_timeout).await;
        }
        Err(TransferError::Io(e)) => debug!(error = %e, "data connection failed"),
    }
    let _ = conn.write.shutdown().await;
}
