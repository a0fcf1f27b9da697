//! The write-behind store: a bounded queue of records and one writer task that
//! stores them in batches, each atomic: one transaction, or one multi-row
//! statement for a batch of chat messages alone (group commit).
//!
//! Ordering and durability live here. The writer assigns message ids in queue
//! order, commits a batch, and only then acknowledges each sender (`say_ok`)
//! and hands the messages to the hub for delivery, so nobody ever sees a
//! message that is not stored.
//!
//! In a cluster each node has its own writer. A batch with messages then takes
//! the database's store lock first ([`crate::db::store_lock`]) and numbers its
//! messages after the highest stored id, so batches commit one at a time across
//! the nodes with contiguous ids; a message retried through another node is
//! recognised in the database under the same lock. Committed batches go to the
//! [`Sequencer`], which tells the other nodes and delivers in id order. A full queue makes senders wait (backpressure);
//! memory never grows without bound. Retried `say` requests (same user, same
//! client message id) are recognised here, where every message passes in
//! order, and acknowledged with the original id without storing twice.

mod acks;
mod dedup;
mod health;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chatroom_shared::ErrorCode;
use chatroom_shared::UnixMillis;
use chatroom_shared::message::{
    Announcement, ChatMessage, ErrorReply, MessageKind, SayOk, ServerMessage, Target,
};
use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use crate::cluster::sequencer::{Committed, Event, Sequencer};
use crate::db::{accounts, history, store_lock, tokens};
use crate::hub::{Delivery, Hub};
use crate::outbox::{Outbox, encode_event};
use acks::Acks;
use dedup::{Dedup, Fingerprint, Original, Seen, Uncertain};
pub use health::Health;

/// Largest slice of events handed to the hub at once, in bytes of frames.
const MAX_PUBLISH_BYTES: usize = 1024 * 1024;

/// Where to send the `say_ok` for a stored message.
#[derive(Debug)]
pub struct Ack {
    /// The sender's outbox.
    pub outbox: Outbox,
    /// The sender's connection, so an overflowing outbox drops that session only.
    pub session_id: u64,
    /// The `seq` of the `say` request.
    pub seq: u32,
}

/// One record for the writer.
#[derive(Debug)]
pub enum StoreItem {
    /// A user's chat message: to the main room, a group or a user.
    Chat {
        /// Sender account id.
        uid: i64,
        /// Where it goes.
        to: Destination,
        /// Sender display name (for the event).
        name: Arc<str>,
        /// Client message id, for de-duplication.
        client_id: String,
        /// Validated text.
        text: String,
        /// Server receive time.
        ts: UnixMillis,
        /// Where the acknowledgement goes.
        ack: Ack,
    },
    /// An administrator's announcement; `done` gets its id once stored and sent.
    Announcement {
        /// Validated text.
        text: String,
        /// When it was made.
        ts: UnixMillis,
        /// Told the stored id, or the error.
        done: oneshot::Sender<Result<i64, StoreError>>,
    },
    /// A successful login: update the account's last address, time and count.
    LoginStat {
        /// Account id.
        uid: i64,
        /// Peer address.
        address: String,
        /// Login time.
        ts: UnixMillis,
    },
    /// A resume token was issued: store its hash and prune the account's old ones, in
    /// the writer's own transaction (so logins never compete with it for the database's
    /// write lock); `done` is told once it is committed, before the token is handed out.
    TokenIssued {
        /// Account id.
        uid: i64,
        /// SHA-256 of the token.
        hash: Vec<u8>,
        /// Issue time.
        ts: UnixMillis,
        /// Expiry time.
        expires: UnixMillis,
        /// Told once committed, or that the store gave it up.
        done: oneshot::Sender<Result<(), StoreError>>,
    },
    /// A resume token was used.
    TokenUsed {
        /// The token row id.
        token_id: i64,
        /// When.
        ts: UnixMillis,
    },
}

/// Where a chat message goes, resolved by the session that took it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// `chat_history.target_kind`.
    pub kind: i16,
    /// `chat_history.target_id`.
    pub id: i64,
    /// The conversation as clients name it (in the `message` event).
    pub target: Target,
    /// Who gets the message now (if online); `None` for everyone in the main room.
    /// The sender is never among them: they get `say_ok`.
    pub recipients: Option<Vec<i64>>,
}

