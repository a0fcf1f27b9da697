//! The `presence` scenario runs end to end at a tiny size and its counts add
//! up: everyone online and reached by the marker, `login_ok` counted once per
//! user at the size it was received, watchers answered with one page each.
//! No timings are checked: figures belong in the report (docs/BENCHMARKS.md).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::report as run;
use serde_json::Value;

fn u(report: &Value, path: &[&str]) -> u64 {
    let v = path.iter().fold(report, |v, k| &v[*k]);
    v.as_u64()
        .unwrap_or_else(|| panic!("{path:?} = {v} in {report}"))
}

#[test]
fn presence_scenario_brings_every_user_online_and_chatting_and_counts_what_each_received() {
    let report = run(&[
        "presence",
        "--users",
        "30",
        "--watchers",
        "0.5",
        "--baseline-secs",
        "1",
        "--chat-interval-ms",
        "50",
    ]);
    assert_eq!(report["logged_in"], 30, "{report}");
    assert_eq!(report["failed"], 0, "{report}");
    assert_eq!(report["marked"], 30, "{report}");
    assert_eq!(report["closed_early"], 0, "{report}");
    assert_eq!(report["watching"], 15, "{report}");
    let online = report["all_online_s"].as_f64().unwrap();
    let chatting = report["all_chatting_s"].as_f64().unwrap();
    assert!(online > 0.0 && chatting >= online, "{report}");

    // login_ok: once per user, counted at the size each member received it.
    assert!(u(&report, &["login_ok_bytes", "min"]) > 0, "{report}");
    assert_eq!(u(&report, &["received_by_kind", "login_ok", "frames"]), 30);
    assert_eq!(
        u(&report, &["received_by_kind", "login_ok", "bytes"]),
        u(&report, &["login_ok_bytes", "total"]),
        "{report}"
    );
    // Few online: the whole list, this user, the chatters and the marker included.
    assert!(u(&report, &["login_ok_listed_max"]) <= 33, "{report}");
    assert_eq!(report["login_ok_paged"], 0, "{report}");
    assert!(u(&report, &["login_ok_online_count_max"]) <= 33, "{report}");

    // One page in reply to each watch_users; watchers get presence events,
    // the others (few online) user_joined.
    assert_eq!(u(&report, &["received_by_kind", "user_list", "frames"]), 15);
    assert!(u(&report, &["received_by_kind", "presence", "frames"]) > 0);
    assert!(u(&report, &["received_by_kind", "user_joined", "frames"]) > 0);
    // Everyone received the marker, so at least one chat message.
    assert!(u(&report, &["received_by_kind", "message", "frames"]) >= 30);
    assert!(u(&report, &["received_frames", "min"]) >= 2, "{report}");

    // The per-kind counts add up to the per-user totals.
    let kinds = report["received_by_kind"].as_object().unwrap();
    let sum = |field: &str| {
        kinds
            .values()
            .map(|t| t[field].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(sum("bytes"), u(&report, &["received_bytes", "total"]));
    assert_eq!(sum("frames"), u(&report, &["received_frames", "total"]));

    assert!(
        u(&report, &["chat_delivery_baseline_ms", "n"]) >= 5,
        "{report}"
    );
    assert!(report["server_cpu_storm_s"].as_f64().is_some(), "{report}");
}

#[test]
fn idle_presence_run_without_watchers_above_the_broadcast_threshold_gets_no_presence_events() {
    let report = run(&[
        "presence",
        "--users",
        "30",
        "--watchers",
        "0",
        "--idle",
        "--hold-secs",
        "0",
        "--presence-broadcast-max",
        "5",
    ]);
    assert_eq!(report["logged_in"], 30, "{report}");
    assert_eq!(report["marked"], 30, "{report}");
    assert_eq!(report["watching"], 0, "{report}");
    assert_eq!(report["idle"], true);
    assert!(report["chat_delivery_storm_ms"].is_null(), "{report}");
    assert_eq!(u(&report, &["received_by_kind", "presence", "frames"]), 0);
    assert_eq!(u(&report, &["received_by_kind", "user_list", "frames"]), 0);
    // Joins are told one by one only while at most 5 are online: far fewer
    // than the 435 of telling each of 30 users about every later one.
    assert!(
        u(&report, &["received_by_kind", "user_joined", "frames"]) <= 10,
        "{report}"
    );
    assert!(
        report["server_rss_per_user_kib"].as_f64().is_some(),
        "{report}"
    );
}
