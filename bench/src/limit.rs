//! The `limit` scenario: this machine's raw loopback fan-out limit, with no
//! protocol and no server.
//!
//! One writer task pushes the same ~100-byte frame to N sockets, 64 frames per
//! write call, round-robin over the sockets (skipping a socket whose buffer is
//! full, as a non-blocking server does); N reader tasks count the bytes. The
//! result, frames delivered per second by all readers together, is the ceiling
//! of any fan-out server on this machine at this N: `fanout` reports its own
//! figure as a percentage of it.
//!
//! Each socket takes two descriptors, one per end. When this process may not
//! hold 2N (its `RLIMIT_NOFILE` cannot be raised that far, as in a container
//! with a hard limit of 20,000), the readers run in a child process of this
//! binary (`limit-readers`), which connects the N sockets and reports the
//! bytes read when asked on its stdin; the writer stays here. The figure then
//! includes the child's CPU.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::report::{CpuUse, CpuWindow};

/// Frames per write call, by default.
pub const FRAMES_PER_WRITE: usize = 64;
/// Size of every frame, length prefix included: about a chat message event.
pub const FRAME_BYTES: usize = 100;
/// Most sockets.
const MAX_CLIENTS: usize = 100_000;
/// Descriptors this process needs besides the sockets' (stdio, the runtime,
/// the listener, a server's pipes).
const SPARE_FDS: u64 = 256;

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
    /// Read in a child process even when this one may hold both ends of
    /// every socket (it does so by itself when it may not).
    #[arg(long)]
    readers_process: bool,
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
    /// The readers ran in a child process.
    pub readers_apart: bool,
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
            "readers": if self.readers_apart { "child process" } else { "this process" },
            "mib_per_s": self.deliveries_per_s * FRAME_BYTES as f64 / (1024.0 * 1024.0),
            "seconds": self.cpu.wall.as_secs_f64(),
            "bench_cpu_s": self.cpu.bench_s,
            "machine_busy_pct": self.cpu.machine_busy.map(|b| 100.0 * b),
        })
    }
}

/// Measure the raw fan-out limit to `clients` sockets for `duration`, writing
/// `frames_per_write` frames per call; the readers in a child process when
/// `readers_apart`, or when this process may not hold both ends of every socket.
pub async fn measure(
    clients: usize,
    duration: Duration,
    frames_per_write: usize,
    readers_apart: bool,
) -> anyhow::Result<Limit> {
    let clients = clients.clamp(1, MAX_CLIENTS);
    let frames_per_write = frames_per_write.clamp(1, 10_000);
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let fd_limit = rlimit::Resource::NOFILE
        .get()
        .map_or(u64::MAX, |(soft, _)| soft);
    let readers_apart = readers_apart || 2 * clients as u64 + SPARE_FDS > fd_limit;
    let mut readers = if readers_apart {
        Readers::child(addr, clients)?
    } else {
        Readers::Here {
            received: Arc::new(AtomicU64::new(0)),
            tasks: Vec::with_capacity(clients),
        }
    };
    let stop = CancellationToken::new();
    let mut outs = Vec::with_capacity(clients);
    for _ in 0..clients {
        if let Readers::Here { received, tasks } = &mut readers {
            let input = TcpStream::connect(addr).await.context("connecting")?;
            input.set_nodelay(true)?;
            tasks.push(tokio::spawn(read_counting(
                input,
                Arc::clone(received),
                stop.clone(),
            )));
        }
        let (out, _) = listener.accept().await.context("accepting")?;
        out.set_nodelay(true)?;
        outs.push(out);
    }
    readers.ready().await?;
    let warmup = (duration / 5).min(Duration::from_millis(500));
    let writer = tokio::spawn(write_round_robin(
        outs,
        frames_per_write,
        Instant::now() + warmup + duration,
        stop.clone(),
    ));
    tokio::time::sleep(warmup).await;
    let cpu = CpuWindow::start(&[]);
    let child_cpu = readers.child_cpu_s();
    let (start, before) = (Instant::now(), readers.received().await?);
    tokio::time::sleep(duration).await;
    let (took, after) = (start.elapsed(), readers.received().await?);
    let mut cpu = cpu.stop();
    if let (Some(at_start), Some(now), Some(own)) =
        (child_cpu, readers.child_cpu_s(), cpu.bench_s.as_mut())
    {
        *own += now - at_start;
    }
    stop.cancel();
    writer.await??;
    readers.finish().await?;
    let frames = after.saturating_sub(before) as f64 / FRAME_BYTES as f64;
    Ok(Limit {
        clients,
        frames_per_write,
        deliveries_per_s: frames / took.as_secs_f64().max(1e-9),
        readers_apart,
        cpu,
    })
}

/// Count what `input` receives into `received` until it closes or `stop`.
async fn read_counting(
    mut input: TcpStream,
    received: Arc<AtomicU64>,
    stop: CancellationToken,
) -> anyhow::Result<()> {
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
    Ok(())
}

