//! The `idle`, `logins`, `flood` and `reconnect` scenarios run end to end at tiny sizes
//! and report sane figures (the real sizes are in docs/BENCHMARKS.md).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::report as run;

fn positive(report: &serde_json::Value, key: &str) -> f64 {
    let v = report[key].as_f64().unwrap_or(f64::NAN);
    assert!(v.is_finite() && v > 0.0, "{key} = {v} in {report}");
    v
}

#[test]
fn idle_scenario_holds_every_connection_and_reports_memory_per_connection() {
    let report = run(&["idle", "--connections", "50", "--hold-secs", "1"]);
    assert_eq!(report["scenario"], "idle");
    assert_eq!(report["logged_in"], 50, "{report}");
    assert_eq!(report["failed"], 0);
    assert_eq!(report["dropped_while_idle"], 0);
    assert_eq!(report["fd_limit"]["enough"], true);
    positive(&report, "logins_per_s");
    positive(&report, "server_rss_per_connection_kib");
    let before = report["server_rss_before_kib"].as_u64().unwrap();
    let peak = report["server_peak_rss_kib"].as_u64().unwrap();
    assert!(peak >= before, "{report}");
}

#[test]
fn logins_scenario_reports_the_storm_rate_and_chat_latency_before_it() {
    let report = run(&[
        "logins",
        "--logins",
        "10",
        "--bcrypt-cost",
        "4",
        "--baseline-secs",
        "1",
    ]);
    assert_eq!(report["scenario"], "logins");
    assert_eq!(report["logged_in"], 10, "{report}");
    assert_eq!(report["failed"], 0);
    positive(&report, "logins_per_s");
    positive(&report, "storm_s");
    // A tiny storm may be over before the next chat message: only the
    // baseline is sure to have samples.
    let baseline = &report["chat_delivery_baseline_ms"];
    assert!(baseline["n"].as_u64().unwrap() >= 10, "{report}");
    let p99 = baseline["p99"].as_f64().unwrap();
    assert!(p99.is_finite() && p99 > 0.0, "{report}");
    assert!(report["chat_ack_baseline_ms"]["n"].as_u64().unwrap() >= 10);
}

#[test]
fn reconnect_scenario_brings_every_client_back_after_a_restart() {
    let report = run(&["reconnect", "--clients", "20"]);
    assert_eq!(report["scenario"], "reconnect");
    assert_eq!(report["logged_in"], 20, "{report}");
    assert_eq!(report["back"], 20, "{report}");
    assert_eq!(report["failed"], 0);
    let all_back = positive(&report, "all_back_s");
    assert!(all_back < 30.0, "{report}");
    assert_eq!(report["back_ms"]["n"], 20);
    assert!(report["back_ms"]["p99"].as_f64().unwrap() <= all_back * 1000.0 + 1e-6);
    positive(&report, "server_stop_s");
}

#[test]
fn flood_scenario_shows_the_limit_at_work_and_chat_latency_on_both_sides() {
    let report = run(&[
        "flood",
        "--rate",
        "500",
        "--baseline-secs",
        "1",
        "--flood-secs",
        "2",
    ]);
    assert_eq!(report["scenario"], "flood");
    let sent = report["flood_sent"].as_u64().unwrap();
    let accepted = report["flood_accepted"].as_u64().unwrap();
    let refused = report["flood_refused"].as_u64().unwrap();
    // The limit let through at most the burst and the rate, refused the rest
    // it read, and closed the flooder for persisting.
    assert!(sent > 300, "{report}");
    // Not refilled by reconnecting: the user's bucket outlives the connection.
    assert!((20..=100 + 20 * 3).contains(&accepted), "{report}");
    assert!(refused >= 20, "{report}");
    assert!(
        report["flood_disconnected"].as_u64().unwrap() >= 1,
        "{report}"
    );
    for phase in ["chat_delivery_baseline_ms", "chat_delivery_flood_ms"] {
        assert!(
            report[phase]["n"].as_u64().unwrap() >= 5,
            "{phase}: {report}"
        );
    }
    positive(&report, "chat_delivery_p99_ratio");
}
