//! The `logins` scenario: a storm of L simultaneous logins (connect, hello,
//! login with the password, so the server runs bcrypt L times) while two other
//! users chat. Reports logins/s and how much the storm disturbs the chat: the
//! chatters' latency in a calm phase before the storm and during it.

use std::time::Duration;

use anyhow::{Context, bail};
use tokio_util::sync::CancellationToken;

use crate::chatters::Chat;
use crate::crowd;
use crate::proc_stats;
use crate::server::ServerArgs;

/// Flags of `chatroom-bench logins`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Logins in the storm, all started at once.
    #[arg(long, default_value_t = 200)]
    logins: usize,
    /// bcrypt cost of a started server (10 is the server's default; a running
    /// server uses its own).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(4..=31))]
    bcrypt_cost: u32,
    /// Seconds of chat before the storm: the baseline (about as long as a
    /// storm of 200 at cost 10, so both p99s rest on as many samples).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    baseline_secs: u64,
    /// Milliseconds between the chatter's messages.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    chat_interval_ms: u64,
    /// Connections registering the storm's accounts at once (not measured).
    #[arg(long, default_value_t = 8)]
    register_workers: usize,
    /// The server to measure.
    #[command(flatten)]
    server: ServerArgs,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// Longest the storm may take.
const STORM_LIMIT: Duration = Duration::from_secs(600);

/// Run the scenario and print its figures.
pub async fn run(args: Args) -> anyhow::Result<()> {
    if args.logins == 0 {
        bail!("--logins must be at least 1");
    }
    let fds = crowd::raise_fd_limit(args.logins);
    let cost = args.bcrypt_cost.to_string();
    args.server.one_node()?;
    let target = args.server.target_with(&["--bcrypt-cost", &cost]).await?;
    let addr = target.addr;
    let tag = std::process::id().to_string();
    let names: Vec<String> = (0..args.logins).map(|i| format!("l{tag}x{i}")).collect();
    let registering = crowd::register_all(addr, &names, args.register_workers)
        .await
        .context("registering the accounts")?;

    let chat = Chat::start(addr, &tag, Duration::from_millis(args.chat_interval_ms)).await?;
    tokio::time::sleep(Duration::from_secs(args.baseline_secs)).await;

    let cpu_before = target.pid.and_then(proc_stats::cpu_seconds);
    let storm_start = chat.now();
    let stop = CancellationToken::new();
    let holding = stop.clone();
    // Everyone at once: as many in flight as there are logins.
    let crowd = crowd::log_in_all(addr, names, args.logins, STORM_LIMIT, move |conn, _| {
        conn.hold(holding.clone())
    })
    .await;
    let storm_end = chat.now();
    let cpu = match (cpu_before, target.pid.and_then(proc_stats::cpu_seconds)) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let samples = chat.finish().await?;
    stop.cancel();
    drop(target);
    drop(crowd::join_all(crowd.tasks, Duration::from_secs(30)).await);

    let (ack_base, base) = samples.sent_between(0, storm_start);
    let (ack_storm, storm) = samples.sent_between(storm_start, storm_end);
    let storm_s = crowd.took.as_secs_f64();
    let logins_per_s = crowd.logged_in as f64 / storm_s.max(1e-9);
    let ratio = storm.ms(0.99) / base.ms(0.99);
    let ack_ratio = ack_storm.ms(0.99) / ack_base.ms(0.99);
    let report = serde_json::json!({
        "scenario": "logins",
        "logins": args.logins,
        "bcrypt_cost": args.server.addr.is_none().then_some(args.bcrypt_cost),
        "logged_in": crowd.logged_in,
        "failed": crowd.failed,
        "first_error": crowd.first_error,
        "fd_limit": fds.json(),
        "register_s": registering.as_secs_f64(),
        "storm_s": storm_s,
        "logins_per_s": logins_per_s,
        "login_ms": crowd.login_times.json(),
        "chat_delivery_baseline_ms": base.json(),
        "chat_delivery_storm_ms": storm.json(),
        "chat_delivery_p99_ratio": ratio,
        "chat_ack_baseline_ms": ack_base.json(),
        "chat_ack_storm_ms": ack_storm.json(),
        "chat_ack_p99_ratio": ack_ratio,
        "server_cpu_storm_s": cpu,
    });
    if args.json {
        println!("{report}");
        if let Some(w) = fds.warning() {
            eprintln!("warning: {w}");
        }
        return Ok(());
    }
    let cost = if args.server.addr.is_none() {
        format!("bcrypt cost {}", args.bcrypt_cost)
    } else {
        "the running server's bcrypt cost".to_owned()
    };
    println!(
        "logins benchmark: {} simultaneous logins at {cost}, {} logged in, {} failed",
        args.logins, crowd.logged_in, crowd.failed
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
    println!("  storm                       {storm_s:8.2} s  = {logins_per_s:.1} logins/s");
    println!("  one login                   {}", crowd.login_times.line());
    println!("  chat delivery, baseline     {}", base.line());
    println!("  chat delivery, storm        {}", storm.line());
    println!("  p99 storm / baseline        {ratio:8.2}  (target <= 2)");
    println!("  chat ack, baseline          {}", ack_base.line());
    println!("  chat ack, storm             {}", ack_storm.line());
    println!("  ack p99 storm / baseline    {ack_ratio:8.2}");
    println!(
        "  server CPU during the storm {}",
        cpu.map_or_else(|| "n/a".into(), |c| format!("{c:.1} s"))
    );
    Ok(())
}
