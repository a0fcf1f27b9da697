//! `search`: what a search costs as the history grows, through the index
//! beside the scan it replaced, in the same run (issue 18 §3).
//!
//! One SQLite database (the default) grows to each of `--sizes` room
//! messages, written straight through the server's own database layer
//! (`history::insert_rows`, the store's multi-row INSERTs): eight words each
//! from a vocabulary of 64, and one rare word in 1 of every 100,000
//! messages. At each size an in-process server answers the same searches
//! over the protocol twice: with `--search-index false` (every search reads
//! the history), then with the index, built from nothing first (its build
//! time and size on disk are reported). Timed per search: the first page
//! (50, newest first) for the rare word, for two common words, for a
//! two-character word, and a page of the two common words deep in the
//! history (`before` the middle id).

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chatroom_server::db::history::{self, NewChatRow, TargetKind};
use chatroom_server::{Config, Server};
use chatroom_shared::message::{ClientMessage, Search, ServerMessage};
use clap::Parser as _;
use sea_orm::TransactionTrait;
use tokio::net::TcpListener;

use crate::client::Control;
use crate::percentiles::Samples;

/// Flags of `chatroom-bench search`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// History sizes measured, in messages (ascending; the history grows from one to the next).
    #[arg(long, value_delimiter = ',', default_values_t = [100_000usize, 1_000_000, 10_000_000])]
    sizes: Vec<usize>,
    /// Searches timed per kind through the index.
    #[arg(long, default_value_t = 200)]
    samples: usize,
    /// Most seconds spent timing one kind of search by scanning (at least 3 are
    /// timed; 0: no scan, only the index).
    #[arg(long, default_value_t = 20.0)]
    scan_seconds: f64,
    /// Where the database and the index go (default: a fresh temporary directory).
    #[arg(long)]
    data_dir: Option<std::path::PathBuf>,
}

/// The vocabulary of the generated messages.
const VOCABULARY: [&str; 64] = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
    "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
    "uniform", "victor", "whiskey", "xray", "yankee", "zulu", "rocket", "launch", "noon", "orbit",
    "planet", "comet", "nebula", "galaxy", "meteor", "saturn", "jupiter", "venus", "mars",
    "mercury", "pluto", "neptune", "uranus", "lunar", "solar", "stellar", "cosmic", "gravity",
    "photon", "quantum", "vector", "matrix", "tensor", "scalar", "binary", "cipher", "signal",
    "packet", "router", "socket", "kernel", "thread", "mutex", "buffer",
];
/// The word in 1 of every [`RARE_EVERY`] messages.
const RARE: &str = "xylophonist";
const RARE_EVERY: usize = 100_000;

/// The searches timed.
const KINDS: [(&str, &str, bool); 4] = [
    ("a rare word", RARE, false),
    ("two common words", "rocket launch", false),
    ("a two-letter word", "ra", false),
    ("two common words, deep", "rocket launch", true),
];

