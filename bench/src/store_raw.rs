//! The raw database rate of `store`: the same rows inserted into the same
//! database without the server, so the server's stored rate can be read as a
//! share of what the database takes (issue 17 §3).
//!
//! After the server phases, the servers are stopped and their database (a
//! fresh one on PostgreSQL or MySQL, or the SQLite file in their data
//! directory) gets the messages they stored again: each template row (uid,
//! room, text) cycled under new ids above the highest stored one, with a
//! client id of its own and the time now. The rows go through the server's
//! own database layer (`chatroom_server::db`: its pool settings, and
//! `history::insert_rows`, the writer's multi-row INSERTs) in the writer's
//! largest batch (`--store-batch`, 2048 records by default), committed as the
//! writer commits a batch of chat messages alone: one statement when it fits
//! one INSERT, else its INSERTs in one transaction. One writer per
//! connection, each with a pool of its own, for the same seconds as a server
//! phase, at each count of connections asked for. A database that outlives
//! the run (`--database-as-is`) has the rows deleted again; a fresh one goes
//! with the run.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use chatroom_server::db::entity::chat_history;
use chatroom_server::db::history::{self, ClientMessage, NewChatRow};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, TransactionTrait};
use serde_json::{Value, json};

use crate::report::{CpuUse, CpuWindow};
use crate::server::RunDatabase;

/// Stored messages taken as the templates of the raw rows.
const TEMPLATES: u64 = 1024;

/// The raw rate at one count of connections.
pub struct RawRun {
    /// Writers in parallel, each on its own connection.
    pub connections: usize,
    /// From the first batch's start to the last one's commit.
    pub took: Duration,
    /// Rows committed.
    pub rows: u64,
    /// CPU over the run (no server: the benchmark is the client).
    pub cpu: CpuUse,
}

impl RawRun {
    /// Rows committed per second.
    pub fn rate(&self) -> f64 {
        self.rows as f64 / self.took.as_secs_f64().max(1e-9)
    }

    /// `server_rate` (the server's acked messages/s) over this raw rate.
    pub fn ratio(&self, server_rate: f64) -> f64 {
        server_rate / self.rate().max(1e-9)
    }

    /// "benchmark 0.93 cores, machine 61 % busy".
    pub fn cpu_text(&self) -> String {
        let wall = self.cpu.wall.as_secs_f64().max(1e-9);
        let bench = self
            .cpu
            .bench_s
            .map_or_else(|| "n/a".to_owned(), |s| format!("{:.2} cores", s / wall));
        let machine = self.cpu.machine_busy.map_or_else(String::new, |b| {
            format!(", machine {:.0} % busy", 100.0 * b)
        });
        format!("benchmark {bench}{machine}")
    }
}

/// What the raw phase measured.
pub struct Raw {
    /// Rows per batch: the server's `--store-batch`.
    pub batch: usize,
    /// One run per count of connections, in the order asked.
    pub runs: Vec<RawRun>,
    /// Whether the rows were deleted again (a database that outlives the run).
    pub deleted: bool,
}

impl Raw {
    /// The figures as JSON, each run with `server_rate` over its rate.
    pub fn json(&self, server_rate: f64) -> Value {
        let runs: Vec<Value> = self
            .runs
            .iter()
            .map(|r| {
                let wall = r.cpu.wall.as_secs_f64().max(1e-9);
                json!({
                    "connections": r.connections,
                    "seconds": r.took.as_secs_f64(),
                    "rows": r.rows,
                    "rows_per_s": r.rate(),
                    "acked_over_raw": r.ratio(server_rate),
                    "bench_cores": r.cpu.bench_s.map(|s| s / wall),
                    "machine_busy_pct": r.cpu.machine_busy.map(|b| 100.0 * b),
                })
            })
            .collect();
        json!({
            "batch_rows": self.batch,
            "runs": runs,
            "deleted": self.deleted,
        })
    }
}

