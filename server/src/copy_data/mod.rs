//! `chatroom-server copy-data --from URL --to URL` (issue 19 §3): moves a
//! chat from one database to another, e.g. from the embedded SQLite default
//! to PostgreSQL when a team wants to run several nodes.
//!
//! Every table is copied with its ids kept into a target that is migrated to
//! this build's schema and must be empty, in batches, in an order that keeps
//! foreign keys whole; then each table's row count and checksum
//! ([`Summary`]) are compared between the two sides. It all happens in one
//! transaction on the target, committed only when every table matched, so a
//! failed copy leaves the target as empty as it was.
//!
//! - [`tables`]: the list of tables and what is done to one, once over the entities.
//! - [`checksum`]: a table's count and checksum, the same on every backend.
//! - [`place`]: whether two URLs name the same database.

mod checksum;
mod place;
mod tables;

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use sea_orm::{
    AccessMode, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, IsolationLevel,
    TransactionTrait,
};

pub use checksum::Summary;
use tables::TABLES;

use crate::db;

/// Rows read (and inserted) at a time when `--batch` is not given.
pub const DEFAULT_BATCH: u64 = 1000;

/// How often at most progress is reported while one table is copied.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Why the copy did not happen. In every case nothing was committed to the target.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// `--from` and `--to` name one database.
    #[error("--from and --to name the same database: copy to a new, empty one")]
    SameDatabase,
    /// The source SQLite file does not exist (a mistyped path would otherwise
    /// be created empty and copied).
    #[error("the source database {} does not exist", .0.display())]
    NoSource(PathBuf),
    /// The source has no chatroom tables.
    #[error("the source holds no chatroom database (it has no base_info table)")]
    NotChatroom,
    /// The target has rows already.
    #[error(
        "the target is not empty: {table} has {rows} rows. copy-data fills only a freshly \
         created, empty database; create a new one (or drop and recreate this one)"
    )]
    NotEmpty {
        /// The first table found with rows.
        table: &'static str,
        /// How many.
        rows: u64,
    },
    /// A table's copy does not match its source.
    #[error(
        "{table} differs after copying: the source has {} rows (checksum {}), the target {} \
         (checksum {}); nothing was committed",
        original.rows, original.short(), copy.rows, copy.short()
    )]
    Mismatch {
        /// The table.
        table: &'static str,
        /// The source's rows.
        original: Summary,
        /// The target's rows as copied.
        copy: Summary,
    },
    /// Reading a table in key order gave other than its count of rows.
    #[error(
        "{table}: the {side} counts {counted} rows, but {read} were read in key order; \
         nothing was committed"
    )]
    Count {
        /// The table.
        table: &'static str,
        /// "source" or "target".
        side: &'static str,
        /// Its `COUNT(*)`.
        counted: u64,
        /// Rows read.
        read: u64,
    },
    /// A database refused or failed.
    #[error("{during}: {source}")]
    Db {
        /// What was being done, e.g. "connecting to the target".
        during: &'static str,
        /// What the database said.
        source: DbErr,
    },
}

/// A step of the copy, for the operator watching it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// `table` is being copied: `rows` in the source.
    Copying {
        /// The table.
        table: &'static str,
        /// Its rows in the source.
        rows: u64,
    },
    /// `copied` of `table`'s `rows` are in the target (at most once a second,
    /// and when the table is done).
    Copied {
        /// The table.
        table: &'static str,
        /// Rows copied so far.
        copied: u64,
        /// Rows to copy.
        rows: u64,
    },
    /// `table` in the target has the source's count and checksum.
    Verified {
        /// The table.
        table: &'static str,
        /// Its count and checksum on both sides.
        summary: Summary,
    },
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Copying { table, rows } => write!(f, "{table}: copying {rows} rows"),
            Self::Copied {
                table,
                copied,
                rows,
            } => write!(f, "{table}: {copied}/{rows} rows copied"),
            Self::Verified { table, summary } => write!(
                f,
                "{table}: {} rows, checksum {} on both sides",
                summary.rows,
                summary.short()
            ),
        }
    }
}

/// What a finished copy moved: every table with its count and checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    /// Each table, in the order copied.
    pub tables: Vec<(&'static str, Summary)>,
}

impl Copied {
    /// Rows copied over all tables.
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|(_, s)| s.rows).sum()
    }
}

/// The error of a database step, saying which step.
fn during(what: &'static str) -> impl FnOnce(DbErr) -> CopyError {
    move |source| CopyError::Db {
        during: what,
        source,
    }
}

