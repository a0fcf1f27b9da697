//! The `idle` scenario: how much server memory one idle, logged-in connection
//! costs. Registers C accounts, logs C connections in, holds them idle (they
//! read what the server sends and ping within the keepalive, nothing more),
//! and reports the server's resident memory before and after, per connection.

use std::time::Duration;

use anyhow::{Context, bail};
use tokio_util::sync::CancellationToken;

use crate::crowd::{self, Held};
use crate::proc_stats;
use crate::server::ServerArgs;

/// Flags of `chatroom-bench idle`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Connections to open, log in and hold.
    #[arg(long, default_value_t = 10_000)]
    connections: usize,
    /// Logins in flight at once while connecting them.
    #[arg(long, default_value_t = 64)]
    parallel: usize,
    /// Connections registering the accounts at once (before anything is measured).
    #[arg(long, default_value_t = 8)]
    register_workers: usize,
    /// Seconds to hold every connection idle once all are logged in, before
    /// memory is read (they ping within the keepalive, so any length works).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=600))]
    hold_secs: u64,
    /// The server to measure.
    #[command(flatten)]
    server: ServerArgs,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// Longest the login phase may take.
const LOGIN_LIMIT: Duration = Duration::from_secs(900);

/// Run the scenario and print its figures.
pub async fn run(args: Args) -> anyhow::Result<()> {
    if args.connections == 0 {
        bail!("--connections must be at least 1");
    }
    // Before the server starts, so it inherits the limit.
    let fds = crowd::raise_fd_limit(args.connections);
    args.server.one_node()?;
    let target = args.server.target().await?;
    let addr = target.addr;
    let rss = |pid: Option<u32>| pid.and_then(proc_stats::memory);
    let fresh = rss(target.pid);

    let tag = std::process::id();
    let names: Vec<String> = (0..args.connections)
        .map(|i| format!("i{tag}x{i}"))
        .collect();
    let registering = crowd::register_all(addr, &names, args.register_workers)
        .await
        .context("registering the accounts")?;
    // Let the registration connections close before the baseline.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss(target.pid);
    let cpu_before = target.pid.and_then(proc_stats::cpu_seconds);
    let own_cpu_before = proc_stats::cpu_seconds(std::process::id());

    let stop = CancellationToken::new();
    let holding = stop.clone();
    let crowd = crowd::log_in_all(addr, names, args.parallel, LOGIN_LIMIT, move |conn, _| {
        conn.hold(holding.clone())
    })
    .await;
    let logged_in_rss = rss(target.pid);
    let cpu_login = match (cpu_before, target.pid.and_then(proc_stats::cpu_seconds)) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let own_cpu_login = match (own_cpu_before, proc_stats::cpu_seconds(std::process::id())) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    tokio::time::sleep(Duration::from_secs(args.hold_secs)).await;
    let after = rss(target.pid);

    stop.cancel();
    let held = crowd::join_all(crowd.tasks, Duration::from_secs(30)).await;
    let open = held
        .iter()
        .filter(|h| matches!(h, Held::Open { .. }))
        .count();
    let dropped = crowd.logged_in - open;
    // Stop a started server before the connections close, so it does not spend
    // its last moments telling everyone who left.
    drop(target);
    drop(held);

    let per_conn = match (before, after) {
        (Some(b), Some(a)) if crowd.logged_in > 0 => {
            Some((a.now_kib as f64 - b.now_kib as f64) / crowd.logged_in as f64)
        }
        _ => None,
    };
    let login_s = crowd.took.as_secs_f64();
    let logins_per_s = crowd.logged_in as f64 / login_s.max(1e-9);
    let own = proc_stats::memory(std::process::id());
    let report = serde_json::json!({
        "scenario": "idle",
        "connections": args.connections,
        "logged_in": crowd.logged_in,
        "failed": crowd.failed,
        "first_error": crowd.first_error,
        "dropped_while_idle": dropped,
        "open_at_end": open,
        "fd_limit": fds.json(),
        "register_s": registering.as_secs_f64(),
        "login_s": login_s,
        "logins_per_s": logins_per_s,
        "login_ms": crowd.login_times.json(),
        "hold_s": args.hold_secs,
        "server_rss_fresh_kib": fresh.map(|m| m.now_kib),
        "server_rss_before_kib": before.map(|m| m.now_kib),
        "server_rss_logged_in_kib": logged_in_rss.map(|m| m.now_kib),
        "server_rss_after_kib": after.map(|m| m.now_kib),
        "server_rss_per_connection_kib": per_conn,
        "server_peak_rss_kib": after.map(|m| m.peak_kib),
        "server_cpu_login_s": cpu_login,
        "bench_cpu_login_s": own_cpu_login,
        "bench_peak_rss_kib": own.map(|m| m.peak_kib),
    });
    if args.json {
        println!("{report}");
        if let Some(w) = fds.warning() {
            eprintln!("warning: {w}");
        }
        return Ok(());
    }
    let mib = |k: Option<u64>| {
        k.map_or_else(
            || "n/a".to_owned(),
            |k| format!("{:.1} MiB", k as f64 / 1024.0),
        )
    };
    println!(
        "idle benchmark: {} connections, {} logged in, {} failed",
        args.connections, crowd.logged_in, crowd.failed
    );
    if let Some(e) = &crowd.first_error {
        println!("  first failure: {e}");
    }
    if let Some(w) = fds.warning() {
        println!("  WARNING: {w}");
    }
    println!(
        "  registering (not measured)  {:8.2} s",
        registering.as_secs_f64()
    );
    println!(
        "  logging all in              {login_s:8.2} s  = {logins_per_s:.0} logins/s, {} at a time",
        args.parallel
    );
    println!("  one login                   {}", crowd.login_times.line());
    println!(
        "  server RSS fresh {}, before the connections {}, all logged in {}, after {} s idle {}",
        mib(fresh.map(|m| m.now_kib)),
        mib(before.map(|m| m.now_kib)),
        mib(logged_in_rss.map(|m| m.now_kib)),
        args.hold_secs,
        mib(after.map(|m| m.now_kib)),
    );
    println!(
        "  server RSS per connection   {}  (target <= 16 KiB)",
        per_conn.map_or_else(|| "n/a".into(), |k| format!("{k:8.2} KiB"))
    );
    let secs = |c: Option<f64>| c.map_or_else(|| "n/a".into(), |c| format!("{c:.1} s"));
    println!(
        "  server peak RSS {}; CPU while logging in: server {}, benchmark {}",
        mib(after.map(|m| m.peak_kib)),
        secs(cpu_login),
        secs(own_cpu_login)
    );
    println!("  dropped while idle {dropped}, still open at the end {open}");
    println!("  benchmark peak RSS {}", mib(own.map(|m| m.peak_kib)));
    Ok(())
}
