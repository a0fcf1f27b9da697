//! The test kit: what the server's integration tests and the benchmark share, so
//! that each helper is written once.
//!
//! Shared by both (always built):
//! - [`services`]: the URL variables of PostgreSQL, MySQL and NATS, and the rule for
//!   them: a test that needs one is `#[ignore]`d, and fails when run without it.
//! - [`wire`]: the protocol on a socket (frame reader, request frames, the next
//!   server message, hello / register / login), with errors as values.
//! - [`fresh_db`]: a fresh database on a PostgreSQL or MySQL server for one test
//!   or one benchmark run, dropped afterwards.
//! - [`process`]: where the `chatroom-server` binary is, a free port for it, the
//!   flags that lift the per-address limits, SIGTERM.
//!
//! For tests (they fail the test by panicking):
//! - [`client`]: [`client::TestClient`], a protocol client that buffers events
//!   while it waits for a reply, and request helpers.
//! - [`binary`]: the real binary as a child process, with its console and log.
//! - [`transfer`]: data connections (upload, download, the files directory).
//! - [`pages`]: paging through a listing, checking every page.
//! - [`disk`], [`db_proxy`]: a tmpfs to fill, a proxy that takes the database down.
//!
//! With the `server` feature (the server's tests turn it on; the benchmark leaves
//! it off, so its binary does not link the server's library):
//! - [`db`]: [`db::TestDb`] and [`db_test!`], one test body on SQLite, PostgreSQL
//!   and MySQL.
//! - [`server`]: [`server::TestServer`], the server in-process on port 0.
//! - [`cluster`]: several nodes on one database and NATS, and [`cluster_test!`].
//! - [`hostile`]: helpers of the hostile-input suite.
//!
//! The server's tests are three binaries that use this kit:
//! `server/tests/single_node` (in-process, one node), `server/tests/cluster`
//! (several nodes over NATS) and `server/tests/binary` (the real binary).

pub mod binary;
pub mod client;
pub mod db_proxy;
pub mod disk;
pub mod fresh_db;
pub mod pages;
pub mod process;
pub mod services;
pub mod transfer;
pub mod wire;

#[cfg(feature = "server")]
pub mod cluster;
#[cfg(feature = "server")]
pub mod db;
#[cfg(feature = "server")]
pub mod hostile;
#[cfg(feature = "server")]
pub mod server;
