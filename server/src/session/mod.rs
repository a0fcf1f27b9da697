//! One task per connection: framing, the connection state machine, deadlines,
//! and writing.
//!
//! The task owns its socket. It selects between the next inbound frame, its
//! outbox (events from the hub, acks from the store), its deadlines and the
//! server's shutdown signal. Requests are handled one at a time by the
//! per-feature handlers in [`auth`], [`chat`] (every conversation), [`groups`],
//! [`files`] and [`game`], and the paged listings in [`lists`]; [`offline`]
//! delivers what a user missed at login; a handler's error becomes an `error`
//! frame with the request's `seq`.
//!
//! [`output`] gathers outbox items into few writes and delivers what is
//! still owed at shutdown.
//!
//! States: connected → (hello) greeted → (login/resume) logged in → closed; or
//! connected → (transfer with a valid ticket) data connection, handed to
//! [`crate::files::serve`] on this same task.

mod auth;
mod chat;
mod files;
mod game;
mod groups;
mod lists;
mod offline;

mod output;
mod peers;
mod reject;
mod requests;

pub(crate) use reject::Reject;
use reject::is_bounded;

use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;

use crate::transport::{ReadHalf, WriteHalf};
use bytes::BytesMut;
use chatroom_shared::message::{ErrorReply, LeaveReason};
use chatroom_shared::{Decoded, ErrorCode, FrameCodec, FrameError};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::time::{Instant, sleep_until};
use tokio_util::codec::FramedRead;
use tokio_util::sync::CancellationToken;
use tokio_util::task::task_tracker::TaskTrackerToken;
use tracing::{Instrument, debug, info, info_span};

use crate::ctx::Ctx;
use crate::flood::{FloodLimit, Limiter};
use crate::hub::Hub;
use crate::outbox::{Outbound, OutboxReceiver, WeakOutbox};

/// Most outbox items gathered into one write.
const MAX_COALESCE: usize = 256;
/// Write-buffer size beyond which gathering stops and the buffer is written.
const COALESCE_BYTES: usize = 64 * 1024;
/// Write-buffer capacity a session keeps between writes; a larger one is
/// freed. Small: a burst (a login storm's join notices) would otherwise leave
/// every idle session holding a buffer its size, and allocating a buffer for
/// a big write costs far less than the write itself.
const RETAINED_WRITE_BUFFER: usize = 1024;
/// Initial read-buffer size; it grows for larger frames.
const READ_BUFFER: usize = 1024;

/// How the server tells a session to stop.
pub struct Signals {
    /// Cancelled when the server starts shutting down: stop reading.
    pub shutdown: CancellationToken,
    /// Cancelled once every stored record is acknowledged: flush and close.
    pub flush: CancellationToken,
    /// Held while this session may still submit records; dropped when it stops reading.
    pub reading: TaskTrackerToken,
}

/// Serve one connection until it closes.
pub async fn serve(
    stream: crate::transport::Stream,
    addr: SocketAddr,
    ctx: Arc<Ctx>,
    signals: Signals,
) {
    let id = ctx.next_session_id();
    let span = info_span!("conn", id, peer = %addr, user = tracing::field::Empty);
    let (read, write) = stream.into_split();
    let codec = FrameCodec::new(ctx.config.max_frame);
    let now = Instant::now();
    let limiter = Limiter::new(ctx.config.flood_limit());
    let session = Session {
        reader: FramedRead::with_capacity(read, codec, READ_BUFFER),
        writer: write,
        wbuf: BytesMut::new(),
        ctx,
        addr,
        id,
        phase: Phase::Connected,
        failed_logins: 0,
        limiter,
        connected_at: now,
        last_inbound: now,
        frame_deadline: None,
        span: span.clone(),
        data: None,
        peers: peers::Peers::default(),
    };
    session.run(signals).instrument(span).await;
}

/// Where a connection is in its life.
enum Phase {
    Connected,
    Greeted,
    LoggedIn(LoggedIn),
}

/// The state of a logged-in session.
struct LoggedIn {
    uid: i64,
    name: Arc<str>,
    outbox: OutboxReceiver,
    /// For acks; weak so that when the hub drops this session the queue closes.
    ack_sender: WeakOutbox,
    /// Messages up to this id were in `login_ok`'s recent list; skip them.
    skip_upto: i64,
    _leave: LeaveGuard,
}

