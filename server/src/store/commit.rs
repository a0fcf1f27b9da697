//! Committing one batch: trying the database again with growing waits for
//! `give_up`, then giving the batch up; and the commit itself, trusting the
//! writer's memory of ids (one writer, the usual case) or asking the database
//! (a writer sharing it, under the locks of its conversations' clocks; or one
//! after a failed commit, which may have been stored after all). A batch with
//! direct messages also moves both sides' `direct_conversation` rows, in the
//! same transaction, so `conversations` never lists a message that is not
//! stored.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sea_orm::{DbErr, TransactionTrait};
use tracing::{debug, error};

use super::dedup::{self, Fingerprint, Original, Seen};
use super::{ATTEMPT_GRACE, FIRST_BACKOFF, MAX_BACKOFF, Numbered, Step, WriterTask, Writes};
use crate::db::{accounts, clocks, conversations, history, tokens};
use crate::delivery::Conversation;

/// How far back (in ids) a writer sharing the database looks for a retried
/// message stored through another node: the nodes' messages interleave, so
/// further than the writer's own memory.
const SHARED_DEDUP_WINDOW: i64 = 64 * dedup::CAPACITY as i64;

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
                target_kind: history::TargetKind::Room,
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
    /// Commit one batch, trying again with growing waits while the database
    /// fails, for at most `give_up`. Returns where its messages start, or,
    /// when the batch is given up, how long until the database is tried again.
    /// A batch that comes while the store is known to fail and its next try is
    /// still ahead is given up at once: its senders are answered now.
    pub(super) async fn commit_with_retry(
        &mut self,
        steps: &mut [Step],
        writes: &Writes<'_>,
    ) -> Result<Numbered, Duration> {
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
                Ok(numbered) => {
                    let stored = steps.iter().filter(|s| s.stores()).count();
                    self.next_id = self
                        .next_id
                        .max(numbered.base + i64::try_from(stored).unwrap_or(0));
                    self.health.recovered();
                    self.backoff = FIRST_BACKOFF;
                    return Ok(numbered);
                }
                Err(e) if crate::db::is_conflict(&e) && Instant::now() < deadline => {
                    // Another node's transaction won a race for a lock (a deadlock
                    // on MySQL's gap locks): nothing was stored and the database is
                    // fine; try again at once.
                    debug!(error = %e, records = steps.len(), "a batch lost a lock race; trying again");
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

    /// One try at committing a batch.
    async fn commit_once(&mut self, steps: &mut [Step], w: &Writes<'_>) -> Result<Numbered, DbErr> {
        if self.shared {
            let numbered = self.commit_shared(steps, w).await?;
            self.forget_uncertain(steps);
            return Ok(numbered);
        }
        let prev = HashMap::new();
        if !self.resync {
            let base = self.next_id;
            self.commit(&rows(steps, base), w).await?;
            return Ok(Numbered { base, prev });
        }
        let base = self.commit_checked(steps, w).await?;
        if steps.iter().any(Step::stores) {
            // It numbered its messages from the database and looked them up.
            self.resync = false;
        }
        self.forget_uncertain(steps);
        Ok(Numbered { base, prev })
    }

    /// The batch's messages were looked up in the database: none is uncertain now.
    fn forget_uncertain(&mut self, steps: &[Step]) {
        for step in steps {
            if let Step::Chat { uid, client_id, .. } = step {
                self.uncertain.remove(&(*uid, client_id.clone()));
            }
        }
    }

    async fn commit(&self, rows: &[history::NewChatRow], w: &Writes<'_>) -> Result<(), DbErr> {
        if rows.is_empty() && w.is_empty() {
            return Ok(());
        }
        if w.is_empty() && history::fits_one_insert(rows) && !conversations::any_direct(rows) {
            // One statement is atomic by itself: no BEGIN and COMMIT round trips.
            return history::insert_rows(&self.db, rows).await;
        }
        let txn = self.db.begin().await?;
        history::insert_rows(&txn, rows).await?;
        conversations::record(&txn, rows).await?;
        write_others(&txn, w).await?;
        txn.commit().await
    }

    /// A commit that asks the database instead of trusting the writer's memory,
    /// after a failed commit (it may have been stored after all): number the
    /// messages after the highest stored id and recognise messages stored
    /// before under the same client ids.
    async fn commit_checked(&self, steps: &mut [Step], w: &Writes<'_>) -> Result<i64, DbErr> {
        if !steps.iter().any(Step::stores) {
            self.commit(&[], w).await?;
            return Ok(self.next_id);
        }
        let txn = self.db.begin().await?;
        let base = history::max_id(&txn).await? + 1;
        let window = i64::try_from(dedup::CAPACITY).unwrap_or(i64::MAX);
        recognise_stored(&txn, steps, base - 1 - window).await?;
        let rows = rows(steps, base);
        history::insert_rows(&txn, &rows).await?;
        conversations::record(&txn, &rows).await?;
        write_others(&txn, w).await?;
        txn.commit().await?;
        Ok(base)
    }

    /// The commit of a writer that shares the database with other nodes: lock
    /// the clocks of the batch's conversations (which say where each one's
    /// messages follow on), take a run of ids above them ([`IdBlock`]),
    /// recognise messages stored before through another node, store, move the
    /// clocks on. Batches for other conversations commit meanwhile.
    async fn commit_shared(
        &mut self,
        steps: &mut [Step],
        w: &Writes<'_>,
    ) -> Result<Numbered, DbErr> {
        // `lock` sorts them and leaves out repeats.
        let conversations: Vec<Conversation> =
            steps.iter().filter_map(Step::conversation).collect();
        if conversations.is_empty() {
            self.commit(&[], w).await?;
            return Ok(Numbered {
                base: self.next_id,
                prev: HashMap::new(),
            });
        }
        let txn = self.db.begin().await?;
        let prev = clocks::lock(&txn, &conversations).await?;
        let wanted = steps.iter().filter(|s| s.stores()).count();
        let after = prev.values().copied().max().unwrap_or(0);
        let base = self
            .ids
            .take(&self.db, i64::try_from(wanted).unwrap_or(i64::MAX), after)
            .await?;
        recognise_stored(&txn, steps, base - 1 - SHARED_DEDUP_WINDOW).await?;
        let rows = rows(steps, base);
        let mut newest: HashMap<Conversation, i64> = HashMap::new();
        for (step, row) in steps.iter().filter(|s| s.stores()).zip(&rows) {
            if let Some(c) = step.conversation() {
                newest.insert(c, row.id);
            }
        }
        history::insert_rows(&txn, &rows).await?;
        conversations::record(&txn, &rows).await?;
        clocks::advance(&txn, &newest.into_iter().collect::<Vec<_>>()).await?;
        write_others(&txn, w).await?;
        txn.commit().await?;
        Ok(Numbered { base, prev })
    }
}

/// The run of ids a writer that shares the database took from its counter
/// and has not used yet. Taking ids is a transaction of its own (a disk sync),
/// so a writer takes [`IdBlock::SIZE`] at a time and numbers batch after batch
/// from them, as long as they lie above the newest message of every
/// conversation in the batch; when another node has written to one of them
/// since (its id is higher), the rest of the run is left unused and a new one
/// taken, which lies above every id handed out before. So ids stay unique and
/// grow within every conversation; gaps are normal.
#[derive(Debug, Default)]
pub(super) struct IdBlock {
    /// The next unused id, the end of the run (exclusive), and when it was
    /// taken: a run is used for at most [`clocks::RUN_MAX_AGE_MS`].
    run: Option<(i64, i64, std::time::Instant)>,
}

impl IdBlock {
    /// Ids taken from the counter at once, at least.
    pub const SIZE: i64 = 1024;

    /// `n` ids in a row, all above `after`; returns the first. They count as
    /// used even if the commit then fails (it may have stored after all).
    async fn take(
        &mut self,
        db: &sea_orm::DatabaseConnection,
        n: i64,
        after: i64,
    ) -> Result<i64, DbErr> {
        let (next, end, taken) = match self.run {
            Some((next, end, taken)) if Self::fits(next, end, taken, n, after) => {
                (next, end, taken)
            }
            _ => {
                let size = n.max(Self::SIZE);
                let first = clocks::take_ids(db, size).await?;
                (first, first + size, std::time::Instant::now())
            }
        };
        self.run = Some((next + n, end, taken));
        Ok(next)
    }

    /// Whether `n` ids above `after` come from the run at `next..end` taken
    /// at `taken`: it has them, and it is not too old.
    fn fits(next: i64, end: i64, taken: std::time::Instant, n: i64, after: i64) -> bool {
        let max_age = std::time::Duration::from_millis(clocks::RUN_MAX_AGE_MS.unsigned_abs());
        next > after && next + n <= end && taken.elapsed() < max_age
    }
}

/// Recognise the batch's new messages that the database already holds under
/// the same sender and client id (stored through another node, or by a commit
/// that failed after all), looking at ids above `above`: each becomes a retry
/// of the stored one, or a reused id.
async fn recognise_stored(
    txn: &impl sea_orm::ConnectionTrait,
    steps: &mut [Step],
    above: i64,
) -> Result<(), DbErr> {
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
    let found = history::stored_client_messages(txn, &keys, above).await?;
    if found.is_empty() {
        return Ok(());
    }
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
    Ok(())
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

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn a_run_serves_ids_above_the_conversations_while_young() {
        let now = Instant::now();
        assert!(IdBlock::fits(10, 20, now, 5, 9));
        assert!(!IdBlock::fits(10, 20, now, 11, 9), "not enough left");
        assert!(
            !IdBlock::fits(10, 20, now, 1, 10),
            "another node wrote above it"
        );
        let max_age = Duration::from_millis(clocks::RUN_MAX_AGE_MS.unsigned_abs());
        if let Some(old) = now.checked_sub(max_age) {
            assert!(!IdBlock::fits(10, 20, old, 1, 0), "too old: a new run");
        }
    }
}
