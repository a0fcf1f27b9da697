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
//!
//! All timestamps are `i64` unix milliseconds (UTC).

pub mod accounts;
pub mod entity;
pub mod files;
pub mod games;
pub mod group_pages;
pub mod groups;
pub mod history;
pub mod reads;
pub mod store_lock;
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
/// How long a SQLite connection waits for another connection's write lock before failing.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long to wait for a free pooled connection before giving up.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// Opens a connection pool for `url` (`sqlite:`, `postgres:` or `mysql:`), so the server
/// and the tests get the same, correctly configured pool.
///
/// For SQLite the database file is created if missing, and every pooled connection runs
/// with `journal_mode=WAL`, `synchronous=FULL`, `foreign_keys=ON` and `busy_timeout=5000`.
/// sqlx's per-statement logging is off; sea-orm still traces statements at debug level.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut opt = ConnectOptions::new(url);
    opt.sqlx_logging(false).acquire_timeout(ACQUIRE_TIMEOUT);
    if url.starts_with("sqlite:") {
        // An in-memory database exists once per connection, so it must not be pooled.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        opt.max_connections(if in_memory { 1 } else { SQLITE_MAX_CONNECTIONS })
            .min_connections(1)
            .test_before_acquire(false)
            .map_sqlx_sqlite_opts(|o| {
                o.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT)
            });
    } else {
        opt.max_connections(SERVER_MAX_CONNECTIONS);
    }
    Database::connect(opt).await
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
