//! Delivery of stored messages in id order on every node.
//!
//! In a cluster every node's writer commits its batches one at a time (each
//! takes the database's store lock), so message ids are contiguous and a batch
//! with ids `first..=last` is committed only after every lower id. Batches
//! reach a node from its own writer and, over NATS, from the others, in any
//! order. The [`Sequencer`] task hands them to the local hub strictly by id:
//! a batch waits until the one before it has been delivered; one that never
//! comes (its node died between commit and publish, or NATS dropped it) is read
//! back from the database after [`GAP_WAIT`]. So that a lost batch is noticed
//! even when nothing follows it, the task also looks at the highest stored id
//! every [`POLL`]. A batch that arrives after its ids were delivered is
//! dropped, so nothing is delivered twice.

use std::collections::BTreeMap;
use std::time::Duration;

use chatroom_shared::message::{Announcement, ServerMessage};

use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::bus::Bus;
use super::wire::{Body, StoredBatch, WireEvent};
use crate::db::history;
use crate::delivery::{Audience, Committed, Deliver, Delivering, Event};
use crate::hub::Hub;
use crate::outbox::encode_event;

/// How long batches wait behind a missing one before it is read from the database.
pub const GAP_WAIT: Duration = Duration::from_millis(500);

/// How often the highest stored id is checked for batches that never arrived.
pub const POLL: Duration = Duration::from_secs(1);

/// Batches taken from the queue at once, and delivered together.
const MAX_INPUTS: usize = 256;

/// Batches queued for the sequencer before the writer waits.
const QUEUE: usize = 4096;

/// Frames per NATS message of a stored batch, at most (plus one frame).
const MAX_WIRE_BYTES: usize = 256 * 1024;

/// What a committed batch is on the wire, and back.
trait Wire: Sized {
    fn from_wire(batch: StoredBatch) -> Self;
    fn to_wire(&self) -> Vec<StoredBatch>;
    fn trim(self, next: i64) -> Self;
}

impl Wire for Committed {
    fn from_wire(batch: StoredBatch) -> Self {
        Self {
            first: batch.first,
            last: batch.last,
            events: batch
                .events
                .into_iter()
                .map(WireEvent::into_event)
                .collect(),
        }
    }

    /// The batch as NATS messages of about [`MAX_WIRE_BYTES`] of frames each (NATS
    /// refuses messages over its `max_payload`, 1 MiB by default), each covering a
    /// contiguous part of the ids.
    fn to_wire(&self) -> Vec<StoredBatch> {
        let mut out = Vec::new();
        let mut part = StoredBatch {
            first: self.first,
            last: self.last,
            events: Vec::new(),
        };
        let mut bytes = 0;
        for e in &self.events {
            let Some(wire) = WireEvent::from_event(e) else {
                continue;
            };
            bytes += e.frame.len();
            part.events.push(wire);
            if bytes >= MAX_WIRE_BYTES
                && let Some(id) = e.message_id
                && id < self.last
            {
                let rest = StoredBatch {
                    first: id + 1,
                    last: self.last,
                    events: Vec::new(),
                };
                let mut done = std::mem::replace(&mut part, rest);
                done.last = id;
                out.push(done);
                bytes = 0;
            }
        }
        out.push(part);
        out
    }

    /// Leave out the events below `next` (already delivered).
    fn trim(mut self, next: i64) -> Self {
        if self.first < next {
            self.events
                .retain(|e| e.message_id.is_none_or(|id| id >= next));
            self.first = next;
        }
        self
    }
}

/// The ordering rule alone, without IO: what may be delivered now.
#[derive(Debug, Default)]
pub struct Order {
    /// The next id to deliver; `None` until the first batch.
    next: Option<i64>,
    /// Batches behind a gap, by first id.
    waiting: BTreeMap<i64, Committed>,
    /// The highest id known to be stored.
    stored: i64,
}

