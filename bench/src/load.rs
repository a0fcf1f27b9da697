//! Many logged-in clients for the load scenarios (`fanout`, `store`).
//!
//! Clients log in in parallel batches. Every client then has a receiver task
//! that reads its socket continuously, cuts frames by their length prefix and
//! looks only at the bytes it needs ([`crate::frames`]): a benchmark message's
//! send timestamp (its text is `t<microseconds since the run's base instant>`)
//! gives the send → delivery latency, and a sender's `say_ok` gives the send →
//! ack latency and frees a slot of its window ([`crate::sender`]).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::{Buf, BytesMut};
use chatroom_shared::MAX_SERVER_FRAME;
use tokio::io::AsyncReadExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::client::Control;
use crate::frames::{self, Kind};
use crate::report::{self, Latency};
use crate::sender::{Outstanding, Sender};

/// Longest one login may take (registration runs bcrypt on the server).
const LOGIN_LIMIT: Duration = Duration::from_secs(120);

/// Counters of a run, shared by all its clients.
#[derive(Debug)]
pub struct Shared {
    /// The instant the timestamps in messages count from.
    pub base: Instant,
    /// Benchmark messages received, by all clients together.
    pub delivered: AtomicU64,
    /// Read calls that returned at least one benchmark message (so
    /// `delivered / reads` is how many the server packs into one write).
    pub reads: AtomicU64,
    /// Messages sent.
    pub sent: AtomicU64,
    /// Messages acknowledged with `say_ok`.
    pub acked: AtomicU64,
    /// Error frames received.
    pub errors: AtomicU64,
    /// The first error frame, for the report.
    pub first_error: Mutex<Option<String>>,
    /// Users the server dropped as too slow (from the others' `user_left`
    /// events): a silent close for the dropped client itself.
    pub too_slow: Mutex<BTreeSet<String>>,
}

