//! Several server nodes as one cluster, for the cluster tests: one shared PostgreSQL or
//! MySQL/MariaDB database, one NATS server, one shared data directory.
//!
//! Clustering needs a server database (a node refuses `--nats-url` on SQLite) and NATS,
//! so [`cluster_test!`] runs a test body on PostgreSQL and on MySQL/MariaDB, with the
//! NATS server in `TEST_NATS_URL` (e.g. `nats://127.0.0.1:4222`). Both variants are
//! `#[ignore = "needs TEST_NATS_URL and TEST_POSTGRES_URL"]` (or `TEST_MYSQL_URL`):
//! `-- --include-ignored` runs them, and then an unset variable fails them (see
//! [`crate::services`]).
//!
//! Every test gets a cluster name of its own (the prefix of the NATS subjects), so tests
//! running at the same time on one NATS server never hear each other.
//!
//! ```text
//! use testkit::client::TestClient;
//! use testkit::cluster::cluster_test;
//!
//! cluster_test!(chat_crosses_nodes, |env| async move {
//!     let cluster = env.start(2).await; // nodes "n1" and "n2"
//!     let (mut alice, _) = TestClient::user(cluster.addr(1), "alice").await;
//!     cluster.online_everywhere(&["alice"]).await;
//!     // ...
//!     cluster.stop().await;
//! });
//! ```

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use chatroom_server::Config;
use chatroom_shared::message::{ChatMessage, LoginOk, ServerMessage, UserLeft};
use tempfile::TempDir;
use tokio::time::Instant;

use crate::binary::{ServerProcess, Stdin};
use crate::client::{TestClient, WAIT};
use crate::db::TestDb;
use crate::server::TestServer;

pub use crate::cluster_test;
pub use crate::services::NATS_ENV;

/// How often test nodes tell the others they are alive.
pub const HEARTBEAT: Duration = Duration::from_millis(100);

/// When in-process test nodes take a silent node for dead: generous, so a node that a
/// loaded machine holds up for a moment is not taken for dead in tests about other things.
pub const NODE_TIMEOUT: Duration = Duration::from_secs(3);

/// The NATS URL from [`NATS_ENV`]; panics, naming it, when it is unset.
pub fn nats_url() -> String {
    crate::services::required(NATS_ENV)
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A cluster name no other test, and no other run, uses: `test`, the process id, a
/// counter and a random number, in characters that are safe in a NATS subject.
pub fn unique_cluster_name(test: &str) -> String {
    let test: String = test
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!(
        "ct_{test}_{}_{}_{:08x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        rand::random::<u32>()
    )
}

/// What the nodes of one test share: the database, NATS, the cluster name and a data
/// directory.
pub struct ClusterEnv<'a> {
    /// The shared database.
    pub tdb: &'a TestDb,
    /// The NATS server.
    pub nats_url: String,
    /// This test's cluster name.
    pub name: String,
    data: TempDir,
}

impl<'a> ClusterEnv<'a> {
    /// A fresh cluster name for `test` and a fresh shared data directory.
    pub fn new(tdb: &'a TestDb, nats_url: String, test: &str) -> Self {
        Self {
            tdb,
            nats_url,
            name: unique_cluster_name(test),
            data: tempfile::tempdir().expect("create the shared data dir"),
        }
    }

    /// The data directory every node shares (the shared files live in it).
    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    /// Make `c` the configuration of node `node_id` of this cluster.
    pub fn configure(&self, c: &mut Config, node_id: &str) {
        c.nats_url = Some(self.nats_url.clone());
        c.cluster_name = self.name.clone();
        c.node_id = Some(node_id.to_owned());
        c.node_heartbeat = HEARTBEAT;
        c.node_timeout = NODE_TIMEOUT;
        c.data_dir = self.data_dir().to_owned();
    }

    /// Start one in-process node named `node_id`.
    pub async fn node(&self, node_id: &str) -> TestServer {
        self.node_with(node_id, |_| {}).await
    }

    /// Start one in-process node named `node_id`, its configuration changed by `adjust`.
    pub async fn node_with(&self, node_id: &str, adjust: impl FnOnce(&mut Config)) -> TestServer {
        TestServer::start_with(self.tdb.url(), |c| {
            self.configure(c, node_id);
            adjust(c);
        })
        .await
    }

    /// Start `n` in-process nodes, named "n1", "n2", ...
    pub async fn start(&self, n: usize) -> Cluster {
        self.start_with(n, |_| {}).await
    }

    /// Start `n` in-process nodes, each configuration changed by `adjust`.
    pub async fn start_with(&self, n: usize, adjust: impl Fn(&mut Config)) -> Cluster {
        let mut nodes = Vec::new();
        for i in 1..=n {
            nodes.push(self.node_with(&format!("n{i}"), &adjust).await);
        }
        Cluster { nodes }
    }

    /// The flags of a binary node named `node_id`, which takes a node silent for
    /// `node_timeout` for dead.
    pub fn flags(&self, node_id: &str, node_timeout: &str) -> Vec<String> {
        [
            "--nats-url",
            &self.nats_url,
            "--cluster-name",
            &self.name,
            "--node-id",
            node_id,
            "--node-heartbeat",
            "100ms",
            "--node-timeout",
            node_timeout,
        ]
        .iter()
        .chain(crate::binary::UNLIMITED)
        .map(|s| (*s).to_owned())
        .collect()
    }

    /// Start the real binary as node `node_id` (plain TCP, the shared database and data
    /// directory); a node silent for `node_timeout` (e.g. "1s") is taken for dead.
    pub async fn spawn(&self, node_id: &str, node_timeout: &str, stdin: Stdin) -> ServerProcess {
        let flags = self.flags(node_id, node_timeout);
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        ServerProcess::spawn_with(self.data_dir(), Some(self.tdb.url()), stdin, &flags).await
    }

