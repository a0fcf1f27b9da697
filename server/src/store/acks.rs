//! The writer's answers to senders (`say_ok`, or the error that refuses a
//! message), gathered per connection so each gets one outbox item per batch.

use std::collections::HashMap;

use bytes::BytesMut;
use chatroom_shared::message::{LeaveReason, ServerMessage};
use tracing::{error, warn};

use super::Ack;
use crate::hub::Hub;
use crate::outbox::{Outbound, Outbox, PushError};

/// Answers of one batch, by connection.
#[derive(Default)]
pub(super) struct Acks {
    by_session: HashMap<u64, (i64, Outbox, BytesMut)>,
}

impl Acks {
    /// Answer the request `ack` names (sent by account `uid`) with `reply`.
    pub(super) fn add(&mut self, ack: Ack, uid: i64, reply: &ServerMessage) {
        let entry = self
            .by_session
            .entry(ack.session_id)
            .or_insert_with(|| (uid, ack.outbox, BytesMut::new()));
        if let Err(e) = chatroom_shared::encode_frame_into(&mut entry.2, reply) {
            error!(error = %e, "could not encode an answer to a sender");
        }
    }

    /// Queue every answer; a connection that cannot take its own is dropped
    /// (its retry after reconnecting is answered from what is stored).
    pub(super) async fn send(self, hub: &Hub) {
        for (session_id, (uid, outbox, frames)) in self.by_session {
            if let Err(PushError::Full) = outbox.push(Outbound::Frames(frames.freeze())) {
                let (items, bytes) = outbox.queued();
                warn!(
                    uid,
                    items, bytes, "client too slow for its acks; disconnecting"
                );
                hub.leave(uid, session_id, LeaveReason::TooSlow).await;
            }
        }
    }
}
