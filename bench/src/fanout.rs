//! The `fanout` scenario: N clients in the main room, K of them sending, either
//! flat out (each sender keeps a bounded window of messages not yet
//! acknowledged) or open-loop at a fixed total rate. Every client records the
//! latency from send to its delivery (the send time is inside each message).
//! Reported beside the raw loopback fan-out `limit` for the same N, measured in
//! the same run.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;

use crate::limit::{self, Limit};
use crate::load::{self, Crowd, Shared};
use crate::proc_stats;
use crate::report::{self, CpuWindow, Summary};
use crate::sender::{self, Pace};
use crate::server::ServerArgs;

/// Flags of `chatroom-bench fanout`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Clients logged into the main room (senders included).
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// How many of them send.
    #[arg(long, default_value_t = 10)]
    senders: usize,
    /// Seconds of sending.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Flat out: messages each sender may have sent and not yet had acknowledged.
    #[arg(long, default_value_t = 64)]
    window: usize,
    /// Open loop instead: total messages per second offered, spread over the
    /// senders, sent on a timer whatever the acks.
    #[arg(long)]
    rate: Option<f64>,
    /// Most seconds to wait, after sending stops, for the last acks and deliveries.
    #[arg(long, default_value_t = 15.0)]
    drain_seconds: f64,
    /// Logins in flight at once.
    #[arg(long, default_value_t = 64)]
    login_parallel: usize,
    /// Skip measuring the raw loopback fan-out limit.
    #[arg(long)]
    no_limit: bool,
    /// Seconds to measure the limit (default: as long as the sending, at most 5).
    #[arg(long)]
    limit_seconds: Option<f64>,
    /// Frames per write call of the limit's writer.
    #[arg(long, default_value_t = limit::FRAMES_PER_WRITE)]
    limit_frames_per_write: usize,
    /// The server to measure.
    #[command(flatten)]
    server: ServerArgs,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// Run the scenario and print its figures.
pub async fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.clients >= 2, "fanout needs at least 2 clients");
    anyhow::ensure!(
        (1..=args.clients).contains(&args.senders),
        "--senders must be from 1 to --clients"
    );
    anyhow::ensure!(
        args.seconds > 0.0 && args.seconds <= 3600.0,
        "--seconds must be in (0, 3600]"
    );
    anyhow::ensure!(args.rate.is_none_or(|r| r > 0.0), "--rate must be positive");
    let seconds = Duration::from_secs_f64(args.seconds);
    let limit = if args.no_limit {
        None
    } else {
        let d = args.limit_seconds.unwrap_or(args.seconds.min(5.0)).max(0.1);
        Some(
            limit::measure(
                args.clients,
                Duration::from_secs_f64(d),
                args.limit_frames_per_write,
                false,
            )
            .await
            .context("measuring the raw fan-out limit")?,
        )
    };
    let mut target = args.server.target().await?;

    let shared = Shared::new();
    let login_start = Instant::now();
    let mut crowd = Crowd::gather(
        &target.addrs,
        &load::name_prefix("f"),
        args.clients,
        args.senders,
        args.login_parallel,
        &shared,
    )
    .await
    .context("logging in the clients")?;
    let login = login_start.elapsed();
    // Let the presence events of the last logins reach everyone first.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let cpu = CpuWindow::start(&target.pids);
    let start = Instant::now();
    let until = start + seconds;
    let k = args.senders as f64;
    let pace = |i: usize| match args.rate {
        None => Pace::Window(args.window.max(1)),
        Some(rate) => Pace::Rate {
            per_second: rate / k,
            offset: Duration::from_secs_f64(i as f64 / rate),
        },
    };
    crowd.senders = sender::run_all(std::mem::take(&mut crowd.senders), pace, until, &shared)
        .await
        .with_context(|| shared.drops())?;
    let took = start.elapsed();
    let cpu = cpu.stop();
    let delivered_in_window = shared.delivered.load(Ordering::Relaxed);
    let acked_in_window = shared.acked.load(Ordering::Relaxed);

    let receivers = args.clients as u64 - 1;
    let drained = load::wait_for(Duration::from_secs_f64(args.drain_seconds.max(0.0)), || {
        crowd.pending() == 0
            && shared.delivered.load(Ordering::Relaxed)
                >= shared.acked.load(Ordering::Relaxed) * receivers
    })
    .await;
    let (memory, peaks_per_node) = target.memory_reading();
    let exited = target.exited();
    let mut acks = report::latency()?;
    for s in &crowd.senders {
        acks.add(s.outstanding.take_acks()?)?;
    }
    let totals = crowd.finish().await?;

    let secs = took.as_secs_f64().max(1e-9);
    let sent = shared.sent.load(Ordering::Relaxed);
    let acked = shared.acked.load(Ordering::Relaxed);
    let expected = acked * receivers;
    let lost = expected as i64 - totals.messages as i64;
    let deliveries_per_s = delivered_in_window as f64 / secs;
    let pct_of_limit = limit
        .as_ref()
        .map(|l| 100.0 * deliveries_per_s / l.deliveries_per_s);
    let latency = Summary::of(&totals.latency);
    let ack_latency = Summary::of(&acks);
    let first_error = shared.first_error.lock().ok().and_then(|e| e.clone());
    let report = json!({
        "scenario": "fanout",
        "mode": if args.rate.is_some() { "rate" } else { "flat" },
        "nodes": target.addrs.len(),
        "clients": args.clients,
        "senders": args.senders,
        "window": args.rate.is_none().then_some(args.window),
        "offered_msgs_per_s": args.rate,
        "seconds": secs,
        "login_s": login.as_secs_f64(),
        "messages_sent": sent,
        "messages_acked": acked,
        "messages_unacked": sent - acked.min(sent),
        "msgs_in_per_s": acked_in_window as f64 / secs,
        "deliveries_per_s": deliveries_per_s,
        "deliveries_per_read": totals.messages as f64 / shared.reads.load(Ordering::Relaxed).max(1) as f64,
        "deliveries_expected": expected,
        "deliveries_received": totals.messages,
        "lost": lost,
        "drained": drained,
        "disconnected": totals.closed,
        "errors": shared.errors.load(Ordering::Relaxed),
        "first_error": first_error,
        "dropped_too_slow": shared.too_slow(),
        "latency_ms": latency.json(),
        "ack_latency_ms": ack_latency.json(),
        "server_cpu_s": cpu.server_s,
        "server_peak_rss_kib": memory.map(|m| m.peak_kib),
        "server_rss_kib": memory.map(|m| m.now_kib),
        "server_peak_rss_kib_per_node": peaks_per_node,
        "servers_exited": exited,
        "bench_cpu_s": cpu.bench_s,
        "bench_peak_rss_kib": proc_stats::memory(std::process::id()).map(|m| m.peak_kib),
        "cpu": cpu.json(),
        "saturated": cpu.verdict(),
        "limit": limit.as_ref().map(Limit::json),
        "pct_of_limit": pct_of_limit,
    });
    if args.json {
        println!("{report}");
        return Ok(());
    }
    print_table(&args, &report, limit.as_ref(), &latency, &ack_latency, &cpu);
    Ok(())
}

