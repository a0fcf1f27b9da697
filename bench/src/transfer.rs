//! The `transfer` scenario: file upload and download throughput through the
//! server, against this machine's raw loopback TCP throughput measured in the
//! same run, with chat latency measured while the transfer runs.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chatroom_shared::message::{ClientMessage, DownloadBegin, Say, ServerMessage, UploadBegin};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::client::{self, Control};
use crate::proc_stats;
use crate::server::ServerArgs;

/// Flags of `chatroom-bench transfer`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// File size in bytes (default 1 GiB).
    #[arg(long, default_value_t = 1 << 30)]
    size: u64,
    /// The server to measure.
    #[command(flatten)]
    server: ServerArgs,
    /// Milliseconds between chat messages while the transfer runs.
    #[arg(long, default_value_t = 20)]
    chat_interval_ms: u64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// Longest any phase may take before the benchmark gives up.
const PHASE_LIMIT: Duration = Duration::from_secs(600);

fn mib_per_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / (1024.0 * 1024.0) / d.as_secs_f64().max(1e-9)
}

/// One writer pushing `size` bytes to one reader over loopback TCP, 1 MiB per write.
async fn raw_loopback(size: u64) -> anyhow::Result<Duration> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let reader = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await?;
        let mut buf = vec![0u8; 1 << 20];
        let mut got = 0u64;
        while got < size {
            let n = s.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            got += n as u64;
        }
        anyhow::Ok(got)
    });
    let mut w = TcpStream::connect(addr).await?;
    let buf = vec![7u8; 1 << 20];
    let start = Instant::now();
    let mut sent = 0u64;
    while sent < size {
        let n = usize::try_from((size - sent).min(buf.len() as u64))?;
        w.write_all(&buf[..n]).await?;
        sent += n as u64;
    }
    w.shutdown().await?;
    let got = reader.await??;
    if got != size {
        bail!("raw loopback: {got} of {size} bytes");
    }
    Ok(start.elapsed())
}

/// Write `size` bytes to a file in `dir` in 256 KiB writes and sync it once at
/// the end, like `dd conv=fsync`: the disk's own ceiling for storing an upload
/// durably, measured in the same run.
fn raw_disk(dir: &Path, size: u64) -> anyhow::Result<Duration> {
    let path = dir.join("raw-disk.bin");
    let mut file = std::fs::File::create(&path)?;
    let buf = vec![7u8; 256 * 1024];
    let start = Instant::now();
    let mut written = 0u64;
    while written < size {
        let n = usize::try_from((size - written).min(buf.len() as u64))?;
        file.write_all(&buf[..n])?;
        written += n as u64;
    }
    file.sync_all()?;
    let took = start.elapsed();
    drop(file);
    std::fs::remove_file(&path)?;
    Ok(took)
}

/// SHA-256 of `size` bytes on one core, from memory: the ceiling of an upload,
/// whose server must hash every byte before it may share the file.
fn raw_sha256(size: u64) -> anyhow::Result<Duration> {
    let buf = vec![7u8; 1 << 20];
    let mut hasher = Sha256::new();
    let start = Instant::now();
    let mut left = size;
    while left > 0 {
        let n = usize::try_from(left.min(buf.len() as u64))?;
        hasher.update(&buf[..n]);
        left -= n as u64;
    }
    std::hint::black_box(hasher.finalize());
    Ok(start.elapsed())
}

/// Write `size` pseudo-random bytes to `path`; returns their SHA-256 (hex).
fn make_file(path: &Path, size: u64) -> anyhow::Result<String> {
    let mut file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut hasher = Sha256::new();
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut buf = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        for chunk in buf.chunks_exact_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes());
        }
        let n = usize::try_from(left.min(buf.len() as u64))?;
        file.write_all(&buf[..n])?;
        hasher.update(&buf[..n]);
        left -= n as u64;
    }
    file.flush()?;
    Ok(testkit::transfer::hex(&hasher.finalize()))
}

/// Latency samples in microseconds.
#[derive(Debug, Default)]
struct Samples(Vec<u64>);

impl Samples {
    fn percentile(&self, p: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        let mut v = self.0.clone();
        v.sort_unstable();
        let i = ((v.len() as f64 - 1.0) * p).round() as usize;
        v[i] as f64 / 1000.0
    }
}

/// Chat between two other users and from the uploader while `running` holds.
struct ChatLoad {
    others: tokio::task::JoinHandle<anyhow::Result<Samples>>,
    uploader: tokio::task::JoinHandle<anyhow::Result<Samples>>,
}

