//! The `store` scenario: durable acknowledged messages per second. C senders,
//! the only clients, send flat out with a bounded window of unacknowledged
//! messages; a `say_ok` means the message is stored (group commit), so the
//! acked rate is the durable store rate. Then, in the same run, an open-loop
//! phase offers half the measured rate and reports the ack latency there.
//! Every message is also delivered to the C − 1 other senders. Last, with the
//! servers stopped, the raw phase ([`crate::store_raw`]) inserts the same rows
//! into the same database without them, on 1 and 4 connections
//! (`--raw-connections`), and the flat-out acked rate is printed as a ratio of
//! each raw rate.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

use chatroom_shared::message::Target;

use crate::load::{self, Crowd, Shared};
use crate::report::{self, CpuUse, CpuWindow, Summary};
use crate::sender::{self, Pace};
use crate::server::ServerArgs;
use crate::store_raw::{self, Raw};

/// Flags of `chatroom-bench store`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Senders (the only clients).
    #[arg(long, default_value_t = 10)]
    senders: usize,
    /// Seconds of each phase (flat out, then open loop at half its rate).
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Messages each sender may have sent and not yet had acknowledged.
    #[arg(long, default_value_t = 64)]
    window: usize,
    /// Most seconds to wait after each phase for its last acks.
    #[arg(long, default_value_t = 15.0)]
    drain_seconds: f64,
    /// Connections of the raw phase (the same rows into the same database
    /// without the server), one run of `--seconds` for each count.
    #[arg(long, value_delimiter = ',', default_values_t = [1usize, 4])]
    raw_connections: Vec<usize>,
    /// Skip the raw phase.
    #[arg(long)]
    no_raw: bool,
    /// Where the senders write: all in the main room, or each to a direct
    /// conversation of its own (with the sender `--nodes` places further on,
    /// so on the same node; it receives each message once).
    #[arg(long, value_enum, default_value_t = Conversations::Room)]
    conversations: Conversations,
    /// The server to measure.
    #[command(flatten)]
    server: ServerArgs,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// Where the senders of `store` write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Conversations {
    /// Everyone in the main room: one conversation.
    Room,
    /// Each sender to a direct conversation of its own.
    Pairs,
}

/// What one phase measured.
struct Phase {
    took: Duration,
    acked: u64,
    acks: Summary,
    cpu: CpuUse,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.acked as f64 / self.took.as_secs_f64().max(1e-9)
    }

    fn json(&self, offered: Option<f64>) -> Value {
        json!({
            "seconds": self.took.as_secs_f64(),
            "offered_msgs_per_s": offered,
            "messages_acked": self.acked,
            "acked_msgs_per_s": self.rate(),
            "ack_latency_ms": self.acks.json(),
            "cpu": self.cpu.json(),
        })
    }
}

/// Send with every sender paced by `pace(i)` for `seconds`, then wait up to
/// `drain` for the outstanding acks.
async fn phase(
    crowd: &mut Crowd,
    shared: &Arc<Shared>,
    pids: &[u32],
    seconds: Duration,
    drain: Duration,
    pace: impl Fn(usize) -> Pace,
) -> anyhow::Result<Phase> {
    let acked_before = shared.acked.load(Ordering::Relaxed);
    let cpu = CpuWindow::start(pids);
    let start = Instant::now();
    let until = start + seconds;
    crowd.senders = sender::run_all(std::mem::take(&mut crowd.senders), pace, until, shared)
        .await
        .with_context(|| shared.drops())?;
    let took = start.elapsed();
    let acked = shared.acked.load(Ordering::Relaxed) - acked_before;
    let cpu = cpu.stop();
    load::wait_for(drain, || crowd.pending() == 0).await;
    let mut acks = report::latency()?;
    for s in &crowd.senders {
        acks.add(s.outstanding.take_acks()?)?;
    }
    Ok(Phase {
        took,
        acked,
        acks: Summary::of(&acks),
        cpu,
    })
}

