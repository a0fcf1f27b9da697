//! Throwaway databases for tests, on SQLite, PostgreSQL and MySQL/MariaDB.
//!
//! [`TestDb::create`] makes a fresh, empty database: SQLite in a temporary directory
//! always; PostgreSQL / MySQL only when `TEST_POSTGRES_URL` / `TEST_MYSQL_URL` name an
//! admin URL (e.g. `postgres://postgres@127.0.0.1:5432/postgres`,
//! `mysql://root@127.0.0.1:3306/mysql`), where it runs `CREATE DATABASE` with a unique
//! name and later drops it again.
//!
//! [`db_test!`] runs one async test body on all three backends. Use it from a test crate
//! that declares `mod common;`:
//!
//! ```ignore
//! mod common;
//! use common::db::{db_test, TestDb};
//!
//! db_test!(stores_things, |tdb| async move {
//!     let db = tdb.connect_migrated().await;
//!     // ... `tdb` is a `&TestDb`; panic (assert/unwrap) to fail ...
//! });
//! ```
//!
//! That expands to `mod stores_things { sqlite, postgres, mysql }`, three `#[tokio::test]`s;
//! the server-backed ones pass without doing anything when their variable is unset.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

use chatroom_server::db;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use tempfile::TempDir;

/// Environment variable holding the PostgreSQL admin URL.
pub const POSTGRES_ENV: &str = "TEST_POSTGRES_URL";
/// Environment variable holding the MySQL/MariaDB admin URL.
pub const MYSQL_ENV: &str = "TEST_MYSQL_URL";

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A file in a temporary directory; always available.
    Sqlite,
    /// Needs `TEST_POSTGRES_URL`.
    Postgres,
    /// Needs `TEST_MYSQL_URL`.
    MySql,
}

/// A database created on a server for one test, to be dropped afterwards.
#[derive(Debug)]
struct ServerDb {
    backend: Backend,
    admin_url: String,
    name: String,
}

/// A fresh, empty database for one test. Drop it with [`TestDb::drop_db`]; if a test
/// panics first, `Drop` removes it anyway.
#[derive(Debug)]
pub struct TestDb {
    backend: Backend,
    url: String,
    server: Option<ServerDb>,
    _dir: Option<TempDir>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    /// Creates a fresh database on `backend`, or `None` (with one line on stderr) when that
    /// backend's environment variable is unset.
    pub async fn create(backend: Backend) -> Option<TestDb> {
        let env = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("create temp dir");
                return Some(TestDb {
                    backend,
                    url: db::sqlite_url_for(dir.path()),
                    server: None,
                    _dir: Some(dir),
                });
            }
            Backend::Postgres => POSTGRES_ENV,
            Backend::MySql => MYSQL_ENV,
        };
        let Some(admin_url) = std::env::var(env).ok().filter(|u| !u.is_empty()) else {
            eprintln!("skipping: {env} not set");
            return None;
        };
        let name = format!(
            "chatroom_test_{}_{}_{:08x}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>()
        );
        admin_exec(&admin_url, &format!("CREATE DATABASE {name}")).await;
        let url = with_database(&admin_url, &name);
        Some(TestDb {
            backend,
            url,
            server: Some(ServerDb {
                backend,
                admin_url,
                name,
            }),
            _dir: None,
        })
    }

    /// The connection URL of this test's database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Which backend this database is on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A pool opened with the product's own [`db::connect`].
    pub async fn connect(&self) -> DatabaseConnection {
        db::connect(&self.url).await.expect("connect to test db")
    }

    /// A pool opened with [`db::connect`] on a database migrated with [`db::migrate`].
    pub async fn connect_migrated(&self) -> DatabaseConnection {
        let conn = self.connect().await;
        db::migrate(&conn).await.expect("migrate test db");
        conn
    }

    /// Drops the database (server backends) or deletes its directory (SQLite).
    pub async fn drop_db(mut self) {
        if let Some(server) = self.server.take() {
            server.drop_now().await;
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Reached when a test panicked before `drop_db`. The test's runtime may be gone
        // or busy unwinding, so drop the database from a runtime of our own.
        if let Some(server) = self.server.take() {
            let joined = std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("build cleanup runtime")
                    .block_on(server.drop_now());
            })
            .join();
            if joined.is_err() {
                eprintln!("failed to drop a test database");
            }
        }
    }
}

impl ServerDb {
    async fn drop_now(self) {
        let sql = match self.backend {
            // FORCE: end connections a test may have left open.
            Backend::Postgres => format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            _ => format!("DROP DATABASE IF EXISTS {}", self.name),
        };
        admin_exec(&self.admin_url, &sql).await;
    }
}

/// Runs one statement on a single admin connection.
async fn admin_exec(admin_url: &str, sql: &str) {
    let mut opt = ConnectOptions::new(admin_url);
    opt.max_connections(1).sqlx_logging(false);
    let conn = Database::connect(opt)
        .await
        .unwrap_or_else(|e| panic!("connect to admin url {admin_url}: {e}"));
    conn.execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let _ = conn.close().await;
}

/// `url` with its database (the path) replaced by `name`, keeping any `?query`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// Runs one async test body on SQLite, PostgreSQL and MySQL; see the module docs.
///
/// `db_test!(name, |tdb| async move { ... })` gives the body `tdb: &TestDb`, a fresh
/// unmigrated database, and drops that database when the body returns.
#[allow(unused_macros)]
macro_rules! db_test {
    ($name:ident, |$db:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn case($db: &$crate::common::db::TestDb) {
                $body.await
            }

            $crate::common::db::db_test!(@backend sqlite, Sqlite);
            $crate::common::db::db_test!(@backend postgres, Postgres);
            $crate::common::db::db_test!(@backend mysql, MySql);
        }
    };
    (@backend $fn_name:ident, $backend:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $fn_name() {
            let backend = $crate::common::db::Backend::$backend;
            if let Some(db) = $crate::common::db::TestDb::create(backend).await {
                case(&db).await;
                db.drop_db().await;
            }
        }
    };
}
#[allow(unused_imports)]
pub(crate) use db_test;

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn with_database_replaces_the_path() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("mysql://root@127.0.0.1:3306", "x"),
            "mysql://root@127.0.0.1:3306/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
    }
}
