//! The `limit`, `fanout` and `store` scenarios run end to end at tiny sizes
//! and report sane figures: positive rates, finite latencies, nothing lost
//! once drained, ratios that agree with the rates they divide (the real
//! measurements are far larger; see docs/BENCHMARKS.md).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use common::report as bench;
use serde_json::Value;

fn positive(report: &Value, pointer: &str) -> f64 {
    let v = report
        .pointer(pointer)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("{pointer} missing in {report}"));
    assert!(v.is_finite() && v > 0.0, "{pointer} = {v}");
    v
}

/// p50 <= p99 <= max, all finite and positive, over `n` > 0 samples.
fn sane_latency(report: &Value, pointer: &str) {
    assert!(positive(report, &format!("{pointer}/n")) >= 1.0);
    let p50 = positive(report, &format!("{pointer}/p50"));
    let p99 = positive(report, &format!("{pointer}/p99"));
    let max = positive(report, &format!("{pointer}/max"));
    assert!(p50 <= p99 && p99 <= max, "{pointer}: {p50} {p99} {max}");
}

/// Everything acknowledged reached every other client, and nothing failed.
fn nothing_lost(report: &Value) {
    assert_eq!(report["lost"], 0, "{report}");
    assert_eq!(report["drained"], true, "{report}");
    assert_eq!(report["messages_unacked"], 0, "{report}");
    assert_eq!(report["disconnected"], 0, "{report}");
    assert_eq!(report["errors"], 0, "{report}");
    assert_eq!(report["deliveries_expected"], report["deliveries_received"]);
}

#[test]
fn limit_scenario_reports_a_positive_delivery_rate() {
    let r = bench(&["limit", "--clients", "20", "--seconds", "1"]);
    positive(&r, "/deliveries_per_s");
    positive(&r, "/mib_per_s");
    assert_eq!(r["readers"], "this process", "{r}");
}

#[test]
fn limit_reads_in_a_child_process_when_asked() {
    // What it does by itself when it may not hold 2N descriptors (10,000
    // clients under a hard limit of 20,000).
    let r = bench(&[
        "limit",
        "--clients",
        "20",
        "--seconds",
        "1",
        "--readers-process",
    ]);
    assert_eq!(r["readers"], "child process", "{r}");
    positive(&r, "/deliveries_per_s");
    positive(&r, "/bench_cpu_s");
}

#[test]
fn fanout_flat_out_delivers_every_message_to_every_other_client() {
    let r = bench(&[
        "fanout",
        "--clients",
        "20",
        "--senders",
        "2",
        "--seconds",
        "1",
        "--limit-seconds",
        "0.5",
    ]);
    assert_eq!(r["mode"], "flat");
    positive(&r, "/deliveries_per_s");
    positive(&r, "/msgs_in_per_s");
    positive(&r, "/limit/deliveries_per_s");
    positive(&r, "/pct_of_limit");
    positive(&r, "/server_peak_rss_kib");
    // A second flat out costs both sides CPU (counted in 10 ms ticks).
    positive(&r, "/server_cpu_s");
    positive(&r, "/bench_cpu_s");
    assert!(
        r["saturated"].as_str().is_some_and(|v| !v.is_empty()),
        "{r}"
    );
    sane_latency(&r, "/latency_ms");
    sane_latency(&r, "/ack_latency_ms");
    nothing_lost(&r);
    let acked = r["messages_acked"].as_u64().unwrap();
    assert_eq!(r["deliveries_received"].as_u64().unwrap(), acked * 19);
}

#[test]
fn fanout_at_a_fixed_rate_sends_about_that_many_messages() {
    let r = bench(&[
        "fanout",
        "--clients",
        "10",
        "--senders",
        "2",
        "--seconds",
        "1",
        "--rate",
        "100",
        "--no-limit",
    ]);
    assert_eq!(r["mode"], "rate");
    assert!(r["limit"].is_null());
    // The pacer sends on a schedule and never ahead of it: at most one
    // message per slot of 10 ms over the second, plus one per sender at
    // the edges. How many of the slots a loaded machine manages is a
    // figure, not a test: only the bound is checked, and that everything
    // sent was acknowledged.
    let sent = r["messages_sent"].as_u64().unwrap();
    let acked = r["messages_acked"].as_u64().unwrap();
    assert!(
        (1..=102).contains(&sent),
        "{sent} messages at 100/s for 1 s"
    );
    assert_eq!(acked, sent, "{r}");
    sane_latency(&r, "/latency_ms");
    nothing_lost(&r);
}

#[test]
fn store_reports_acked_rate_and_ack_latency_at_half_of_it() {
    let r = bench(&["store", "--senders", "3", "--seconds", "1"]);
    assert_eq!(r["deliveries_per_message"], 2);
    let flat = positive(&r, "/flat/acked_msgs_per_s");
    assert_eq!(r["acked_msgs_per_s"].as_f64().unwrap(), flat);
    sane_latency(&r, "/flat/ack_latency_ms");
    let offered = positive(&r, "/open/offered_msgs_per_s");
    assert!((offered - flat / 2.0).abs() < 1e-6 * flat);
    positive(&r, "/open/acked_msgs_per_s");
    sane_latency(&r, "/open/ack_latency_ms");
    positive(&r, "/ack_p99_ms_at_half_rate");
    nothing_lost(&r);
}