impl Destination {
    /// The main room.
    pub fn room() -> Self {
        Self {
            kind: history::TARGET_ROOM,
            id: 0,
            target: Target::Room,
            recipients: None,
        }
    }
}

/// Why a record was not stored.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The writer has stopped (the server is shutting down).
    #[error("the store has stopped")]
    Stopped,
    /// The database did not take the record in time (disk full, database
    /// down); nothing was stored. The store tries again after `retry_after`.
    #[error("the database cannot store it now")]
    Unavailable {
        /// When the store tries the database again.
        retry_after: Duration,
    },
}

/// Why [`Store::try_submit`] did not queue a record.
#[derive(Debug, thiserror::Error)]
pub enum TrySubmitError {
    /// The queue is full (the database is slow or unavailable): try later.
    #[error("the store queue is full")]
    Full,
    /// The writer has stopped.
    #[error("the store has stopped")]
    Stopped,
}

/// Handle for queueing records. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    tx: mpsc::Sender<StoreItem>,
    health: Arc<Health>,
}

impl Store {
    /// How long a new chat message must wait before it is taken, while the
    /// database is failing (`None`: it may be queued). A message refused for it
    /// is answered at once instead of waiting in the queue for a database that
    /// does not take writes.
    pub fn unavailable_for(&self) -> Option<Duration> {
        self.health.refusal()
    }

    /// Queue a record, waiting while the queue is full (backpressure).
    pub async fn submit(&self, item: StoreItem) -> Result<(), StoreError> {
        self.tx.send(item).await.map_err(|_| StoreError::Stopped)
    }

    /// Queue a record if there is room now. Chat messages use this: while the
    /// database is unavailable the queue fills, and senders are told to retry
    /// (`server_busy`) instead of waiting without an answer.
    pub fn try_submit(&self, item: StoreItem) -> Result<(), TrySubmitError> {
        self.tx.try_send(item).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => TrySubmitError::Full,
            mpsc::error::TrySendError::Closed(_) => TrySubmitError::Stopped,
        })
    }
}

/// The running writer: join it to know every queued record is stored.
pub struct Writer {
    handle: tokio::task::JoinHandle<()>,
}

impl Writer {
    /// Wait until the writer has stored everything queued before all
    /// [`Store`] handles were dropped.
    pub async fn finished(self) {
        if let Err(e) = self.handle.await {
            error!(error = %e, "store writer task failed");
        }
    }
}

/// How the writer is set up.
#[derive(Debug, Clone)]
pub struct WriterConfig {
    /// Records queued before senders wait.
    pub queue: usize,
    /// Most records per batch.
    pub batch: usize,
    /// Spacing of batches under a steady stream.
    pub spacing: BatchSpacing,
    /// In a cluster: where committed batches go (instead of straight to the hub).
    pub cluster: Option<Sequencer>,
    /// How long the writer tries to store one batch before it gives it up
    /// and tells its senders `storage_unavailable`; each try is cut off after
    /// this long too.
    pub give_up: Duration,
}

/// Start the writer task. Reads the highest message id and the recent client
/// message ids from the database first.
///
/// Cancelling `close` makes the writer refuse new records, store everything
/// already queued, and stop.
pub async fn start(
    db: DatabaseConnection,
    hub: Hub,
    config: WriterConfig,
    close: CancellationToken,
) -> Result<(Store, Writer), DbErr> {
    let WriterConfig {
        queue,
        batch,
        spacing,
        cluster,
        give_up,
    } = config;
    let next_id = history::max_id(&db).await? + 1;
    let dedup = Dedup::load(&db).await?;
    let (tx, rx) = mpsc::channel(queue.max(1));
    let health = Arc::new(Health::default());
    let task = WriterTask {
        db,
        hub,
        next_id,
        dedup,
        batch: batch.max(1),
        spacing,
        cluster,
        health: Arc::clone(&health),
        give_up,
        backoff: FIRST_BACKOFF,
        resync: false,
        uncertain: Uncertain::default(),
    };
    let handle = tokio::spawn(task.run(rx, close));
    Ok((Store { tx, health }, Writer { handle }))
}

