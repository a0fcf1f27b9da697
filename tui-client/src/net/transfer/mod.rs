//! File transfers beside the chat: the registry of running transfers, the
//! way a transfer task asks the control connection for its ticket, progress
//! reports, and hashing a local file.
//!
//! Every transfer is a task of its own with its own data connection, so the
//! chat's reader and writer never wait for file bytes. A transfer task talks
//! to the control connection only through [`Control::ask`]: the manager sends
//! the request on the logged-in link and hands the reply (matched by `seq`)
//! back on a oneshot. A dropped control connection drops the oneshot, and the
//! transfer fails with a clear reason (it can be resumed later).

use std::collections::HashMap;
use std::io::{self, Read as _};
use std::path::Path;
use std::time::Duration;

use chatroom_shared::message::{ClientMessage, Direction, ErrorReply, ServerMessage};
use sha2::{Digest as _, Sha256};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument as _, debug, info, info_span};

mod data;
mod download;
mod upload;

pub use download::{part_path, unique_target};

use super::dial::Transport;
use super::{NetCommand, NetEvent, TransferState, TransferUpdate};

/// Buffer size for hashing, reading and writing file data.
pub(crate) const CHUNK: usize = 256 * 1024;
/// Shortest time between two progress reports of one transfer.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);
/// Control requests of transfers waiting for the manager.
const CONTROL_QUEUE: usize = 16;

/// Why a transfer stopped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TransferError {
    /// Local file or network IO failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// The server refused.
    #[error("{} ({})", .0.message, .0.code)]
    Refused(ErrorReply),
    /// Something did not fit the protocol or the file.
    #[error("{0}")]
    Broken(String),
    /// The control connection is gone (the transfer can be started again).
    #[error("the connection to the server was lost; try again once reconnected")]
    Lost,
}

impl TransferError {
    /// An IO error with what was being done.
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(io::Error) -> Self {
        let what = what.into();
        move |source| Self::Io { what, source }
    }
}

/// A request of a transfer task for the control connection.
#[derive(Debug)]
pub(crate) struct ControlRequest {
    /// The request (`upload_begin`, `download_begin`).
    pub(crate) body: ClientMessage,
    /// Where the reply goes.
    pub(crate) reply: oneshot::Sender<ServerMessage>,
}

/// A transfer task's way to the control connection, and how it opens its own
/// data connection.
#[derive(Debug, Clone)]
pub(crate) struct Control {
    tx: mpsc::Sender<ControlRequest>,
    /// Plain or TLS, as the control connection.
    pub(crate) transport: Transport,
}

impl Control {
    /// Send `body` on the control connection and wait for its reply (a
    /// refusal comes back as [`TransferError::Refused`]).
    pub(crate) async fn ask(&self, body: ClientMessage) -> Result<ServerMessage, TransferError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(ControlRequest { body, reply })
            .await
            .map_err(|_| TransferError::Lost)?;
        match answer.await.map_err(|_| TransferError::Lost)? {
            ServerMessage::Error(e) => Err(TransferError::Refused(e)),
            other => Ok(other),
        }
    }
}

/// The running transfers, kept by the manager across reconnects.
#[derive(Debug)]
pub(crate) struct Transfers {
    control: Control,
    /// Requests from transfer tasks; the manager sends them while connected.
    pub(crate) requests: mpsc::Receiver<ControlRequest>,
    running: HashMap<u64, CancellationToken>,
}

impl Transfers {
    /// No transfers yet; their data connections go over `transport`.
    pub(crate) fn new(transport: Transport) -> Self {
        let (tx, requests) = mpsc::channel(CONTROL_QUEUE);
        Self {
            control: Control { tx, transport },
            requests,
            running: HashMap::new(),
        }
    }

    /// Start an `Upload` or `Download` command (other commands are ignored)
    /// against `server`; with no server (not logged in) it fails at once.
    pub(crate) fn start(
        &mut self,
        cmd: NetCommand,
        server: Option<&str>,
        events: &mpsc::Sender<NetEvent>,
    ) {
        let job = match cmd {
            NetCommand::Upload {
                transfer_id,
                path,
                comment,
            } => Job::Upload {
                transfer_id,
                path,
                comment,
            },
            NetCommand::Download {
                transfer_id,
                file,
                dir,
            } => Job::Download {
                transfer_id,
                file,
                dir,
            },
            NetCommand::CancelTransfer { transfer_id } => {
                self.cancel(transfer_id);
                return;
            }
            _ => return,
        };
        let mut reporter = Reporter::new(job.id(), job.name(), job.direction(), events.clone());
        let Some(server) = server.map(str::to_owned) else {
            tokio::spawn(async move {
                reporter
                    .finish(Err(TransferError::Broken("not logged in".into())))
                    .await;
            });
            return;
        };
        self.running.retain(|_, token| !token.is_cancelled());
        let token = CancellationToken::new();
        self.running.insert(job.id(), token.clone());
        let control = self.control.clone();
        let span = info_span!("transfer", id = job.id(), name = %job.name());
        tokio::spawn(
            async move {
                reporter.report(TransferState::Started).await;
                let outcome = tokio::select! {
                    r = job.run(&server, &control, &mut reporter) => r.map(Some),
                    () = token.cancelled() => Ok(None),
                };
                // Marks the entry as finished for the registry's clean-up.
                token.cancel();
                reporter.finish_or_cancel(outcome).await;
            }
            .instrument(span),
        );
    }

