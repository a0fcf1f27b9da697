//! `chatroom-bench`: measures chatroom over the real protocol and real TCP,
//! with no shortcuts into the server. Only loopback addresses are targeted,
//! and every loop is bounded in count and time.
//!
//! Scenarios (subcommands):
//! - `transfer`: the raw loopback TCP throughput of this machine, then a file
//!   uploaded and downloaded through the server, each as a percentage of the
//!   raw figure; while the transfer runs, two other users chat and the
//!   uploader chats too, and their round-trip latencies are reported; plus
//!   the server's and the benchmark's peak memory.
//! - `limit`: the raw loopback fan-out limit of this machine (one writer, N
//!   sockets, no protocol), the yardstick of `fanout`.
//! - `fanout`: N clients in the main room, K of them sending flat out or at a
//!   fixed rate; deliveries/s (also as a percentage of `limit`), latency from
//!   send to delivery, losses, server CPU and memory.
//! - `store`: durable acknowledged messages/s and ack latency, flat out and
//!   at half that rate; then the raw database rate (the same rows into the
//!   same database through the server's database layer, without the server,
//!   on 1 and N connections) and the acked rate as a ratio of it.
//! - `idle`: C connections logged in and held idle; the server's memory per
//!   connection.
//! - `logins`: a storm of simultaneous password logins while two users chat;
//!   logins/s and the chat's latency before and during the storm.
//! - `presence`: N users logging in at once, each reading everything it is
//!   sent (a share watching the online list's first page) while two users
//!   chat: time until all are online and chatting, `login_ok` size, bytes
//!   received, server CPU and memory, chat latency; `--idle` for the server's
//!   memory per idle user at 100,000.
//! - `reconnect`: the server restarted under C logged-in clients; time until
//!   every one is back (resume tokens).
//! - `conversations`: a user's direct-message conversations as the history
//!   grows (100,000 and 1,000,000 messages): the list's first and a deep
//!   page, a history page, and the stored rate of direct against room
//!   messages.
//! - `tui`: the terminal client's own cost, no terminal and no socket: the
//!   cost of a frame at 100 / 100,000 / 1,000,000 messages of scrollback,
//!   and the CPU to follow a room at 2,000 messages/s with its frame pacing.
//!
//! `fanout` and `store` also run against a cluster of started nodes
//! (`--nodes 2 --nats-url ... --database-url postgres://...`), their clients
//! spread over the nodes round-robin.

mod chatters;
mod client;
mod cluster;
mod conversations;
mod cpu_budget;
mod crowd;
mod fanout;
mod flood;
mod frames;
mod idle;
mod limit;
mod load;
mod logins;
mod own_thread;
mod percentiles;
mod presence;
mod proc_stats;
mod reconnect;
mod report;
mod search;
mod sender;
mod server;
mod store;
mod store_raw;
mod transfer;
mod tui;

use clap::{Parser, Subcommand};

/// Command-line interface.
#[derive(Debug, Parser)]
#[command(
    name = "chatroom-bench",
    version,
    about = "Benchmarks for chatroom over real TCP (loopback only)."
)]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// File transfer throughput against raw loopback TCP, with chat latency during the transfer.
    Transfer(transfer::Args),
    /// Raw loopback fan-out limit: one writer, N sockets, no protocol.
    Limit(limit::Args),
    /// The reading ends of `limit`'s sockets in a process of their own (started by `limit`).
    #[command(hide = true)]
    LimitReaders(limit::ReaderArgs),
    /// N clients in the main room, K sending: deliveries/s, latency, losses.
    Fanout(fanout::Args),
    /// Durable acknowledged messages/s and ack latency, and the raw database rate beside them.
    Store(store::Args),
    /// C idle logged-in connections: server memory per connection.
    Idle(idle::Args),
    /// A storm of simultaneous logins: logins/s and chat latency during it.
    Logins(logins::Args),
    /// N users logging in at once and reading everything: time until all are online, bytes, CPU, chat latency.
    Presence(presence::Args),
    /// One client flooding against the rate limit: what it gets, and chat latency during it.
    Flood(flood::Args),
    /// Restart the server under C clients: time until all are back (resume).
    Reconnect(reconnect::Args),
    /// A user's direct-message conversations at growing history sizes: list and history pages, stored rates.
    Conversations(conversations::Args),
    /// Search at growing history sizes: through the index beside the scan, its build time and size.
    Search(search::Args),
    /// The terminal client's cost per frame at 100 to 1,000,000 messages, and to follow a busy room.
    Tui(tui::Args),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().scenario {
        Scenario::Transfer(args) => transfer::run(args).await,
        Scenario::Limit(args) => limit::run(args).await,
        Scenario::LimitReaders(args) => limit::run_readers(args).await,
        Scenario::Fanout(args) => fanout::run(args).await,
        Scenario::Store(args) => store::run(args).await,
        Scenario::Idle(args) => idle::run(args).await,
        Scenario::Logins(args) => logins::run(args).await,
        Scenario::Presence(args) => presence::run(args).await,
        Scenario::Flood(args) => flood::run(args).await,
        Scenario::Reconnect(args) => reconnect::run(args).await,
        Scenario::Conversations(args) => conversations::run(args).await,
        Scenario::Search(args) => search::run(args).await,
        Scenario::Tui(args) => tui::run(args).await,
    }
}
