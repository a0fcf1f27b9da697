//! What every benchmark test needs: running a scenario, with the server binary of
//! this build ([`server_binary`], from the test kit), to get its JSON report.

use std::process::Command;

use serde_json::Value;
use testkit::process::server_binary;

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
