//! Delivery of stored messages on every node, each conversation in id order.
//!
//! A cluster node's writer commits each batch under the locks of its
//! conversations' clocks (see `store` and [`crate::db::clocks`]), so one
//! conversation's batches commit one at a time, in id order, while batches
//! for other conversations commit at the same time on any node; each batch
//! says, per conversation, the id its messages follow. Batches reach a node
//! from its own writer and, over NATS, from the others, in any order. The
//! [`Sequencer`] task hands them to the local hub once what they follow on
//! from has been delivered here ([`order`]).
//!
//! Nothing is lost when a node dies between a commit and its publication, or
//! NATS drops a batch:
//! - a batch that waits [`GAP_WAIT`] for messages that never came gets them
//!   from the database (per conversation, after the last delivered);
//! - every node numbers what it publishes and says every heartbeat how far it
//!   got, so a batch lost with nothing after it in its conversation is noticed
//!   too; while a node is silent (it died, or NATS is down) what is stored
//!   above its last id is read back every heartbeat ([`origins`]).
//!
//! A message delivered from the database and then arriving after all is
//! dropped, so nothing is delivered twice.

mod order;
mod origins;
mod parts;
mod read_back;

use std::time::Duration;

use chatroom_shared::UnixMillis;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::bus::Bus;
use super::wire::{Body, StoredBatch, Tail};
use crate::db::history;
use crate::delivery::{Committed, Deliver, Delivering, Event};
use crate::hub::Hub;
use crate::search::SearchIndex;
use order::Order;
use origins::{Missing, Origins};

/// How long batches wait behind missing messages before those are read from the database.
pub const GAP_WAIT: Duration = Duration::from_millis(500);

/// Batches taken from the queue at once, and delivered together.
const MAX_INPUTS: usize = 256;

/// Batches queued for the sequencer before the writer waits.
const QUEUE: usize = 4096;

/// Own batches remembered as waiting for delivery, at most (see `Task::searchable`).
const MAX_OWN_WAITING: usize = 4096;

/// How the sequencer is set up.
#[derive(Debug, Clone, Copy)]
pub struct SequencerConfig {
    /// The highest id stored when this node started: what came before is
    /// not delivered live.
    pub floor: i64,
    /// When this node started (its published batches are numbered per run).
    pub started: UnixMillis,
    /// How often it says how far its batches go.
    pub heartbeat: Duration,
    /// A node not heard from for this long may have died after a commit.
    pub timeout: Duration,
    /// Never send the batches to the other nodes (a fault for tests); how
    /// far they go is still said.
    pub unpublished: bool,
}

enum Input {
    Local(Committed),
    Remote(String, StoredBatch),
    Tail(String, Tail),
}

/// Handle to the sequencer task. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Sequencer {
    tx: mpsc::Sender<Input>,
}

impl Sequencer {
    /// Start the task.
    pub fn start(
        db: DatabaseConnection,
        hub: Hub,
        bus: Bus,
        search: Option<SearchIndex>,
        config: SequencerConfig,
    ) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        let task = Task {
            db,
            hub,
            bus,
            search,
            own: std::collections::HashSet::new(),
            order: Order::new(config.floor),
            origins: Origins::new(config.floor),
            config,
            seq: 0,
            last: config.floor,
            gap_since: None,
            missing: Vec::new(),
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
    pub async fn remote(&self, node: String, batch: StoredBatch) {
        let _ = self.tx.send(Input::Remote(node, batch)).await;
    }

    /// Another node says how far its batches go.
    pub async fn tail(&self, node: String, tail: Tail) {
        let _ = self.tx.send(Input::Tail(node, tail)).await;
    }
}

struct Task {
    db: DatabaseConnection,
    hub: Hub,
    bus: Bus,
    /// Takes the messages of every batch this node delivers but did not
    /// commit (its own were fed by its store before their acks), once each:
    /// a message read back and then arriving after all is left out of its
    /// batch before delivery, so the index never has to replace one.
    search: Option<SearchIndex>,
    /// The first and last ids of this node's own batches that are in the
    /// ordering and not delivered yet: their messages are not fed to the
    /// index again. (A batch read back from the database with the same ids
    /// holds only these messages: within a conversation, the messages of one
    /// commit are never interleaved with another's.)
    own: std::collections::HashSet<(i64, i64)>,
    order: Order,
    origins: Origins,
    config: SequencerConfig,
    /// Batches published so far.
    seq: u64,
    /// The highest id of this node's batches.
    last: i64,
    /// Since when batches have waited for missing messages.
    gap_since: Option<Instant>,
    /// Id ranges other nodes' lost batches hold, to read back.
    missing: Vec<Missing>,
}

impl Task {
    async fn run(mut self, mut rx: mpsc::Receiver<Input>) {
        let mut tick = tokio::time::interval(self.config.heartbeat);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let deadline = self.gap_since.map(|t| t + GAP_WAIT);
            let mut inputs = Vec::new();
            let mut ready = Vec::new();
            tokio::select! {
                n = rx.recv_many(&mut inputs, MAX_INPUTS) => {
                    if n == 0 {
                        break;
                    }
                }
                () = sleep_until(deadline) => ready.extend(self.fill_gaps().await),
                _ = tick.tick() => {
                    // Also before it published anything: the others then know
                    // it, and read from the database while they cannot hear it.
                    self.bus.try_send(Body::Tail(self.tail()));
                    let silent = self.origins.silent(std::time::Instant::now(), self.config.timeout);
                    self.missing.extend(silent);
                }
            }
            // Whatever is ready goes to the hub together: when this node falls
            // behind, batches that queued up meanwhile reach each session as one
            // outbox item, not one each.
            let now = std::time::Instant::now();
            for input in inputs {
                match input {
                    Input::Local(batch) => {
                        let parts = parts::to_wire(
                            &batch,
                            self.config.started,
                            self.seq + 1,
                            parts::MAX_WIRE_BYTES,
                        );
                        self.seq += parts.len() as u64;
                        self.last = self.last.max(batch.last);
                        if !self.config.unpublished {
                            for part in parts {
                                self.bus.try_send(Body::Stored(part));
                            }
                        }
                        if self.search.is_some() {
                            self.own.insert((batch.first, batch.last));
                        }
                        ready.extend(self.order.take(batch));
                    }
                    Input::Remote(node, part) => {
                        let tail = Tail {
                            started: part.started,
                            seq: part.seq,
                            last: part.last,
                        };
                        self.missing
                            .extend(self.origins.batch(&node, tail, part.first, now));
                        let batch = parts::from_wire(part);
                        ready.extend(self.order.take(batch));
                    }
                    Input::Tail(node, tail) => {
                        self.missing.extend(self.origins.tail(&node, tail, now));
                    }
                }
            }
            ready.extend(self.read_missing().await);
            self.searchable(&ready);
            self.deliver(ready).await;
            self.note_gap();
        }
        debug!("sequencer stopped");
    }

