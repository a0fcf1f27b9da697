//! The sending side of the load scenarios: a sender's messages not yet
//! acknowledged (shared with the connection's receiver, which sees the
//! `say_ok`s), and its pacing: flat out with a bounded window, or open-loop
//! at a fixed rate. Each message's text is `t<microseconds since the run's
//! base instant>`, the send time every receiver reads back.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::BytesMut;
use chatroom_shared::message::{ClientMessage, Request, Say, Send, Target};
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;

use crate::load::Shared;
use crate::own_thread::OwnThread;
use crate::report::{self, Latency};

/// Most messages one sender writes in one call.
const BATCH: usize = 64;
/// Most messages one sender sends in a run, whatever the time.
const MAX_PER_SENDER: u32 = 100_000_000;
/// How long a write may wait for the server after a phase's end.
const WRITE_GRACE: Duration = Duration::from_secs(30);
/// First `seq` of a sender's messages (the login used the small ones).
const FIRST_SEQ: u32 = 100;

/// A sender's messages not yet acknowledged, shared by its writer and its reader.
#[derive(Debug)]
pub struct Outstanding {
    state: Mutex<InFlight>,
    acked: tokio::sync::Notify,
}

#[derive(Debug)]
struct InFlight {
    /// `(seq, send time in micros)` in send order.
    sent: VecDeque<(u32, u64)>,
    /// Send → `say_ok` latencies.
    acks: Latency,
}