fn print_table(
    args: &Args,
    r: &serde_json::Value,
    limit: Option<&Limit>,
    latency: &Summary,
    acks: &Summary,
    cpu: &report::CpuUse,
) {
    let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
    let u = |k: &str| r[k].as_u64().unwrap_or(0);
    let mode = match args.rate {
        Some(rate) => format!("open loop at {rate:.0} msg/s offered"),
        None => format!("flat out, window {}", args.window),
    };
    println!(
        "fanout: {} clients in the main room, {} senders, {mode}, {:.1} s (logins took {:.1} s){}",
        args.clients,
        args.senders,
        f("seconds"),
        f("login_s"),
        report::nodes_text(u("nodes") as usize)
    );
    if let Some(l) = limit {
        println!(
            "  raw fan-out limit       {:12.0} deliveries/s  ({} sockets, {} frames per write)",
            l.deliveries_per_s, l.clients, l.frames_per_write
        );
    }
    let pct = r["pct_of_limit"]
        .as_f64()
        .map_or_else(String::new, |p| format!("  {p:.1} % of the limit"));
    println!(
        "  deliveries              {:12.0} /s{pct}",
        f("deliveries_per_s")
    );
    println!("  messages in (acked)     {:12.0} /s", f("msgs_in_per_s"));
    println!(
        "  messages per read call  {:12.1}     (the limit writes {} per call)",
        f("deliveries_per_read"),
        args.limit_frames_per_write
    );
    println!("  delivery latency  {}", latency.line());
    println!("  ack latency       {}", acks.line());
    println!(
        "  lost {} of {} expected deliveries ({}; {} unacked, {} disconnected, {} errors)",
        r["lost"],
        u("deliveries_expected"),
        if r["drained"] == true {
            "drained"
        } else {
            "drain timed out"
        },
        u("messages_unacked"),
        u("disconnected"),
        u("errors")
    );
    if let Some(e) = r["first_error"].as_str() {
        println!("  first error: {e}");
    }
    if let Some(slow) = r["dropped_too_slow"].as_array().filter(|s| !s.is_empty()) {
        println!("  dropped by the server as too slow: {slow:?}");
    }
    if let Some(gone) = r["servers_exited"].as_array().filter(|g| !g.is_empty()) {
        println!("  servers that exited during the run: {gone:?}");
    }
    let rss = r["server_peak_rss_kib"]
        .as_u64()
        .map_or_else(|| "n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
    let peaks: Vec<u64> = r["server_peak_rss_kib_per_node"]
        .as_array()
        .map(|a| a.iter().filter_map(serde_json::Value::as_u64).collect())
        .unwrap_or_default();
    let per_node = report::per_node_rss(&peaks);
    println!("  {}; server peak RSS {rss}{per_node}", cpu.line());
    println!("  saturated: {}", cpu.verdict());
}
