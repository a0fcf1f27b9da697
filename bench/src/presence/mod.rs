//! The `presence` scenario (issue 18 §3): N users log in at once and each
//! reads everything it is sent, while two others chat. Reports the time until
//! all are online (the last `login_ok`) and until all are online and chatting
//! (a message said after the last login has reached every one), the size of
//! `login_ok`, what each user received by type, the server's CPU and memory,
//! and the chat's latency before and during the storm.
//!
//! A share of the users (`--watchers`) watch the first page of the online
//! list, as a terminal client with the online pane on screen does; the rest
//! are like version-1 clients. With `--idle` nobody chats: all log in, are
//! held, and the server's memory per user is read (the 100,000 figure).
//! Beyond one address's ephemeral ports the users connect from several
//! loopback addresses (127.0.0.2, ...), in turn.

mod marker;
mod member;
mod report;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::chatters::Chat;
use crate::crowd;
use crate::percentiles::Samples;
use crate::proc_stats;
use crate::server::ServerArgs;
use marker::Marker;
use member::{Plan, Seen};
use report::{BcryptFloor, Figures};

/// Flags of `chatroom-bench presence`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Users logging in at once.
    #[arg(long, default_value_t = 1000)]
    users: usize,
    /// The share of users (0 to 1) that send `watch_users {limit: 100}` right
    /// after `login_ok`, as a terminal client with the online pane on screen.
    #[arg(long, default_value_t = 1.0)]
    watchers: f64,
    /// Logins in flight at once (0: all at once).
    #[arg(long, default_value_t = 0)]
    parallel: usize,
    /// bcrypt cost of a started server: low, since bcrypt is not what this
    /// measures (`logins` does).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(4..=31))]
    bcrypt_cost: u32,
    /// A started server's `--presence-broadcast-max` (its own default without).
    #[arg(long)]
    presence_broadcast_max: Option<usize>,
    /// Nobody chats: log everyone in, hold them `--hold-secs`, and read the
    /// server's memory per user.
    #[arg(long)]
    idle: bool,
    /// Seconds to hold everyone once all are online and chatting, before
    /// memory is read (default: 10 with `--idle`, else 1, past a presence tick).
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=600))]
    hold_secs: Option<u64>,
    /// Seconds of chat before the storm: the baseline.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=600))]
    baseline_secs: u64,
    /// Milliseconds between the chatter's messages (each reaches every user).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    chat_interval_ms: u64,
    /// Connections registering the accounts at once (not measured).
    #[arg(long, default_value_t = 8)]
    register_workers: usize,
    /// Loopback addresses to connect from, 127.0.0.1 up (0: one per 20,000
    /// users; loopback has about 28,000 ephemeral ports per address).
    #[arg(long, default_value_t = 0)]
    source_addresses: usize,
    /// The server to measure.
    #[command(flatten)]
    server: ServerArgs,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// Longest the logins may take.
const LOGIN_LIMIT: Duration = Duration::from_secs(900);

/// Longest the marker may take to reach everyone once all are online.
const MARK_LIMIT: Duration = Duration::from_secs(120);

/// Users per source address when their number is not given.
const USERS_PER_SOURCE: usize = 20_000;

/// Whether the `k`-th user to log in watches, so that `share` of them do,
/// spread evenly over the storm.
fn watches(k: usize, share: f64) -> bool {
    ((k + 1) as f64 * share).floor() > (k as f64 * share).floor()
}

/// The local addresses to connect to `target` from: `count` of them from
/// 127.0.0.1 up (0: one per [`USERS_PER_SOURCE`] users), or none (the
/// system's choice) when one will do or `target` is not IPv4 loopback.
fn sources(target: SocketAddr, count: usize, users: usize) -> Vec<IpAddr> {
    let count = if count == 0 {
        users.div_ceil(USERS_PER_SOURCE)
    } else {
        count
    };
    if count <= 1 || !matches!(target.ip(), IpAddr::V4(ip) if ip.is_loopback()) {
        return Vec::new();
    }
    (1..=count.min(250))
        .map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 0, i as u8)))
        .collect()
}

fn since(before: Option<f64>, after: Option<f64>) -> Option<f64> {
    Some(after? - before?)
}