fn start_chat(
    a: Control,
    b: Control,
    mut up: Control,
    every: Duration,
    running: Arc<AtomicBool>,
) -> ChatLoad {
    let base = Instant::now();
    let Control {
        reader: mut a_reader,
        writer: mut a_writer,
        ..
    } = a;
    // Keep b's write half: dropping it would close b's side of the connection.
    let Control {
        reader: mut b_reader,
        writer: b_writer,
        ..
    } = b;
    // a's replies and events are drained so its queue never fills.
    tokio::spawn(async move { while client::read(&mut a_reader).await.is_ok() {} });
    let sender_running = Arc::clone(&running);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        let mut seq = 0u32;
        while sender_running.load(Ordering::Relaxed) && seq < 1_000_000 {
            tick.tick().await;
            seq += 1;
            let micros = base.elapsed().as_micros();
            let say = ClientMessage::Say(Say {
                id: format!("a{seq}"),
                text: format!("t{micros}"),
            });
            if client::write(&mut a_writer, seq, say).await.is_err() {
                break;
            }
        }
    });
    let b_running = Arc::clone(&running);
    let others = tokio::spawn(async move {
        let _keep_open = b_writer;
        let mut samples = Samples::default();
        while b_running.load(Ordering::Relaxed) {
            let Ok(m) =
                tokio::time::timeout(Duration::from_secs(1), client::read(&mut b_reader)).await
            else {
                continue;
            };
            if let ServerMessage::Message(m) = m?
                && let Some(sent) = m
                    .text
                    .strip_prefix('t')
                    .and_then(|t| t.parse::<u128>().ok())
            {
                let now = base.elapsed().as_micros();
                samples
                    .0
                    .push(u64::try_from(now.saturating_sub(sent)).unwrap_or(u64::MAX));
            }
        }
        Ok(samples)
    });
    let uploader = tokio::spawn(async move {
        let mut samples = Samples::default();
        let mut n = 0u32;
        while running.load(Ordering::Relaxed) && n < 100_000 {
            n += 1;
            let start = Instant::now();
            let say = ClientMessage::Say(Say {
                id: format!("u{n}"),
                text: "uploading…".into(),
            });
            match up.request(say).await? {
                ServerMessage::SayOk(_) => {
                    samples.0.push(u64::try_from(start.elapsed().as_micros())?)
                }
                other => bail!("uploader chat: {other:?}"),
            }
            tokio::time::sleep(every * 2).await;
        }
        Ok(samples)
    });
    ChatLoad { others, uploader }
}

