//! The thread that owns the index's writer: it adds what it is fed, commits
//! about once a second (or sooner when much waits), makes each commit visible
//! to searches together with dropping what it held in memory, and records in
//! each commit how far the index goes ([`Mark`]).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tantivy::{Index, IndexWriter, TantivyDocument, Term};
use tokio::sync::oneshot;
use tracing::{debug, error};

use super::fields::{Doc, NameKeys, id_value};
use super::{Core, State};

/// Longest a fed message waits to be committed.
const COMMIT_EVERY: Duration = Duration::from_secs(1);
/// Messages that make a commit sooner.
const MAX_UNCOMMITTED: usize = 200_000;
/// Memory of the writer's indexing threads, in all.
const WRITER_BUDGET: usize = 96 * 1024 * 1024;

/// What the writer is told.
pub enum Op {
    /// Messages fed live, all numbered `n` in the search view.
    Add {
        /// Their number in the view.
        n: u64,
        /// The messages, none fed before (while reading back, one may be
        /// read back too: see `fed_live`).
        docs: Arc<Vec<Doc>>,
    },
    /// Messages read back from the database: everything up to `upto` (by id)
    /// is now fed.
    Page {
        /// The messages.
        docs: Vec<Doc>,
        /// The highest id read.
        upto: i64,
        /// Answered once they are taken.
        done: oneshot::Sender<()>,
    },
    /// The index was made for another database: start again empty.
    Clear(oneshot::Sender<()>),
    /// Reading back is over: commit and answer searches from now on.
    CaughtUp(oneshot::Sender<()>),
    /// Commit now.
    Flush(oneshot::Sender<()>),
    /// Commit, let go of the index (its lock, its merges) and stop.
    Close(oneshot::Sender<()>),
}

/// How far a commit of the index goes, stored as its payload.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    /// Every message with an id up to here is in the index. Holds for a
    /// server that writes the database alone, whose ids grow in commit order.
    pub upto_id: i64,
    /// Every message fed before this time (unix ms) is in the index; 0 before
    /// the first read-back finished. Any node: a message is fed within
    /// [`MAX_LAG_MS`] of its send time, so a start reads back
    /// what was sent since this time less that.
    pub fed_before: i64,
    /// Every message sent since `fed_before` less `MAX_LAG_MS` has an id
    /// above this (0: not known), so a cluster node's start reads back from
    /// here, not from the first message. It is the highest id fed at a
    /// commit at least [`FLOOR_AGE_MS`] before: a message sent later was
    /// numbered from a run taken later, above every id handed out by then.
    #[serde(default)]
    pub id_floor: i64,
}

/// Longest time from a message's send time to its feeding into the index on
/// any node: its commit (at most twice the database timeout and a second),
/// the cluster's ordering and read-back of lost batches (seconds), and the
/// nodes' clocks disagreeing. Generous: it only costs reading more at start.
pub const MAX_LAG_MS: i64 = 10 * 60 * 1000;

/// How old a sample must be to bound a mark's read-back from below: a
/// message sent since the mark's time less `MAX_LAG_MS` was numbered from a
/// run taken at most `RUN_MAX_AGE_MS` before its commit, and a second
/// `MAX_LAG_MS` covers, as for the read-back's time, commits that took long
/// and nodes' clocks that disagree.
const FLOOR_AGE_MS: i64 = 2 * MAX_LAG_MS + crate::db::clocks::RUN_MAX_AGE_MS;

/// Keep a sample of the highest id fed at most this often.
const SAMPLE_EVERY_MS: i64 = 10_000;

/// The highest ids fed at past commits, oldest first, to find a mark's
/// [`Mark::id_floor`].
#[derive(Debug, Default)]
struct Samples(std::collections::VecDeque<(i64, i64)>);

impl Samples {
    /// Note `fed_max` at `now` (unix ms), and return the highest id fed at a
    /// commit old enough to bound every message sent since `now` less
    /// `MAX_LAG_MS` from below, if one is kept; older samples are dropped.
    fn floor(&mut self, now: i64, fed_max: i64) -> Option<i64> {
        if self
            .0
            .back()
            .is_none_or(|&(at, _)| now - at >= SAMPLE_EVERY_MS)
        {
            self.0.push_back((now, fed_max));
        }
        let cutoff = now - FLOOR_AGE_MS;
        while self.0.get(1).is_some_and(|&(at, _)| at <= cutoff) {
            self.0.pop_front();
        }
        self.0
            .front()
            .filter(|&&(at, _)| at <= cutoff)
            .map(|&(_, id)| id)
    }
}

impl Mark {
    /// The mark of the index's last commit (nothing for a new index).
    pub fn of(index: &Index) -> Self {
        index
            .load_metas()
            .ok()
            .and_then(|m| m.payload)
            .and_then(|p| serde_json::from_str(&p).ok())
            .unwrap_or_default()
    }
}

