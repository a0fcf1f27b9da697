//! The real server, started in-process on 127.0.0.1 port 0 for one test.

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::Duration;

use chatroom_server::{Admin, Config, Server, StartError};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A running server. Call [`TestServer::stop`] for a graceful shutdown.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The administrator interface (what the console drives).
    pub admin: Admin,
    /// The configuration it runs with.
    pub config: Config,
    /// Its search index (ready: the start waited for it), unless searches scan.
    pub search: Option<chatroom_server::search::SearchIndex>,
    shutdown: CancellationToken,
    handle: JoinHandle<Result<(), StartError>>,
    /// The data directory, when the test left the default: a fresh temporary one.
    _data: Option<tempfile::TempDir>,
}

/// The test configuration: fast bcrypt, the given database, everything else default.
pub fn test_config(database_url: &str) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: Some(database_url.to_owned()),
        bcrypt_cost: 4,
        // Every test client comes from 127.0.0.1; the limit has its own test.
        max_connections_per_address: 0,
        // Tests open hundreds of connections at once; the rate has its own tests.
        connection_rate_per_address: 0,
        // Tests pipeline hundreds of requests; the rate limit has its own tests.
        request_rate: 0,
        // Test clients speak plain TCP; TLS has its own tests.
        plain: true,
        ..Config::default()
    }
}

impl TestServer {
    /// Start with the test configuration on `database_url`.
    pub async fn start(database_url: &str) -> Self {
        Self::start_with(database_url, |_| {}).await
    }

    /// Start with the test configuration changed by `adjust`.
    pub async fn start_with(database_url: &str, adjust: impl FnOnce(&mut Config)) -> Self {
        let mut config = test_config(database_url);
        adjust(&mut config);
        Self::start_config(config).await
    }

    /// Start with exactly this configuration (its `listen` is ignored: port 0). A
    /// default (relative) data directory is replaced by a temporary one, so tests
    /// never write into the working directory.
    pub async fn start_config(mut config: Config) -> Self {
        let mut data = None;
        if config.data_dir == Config::default().data_dir {
            let dir = tempfile::tempdir().unwrap();
            config.data_dir = dir.path().to_owned();
            data = Some(dir);
        }
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        // Boxed: the start future (database, migrations, cluster bus) nests deep,
        // and a test body awaiting it through the kit's helpers from another crate
        // overflowed the compiler's query depth limit computing the body's layout
        // (`cluster_nodes`' first test, once these helpers moved into the kit).
        let server = Box::pin(Server::start(listener, config.clone()))
            .await
            .unwrap();
        let addr = server.local_addr().unwrap();
        let admin = server.admin();
        let shutdown = server.shutdown_token();
        let search = server.search_index();
        let handle = tokio::spawn(server.run());
        if let Some(index) = &search {
            // Searches then go through the index, not the scan it answers
            // with while it reads the history.
            tokio::time::timeout(Duration::from_secs(60), index.ready())
                .await
                .expect("the search index reads the history within 60 s");
        }
        Self {
            addr,
            admin,
            search,
            config,
            shutdown,
            handle,
            _data: data,
        }
    }

    /// Graceful shutdown; waits until the server has stopped.
    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(30), self.handle)
            .await
            .expect("server stops within 30 s")
            .expect("server task did not panic")
            .expect("server ran without error");
    }
}