/// How far apart the writer starts its batches, by how many are online.
///
/// Every batch wakes every online session to write its share: with a thousand
/// sessions that costs milliseconds of CPU per batch, whatever the batch's
/// size. Under a steady stream of messages, committing as often as the disk
/// allows then spends the machine on wake-ups and small writes, and every
/// delivery queues behind them (docs/BENCHMARKS.md). So when records came in
/// while a batch was being written (a steady stream, not a lone message), the
/// next batch starts no earlier than this spacing after the last one began,
/// in proportion to the number of sessions: what arrives meanwhile shares it.
/// A record that finds the writer idle is stored at once, so a quiet room, or
/// an occasional message beside other traffic, pays nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchSpacing {
    /// Spacing per online session.
    pub per_session: Duration,
    /// The most it may grow to, however many are online.
    pub max: Duration,
}

impl BatchSpacing {
    /// The least time from the start of one batch to the start of the next,
    /// with `online` sessions to deliver to.
    pub fn after_batch(self, online: usize) -> Duration {
        let online = u32::try_from(online).unwrap_or(u32::MAX);
        self.per_session.saturating_mul(online).min(self.max)
    }
}

/// The first wait after a failed commit; it doubles with each failure.
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
/// How much longer than the database's own timeouts one try may take.
const ATTEMPT_GRACE: Duration = Duration::from_secs(1);
/// The longest wait between two tries of a failing database.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

struct WriterTask {
    db: DatabaseConnection,
    hub: Hub,
    next_id: i64,
    dedup: Dedup,
    batch: usize,
    spacing: BatchSpacing,
    cluster: Option<Sequencer>,
    health: Arc<Health>,
    give_up: Duration,
    /// The wait after the next failure.
    backoff: Duration,
    /// A commit failed since the last one that succeeded: it may have been
    /// stored after all (the connection broke during COMMIT), so the next one
    /// numbers its messages from the database and looks their client ids up there.
    resync: bool,
    /// Client ids of messages given up after a failure that may have stored
    /// them: a message under one of them is looked up in the database first.
    uncertain: Uncertain,
}

/// One record of a batch, in queue order.
enum Step {
    Chat {
        uid: i64,
        to: Destination,
        name: Arc<str>,
        client_id: String,
        text: String,
        ts: UnixMillis,
        ack: Ack,
        /// Its content, to tell a retry from an id used twice.
        fingerprint: Fingerprint,
        /// New, a retry, or a reused id.
        seen: Seen,
    },
    Announcement {
        text: String,
        ts: UnixMillis,
        done: oneshot::Sender<Result<i64, StoreError>>,
    },
    Issued(oneshot::Sender<Result<(), StoreError>>),
}

impl Step {
    /// Whether the step stores a message (and takes an id).
    fn stores(&self) -> bool {
        matches!(
            self,
            Self::Chat {
                seen: Seen::New,
                ..
            } | Self::Announcement { .. }
        )
    }
}

/// A resume token to store.
struct NewToken {
    uid: i64,
    hash: Vec<u8>,
    ts: UnixMillis,
    expires: UnixMillis,
}

/// Everything one batch writes besides its messages, in the same transaction.
struct Writes<'a> {
    logins: &'a [(i64, String, UnixMillis)],
    token_uses: &'a [(i64, UnixMillis)],
    issued: &'a [NewToken],
}

impl Writes<'_> {
    fn is_empty(&self) -> bool {
        self.logins.is_empty() && self.token_uses.is_empty() && self.issued.is_empty()
    }
}