/// Start the writer thread. It and the indexing threads it starts run at
/// the lowest priority: indexing takes the CPU the chat leaves (it lags
/// under a burst, searched from memory meanwhile, and catches up after).
pub fn start(index: Index, handle: Arc<Core>, rx: Receiver<Op>, mark: Mark) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("search-index".into())
        .spawn(move || {
            lowest_priority();
            // Made here, so its threads inherit the priority.
            let writer: IndexWriter<TantivyDocument> = match index.writer(WRITER_BUDGET) {
                Ok(w) => w,
                Err(e) => {
                    error!(error = %e, "the search index cannot be written; searches scan the database");
                    handle.set_state(State::Broken);
                    return;
                }
            };
            let task = Writer {
                writer,
                handle,
                mark,
                caught_up: false,
                fed_live: HashSet::new(),
                recent: RecentIds::default(),
                read_upto: mark.upto_id,
                fed_max: mark.upto_id,
                added: None,
                dirty: 0,
                since_commit: Instant::now(),
                samples: Samples::default(),
                name_keys: NameKeys::default(),
            };
            task.run(&rx);
        })?;
    Ok(())
}

/// Give this thread (and the threads it starts) the lowest CPU priority.
fn lowest_priority() {
    #[cfg(target_os = "linux")]
    {
        // On Linux a "process" priority of a thread id is that thread's.
        let tid = rustix::thread::gettid();
        if let Err(e) = rustix::process::setpriority_process(Some(tid), 19) {
            debug!(error = %e, "could not lower the search index's priority");
        }
    }
}

/// The ids fed live lately, so that a message fed twice is added once
/// without a deletion per message (which is what replacing costs). Feeders
/// give each message once; a repeat is rare: a cluster node's own message
/// that its ordering read back from the database before its store handed the
/// batch over. Two generations of at most [`RecentIds::GENERATION`] ids each
/// (seconds of the busiest chat); a repeat older than that is added again,
/// which a search drops as a repeat of the same id.
#[derive(Debug, Default)]
struct RecentIds {
    now: HashSet<i64>,
    before: HashSet<i64>,
}

impl RecentIds {
    /// Ids per generation.
    const GENERATION: usize = 1 << 18;

    /// Note `id`; false when it was fed lately.
    fn first_time(&mut self, id: i64) -> bool {
        if self.now.contains(&id) || self.before.contains(&id) {
            return false;
        }
        if self.now.len() >= Self::GENERATION {
            self.before = std::mem::take(&mut self.now);
        }
        self.now.insert(id);
        true
    }
}

struct Writer {
    writer: IndexWriter<TantivyDocument>,
    handle: Arc<Core>,
    /// The last commit's mark.
    mark: Mark,
    /// The read-back is over.
    caught_up: bool,
    /// Ids fed live while reading back (a page holding one replaces it).
    fed_live: HashSet<i64>,
    /// Ids fed live lately, once caught up: a message fed again is left out.
    recent: RecentIds,
    /// The read-back went up to here.
    read_upto: i64,
    /// The highest id fed.
    fed_max: i64,
    /// The view number of the last live messages added.
    added: Option<u64>,
    /// Messages added since the last commit.
    dirty: usize,
    since_commit: Instant,
    /// The highest ids fed at past commits.
    samples: Samples,
    /// Senders' name keys, computed once per name.
    name_keys: NameKeys,
}

impl Writer {
    fn run(mut self, rx: &Receiver<Op>) {
        loop {
            let wait = if self.dirty > 0 {
                COMMIT_EVERY.saturating_sub(self.since_commit.elapsed())
            } else {
                Duration::from_secs(3600)
            };
            let outcome = match rx.recv_timeout(wait) {
                Ok(Op::Close(done)) => {
                    if let Err(e) = self.commit() {
                        error!(error = %e, "the search index could not commit at shutdown; the next start reads back the rest");
                    }
                    if let Err(e) = self.writer.wait_merging_threads() {
                        debug!(error = %e, "the search index's merges ended with an error");
                    }
                    let _ = done.send(());
                    return;
                }
                Ok(op) => self.take(op),
                Err(RecvTimeoutError::Timeout) => Ok(()),
                Err(RecvTimeoutError::Disconnected) => {
                    let _ = self.commit();
                    return;
                }
            };
            let due = self.dirty > 0
                && (self.since_commit.elapsed() >= COMMIT_EVERY || self.dirty >= MAX_UNCOMMITTED);
            let outcome = outcome.and_then(|()| if due { self.commit() } else { Ok(()) });
            if let Err(e) = outcome {
                error!(error = %e, "the search index failed; searches scan the database until the next start rebuilds it");
                self.handle.set_state(State::Broken);
                let mut view = self.handle.view.write().unwrap_or_else(|p| p.into_inner());
                view.pending.clear();
                return;
            }
        }
    }