impl Order {
    /// Ordering that delivers `next` first (`None`: whatever comes first).
    pub fn new(next: Option<i64>) -> Self {
        Self {
            next,
            waiting: BTreeMap::new(),
            stored: 0,
        }
    }

    /// Ids up to `last` are stored (read from the database): any not delivered
    /// yet are missing.
    pub fn stored_up_to(&mut self, last: i64) {
        self.stored = self.stored.max(last);
    }

    /// Take a batch; returns the batches to deliver now, in order.
    pub fn take(&mut self, batch: Committed) -> Vec<Committed> {
        let next = *self.next.get_or_insert(batch.first);
        if batch.last < next {
            debug!(
                first = batch.first,
                last = batch.last,
                "batch already delivered"
            );
            return Vec::new();
        }
        if batch.first > next {
            self.waiting.entry(batch.first).or_insert(batch);
            return Vec::new();
        }
        let mut next = next;
        let mut ready = Vec::new();
        let mut current = Some(batch);
        while let Some(b) = current.take() {
            if b.last >= next {
                let b = b.trim(next);
                next = b.last + 1;
                ready.push(b);
            }
            if let Some(entry) = self.waiting.first_entry()
                && *entry.key() <= next
            {
                current = Some(entry.remove());
            }
        }
        self.next = Some(next);
        ready
    }

    /// The ids missing: in front of a waiting batch, or stored but not
    /// delivered: `from..to`.
    pub fn gap(&self) -> Option<(i64, i64)> {
        let next = self.next?;
        match self.waiting.first_key_value() {
            Some((&first, _)) => Some((next, first)),
            None if self.stored >= next => Some((next, self.stored + 1)),
            None => None,
        }
    }
}

enum Input {
    Local(Committed),
    Remote(StoredBatch),
}

/// Handle to the sequencer task. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Sequencer {
    tx: mpsc::Sender<Input>,
}

impl Sequencer {
    /// Start the task; it delivers from `next` on (the id after the highest stored).
    /// With `unpublished` (a fault for tests) it never tells the other nodes.
    pub fn start(db: DatabaseConnection, hub: Hub, bus: Bus, next: i64, unpublished: bool) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        let task = Task {
            db,
            hub,
            bus,
            order: Order::new(Some(next)),
            gap_since: None,
            unpublished,
        };
        tokio::spawn(task.run(rx));
        Self { tx }
    }

    /// This node's writer committed a batch: tell the other nodes, deliver here in order.
    pub async fn committed(&self, batch: Committed) {
        if self.tx.send(Input::Local(batch)).await.is_err() {
            debug!("sequencer stopped; batch not delivered during shutdown");
        }
    }

    /// Another node committed a batch.
    pub async fn remote(&self, batch: StoredBatch) {
        let _ = self.tx.send(Input::Remote(batch)).await;
    }
}

struct Task {
    db: DatabaseConnection,
    hub: Hub,
    bus: Bus,
    order: Order,
    /// Since when batches have waited behind a gap.
    gap_since: Option<Instant>,
    /// Never tell the other nodes (a fault for tests).
    unpublished: bool,
}

impl Task {
    async fn run(mut self, mut rx: mpsc::Receiver<Input>) {
        let mut poll = tokio::time::interval(POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let deadline = self.gap_since.map(|t| t + GAP_WAIT);
            let mut inputs = Vec::new();
            tokio::select! {
                n = rx.recv_many(&mut inputs, MAX_INPUTS) => {
                    if n == 0 {
                        break;
                    }
                }
                () = sleep_until(deadline) => {}
                _ = poll.tick() => {
                    match history::max_id(&self.db).await {
                        Ok(last) => self.order.stored_up_to(last),
                        Err(e) => debug!(error = %e, "cannot read the highest stored id"),
                    }
                    self.note_gap();
                    continue;
                }
            }
            // Whatever is ready goes to the hub together: when this node falls
            // behind, batches that queued up meanwhile reach each session as one
            // outbox item, not one each.
            let mut ready = Vec::new();
            if inputs.is_empty() {
                ready.extend(self.fill_gap().await);
            }
            for input in inputs {
                match input {
                    Input::Local(batch) => {
                        if !self.unpublished {
                            for part in batch.to_wire() {
                                self.bus.try_send(Body::Stored(part));
                            }
                        }
                        ready.extend(self.order.take(batch));
                    }
                    Input::Remote(batch) => {
                        ready.extend(self.order.take(Committed::from_wire(batch)));
                    }
                }
            }
            self.deliver(ready).await;
            self.note_gap();
        }
        debug!("sequencer stopped");
    }

