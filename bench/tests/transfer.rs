//! The `transfer` scenario runs end to end at a tiny size and reports sane
//! figures (the real measurement is 1 GiB; see docs/BENCHMARKS.md).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

#[test]
fn transfer_scenario_reports_sane_figures() {
    let report = common::report(&["transfer", "--size", "4194304"]);
    assert_eq!(report["bytes"], 4_194_304);
    for key in [
        "raw_loopback_mib_s",
        "raw_disk_write_mib_s",
        "raw_sha256_mib_s",
        "upload_mib_s",
        "download_mib_s",
        "download_verified_mib_s",
    ] {
        let v = report[key].as_f64().unwrap();
        assert!(v.is_finite() && v > 0.0, "{key} = {v}");
    }
    assert!(report["server_peak_rss_kib"].as_u64().unwrap() > 0);
    assert!(report["chat_uploader_ms"]["n"].as_u64().unwrap() >= 1);
}
