//! Two users chatting while something else loads the server, as the yardstick
//! of how that load disturbs chat: one sends a timestamped message every few
//! milliseconds and times each `say_ok` (send → durable ack); the other times
//! each message's arrival (send → delivery). Every sample keeps its send time,
//! so a run can split them into phases afterwards.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chatroom_shared::message::{ClientMessage, Ping, Say, ServerMessage};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::client::{self, Control};
use crate::own_thread::OwnThread;
use crate::percentiles::Samples;

/// Most messages one run sends, whatever the interval.
const MAX_MESSAGES: u32 = 1_000_000;

/// How often the receiver pings (the server's keepalive is a minute by default).
const RECEIVER_PING: Duration = Duration::from_secs(15);

/// One latency: when the message was sent and how long it took, in
/// microseconds since [`Chat::base`].
#[derive(Debug, Clone, Copy)]
struct Sample {
    sent: u64,
    took: u64,
}

/// The two chatters, running.
pub struct Chat {
    base: Instant,
    stop: CancellationToken,
    acks: JoinHandle<anyhow::Result<Vec<Sample>>>,
    deliveries: JoinHandle<anyhow::Result<Vec<Sample>>>,
    /// The thread the chatters run on (stopped when this is dropped).
    thread: Option<OwnThread>,
}

/// What the chatters measured.
pub struct ChatSamples {
    acks: Vec<Sample>,
    deliveries: Vec<Sample>,
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// The microsecond timestamp after `prefix` in `s`.
fn stamp(s: &str, prefix: char) -> Option<u64> {
    s.strip_prefix(prefix)?.split('-').next()?.parse().ok()
}

impl Chat {
    /// Register and log in two users named after `tag`, and start chatting:
    /// a message every `every`. The chatters connect, send and time on a
    /// thread of their own, so the load beside them (on the main runtime) does
    /// not delay the yardstick itself.
    pub async fn start(addr: SocketAddr, tag: &str, every: Duration) -> anyhow::Result<Self> {
        let thread = OwnThread::start("bench-chat")?;
        let tag = tag.to_owned();
        let mut chat = thread
            .spawn(async move { Self::start_here(addr, &tag, every).await })
            .await
            .context("the chatters' thread")??;
        chat.thread = Some(thread);
        Ok(chat)
    }

    async fn start_here(addr: SocketAddr, tag: &str, every: Duration) -> anyhow::Result<Self> {
        let sender = Control::user(addr, &format!("cs{tag}"))
            .await
            .context("chatter login")?;
        let receiver = Control::user(addr, &format!("cr{tag}"))
            .await
            .context("chatter login")?;
        let base = Instant::now();
        let stop = CancellationToken::new();
        let Control {
            reader: mut s_reader,
            writer: mut s_writer,
            ..
        } = sender;
        let Control {
            reader: mut r_reader,
            writer: r_writer,
            ..
        } = receiver;

        let sending = stop.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            for seq in 1..=MAX_MESSAGES {
                tokio::select! {
                    () = sending.cancelled() => break,
                    _ = tick.tick() => {}
                }
                let sent = micros(base.elapsed());
                let say = ClientMessage::Say(Say {
                    id: format!("t{sent}-{seq}"),
                    text: format!("t{sent}"),
                });
                if client::write(&mut s_writer, seq, say).await.is_err() {
                    break;
                }
            }
            // Keep the write half until told to stop: dropping it would close
            // the sender's side while its acks are still being read.
            sending.cancelled().await;
        });

        let acking = stop.clone();
        let acks = tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let m = tokio::select! {
                    biased;
                    () = acking.cancelled() => break,
                    m = client::read(&mut s_reader) => match m {
                        Ok(m) => m,
                        // Stopping closes the sender's side, and so the connection.
                        Err(_) if acking.is_cancelled() => break,
                        Err(e) => return Err(e),
                    },
                };
                match m {
                    ServerMessage::SayOk(ok) => {
                        if let Some(sent) = stamp(&ok.id, 't') {
                            let took = micros(base.elapsed()).saturating_sub(sent);
                            out.push(Sample { sent, took });
                        }
                    }
                    ServerMessage::Error(e) => bail!("the chatter's say failed: {e:?}"),
                    _ => {}
                }
            }
            Ok(out)
        });

        let delivering = stop.clone();
        let deliveries = tokio::spawn(async move {
            let mut r_writer = r_writer;
            // The receiver sends nothing else: without pings the server's
            // keepalive would close it during a load longer than a minute.
            let mut ping = tokio::time::interval_at(
                tokio::time::Instant::now() + RECEIVER_PING,
                RECEIVER_PING,
            );
            let mut ping_seq = 0u32;
            let mut out = Vec::new();
            loop {
                let m = tokio::select! {
                    biased;
                    () = delivering.cancelled() => break,
                    _ = ping.tick() => {
                        ping_seq += 1;
                        client::write(&mut r_writer, ping_seq, ClientMessage::Ping(Ping {})).await?;
                        continue;
                    }
                    m = client::read(&mut r_reader) => match m {
                        Ok(m) => m,
                        Err(_) if delivering.is_cancelled() => break,
                        Err(e) => return Err(e),
                    },
                };
                if let ServerMessage::Message(m) = m
                    && let Some(sent) = stamp(&m.text, 't')
                {
                    let took = micros(base.elapsed()).saturating_sub(sent);
                    out.push(Sample { sent, took });
                }
            }
            Ok(out)
        });
        Ok(Self {
            base,
            stop,
            acks,
            deliveries,
            thread: None,
        })
    }

    /// Now, in microseconds since the chat started (the clock of the samples).
    pub fn now(&self) -> u64 {
        micros(self.base.elapsed())
    }

    /// Stop chatting and collect the samples.
    pub async fn finish(self) -> anyhow::Result<ChatSamples> {
        // Let the last messages arrive.
        tokio::time::sleep(Duration::from_millis(200)).await;
        self.stop.cancel();
        let acks = self.acks.await?.context("the chatter's acks")?;
        let deliveries = self.deliveries.await?.context("the chat deliveries")?;
        Ok(ChatSamples { acks, deliveries })
    }
}

impl ChatSamples {
    /// Ack and delivery latencies of the messages sent in `from..to`
    /// (microseconds on the chat's clock).
    pub fn sent_between(&self, from: u64, to: u64) -> (Samples, Samples) {
        let pick = |v: &[Sample]| {
            let mut s = Samples::default();
            for x in v.iter().filter(|x| (from..to).contains(&x.sent)) {
                s.push_micros(x.took);
            }
            s
        };
        (pick(&self.acks), pick(&self.deliveries))
    }
}