/// The rows of the steps that store a message, numbered from `base`.
fn rows(steps: &[Step], base: i64) -> Vec<history::NewChatRow> {
    let mut id = base;
    let mut rows = Vec::new();
    for step in steps {
        let row = match step {
            Step::Chat {
                uid,
                to,
                client_id,
                text,
                ts,
                seen: Seen::New,
                ..
            } => history::NewChatRow {
                id,
                text: text.clone(),
                send_time: *ts,
                level: history::LEVEL_USER,
                uid: Some(*uid),
                target_kind: to.kind,
                target_id: to.id,
                client_msg_id: Some(client_id.clone()),
            },
            Step::Announcement { text, ts, .. } => history::NewChatRow {
                id,
                text: text.clone(),
                send_time: *ts,
                level: history::LEVEL_ADMIN,
                uid: None,
                target_kind: history::TARGET_ROOM,
                target_id: 0,
                client_msg_id: None,
            },
            _ => continue,
        };
        rows.push(row);
        id += 1;
    }
    rows
}

impl WriterTask {
    async fn run(mut self, mut rx: mpsc::Receiver<StoreItem>, close: CancellationToken) {
        let mut items = Vec::with_capacity(self.batch);
        let mut closing = false;
        loop {
            tokio::select! {
                biased;
                n = rx.recv_many(&mut items, self.batch) => {
                    if n == 0 {
                        break;
                    }
                    let started = Instant::now();
                    self.write_batch(std::mem::take(&mut items)).await;
                    // Records that came in while this batch was written mean a
                    // steady stream: they, and what follows, share the next batch.
                    let spacing = if rx.is_empty() {
                        Duration::ZERO
                    } else {
                        self.spacing.after_batch(self.hub.online_count())
                    };
                    if !spacing.is_zero() {
                        tokio::select! {
                            () = tokio::time::sleep_until((started + spacing).into()) => {}
                            // Shutting down: store what is left without waiting.
                            () = close.cancelled() => {}
                        }
                    }
                }
                () = close.cancelled(), if !closing => {
                    // Refuse new records; what is queued is still received and stored.
                    rx.close();
                    closing = true;
                }
            }
        }
        info!("store writer drained and stopped");
    }

    async fn write_batch(&mut self, items: Vec<StoreItem>) {
        let mut steps = Vec::with_capacity(items.len());
        let mut logins = Vec::new();
        let mut token_uses = Vec::new();
        let mut issued = Vec::new();
        // Client ids first seen in this batch, so a retry inside the same batch
        // is caught too; they enter `dedup` once the batch is committed.
        let mut pending: HashMap<dedup::Key, (usize, Fingerprint)> = HashMap::new();

        for item in items {
            match item {
                StoreItem::Chat {
                    uid,
                    to,
                    name,
                    client_id,
                    text,
                    ts,
                    ack,
                } => {
                    let key = (uid, client_id);
                    let fingerprint = Fingerprint::of(to.kind, to.id, &text);
                    if self.uncertain.contains(&key) {
                        // Given up earlier, perhaps stored: ask the database.
                        self.resync = true;
                    }
                    let seen = match (self.dedup.get(&key), pending.get(&key)) {
                        (Some(original), _) => Seen::against(original, fingerprint),
                        (None, Some(&(i, fp))) if fp == fingerprint => Seen::InBatch(i),
                        (None, Some(_)) => Seen::Reused,
                        (None, None) => {
                            pending.insert(key.clone(), (steps.len(), fingerprint));
                            Seen::New
                        }
                    };
                    match seen {
                        Seen::New => {}
                        Seen::Reused => {
                            debug!(uid, client_id = %key.1, "message id reused for another message; refusing it");
                        }
                        Seen::Stored(..) | Seen::InBatch(_) => {
                            debug!(uid, client_id = %key.1, "duplicate message id; acknowledging the original");
                        }
                    }
                    steps.push(Step::Chat {
                        uid,
                        to,
                        name,
                        client_id: key.1,
                        text,
                        ts,
                        ack,
                        fingerprint,
                        seen,
                    });
                }
                StoreItem::Announcement { text, ts, done } => {
                    steps.push(Step::Announcement { text, ts, done });
                }
                StoreItem::LoginStat { uid, address, ts } => logins.push((uid, address, ts)),
                StoreItem::TokenUsed { token_id, ts } => token_uses.push((token_id, ts)),
                StoreItem::TokenIssued {
                    uid,
                    hash,
                    ts,
                    expires,
                    done,
                } => {
                    issued.push(NewToken {
                        uid,
                        hash,
                        ts,
                        expires,
                    });
                    steps.push(Step::Issued(done));
                }
            }
        }

        let writes = Writes {
            logins: &logins,
            token_uses: &token_uses,
            issued: &issued,
        };
        match self.commit_with_retry(&mut steps, &writes).await {
            Ok(base) => self.after_commit(steps, base).await,
            Err(retry_after) => {
                warn!(
                    records = steps.len(),
                    logins = logins.len(),
                    token_uses = token_uses.len(),
                    retry_in = ?retry_after,
                    "the database does not take writes; a batch was given up and its senders told"
                );
                self.given_up(steps, retry_after).await;
            }
        }
    }

