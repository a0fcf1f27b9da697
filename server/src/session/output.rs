//! The output side of a session: gathering outbox items into one write,
//! writing with a deadline, and delivering what is still owed at shutdown.

use bytes::BytesMut;
use chatroom_shared::message::{ErrorReply, LeaveReason, ServerMessage, ServerShutdown};
use tokio::io::AsyncWriteExt;
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::{COALESCE_BYTES, LoggedIn, MAX_COALESCE, Phase, Session};
use crate::outbox::{CloseReason, Outbound};

/// Copy an outbox item into the write buffer, leaving out what this session
/// must not get again: its own messages (acknowledged instead) and messages
/// already in its `login_ok`.
pub(super) fn absorb(wbuf: &mut BytesMut, l: &LoggedIn, item: Outbound) {
    match item {
        Outbound::Frames(frames) => wbuf.extend_from_slice(&frames),
        Outbound::Batch { batch, .. } => {
            for d in batch.deliveries.iter() {
                if d.except == Some(l.uid) || d.message_id.is_some_and(|id| id <= l.skip_upto) {
                    continue;
                }
                wbuf.extend_from_slice(&d.frame);
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

    /// Encode a message into the write buffer.
    pub(super) fn queue(&mut self, msg: &ServerMessage) {
        if let Err(e) = chatroom_shared::encode_frame_into(&mut self.wbuf, msg) {
            warn!(error = %e, "could not encode a reply");
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
        if self.wbuf.capacity() > 4 * COALESCE_BYTES {
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