    /// Let the search index take the batches about to be delivered that did
    /// not come from this node's store.
    fn searchable(&mut self, ready: &[Committed]) {
        let Some(search) = &self.search else { return };
        for batch in ready {
            if !self.own.remove(&(batch.first, batch.last)) {
                search.delivered(batch);
            }
        }
        // An own batch all of whose messages were read back first is never
        // delivered itself; forgetting such leftovers at worst feeds a later
        // one twice, which a search drops as a repeat.
        if self.own.len() > MAX_OWN_WAITING {
            self.own.clear();
        }
    }

    fn tail(&self) -> Tail {
        Tail {
            started: self.config.started,
            seq: self.seq,
            last: self.last,
        }
    }

    /// Start (or keep, or stop) waiting for missing messages.
    fn note_gap(&mut self) {
        self.gap_since = match (self.order.is_waiting(), self.gap_since) {
            (false, _) => None,
            (true, Some(since)) => Some(since),
            (true, None) => Some(Instant::now()),
        };
    }

    /// Read the messages waiting batches need from the database; returns what
    /// can be delivered now.
    async fn fill_gaps(&mut self) -> Vec<Committed> {
        let mut ready = Vec::new();
        for gap in self.order.gaps() {
            match read_back::conversation(&self.db, gap.conversation, gap.after, gap.upto).await {
                Ok(Some(batch)) => {
                    info!(
                        conversation = ?gap.conversation,
                        after = gap.after,
                        upto = gap.upto,
                        messages = batch.events.len(),
                        "missing messages read from the database"
                    );
                    ready.extend(self.order.take(batch));
                }
                Ok(None) => {
                    warn!(conversation = ?gap.conversation, after = gap.after, upto = gap.upto,
                        "messages a batch follows on from are not in the database");
                }
                Err(e) => {
                    warn!(error = %e, "cannot read missing messages; trying again");
                    self.gap_since = Some(Instant::now());
                    return ready;
                }
            }
        }
        self.gap_since = None;
        ready
    }

    /// Read back the id ranges of batches other nodes lost; returns what can
    /// be delivered now. A range that cannot be read stays for the next turn.
    async fn read_missing(&mut self) -> Vec<Committed> {
        let mut ready = Vec::new();
        while let Some(m) = self.missing.pop() {
            match self.read_range(m).await {
                Ok(batches) => ready.extend(batches),
                Err(e) => {
                    warn!(error = %e, "cannot read back a lost batch; trying again");
                    self.missing.push(m);
                    break;
                }
            }
        }
        ready
    }

    async fn read_range(&mut self, m: Missing) -> Result<Vec<Committed>, DbErr> {
        let upto = match m.upto {
            Some(upto) => upto,
            None => history::max_id(&self.db).await?,
        };
        let (found, highest) = read_back::conversations_in(&self.db, m.after, Some(upto)).await?;
        let mut ready = Vec::new();
        for (c, newest) in found {
            let after = self.order.delivered(c);
            if newest <= after {
                continue;
            }
            if let Some(batch) = read_back::conversation(&self.db, c, after, newest).await? {
                info!(conversation = ?c, after, upto = newest, messages = batch.events.len(),
                    "a lost batch read from the database");
                ready.extend(self.order.take(batch));
            }
        }
        if m.upto.is_none() {
            self.origins.read_back_to(highest);
        }
        Ok(ready)
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

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
