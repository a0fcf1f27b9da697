//! Answering a batch: after a commit, each sender gets its `say_ok` (or the
//! refusal of a reused id) and the stored messages go to the batch's
//! [`Deliver`](crate::delivery::Deliver); after a give-up, each sender is told
//! that nothing was stored.

use std::time::Duration;

use chatroom_shared::message::{
    Announcement, ChatMessage, ErrorReply, MessageKind, SayOk, ServerMessage,
};
use chatroom_shared::{ErrorCode, UnixMillis};

use super::acks::Acks;
use super::dedup::{Original, Seen};
use super::{Destination, Numbered, Step, StoreError, WriterTask};
use crate::delivery::{Audience, Committed, Conversation, Event, Thread};
use crate::outbox::encode_event;
use crate::search::Doc;

impl WriterTask {
    /// Answer the records of a batch the database did not take: chat messages
    /// get `storage_unavailable` (retries of stored ones still get their
    /// `say_ok`), announcements and tokens their error. Nothing was stored.
    pub(super) async fn given_up(&mut self, steps: Vec<Step>, retry_after: Duration) {
        let mut acks = Acks::default();
        for step in steps {
            match step {
                Step::Chat {
                    uid,
                    client_id,
                    ack,
                    seen,
                    ..
                } => {
                    let reply = match seen {
                        Seen::Stored(id, ts) => ServerMessage::SayOk(SayOk {
                            seq: ack.seq,
                            id: client_id,
                            message_id: id,
                            ts,
                        }),
                        Seen::Reused => ServerMessage::Error(reused(ack.seq, &client_id)),
                        Seen::New | Seen::InBatch(_) => {
                            let seq = ack.seq;
                            self.uncertain.insert((uid, client_id));
                            ServerMessage::Error(unavailable(seq, retry_after))
                        }
                    };
                    acks.add(ack, uid, &reply);
                }
                Step::Announcement { done, .. } => {
                    let _ = done.send(Err(StoreError::Unavailable { retry_after }));
                }
                Step::Issued(done) => {
                    let _ = done.send(Err(StoreError::Unavailable { retry_after }));
                }
            }
        }
        acks.send(&self.hub).await;
    }

    /// Acknowledge and deliver a committed batch whose messages are numbered
    /// as `numbered` says.
    pub(super) async fn after_commit(&mut self, steps: Vec<Step>, numbered: Numbered) {
        let base = numbered.base;
        // The id and time of each step that stored a message (retries in the
        // same batch are acknowledged with them), and each conversation's ids.
        let mut ids: Vec<Option<(i64, UnixMillis)>> = Vec::with_capacity(steps.len());
        let mut placed: Vec<(Conversation, i64)> = Vec::new();
        let mut searchable: Vec<Doc> = Vec::new();
        let mut next = base;
        for step in &steps {
            ids.push(match step {
                Step::Chat {
                    seen: Seen::New,
                    ts,
                    text,
                    ..
                }
                | Step::Announcement { ts, text, .. } => {
                    if let Some(c) = step.conversation() {
                        placed.push((c, next));
                        if self.search.is_some() {
                            let sender = match step {
                                Step::Chat { name, .. } => Some(name.clone()),
                                _ => None,
                            };
                            searchable.push(Doc {
                                id: next,
                                ts: *ts,
                                conversation: c,
                                sender,
                                text: text.clone(),
                            });
                        }
                    }
                    next += 1;
                    Some((next - 1, *ts))
                }
                _ => None,
            });
        }
        let threads = Thread::group(placed, |c| numbered.prev.get(&c).copied().unwrap_or(0));
        let mut events = Vec::new();
        let mut acks = Acks::default();
        for (i, step) in steps.into_iter().enumerate() {
            match step {
                Step::Chat {
                    uid,
                    to,
                    name,
                    client_id,
                    text,
                    ts: _,
                    ack,
                    fingerprint,
                    seen,
                } => {
                    let original = match seen {
                        Seen::New => ids[i],
                        Seen::Stored(id, ts) => Some((id, ts)),
                        Seen::InBatch(j) => ids.get(j).copied().flatten(),
                        Seen::Reused => None,
                    };
                    let reply = match original {
                        Some((id, ts)) => {
                            if seen == Seen::New {
                                self.dedup.insert(
                                    (uid, client_id.clone()),
                                    Original {
                                        id,
                                        ts,
                                        fingerprint,
                                    },
                                );
                                events.push(message_event(id, ts, &name, text, to));
                            }
                            ServerMessage::SayOk(SayOk {
                                seq: ack.seq,
                                id: client_id,
                                message_id: id,
                                ts,
                            })
                        }
                        None => ServerMessage::Error(reused(ack.seq, &client_id)),
                    };
                    acks.add(ack, uid, &reply);
                }
                Step::Announcement { text, ts, done } => {
                    let id = ids[i].map_or(0, |(id, _)| id);
                    let frame =
                        encode_event(&ServerMessage::Announcement(Announcement { id, ts, text }));
                    events.push(Event {
                        frame,
                        message_id: Some(id),
                        to: Audience::EVERYONE,
                    });
                    let _ = done.send(Ok(id));
                }
                Step::Issued(done) => {
                    let _ = done.send(Ok(()));
                }
            }
        }
        if let Some(search) = &self.search {
            // Before the acknowledgements: a sender finds its message at once.
            search.stored(searchable);
        }
        acks.send(&self.hub).await;
        if next > base {
            self.deliver
                .deliver(Committed {
                    first: base,
                    last: next - 1,
                    events,
                    threads,
                })
                .await;
        }
    }
}

/// The `message` event of a newly stored chat message, for its recipients.
fn message_event(id: i64, ts: UnixMillis, name: &str, text: String, to: Destination) -> Event {
    let frame = encode_event(&ServerMessage::Message(ChatMessage {
        id,
        ts,
        kind: MessageKind::Message,
        from: name.to_owned(),
        text,
        to: to.target,
    }));
    Event {
        frame,
        message_id: Some(id),
        to: to.audience,
    }
}

/// The refusal of a message the database did not take in time.
fn unavailable(seq: u32, retry_after: Duration) -> ErrorReply {
    let mut e = ErrorReply::new(
        Some(seq),
        ErrorCode::StorageUnavailable,
        "the server cannot store messages right now; nothing was stored: \
         send it again (with the same id) after retry_after_ms",
    );
    e.retry_after_ms = Some(
        u64::try_from(retry_after.as_millis())
            .unwrap_or(u64::MAX)
            .max(1),
    );
    e
}

/// The refusal of a message whose client id was used for another message.
fn reused(seq: u32, client_id: &str) -> ErrorReply {
    ErrorReply::new(
        Some(seq),
        ErrorCode::MessageIdReused,
        format!(
            "the message id {client_id:?} was used before for another message; \
             nothing was stored: send it again with a new id"
        ),
    )
}