    /// [`ClusterEnv::spawn`] with these environment variables (the debug-only
    /// fault switches of `server/src/fault.rs`), stdin closed.
    pub async fn spawn_env(
        &self,
        node_id: &str,
        node_timeout: &str,
        envs: &[(&str, &str)],
    ) -> ServerProcess {
        let mut flags = self.flags(node_id, node_timeout);
        flags.extend(["--database-url".to_owned(), self.tdb.url().to_owned()]);
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        ServerProcess::spawn_env(self.data_dir(), &flags, envs).await
    }
}

/// In-process nodes of one cluster; `node(1)` is "n1".
pub struct Cluster {
    /// The nodes, "n1" first.
    pub nodes: Vec<TestServer>,
}

impl Cluster {
    /// Node `n` (1-based, as in its id "n1", "n2", ...).
    pub fn node(&self, n: usize) -> &TestServer {
        &self.nodes[n - 1]
    }

    /// Where node `n` (1-based) listens.
    pub fn addr(&self, n: usize) -> SocketAddr {
        self.node(n).addr
    }

    /// Wait (polling every node's administrator list) until every node lists exactly
    /// `want` as online: the nodes have heard of each other's logins and leaves.
    pub async fn online_everywhere(&self, want: &[&str]) {
        let mut want: Vec<String> = want.iter().map(|s| (*s).to_owned()).collect();
        want.sort();
        let deadline = Instant::now() + WAIT;
        for (i, node) in self.nodes.iter().enumerate() {
            loop {
                let now = online(node).await;
                if now == want {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "n{} lists {now:?} online, want {want:?}",
                    i + 1
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }

    /// Stop every node gracefully.
    pub async fn stop(self) {
        for node in self.nodes {
            node.stop().await;
        }
    }
}

/// The names a node's administrator sees online, sorted.
pub use crate::hostile::online;

/// (name, node) of everyone a node's administrator lists, sorted.
pub async fn placement(server: &TestServer) -> Vec<(String, String)> {
    let mut users: Vec<(String, String)> = server
        .admin
        .users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| (u.name, u.node))
        .collect();
    users.sort();
    users
}

/// `(name, node)` pairs as [`placement`] gives them.
pub fn pairs(want: &[(&str, &str)]) -> Vec<(String, String)> {
    want.iter()
        .map(|(u, n)| ((*u).to_owned(), (*n).to_owned()))
        .collect()
}

/// The names of a login's online list, in its order.
pub fn online_names(login: &LoginOk) -> Vec<&str> {
    login.online.iter().map(|u| u.name.as_str()).collect()
}

/// Wait for `name`'s `user_joined`.
pub async fn joined(c: &mut TestClient, name: &str) {
    c.wait_for(
        &format!("{name} joined"),
        |m| matches!(m, ServerMessage::UserJoined(j) if j.name == name),
    )
    .await;
}

/// Wait for `name`'s `user_left` and return it.
pub async fn left(c: &mut TestClient, name: &str) -> UserLeft {
    match c
        .wait_for(
            &format!("{name} left"),
            |m| matches!(m, ServerMessage::UserLeft(l) if l.name == name),
        )
        .await
    {
        ServerMessage::UserLeft(l) => l,
        _ => unreachable!(),
    }
}

/// True for a join or leave notice about `name`.
pub fn about(m: &ServerMessage, name: &str) -> bool {
    match m {
        ServerMessage::UserJoined(j) => j.name == name,
        ServerMessage::UserLeft(l) => l.name == name,
        _ => false,
    }
}

/// The chat messages among `got`, in order.
pub fn chat(got: &[ServerMessage]) -> Vec<ChatMessage> {
    got.iter()
        .filter_map(|m| match m {
            ServerMessage::Message(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

/// The next `message` event with this text.
pub async fn message_with(c: &mut TestClient, text: &str) -> ChatMessage {
    match c
        .wait_for(
            &format!("the message {text:?}"),
            |m| matches!(m, ServerMessage::Message(x) if x.text == text),
        )
        .await
    {
        ServerMessage::Message(m) => m,
        _ => unreachable!(),
    }
}

/// Runs one async test body on a PostgreSQL and a MySQL/MariaDB database with NATS;
/// see the module docs.
///
/// `cluster_test!(name, |env| async move { ... })` gives the body `env: &ClusterEnv`
/// (a fresh database, the NATS URL, a unique cluster name, a shared data directory)
/// and drops the database when the body returns.
#[macro_export]
macro_rules! cluster_test {
    ($name:ident, |$env:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn case($env: &$crate::cluster::ClusterEnv<'_>) {
                $body.await
            }

            $crate::cluster_test!(@backend $name, postgres, Postgres,
                "needs TEST_NATS_URL and TEST_POSTGRES_URL");
            $crate::cluster_test!(@backend $name, mysql, MySql,
                "needs TEST_NATS_URL and TEST_MYSQL_URL");
        }
    };
    (@backend $test:ident, $fn_name:ident, $backend:ident, $needs:literal) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        #[ignore = $needs]
        async fn $fn_name() {
            let nats = $crate::cluster::nats_url();
            let db = $crate::db::TestDb::create($crate::db::Backend::$backend).await;
            let test = concat!(stringify!($test), "_", stringify!($fn_name));
            let env = $crate::cluster::ClusterEnv::new(&db, nats, test);
            case(&env).await;
            drop(env);
            db.drop_db().await;
        }
    };
}