    /// Start (or keep, or stop) waiting for missing ids.
    fn note_gap(&mut self) {
        self.gap_since = match (self.order.gap(), self.gap_since) {
            (None, _) => None,
            (Some(_), Some(since)) => Some(since),
            (Some(_), None) => Some(Instant::now()),
        };
    }

    /// Read the missing ids from the database and deliver them (and what waited).
    async fn fill_gap(&mut self) -> Vec<Committed> {
        let Some((from, to)) = self.order.gap() else {
            return Vec::new();
        };
        match read_back(&self.db, from, to).await {
            Ok(batch) => {
                info!(
                    from,
                    to,
                    events = batch.events.len(),
                    "missing batch read from the database"
                );
                self.order.take(batch)
            }
            Err(e) => {
                warn!(error = %e, from, to, "cannot read a missing batch; trying again");
                self.gap_since = Some(Instant::now());
                Vec::new()
            }
        }
    }

    /// Hand ready batches to the hub in order, all together.
    async fn deliver(&self, ready: Vec<Committed>) {
        let events: Vec<Event> = ready.into_iter().flat_map(|b| b.events).collect();
        if !events.is_empty() && self.hub.deliver_here(events).await.is_err() {
            debug!("hub stopped; deliveries dropped during shutdown");
        }
    }
}

/// In a cluster the store's committed batches go through the sequencer.
impl Deliver for Sequencer {
    fn deliver(&self, batch: Committed) -> Delivering<'_> {
        Box::pin(self.committed(batch))
    }
}

