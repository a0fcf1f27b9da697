//! The `flood` scenario: one client sends a thousand messages a second at a
//! server with its request rate limit on (the defaults: 20 a second, bursts of
//! 100), reconnecting whenever it is closed, while two users chat. Reports what
//! the limit did to the flooder (accepted, refused, disconnected) and how much
//! the flood disturbs the chat: the chatters' latency in a calm phase before
//! the flood and during it (target: p99 within twice the baseline).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{ClientMessage, Say, ServerMessage};
use tokio_util::sync::CancellationToken;

use crate::chatters::Chat;
use crate::client::{self, Control};
use crate::server::ServerArgs;

/// Flags of `chatroom-bench flood`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Messages a second the flooder tries to send.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    rate: u32,
    /// Seconds of chat before the flood: the baseline.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    baseline_secs: u64,
    /// Seconds of flood.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    flood_secs: u64,
    /// Milliseconds between the chatter's messages (a person's pace, well
    /// under the rate limit).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(50..=10_000))]
    chat_interval_ms: u64,
    /// The server to measure (a started one keeps the default rate limit).
    #[command(flatten)]
    server: ServerArgs,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// What the flooder saw.
#[derive(Debug, Default)]
struct Flooded {
    sent: u64,
    accepted: u64,
    refused: u64,
    disconnected: u64,
}

/// Send `rate` messages a second until `stop`, reconnecting after every close.
async fn flood(addr: SocketAddr, name: String, rate: u32, stop: CancellationToken) -> Flooded {
    let mut seen = Flooded::default();
    let every = Duration::from_secs_f64(1.0 / f64::from(rate));
    while !stop.is_cancelled() {
        let Ok(mut c) = Control::user(addr, &name).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        loop {
            tokio::select! {
                () = stop.cancelled() => return seen,
                _ = tick.tick() => {
                    let body = ClientMessage::Say(Say {
                        id: format!("f{}", seen.sent),
                        text: "flood".into(),
                    });
                    if c.send(body).await.is_err() {
                        break;
                    }
                    seen.sent += 1;
                }
                m = client::read(&mut c.reader) => match m {
                    Ok(ServerMessage::SayOk(_)) => seen.accepted += 1,
                    Ok(ServerMessage::Error(e)) if e.code == ErrorCode::RateLimited => seen.refused += 1,
                    Ok(_) => {}
                    Err(_) => break,
                },
            }
        }
        seen.disconnected += 1;
    }
    seen
}

/// Run the scenario and print its figures.
pub async fn run(args: Args) -> anyhow::Result<()> {
    args.server.one_node()?;
    // A started server keeps its default request limit (the point of the scenario).
    let target = args
        .server
        .target_with(&["--bcrypt-cost", "4", "--request-rate", "20"])
        .await?;
    let addr = target.addr;
    let tag = std::process::id().to_string();
    let every = Duration::from_millis(args.chat_interval_ms);
    let chat = Chat::start(addr, &tag, every).await?;
    tokio::time::sleep(Duration::from_secs(args.baseline_secs)).await;

    let flood_start = chat.now();
    let stop = CancellationToken::new();
    let flooder = tokio::spawn(flood(addr, format!("f{tag}"), args.rate, stop.clone()));
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.flood_secs)).await;
    stop.cancel();
    let flood_end = chat.now();
    let seen = flooder.await?;
    let took = started.elapsed().as_secs_f64();
    let samples = chat.finish().await?;
    drop(target);

    let (ack_base, base) = samples.sent_between(0, flood_start);
    let (ack_flood, during) = samples.sent_between(flood_start, flood_end);
    let ratio = during.ms(0.99) / base.ms(0.99);
    let ack_ratio = ack_flood.ms(0.99) / ack_base.ms(0.99);
    let report = serde_json::json!({
        "scenario": "flood",
        "rate": args.rate,
        "flood_s": took,
        "flood_sent": seen.sent,
        "flood_accepted": seen.accepted,
        "flood_refused": seen.refused,
        "flood_disconnected": seen.disconnected,
        "chat_delivery_baseline_ms": base.json(),
        "chat_delivery_flood_ms": during.json(),
        "chat_delivery_p99_ratio": ratio,
        "chat_ack_baseline_ms": ack_base.json(),
        "chat_ack_flood_ms": ack_flood.json(),
        "chat_ack_p99_ratio": ack_ratio,
    });
    if args.json {
        println!("{report}");
        return Ok(());
    }
    println!(
        "flood benchmark: one client at {} messages/s for {took:.1} s against the rate limit",
        args.rate
    );
    println!(
        "  flooder: {} sent, {} accepted ({:.1}/s), {} refused as rate_limited, closed {} times",
        seen.sent,
        seen.accepted,
        seen.accepted as f64 / took.max(1e-9),
        seen.refused,
        seen.disconnected
    );
    println!("  chat delivery, baseline     {}", base.line());
    println!("  chat delivery, flood        {}", during.line());
    println!("  p99 flood / baseline        {ratio:8.2}  (target <= 2)");
    println!("  chat ack, baseline          {}", ack_base.line());
    println!("  chat ack, flood             {}", ack_flood.line());
    println!("  ack p99 flood / baseline    {ack_ratio:8.2}");
    Ok(())
}