/// Where the reading ends of the sockets are.
enum Readers {
    /// Tasks of this process.
    Here {
        received: Arc<AtomicU64>,
        tasks: Vec<JoinHandle<anyhow::Result<()>>>,
    },
    /// A `limit-readers` child process, asked over its stdin.
    Child(Box<ChildReaders>),
}

/// The reader process and its pipes.
struct ChildReaders {
    child: Child,
    ask: ChildStdin,
    answers: tokio::io::Lines<BufReader<ChildStdout>>,
}

impl Readers {
    /// Start a child process of this binary that connects `clients` sockets to `addr`.
    fn child(addr: std::net::SocketAddr, clients: usize) -> anyhow::Result<Self> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(["limit-readers", "--addr", &addr.to_string()])
            .args(["--clients", &clients.to_string()])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("starting the limit's reader process")?;
        let (Some(ask), Some(out)) = (child.stdin.take(), child.stdout.take()) else {
            bail!("the reader process has no pipes");
        };
        Ok(Self::Child(Box::new(ChildReaders {
            child,
            ask,
            answers: BufReader::new(out).lines(),
        })))
    }

    /// Wait until every socket has its reader.
    async fn ready(&mut self) -> anyhow::Result<()> {
        if let Self::Child(c) = self {
            let line = c.answers.next_line().await?;
            anyhow::ensure!(
                line.as_deref() == Some(READY),
                "the reader process said {line:?}"
            );
        }
        Ok(())
    }

    /// Bytes received so far, all sockets together.
    async fn received(&mut self) -> anyhow::Result<u64> {
        match self {
            Self::Here { received, .. } => Ok(received.load(Ordering::Relaxed)),
            Self::Child(c) => {
                c.ask.write_all(b"count\n").await?;
                c.ask.flush().await?;
                let line = c
                    .answers
                    .next_line()
                    .await?
                    .context("the reader process ended")?;
                Ok(line.trim().parse()?)
            }
        }
    }

    /// The child's CPU seconds so far (none without a child).
    fn child_cpu_s(&self) -> Option<f64> {
        match self {
            Self::Here { .. } => None,
            Self::Child(c) => crate::proc_stats::cpu_seconds(c.child.id()?),
        }
    }

    /// Wait for the readers to end (the writer has closed the sockets).
    async fn finish(self) -> anyhow::Result<()> {
        match self {
            Self::Here { tasks, .. } => {
                for t in tasks {
                    t.await??;
                }
            }
            Self::Child(c) => {
                let ChildReaders { mut child, ask, .. } = *c;
                // Its stdin closing ends it.
                drop(ask);
                let status = child.wait().await?;
                anyhow::ensure!(status.success(), "the reader process failed: {status}");
            }
        }
        Ok(())
    }
}

/// What the reader process prints once every socket is connected.
const READY: &str = "ready";

/// Flags of the reader process (`chatroom-bench limit-readers`), which
/// `limit` starts itself when it may not hold both ends of its sockets.
#[derive(Debug, clap::Args)]
pub struct ReaderArgs {
    /// The writer's listening address.
    #[arg(long)]
    addr: std::net::SocketAddr,
    /// Sockets to connect.
    #[arg(long)]
    clients: usize,
}

/// The reader process: connect, say [`READY`], then answer each line on
/// stdin with the bytes received so far; end when stdin closes.
pub async fn run_readers(args: ReaderArgs) -> anyhow::Result<()> {
    crate::crowd::raise_fd_limit(args.clients);
    let received = Arc::new(AtomicU64::new(0));
    let stop = CancellationToken::new();
    for _ in 0..args.clients.min(MAX_CLIENTS) {
        let input = TcpStream::connect(args.addr).await.context("connecting")?;
        input.set_nodelay(true)?;
        tokio::spawn(read_counting(input, Arc::clone(&received), stop.clone()));
    }
    let mut out = tokio::io::stdout();
    out.write_all(format!("{READY}\n").as_bytes()).await?;
    out.flush().await?;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while lines.next_line().await?.is_some() {
        let n = received.load(Ordering::Relaxed);
        out.write_all(format!("{n}\n").as_bytes()).await?;
        out.flush().await?;
    }
    stop.cancel();
    Ok(())
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
        args.readers_process,
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
        "  CPU of the {} (writer, readers, kernel TCP work) {:.2} cores; machine {}",
        if limit.readers_apart {
            "writer and its reader process"
        } else {
            "process"
        },
        limit.cpu.bench_s.unwrap_or(f64::NAN) / limit.cpu.wall.as_secs_f64().max(1e-9),
        limit
            .cpu
            .machine_busy
            .map_or_else(|| "n/a".to_owned(), |b| format!("{:.0} % busy", 100.0 * b))
    );
    Ok(())
}
