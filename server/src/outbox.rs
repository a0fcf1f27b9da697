//! A session's outbound queue: what the hub and the store send it to write.
//!
//! The queue is bounded twice: by items and by bytes not yet written. A
//! client that stops reading fills it and is disconnected as too slow, never
//! allowed to grow the server's memory.
//!
//! Fan-out is cheap: the hub queues one [`Outbound::Batch`] per session per
//! store batch, and every session shares the same encoded frames ([`Bytes`]);
//! each session skips what is not for it (its own messages, which it gets an
//! ack for instead) while copying the rest into its write buffer.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::delivery::{Audience, Event};

/// Encode an event once, for every recipient. An event the codec refuses (over
/// the frame limit, which no event of ours comes near) is dropped with a
/// warning: nothing is sent.
pub fn encode_event(msg: &chatroom_shared::ServerMessage) -> Bytes {
    chatroom_shared::encode_frame(msg).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "could not encode an event; dropped");
        Bytes::new()
    })
}

/// Events for everyone queued together, shared by every session (the hub
/// sends events for some accounts only to those sessions, never in a batch).
#[derive(Debug, Clone)]
pub struct Batch {
    /// The events, in order; each one's audience is [`Audience::Everyone`].
    pub events: Arc<[Event]>,
    /// Total size of all frames.
    pub bytes: usize,
    /// Bytes of the frames each sender is left out of (few senders per batch).
    excepted: Arc<[(i64, usize)]>,
}

impl Batch {
    /// Wrap events for everyone into a shareable batch.
    pub fn new(events: Vec<Event>) -> Self {
        let bytes = events.iter().map(|e| e.frame.len()).sum();
        let mut excepted: Vec<(i64, usize)> = Vec::new();
        for e in &events {
            debug_assert!(matches!(e.to, Audience::Everyone { .. }));
            if let Audience::Everyone { except: Some(uid) } = e.to {
                match excepted.iter_mut().find(|(u, _)| *u == uid) {
                    Some((_, b)) => *b += e.frame.len(),
                    None => excepted.push((uid, e.frame.len())),
                }
            }
        }
        Self {
            events: events.into(),
            bytes,
            excepted: excepted.into(),
        }
    }

    /// The bytes of this batch that session `uid` will write: everything but
    /// the frames it is left out of (its own messages).
    pub fn bytes_for(&self, uid: i64) -> usize {
        let own = self
            .excepted
            .iter()
            .find(|(u, _)| *u == uid)
            .map_or(0, |(_, b)| *b);
        self.bytes - own
    }
}

/// One item in a session's outbound queue.
#[derive(Debug)]
pub enum Outbound {
    /// Ready frames for this session only (replies, acks), possibly several.
    Frames(Bytes),
    /// Events for everyone; `bytes` is what this session is charged for it.
    Batch {
        /// The shared events.
        batch: Batch,
        /// The bytes of it this session writes ([`Batch::bytes_for`]).
        bytes: usize,
    },
    /// Write what came before, then close the connection.
    Close(CloseReason),
}

impl Outbound {
    /// The bytes this item counts against the budget.
    pub fn bytes(&self) -> usize {
        match self {
            Self::Frames(b) => b.len(),
            Self::Batch { bytes, .. } => *bytes,
            Self::Close(_) => 0,
        }
    }
}

/// Why the server closes a session on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The account logged in on another connection.
    Replaced,
    /// An administrator kicked or banned the account.
    Kicked,
}

/// The queue is over its item or byte bound: the client is too slow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushError {
    /// Over a bound.
    Full,
    /// The session has ended.
    Closed,
}

/// Every sender is gone and the queue is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueClosed;

/// The sending end of a session's outbound queue. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Outbox {
    tx: mpsc::Sender<Outbound>,
    queued: Arc<AtomicUsize>,
    max_bytes: usize,
}

/// The receiving end, owned by the session.
#[derive(Debug)]
pub struct OutboxReceiver {
    rx: mpsc::Receiver<Outbound>,
    queued: Arc<AtomicUsize>,
}

/// A weak sending end: does not keep the queue open.
#[derive(Debug, Clone)]
pub struct WeakOutbox {
    tx: mpsc::WeakSender<Outbound>,
    queued: Arc<AtomicUsize>,
    max_bytes: usize,
}

/// A new queue holding at most `max_items` items and `max_bytes` unwritten bytes.
pub fn outbox(max_items: usize, max_bytes: usize) -> (Outbox, OutboxReceiver) {
    let (tx, rx) = mpsc::channel(max_items.max(1));
    let queued = Arc::new(AtomicUsize::new(0));
    (
        Outbox {
            tx,
            queued: Arc::clone(&queued),
            max_bytes,
        },
        OutboxReceiver { rx, queued },
    )
}

impl Outbox {
    /// Queue an item without waiting. A `Close` is always accepted while
    /// there is room for an item, whatever the byte count.
    pub fn push(&self, item: Outbound) -> Result<(), PushError> {
        let bytes = item.bytes();
        // Counted before the item is in the queue: the session may take it
        // (and subtract its bytes) the moment it is sent. Counted after, the
        // count could drop below zero for that moment, wrap around, and make
        // a concurrent push see a full queue (a reading client dropped as too
        // slow: seen across cluster nodes, where acks and events are pushed
        // from different threads).
        let before = self.queued.fetch_add(bytes, Ordering::Relaxed);
        if bytes > 0 && before + bytes > self.max_bytes {
            self.queued.fetch_sub(bytes, Ordering::Relaxed);
            return Err(PushError::Full);
        }
        let refused = match self.tx.try_send(item) {
            Ok(()) => return Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => PushError::Full,
            Err(mpsc::error::TrySendError::Closed(_)) => PushError::Closed,
        };
        self.queued.fetch_sub(bytes, Ordering::Relaxed);
        Err(refused)
    }

