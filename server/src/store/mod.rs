//! The write-behind store: a bounded queue of records and one writer task that
//! stores them in batches, each atomic: one transaction, or one multi-row
//! statement for a batch of chat messages alone (group commit).
//!
//! Ordering and durability live here. The writer assigns message ids in queue
//! order, commits a batch, and only then acknowledges each sender (`say_ok`)
//! and hands the messages to the hub for delivery, so nobody ever sees a
//! message that is not stored.
//!
//! Committed batches go to one [`Deliver`]: the hub on a single node; in a
//! cluster, the part that tells the other nodes and delivers in id order. The
//! store does not know which.
//!
//! When other writers share the database (`shared`: the nodes of a cluster),
//! a batch with messages locks the clocks of its conversations first
//! ([`crate::db::clocks`]) and takes its ids from the database's counter, so
//! each conversation's batches commit one at a time, in id order, while
//! batches for other conversations commit at the same time on any node; a
//! message retried through another writer is recognised in the database
//! under the same locks. A full queue makes senders wait (backpressure);
//! memory never grows without bound.
//!
//! - [`dedup`]: a retried message (same sender, client id and content) is
//!   acknowledged with its original id, never stored twice; an id used for
//!   another message is refused.
//! - `commit`: one batch's commit, tried again for `--db-timeout`, then
//!   given up; [`health`]: the store's state while the database fails, which
//!   sessions read to refuse new messages at once.
//! - `queue`: what senders hand the writer ([`StoreItem`]) through the
//!   bounded queue ([`Store`]), and why a record may not be taken.
//! - `answer`: the senders' answers and the delivery of a committed batch;
//!   `acks`: answers gathered per connection.

mod acks;
mod answer;
mod commit;
pub mod dedup;
pub mod health;
mod queue;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chatroom_shared::UnixMillis;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use crate::db::{clocks, history};
use crate::delivery::{Conversation, Deliver};
use crate::hub::Hub;
use crate::search::SearchIndex;
use dedup::{Dedup, Fingerprint, Seen, Uncertain};
pub use health::Health;
pub use queue::{Ack, Destination, Store, StoreError, StoreItem, TrySubmitError};

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
    /// Other writers store into the same database (the nodes of a cluster):
    /// each batch then takes its ids from the database, under the locks of
    /// its conversations' clocks, instead of from the writer's memory.
    pub shared: bool,
    /// How long the writer tries to store one batch before it gives it up
    /// and tells its senders `storage_unavailable`; each try is cut off after
    /// this long too.
    pub give_up: Duration,
}

/// Start the writer task. Reads the highest message id and the recent client
/// message ids from the database first.
///
/// Each committed batch goes to `deliver` (on one node, the hub itself); `hub`
/// is for the acknowledgements and the number of sessions online.
/// Cancelling `close` makes the writer refuse new records, store everything
/// already queued, and stop.
pub async fn start(
    db: DatabaseConnection,
    hub: Hub,
    deliver: Arc<dyn Deliver>,
    search: Option<SearchIndex>,
    config: WriterConfig,
    close: CancellationToken,
) -> Result<(Store, Writer), DbErr> {
    let WriterConfig {
        queue,
        batch,
        spacing,
        shared,
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
        deliver,
        search,
        shared,
        health: Arc::clone(&health),
        give_up,
        backoff: FIRST_BACKOFF,
        resync: false,
        uncertain: Uncertain::default(),
        ids: commit::IdBlock::default(),
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
/// while a batch that stored messages was being committed (a steady stream,
/// not a lone message), the next batch starts no earlier than this spacing
/// after the last one began, in proportion to the number of sessions: what
/// arrives meanwhile shares it. A record that finds the writer idle is stored
/// at once, so a quiet room, or an occasional message beside other traffic,
/// pays nothing.
///
/// Two consequences are exact, not a matter of timing. The stream is judged
/// when the commit ends, before anyone is answered, so a sender who waits
/// for each `say_ok` before sending the next is never held back by its own
/// messages. And a batch of login bookkeeping alone (resume tokens, login
/// statistics) delivers nothing and wakes no session, so it is never followed
/// by a spacing: a message arriving while a login is written is not held
/// back for it.
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
    deliver: Arc<dyn Deliver>,
    /// Takes each committed batch's messages before their senders are
    /// acknowledged, so a sender can find its message at once.
    search: Option<SearchIndex>,
    shared: bool,
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
    /// Ids taken from the database's counter, not used yet (`shared` only).
    ids: commit::IdBlock,
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

    /// The conversation of the message the step stores, if it stores one.
    fn conversation(&self) -> Option<Conversation> {
        match self {
            Self::Chat {
                uid,
                to,
                seen: Seen::New,
                ..
            } => Some(clocks::conversation(to.kind, to.id, Some(*uid))),
            Self::Announcement { .. } => Some(Conversation::Room),
            _ => None,
        }
    }
}

/// Where a committed batch's messages start: the first id, and (when the
/// writer shares the database) each conversation's newest id before them.
struct Numbered {
    base: i64,
    prev: HashMap<Conversation, i64>,
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
                    let stream = self.write_batch(std::mem::take(&mut items), &rx).await;
                    // A steady stream: what came in meanwhile, and what follows,
                    // shares the next batch.
                    let spacing = if stream {
                        self.spacing.after_batch(self.hub.online_count())
                    } else {
                        Duration::ZERO
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

    /// Store one batch and answer its senders. Returns whether it was part of
    /// a steady stream: it stored messages, and records came in while it was
    /// committed (judged before the answers go out, see [`BatchSpacing`]).
    async fn write_batch(&mut self, items: Vec<StoreItem>, rx: &mpsc::Receiver<StoreItem>) -> bool {
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
        let committing = Instant::now();
        let result = self.commit_with_retry(&mut steps, &writes).await;
        metrics::histogram!(crate::metrics::STORE_COMMIT_SECONDS).record(committing.elapsed());
        match result {
            Ok(numbered) => {
                let stream = steps.iter().any(Step::stores) && !rx.is_empty();
                record_committed(&steps);
                self.after_commit(steps, numbered).await;
                stream
            }
            Err(retry_after) => {
                warn!(
                    records = steps.len(),
                    logins = logins.len(),
                    token_uses = token_uses.len(),
                    retry_in = ?retry_after,
                    "the database does not take writes; a batch was given up and its senders told"
                );
                metrics::counter!(crate::metrics::STORE_BATCHES_GIVEN_UP).increment(1);
                self.given_up(steps, retry_after).await;
                // Nothing was stored, so nothing to share; while the database
                // fails, sessions refuse new messages until the next try anyway.
                false
            }
        }
    }
}

/// The operator's figures for a committed batch: its size, the messages it
/// stored, and how long each waited since the server received it.
fn record_committed(steps: &[Step]) {
    metrics::histogram!(crate::metrics::STORE_BATCH_RECORDS).record(steps.len() as f64);
    let now = crate::time::now_ms();
    let mut stored = 0u64;
    for step in steps.iter().filter(|s| s.stores()) {
        stored += 1;
        if let Step::Chat { ts, .. } | Step::Announcement { ts, .. } = step {
            let waited = (now - *ts).max(0) as f64 / 1000.0;
            metrics::histogram!(crate::metrics::MESSAGE_STORE_SECONDS).record(waited);
        }
    }
    metrics::counter!(crate::metrics::MESSAGES_STORED).increment(stored);
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
