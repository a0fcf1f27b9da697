//! What an operator watches (issue 19 §2): the metrics the server records, by
//! name (the HTTP endpoint that exports them for Prometheus is
//! [`crate::metrics_http`]: `/metrics` and `/health`, with `--metrics-listen`).
//! A leaf: every part of the server records here, and it imports none of them.
//!
//! The server records through the `metrics` crate's macros wherever the thing
//! happens (a login, a commit, a refusal). They cost next to nothing until a
//! recorder is installed, which only `--metrics-listen` does: in-process tests
//! and servers without the flag record into nothing. Gauges that are a state
//! rather than an event (users online, the store's queue, the cluster's
//! nodes) are read when a scrape asks ([`crate::metrics_http::Sources`]).

use std::time::Duration;

use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};

/// Open TCP connections: chat sessions, connections still logging in, and
/// data connections.
pub const CONNECTIONS: &str = "chatroom_connections";
/// Users online (in a cluster, on every node), read at scrape time.
pub const USERS_ONLINE: &str = "chatroom_users_online";
/// Logins and resumes by `method` (`password`, `token`) and `result` (`ok`,
/// `failed`).
pub const LOGINS: &str = "chatroom_logins_total";
/// Messages and announcements stored.
pub const MESSAGES_STORED: &str = "chatroom_messages_stored_total";
/// From receiving a message to its commit, seconds.
pub const MESSAGE_STORE_SECONDS: &str = "chatroom_message_store_seconds";
/// Records waiting for the store's writer, read at scrape time.
pub const STORE_QUEUE: &str = "chatroom_store_queue_depth";
/// Records per committed batch.
pub const STORE_BATCH_RECORDS: &str = "chatroom_store_batch_records";
/// One batch's commit (with its retries), seconds.
pub const STORE_COMMIT_SECONDS: &str = "chatroom_store_commit_seconds";
/// Batches the database did not take (their senders were told to retry).
pub const STORE_BATCHES_GIVEN_UP: &str = "chatroom_store_batches_given_up_total";
/// Clients disconnected as too slow, by `reason` (`queue_full`: its outgoing
/// queue overflowed; `write_timeout`: it read nothing for the write timeout).
pub const CLIENTS_DROPPED: &str = "chatroom_clients_dropped_total";
/// Requests and connections refused by a rate limit, by `limit`
/// (`requests`, `messages`, `connections`).
pub const RATE_LIMITED: &str = "chatroom_rate_limited_total";
/// File transfers running now, by `direction` (`upload`, `download`).
pub const TRANSFERS_ACTIVE: &str = "chatroom_transfers_active";
/// File bytes moved, by `direction`.
pub const TRANSFER_BYTES: &str = "chatroom_transfer_bytes_total";
/// One search or filtered history page, seconds.
pub const SEARCH_SECONDS: &str = "chatroom_search_seconds";
/// Each cluster node this node hears (itself included), by `node`: 1 alive,
/// 0 gone silent; read at scrape time.
pub const CLUSTER_NODE_UP: &str = "chatroom_cluster_node_up";
/// Whether the database answers (1) or not (0), read at scrape time.
pub const DATABASE_UP: &str = "chatroom_database_up";
/// Whether NATS is connected (1) or not (0), in a cluster; read at scrape time.
pub const NATS_UP: &str = "chatroom_nats_up";

/// Buckets of the latency histograms, seconds: 0.5 ms to 10 s.
const SECONDS_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Buckets of the batch size histogram, records.
const RECORD_BUCKETS: [f64; 10] = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0];

/// Say what each metric means (the `# HELP` lines).
fn describe() {
    describe_gauge!(CONNECTIONS, "Open TCP connections (chat, logging in, data)");
    describe_gauge!(USERS_ONLINE, "Users online (in a cluster, on every node)");
    describe_counter!(LOGINS, "Logins and resumes by method and result");
    describe_counter!(MESSAGES_STORED, "Messages and announcements stored");
    describe_histogram!(
        MESSAGE_STORE_SECONDS,
        Unit::Seconds,
        "From receiving a message to its commit"
    );
    describe_gauge!(STORE_QUEUE, "Records waiting for the store's writer");
    describe_histogram!(
        STORE_BATCH_RECORDS,
        Unit::Count,
        "Records per committed batch"
    );
    describe_histogram!(
        STORE_COMMIT_SECONDS,
        Unit::Seconds,
        "One batch's commit, with its retries"
    );
    describe_counter!(
        STORE_BATCHES_GIVEN_UP,
        "Batches the database did not take; their senders were told to retry"
    );
    describe_counter!(
        CLIENTS_DROPPED,
        "Clients disconnected as too slow, by reason"
    );
    describe_counter!(
        RATE_LIMITED,
        "Requests and connections refused by a rate limit"
    );
    describe_gauge!(TRANSFERS_ACTIVE, "File transfers running now");
    describe_counter!(TRANSFER_BYTES, Unit::Bytes, "File bytes moved");
    describe_histogram!(
        SEARCH_SECONDS,
        Unit::Seconds,
        "One search or filtered history page"
    );
    describe_gauge!(
        CLUSTER_NODE_UP,
        "Cluster nodes heard: 1 alive, 0 gone silent"
    );
    describe_gauge!(DATABASE_UP, "Whether the database answers");
    describe_gauge!(NATS_UP, "Whether NATS is connected (cluster nodes)");
}

/// Install the process's Prometheus recorder; returns the handle that renders
/// what it holds. Call once, before serving.
pub fn install() -> Result<metrics_exporter_prometheus::PrometheusHandle, InstallError> {
    use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
    let handle = PrometheusBuilder::new()
        .set_buckets(&SECONDS_BUCKETS)?
        .set_buckets_for_metric(Matcher::Full(STORE_BATCH_RECORDS.into()), &RECORD_BUCKETS)?
        .install_recorder()?;
    describe();
    Ok(handle)
}

/// The recorder could not be installed.
#[derive(Debug, thiserror::Error)]
#[error("cannot install the metrics recorder: {0}")]
pub struct InstallError(#[from] metrics_exporter_prometheus::BuildError);

/// Seconds as histograms take them.
pub fn seconds(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// One more open connection, until the guard is dropped.
#[derive(Debug)]
#[must_use]
pub struct Open(&'static str, &'static [(&'static str, &'static str)]);

impl Open {
    /// Count one more of gauge `name` (with these labels) until dropped.
    pub fn gauge(name: &'static str, labels: &'static [(&'static str, &'static str)]) -> Self {
        metrics::gauge!(name, labels).increment(1.0);
        Self(name, labels)
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        metrics::gauge!(self.0, self.1).decrement(1.0);
    }
}
