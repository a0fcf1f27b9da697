//! The `transfer` scenario runs end to end at a tiny size and reports sane
//! figures (the real measurement is 1 GiB; see docs/BENCHMARKS.md).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

fn server_binary() -> PathBuf {
    let bench = PathBuf::from(env!("CARGO_BIN_EXE_chatroom-bench"));
    let server = bench.parent().unwrap().join("chatroom-server");
    if !server.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "chatroom-server"])
            .status()
            .unwrap();
        assert!(status.success());
    }
    server
}

#[test]
fn transfer_scenario_reports_sane_figures() {
    let out = Command::new(env!("CARGO_BIN_EXE_chatroom-bench"))
        .args(["transfer", "--size", "4194304", "--json", "--server-bin"])
        .arg(server_binary())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["scenario"], "transfer");
    assert_eq!(report["bytes"], 4_194_304);
    for key in ["raw_loopback_mib_s", "upload_mib_s", "download_mib_s"] {
        let v = report[key].as_f64().unwrap();
        assert!(v.is_finite() && v > 0.0, "{key} = {v}");
    }
    assert!(report["server_peak_rss_kib"].as_u64().unwrap() > 0);
    assert!(report["chat_uploader_ms"]["n"].as_u64().unwrap() >= 1);
}
