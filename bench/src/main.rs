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

mod client;
mod proc_stats;
mod server;
mod transfer;

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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().scenario {
        Scenario::Transfer(args) => transfer::run(args).await,
    }
}