impl Outstanding {
    fn new() -> anyhow::Result<Arc<Self>> {
        Ok(Arc::new(Self {
            state: Mutex::new(InFlight {
                sent: VecDeque::new(),
                acks: report::latency()?,
            }),
            acked: tokio::sync::Notify::new(),
        }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, InFlight> {
        // Never held across an await; a panic while holding it cannot leave
        // the queue worse than a lost sample, so a poisoned lock is used as is.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Messages sent and not yet acknowledged.
    pub fn pending(&self) -> usize {
        self.lock().sent.len()
    }

    /// The ack latencies recorded so far; starts a new histogram.
    pub fn take_acks(&self) -> anyhow::Result<Latency> {
        Ok(std::mem::replace(&mut self.lock().acks, report::latency()?))
    }

    /// Record the acks (`true`) or errors (`false`) for `seqs`, received at `now`.
    pub fn answered(&self, seqs: &[(u32, bool)], now: u64, shared: &Shared) {
        let mut acked = 0;
        {
            let mut state = self.lock();
            for &(seq, ok) in seqs {
                // Acks come in send order, so this is nearly always the front.
                let Some(i) = state.sent.iter().position(|&(s, _)| s == seq) else {
                    continue;
                };
                if let Some((_, sent)) = state.sent.remove(i)
                    && ok
                {
                    report::record(&mut state.acks, now.saturating_sub(sent));
                    acked += 1;
                }
            }
        }
        shared.acked.fetch_add(acked, Ordering::Relaxed);
        self.acked.notify_one();
    }
}

/// How a sender paces its messages.
#[derive(Debug, Clone, Copy)]
pub enum Pace {
    /// Flat out, with at most this many messages not yet acknowledged.
    Window(usize),
    /// Open loop: this many messages per second, sent on a timer whatever the
    /// acks; the first one `offset` after the start (to spread the senders).
    /// A message's timestamp is when it was due, so a late generator counts
    /// against the latency rather than hiding it.
    Rate {
        /// Messages per second of this sender.
        per_second: f64,
        /// Delay of its first message.
        offset: Duration,
    },
}

/// Run `senders` until `until`, sender `i` paced by `pace(i)`, on a thread of
/// their own: an open-loop generator must send when its messages are due, not
/// when the runtime is done with a thousand receivers' reads (which would
/// show as server latency). Returns the senders, for their acks.
pub async fn run_all(
    senders: Vec<Sender>,
    pace: impl Fn(usize) -> Pace,
    until: Instant,
    shared: &Arc<Shared>,
) -> anyhow::Result<Vec<Sender>> {
    let pacer = OwnThread::start("bench-senders")?;
    let mut sending = Vec::with_capacity(senders.len());
    for (i, mut sender) in senders.into_iter().enumerate() {
        let (shared, pace) = (Arc::clone(shared), pace(i));
        sending.push(
            pacer.spawn(async move { sender.run(pace, until, &shared).await.map(|()| sender) }),
        );
    }
    let mut done = Vec::with_capacity(sending.len());
    let mut failed = None;
    for s in sending {
        match s.await {
            Ok(Ok(sender)) => done.push(sender),
            Ok(Err(e)) => failed = failed.or(Some(e)),
            Err(e) => failed = failed.or(Some(e.into())),
        }
    }
    drop(pacer);
    match failed {
        Some(e) => Err(e),
        None => Ok(done),
    }
}

/// The sending side of a sender's connection.
pub struct Sender {
    writer: OwnedWriteHalf,
    seq: u32,
    /// Its messages not yet acknowledged.
    pub outstanding: Arc<Outstanding>,
    /// Its place among the clients of its crowd (`<prefix><index>` is its name).
    pub index: usize,
    /// Where its messages go: the main room (`say`) unless a scenario says
    /// otherwise (`send`).
    pub to: Target,
}

impl Sender {
    /// A sender writing to `writer`, a logged-in connection whose receiver
    /// hands the acks to [`Sender::outstanding`].
    pub fn new(writer: OwnedWriteHalf, index: usize) -> anyhow::Result<Self> {
        Ok(Self {
            writer,
            seq: FIRST_SEQ,
            outstanding: Outstanding::new()?,
            index,
            to: Target::Room,
        })
    }

    /// Send benchmark messages paced by `pace` until `until`.
    pub async fn run(&mut self, pace: Pace, until: Instant, shared: &Shared) -> anyhow::Result<()> {
        let mut buf = BytesMut::with_capacity(BATCH * 96);
        let mut due: Vec<u64> = Vec::with_capacity(BATCH);
        let mut next = Instant::now();
        if let Pace::Rate { offset, .. } = pace {
            next += offset;
        }
        while Instant::now() < until && self.seq < MAX_PER_SENDER {
            due.clear();
            match pace {
                Pace::Window(window) => {
                    let free = window.saturating_sub(self.outstanding.pending());
                    if free == 0 {
                        let wait = self.outstanding.acked.notified();
                        let _ = tokio::time::timeout_at(until.into(), wait).await;
                        continue;
                    }
                    let now = shared.micros();
                    due.extend(std::iter::repeat_n(now, free.min(BATCH)));
                }
                Pace::Rate { per_second, .. } => {
                    if next >= until {
                        break;
                    }
                    tokio::time::sleep_until(next.into()).await;
                    let now = Instant::now();
                    let period = Duration::from_secs_f64(1.0 / per_second.max(1e-3));
                    while next <= now && next < until && due.len() < BATCH {
                        due.push(shared.micros_at(next));
                        next += period;
                    }
                }
            }
            self.send(&due, &mut buf, until, shared).await?;
        }
        Ok(())
    }

    /// Write one message per timestamp in `due`, in one write call.
    async fn send(
        &mut self,
        due: &[u64],
        buf: &mut BytesMut,
        until: Instant,
        shared: &Shared,
    ) -> anyhow::Result<()> {
        buf.clear();
        let first = self.seq;
        for &t in due {
            self.seq += 1;
            let (id, text) = (format!("m{}", self.seq), format!("t{t}"));
            let body = match &self.to {
                Target::Room => ClientMessage::Say(Say { id, text }),
                to => ClientMessage::Send(Send {
                    id,
                    to: to.clone(),
                    text,
                }),
            };
            let say = Request {
                seq: self.seq,
                body,
            };
            chatroom_shared::encode_frame_into(buf, &say)?;
        }
        {
            let mut state = self.outstanding.lock();
            state
                .sent
                .extend(due.iter().zip(first + 1..).map(|(&t, seq)| (seq, t)));
        }
        shared.sent.fetch_add(due.len() as u64, Ordering::Relaxed);
        match tokio::time::timeout_at((until + WRITE_GRACE).into(), self.writer.write_all(buf))
            .await
        {
            Ok(r) => r.context("writing to the server"),
            Err(_) => bail!("the server took no bytes for {WRITE_GRACE:?}"),
        }
    }
}