/// `a` and `b` agree to within `rel` of their size.
fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs())
}

#[test]
fn store_reports_the_raw_database_rate_and_the_acked_rate_as_its_ratio() {
    let r = bench(&[
        "store",
        "--senders",
        "2",
        "--seconds",
        "0.5",
        "--raw-connections",
        "1,2",
    ]);
    let acked = positive(&r, "/acked_msgs_per_s");
    assert!(positive(&r, "/raw/batch_rows") >= 1.0);
    // A fresh SQLite file goes with the run: nothing to delete.
    assert_eq!(r["raw"]["deleted"], false, "{r}");
    let runs = r["raw"]["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{r}");
    for (i, n) in [1, 2].into_iter().enumerate() {
        let p = format!("/raw/runs/{i}");
        assert_eq!(r.pointer(&format!("{p}/connections")).unwrap(), n);
        let rows = positive(&r, &format!("{p}/rows"));
        let seconds = positive(&r, &format!("{p}/seconds"));
        let rate = positive(&r, &format!("{p}/rows_per_s"));
        assert!(close(rate, rows / seconds, 1e-9), "{r}");
        let ratio = positive(&r, &format!("{p}/acked_over_raw"));
        assert!(close(ratio, acked / rate, 1e-9), "{r}");
    }
    assert_eq!(r["raw_rows_per_s"], r["raw"]["runs"][0]["rows_per_s"]);
    assert_eq!(r["acked_over_raw"], r["raw"]["runs"][0]["acked_over_raw"]);
    nothing_lost(&r);
}

/// The first number after `label` in `line`.
fn number_after(line: &str, label: &str) -> f64 {
    let rest = &line[line
        .find(label)
        .unwrap_or_else(|| panic!("{label} in {line}"))
        + label.len()..];
    rest.split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn store_table_prints_the_raw_rate_and_a_ratio_that_matches_the_printed_rates() {
    let out = Command::new(env!("CARGO_BIN_EXE_chatroom-bench"))
        .args(["store", "--senders", "2", "--seconds", "0.5"])
        .args(["--raw-connections", "1", "--server-bin"])
        .arg(testkit::process::server_binary())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let flat = text.lines().find(|l| l.contains("flat out")).unwrap();
    let acked: f64 = flat
        .split_whitespace()
        .nth(2)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no rate in {flat}"));
    assert!(text.contains("raw database"), "{text}");
    let raw = text.lines().find(|l| l.contains(" conn. ")).unwrap();
    let rate = raw
        .split_whitespace()
        .nth(2)
        .unwrap()
        .parse::<f64>()
        .unwrap();
    assert!(acked > 0.0 && rate > 0.0, "{text}");
    // Rates print as whole numbers and the ratio to 4 decimals.
    let ratio = number_after(raw, "acked/raw");
    assert!(
        (ratio - acked / rate).abs() <= 1e-4 + 1e-3 * ratio,
        "{text}"
    );
}

/// Whether this process may create cpu cgroups (root, with the cgroup file
/// system mounted), as `--node-cpus` does.
fn cgroups_writable() -> bool {
    let probe = ["/sys/fs/cgroup/cpu", "/sys/fs/cgroup"]
        .iter()
        .map(|root| {
            std::path::Path::new(root).join(format!("chatroom-probe-{}", std::process::id()))
        })
        .find(|dir| {
            dir.parent()
                .is_some_and(|p| p.join("cgroup.procs").exists())
        });
    let Some(dir) = probe else { return false };
    let made = std::fs::create_dir(&dir).is_ok();
    if made {
        let _ = std::fs::remove_dir(&dir);
    }
    made
}

#[test]
#[ignore = "needs root: --node-cpus makes cpu cgroups"]
fn store_with_a_cpu_budget_holds_the_server_to_it_and_loses_nothing() {
    assert!(
        cgroups_writable(),
        "--node-cpus needs to create cpu cgroups: run this test as root"
    );
    let budget = 0.2;
    let r = bench(&[
        "store",
        "--senders",
        "3",
        "--seconds",
        "1",
        "--no-raw",
        "--node-cpus",
        &budget.to_string(),
    ]);
    assert_eq!(r["node_cpus"].as_f64(), Some(budget), "{r}");
    // The kernel's cap, not a speed: flat out the server wants more than 0.2
    // cores, and its CPU time over the phase stays within the quota (CPU
    // time is counted in 10 ms ticks: a tick or two over 1 s is slack).
    let server = r["flat"]["cpu"]["server_cpu_s"].as_f64().unwrap();
    let seconds = r["flat"]["seconds"].as_f64().unwrap();
    assert!(
        server <= budget * seconds + 0.03,
        "{server} CPU s over {seconds} s with a budget of {budget} cores: {r}"
    );
    assert_eq!(r["servers_exited"], Value::Array(Vec::new()), "{r}");
    nothing_lost(&r);
}