    /// Items and bytes queued and not yet taken, for the log of a drop.
    pub fn queued(&self) -> (usize, usize) {
        (
            self.tx.max_capacity() - self.tx.capacity(),
            self.queued.load(Ordering::Relaxed),
        )
    }

    /// A handle that does not keep the queue open.
    pub fn downgrade(&self) -> WeakOutbox {
        WeakOutbox {
            tx: self.tx.downgrade(),
            queued: Arc::clone(&self.queued),
            max_bytes: self.max_bytes,
        }
    }
}

impl WeakOutbox {
    /// A strong handle, unless every strong one is gone (the hub dropped the session).
    pub fn upgrade(&self) -> Option<Outbox> {
        Some(Outbox {
            tx: self.tx.upgrade()?,
            queued: Arc::clone(&self.queued),
            max_bytes: self.max_bytes,
        })
    }
}

impl OutboxReceiver {
    /// The next item; `None` once every sender is gone and the queue is empty.
    pub async fn recv(&mut self) -> Option<Outbound> {
        let item = self.rx.recv().await?;
        self.taken(&item);
        Some(item)
    }

    /// The next item if one is ready: `Ok(None)` when empty, `Err` when closed.
    pub fn try_recv(&mut self) -> Result<Option<Outbound>, QueueClosed> {
        match self.rx.try_recv() {
            Ok(item) => {
                self.taken(&item);
                Ok(Some(item))
            }
            Err(mpsc::error::TryRecvError::Empty) => Ok(None),
            Err(mpsc::error::TryRecvError::Disconnected) => Err(QueueClosed),
        }
    }

    fn taken(&self, item: &Outbound) {
        self.queued.fetch_sub(item.bytes(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(n: usize) -> Outbound {
        Outbound::Frames(Bytes::from(vec![b'x'; n]))
    }

    #[tokio::test]
    async fn byte_budget_refuses_then_frees_as_items_are_taken() {
        let (tx, mut rx) = outbox(100, 10);
        assert_eq!(tx.push(frames(6)), Ok(()));
        assert_eq!(tx.push(frames(5)), Err(PushError::Full));
        assert_eq!(tx.push(frames(4)), Ok(()));
        assert!(rx.recv().await.is_some());
        assert_eq!(tx.push(frames(5)), Ok(()));
        assert_eq!(tx.push(Outbound::Close(CloseReason::Kicked)), Ok(()));
    }

    /// A session taking items while other threads push them never sees the
    /// byte count drop below what is queued (it once wrapped around between
    /// a push's send and its count, and a push then found the queue "full").
    #[test]
    fn pushes_racing_a_reader_never_find_a_roomy_queue_full() {
        const ITEMS: usize = 500_000;
        // Room for everything: only a miscount can make a push fail.
        let (tx, mut rx) = outbox(2 * ITEMS, 2 * ITEMS);
        let reader = std::thread::spawn(move || {
            let (mut taken, mut below_zero) = (0, 0);
            while taken < 2 * ITEMS {
                match rx.try_recv() {
                    Ok(Some(_)) => {
                        taken += 1;
                        // Just after a take is when a miscount would show.
                        if rx.queued.load(Ordering::Relaxed) > 2 * ITEMS {
                            below_zero += 1;
                        }
                    }
                    Ok(None) => std::hint::spin_loop(),
                    Err(QueueClosed) => break,
                }
            }
            (taken, below_zero)
        });
        let pushers: Vec<_> = (0..2)
            .map(|_| {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    (0..ITEMS).filter(|_| tx.push(frames(1)).is_err()).count()
                })
            })
            .collect();
        drop(tx);
        for p in pushers {
            assert_eq!(p.join().unwrap(), 0, "a push found the queue full");
        }
        let (taken, below_zero) = reader.join().unwrap();
        assert_eq!(taken, 2 * ITEMS);
        assert_eq!(below_zero, 0, "the byte count went below zero");
    }

    #[test]
    fn a_sender_is_not_charged_for_its_own_messages() {
        let d = |n: usize, except| Event {
            frame: Bytes::from(vec![b'x'; n]),
            message_id: Some(1),
            to: Audience::Everyone { except },
        };
        let batch = Batch::new(vec![
            d(10, Some(1)),
            d(20, Some(2)),
            d(5, Some(1)),
            d(7, None),
        ]);
        assert_eq!(batch.bytes, 42);
        assert_eq!(batch.bytes_for(1), 27);
        assert_eq!(batch.bytes_for(2), 22);
        assert_eq!(batch.bytes_for(3), 42);
    }

    #[tokio::test]
    async fn item_bound_refuses() {
        let (tx, _rx) = outbox(2, 1000);
        assert_eq!(tx.push(frames(1)), Ok(()));
        assert_eq!(tx.push(frames(1)), Ok(()));
        assert_eq!(tx.push(frames(1)), Err(PushError::Full));
    }

    #[tokio::test]
    async fn dropping_every_strong_sender_closes_the_queue() {
        let (tx, mut rx) = outbox(4, 100);
        let weak = tx.downgrade();
        tx.push(frames(1)).unwrap();
        drop(tx);
        assert!(weak.upgrade().is_none());
        assert!(rx.recv().await.is_some());
        assert!(rx.recv().await.is_none());
    }
}