    /// Answer the records of a batch the database did not take: chat messages
    /// get `storage_unavailable` (retries of stored ones still get their
    /// `say_ok`), announcements and tokens their error. Nothing was stored.
    async fn given_up(&mut self, steps: Vec<Step>, retry_after: Duration) {
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

    /// Acknowledge and deliver a committed batch whose messages are numbered from `base`.
    async fn after_commit(&mut self, steps: Vec<Step>, base: i64) {
        // The id and time of each step that stored a message (retries in the
        // same batch are acknowledged with them).
        let mut ids: Vec<Option<(i64, UnixMillis)>> = Vec::with_capacity(steps.len());
        let mut next = base;
        for step in &steps {
            ids.push(match step {
                Step::Chat {
                    seen: Seen::New,
                    ts,
                    ..
                }
                | Step::Announcement { ts, .. } => {
                    next += 1;
                    Some((next - 1, *ts))
                }
                _ => None,
            });
        }
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
                                events.push(message_event(id, ts, &name, text, uid, to));
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
                        delivery: Delivery {
                            frame,
                            message_id: Some(id),
                            except: None,
                        },
                        to: None,
                    });
                    let _ = done.send(Ok(id));
                }
                Step::Issued(done) => {
                    let _ = done.send(Ok(()));
                }
            }
        }
        acks.send(&self.hub).await;
        if let Some(sequencer) = &self.cluster {
            if next > base {
                sequencer
                    .committed(Committed {
                        first: base,
                        last: next - 1,
                        events,
                    })
                    .await;
            }
            return;
        }
        let mut deliveries = Vec::new();
        let mut targeted = Vec::new();
        for e in events {
            match e.to {
                None => deliveries.push(e.delivery),
                Some(uids) => targeted.push((uids, e.delivery.frame)),
            }
        }
        // Hand events to the hub in slices, so one large batch never fills a
        // reader's outbox budget by itself.
        for slice in slices(deliveries, MAX_PUBLISH_BYTES) {
            if self.hub.publish(slice).await.is_err() {
                debug!("hub stopped; deliveries dropped during shutdown");
            }
        }
        // Group and direct messages, to their recipients only. (Who was offline gets
        // them at the next login, from the stored history.)
        for (uids, frame) in targeted {
            if self.hub.send_to(uids, frame).await.is_err() {
                debug!("hub stopped; deliveries dropped during shutdown");
            }
        }
    }

    /// Commit one batch, trying again with growing waits while the database
    /// fails, for at most `give_up`. Returns the id of its first message, or,
    /// when the batch is given up, how long until the database is tried again.
    /// A batch that comes while the store is known to fail and its next try is
    /// still ahead is given up at once: its senders are answered now.
    async fn commit_with_retry(
        &mut self,
        steps: &mut [Step],
        writes: &Writes<'_>,
    ) -> Result<i64, Duration> {
        if let Some(wait) = self.health.refusal() {
            return Err(wait);
        }
        let deadline = Instant::now() + self.give_up;
        loop {
            // The database's own timeouts (pool, SQLite's busy wait) are
            // `give_up`: this one only cuts off a try that hangs beyond them.
            let attempt = tokio::time::timeout(
                self.give_up + ATTEMPT_GRACE,
                self.commit_once(steps, writes),
            )
            .await
            .unwrap_or_else(|_| Err(DbErr::Custom("the commit did not finish in time".into())));
            match attempt {
                Ok(base) => {
                    let stored = steps.iter().filter(|s| s.stores()).count();
                    self.next_id = base + i64::try_from(stored).unwrap_or(0);
                    self.health.recovered();
                    self.backoff = FIRST_BACKOFF;
                    return Ok(base);
                }
                Err(e) => {
                    // It may have been stored after all: the next commit checks.
                    self.resync = true;
                    let wait = self.backoff;
                    self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                    self.health.failing_for(wait);
                    error!(error = %e, retry_in = ?wait, records = steps.len(), "storing a batch failed");
                    if Instant::now() + wait >= deadline {
                        return Err(wait);
                    }
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// One try at committing a batch; returns the id of its first message.
    async fn commit_once(&mut self, steps: &mut [Step], w: &Writes<'_>) -> Result<i64, DbErr> {
        let cluster = self.cluster.is_some();
        if !cluster && !self.resync {
            let base = self.next_id;
            self.commit(&rows(steps, base), w).await?;
            return Ok(base);
        }
        let base = self.commit_checked(steps, w, cluster).await?;
        self.resync = false;
        for step in steps.iter() {
            if let Step::Chat { uid, client_id, .. } = step {
                self.uncertain.remove(&(*uid, client_id.clone()));
            }
        }
        Ok(base)
    }

    async fn commit(&self, rows: &[history::NewChatRow], w: &Writes<'_>) -> Result<(), DbErr> {
        if rows.is_empty() && w.is_empty() {
            return Ok(());
        }
        if w.is_empty() && history::fits_one_insert(rows) {
            // One statement is atomic by itself: no BEGIN and COMMIT round trips.
            return history::insert_rows(&self.db, rows).await;
        }
        let txn = self.db.begin().await?;
        history::insert_rows(&txn, rows).await?;
        write_others(&txn, w).await?;
        txn.commit().await
    }

    /// A commit that asks the database instead of trusting the writer's memory:
    /// number the messages after the highest stored id and recognise messages
    /// stored before under the same client ids. A cluster node commits this way
    /// every time, under the store lock (`lock`), since other nodes store too;
    /// a single node after a commit failed (it may have stored after all).
    async fn commit_checked(
        &self,
        steps: &mut [Step],
        w: &Writes<'_>,
        lock: bool,
    ) -> Result<i64, DbErr> {
        if !steps.iter().any(Step::stores) {
            self.commit(&[], w).await?;
            return Ok(self.next_id);
        }
        let txn = self.db.begin().await?;
        if lock {
            store_lock::take(&txn).await?;
        }
        let base = history::max_id(&txn).await? + 1;
        let keys: Vec<dedup::Key> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Chat {
                    uid,
                    client_id,
                    seen: Seen::New,
                    ..
                } => Some((*uid, client_id.clone())),
                _ => None,
            })
            .collect();
        let window = i64::try_from(dedup::CAPACITY).unwrap_or(i64::MAX);
        let found = history::stored_client_messages(&txn, &keys, base - 1 - window).await?;
        if !found.is_empty() {
            let found: HashMap<dedup::Key, Original> = found
                .into_iter()
                .map(|m| {
                    let original = Original {
                        id: m.id,
                        ts: m.ts,
                        fingerprint: Fingerprint::of(m.target_kind, m.target_id, &m.text),
                    };
                    ((m.uid, m.client_id), original)
                })
                .collect();
            for step in steps.iter_mut() {
                if let Step::Chat {
                    uid,
                    client_id,
                    fingerprint,
                    seen: seen @ Seen::New,
                    ..
                } = step
                    && let Some(&original) = found.get(&(*uid, client_id.clone()))
                {
                    debug!(uid, %client_id, "message id stored through another node");
                    *seen = Seen::against(original, *fingerprint);
                }
            }
            // Retries later in the batch follow the step they point at.
            let resolved: Vec<Option<Seen>> = steps
                .iter()
                .map(|s| match s {
                    Step::Chat {
                        seen: seen @ (Seen::Stored(..) | Seen::Reused),
                        ..
                    } => Some(*seen),
                    _ => None,
                })
                .collect();
            for step in steps.iter_mut() {
                if let Step::Chat {
                    seen: seen @ Seen::InBatch(_),
                    ..
                } = step
                    && let Seen::InBatch(j) = *seen
                    && let Some(Some(first)) = resolved.get(j)
                {
                    // The first was a retry: so is this. The first reused an id:
                    // this one, with the first's content, reuses it too.
                    *seen = *first;
                }
            }
        }
        history::insert_rows(&txn, &rows(steps, base)).await?;
        write_others(&txn, w).await?;
        txn.commit().await?;
        Ok(base)
    }
}

/// The batch's writes other than messages, inside its transaction.
async fn write_others(txn: &impl sea_orm::ConnectionTrait, w: &Writes<'_>) -> Result<(), DbErr> {
    for (uid, address, ts) in w.logins {
        accounts::record_login(txn, *uid, address, *ts).await?;
    }
    for (token_id, ts) in w.token_uses {
        tokens::touch(txn, *token_id, *ts).await?;
    }
    for t in w.issued {
        tokens::insert_token(txn, t.uid, &t.hash, t.ts, t.expires).await?;
        tokens::prune(txn, t.uid, tokens::TOKENS_PER_ACCOUNT, t.ts).await?;
    }
    Ok(())
}

/// The `message` event of a newly stored chat message, for its recipients.
fn message_event(
    id: i64,
    ts: UnixMillis,
    name: &str,
    text: String,
    uid: i64,
    to: Destination,
) -> Event {
    let frame = encode_event(&ServerMessage::Message(ChatMessage {
        id,
        ts,
        kind: MessageKind::Message,
        from: name.to_owned(),
        text,
        to: to.target,
    }));
    Event {
        delivery: Delivery {
            frame,
            message_id: Some(id),
            except: to.recipients.is_none().then_some(uid),
        },
        to: to.recipients,
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

/// Cut deliveries, in order, into slices of about `max_bytes` of frames each
/// (a slice ends with the frame that reaches the limit).
pub(crate) fn slices(deliveries: Vec<Delivery>, max_bytes: usize) -> Vec<Vec<Delivery>> {
    let mut out = Vec::new();
    let mut slice = Vec::new();
    let mut bytes = 0;
    for d in deliveries {
        bytes += d.frame.len();
        slice.push(d);
        if bytes >= max_bytes {
            out.push(std::mem::take(&mut slice));
            bytes = 0;
        }
    }
    if !slice.is_empty() {
        out.push(slice);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(n: usize) -> Delivery {
        Delivery {
            frame: bytes::Bytes::from(vec![b'x'; n]),
            message_id: None,
            except: None,
        }
    }

    #[test]
    fn batch_spacing_grows_with_the_crowd_up_to_its_cap() {
        let spacing = BatchSpacing {
            per_session: Duration::from_micros(15),
            max: Duration::from_millis(20),
        };
        assert_eq!(spacing.after_batch(0), Duration::ZERO);
        assert_eq!(spacing.after_batch(2), Duration::from_micros(30));
        assert_eq!(spacing.after_batch(1000), Duration::from_millis(15));
        assert_eq!(spacing.after_batch(100_000), Duration::from_millis(20));
        assert_eq!(spacing.after_batch(usize::MAX), Duration::from_millis(20));
        let off = BatchSpacing {
            per_session: Duration::ZERO,
            max: Duration::ZERO,
        };
        assert_eq!(off.after_batch(1000), Duration::ZERO);
    }

    #[test]
    fn slices_keep_order_and_stay_near_the_limit() {
        let sizes = [400, 400, 400, 100, 900, 50];
        let cut = slices(sizes.iter().map(|&n| delivery(n)).collect(), 1000);
        let lens: Vec<Vec<usize>> = cut
            .iter()
            .map(|s| s.iter().map(|d| d.frame.len()).collect())
            .collect();
        assert_eq!(lens, vec![vec![400, 400, 400], vec![100, 900], vec![50]]);
        assert!(slices(Vec::new(), 1000).is_empty());
    }
}
