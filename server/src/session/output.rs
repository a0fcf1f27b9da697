//! The output side of a session: gathering outbox items into one write,
//! writing with a deadline, and delivering what is still owed at shutdown.

use crate::transport::ReadHalf;
use bytes::BytesMut;
use chatroom_shared::ErrorCode;
use chatroom_shared::message::{ErrorReply, LeaveReason, ServerMessage, ServerShutdown};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{Duration, Instant, timeout, timeout_at};
use tokio_util::codec::FramedRead;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::{COALESCE_BYTES, LoggedIn, MAX_COALESCE, Phase, RETAINED_WRITE_BUFFER, Session};
use crate::outbox::{CloseReason, Outbound};
use chatroom_shared::FrameCodec;

/// How long a closing session keeps reading what the client still sends.
const LINGER: Duration = Duration::from_secs(2);
/// How much a closing session reads and discards at most.
const LINGER_BYTES: usize = 256 * 1024;

/// Copy an outbox item into the write buffer, leaving out what this session
/// must not get again: its own messages (acknowledged instead) and messages
/// already in its `login_ok`.
pub(super) fn absorb(wbuf: &mut BytesMut, l: &LoggedIn, item: Outbound) {
    match item {
        Outbound::Frames(frames) => wbuf.extend_from_slice(&frames),
        Outbound::Batch { batch, .. } => {
            for e in batch.events.iter() {
                if !e.to.includes(l.uid) || e.message_id.is_some_and(|id| id <= l.skip_upto) {
                    continue;
                }
                wbuf.extend_from_slice(&e.frame);
            }
        }
        Outbound::Close(_) => {}
    }
}

impl Session {
    /// Write one outbox item plus whatever else is ready, in one write.
    /// Returns `Some` when the session must end.
    pub(super) async fn write_outbound(
        &mut self,
        first: Option<Outbound>,
    ) -> Option<Option<LeaveReason>> {
        let Phase::LoggedIn(l) = &mut self.phase else {
            return None;
        };
        let mut end = None;
        let mut next = first;
        let mut gathered = 0;
        loop {
            match next {
                // The hub dropped this session (too slow) and every ack is out.
                None => {
                    end = Some(Some(LeaveReason::TooSlow));
                    break;
                }
                Some(Outbound::Close(reason)) => {
                    debug!(?reason, "closed by the hub");
                    end = Some(Some(match reason {
                        CloseReason::Replaced => LeaveReason::Disconnected,
                        CloseReason::Kicked => LeaveReason::Kicked,
                    }));
                    break;
                }
                Some(item) => absorb(&mut self.wbuf, l, item),
            }
            gathered += 1;
            if gathered >= MAX_COALESCE || self.wbuf.len() >= COALESCE_BYTES {
                break;
            }
            match l.outbox.try_recv() {
                Ok(Some(item)) => next = Some(item),
                Ok(None) => break,
                Err(_closed) => next = None,
            }
        }
        if self.flush().await.is_err() {
            return Some(Some(LeaveReason::Disconnected));
        }
        end
    }

    /// After shutdown began: tell the client, then deliver the replies still
    /// owed (acks of messages being stored) until the server says flush.
    pub(super) async fn finish_shutdown(&mut self, flush: &CancellationToken) {
        self.queue(&ServerMessage::ServerShutdown(ServerShutdown {
            message: "the server is shutting down".into(),
        }));
        if self.flush().await.is_err() {
            return;
        }
        loop {
            let next = {
                let Phase::LoggedIn(l) = &mut self.phase else {
                    return;
                };
                tokio::select! {
                    biased;
                    item = l.outbox.recv() => Some(item),
                    () = flush.cancelled() => None,
                }
            };
            match next {
                Some(Some(item)) => {
                    if self.write_outbound(Some(item)).await.is_some() {
                        return;
                    }
                }
                Some(None) => return,
                None => {
                    // Everything is stored and acknowledged: write what is queued and go.
                    if let Phase::LoggedIn(l) = &mut self.phase {
                        while let Ok(Some(item)) = l.outbox.try_recv() {
                            absorb(&mut self.wbuf, l, item);
                        }
                    }
                    let _ = self.flush().await;
                    return;
                }
            }
        }
    }

    /// Encode a message into the write buffer. A reply the codec refuses (over
    /// the frame limit) becomes an `internal` error for its `seq`, so the request
    /// is still answered; anything else refused is left out, with a warning.
    pub(super) fn queue(&mut self, msg: &ServerMessage) {
        let Err(e) = chatroom_shared::encode_frame_into(&mut self.wbuf, msg) else {
            return;
        };
        let Some(seq) = msg.seq() else {
            warn!(error = %e, "could not encode a message; left out");
            return;
        };
        warn!(error = %e, seq, "could not encode a reply; answering with an error");
        let reply = ErrorReply::new(
            Some(seq),
            ErrorCode::Internal,
            format!("the reply is too large to send: {e}"),
        );
        if let Err(e) =
            chatroom_shared::encode_frame_into(&mut self.wbuf, &ServerMessage::Error(reply))
        {
            warn!(error = %e, "could not encode an error either");
        }
    }

    /// Write the buffer out, giving up after the write timeout.
    pub(super) async fn flush(&mut self) -> Result<(), ()> {
        if self.wbuf.is_empty() {
            return Ok(());
        }
        let result = timeout(
            self.ctx.config.write_timeout,
            self.writer.write_all(&self.wbuf),
        )
        .await;
        // A big buffer (a long login_ok, a burst) is not kept for an idle session:
        // thousands of idle sessions would each hold one.
        if self.wbuf.capacity() > RETAINED_WRITE_BUFFER {
            self.wbuf = BytesMut::new();
        } else {
            self.wbuf.clear();
        }
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                debug!(error = %e, "write failed");
                Err(())
            }
            Err(_) => {
                info!("client did not read within the write timeout");
                metrics::counter!(crate::metrics::CLIENTS_DROPPED, "reason" => "write_timeout")
                    .increment(1);
                Err(())
            }
        }
    }

    /// Send an error right away (before closing).
    pub(super) async fn send_error_now(&mut self, reply: ErrorReply) {
        self.queue(&ServerMessage::Error(reply));
        let _ = self.flush().await;
    }
}

/// A lingering close, after the write side is shut down: read and discard
/// what the client still sends until it closes too (or [`LINGER`] passes).
/// Closing a socket with unread data makes the kernel send a reset, and a
/// reset can destroy the client's copy of our last frame (`kicked`, the
/// error that explains the close) before the client reads it.
pub(super) async fn linger(reader: FramedRead<ReadHalf, FrameCodec>) {
    let mut io = reader.into_parts().io;
    let deadline = Instant::now() + LINGER;
    let mut buf = vec![0u8; 4096];
    let mut total = 0;
    while total < LINGER_BYTES {
        match timeout_at(deadline, io.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => total += n,
            _ => break,
        }
    }
}
