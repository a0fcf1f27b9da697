//! Where a database URL points, so that copy-data can refuse to copy a
//! database onto itself however the two URLs are spelled.

use std::path::PathBuf;
use std::str::FromStr;

use sea_orm::sqlx::mysql::MySqlConnectOptions;
use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::sqlx::sqlite::SqliteConnectOptions;

/// The database a URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    /// A SQLite file, its path made absolute (and resolved when it exists).
    File(PathBuf),
    /// A database on a PostgreSQL or MySQL server.
    Server {
        /// `postgres` or `mysql`.
        kind: &'static str,
        /// Host name or Unix socket path.
        host: String,
        port: u16,
        database: String,
    },
}

/// Whether `a` and `b` name the same database. Different spellings of one
/// file, or of one server's default port, count as the same; two names of
/// one host (`localhost`, `127.0.0.1`) do not, which the emptiness check of
/// the target catches instead (a source with rows is not empty).
pub(super) fn same(a: &str, b: &str) -> bool {
    if in_memory(a) || in_memory(b) {
        // Each connection's own.
        return false;
    }
    match (place(a), place(b)) {
        (Some(a), Some(b)) => a == b,
        _ => a == b,
    }
}

/// The SQLite file a `sqlite:` URL names; `None` for other URLs and for
/// in-memory databases.
pub(super) fn sqlite_file(url: &str) -> Option<PathBuf> {
    if !url.starts_with("sqlite:") || in_memory(url) {
        return None;
    }
    let file = SqliteConnectOptions::from_str(url)
        .ok()?
        .get_filename()
        .to_path_buf();
    Some(
        std::fs::canonicalize(&file).unwrap_or_else(|_| std::path::absolute(&file).unwrap_or(file)),
    )
}

/// Whether `url` names an in-memory SQLite database.
fn in_memory(url: &str) -> bool {
    url.starts_with("sqlite:") && (url.contains(":memory:") || url.contains("mode=memory"))
}

fn place(url: &str) -> Option<Place> {
    let scheme = url.split_once(':')?.0;
    match scheme {
        "sqlite" => sqlite_file(url).map(Place::File),
        "postgres" | "postgresql" => {
            let o = PgConnectOptions::from_str(url).ok()?;
            Some(Place::Server {
                kind: "postgres",
                host: o
                    .get_socket()
                    .map_or_else(|| o.get_host().to_owned(), |s| s.display().to_string()),
                port: o.get_port(),
                // PostgreSQL's default database is the user's name.
                database: o.get_database().unwrap_or(o.get_username()).to_owned(),
            })
        }
        "mysql" | "mariadb" => {
            let o = MySqlConnectOptions::from_str(url).ok()?;
            Some(Place::Server {
                kind: "mysql",
                host: o
                    .get_socket()
                    .map_or_else(|| o.get_host().to_owned(), |s| s.display().to_string()),
                port: o.get_port(),
                database: o.get_database().unwrap_or_default().to_owned(),
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::same;

    #[test]
    fn one_sqlite_file_spelled_two_ways_is_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("chatroom.db");
        std::fs::write(&file, b"").unwrap();
        let a = format!("sqlite://{}?mode=rwc", file.display());
        let b = format!("sqlite:{}/./chatroom.db", dir.path().display());
        assert!(same(&a, &b), "{a} {b}");
        let other = format!("sqlite://{}/other.db", dir.path().display());
        assert!(!same(&a, &other));
        assert!(!same("sqlite::memory:", "sqlite::memory:"));
    }

    #[test]
    fn a_server_database_is_named_by_host_port_and_name() {
        assert!(same(
            "postgres://postgres@127.0.0.1/chat",
            "postgresql://postgres@127.0.0.1:5432/chat?sslmode=disable"
        ));
        assert!(!same(
            "postgres://postgres@127.0.0.1/chat",
            "postgres://postgres@127.0.0.1/chat2"
        ));
        assert!(same("mysql://root@h:3306/chat", "mysql://root@h/chat"));
        assert!(!same("mysql://root@h/chat", "postgres://root@h/chat"));
    }
}