/// Run the scenario and print its figures.
pub async fn run(args: Args) -> anyhow::Result<()> {
    if args.users == 0 {
        bail!("--users must be at least 1");
    }
    if !(0.0..=1.0).contains(&args.watchers) {
        bail!("--watchers is a share: 0 to 1");
    }
    // Before the server starts, so it inherits the limit.
    let fds = crowd::raise_fd_limit(args.users + 16);
    if let Some(w) = fds.warning() {
        // Now, not only in the report: registering first can take minutes.
        eprintln!("warning: {w}");
    }
    args.server.one_node()?;
    let cost = args.bcrypt_cost.to_string();
    let broadcast = args.presence_broadcast_max.map(|n| n.to_string());
    let mut flags = vec!["--bcrypt-cost", cost.as_str()];
    if let Some(n) = &broadcast {
        flags.extend(["--presence-broadcast-max", n.as_str()]);
    }
    let target = args.server.target_with(&flags).await?;
    let addr = target.addr;
    let sources = sources(addr, args.source_addresses, args.users);
    let parallel = if args.parallel == 0 {
        args.users
    } else {
        args.parallel
    };

    let tag = std::process::id().to_string();
    let names: Vec<String> = (0..args.users).map(|i| format!("p{tag}x{i}")).collect();
    let registering = crowd::register_all(addr, &names, args.register_workers)
        .await
        .context("registering the accounts")?;
    let bcrypt_floor = match args.server.addr {
        None => Some(bcrypt_floor(args.bcrypt_cost, args.users).await?),
        Some(_) => None,
    };
    let mut marker =
        Marker::start(addr, &format!("pm{tag}"), format!("presence-mark-{tag}")).await?;
    let chat = if args.idle {
        None
    } else {
        let every = Duration::from_millis(args.chat_interval_ms);
        let chat = Chat::start(addr, &tag, every).await?;
        tokio::time::sleep(Duration::from_secs(args.baseline_secs)).await;
        Some(chat)
    };

    let rss = || target.pid.and_then(proc_stats::memory);
    let server_cpu = || target.pid.and_then(proc_stats::cpu_seconds);
    let bench_cpu = || proc_stats::cpu_seconds(std::process::id());
    let rss_before = rss();
    let (cpu_before, own_before) = (server_cpu(), bench_cpu());
    let storm_chat_start = chat.as_ref().map(Chat::now);
    let storm_start = Instant::now();

    let stop = CancellationToken::new();
    let (seen_tx, mut seen_rx) = mpsc::channel(args.users);
    let plan = Plan {
        watch: false,
        marker: Arc::from(marker.text().as_bytes()),
        seen: seen_tx,
        stop: stop.clone(),
    };
    let order = Arc::new(AtomicUsize::new(0));
    let share = args.watchers;
    let crowd = crowd::log_in_all_from(
        addr,
        &sources,
        names,
        parallel,
        LOGIN_LIMIT,
        move |conn, _| {
            let k = order.fetch_add(1, Ordering::Relaxed);
            let plan = Plan {
                watch: watches(k, share),
                ..plan.clone()
            };
            member::follow(conn, plan)
        },
    )
    .await;
    let rss_online = rss();

    // Everyone is online: the marker says its line, and each member tells when it arrives.
    let said = marker.say().await.context("saying the marker")?;
    let mut marker_times = Samples::default();
    let mut last_mark = None;
    let mut closed = (0usize, None);
    let deadline = tokio::time::sleep(MARK_LIMIT);
    tokio::pin!(deadline);
    while marker_times.len() + closed.0 < crowd.logged_in {
        tokio::select! {
            () = &mut deadline => break,
            seen = seen_rx.recv() => match seen {
                Some(Seen::Marked(at)) => {
                    marker_times.push(at.saturating_duration_since(said));
                    last_mark = last_mark.max(Some(at));
                }
                Some(Seen::Closed(why)) => {
                    closed.0 += 1;
                    closed.1.get_or_insert(why);
                }
                None => break,
            },
        }
    }
    let all_marked = marker_times.len() == crowd.logged_in && crowd.failed == 0;
    let all_chatting_s = last_mark
        .filter(|_| all_marked)
        .map(|at| at.saturating_duration_since(storm_start).as_secs_f64());
    let (cpu_after, own_after) = (server_cpu(), bench_cpu());
    let storm_chat_end = chat.as_ref().map(Chat::now);

    let hold = args.hold_secs.unwrap_or(if args.idle { 10 } else { 1 });
    tokio::time::sleep(Duration::from_secs(hold)).await;
    let rss_end = rss();
    // The members stop counting before the chatters leave, which they would be told.
    stop.cancel();
    let members = crowd::join_all(crowd.tasks, Duration::from_secs(60)).await;
    // A chatter dropped by the server loses the chat figures, not the rest.
    let (chat, chat_error) = match chat.map(Chat::finish) {
        Some(finishing) => match finishing.await {
            Ok(samples) => {
                let (from, to) = (storm_chat_start.unwrap_or(0), storm_chat_end.unwrap_or(0));
                let (ack_base, base) = samples.sent_between(0, from);
                let (ack_storm, storm) = samples.sent_between(from, to);
                (Some([base, storm, ack_base, ack_storm]), None)
            }
            Err(e) => (None, Some(format!("{e:#}"))),
        },
        None => (None, None),
    };
    // Stop a started server before the connections close, so it does not
    // spend its last moments telling everyone who left.
    drop(marker);
    drop(target);
    // Connections that ended after the marker reached them count too.
    let closed_late = members
        .iter()
        .filter(|m| m.marked && m.closed.is_some())
        .count();
    closed.0 += closed_late;
    if closed.1.is_none() {
        closed.1 = members.iter().find_map(|m| m.closed.clone());
    }

    let figures = Figures {
        users: args.users,
        watchers: args.watchers,
        parallel,
        bcrypt_cost: args.server.addr.is_none().then_some(args.bcrypt_cost),
        bcrypt_floor,
        idle: args.idle,
        source_addresses: sources.len(),
        fds,
        register_s: registering.as_secs_f64(),
        logged_in: crowd.logged_in,
        failed: crowd.failed,
        first_error: crowd.first_error,
        all_online_s: crowd.took.as_secs_f64(),
        login_times: crowd.login_times,
        marked: marker_times.len(),
        all_chatting_s,
        marker_times,
        closed,
        members,
        server_cpu_s: since(cpu_before, cpu_after),
        bench_cpu_s: since(own_before, own_after),
        rss: [rss_before, rss_online, rss_end],
        hold_s: hold,
        chat,
        chat_error,
    };
    if args.json {
        println!("{}", figures.json());
    } else {
        figures.print();
    }
    Ok(())
}

