//! A logged-in connection split into two tasks: the reader decodes every
//! frame and passes it on, the writer is the only one writing to the socket.
//!
//! Reading never waits for writing (the protocol drops clients that stop
//! reading while they send, §10.7). Both directions go through bounded
//! channels; dropping the [`Link`] stops both tasks and closes the socket.

use bytes::Bytes;
use chatroom_shared::message::{ClientMessage, Request, ServerMessage};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{debug, error, info};

use super::connection::{Conn, Frames, read_message};
use super::dial::WriteHalf;

/// Frames waiting for the writer.
const OUTGOING_QUEUE: usize = 64;
/// Messages read and not yet handled.
const INCOMING_QUEUE: usize = 256;
/// After a failed write, how long the reader has to report the end itself.
const READER_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// What the reader and writer tasks report.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "each message is moved once through a bounded channel and handled at once; \
              boxing it would only add an allocation per message"
)]
pub(crate) enum LinkEvent {
    /// A message from the server.
    Message(ServerMessage),
    /// The connection is gone (end of stream, read or write error).
    Closed(String),
}

/// The writer's queue is gone: the connection failed.
#[derive(Debug, thiserror::Error)]
#[error("the connection is closed")]
pub(crate) struct LinkClosed;

/// The two tasks of one logged-in connection.
#[derive(Debug)]
pub(crate) struct Link {
    outgoing: mpsc::Sender<Bytes>,
    incoming: mpsc::Receiver<LinkEvent>,
    next_seq: u32,
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
}

impl Link {
    /// Start the reader and writer tasks on `conn`.
    pub(crate) fn start(conn: Conn) -> Self {
        let (frames, write_half, next_seq) = conn.into_parts();
        let (out_tx, out_rx) = mpsc::channel(OUTGOING_QUEUE);
        let (in_tx, in_rx) = mpsc::channel(INCOMING_QUEUE);
        let reader = tokio::spawn(read_loop(frames, in_tx.clone()));
        let writer = tokio::spawn(write_loop(write_half, out_rx, in_tx));
        Self {
            outgoing: out_tx,
            incoming: in_rx,
            next_seq,
            reader,
            writer,
        }
    }

    /// The next message or the end of the connection.
    pub(crate) async fn recv(&mut self) -> LinkEvent {
        self.incoming
            .recv()
            .await
            .unwrap_or_else(|| LinkEvent::Closed("the connection closed".into()))
    }

    /// True when a request can be queued without waiting.
    pub(crate) fn has_room(&self) -> bool {
        self.outgoing.capacity() > 0
    }

    /// A future that completes once a request can be queued (or the writer
    /// is gone). It borrows nothing, so it can wait next to [`Link::recv`].
    pub(crate) fn room(&self) -> impl Future<Output = ()> + 'static {
        let outgoing = self.outgoing.clone();
        async move {
            // The permit is dropped at once: this only wakes the caller, which
            // is the only one queueing, so the room is still there when it does.
            let _ = outgoing.reserve().await;
        }
    }

    /// Queue a request without waiting; `Ok(None)` when the queue is full.
    /// Returns the request's `seq`.
    pub(crate) fn try_send(&mut self, body: ClientMessage) -> Result<Option<u32>, LinkClosed> {
        let seq = self.next_seq;
        let frame = match chatroom_shared::encode_frame(&Request { seq, body }) {
            Ok(frame) => frame,
            Err(e) => {
                error!(error = %e, "could not encode a request");
                return Ok(None);
            }
        };
        match self.outgoing.try_send(frame) {
            Ok(()) => {
                self.next_seq = self.next_seq.wrapping_add(1);
                Ok(Some(seq))
            }
            Err(mpsc::error::TrySendError::Full(_)) => Ok(None),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(LinkClosed),
        }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.reader.abort();
        self.writer.abort();
    }
}

/// Read until the connection ends, passing every message on.
async fn read_loop(mut frames: Frames, to_manager: mpsc::Sender<LinkEvent>) {
    let reason = loop {
        match read_message(&mut frames).await {
            Ok(Some(msg)) => {
                if to_manager.send(LinkEvent::Message(msg)).await.is_err() {
                    return;
                }
            }
            Ok(None) => break "the server closed the connection".to_owned(),
            Err(e) => {
                info!(error = %e, "reading failed");
                break "the connection was lost".to_owned();
            }
        }
    };
    debug!(%reason, "reader stops");
    let _ = to_manager.send(LinkEvent::Closed(reason)).await;
}

/// Write queued frames until the queue closes or a write fails.
async fn write_loop(
    mut socket: WriteHalf,
    mut frames: mpsc::Receiver<Bytes>,
    to_manager: mpsc::Sender<LinkEvent>,
) {
    while let Some(frame) = frames.recv().await {
        if let Err(e) = socket.write_all(&frame).await {
            info!(error = %e, "writing failed");
            let reason = "the connection was lost".to_owned();
            // The server may have closed on purpose with a last word (`kicked`,
            // an error) still unread: the reader reports the end after passing
            // that on. Only if it does not (a hung read) does the writer.
            tokio::time::sleep(READER_GRACE).await;
            let _ = to_manager.send(LinkEvent::Closed(reason)).await;
            return;
        }
    }
}
