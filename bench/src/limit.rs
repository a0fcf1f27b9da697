//! The `limit` scenario: this machine's raw loopback fan-out limit, with no
//! protocol and no server.
//!
//! One writer task pushes the same ~100-byte frame to N sockets, 64 frames per
//! write call, round-robin over the sockets (skipping a socket whose buffer is
//! full, as a non-blocking server does); N reader tasks count the bytes. The
//! result, frames delivered per second by all readers together, is the ceiling
//! of any fan-out server on this machine at this N: `fanout` reports its own
//! figure as a percentage of it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::report::{CpuUse, CpuWindow};

/// Frames per write call, by default.
pub const FRAMES_PER_WRITE: usize = 64;
/// Size of every frame, length prefix included: about a chat message event.
pub const FRAME_BYTES: usize = 100;
/// Most sockets (each needs two descriptors in this process).
const MAX_CLIENTS: usize = 100_000;

/// Flags of `chatroom-bench limit`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Receiving sockets.
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// Seconds to measure (after a short warm-up).
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Frames per write call.
    #[arg(long, default_value_t = FRAMES_PER_WRITE)]
    frames_per_write: usize,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// The measured limit.
#[derive(Debug, Clone)]
pub struct Limit {
    /// Receiving sockets.
    pub clients: usize,
    /// Frames per write call.
    pub frames_per_write: usize,
    /// Frames delivered per second, all readers together.
    pub deliveries_per_s: f64,
    /// CPU of this process (writer, readers and the kernel's TCP work on
    /// their behalf) while measuring.
    pub cpu: CpuUse,
}

impl Limit {
    /// The figures as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "clients": self.clients,
            "frame_bytes": FRAME_BYTES,
            "frames_per_write": self.frames_per_write,
            "deliveries_per_s": self.deliveries_per_s,
            "mib_per_s": self.deliveries_per_s * FRAME_BYTES as f64 / (1024.0 * 1024.0),
            "seconds": self.cpu.wall.as_secs_f64(),
            "bench_cpu_s": self.cpu.bench_s,
            "machine_busy_pct": self.cpu.machine_busy.map(|b| 100.0 * b),
        })
    }
}

/// Measure the raw fan-out limit to `clients` sockets for `duration`, writing
/// `frames_per_write` frames per call.
pub async fn measure(
    clients: usize,
    duration: Duration,
    frames_per_write: usize,
) -> anyhow::Result<Limit> {
    let clients = clients.clamp(1, MAX_CLIENTS);
    let frames_per_write = frames_per_write.clamp(1, 10_000);
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let received = Arc::new(AtomicU64::new(0));
    let stop = CancellationToken::new();
    let mut outs = Vec::with_capacity(clients);
    let mut readers = Vec::with_capacity(clients);
    for _ in 0..clients {
        let mut input = TcpStream::connect(addr).await.context("connecting")?;
        let (out, _) = listener.accept().await.context("accepting")?;
        out.set_nodelay(true)?;
        input.set_nodelay(true)?;
        outs.push(out);
        let (received, stop) = (Arc::clone(&received), stop.clone());
        readers.push(tokio::spawn(async move {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = tokio::select! {
                    biased;
                    () = stop.cancelled() => break,
                    n = input.read(&mut buf) => n?,
                };
                if n == 0 {
                    break;
                }
                received.fetch_add(n as u64, Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
    }
    let warmup = (duration / 5).min(Duration::from_millis(500));
    let writer = tokio::spawn(write_round_robin(
        outs,
        frames_per_write,
        Instant::now() + warmup + duration,
        stop.clone(),
    ));
    tokio::time::sleep(warmup).await;
    let cpu = CpuWindow::start(&[]);
    let (start, before) = (Instant::now(), received.load(Ordering::Relaxed));
    tokio::time::sleep(duration).await;
    let (took, after) = (start.elapsed(), received.load(Ordering::Relaxed));
    let cpu = cpu.stop();
    stop.cancel();
    writer.await??;
    for r in readers {
        r.await??;
    }
    let frames = (after - before) as f64 / FRAME_BYTES as f64;
    Ok(Limit {
        clients,
        frames_per_write,
        deliveries_per_s: frames / took.as_secs_f64().max(1e-9),
        cpu,
    })
}

/// The writer: `frames_per_write` frames per write call to each socket in turn until `until`.
/// A socket that takes only part of a batch continues from there next round;
/// one whose buffer is full is skipped; when a whole round writes nothing, the
/// writer waits (briefly) for a socket to become writable.
async fn write_round_robin(
    outs: Vec<TcpStream>,
    frames_per_write: usize,
    until: Instant,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let mut frame = [b'x'; FRAME_BYTES];
    frame[..4].copy_from_slice(&u32::try_from(FRAME_BYTES - 4)?.to_be_bytes());
    let batch = frame.repeat(frames_per_write);
    let mut pos = vec![0usize; outs.len()];
    while Instant::now() < until && !stop.is_cancelled() {
        let mut progressed = false;
        for (out, at) in outs.iter().zip(pos.iter_mut()) {
            match out.try_write(&batch[*at..]) {
                Ok(n) => {
                    *at = (*at + n) % batch.len();
                    progressed = true;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e.into()),
            }
        }
        if progressed {
            // Let the readers (and the IO driver) run between rounds.
            tokio::task::yield_now().await;
        } else if let Some(first) = outs.first() {
            let _ = tokio::time::timeout(Duration::from_millis(5), first.writable()).await;
        }
    }
    Ok(())
}

/// Run the scenario and print its figures.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let limit = measure(
        args.clients,
        Duration::from_secs_f64(args.seconds.max(0.1)),
        args.frames_per_write,
    )
    .await?;
    if args.json {
        let mut report = limit.json();
        report["scenario"] = "limit".into();
        println!("{report}");
        return Ok(());
    }
    println!(
        "raw loopback fan-out limit: {} sockets, {FRAME_BYTES}-byte frames, {} per write",
        limit.clients, limit.frames_per_write
    );
    println!(
        "  deliveries   {:12.0} /s  ({:.1} MiB/s)",
        limit.deliveries_per_s,
        limit.deliveries_per_s * FRAME_BYTES as f64 / (1024.0 * 1024.0)
    );
    println!(
        "  CPU of this process (writer, readers, kernel TCP work) {:.2} cores; machine {}",
        limit.cpu.bench_s.unwrap_or(f64::NAN) / limit.cpu.wall.as_secs_f64().max(1e-9),
        limit
            .cpu
            .machine_busy
            .map_or_else(|| "n/a".to_owned(), |b| format!("{:.0} % busy", 100.0 * b))
    );
    Ok(())
}