/// Copies every table of the chatroom database at `from` into the one at
/// `to`, `batch` rows at a time, telling `progress` each step.
///
/// Both databases are migrated to this build's schema first (the source as a
/// server starting on it would be; a new target gets its tables). The source
/// is read in one snapshot; the server on it should be stopped, or what it
/// stores meanwhile is not copied.
pub async fn copy(
    from: &str,
    to: &str,
    batch: u64,
    progress: &mut (dyn FnMut(&Progress) + Send),
) -> Result<Copied, CopyError> {
    if place::same(from, to) {
        return Err(CopyError::SameDatabase);
    }
    if let Some(file) = place::sqlite_file(from)
        && !file.exists()
    {
        return Err(CopyError::NoSource(file));
    }
    let batch = batch.max(1);
    let source = db::connect(from)
        .await
        .map_err(during("connecting to the source"))?;
    let has_tables = migration::SchemaManager::new(&source)
        .has_table("base_info")
        .await
        .map_err(during("reading the source"))?;
    if !has_tables {
        return Err(CopyError::NotChatroom);
    }
    db::migrate(&source)
        .await
        .map_err(during("migrating the source"))?;
    let target = db::connect(to)
        .await
        .map_err(during("connecting to the target"))?;
    db::migrate(&target)
        .await
        .map_err(during("migrating the target"))?;
    let seeds = seeds(batch)
        .await
        .map_err(during("migrating a scratch database"))?;

    let from = snapshot(&source)
        .await
        .map_err(during("reading the source"))?;
    let to = target.begin().await.map_err(during("writing the target"))?;
    refuse_unless_empty(&to, &seeds, batch).await?;
    let copied = copy_tables(&from, &to, batch, progress).await?;
    verify(&to, &copied, batch, progress).await?;
    to.commit().await.map_err(during("committing the target"))?;
    // Read only: ending it changes nothing.
    let _ = from.rollback().await;
    let _ = source.close().await;
    let _ = target.close().await;
    Ok(copied)
}

/// A transaction that sees the source as it was at its first read, while
/// the copy reads every table in turn.
async fn snapshot(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    match db.get_database_backend() {
        // SQLite (WAL): a read transaction reads one snapshot by itself.
        DbBackend::Sqlite => db.begin().await,
        _ => {
            db.begin_with_config(
                Some(IsolationLevel::RepeatableRead),
                Some(AccessMode::ReadOnly),
            )
            .await
        }
    }
}

/// Each table's [`Summary`] in a freshly migrated database: what "empty"
/// means, since migrations put a row or two in some tables (`id_clock`).
async fn seeds(batch: u64) -> Result<Vec<Summary>, DbErr> {
    let scratch = db::connect("sqlite::memory:").await?;
    db::migrate(&scratch).await?;
    let txn = scratch.begin().await?;
    let mut out = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        out.push(table.summary(&txn, batch).await?);
    }
    txn.commit().await?;
    let _ = scratch.close().await;
    Ok(out)
}

/// Fails with [`CopyError::NotEmpty`] unless every table of the target holds
/// no more than a fresh migration put there.
async fn refuse_unless_empty(
    to: &DatabaseTransaction,
    seeds: &[Summary],
    batch: u64,
) -> Result<(), CopyError> {
    for (table, seed) in TABLES.iter().zip(seeds) {
        let rows = table
            .count(to)
            .await
            .map_err(during("reading the target"))?;
        let fresh = rows == seed.rows
            && (rows == 0
                || table
                    .summary(to, batch)
                    .await
                    .map_err(during("reading the target"))?
                    == *seed);
        if !fresh {
            return Err(CopyError::NotEmpty {
                table: table.name(),
                rows,
            });
        }
    }
    Ok(())
}

/// Clears the target's seed rows, then copies every table in order and moves
/// PostgreSQL's sequences past the copied ids.
async fn copy_tables(
    from: &DatabaseTransaction,
    to: &DatabaseTransaction,
    batch: u64,
    progress: &mut (dyn FnMut(&Progress) + Send),
) -> Result<Copied, CopyError> {
    for table in TABLES.iter().rev() {
        table
            .clear(to)
            .await
            .map_err(during("clearing the target"))?;
    }
    let mut tables = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let name = table.name();
        let rows = table
            .count(from)
            .await
            .map_err(during("reading the source"))?;
        progress(&Progress::Copying { table: name, rows });
        let mut last = Instant::now();
        let mut report = |copied: u64| {
            if copied >= rows || last.elapsed() >= PROGRESS_EVERY {
                last = Instant::now();
                progress(&Progress::Copied {
                    table: name,
                    copied,
                    rows,
                });
            }
        };
        let summary = table
            .copy(from, to, batch, &mut report)
            .await
            .map_err(during("copying"))?;
        if summary.rows != rows {
            return Err(CopyError::Count {
                table: name,
                side: "source",
                counted: rows,
                read: summary.rows,
            });
        }
        table
            .move_sequence(to)
            .await
            .map_err(during("moving the target's id sequence"))?;
        tables.push((name, summary));
    }
    Ok(Copied { tables })
}

/// Compares every table of the target, as the transaction wrote it, with
/// the source's summary.
async fn verify(
    to: &DatabaseTransaction,
    copied: &Copied,
    batch: u64,
    progress: &mut (dyn FnMut(&Progress) + Send),
) -> Result<(), CopyError> {
    for (table, (name, source)) in TABLES.iter().zip(&copied.tables) {
        let target = table
            .summary(to, batch)
            .await
            .map_err(during("reading the target back"))?;
        let counted = table
            .count(to)
            .await
            .map_err(during("reading the target back"))?;
        if counted != target.rows {
            return Err(CopyError::Count {
                table: name,
                side: "target",
                counted,
                read: target.rows,
            });
        }
        if target != *source {
            return Err(CopyError::Mismatch {
                table: name,
                original: *source,
                copy: target,
            });
        }
        progress(&Progress::Verified {
            table: name,
            summary: target,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