    fn add(&mut self, doc: &Doc, replace: bool) -> tantivy::Result<()> {
        let f = &self.handle.fields;
        if replace {
            self.writer
                .delete_term(Term::from_field_u64(f.id, id_value(doc.id)));
        }
        self.writer
            .add_document(doc.to_document(f, &mut self.name_keys))?;
        self.fed_max = self.fed_max.max(doc.id);
        self.dirty += 1;
        Ok(())
    }

    fn take(&mut self, op: Op) -> tantivy::Result<()> {
        match op {
            Op::Add { n, docs } => {
                // While reading back, a live message may be read back too:
                // whichever comes second replaces the first.
                let replace = !self.caught_up;
                for doc in docs.iter() {
                    if !self.recent.first_time(doc.id) {
                        continue;
                    }
                    self.add(doc, replace)?;
                    if !self.caught_up {
                        self.fed_live.insert(doc.id);
                    }
                }
                self.added = Some(n);
            }
            Op::Page { docs, upto, done } => {
                // Only what was fed live can be here already: a rebuild of
                // millions deletes nothing.
                for doc in &docs {
                    let replace = self.fed_live.contains(&doc.id);
                    self.add(doc, replace)?;
                }
                self.read_upto = upto;
                let _ = done.send(());
            }
            Op::Clear(done) => {
                self.writer.delete_all_documents()?;
                self.mark = Mark::default();
                self.read_upto = 0;
                self.fed_max = 0;
                self.dirty += 1;
                let _ = done.send(());
            }
            Op::CaughtUp(done) => {
                self.caught_up = true;
                self.fed_live = HashSet::new();
                self.commit()?;
                self.handle.set_state(State::Ready);
                self.handle.log_ready();
                let _ = done.send(());
            }
            Op::Flush(done) => {
                self.commit()?;
                let _ = done.send(());
            }
            // Taken in `run`.
            Op::Close(done) => {
                let _ = done.send(());
            }
        }
        Ok(())
    }

    fn commit(&mut self) -> tantivy::Result<()> {
        let started = crate::time::now_ms();
        let mark = if self.caught_up {
            let floor = self.samples.floor(started, self.fed_max).unwrap_or(0);
            Mark {
                upto_id: self.fed_max,
                fed_before: started,
                // A later `fed_before` reads back less: an older floor holds.
                id_floor: self.mark.id_floor.max(floor),
            }
        } else {
            Mark {
                upto_id: self.read_upto,
                fed_before: self.mark.fed_before,
                id_floor: self.mark.id_floor,
            }
        };
        let at = Instant::now();
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(&serde_json::to_string(&mark).unwrap_or_default());
        prepared.commit()?;
        // Visible first, then out of memory: never in neither.
        self.handle.reader.reload()?;
        if let Some(n) = self.added {
            let mut view = self.handle.view.write().unwrap_or_else(|p| p.into_inner());
            view.pending.retain(|(m, _)| *m > n);
        }
        debug!(messages = self.dirty, took = ?at.elapsed(), "search index committed");
        self.mark = mark;
        self.dirty = 0;
        self.since_commit = Instant::now();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn the_floor_is_the_highest_id_fed_long_enough_ago() {
        let mut s = Samples::default();
        let wait = FLOOR_AGE_MS;
        assert_eq!(s.floor(0, 100), None, "nothing old enough yet");
        assert_eq!(s.floor(5_000, 150), None, "sampled at most every 10 s");
        assert_eq!(s.floor(10_000, 200), None);
        assert_eq!(s.floor(wait - 1, 900), None);
        assert_eq!(s.floor(wait, 950), Some(100));
        assert_eq!(
            s.floor(wait + 10_000, 990),
            Some(200),
            "the newest old enough"
        );
        assert!(s.0.len() <= 2 + usize::try_from(wait / SAMPLE_EVERY_MS).unwrap());
    }

    #[test]
    fn an_id_fed_lately_is_left_out_and_one_two_generations_old_is_not() {
        let mut r = RecentIds::default();
        assert!(r.first_time(7));
        assert!(!r.first_time(7), "fed just now");
        let g = i64::try_from(RecentIds::GENERATION).unwrap();
        // Fill the first generation: 7 moves to the older one and is still known.
        for id in 100..100 + g {
            assert!(r.first_time(id));
        }
        assert!(!r.first_time(7), "one generation old");
        assert!(!r.first_time(100 + g - 1));
        // A second full generation drops the one holding 7.
        for id in 100 + g..100 + 2 * g {
            assert!(r.first_time(id));
        }
        assert!(r.first_time(7), "two generations old: forgotten");
        assert!(r.now.len() + r.before.len() <= 2 * RecentIds::GENERATION);
    }

    #[test]
    fn a_mark_from_before_the_floor_reads_as_none() {
        let old = r#"{"upto_id":12,"fed_before":34}"#;
        let mark: Mark = serde_json::from_str(old).unwrap();
        assert_eq!(
            mark,
            Mark {
                upto_id: 12,
                fed_before: 34,
                id_floor: 0
            }
        );
    }
}
