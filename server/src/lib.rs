//! The chatroom server.
//!
//! Modules, in the order a message travels:
//!
//! - [`server`]: binding, the accept loop, graceful shutdown; [`run`] is the
//!   library entry point and tests start the real server on port 0 with it.
//! - [`tls`], [`transport`]: the TLS identity and handshake that start every
//!   connection (unless `--plain`), and the plain-or-TLS halves sessions use.
//! - `session`: one task per connection: framing, deadlines, the connection
//!   state machine (hello → login → chat), one handler per request type.
//! - [`store`]: the write-behind queue and the writer task that stores records
//!   in batches (group commit), acknowledges them and hands them to the hub.
//! - [`hub`]: presence (who is online) and fan-out to every session's bounded
//!   outbox.
//! - [`cluster`]: several nodes sharing one chat through the database and NATS
//!   (only with `--nats-url`): ordered delivery of stored batches, cluster-wide
//!   presence, the game table's owner.
//! - [`delivery`]: who receives an event ([`delivery::Audience`]), and the
//!   seam ([`delivery::Deliver`]) through which the store hands committed
//!   batches to the hub or, in a cluster, to the cluster's ordering.
//! - [`outbox`]: what a session is sent by the hub and the store.
//! - [`paging`]: the one shape of every reply that lists things without a
//!   bound: keyset pages cut by count and by bytes.
//! - [`files`]: shared files: their storage, transfer tickets, and the data
//!   connections that move their bytes beside the chat.
//! - [`games`]: the two-player game: one task owns every invitation and game,
//!   decides accepts and moves in turn, and stores finished games.
//! - [`db`]: SeaORM entities and the queries, on SQLite, PostgreSQL or MySQL.
//! - [`password`], [`token`], [`throttle`]: bcrypt off the async threads,
//!   resume tokens, failed-login limits per address; [`flood`]: the request
//!   rate limit of each connection.
//! - [`admin`], [`console`]: the administrator's actions and the console on
//!   standard input that drives them.
//! - [`config`]: every flag and its default; [`conn_limit`]: connections per address;
//!   [`conn_rate`]: new connections per address and second.
//! - [`fault`]: a panic injected on request, in debug builds only, for tests.
//! - [`untrusted`]: client text made safe for a log line or the operator's console.
//! - [`metrics`]: what an operator watches; [`metrics_http`]: the `/metrics`
//!   and `/health` endpoint that exports it.
//! - [`backup`]: a consistent copy of the SQLite database while it runs.
//! - [`copy_data`]: every table copied from one database to another (SQLite
//!   to PostgreSQL, say), then checked.
//! - [`control`]: the data directory's lock and the control socket that
//!   `chatroom-server admin …` talks to.

pub mod admin;
pub mod backup;
pub mod cluster;
pub mod config;
pub mod conn_limit;
pub mod conn_rate;
pub mod console;
#[cfg(unix)]
pub mod control;
pub mod copy_data;
pub mod ctx;
pub mod db;
pub mod delivery;
pub mod fault;
pub mod files;
pub mod flood;
pub mod games;
pub mod group_notices;
pub mod history;
pub mod hub;
pub mod metrics;
pub mod metrics_http;
pub mod outbox;
pub mod paging;
pub mod password;
pub mod recipients;
pub mod search;
pub mod server;
mod session;
pub mod store;
pub mod throttle;
pub mod time;
pub mod tls;
pub mod token;
pub mod transport;
pub mod untrusted;

#[cfg(test)]
mod import_cycles;

pub use admin::{Admin, AdminError};
pub use config::Config;
pub use server::{Server, StartError, run};

pub(crate) use chatroom_shared::message::LeaveReason;

/// Server software name and version, sent in `hello_ok`.
pub const SERVER_NAME: &str = concat!("chatroom-server ", env!("CARGO_PKG_VERSION"));
