//! At start, the index reads from the database what it misses, page by page,
//! while the store already feeds it what is stored now; then it answers
//! searches. Until then searches scan the database.
//!
//! What it misses follows from the last commit's [`Mark`]: for a server that
//! writes the database alone, every message above the highest id indexed (its
//! ids grow in commit order); for a cluster node, whose ids grow only within
//! each conversation, every message sent since the mark's time less
//! [`MAX_LAG_MS`], walking ids from the mark's floor (every message sent
//! since then has a higher id: see [`Mark::id_floor`]). A new or damaged
//! index reads everything.

use std::time::{Duration, Instant};

use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::oneshot;
use tracing::{info, warn};

pub use super::writer::MAX_LAG_MS;
use super::writer::{Mark, Op};
use super::{Doc, SearchIndex};
use crate::db::history::{self, Indexable};

/// Messages read per page.
const PAGE: u64 = 5_000;

/// Read back what the index misses, then let it answer.
pub async fn run(db: DatabaseConnection, index: SearchIndex, mark: Mark) {
    let mut wait = Duration::from_millis(500);
    loop {
        match read_back(&db, &index, mark).await {
            Ok(()) => return,
            Err(e) => {
                warn!(error = %e, retry_in = ?wait, "reading the history into the search index failed; searches scan the database meanwhile");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(30));
            }
        }
    }
}

async fn read_back(db: &DatabaseConnection, index: &SearchIndex, mark: Mark) -> Result<(), DbErr> {
    let started = Instant::now();
    let (mut after, since) = if index.0.one_writer {
        if mark.upto_id > history::max_id(db).await? {
            // It goes beyond the database: it was made for another one.
            warn!(
                indexed_up_to = mark.upto_id,
                "the search index is not this database's; building it again"
            );
            let (done, rx) = oneshot::channel();
            send(index, Op::Clear(done), rx).await;
            (0, None)
        } else {
            (mark.upto_id, None)
        }
    } else {
        from_mark(mark)
    };
    let mut read = 0u64;
    loop {
        let rows = history::indexable(db, after, since, PAGE).await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        read += rows.len() as u64;
        let docs = rows.into_iter().map(doc).collect();
        let (done, rx) = oneshot::channel();
        send(
            index,
            Op::Page {
                docs,
                upto: after,
                done,
            },
            rx,
        )
        .await;
    }
    let (done, rx) = oneshot::channel();
    send(index, Op::CaughtUp(done), rx).await;
    info!(read, took = ?started.elapsed(), "the search index has read back what it missed");
    Ok(())
}

/// Where a cluster node reads back from: everything for a new index;
/// otherwise what was sent since the mark's time less [`MAX_LAG_MS`], above
/// the mark's id floor (walking ids from there, not from the first message).
fn from_mark(mark: Mark) -> (i64, Option<i64>) {
    if mark.fed_before == 0 {
        (0, None)
    } else {
        (mark.id_floor, Some(mark.fed_before - MAX_LAG_MS))
    }
}

/// Tell the writer and wait for its answer (none if it stopped).
async fn send(index: &SearchIndex, op: Op, rx: oneshot::Receiver<()>) {
    if index.0.ops.send(op).is_ok() {
        let _ = rx.await;
    }
}

/// A stored row as the index takes it.
fn doc(m: Indexable) -> Doc {
    let conversation = crate::db::clocks::conversation(m.target_kind, m.target_id, m.uid);
    Doc {
        id: m.id,
        ts: m.send_time,
        conversation,
        sender: m.sender.map(std::sync::Arc::from),
        text: m.text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_node_reads_back_from_its_marks_floor() {
        assert_eq!(
            from_mark(Mark::default()),
            (0, None),
            "a new index reads everything"
        );
        let mark = Mark {
            upto_id: 9_000,
            fed_before: 1_000_000_000,
            id_floor: 7_000,
        };
        assert_eq!(from_mark(mark), (7_000, Some(1_000_000_000 - MAX_LAG_MS)));
    }
}