/// The stored messages with ids `from..to` as the batch that carried them.
async fn read_back(db: &DatabaseConnection, from: i64, to: i64) -> Result<Committed, DbErr> {
    let rows = history::id_range(db, from, to).await?;
    let senders: Vec<Option<i64>> = rows.iter().map(|r| r.uid).collect();
    let targets: Vec<(history::TargetKind, i64)> =
        rows.iter().map(|r| (r.target_kind, r.target_id)).collect();
    let messages = crate::history::to_chat_messages(db, rows).await?;
    let mut events = Vec::with_capacity(messages.len());
    for ((m, sender), (kind, target)) in messages.into_iter().zip(senders).zip(targets) {
        let id = m.id;
        let (frame, to) = match sender {
            None => (
                encode_event(&ServerMessage::Announcement(Announcement {
                    id,
                    ts: m.ts,
                    text: m.text,
                })),
                Audience::EVERYONE,
            ),
            Some(uid) => (
                encode_event(&ServerMessage::Message(m)),
                crate::recipients::of_message(db, kind, target, uid).await?,
            ),
        };
        events.push(Event {
            frame,
            message_id: Some(id),
            to,
        });
    }
    Ok(Committed {
        first: from,
        last: to - 1,
        events,
    })
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn batch(first: i64, last: i64) -> Committed {
        Committed {
            first,
            last,
            events: (first..=last)
                .map(|id| Event {
                    frame: Bytes::new(),
                    message_id: Some(id),
                    to: Audience::EVERYONE,
                })
                .collect(),
        }
    }

    fn ids(ready: &[Committed]) -> Vec<i64> {
        ready
            .iter()
            .flat_map(|b| b.events.iter().filter_map(|e| e.message_id))
            .collect()
    }

    #[test]
    fn batches_in_order_pass_at_once() {
        let mut o = Order::new(Some(1));
        assert_eq!(ids(&o.take(batch(1, 2))), [1, 2]);
        assert_eq!(ids(&o.take(batch(3, 3))), [3]);
        assert_eq!(o.gap(), None);
    }

    #[test]
    fn a_batch_waits_for_the_one_before_it() {
        let mut o = Order::new(Some(1));
        assert!(o.take(batch(4, 5)).is_empty());
        assert!(o.take(batch(3, 3)).is_empty());
        assert_eq!(o.gap(), Some((1, 3)));
        assert_eq!(ids(&o.take(batch(1, 2))), [1, 2, 3, 4, 5]);
        assert_eq!(o.gap(), None);
    }

    #[test]
    fn nothing_is_delivered_twice() {
        let mut o = Order::new(Some(1));
        assert_eq!(ids(&o.take(batch(1, 3))), [1, 2, 3]);
        // The same batch again (read back from the database, then late over NATS).
        assert!(o.take(batch(1, 3)).is_empty());
        assert!(o.take(batch(2, 2)).is_empty());
        // A batch overlapping what was delivered: only the new ids.
        assert_eq!(ids(&o.take(batch(2, 5))), [4, 5]);
        // Waiting duplicates are dropped too.
        assert!(o.take(batch(8, 9)).is_empty());
        assert!(o.take(batch(8, 9)).is_empty());
        assert_eq!(ids(&o.take(batch(6, 7))), [6, 7, 8, 9]);
    }

    #[test]
    fn a_gap_filled_from_the_database_releases_what_waited() {
        let mut o = Order::new(Some(10));
        assert!(o.take(batch(13, 14)).is_empty());
        assert_eq!(o.gap(), Some((10, 13)));
        // The database holds 10..13 (one retried message had no event: 11 is empty).
        let mut filled = batch(10, 12);
        filled.events.retain(|e| e.message_id != Some(11));
        assert_eq!(ids(&o.take(filled)), [10, 12, 13, 14]);
        // The lost batch arrives after all: dropped.
        assert!(o.take(batch(10, 12)).is_empty());
    }

    #[test]
    fn a_large_batch_crosses_in_parts_that_cover_its_ids() {
        let mut b = batch(1, 10);
        for e in &mut b.events {
            e.frame = crate::outbox::encode_event(&ServerMessage::Announcement(Announcement {
                id: 0,
                ts: 0,
                text: "x".repeat(MAX_WIRE_BYTES / 3),
            }));
        }
        let parts = b.to_wire();
        let ranges: Vec<_> = parts
            .iter()
            .map(|p| (p.first, p.last, p.events.len()))
            .collect();
        assert_eq!(ranges, [(1, 3, 3), (4, 6, 3), (7, 9, 3), (10, 10, 1)]);
        // Received in any order, they deliver everything once.
        let mut o = Order::new(Some(1));
        let mut got = Vec::new();
        for p in parts.into_iter().rev() {
            got.extend(ids(&o.take(Committed::from_wire(p))));
        }
        assert_eq!(got, (1..=10).collect::<Vec<_>>());
    }

    #[test]
    fn stored_ids_not_delivered_are_a_gap_even_with_nothing_waiting() {
        let mut o = Order::new(Some(5));
        o.stored_up_to(4);
        assert_eq!(o.gap(), None);
        o.stored_up_to(7);
        assert_eq!(o.gap(), Some((5, 8)));
        assert_eq!(ids(&o.take(batch(5, 7))), [5, 6, 7]);
        assert_eq!(o.gap(), None);
    }

    #[test]
    fn without_a_start_the_first_batch_sets_it() {
        let mut o = Order::new(None);
        assert_eq!(ids(&o.take(batch(50, 50))), [50]);
        assert!(o.take(batch(49, 49)).is_empty());
    }
}