    /// Stop a running transfer (nothing happens for an unknown or finished one).
    pub(crate) fn cancel(&mut self, transfer_id: u64) {
        if let Some(token) = self.running.remove(&transfer_id) {
            info!(transfer_id, "transfer cancelled");
            token.cancel();
        }
    }
}

/// One transfer to run.
enum Job {
    Upload {
        transfer_id: u64,
        path: std::path::PathBuf,
        comment: Option<String>,
    },
    Download {
        transfer_id: u64,
        file: chatroom_shared::message::FileInfo,
        dir: std::path::PathBuf,
    },
}

impl Job {
    fn id(&self) -> u64 {
        match self {
            Self::Upload { transfer_id, .. } | Self::Download { transfer_id, .. } => *transfer_id,
        }
    }

    fn name(&self) -> String {
        match self {
            Self::Upload { path, .. } => path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
            Self::Download { file, .. } => file.name.clone(),
        }
    }

    fn direction(&self) -> Direction {
        match self {
            Self::Upload { .. } => Direction::Upload,
            Self::Download { .. } => Direction::Download,
        }
    }

    async fn run(
        &self,
        server: &str,
        control: &Control,
        reporter: &mut Reporter,
    ) -> Result<Option<std::path::PathBuf>, TransferError> {
        match self {
            Self::Upload { path, comment, .. } => {
                upload::run(server, control, reporter, path, comment.clone()).await?;
                Ok(None)
            }
            Self::Download { file, dir, .. } => download::run(server, control, reporter, file, dir)
                .await
                .map(Some),
        }
    }
}

/// Sends one transfer's [`TransferUpdate`]s, progress at most every 100 ms.
#[derive(Debug)]
pub(crate) struct Reporter {
    transfer_id: u64,
    name: String,
    direction: Direction,
    events: mpsc::Sender<NetEvent>,
    began: Instant,
    base: u64,
    last: Option<Instant>,
}

impl Reporter {
    fn new(
        transfer_id: u64,
        name: String,
        direction: Direction,
        events: mpsc::Sender<NetEvent>,
    ) -> Self {
        Self {
            transfer_id,
            name,
            direction,
            events,
            began: Instant::now(),
            base: 0,
            last: None,
        }
    }

    /// Bytes start flowing now, `base` of them already in place (resume).
    pub(crate) fn bytes_begin(&mut self, base: u64) {
        self.began = Instant::now();
        self.base = base;
    }

    /// `done` of `total` bytes are in place; reported unless the last report
    /// was less than 100 ms ago (the final one is always reported).
    pub(crate) async fn progress(&mut self, done: u64, total: u64) {
        let now = Instant::now();
        if done < total && self.last.is_some_and(|t| now - t < PROGRESS_EVERY) {
            return;
        }
        self.last = Some(now);
        let secs = (now - self.began).as_secs_f64();
        let moved = done.saturating_sub(self.base) as f64;
        let rate = if secs > 0.0 { (moved / secs) as u64 } else { 0 };
        self.report(TransferState::Progress { done, total, rate })
            .await;
    }

    async fn report(&self, state: TransferState) {
        let update = TransferUpdate {
            transfer_id: self.transfer_id,
            name: self.name.clone(),
            direction: self.direction,
            state,
        };
        if self.events.send(NetEvent::Transfer(update)).await.is_err() {
            debug!("the app stopped listening");
        }
    }

    async fn finish(&self, outcome: Result<Option<std::path::PathBuf>, TransferError>) {
        let state = match outcome {
            Ok(saved) => {
                info!(?saved, "transfer done");
                TransferState::Done { saved }
            }
            Err(TransferError::Refused(e)) => {
                info!(code = %e.code, "transfer refused");
                TransferState::Refused(e)
            }
            Err(e) => {
                info!(error = %e, "transfer failed");
                TransferState::Failed(e.to_string())
            }
        };
        self.report(state).await;
    }

    async fn finish_or_cancel(
        &self,
        outcome: Result<Option<Option<std::path::PathBuf>>, TransferError>,
    ) {
        match outcome {
            Ok(None) => self.report(TransferState::Cancelled).await,
            Ok(Some(saved)) => self.finish(Ok(saved)).await,
            Err(e) => self.finish(Err(e)).await,
        }
    }
}

/// Size and SHA-256 (64 lowercase hex digits) of a local file, read in
/// 256 KiB pieces (blocking: call it from `spawn_blocking`).
pub fn sha256_file(path: &Path) -> io::Result<(u64, String)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hex(&hasher.finalize())))
}

/// [`sha256_file`] on the blocking pool.
pub(crate) async fn sha256_file_async(path: &Path) -> Result<(u64, String), TransferError> {
    let owned = path.to_owned();
    let what = format!("cannot read {}", path.display());
    tokio::task::spawn_blocking(move || sha256_file(&owned))
        .await
        .map_err(|e| TransferError::Broken(format!("hashing stopped: {e}")))?
        .map_err(TransferError::io(what))
}

/// Lowercase hex digits of `bytes`.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_a_file_like_sha256sum() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc.txt");
        std::fs::write(&path, b"abc").unwrap();
        let (size, sum) = sha256_file(&path).unwrap();
        assert_eq!(size, 3);
        assert_eq!(
            sum,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let big = dir.path().join("big");
        std::fs::write(&big, vec![7u8; CHUNK * 2 + 5]).unwrap();
        let (size, sum) = sha256_file(&big).unwrap();
        assert_eq!(size, (CHUNK * 2 + 5) as u64);
        assert_eq!(sum, hex(&Sha256::digest(vec![7u8; CHUNK * 2 + 5])));
    }
}