/// Insert the stored messages again into `database` for `seconds` at each
/// count of `connections`, in batches of the server's `--store-batch`.
pub async fn measure(
    database: &RunDatabase,
    connections: &[usize],
    seconds: Duration,
) -> anyhow::Result<Raw> {
    // What the started servers ran with: their defaults, and the same
    // environment (CHATROOM_STORE_BATCH), since they inherit it.
    let batch = chatroom_server::config::Config::default()
        .store_batch
        .max(1);
    let db = chatroom_server::db::connect(&database.url)
        .await
        .context("connecting to the servers' database")?;
    let templates = history::recent_client_messages(&db, None, TEMPLATES).await?;
    anyhow::ensure!(
        !templates.is_empty(),
        "the server stored no message to insert again"
    );
    let templates = Arc::new(templates);
    let first = history::max_id(&db).await? + 1;
    let next = Arc::new(AtomicI64::new(first));
    let mut runs = Vec::new();
    for &n in connections {
        runs.push(
            run(&database.url, n, batch, seconds, &templates, &next)
                .await
                .with_context(|| format!("raw inserts on {n} connections"))?,
        );
    }
    if database.kept {
        chat_history::Entity::delete_many()
            .filter(chat_history::Column::Id.gte(first))
            .exec(&db)
            .await
            .context("deleting the raw rows")?;
    }
    db.close().await?;
    Ok(Raw {
        batch,
        runs,
        deleted: database.kept,
    })
}

/// `n` writers, each on a pool of its own, inserting batches until `seconds`
/// have passed; ids come from `next`.
async fn run(
    url: &str,
    n: usize,
    batch: usize,
    seconds: Duration,
    templates: &Arc<Vec<ClientMessage>>,
    next: &Arc<AtomicI64>,
) -> anyhow::Result<RawRun> {
    let mut pools = Vec::with_capacity(n);
    for _ in 0..n {
        pools.push(chatroom_server::db::connect(url).await?);
    }
    let cpu = CpuWindow::start(&[]);
    let start = Instant::now();
    let until = start + seconds;
    let writers: Vec<_> = pools
        .into_iter()
        .map(|db| tokio::spawn(writer(db, batch, until, templates.clone(), next.clone())))
        .collect();
    let mut rows = 0;
    for w in writers {
        rows += w.await??;
    }
    Ok(RawRun {
        connections: n,
        took: start.elapsed(),
        rows,
        cpu: cpu.stop(),
    })
}

/// One writer: a batch at a time until `until`; returns the rows committed.
async fn writer(
    db: DatabaseConnection,
    batch: usize,
    until: Instant,
    templates: Arc<Vec<ClientMessage>>,
    next: Arc<AtomicI64>,
) -> Result<u64, DbErr> {
    let step = i64::try_from(batch).unwrap_or(i64::MAX);
    let mut rows = 0;
    while Instant::now() < until {
        let first = next.fetch_add(step, Ordering::Relaxed);
        let batch = rows_of(&templates, first, batch);
        commit(&db, &batch).await?;
        rows += batch.len() as u64;
    }
    db.close().await?;
    Ok(rows)
}

/// Commit one batch as the server's writer commits a batch of chat messages
/// alone (`store/commit.rs`): one statement when it fits one INSERT, with no
/// BEGIN and COMMIT; else its INSERTs in one transaction.
async fn commit(db: &DatabaseConnection, rows: &[NewChatRow]) -> Result<(), DbErr> {
    if history::fits_one_insert(rows) {
        return history::insert_rows(db, rows).await;
    }
    let txn = db.begin().await?;
    history::insert_rows(&txn, rows).await?;
    txn.commit().await
}

/// `n` rows with ids from `first`, each a template (cycled) again: its
/// sender, conversation and text, a client id of its own, sent now.
fn rows_of(templates: &[ClientMessage], first: i64, n: usize) -> Vec<NewChatRow> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    (first..)
        .zip(templates.iter().cycle())
        .take(n)
        .map(|(id, t)| NewChatRow {
            id,
            text: t.text.clone(),
            send_time: now,
            level: history::LEVEL_USER,
            uid: Some(t.uid),
            target_kind: t.target_kind,
            target_id: t.target_id,
            client_msg_id: Some(format!("r{id}")),
        })
        .collect()
}
