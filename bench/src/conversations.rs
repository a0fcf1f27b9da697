//! `conversations`: what a user's direct messages cost as the history grows.
//!
//! For each size, a fresh server gets `size` direct messages from alice to
//! `--peers` users (over the protocol, pipelined, every one acknowledged),
//! after a tenth as many room messages; then alice asks, `--samples` times
//! each, for the first page of her conversations, a page deep in them, and
//! a page of one conversation's history. Then peer00000 writes a tenth as
//! many direct messages to alice while she is away; she logs in once, marks
//! them read, and `--samples` logins of hers are timed up to the reply to a
//! ping sent right after `login` (offline delivery ends before it): what a
//! login costs with a large inbox already read. The store's writer records each
//! direct message's conversation in the transaction that stores it, so the
//! acknowledged rates of room and direct messages are printed side by side,
//! and every figure of the largest size as a ratio of the smallest's, in the
//! same run.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chatroom_shared::message::{
    ClientMessage, Conversations, History, Ping, Read, Say, Send, ServerMessage, Target,
};
use testkit::wire;

use crate::client::{Control, read, write};
use crate::percentiles::Samples;
use crate::server::ServerArgs;

/// Flags of `chatroom-bench conversations`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Direct messages stored before measuring, per run (one fresh server each).
    #[arg(long, value_delimiter = ',', default_values_t = [100_000usize, 1_000_000])]
    sizes: Vec<usize>,
    /// Users alice writes to (her conversations).
    #[arg(long, default_value_t = 500)]
    peers: usize,
    /// Requests timed per kind.
    #[arg(long, default_value_t = 300)]
    samples: usize,
    /// Messages sent and not yet acknowledged.
    #[arg(long, default_value_t = 512)]
    window: usize,
    /// The server to measure (one node).
    #[command(flatten)]
    server: ServerArgs,
}

/// What one size measured.
struct Run {
    size: usize,
    room_rate: f64,
    direct_rate: f64,
    first_page: Samples,
    deep_page: Samples,
    history_page: Samples,
    /// Direct messages in alice's inbox (all read) at the timed logins.
    inbox: usize,
    login: Samples,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    args.server.one_node()?;
    anyhow::ensure!(args.peers >= 1, "--peers must be at least 1");
    let mut runs = Vec::new();
    for &size in &args.sizes {
        let target = args.server.target().await?;
        let run = measure(target.addr, size, &args).await?;
        print_run(&run, args.peers);
        runs.push(run);
    }
    if let (Some(first), Some(last)) = (runs.first(), runs.last())
        && runs.len() > 1
    {
        let ratio = |a: &Samples, b: &Samples| b.ms(0.5) / a.ms(0.5);
        println!(
            "ratio {} vs {} messages (p50): first page {:.2}x  deep page {:.2}x  history page {:.2}x  \
             login {:.2}x  direct messages stored/s {:.2}x",
            last.size,
            first.size,
            ratio(&first.first_page, &last.first_page),
            ratio(&first.deep_page, &last.deep_page),
            ratio(&first.history_page, &last.history_page),
            ratio(&first.login, &last.login),
            last.direct_rate / first.direct_rate,
        );
    }
    Ok(())
}

fn print_run(run: &Run, peers: usize) {
    println!(
        "{} direct messages to {peers} users: stored {:.0}/s (room messages {:.0}/s, ratio {:.2})",
        run.size,
        run.direct_rate,
        run.room_rate,
        run.direct_rate / run.room_rate
    );
    println!("  conversations, first page   {}", run.first_page.line());
    println!("  conversations, page 4       {}", run.deep_page.line());
    println!("  history of one conversation {}", run.history_page.line());
    println!(
        "  login, {} read in the inbox {}",
        run.inbox,
        run.login.line()
    );
}