/// The raw limit of a login storm, measured in the same run: the time the
/// started server's bcrypt threads (its default: one per core but one) need
/// for `users` password checks at `cost`, each timed here with the server's
/// own hasher.
async fn bcrypt_floor(cost: u32, users: usize) -> anyhow::Result<BcryptFloor> {
    const SAMPLES: u32 = 100;
    let hasher = chatroom_server::password::PasswordHasher::new(cost, 1);
    let hash = hasher.hash("presence-floor").await?;
    let started = Instant::now();
    for _ in 0..SAMPLES {
        hasher.verify("presence-floor", &hash).await?;
    }
    let each = started.elapsed() / SAMPLES;
    let threads = chatroom_server::Config::default().bcrypt_parallelism();
    let floor =
        each * u32::try_from(users).unwrap_or(u32::MAX) / u32::try_from(threads).unwrap_or(1);
    Ok(BcryptFloor {
        each_ms: each.as_secs_f64() * 1000.0,
        threads,
        floor_s: floor.as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watchers_are_the_asked_share_spread_over_the_logins() {
        let count = |share| (0..1000).filter(|&k| watches(k, share)).count();
        assert_eq!(count(1.0), 1000);
        assert_eq!(count(0.0), 0);
        assert_eq!(count(0.25), 250);
        let first: Vec<bool> = (0..4).map(|k| watches(k, 0.5)).collect();
        assert_eq!(first, [false, true, false, true]);
    }

    #[test]
    fn many_users_connect_from_several_loopback_addresses() {
        let local: SocketAddr = "127.0.0.1:9".parse().unwrap_or_else(|_| unreachable!());
        assert!(sources(local, 0, 10_000).is_empty());
        let five = sources(local, 0, 100_000);
        assert_eq!(five.len(), 5);
        assert_eq!(five[4], IpAddr::V4(Ipv4Addr::new(127, 0, 0, 5)));
        let v6: SocketAddr = "[::1]:9".parse().unwrap_or_else(|_| unreachable!());
        assert!(sources(v6, 3, 10).is_empty());
    }
}