/// Tells the hub the session left, however the task ends (even by panic).
struct LeaveGuard {
    hub: Hub,
    games: crate::games::Desk,
    uid: i64,
    session_id: u64,
    reason: Option<LeaveReason>,
}

impl Drop for LeaveGuard {
    fn drop(&mut self) {
        // Also at shutdown: a game in play waits for its player, as for any leave.
        self.games.offline_soon(self.uid, self.session_id);
        if let Some(reason) = self.reason {
            self.hub.leave_soon(self.uid, self.session_id, reason);
        }
    }
}

/// What to do after a request.
enum Flow {
    Continue,
    /// Close the connection; `Some` reason tells the others this user left.
    End(Option<LeaveReason>),
}

struct Session {
    ctx: Arc<Ctx>,
    addr: SocketAddr,
    id: u64,
    reader: FramedRead<ReadHalf, FrameCodec>,
    writer: WriteHalf,
    wbuf: BytesMut,
    phase: Phase,
    failed_logins: u32,
    /// Requests per second of this connection.
    limiter: Limiter,
    connected_at: Instant,
    last_inbound: Instant,
    frame_deadline: Option<Instant>,
    span: tracing::Span,
    /// Set by a valid `transfer`: the request's `seq` and what the ticket allows.
    data: Option<(u32, crate::files::tickets::Grant)>,
    /// The accounts it sent direct messages to.
    peers: peers::Peers,
}

async fn recv_outbox(phase: &mut Phase) -> Option<Outbound> {
    match phase {
        Phase::LoggedIn(l) => l.outbox.recv().await,
        _ => std::future::pending().await,
    }
}

impl Session {
    async fn run(mut self, signals: Signals) {
        let Signals {
            shutdown,
            flush,
            reading,
        } = signals;
        debug!("connected");
        let leave = self.main_loop(&shutdown).await;
        if let Some((seq, grant)) = self.data.take() {
            // A data connection: it never submits records, so shutdown need not wait.
            drop(reading);
            let parts = self.reader.into_parts();
            let conn = crate::files::DataConn {
                read: parts.io,
                buffered: parts.read_buf,
                write: self.writer,
                seq,
            };
            Box::pin(crate::files::serve(
                conn,
                grant,
                self.ctx.transfer(),
                shutdown,
            ))
            .await;
            debug!("data connection closed");
            return;
        }
        // It submits no more records: the lingering close below only discards.
        drop(reading);
        if let Phase::LoggedIn(l) = &self.phase {
            // The user's next login goes on with this bucket, not a fresh one.
            let spent = std::mem::replace(&mut self.limiter, Limiter::new(FloodLimit::OFF));
            self.ctx.limiters.give_back(l.uid, spent);
        }
        match leave {
            Some(reason) => {
                if let Phase::LoggedIn(l) = &mut self.phase {
                    l._leave.reason = Some(reason);
                }
                let _ = self.flush().await;
            }
            None => {
                // Shutting down: stop reading, say so, deliver what is still owed.
                if let Phase::LoggedIn(l) = &mut self.phase {
                    l._leave.reason = None;
                }
                Box::pin(self.finish_shutdown(&flush)).await;
            }
        }
        let _ = self.writer.shutdown().await;
        debug!(?leave, "closed");
        if leave.is_some() {
            // Leave the hub at once, then close gently: the last frame (kicked,
            // an error) must not be destroyed by a reset.
            let Self { reader, phase, .. } = self;
            drop(phase);
            tokio::select! {
                () = output::linger(reader) => {}
                () = shutdown.cancelled() => {}
            }
        }
    }

    fn logged_in(&self) -> bool {
        matches!(self.phase, Phase::LoggedIn(_))
    }

