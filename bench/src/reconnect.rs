//! The `reconnect` scenario: C clients logged in, each keeping the resume
//! token of its `login_ok`; the server is stopped gracefully (SIGTERM) and
//! started again on the same port and data directory; every client notices its
//! connection end and reconnects with `resume`, retrying with a short backoff
//! while the port is not listening yet. Reports the time from the restart
//! command until every client has its `login_ok` again.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::crowd::{self, Conn, Held};
use crate::percentiles::Samples;
use crate::proc_stats;
use crate::server::Target;

/// Flags of `chatroom-bench reconnect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Clients logged in when the server restarts.
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// Logins in flight at once while connecting them (before the restart).
    #[arg(long, default_value_t = 64)]
    parallel: usize,
    /// Connections registering the accounts at once (not measured).
    #[arg(long, default_value_t = 8)]
    register_workers: usize,
    /// Longest wait between two reconnect attempts of one client, in
    /// milliseconds (the backoff starts at 10 ms and doubles up to this).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(10..=10_000))]
    max_backoff_ms: u64,
    /// Seconds a client keeps trying before it counts as failed.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=600))]
    give_up_secs: u64,
    /// The server binary to start (default: chatroom-server next to this
    /// binary). This scenario always starts its own server: it must restart it.
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Database URL for the started server (default: SQLite in a fresh directory).
    #[arg(long)]
    database_url: Option<String>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// Longest the logins before the restart may take.
const LOGIN_LIMIT: Duration = Duration::from_secs(600);

/// What happened to one client after the restart.
enum Back {
    /// Logged in again with its token at this moment, after this many attempts.
    At(Instant, u32),
    /// Gave up (or its connection never ended), with why.
    Failed(String),
}

/// Wait for the connection to end, then reconnect with `resume` until it works
/// or `give_up` passes; report the outcome on `back`, then hold the new
/// connection until `stop`.
async fn client(
    conn: Conn,
    token: String,
    addr: SocketAddr,
    backoff_limit: Duration,
    give_up: Duration,
    back: mpsc::Sender<Back>,
    stop: CancellationToken,
) {
    if let Held::Open { .. } = conn.hold(stop.clone()).await {
        let _ = back
            .send(Back::Failed("the connection never ended".into()))
            .await;
        return;
    }
    let dropped = Instant::now();
    let mut wait = Duration::from_millis(10);
    let mut attempts = 0u32;
    let conn = loop {
        attempts += 1;
        let attempt = async {
            let mut conn = Conn::greet(addr).await?;
            conn.resume(&token).await?;
            anyhow::Ok(conn)
        };
        match attempt.await {
            Ok(conn) => break conn,
            Err(e) if dropped.elapsed() + wait > give_up => {
                let why = format!("gave up after {attempts} attempt(s): {e:#}");
                let _ = back.send(Back::Failed(why)).await;
                return;
            }
            Err(_) => {
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(wait) => {}
                }
                wait = (wait * 2).min(backoff_limit);
            }
        }
    };
    let _ = back.send(Back::At(Instant::now(), attempts)).await;
    drop(conn.hold(stop).await);
}