/// Run the scenario and print its figures.
pub async fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.senders >= 1, "--senders must be at least 1");
    anyhow::ensure!(
        args.seconds > 0.0 && args.seconds <= 3600.0,
        "--seconds must be in (0, 3600]"
    );
    anyhow::ensure!(
        args.no_raw
            || (!args.raw_connections.is_empty()
                && args.raw_connections.iter().all(|n| (1..=64).contains(n))),
        "--raw-connections must be counts from 1 to 64"
    );
    let mut target = args.server.target().await?;
    let database = match (&args.server.addr, &args.server.database_url) {
        (Some(_), _) => "the running server's",
        (None, Some(_)) if args.server.database_as_is => "the given --database-url, as it is",
        (None, Some(_)) => "a fresh database on the --database-url's server",
        (None, None) => "SQLite (fresh directory)",
    };
    let shared = Shared::new();
    let prefix = load::name_prefix("s");
    let mut crowd = Crowd::gather(
        &target.addrs,
        &prefix,
        args.senders,
        args.senders,
        64,
        &shared,
    )
    .await
    .context("logging in the senders")?;
    let nodes = target.addrs.len();
    if args.conversations == Conversations::Pairs {
        anyhow::ensure!(
            args.senders > nodes,
            "--conversations pairs needs more senders than nodes"
        );
        for s in &mut crowd.senders {
            let peer = (s.index + nodes) % args.senders;
            s.to = Target::User {
                user: format!("{prefix}{peer}"),
            };
        }
    }
    let seconds = Duration::from_secs_f64(args.seconds);
    let drain = Duration::from_secs_f64(args.drain_seconds.max(0.0));
    let window = args.window.max(1);

    let flat = phase(&mut crowd, &shared, &target.pids, seconds, drain, |_| {
        Pace::Window(window)
    })
    .await
    .context("flat-out phase")?;
    let half = flat.rate() / 2.0;
    let k = args.senders as f64;
    let open = if half > 0.0 {
        Some(
            phase(&mut crowd, &shared, &target.pids, seconds, drain, |i| {
                Pace::Rate {
                    per_second: half / k,
                    offset: Duration::from_secs_f64(i as f64 / half),
                }
            })
            .await
            .context("open-loop phase")?,
        )
    } else {
        None
    };

    let others = match args.conversations {
        Conversations::Room => args.senders as u64 - 1,
        Conversations::Pairs => 1,
    };
    let drained = load::wait_for(drain, || {
        shared.delivered.load(Ordering::Relaxed) >= shared.acked.load(Ordering::Relaxed) * others
    })
    .await;
    let (memory, peaks_per_node) = target.memory_reading();
    let exited = target.exited();
    let totals = crowd.finish().await?;
    let raw = match target.database() {
        Some(database) if !args.no_raw => {
            target
                .stop()
                .context("stopping the servers before the raw phase")?;
            Some(
                store_raw::measure(&database, &args.raw_connections, seconds)
                    .await
                    .context("raw phase")?,
            )
        }
        _ => None,
    };
    let raw_skipped = if args.no_raw {
        "--no-raw"
    } else {
        "a running server's database is unknown"
    };
    let first_raw = raw.as_ref().and_then(|r| r.runs.first());
    let sent = shared.sent.load(Ordering::Relaxed);
    let acked = shared.acked.load(Ordering::Relaxed);
    let expected = acked * others;
    let first_error = shared.first_error.lock().ok().and_then(|e| e.clone());
    let report = json!({
        "scenario": "store",
        "database": database,
        "nodes": target.addrs.len(),
        "senders": args.senders,
        "conversations": match args.conversations {
            Conversations::Room => "room",
            Conversations::Pairs => "pairs",
        },
        "window": window,
        "node_cpus": args.server.node_cpus,
        "deliveries_per_message": others,
        "flat": flat.json(None),
        "open": open.as_ref().map(|p| p.json(Some(half))),
        "acked_msgs_per_s": flat.rate(),
        "ack_p99_ms_at_half_rate": open.as_ref().map(|p| p.acks.p99).filter(|v| v.is_finite()),
        "raw": raw.as_ref().map(|r| r.json(flat.rate())),
        "raw_skipped": raw.is_none().then_some(raw_skipped),
        "raw_rows_per_s": first_raw.map(store_raw::RawRun::rate),
        "acked_over_raw": first_raw.map(|r| r.ratio(flat.rate())),
        "messages_sent": sent,
        "messages_acked": acked,
        "messages_unacked": sent - acked.min(sent),
        "deliveries_expected": expected,
        "deliveries_received": totals.messages,
        "lost": expected as i64 - totals.messages as i64,
        "drained": drained,
        "disconnected": totals.closed,
        "errors": shared.errors.load(Ordering::Relaxed),
        "first_error": first_error,
        "dropped_too_slow": shared.too_slow(),
        "server_peak_rss_kib": memory.map(|m| m.peak_kib),
        "server_peak_rss_kib_per_node": peaks_per_node,
        "servers_exited": &exited,
    });
    if args.json {
        println!("{report}");
        return Ok(());
    }
    println!(
        "store: {} senders (the only clients; {}), window {window}, database: {database}{}",
        args.senders,
        match args.conversations {
            Conversations::Room =>
                format!("in the room, each message also goes to the {others} others"),
            Conversations::Pairs =>
                "each to a direct conversation of its own, read by its peer".to_owned(),
        },
        report::nodes_text(target.addrs.len())
    );
    if let Some(cores) = args.server.node_cpus {
        println!("  each server held to {cores} cores (--node-cpus)");
    }
    println!(
        "  flat out      {:10.0} acked msg/s over {:.1} s   ack {}",
        flat.rate(),
        flat.took.as_secs_f64(),
        flat.acks.line()
    );
    println!("                {}", flat.cpu.line());
    println!("                saturated: {}", flat.cpu.verdict());
    if let Some(open) = &open {
        println!(
            "  open loop     {:10.0} acked msg/s of {half:.0} offered   ack {}",
            open.rate(),
            open.acks.line()
        );
        println!("                {}", open.cpu.line());
    }
    match &raw {
        Some(raw) => print_raw(raw, flat.rate()),
        None => println!("  raw database  skipped ({raw_skipped})"),
    }
    println!(
        "  lost {} of {expected} deliveries to the others ({}), {} unacked, {} disconnected, {} errors",
        expected as i64 - totals.messages as i64,
        if drained {
            "drained"
        } else {
            "drain timed out"
        },
        sent - acked.min(sent),
        totals.closed,
        shared.errors.load(Ordering::Relaxed)
    );
    if let Some(e) = shared.first_error.lock().ok().and_then(|e| e.clone()) {
        println!("  first error: {e}");
    }
    let slow = shared.too_slow();
    if !slow.is_empty() {
        println!("  dropped by the server as too slow: {slow:?}");
    }
    if !exited.is_empty() {
        println!("  servers that exited during the run: {exited:?}");
    }
    if let Some(m) = memory {
        println!(
            "  server peak RSS {:.1} MiB{}",
            m.peak_kib as f64 / 1024.0,
            report::per_node_rss(peaks_per_node.as_deref().unwrap_or_default())
        );
    }
    Ok(())
}

/// The raw phase's lines: each count of connections, its rate and the
/// server's flat-out rate over it.
fn print_raw(raw: &Raw, server_rate: f64) {
    println!(
        "  raw database  the same rows, same database, no server: batches of {} rows as the writer commits them{}",
        raw.batch,
        if raw.deleted { " (deleted after)" } else { "" }
    );
    for r in &raw.runs {
        println!(
            "    {:>2} conn.    {:10.0} rows/s over {:.1} s   acked/raw {:.4}   ({})",
            r.connections,
            r.rate(),
            r.took.as_secs_f64(),
            r.ratio(server_rate),
            r.cpu_text()
        );
    }
}
