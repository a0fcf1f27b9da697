//! What a benchmark against several server nodes needs besides starting them
//! ([`crate::server`]): a fresh database on the given PostgreSQL or MySQL
//! server, dropped after the run, and the wait until the nodes see each other.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sea_orm::{ConnectOptions, ConnectionTrait, Database};

use crate::client::Control;
use crate::load;

/// Longest the nodes of a fresh cluster may take to see each other's users.
const JOIN_LIMIT: Duration = Duration::from_secs(30);

/// The kind of database server behind a URL, for the statements that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `postgres://` or `postgresql://`.
    Postgres,
    /// `mysql://` or `mariadb://`.
    MySql,
}

impl Backend {
    /// The backend of `url`; `None` for SQLite and anything else.
    pub fn of(url: &str) -> Option<Self> {
        let scheme = url.split_once("://")?.0;
        match scheme {
            "postgres" | "postgresql" => Some(Self::Postgres),
            "mysql" | "mariadb" => Some(Self::MySql),
            _ => None,
        }
    }
}

/// A database created for one run on the server of an admin URL, and dropped
/// again when this value is (after the nodes using it have stopped).
#[derive(Debug)]
pub struct FreshDatabase {
    backend: Backend,
    admin_url: String,
    name: String,
    /// The URL the server nodes connect with.
    pub url: String,
}

static CREATED: AtomicU32 = AtomicU32::new(0);

impl FreshDatabase {
    /// `CREATE DATABASE chatroom_bench_<pid>_<time>_<n>` through `admin_url`
    /// (any database its user may connect to, e.g. `postgres://postgres@127.0.0.1:5432/postgres`).
    pub async fn create(admin_url: &str) -> anyhow::Result<Self> {
        let backend = Backend::of(admin_url)
            .context("a fresh database needs a postgres:// or mysql:// URL")?;
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() % 100_000);
        let name = format!(
            "chatroom_bench_{}_{secs}_{}",
            std::process::id(),
            CREATED.fetch_add(1, Ordering::Relaxed)
        );
        admin_exec(admin_url, &format!("CREATE DATABASE {name}")).await?;
        Ok(Self {
            backend,
            url: with_database(admin_url, &name),
            admin_url: admin_url.to_owned(),
            name,
        })
    }

    fn drop_statement(&self) -> String {
        match self.backend {
            // FORCE: end connections a killed node may have left behind.
            Backend::Postgres => format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            Backend::MySql => format!("DROP DATABASE IF EXISTS {}", self.name),
        }
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        // Dropped inside the benchmark's runtime, which cannot block on a
        // future: run the statement on a thread with a runtime of its own.
        let (url, sql) = (self.admin_url.clone(), self.drop_statement());
        let name = self.name.clone();
        let joined = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(admin_exec(&url, &sql))
        })
        .join();
        if !matches!(joined, Ok(Ok(()))) {
            eprintln!("chatroom-bench: could not drop the database {name}; drop it by hand");
        }
    }
}

/// Run one statement on a single admin connection.
async fn admin_exec(admin_url: &str, sql: &str) -> anyhow::Result<()> {
    let mut opt = ConnectOptions::new(admin_url);
    opt.max_connections(1).sqlx_logging(false);
    let conn = Database::connect(opt)
        .await
        .with_context(|| format!("connecting to {admin_url}"))?;
    let done = conn
        .execute_unprepared(sql)
        .await
        .with_context(|| sql.to_owned());
    let _ = conn.close().await;
    done.map(|_| ())
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

/// Wait up to `limit` until the server at `addr` answers a `hello`: it listens
/// (and the kernel queues connections) before it has opened and migrated its
/// database, so a node that merely listens may still be migrating.
pub fn wait_until_serving(addr: SocketAddr, limit: Duration) -> anyhow::Result<()> {
    use std::io::{Read, Write};
    let hello = chatroom_shared::message::Request {
        seq: 1,
        body: chatroom_shared::message::ClientMessage::Hello(chatroom_shared::message::Hello {
            version: chatroom_shared::PROTOCOL_VERSION,
            client: "chatroom-bench".into(),
        }),
    };
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(limit))?;
    stream.write_all(&chatroom_shared::encode_frame(&hello)?)?;
    let mut first = [0u8; 1];
    stream
        .read_exact(&mut first)
        .context("no answer to hello")?;
    Ok(())
}

/// Wait until the nodes at `addrs` see each other: one probe user logs in on
/// each node and stays, then on every node fresh probes log in until one's
/// online list holds all of them (presence has crossed NATS both ways). The
/// probes log out before this returns.
pub async fn wait_until_joined(addrs: &[SocketAddr]) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let prefix = load::name_prefix("p");
    let mut held = Vec::with_capacity(addrs.len());
    let mut names = Vec::with_capacity(addrs.len());
    for (i, addr) in addrs.iter().enumerate() {
        let name = format!("{prefix}{i}");
        held.push(
            Control::user(*addr, &name)
                .await
                .with_context(|| format!("probe login on node {}", i + 1))?,
        );
        names.push(name);
    }
    for (i, addr) in addrs.iter().enumerate() {
        for attempt in 0.. {
            let (_probe, ok) = Control::login(*addr, &format!("{prefix}{i}-{attempt}"))
                .await
                .with_context(|| format!("probe login on node {}", i + 1))?;
            if names.iter().all(|n| ok.online.iter().any(|u| &u.name == n)) {
                break;
            }
            if start.elapsed() > JOIN_LIMIT {
                bail!(
                    "node {} did not see the other nodes' users within {JOIN_LIMIT:?}",
                    i + 1
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    drop(held);
    Ok(start.elapsed())
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
        assert_eq!(Backend::of("sqlite://x.db?mode=rwc"), None);
    }
}
