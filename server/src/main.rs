//! `chatroom-server`: parse flags, set up logging, run the server with the
//! admin console on standard input and the control socket in the data
//! directory, stop on SIGINT/SIGTERM or `/quit`. `chatroom-server admin …`
//! sends one console command to a running server instead.

use std::io::IsTerminal;

use anyhow::Context;
use chatroom_server::config::{LogFormat, ServerCommand};
#[cfg(unix)]
use chatroom_server::control;
use chatroom_server::{Config, Server, console};
use clap::Parser;
use tokio::sync::mpsc;
use tracing::{info, warn};
use tracing_subscriber::EnvFilter;

/// jemalloc instead of the system allocator: glibc keeps what a burst (a
/// login storm's join notices, a big history page) freed in per-thread arenas,
/// while jemalloc hands it back: at 10,000 idle connections the server held
/// 15.2 KiB per connection with glibc and 10.6 with jemalloc (docs/BENCHMARKS.md).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    match &config.command {
        Some(ServerCommand::Admin { words }) => return admin(&config, &control_line(words)).await,
        Some(ServerCommand::Backup { path }) => {
            // The server resolves a relative path against its own directory.
            let path = std::path::absolute(path).context("the backup's path")?;
            return admin(&config, &format!("/backup {}", path.display())).await;
        }
        Some(ServerCommand::CopyData { from, to, batch }) => {
            return copy_data(from, to, *batch).await;
        }
        None => {}
    }
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => logs.json().with_ansi(false).init(),
    }

    // The recorder first, so the start itself is counted; the port too, so a
    // taken one stops the start before anything else.
    let metrics = match config.metrics_listen {
        Some(addr) => {
            let handle = chatroom_server::metrics::install()?;
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen for metrics on {addr}"))?;
            Some((handle, listener))
        }
        None => None,
    };
    // Before anything else touches the data directory: one server per directory.
    #[cfg(unix)]
    let paths = control::paths_of(&config);
    #[cfg(unix)]
    let lock = control::lock(&paths)?;
    let server = Server::bind(config).await.context("starting the server")?;
    #[cfg(unix)]
    match control::bind(&paths, &lock) {
        Ok(listener) => {
            tokio::spawn(control::serve(listener, server.admin()));
        }
        Err(e) => {
            warn!(error = %e, "no control socket: `chatroom-server admin` cannot reach this server")
        }
    }
    if let Some((handle, listener)) = metrics {
        info!(addr = %listener.local_addr()?, "metrics on /metrics, health on /health");
        tokio::spawn(chatroom_server::metrics_http::serve(
            listener,
            handle,
            server.metrics_sources(),
        ));
    }
    info!(addr = %server.local_addr()?, "chatroom server ready; type /help for console commands");
    let shutdown = server.shutdown_token();

    // Standard input is read on a plain thread: a blocked read must never hold
    // up the runtime's exit. When stdin ends (nohup, systemd, CI) the console
    // ends and the server keeps running.
    let (tx, rx) = mpsc::channel(64);
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    tokio::spawn(console::run(rx, tokio::io::stdout(), server.admin()));

    tokio::spawn(async move {
        wait_for_signal().await;
        info!("signal received");
        shutdown.cancel();
    });

    server.run().await.context("running the server")?;
    #[cfg(unix)]
    drop(lock);
    Ok(())
}

/// `chatroom-server copy-data`: the copy's progress and its checks go to
/// standard error, a line each, for the operator watching it.
async fn copy_data(from: &str, to: &str, batch: u64) -> anyhow::Result<()> {
    let copied = chatroom_server::copy_data::copy(from, to, batch, &mut |p| eprintln!("{p}"))
        .await
        .context("copy-data")?;
    eprintln!(
        "copy-data: done, {} rows in {} tables; every row count and checksum matched",
        copied.rows(),
        copied.tables.len()
    );
    Ok(())
}

/// The console line for `chatroom-server admin WORDS…`.
#[cfg(unix)]
fn control_line(words: &[String]) -> String {
    control::console_line(words)
}

#[cfg(not(unix))]
fn control_line(words: &[String]) -> String {
    words.join(" ")
}

/// One console line to the server running on this data directory (and node
/// id), its answer on standard output.
#[cfg(unix)]
async fn admin(config: &Config, line: &str) -> anyhow::Result<()> {
    let paths = control::Paths::new(&config.data_dir, config.node_id.as_deref());
    let answer = control::request(&paths.socket, line).await?;
    if !answer.is_empty() {
        println!("{answer}");
    }
    Ok(())
}

#[cfg(not(unix))]
async fn admin(_config: &Config, _line: &str) -> anyhow::Result<()> {
    anyhow::bail!("`chatroom-server admin` needs a Unix control socket")
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
