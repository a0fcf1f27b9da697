//! Throwaway databases for tests, on SQLite, PostgreSQL and MySQL/MariaDB.
//!
//! [`TestDb::create`] makes a fresh, empty database: SQLite in a temporary directory
//! always; PostgreSQL / MySQL only when `TEST_POSTGRES_URL` / `TEST_MYSQL_URL` name an
//! admin URL (e.g. `postgres://postgres@127.0.0.1:5432/postgres`,
//! `mysql://root@127.0.0.1:3306/mysql`), where it makes a [`FreshDatabase`] and later
//! drops it again. An unset variable fails the test (see [`crate::services`]).
//!
//! [`db_test!`] runs one async test body on all three backends:
//!
//! ```text
//! use testkit::db::{db_test, TestDb};
//!
//! db_test!(stores_things, |tdb| async move {
//!     let db = tdb.connect_migrated().await;
//!     // ... `tdb` is a `&TestDb`; panic (assert/unwrap) to fail ...
//! });
//! ```
//!
//! That expands to `mod stores_things { sqlite, postgres, mysql }`, three
//! `#[tokio::test]`s (the calling crate needs tokio with its `macros` feature).
//! The `postgres` and `mysql` ones are `#[ignore = "needs TEST_POSTGRES_URL"]`
//! and `#[ignore = "needs TEST_MYSQL_URL"]`: a plain `cargo test` reports them
//! as ignored, and `-- --include-ignored` runs them.
//! `db_test!(servers: name, |tdb| ...)` makes only those two, for what only a
//! database server shared by several nodes can show.

use chatroom_server::db;
use sea_orm::DatabaseConnection;
use tempfile::TempDir;

pub use crate::db_test;
pub use crate::fresh_db::Backend;
use crate::fresh_db::FreshDatabase;
pub use crate::services::{MYSQL_ENV, POSTGRES_ENV};

/// A fresh, empty database for one test. Drop it with [`TestDb::drop_db`]; if a test
/// panics first, `Drop` removes it anyway.
#[derive(Debug)]
pub struct TestDb {
    backend: Backend,
    url: String,
    server: Option<FreshDatabase>,
    _dir: Option<TempDir>,
}

impl TestDb {
    /// Creates a fresh database on `backend`. Panics when that backend's
    /// environment variable is unset (the test was asked for, so its database
    /// was too) and when the database server refuses.
    pub async fn create(backend: Backend) -> TestDb {
        let env = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("create temp dir");
                return TestDb {
                    backend,
                    url: db::sqlite_url_for(dir.path()),
                    server: None,
                    _dir: Some(dir),
                };
            }
            Backend::Postgres => POSTGRES_ENV,
            Backend::MySql => MYSQL_ENV,
        };
        let admin_url = crate::services::required(env);
        let fresh = FreshDatabase::create(&admin_url, "chatroom_test")
            .await
            .unwrap_or_else(|e| panic!("a fresh test database: {e}"));
        TestDb {
            backend,
            url: fresh.url().to_owned(),
            server: Some(fresh),
            _dir: None,
        }
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
            server
                .drop_db()
                .await
                .unwrap_or_else(|e| panic!("dropping a test database: {e}"));
        }
    }
}

/// Runs one async test body on SQLite, PostgreSQL and MySQL; see [`crate::db`].
///
/// `db_test!(name, |tdb| async move { ... })` gives the body `tdb: &TestDb`, a fresh
/// unmigrated database, and drops that database when the body returns. The
/// PostgreSQL and MySQL variants are ignored unless asked for. With `servers:`
/// before the name, only those two are made.
#[macro_export]
macro_rules! db_test {
    ($name:ident, |$db:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn case($db: &$crate::db::TestDb) {
                $body.await
            }

            $crate::db_test!(@backend sqlite, Sqlite);
            $crate::db_test!(@backend postgres, Postgres, "needs TEST_POSTGRES_URL");
            $crate::db_test!(@backend mysql, MySql, "needs TEST_MYSQL_URL");
        }
    };
    (servers: $name:ident, |$db:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn case($db: &$crate::db::TestDb) {
                $body.await
            }

            $crate::db_test!(@backend postgres, Postgres, "needs TEST_POSTGRES_URL");
            $crate::db_test!(@backend mysql, MySql, "needs TEST_MYSQL_URL");
        }
    };
    (@backend $fn_name:ident, $backend:ident $(, $needs:literal)?) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        $(#[ignore = $needs])?
        async fn $fn_name() {
            let db = $crate::db::TestDb::create($crate::db::Backend::$backend).await;
            case(&db).await;
            db.drop_db().await;
        }
    };
}
