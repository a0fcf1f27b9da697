//! The database layer: connecting, migrating, and the queries the server needs.
//!
//! Everything goes through sea-orm / sea-query, so the same code runs on SQLite,
//! PostgreSQL and MySQL/MariaDB; the backend is chosen by the connection URL.
//!
//! - [`entity`]: one SeaORM entity per table, matching the `migration` crate.
//! - [`accounts`]: registering accounts, looking them up, bans, login bookkeeping.
//! - [`tokens`]: hashed resume tokens.
//! - [`history`]: storing chat messages and reading them back page by page.
//! - [`files`]: recording stored uploads and listing shared files.
//! - [`games`]: storing finished games and counting a user's record.
//! - [`groups`]: groups and memberships; [`group_pages`]: both a page at a time.
//! - [`reads`]: read positions per user and conversation.
//! - [`conversations`]: each user's direct-message conversations by their newest message.
//! - [`clocks`]: the per-conversation clocks and the id counter cluster nodes commit by.
//!
//! All timestamps are `i64` unix milliseconds (UTC).

pub mod accounts;
pub mod clocks;
pub mod conversations;
pub mod entity;
pub mod files;
pub mod games;
pub mod group_pages;
pub mod groups;
pub mod history;
pub mod reads;
pub mod tokens;

use std::path::Path;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// Pool size for SQLite: it has one writer at a time, so a few connections are enough for
/// readers to run beside it.
const SQLITE_MAX_CONNECTIONS: u32 = 4;
/// Pool size for PostgreSQL and MySQL/MariaDB.
const SERVER_MAX_CONNECTIONS: u32 = 10;
/// How long to wait for a pooled connection (a new one is made when the pool has
/// none) before giving up, unless the server's `--db-timeout` says otherwise.
/// While the database is down, making a connection fails until this passes.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens a connection pool for `url` (`sqlite:`, `postgres:` or `mysql:`), so the server
/// and the tests get the same, correctly configured pool.
///
/// For SQLite the database file is created if missing, and every pooled connection runs
/// with `journal_mode=WAL`, `synchronous=FULL`, `foreign_keys=ON` and `busy_timeout` of
/// [`DEFAULT_TIMEOUT`] (5000 ms).
/// sqlx's per-statement logging is off; sea-orm still traces statements at debug level.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_with(url, DEFAULT_TIMEOUT, Writers::One).await
}

/// Whether the database gave a transaction up because it raced another one
/// (a deadlock, or a serialization failure: SQLSTATE `40001` or `40P01`).
/// Nothing of it was stored and the database works: trying again at once is right.
pub fn is_conflict(e: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    if let DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) = e
        && let sea_orm::sqlx::Error::Database(d) = e.as_ref()
    {
        return matches!(d.code().as_deref(), Some("40001" | "40P01"));
    }
    false
}

/// Whether the server is the only writer of its database, or one node of a
/// cluster sharing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writers {
    /// A single server.
    One,
    /// The nodes of a cluster.
    Shared,
}

/// [`connect`], waiting at most `timeout` for a pooled connection.
///
/// A cluster node (`Writers::Shared`) has PostgreSQL plan every statement for
/// its parameters (`plan_cache_mode=force_custom_plan`). Otherwise PostgreSQL
/// keeps, per connection, a generic plan made while a table was small (a fresh
/// database's first seconds) and scans the table with it long after it grew:
/// the node's look-up of retried client ids, run for every batch, read the
/// whole history that way (15,000 messages/s for two nodes, 22,900 with custom
/// plans). A single server never runs that look-up, and planning its large
/// multi-row INSERTs every time cost it 30 % (docs/BENCHMARKS.md), so it
/// keeps PostgreSQL's default.
pub async fn connect_with(
    url: &str,
    timeout: Duration,
    writers: Writers,
) -> Result<DatabaseConnection, DbErr> {
    let mut opt = ConnectOptions::new(url);
    opt.sqlx_logging(false)
        .acquire_timeout(timeout)
        .connect_timeout(timeout);
    if url.starts_with("sqlite:") {
        // An in-memory database exists once per connection, so it must not be pooled.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        opt.max_connections(if in_memory { 1 } else { SQLITE_MAX_CONNECTIONS })
            .min_connections(1)
            .test_before_acquire(false)
            .map_sqlx_sqlite_opts(move |o| {
                o.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    // A write waiting for another connection's lock fails by
                    // itself when the server stops waiting for it: it never
                    // lands after its sender was told it did not.
                    .busy_timeout(timeout)
            });
        if !in_memory {
            opt.map_sqlx_sqlite_pool_opts(|o| o.after_release(|c, _| closed_if_in_transaction(c)));
        }
    } else {
        opt.max_connections(SERVER_MAX_CONNECTIONS);
        if writers == Writers::Shared {
            opt.map_sqlx_postgres_opts(|o| o.options([("plan_cache_mode", "force_custom_plan")]));
        }
        opt.map_sqlx_postgres_pool_opts(|o| o.after_release(|c, _| closed_if_in_transaction(c)))
            .map_sqlx_mysql_pool_opts(|o| o.after_release(|c, _| closed_if_in_transaction(c)));
    }
    Database::connect(opt).await
}