    /// The loop; returns why the session ends (`None` for server shutdown).
    async fn main_loop(&mut self, shutdown: &CancellationToken) -> Option<LeaveReason> {
        let timer = sleep_until(self.next_deadline());
        let mut timer = pin!(timer);
        loop {
            // Unbiased on purpose: in a busy room the outbox is always ready,
            // and a pipelining client always has a request waiting; neither
            // may starve the other.
            tokio::select! {
                () = shutdown.cancelled() => return None,
                item = recv_outbox(&mut self.phase) => {
                    if let Some(end) = self.write_outbound(item).await {
                        return end;
                    }
                }
                frame = self.reader.next() => {
                    match frame {
                        None => return Some(LeaveReason::Disconnected),
                        Some(Ok(Decoded::FrameStarted)) => {
                            let deadline = Instant::now() + self.ctx.config.frame_timeout;
                            self.frame_deadline = Some(deadline);
                            if deadline < timer.deadline() {
                                timer.as_mut().reset(deadline);
                            }
                        }
                        Some(Ok(Decoded::Frame(body))) => {
                            self.last_inbound = Instant::now();
                            self.frame_deadline = None;
                            // Boxed: the handlers' futures are large and live only
                            // while a request runs; inline, every idle session
                            // would carry their size (8 KiB) for its whole life.
                            let flow = Box::pin(self.handle_frame(&body)).await;
                            if self.flush().await.is_err() {
                                return Some(LeaveReason::Disconnected);
                            }
                            if let Flow::End(reason) = flow {
                                return reason.or(Some(LeaveReason::Disconnected));
                            }
                        }
                        Some(Err(FrameError::TooLarge { declared, max })) => {
                            info!(declared, max, "frame too large; closing");
                            self.send_error_now(ErrorReply::new(
                                None,
                                ErrorCode::FrameTooLarge,
                                format!("a frame of {declared} bytes exceeds the limit of {max} bytes; closing"),
                            )).await;
                            return Some(LeaveReason::Disconnected);
                        }
                        Some(Err(FrameError::Io(e))) => {
                            debug!(error = %e, "read failed");
                            return Some(LeaveReason::Disconnected);
                        }
                    }
                }
                () = &mut timer => {
                    if let Some(reason) = Box::pin(self.deadline_passed()).await {
                        return Some(reason);
                    }
                    timer.as_mut().reset(self.next_deadline());
                }
            }
        }
    }

    fn next_deadline(&self) -> Instant {
        let mut deadline = self.last_inbound + self.ctx.config.keepalive;
        if !self.logged_in() {
            deadline = deadline.min(self.connected_at + self.ctx.config.auth_timeout);
        }
        if let Some(f) = self.frame_deadline {
            deadline = deadline.min(f);
        }
        deadline
    }

    /// A timer fired: close the connection if a deadline really passed.
    async fn deadline_passed(&mut self) -> Option<LeaveReason> {
        let now = Instant::now();
        let config = &self.ctx.config;
        let (code, message, reason) =
            if !self.logged_in() && now >= self.connected_at + config.auth_timeout {
                (
                    ErrorCode::AuthTimeout,
                    "hello and login must finish in time",
                    LeaveReason::Timeout,
                )
            } else if self.frame_deadline.is_some_and(|f| now >= f) {
                (
                    ErrorCode::FrameTimeout,
                    "a frame started but did not finish in time",
                    LeaveReason::Timeout,
                )
            } else if now >= self.last_inbound + config.keepalive {
                (
                    ErrorCode::IdleTimeout,
                    "nothing received within the keepalive time",
                    LeaveReason::Timeout,
                )
            } else {
                return None;
            };
        info!(%code, "deadline passed; closing");
        self.send_error_now(ErrorReply::new(None, code, format!("{message}; closing")))
            .await;
        Some(reason)
    }
}

#[cfg(test)]
mod footprint_tests {
    use super::*;

    /// Every connection's task holds its future for its whole life: the
    /// request handlers' large futures must stay out of it (they are boxed
    /// while a request runs), or each idle session carries their size.
    #[tokio::test]
    async fn an_idle_session_future_stays_small() {
        let dir = tempfile::tempdir().unwrap();
        let config = crate::config::Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().to_path_buf(),
            ..crate::config::Config::default()
        };
        let server = crate::server::Server::bind(config).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (_client, accepted) =
            tokio::join!(tokio::net::TcpStream::connect(addr), listener.accept());
        let (stream, peer) = accepted.unwrap();
        let signals = Signals {
            shutdown: CancellationToken::new(),
            flush: CancellationToken::new(),
            reading: tokio_util::task::TaskTracker::new().token(),
        };
        let future = serve(
            crate::transport::Stream::Plain(stream),
            peer,
            server.ctx(),
            signals,
        );
        let size = std::mem::size_of_val(&future);
        assert!(size <= MAX_SESSION_FUTURE, "{size} bytes");
    }

    /// Measured with the handlers boxed: 1,912 bytes (release), 2,152 (debug);
    /// with `handle_frame` inline: 8,168 and 7,288.
    const MAX_SESSION_FUTURE: usize = 4 * 1024;
}