/// Run the scenario and print its figures.
pub async fn run(args: Args) -> anyhow::Result<()> {
    if args.clients == 0 {
        bail!("--clients must be at least 1");
    }
    let fds = crowd::raise_fd_limit(args.clients);
    let mut target = Target::spawn(args.server_bin.clone(), args.database_url.as_deref())?;
    let addr = target.addr;
    let tag = std::process::id();
    let names: Vec<String> = (0..args.clients).map(|i| format!("r{tag}x{i}")).collect();
    let registering = crowd::register_all(addr, &names, args.register_workers)
        .await
        .context("registering the accounts")?;

    let stop = CancellationToken::new();
    let (back_tx, mut back_rx) = mpsc::channel(args.clients);
    let (holding, backoff_limit, give_up) = (
        stop.clone(),
        Duration::from_millis(args.max_backoff_ms),
        Duration::from_secs(args.give_up_secs),
    );
    let crowd = crowd::log_in_all(
        addr,
        names,
        args.parallel,
        LOGIN_LIMIT,
        move |conn, token| {
            client(
                conn,
                token,
                addr,
                backoff_limit,
                give_up,
                back_tx.clone(),
                holding.clone(),
            )
        },
    )
    .await;
    if crowd.logged_in == 0 {
        bail!(
            "no client logged in: {}",
            crowd.first_error.unwrap_or_default()
        );
    }
    // Settle: the last logins' announcements reach everyone.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let restart_at = Instant::now();
    let (target, restarted) = tokio::task::spawn_blocking(move || {
        let r = target.restart();
        (target, r)
    })
    .await?;
    let restarted = restarted.context("restarting the server")?;

    let mut times = Samples::default();
    let mut last = Duration::ZERO;
    let mut attempts = 0u64;
    let mut failed = 0usize;
    let mut first_failure = None;
    let deadline = tokio::time::sleep(give_up + Duration::from_secs(10));
    tokio::pin!(deadline);
    while times.len() + failed < crowd.logged_in {
        tokio::select! {
            () = &mut deadline => break,
            outcome = back_rx.recv() => match outcome {
                Some(Back::At(at, n)) => {
                    let took = at.saturating_duration_since(restart_at);
                    last = last.max(took);
                    times.push(took);
                    attempts += u64::from(n);
                }
                Some(Back::Failed(why)) => {
                    failed += 1;
                    first_failure.get_or_insert(why);
                }
                None => break,
            },
        }
    }
    // The new process's CPU time from its start until everyone is back.
    let cpu = target.pid.and_then(proc_stats::cpu_seconds);
    let missing = crowd.logged_in - times.len() - failed;
    if missing > 0 {
        failed += missing;
        first_failure.get_or_insert(format!("{missing} client(s) not back in time"));
    }
    stop.cancel();
    drop(target);
    drop(crowd::join_all(crowd.tasks, Duration::from_secs(30)).await);

    let back = times.len();
    let report = serde_json::json!({
        "scenario": "reconnect",
        "clients": args.clients,
        "logged_in": crowd.logged_in,
        "login_failed": crowd.failed,
        "back": back,
        "failed": failed,
        "first_failure": first_failure,
        "fd_limit": fds.json(),
        "register_s": registering.as_secs_f64(),
        "login_s": crowd.took.as_secs_f64(),
        "server_stop_s": restarted.stopped.as_secs_f64(),
        "server_listening_s": restarted.listening.as_secs_f64(),
        "first_back_s": times.ms(0.0) / 1000.0,
        "all_back_s": last.as_secs_f64(),
        "back_ms": times.json(),
        "attempts_per_client": attempts as f64 / back.max(1) as f64,
        "server_cpu_after_restart_s": cpu,
    });
    if args.json {
        println!("{report}");
        if let Some(w) = fds.warning() {
            eprintln!("warning: {w}");
        }
        return Ok(());
    }
    println!(
        "reconnect benchmark: {} clients logged in ({} failed to), server restarted under them",
        crowd.logged_in, crowd.failed
    );
    if let Some(w) = fds.warning() {
        println!("  WARNING: {w}");
    }
    println!(
        "  registering, logging in (not measured) {:.2} s, {:.2} s",
        registering.as_secs_f64(),
        crowd.took.as_secs_f64()
    );
    println!(
        "  server stop (SIGTERM to exit) {:7.3} s, start (to listening) {:7.3} s, first client back {:7.3} s",
        restarted.stopped.as_secs_f64(),
        restarted.listening.as_secs_f64(),
        times.ms(0.0) / 1000.0
    );
    println!(
        "  all back after               {:7.3} s  (target <= 5 s at 1,000 and at 10,000 users)",
        last.as_secs_f64()
    );
    println!("  one client back after        {}", times.line());
    println!(
        "  back {back}, failed {failed}, {:.1} attempts per client; new server's CPU until then {}",
        attempts as f64 / back.max(1) as f64,
        cpu.map_or_else(|| "n/a".into(), |c| format!("{c:.2} s"))
    );
    if let Some(why) = &first_failure {
        println!("  first failure: {why}");
    }
    Ok(())
}