/// Whether a connection given back to the pool may be used again: not when
/// it may still be inside a transaction.
///
/// A transaction that ends in an error is rolled back when it is dropped; if
/// that rollback fails too (SQLite had rolled back by itself after "database
/// or disk is full", or the connection broke), the connection can be left
/// inside a transaction nobody will commit. Handed out again, every write on
/// it would seem to succeed and be lost with the connection (measured: on a
/// full disk, messages acknowledged after space returned were never stored).
/// A connection whose transaction ended normally is back at depth 0 here; one
/// that ended in an error is closed (a new one is made when needed), which
/// only costs a reconnect on a path that is rare.
fn closed_if_in_transaction<C: sea_orm::sqlx::Connection>(
    c: &mut C,
) -> futures_util::future::BoxFuture<'_, Result<bool, sea_orm::sqlx::Error>> {
    let usable = !c.is_in_transaction();
    if !usable {
        tracing::warn!("a pooled database connection left inside a transaction is closed");
    }
    Box::pin(std::future::ready(Ok(usable)))
}

/// The SQLite URL of the server's database file `chatroom.db` inside `data_dir`, so the
/// data directory flag is all an operator needs for the default backend.
///
/// Relative directories are made absolute (against the current directory), and characters
/// that mean something in a URL are percent-encoded, so any directory name works.
pub fn sqlite_url_for(data_dir: &Path) -> String {
    let file = data_dir.join("chatroom.db");
    let file = std::path::absolute(&file).unwrap_or(file);
    let mut url = String::from("sqlite://");
    for &b in file.to_string_lossy().as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'.' | b'_' | b'~') {
            url.push(char::from(b));
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url.push_str("?mode=rwc");
    url
}

/// The table whose one row the nodes of a cluster lock while one of them migrates.
#[derive(sea_orm::DeriveIden)]
enum MigrationLock {
    #[sea_orm(iden = "chatroom_migration_lock")]
    Table,
    Id,
}

/// How often creating the lock table is tried (PostgreSQL can refuse one of two
/// simultaneous `CREATE TABLE IF NOT EXISTS`).
const LOCK_TABLE_TRIES: u32 = 5;

/// Brings the schema up to date by applying every pending migration; a no-op when the
/// database is already current.
///
/// On PostgreSQL and MySQL several nodes of a cluster may start at once against a
/// fresh database: one migrates while the others wait on a row lock (an `UPDATE`
/// of `chatroom_migration_lock`, held in a transaction on another connection of
/// the pool, so MySQL's implicit commits of DDL do not end it), then finds nothing
/// left to do. SQLite is never shared by nodes and has no such lock.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    use sea_orm::sea_query::{ColumnDef, Expr, ExprTrait, OnConflict, Query, Table};
    use sea_orm::{ConnectionTrait, DbBackend, TransactionTrait};

    if db.get_database_backend() == DbBackend::Sqlite {
        return Migrator::up(db, None).await;
    }
    let create = Table::create()
        .table(MigrationLock::Table)
        .if_not_exists()
        .col(
            ColumnDef::new(MigrationLock::Id)
                .integer()
                .not_null()
                .primary_key(),
        )
        .to_owned();
    let mut tries = 0;
    loop {
        tries += 1;
        match db.execute(&create).await {
            Ok(_) => break,
            Err(_) if tries < LOCK_TABLE_TRIES => {
                tokio::time::sleep(Duration::from_millis(100 * u64::from(tries))).await;
            }
            Err(e) => return Err(e),
        }
    }
    let row = Query::insert()
        .into_table(MigrationLock::Table)
        .columns([MigrationLock::Id])
        .values_panic([1.into()])
        // "Do nothing" in a form MySQL takes too: set the id to itself.
        .on_conflict(
            OnConflict::column(MigrationLock::Id)
                .update_column(MigrationLock::Id)
                .to_owned(),
        )
        .to_owned();
    db.execute(&row).await?;
    let lock = Query::update()
        .table(MigrationLock::Table)
        .value(MigrationLock::Id, Expr::col(MigrationLock::Id))
        .and_where(Expr::col(MigrationLock::Id).eq(1))
        .to_owned();
    let txn = db.begin().await?;
    txn.execute(&lock).await?;
    let migrated = Migrator::up(db, None).await;
    txn.commit().await?;
    migrated
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn sqlite_url_for_absolute_dir() {
        assert_eq!(
            sqlite_url_for(Path::new("/var/lib/chat room")),
            "sqlite:///var/lib/chat%20room/chatroom.db?mode=rwc"
        );
    }

    #[cfg(unix)]
    #[test]
    fn sqlite_url_for_relative_dir_is_made_absolute() {
        let url = sqlite_url_for(Path::new("data"));
        assert!(url.starts_with("sqlite:///"), "{url}");
        assert!(url.ends_with("/data/chatroom.db?mode=rwc"), "{url}");
    }

    #[cfg(unix)]
    #[test]
    fn sqlite_url_for_escapes_url_syntax() {
        assert_eq!(
            sqlite_url_for(Path::new("/d/a?b#c%d")),
            "sqlite:///d/a%3Fb%23c%25d/chatroom.db?mode=rwc"
        );
    }
}