impl Shared {
    /// Fresh counters with the base instant now.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            base: Instant::now(),
            delivered: AtomicU64::new(0),
            reads: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            acked: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            first_error: Mutex::new(None),
            too_slow: Mutex::new(BTreeSet::new()),
        })
    }

    /// Microseconds since the base instant.
    pub fn micros(&self) -> u64 {
        self.micros_at(Instant::now())
    }

    /// Microseconds from the base instant to `t`.
    pub fn micros_at(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.base).as_micros()).unwrap_or(u64::MAX)
    }

    /// Note a `user_left` event's user if the reason is `too_slow`.
    fn user_left(&self, body: &[u8]) {
        let Ok(event) = serde_json::from_slice::<serde_json::Value>(body) else {
            return;
        };
        if event["reason"] == "too_slow"
            && let Some(name) = event["name"].as_str()
            // The lock is never held across an await.
            && let Ok(mut names) = self.too_slow.lock()
        {
            names.insert(name.to_owned());
        }
    }

    /// The users dropped as too slow so far.
    pub fn too_slow(&self) -> Vec<String> {
        self.too_slow
            .lock()
            .map(|n| n.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The users dropped as too slow so far, in words (context for a
    /// sender whose connection the server closed).
    pub fn drops(&self) -> String {
        let names = self.too_slow();
        if names.is_empty() {
            "no user_left with reason too_slow was seen".into()
        } else {
            format!("the server dropped as too slow: {names:?}")
        }
    }

    fn error(&self, body: &[u8]) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        // The lock is never held across an await.
        if let Ok(mut first) = self.first_error.lock() {
            first.get_or_insert_with(|| String::from_utf8_lossy(body).into_owned());
        }
    }
}

/// What one receiver saw.
#[derive(Debug)]
pub struct Received {
    /// Send → delivery latencies of the benchmark messages it received.
    pub latency: Latency,
    /// How many it received.
    pub messages: u64,
    /// The server closed the connection before the end.
    pub closed: bool,
}

/// Read `io` until `stop` (or the server closes it), counting and timing the
/// benchmark messages; `sender` gets the `say_ok`s of this connection.
async fn receive(
    mut io: OwnedReadHalf,
    mut buf: BytesMut,
    shared: Arc<Shared>,
    sender: Option<Arc<Outstanding>>,
    stop: CancellationToken,
) -> anyhow::Result<Received> {
    let mut latency = report::latency()?;
    let mut messages = 0u64;
    let mut answers: Vec<(u32, bool)> = Vec::new();
    let mut closed = false;
    loop {
        if buf.capacity() - buf.len() < 16 * 1024 {
            buf.reserve(64 * 1024);
        }
        let n = tokio::select! {
            biased;
            () = stop.cancelled() => break,
            n = io.read_buf(&mut buf) => n.context("reading from the server")?,
        };
        if n == 0 {
            closed = true;
            break;
        }
        let now = shared.micros();
        let mut stamped = 0u64;
        let used = frames::split(&buf, MAX_SERVER_FRAME, |body| {
            match frames::classify(body) {
                Kind::Stamped(sent) => {
                    report::record(&mut latency, now.saturating_sub(sent));
                    stamped += 1;
                }
                Kind::SayOk(seq) => answers.push((seq, true)),
                Kind::Error => {
                    shared.error(body);
                    let seq = serde_json::from_slice::<serde_json::Value>(body)
                        .ok()
                        .and_then(|v| v.get("seq")?.as_u64())
                        .and_then(|s| u32::try_from(s).ok());
                    if let Some(seq) = seq {
                        answers.push((seq, false));
                    }
                }
                Kind::UserLeft => shared.user_left(body),
                Kind::Other => {}
            }
        })
        .map_err(|len| anyhow::anyhow!("the server sent a frame of {len} bytes"))?;
        buf.advance(used);
        if stamped > 0 {
            messages += stamped;
            shared.delivered.fetch_add(stamped, Ordering::Relaxed);
            shared.reads.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(s) = &sender
            && !answers.is_empty()
        {
            s.answered(&answers, now, &shared);
            answers.clear();
        }
    }
    Ok(Received {
        latency,
        messages,
        closed,
    })
}

/// Every logged-in client of a run.
pub struct Crowd {
    /// The senders (the first clients logged in).
    pub senders: Vec<Sender>,
    receivers: Vec<tokio::task::JoinHandle<anyhow::Result<Received>>>,
    /// Write halves of the clients that only receive (dropping one would close it).
    _quiet: Vec<OwnedWriteHalf>,
    stop: CancellationToken,
}

/// What every receiver of a crowd saw, merged.
#[derive(Debug)]
pub struct Totals {
    /// Send → delivery latencies.
    pub latency: Latency,
    /// Benchmark messages received, all clients together.
    pub messages: u64,
    /// Connections the server closed before the end.
    pub closed: usize,
}

impl Crowd {
    /// Log in `clients` users named `<prefix><i>`, `parallel` at a time, client
    /// `i` on `addrs[i % addrs.len()]` (round-robin over the nodes of a
    /// cluster, senders and receivers alike); the first `senders` of them
    /// become senders. Every client starts reading as soon as it is logged in.
    pub async fn gather(
        addrs: &[SocketAddr],
        prefix: &str,
        clients: usize,
        senders: usize,
        parallel: usize,
        shared: &Arc<Shared>,
    ) -> anyhow::Result<Self> {
        let gate = Arc::new(tokio::sync::Semaphore::new(parallel.max(1)));
        let mut logins = JoinSet::new();
        anyhow::ensure!(!addrs.is_empty(), "no server address");
        for i in 0..clients {
            let addr = addrs[i % addrs.len()];
            let gate = Arc::clone(&gate);
            let name = format!("{prefix}{i}");
            logins.spawn(async move {
                let _permit = gate.acquire_owned().await?;
                let c = tokio::time::timeout(LOGIN_LIMIT, Control::user(addr, &name))
                    .await
                    .with_context(|| format!("login of {name} timed out"))??;
                anyhow::Ok((i, c))
            });
        }
        let stop = CancellationToken::new();
        let mut crowd = Self {
            senders: Vec::with_capacity(senders),
            receivers: Vec::with_capacity(clients),
            _quiet: Vec::with_capacity(clients),
            stop: stop.clone(),
        };
        while let Some(joined) = logins.join_next().await {
            let (i, control) = joined??;
            let Control { reader, writer, .. } = control;
            let parts = reader.into_parts();
            let mut outstanding = None;
            if i < senders {
                let sender = Sender::new(writer, i)?;
                outstanding = Some(Arc::clone(&sender.outstanding));
                crowd.senders.push(sender);
            } else {
                crowd._quiet.push(writer);
            }
            crowd.receivers.push(tokio::spawn(receive(
                parts.io,
                parts.read_buf,
                Arc::clone(shared),
                outstanding,
                stop.clone(),
            )));
        }
        Ok(crowd)
    }

    /// Messages sent and not yet acknowledged, all senders together.
    pub fn pending(&self) -> usize {
        self.senders.iter().map(|s| s.outstanding.pending()).sum()
    }

    /// Stop every receiver and merge what they saw.
    pub async fn finish(self) -> anyhow::Result<Totals> {
        self.stop.cancel();
        let mut totals = Totals {
            latency: report::latency()?,
            messages: 0,
            closed: 0,
        };
        for r in self.receivers {
            let r = r.await??;
            totals.latency.add(&r.latency)?;
            totals.messages += r.messages;
            totals.closed += usize::from(r.closed);
        }
        Ok(totals)
    }
}

/// Wait until `done` holds or `limit` has passed, checking every 20 ms.
/// Returns whether it holds.
pub async fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while !done() {
        if Instant::now() >= end {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

/// A user-name prefix unique to this run (names are at most 32 characters).
pub fn name_prefix(scenario: &str) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() % 100_000);
    format!("{scenario}{}-{secs}-", std::process::id())
}
