//! The `fanout` scenario runs end to end at a tiny size against a cluster of
//! two started nodes (PostgreSQL + NATS), its clients spread over both, and
//! reports every message delivered to every other client (the real sizes are
//! in docs/BENCHMARKS.md). Runs only when `TEST_POSTGRES_URL` (an admin URL:
//! the benchmark creates and drops a fresh database there) and `TEST_NATS_URL`
//! are set; otherwise it skips, saying so, or fails under CI.
//!
//! It failed now and then (one run in three, then one in ten) with a sender
//! dropped as too slow while it read everything: a session's queued-byte count
//! could wrap below zero for a moment when acks and events were pushed from
//! different threads (fixed in `server/src/outbox.rs`, 2026-12-06; 12 runs of
//! 12 passed afterwards).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::Value;
use testkit::services::{NATS_ENV, POSTGRES_ENV, required};

#[test]
#[ignore = "needs TEST_POSTGRES_URL and TEST_NATS_URL"]
fn fanout_across_two_nodes_delivers_every_message_to_every_other_client() {
    let (postgres, nats) = (required(POSTGRES_ENV), required(NATS_ENV));
    let r = common::report(&[
        "fanout",
        "--clients",
        "20",
        "--senders",
        "2",
        "--seconds",
        "1",
        "--no-limit",
        "--nodes",
        "2",
        "--nats-url",
        &nats,
        "--database-url",
        &postgres,
    ]);
    // Two servers were started and served the clients.
    assert_eq!(r["nodes"], 2, "{r}");
    assert_eq!(r["servers_exited"], Value::Array(Vec::new()), "{r}");
    assert_eq!(r["dropped_too_slow"], Value::Array(Vec::new()), "{r}");
    // Nothing lost, duplicated or refused, on either node.
    assert_eq!(r["lost"], 0, "{r}");
    assert_eq!(r["drained"], true, "{r}");
    assert_eq!(r["messages_unacked"], 0, "{r}");
    assert_eq!(r["disconnected"], 0, "{r}");
    assert_eq!(r["errors"], 0, "{r}");
    let acked = r["messages_acked"].as_u64().unwrap();
    assert!(acked > 0, "{r}");
    assert_eq!(
        r["deliveries_received"].as_u64().unwrap(),
        acked * 19,
        "{r}"
    );
    assert_eq!(r["deliveries_expected"], r["deliveries_received"]);
    let rate = r["deliveries_per_s"].as_f64().unwrap();
    assert!(rate.is_finite() && rate > 0.0, "{r}");
    // CPU and memory are the sum over the nodes, and given per node.
    let per_node = r["cpu"]["server_cpu_s_per_node"].as_array().unwrap();
    assert_eq!(per_node.len(), 2, "{r}");
    let sum: f64 = per_node.iter().map(|v| v.as_f64().unwrap()).sum();
    let total = r["server_cpu_s"].as_f64().unwrap();
    assert!((sum - total).abs() < 1e-6, "{r}");
    let peaks = r["server_peak_rss_kib_per_node"].as_array().unwrap();
    assert_eq!(peaks.len(), 2, "{r}");
    let peak_sum: u64 = peaks.iter().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(r["server_peak_rss_kib"].as_u64().unwrap(), peak_sum);
}