/// Run the scenario and print its figures.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let size = args.size;
    let raw = raw_loopback(size).await.context("raw loopback")?;
    let disk_dir = tempfile::tempdir()?;
    let disk = tokio::task::spawn_blocking({
        let dir = disk_dir.path().to_owned();
        move || raw_disk(&dir, size)
    })
    .await?
    .context("raw disk write")?;
    let hash = raw_sha256(size)?;
    args.server.one_node()?;
    let target = args.server.target().await?;
    let addr = target.addr;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bench.bin");
    let sha256 = tokio::task::spawn_blocking({
        let path = path.clone();
        move || make_file(&path, size)
    })
    .await??;
    let tag = std::process::id();
    let mut up = Control::user(addr, &format!("up{tag}"))
        .await
        .context("uploader login")?;
    let a = Control::user(addr, &format!("a{tag}"))
        .await
        .context("chatter login")?;
    let b = Control::user(addr, &format!("b{tag}"))
        .await
        .context("chatter login")?;
    let before = target.pid.and_then(proc_stats::memory);
    let cpu_before = target.pid.and_then(proc_stats::cpu_seconds);

    let ready = up
        .request(ClientMessage::UploadBegin(UploadBegin {
            name: format!("bench-{tag}.bin"),
            size,
            sha256: sha256.clone(),
            comment: None,
        }))
        .await
        .context("upload_begin")?;
    let ServerMessage::UploadReady(ready) = ready else {
        bail!("upload_begin: {ready:?}")
    };
    let running = Arc::new(AtomicBool::new(true));
    let chat = start_chat(
        a,
        b,
        up,
        Duration::from_millis(args.chat_interval_ms),
        Arc::clone(&running),
    );
    let (up_time, file) =
        tokio::time::timeout(PHASE_LIMIT, client::upload(addr, &ready.ticket, &path)).await??;

    let mut downloader = Control::user(addr, &format!("d{tag}"))
        .await
        .context("downloader login")?;
    let reply = downloader
        .request(ClientMessage::DownloadBegin(DownloadBegin {
            file_id: file.id,
            offset: 0,
        }))
        .await?;
    let ServerMessage::DownloadReady(ready) = reply else {
        bail!("download_begin: {reply:?}")
    };
    let (down_times, digest) =
        tokio::time::timeout(PHASE_LIMIT, client::download(addr, &ready.ticket)).await??;
    running.store(false, Ordering::Relaxed);
    if digest != sha256 {
        bail!("the downloaded bytes differ from the uploaded ones");
    }
    let others = chat.others.await?.context("chat between others")?;
    let uploader = chat.uploader.await?.context("the uploader's chat")?;
    let after = target.pid.and_then(proc_stats::memory);
    let cpu = match (cpu_before, target.pid.and_then(proc_stats::cpu_seconds)) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let own = proc_stats::memory(std::process::id());

    let raw_rate = mib_per_s(size, raw);
    let disk_rate = mib_per_s(size, disk);
    let hash_rate = mib_per_s(size, hash);
    let up_rate = mib_per_s(size, up_time);
    let down_rate = mib_per_s(size, down_times.received);
    let verified_rate = mib_per_s(size, down_times.verified);
    let report = serde_json::json!({
        "scenario": "transfer",
        "bytes": size,
        "raw_loopback_mib_s": raw_rate,
        "raw_disk_write_mib_s": disk_rate,
        "raw_sha256_mib_s": hash_rate,
        "upload_pct_of_disk": 100.0 * up_rate / disk_rate,
        "upload_pct_of_sha256": 100.0 * up_rate / hash_rate,
        "upload_mib_s": up_rate,
        "upload_pct_of_raw": 100.0 * up_rate / raw_rate,
        "download_mib_s": down_rate,
        "download_pct_of_raw": 100.0 * down_rate / raw_rate,
        "download_verified_mib_s": verified_rate,
        "download_verified_pct_of_raw": 100.0 * verified_rate / raw_rate,
        "chat_others_ms": {"n": others.0.len(), "p50": others.percentile(0.5), "p99": others.percentile(0.99), "max": others.percentile(1.0)},
        "chat_uploader_ms": {"n": uploader.0.len(), "p50": uploader.percentile(0.5), "p99": uploader.percentile(0.99), "max": uploader.percentile(1.0)},
        "server_rss_before_kib": before.map(|m| m.now_kib),
        "server_rss_after_kib": after.map(|m| m.now_kib),
        "server_peak_rss_kib": after.map(|m| m.peak_kib),
        "server_cpu_s": cpu,
        "bench_peak_rss_kib": own.map(|m| m.peak_kib),
    });
    if args.json {
        println!("{report}");
        return Ok(());
    }
    let mib = |k: Option<u64>| {
        k.map_or_else(
            || "n/a".to_owned(),
            |k| format!("{:.1} MiB", k as f64 / 1024.0),
        )
    };
    println!(
        "transfer benchmark: {:.2} GiB over loopback",
        size as f64 / f64::from(1u32 << 30)
    );
    println!("  raw loopback TCP          {raw_rate:9.1} MiB/s");
    println!("  raw disk write (synced)   {disk_rate:9.1} MiB/s  (the temporary directory's disk)");
    println!("  raw SHA-256, one core     {hash_rate:9.1} MiB/s");
    println!(
        "  upload                    {up_rate:9.1} MiB/s  {:5.1}% of raw (target >= 60%), {:5.1}% of the disk, {:5.1}% of SHA-256",
        100.0 * up_rate / raw_rate,
        100.0 * up_rate / disk_rate,
        100.0 * up_rate / hash_rate
    );
    println!(
        "  download                  {down_rate:9.1} MiB/s  {:5.1}% of raw (target >= 60%)",
        100.0 * down_rate / raw_rate
    );
    println!(
        "  download, SHA-256 checked {verified_rate:9.1} MiB/s  {:5.1}% of raw (the client's hash on one core)",
        100.0 * verified_rate / raw_rate
    );
    println!(
        "  chat, others   p50 {:6.2} ms  p99 {:6.2} ms  max {:6.2} ms  n={}  (target p99 < 20 ms)",
        others.percentile(0.5),
        others.percentile(0.99),
        others.percentile(1.0),
        others.0.len()
    );
    println!(
        "  chat, uploader p50 {:6.2} ms  p99 {:6.2} ms  max {:6.2} ms  n={}  (target p99 < 50 ms)",
        uploader.percentile(0.5),
        uploader.percentile(0.99),
        uploader.percentile(1.0),
        uploader.0.len()
    );
    println!(
        "  server RSS before {}, after {}, peak {}; server CPU {}",
        mib(before.map(|m| m.now_kib)),
        mib(after.map(|m| m.now_kib)),
        mib(after.map(|m| m.peak_kib)),
        cpu.map_or_else(|| "n/a".into(), |c| format!("{c:.1} s"))
    );
    println!("  benchmark peak RSS {}", mib(own.map(|m| m.peak_kib)));
    Ok(())
}
