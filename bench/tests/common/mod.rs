//! What every benchmark test needs: the server binary, and running a scenario to get
//! its JSON report.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

/// The `chatroom-server` binary next to the benchmark's, built once if missing.
pub fn server_binary() -> &'static PathBuf {
    static SERVER: OnceLock<PathBuf> = OnceLock::new();
    SERVER.get_or_init(|| {
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
    })
}

/// Run `chatroom-bench ARGS --json` (with `--server-bin` for every scenario that starts
/// a server) and parse its report, which must name the scenario.
pub fn report(args: &[&str]) -> Value {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chatroom-bench"));
    cmd.args(args).arg("--json");
    if args[0] != "limit" {
        cmd.arg("--server-bin").arg(server_binary());
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["scenario"], args[0]);
    report
}