async fn measure(addr: SocketAddr, size: usize, args: &Args) -> anyhow::Result<Run> {
    let mut alice = Control::user(addr, "alice").await?;
    let peers: Vec<String> = (0..args.peers).map(|i| format!("peer{i:05}")).collect();
    for name in &peers {
        // Registered and logged out again: only alice stays online.
        drop(Control::user(addr, name).await?);
    }
    let room_rate = fill(&mut alice, (size / 10).max(1), args.window, |i| {
        ClientMessage::Say(Say {
            id: format!("r{i}"),
            text: format!("room message {i}"),
        })
    })
    .await?;
    let direct_rate = fill(&mut alice, size, args.window, |i| {
        ClientMessage::Send(Send {
            id: format!("d{i}"),
            to: Target::User {
                user: peers[i % peers.len()].clone(),
            },
            text: format!("direct message {i}"),
        })
    })
    .await?;

    let page = |after| {
        ClientMessage::Conversations(Conversations {
            after,
            limit: Some(50),
        })
    };
    let mut cursor = None;
    for _ in 0..3 {
        match alice.request(page(cursor)).await? {
            ServerMessage::ConversationList(l) => cursor = l.next.or(cursor),
            other => bail!("conversations: {other:?}"),
        }
    }
    let history = ClientMessage::History(History {
        to: Target::User {
            user: peers[0].clone(),
        },
        limit: Some(50),
        ..History::default()
    });
    let first_page = time(&mut alice, args.samples, || page(None)).await?;
    let deep_page = time(&mut alice, args.samples, || page(cursor)).await?;
    let history_page = time(&mut alice, args.samples, || history.clone()).await?;

    // alice's inbox: a tenth as many direct messages from peer00000 while she
    // is away, then read.
    drop(alice);
    let inbox = (size / 10).max(1);
    let mut writer = Control::user(addr, &peers[0]).await?;
    fill(&mut writer, inbox, args.window, |i| {
        ClientMessage::Send(Send {
            id: format!("i{i}"),
            to: Target::User {
                user: "alice".into(),
            },
            text: format!("inbox message {i}"),
        })
    })
    .await?;
    drop(writer);
    let mut alice = Control::user(addr, "alice").await?;
    match alice
        .request(ClientMessage::Read(Read {
            to: Target::User {
                user: peers[0].clone(),
            },
            upto: i64::MAX,
        }))
        .await?
    {
        ServerMessage::ReadOk(_) => {}
        other => bail!("read: {other:?}"),
    }
    drop(alice);
    let mut login = Samples::default();
    for _ in 0..args.samples {
        login.push(time_login(addr, "alice").await?);
    }
    Ok(Run {
        size,
        room_rate,
        direct_rate,
        first_page,
        deep_page,
        history_page,
        inbox,
        login,
    })
}

/// One login of `name` (already registered), timed from sending `login` to
/// the reply to a ping sent right behind it: the session answers the ping
/// only once its offline delivery is queued, so this is the login as a user
/// waits for it (bcrypt included).
async fn time_login(addr: SocketAddr, name: &str) -> anyhow::Result<Duration> {
    let (mut reader, mut writer) = wire::open(addr).await?;
    write(&mut writer, 1, wire::hello("chatroom-bench")).await?;
    read(&mut reader).await?;
    let started = Instant::now();
    write(&mut writer, 2, wire::login(name, crate::client::PASSWORD)).await?;
    write(&mut writer, 3, ClientMessage::Ping(Ping {})).await?;
    loop {
        match read(&mut reader).await? {
            ServerMessage::Pong(p) if p.seq == 3 => return Ok(started.elapsed()),
            ServerMessage::Error(e) => bail!("login {name}: {e:?}"),
            _ => {}
        }
    }
}

/// Send `n` messages made by `message`, at most `window` unacknowledged;
/// the acknowledged messages per second.
async fn fill(
    c: &mut Control,
    n: usize,
    window: usize,
    message: impl Fn(usize) -> ClientMessage,
) -> anyhow::Result<f64> {
    let started = Instant::now();
    let (mut sent, mut acked) = (0, 0);
    while acked < n {
        while sent < n && sent - acked < window {
            c.send(message(sent)).await?;
            sent += 1;
        }
        let reply = tokio::time::timeout(Duration::from_secs(60), read(&mut c.reader))
            .await
            .context("no acknowledgement for a minute")??;
        match reply {
            ServerMessage::SayOk(_) => acked += 1,
            ServerMessage::Error(e) => bail!("a message was refused: {e:?}"),
            _ => {}
        }
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// The round trips of `samples` requests made by `request`, one at a time.
async fn time(
    c: &mut Control,
    samples: usize,
    request: impl Fn() -> ClientMessage,
) -> anyhow::Result<Samples> {
    let mut out = Samples::default();
    for _ in 0..samples {
        let started = Instant::now();
        match c.request(request()).await? {
            ServerMessage::Error(e) => bail!("refused: {e:?}"),
            _ => out.push(started.elapsed()),
        }
    }
    Ok(out)
}
