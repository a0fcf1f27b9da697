//! A fresh database on a PostgreSQL or MySQL/MariaDB server, made for one test or
//! one benchmark run and dropped after it.
//!
//! Given an admin URL (any database its user may connect to, e.g.
//! `postgres://postgres@127.0.0.1:5432/postgres`), [`FreshDatabase::create`] runs
//! `CREATE DATABASE` with a name no other run uses and gives the URL of the new
//! database; [`FreshDatabase::drop_db`] drops it again, and so does `Drop` when a
//! test panicked or a run failed first.

use std::sync::atomic::{AtomicU32, Ordering};

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DbErr};

/// Which database a URL, a test or a benchmark run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A file; `sqlite:` URLs.
    Sqlite,
    /// `postgres://` or `postgresql://`.
    Postgres,
    /// `mysql://` or `mariadb://`.
    MySql,
}

impl Backend {
    /// The backend of `url`, read from its scheme; `None` for anything else.
    pub fn of(url: &str) -> Option<Self> {
        let scheme = url.split_once(':')?.0;
        match scheme {
            "sqlite" => Some(Self::Sqlite),
            "postgres" | "postgresql" => Some(Self::Postgres),
            "mysql" | "mariadb" => Some(Self::MySql),
            _ => None,
        }
    }

    /// True for a database server, where [`FreshDatabase`] can make a database.
    pub fn is_server(self) -> bool {
        !matches!(self, Self::Sqlite)
    }
}

/// Why a fresh database could not be made or dropped.
#[derive(Debug, thiserror::Error)]
pub enum FreshDbError {
    /// The URL names no database server.
    #[error("a fresh database needs a postgres:// or mysql:// URL, not {0}")]
    NotAServer(String),
    /// The admin URL did not connect.
    #[error("connecting to {url}: {source}")]
    Connect {
        /// The admin URL.
        url: String,
        /// What the driver said.
        source: DbErr,
    },
    /// The statement failed.
    #[error("{sql}: {source}")]
    Statement {
        /// `CREATE DATABASE ...` or `DROP DATABASE ...`.
        sql: String,
        /// What the server said.
        source: DbErr,
    },
}

/// A database made on the server of an admin URL, dropped with
/// [`FreshDatabase::drop_db`] or, failing that, when this value is dropped.
#[derive(Debug)]
pub struct FreshDatabase {
    backend: Backend,
    admin_url: String,
    name: String,
    url: String,
    /// Already dropped: nothing left for `Drop` to do.
    dropped: bool,
}

static CREATED: AtomicU32 = AtomicU32::new(0);

impl FreshDatabase {
    /// `CREATE DATABASE <prefix>_<pid>_<n>_<random>` through `admin_url`. The
    /// process id, a counter and a random number keep tests running at the same time,
    /// and runs that left a database behind, apart.
    pub async fn create(admin_url: &str, prefix: &str) -> Result<Self, FreshDbError> {
        let backend = Backend::of(admin_url)
            .filter(|b| b.is_server())
            .ok_or_else(|| FreshDbError::NotAServer(admin_url.to_owned()))?;
        let name = format!(
            "{prefix}_{}_{}_{:08x}",
            std::process::id(),
            CREATED.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>()
        );
        admin_exec(admin_url, &format!("CREATE DATABASE {name}")).await?;
        Ok(Self {
            backend,
            url: with_database(admin_url, &name),
            admin_url: admin_url.to_owned(),
            name,
            dropped: false,
        })
    }

    /// The URL to connect to the new database with.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The new database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Which server it is on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Drop the database now.
    pub async fn drop_db(mut self) -> Result<(), FreshDbError> {
        self.dropped = true;
        admin_exec(&self.admin_url, &self.drop_statement()).await
    }

    fn drop_statement(&self) -> String {
        match self.backend {
            // FORCE: end connections a test or a killed node may have left open.
            Backend::Postgres => format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            Backend::MySql | Backend::Sqlite => format!("DROP DATABASE IF EXISTS {}", self.name),
        }
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        // Reached when a test panicked or a run failed before `drop_db`. The
        // runtime may be gone, busy unwinding, or the caller's own (which cannot
        // block on a future): run the statement on a thread with a runtime of its own.
        let (url, sql) = (self.admin_url.clone(), self.drop_statement());
        let joined = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime
                .block_on(admin_exec(&url, &sql))
                .map_err(|e| e.to_string())
        })
        .join();
        let failed = match joined {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e,
            Err(_) => "the dropping thread panicked".to_owned(),
        };
        // No logger in a test or the benchmark's report path: tell whoever runs it.
        eprintln!(
            "could not drop the database {} ({failed}); drop it by hand",
            self.name
        );
    }
}

/// Runs one statement on a single admin connection.
async fn admin_exec(admin_url: &str, sql: &str) -> Result<(), FreshDbError> {
    let mut opt = ConnectOptions::new(admin_url);
    opt.max_connections(1).sqlx_logging(false);
    let conn = Database::connect(opt)
        .await
        .map_err(|source| FreshDbError::Connect {
            url: admin_url.to_owned(),
            source,
        })?;
    let done = conn
        .execute_unprepared(sql)
        .await
        .map_err(|source| FreshDbError::Statement {
            sql: sql.to_owned(),
            source,
        });
    let _ = conn.close().await;
    done.map(|_| ())
}

/// `url` with its database (the path) replaced by `name`, keeping any `?query`.
pub fn with_database(url: &str, name: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::{Backend, with_database};

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

    #[test]
    fn backend_is_read_from_the_scheme() {
        assert_eq!(Backend::of("postgresql://h/db"), Some(Backend::Postgres));
        assert_eq!(Backend::of("mysql://h/db"), Some(Backend::MySql));
        assert_eq!(Backend::of("sqlite://x.db?mode=rwc"), Some(Backend::Sqlite));
        assert_eq!(Backend::of("redis://h"), None);
        assert!(!Backend::Sqlite.is_server());
        assert!(Backend::Postgres.is_server() && Backend::MySql.is_server());
    }
}