/// One kind of search at one size, scanned and through the index.
struct Timed {
    scan: Samples,
    index: Samples,
    found: usize,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let mut sizes = args.sizes.clone();
    sizes.sort_unstable();
    sizes.dedup();
    anyhow::ensure!(!sizes.is_empty(), "--sizes: at least one");
    let temp;
    let dir = match &args.data_dir {
        Some(d) => d.clone(),
        None => {
            temp = tempfile::tempdir()?;
            temp.path().to_owned()
        }
    };
    let url = chatroom_server::db::sqlite_url_for(&dir);
    // The schema and the one account, through a first start.
    let (addr, _, stop) = start(&dir, &url, false).await?;
    drop(Control::user(addr, "alice").await?);
    stop.await?;
    let db = chatroom_server::db::connect(&url).await?;
    // A --data-dir kept from an earlier run grows on from what it holds.
    let mut stored = usize::try_from(history::max_id(&db).await?).unwrap_or(0);
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    println!(
        "search: SQLite, messages of 8 words from {} with {RARE:?} in 1 of {RARE_EVERY}; first page of 50, newest first",
        VOCABULARY.len()
    );
    let mut all = Vec::new();
    for &size in &sizes {
        let at = Instant::now();
        while stored < size {
            let n = (size - stored).min(20_000);
            let rows: Vec<NewChatRow> = (0..n).map(|i| row(stored + i + 1, &mut rng)).collect();
            let txn = db.begin().await?;
            history::insert_rows(&txn, &rows).await?;
            txn.commit().await?;
            stored += n;
        }
        let filled = at.elapsed();
        let middle = i64::try_from(size / 2).unwrap_or(i64::MAX);

        let (addr, _, stop) = start(&dir, &url, false).await?;
        let mut c = Control::user(addr, "alice").await?;
        let budget = Duration::from_secs_f64(args.scan_seconds);
        let mut timed = Vec::new();
        for (_, words, deep) in KINDS {
            let before = deep.then_some(middle);
            let mut scan = Samples::default();
            let started = Instant::now();
            let mut found = 0;
            while args.scan_seconds > 0.0
                && (scan.len() < 3 || (scan.len() < args.samples && started.elapsed() < budget))
            {
                let (took, n) = time_search(&mut c, words, before).await?;
                scan.push(took);
                found = n;
            }
            timed.push(Timed {
                scan,
                index: Samples::default(),
                found,
            });
        }
        drop(c);
        stop.await?;

        let index_dir = dir.join(chatroom_server::search::DIR);
        let _ = std::fs::remove_dir_all(&index_dir);
        let at = Instant::now();
        let (addr, bytes, stop) = start(&dir, &url, true).await?;
        let built = at.elapsed();
        let mut c = Control::user(addr, "alice").await?;
        for (t, (name, words, deep)) in timed.iter_mut().zip(KINDS) {
            let before = deep.then_some(middle);
            for _ in 0..args.samples {
                let (took, n) = time_search(&mut c, words, before).await?;
                if args.scan_seconds <= 0.0 {
                    t.found = n;
                } else if n != t.found {
                    bail!(
                        "{name}: the index found {n} on the first page, the scan {}",
                        t.found
                    );
                }
                t.index.push(took);
            }
        }
        drop(c);
        stop.await?;
        println!(
            "{size} messages (filled in {:.1} s): index built in {:.1} s, {:.1} MiB on disk ({:.0} bytes a message)",
            filled.as_secs_f64(),
            built.as_secs_f64(),
            bytes as f64 / (1024.0 * 1024.0),
            bytes as f64 / size as f64,
        );
        for (t, (name, _, _)) in timed.iter().zip(KINDS) {
            println!(
                "  {name:<24} found {:>2}  scan p50 {:>9.2} ms p99 {:>9.2} ms ({} samples)  index p50 {:>6.2} ms p99 {:>6.2} ms  scan/index {:>7.1}x",
                t.found,
                t.scan.ms(0.5),
                t.scan.ms(0.99),
                t.scan.len(),
                t.index.ms(0.5),
                t.index.ms(0.99),
                t.scan.ms(0.5) / t.index.ms(0.5).max(1e-6),
            );
        }
        all.push((size, timed));
    }
    if let (Some((small, first)), Some((large, last))) = (all.first(), all.last())
        && all.len() > 1
    {
        for ((a, b), (name, _, _)) in first.iter().zip(last).zip(KINDS) {
            println!(
                "  {large} vs {small} messages, {name}: scan p50 {:.1}x, index p50 {:.1}x",
                b.scan.ms(0.5) / a.scan.ms(0.5).max(1e-6),
                b.index.ms(0.5) / a.index.ms(0.5).max(1e-6),
            );
        }
    }
    Ok(())
}

/// Generated message `id`: 8 words, or the rare word among 7.
fn row(id: usize, rng: &mut u64) -> NewChatRow {
    let mut words: Vec<&str> = (0..8)
        .map(|_| {
            *rng ^= *rng << 13;
            *rng ^= *rng >> 7;
            *rng ^= *rng << 17;
            VOCABULARY[(*rng % VOCABULARY.len() as u64) as usize]
        })
        .collect();
    if id % RARE_EVERY == RARE_EVERY / 2 {
        words[3] = RARE;
    }
    let id = i64::try_from(id).unwrap_or(i64::MAX);
    NewChatRow {
        id,
        text: words.join(" "),
        send_time: 1_700_000_000_000 + id,
        level: history::LEVEL_USER,
        uid: Some(1),
        target_kind: TargetKind::Room,
        target_id: 0,
        client_msg_id: None,
    }
}

/// One search's first page: how long it took and how many it found.
async fn time_search(
    c: &mut Control,
    text: &str,
    before: Option<i64>,
) -> anyhow::Result<(Duration, usize)> {
    let at = Instant::now();
    let reply = c
        .request(ClientMessage::Search(Search {
            text: text.into(),
            before,
            limit: Some(50),
        }))
        .await?;
    let took = at.elapsed();
    match reply {
        ServerMessage::SearchResults(r) => Ok((took, r.messages.len())),
        other => bail!("search {text:?}: {other:?}"),
    }
}

/// Start a server in this process on `url` and `dir`, with or without the
/// index (with it, once the index has read the history); returns its address,
/// the index's bytes on disk, and what stops it.
async fn start(
    dir: &Path,
    url: &str,
    index: bool,
) -> anyhow::Result<(SocketAddr, u64, impl Future<Output = anyhow::Result<()>>)> {
    let config = Config::try_parse_from([
        "chatroom-server",
        "--plain",
        "--bcrypt-cost",
        "4",
        "--request-rate",
        "0",
        "--data-dir",
        &dir.display().to_string(),
        "--database-url",
        url,
        "--search-index",
        if index { "true" } else { "false" },
    ])?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let server = Box::pin(Server::start(listener, config))
        .await
        .context("starting the server")?;
    let addr = server.local_addr()?;
    let search = server.search_index();
    let shutdown = server.shutdown_token();
    let running = tokio::spawn(server.run());
    let mut bytes = 0;
    if let Some(s) = &search {
        s.ready().await;
        bytes = s.size().bytes;
    }
    drop(search);
    Ok((addr, bytes, async move {
        shutdown.cancel();
        running.await??;
        Ok(())
    }))
}
