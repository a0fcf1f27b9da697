//! The network task: the [`NetHandle`] the app holds, and the manager loop
//! that owns the connection.
//!
//! The manager goes through three states: *idle* (waiting for a `Login`,
//! maybe keeping a greeted connection after a refused login), *connected*
//! (a reader and a writer task; commands, events and pings), and
//! *reconnecting* (backoff, resume, catch-up; in `reconnect.rs`). The first
//! login is in `login.rs`. It stops on `Quit` or when the app drops every
//! handle or stops listening for events.

use std::time::Duration;

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{ClientMessage, Kicked, Ping, Quit, ServerMessage};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{Instrument as _, debug, info, info_span, warn};

use super::connection::Conn;
use super::dial::Transport;
use super::link::{Link, LinkClosed, LinkEvent};
use super::login::FirstLogin;
use super::manager::{Idle, Manager, Stop};
use super::reconnect::GiveUp;
use super::session::{Credentials, SayRefusal, Session};
use super::transfer::ControlRequest;
use super::{ListRequest, NetCommand, NetEvent};

/// Commands waiting for the task.
const COMMAND_QUEUE: usize = 64;
/// How long `Quit` waits for the server's `bye`.
const QUIT_WAIT: Duration = Duration::from_secs(1);

/// The app's side of the network task: cheap to clone, sends [`NetCommand`]s
/// over a bounded queue.
#[derive(Debug, Clone)]
pub struct NetHandle {
    commands: mpsc::Sender<NetCommand>,
}

impl NetHandle {
    /// Queue a command, waiting while the queue is full. Does nothing once
    /// the task has stopped.
    pub async fn send(&self, cmd: NetCommand) {
        if self.commands.send(cmd).await.is_err() {
            debug!("network task has stopped; command dropped");
        }
    }

    /// Queue a command without waiting: it comes back when the queue is
    /// full, so the caller keeps it for later. A command for a task that has
    /// stopped is dropped (nothing would carry it out).
    #[must_use = "a command that did not fit comes back and must be kept"]
    pub fn offer(&self, cmd: NetCommand) -> Option<NetCommand> {
        match self.commands.try_send(cmd) {
            Ok(()) => None,
            Err(mpsc::error::TrySendError::Full(cmd)) => Some(cmd),
            Err(mpsc::error::TrySendError::Closed(_)) => {
                debug!("network task has stopped; command dropped");
                None
            }
        }
    }

    /// Wait until the queue has room for one command and hold that room;
    /// `None` once the task has stopped. Cancel-safe: for `select!` beside
    /// the events the task sends, so waiting for room never stops the
    /// waiter from taking those events.
    pub async fn room(&self) -> Option<mpsc::Permit<'_, NetCommand>> {
        self.commands.reserve().await.ok()
    }
}

/// Start the network task (inside a tokio runtime); it connects over `transport`
/// and reports on `events`.
pub fn spawn(events: mpsc::Sender<NetEvent>, transport: Transport) -> NetHandle {
    let (tx, rx) = mpsc::channel(COMMAND_QUEUE);
    let manager = Manager::new(rx, events, transport);
    tokio::spawn(manager.run().instrument(info_span!("net")));
    NetHandle { commands: tx }
}

/// How a connected stretch ended.
#[derive(Debug)]
enum End {
    /// The connection dropped: reconnect.
    Dropped(String),
    /// The session is over for good (kicked, replaced): do not reconnect.
    Ended(String),
}

impl Manager {
    async fn run(mut self) {
        let _ = self.idle().await;
        info!("network task stops");
    }

    /// Wait for `Login` commands until the task stops.
    async fn idle(&mut self) -> Result<(), Stop> {
        let mut kept: Option<Idle> = None;
        loop {
            let cmd = self.commands.recv().await.ok_or(Stop)?;
            match cmd {
                NetCommand::Login {
                    server,
                    name,
                    password,
                    register,
                } => {
                    let creds = Credentials {
                        server,
                        name,
                        password,
                    };
                    match self.first_login(&creds, register, kept.take()).await? {
                        FirstLogin::Failed(conn) => kept = conn,
                        FirstLogin::LoggedIn(conn, ok) => {
                            let session = Session::new(creds, &ok);
                            self.emit(NetEvent::LoggedIn { ok, resumed: false }).await?;
                            self.chat(session, conn).await?;
                        }
                    }
                }
                NetCommand::Quit => {
                    self.emit(NetEvent::Ended {
                        reason: "quit".into(),
                    })
                    .await?;
                    return Err(Stop);
                }
                NetCommand::Say { .. }
                | NetCommand::Send { .. }
                | NetCommand::History(_)
                | NetCommand::Game(_)
                | NetCommand::Group(_)
                | NetCommand::List(_)
                | NetCommand::Users(_) => {
                    warn!("not logged in; command dropped");
                }
                cmd @ (NetCommand::Upload { .. }
                | NetCommand::Download { .. }
                | NetCommand::CancelTransfer { .. }) => {
                    self.transfers.start(cmd, None, &self.events);
                }
            }
        }
    }

    /// A logged-in session, across reconnects, until it ends for good.
    async fn chat(&mut self, mut session: Session, mut conn: Conn) -> Result<(), Stop> {
        let span = info_span!("session", user = %session.creds.name);
        let mut later = Vec::new();
        loop {
            let end = self
                .connected(&mut session, conn, later)
                .instrument(span.clone())
                .await?;
            let reason = match end {
                End::Ended(reason) => reason,
                End::Dropped(reason) => {
                    info!(%reason, "connection dropped");
                    let next = self
                        .reconnect(&mut session, reason)
                        .instrument(span.clone())
                        .await?;
                    match next {
                        Ok((next, next_later)) => {
                            conn = next;
                            later = next_later;
                            continue;
                        }
                        Err(GiveUp::Untrusted(warning)) => warning,
                        Err(GiveUp::Refused(e)) => {
                            // Banned, or the password changed: the app asks anew.
                            info!(code = %e.code, "logging in again was refused");
                            return self
                                .emit(NetEvent::LoginFailed {
                                    code: e.code,
                                    message: e.message,
                                    attempts_left: e.attempts_left,
                                    closed: e.attempts_left == Some(0),
                                })
                                .await;
                        }
                    }
                }
            };
            info!(%reason, "session ended");
            return self.emit(NetEvent::Ended { reason }).await;
        }
    }

    /// Run one logged-in connection until it drops or the session ends.
    async fn connected(
        &mut self,
        session: &mut Session,
        conn: Conn,
        later: Vec<ServerMessage>,
    ) -> Result<End, Stop> {
        let ping_every = Duration::from_millis(conn.limits().ping_interval_ms.max(100));
        let mut link = Link::start(conn);
        // Replies to requests of the old connection never come.
        self.awaiting.clear();
        self.quiet.clear();
        self.users_asked.clear();
        for listing in ListRequest::after_login() {
            match link.try_send(listing.into_message()) {
                Ok(seq) => self.quiet.extend(seq),
                Err(_) => return Ok(End::Dropped("writing failed".into())),
            }
        }
        // History asked while disconnected, or left unanswered by the drop.
        for query in session.take_history() {
            if self
                .send_command(&mut link, session, NetCommand::History(query))
                .is_err()
            {
                return Ok(End::Dropped("writing failed".into()));
            }
        }
        for msg in later {
            if let Some(end) = self.on_server(session, msg).await? {
                return Ok(end);
            }
        }
        let mut last_sent = Instant::now();
        loop {
            let has_room = link.has_room();
            let room = link.room();
            tokio::select! {
                event = link.recv() => match event {
                    LinkEvent::Message(msg) => {
                        if let Some(end) = self.on_server(session, msg).await? {
                            return Ok(end);
                        }
                    }
                    LinkEvent::Closed(reason) => {
                        return Ok(End::Dropped(session.closing.take().unwrap_or(reason)));
                    }
                },
                cmd = self.commands.recv(), if has_room => {
                    let Some(cmd) = cmd else { return Err(Stop) };
                    if matches!(cmd, NetCommand::Quit) {
                        return self.quit(link).await;
                    }
                    if is_transfer(&cmd) {
                        self.transfers.start(cmd, Some(&session.creds.server), &self.events);
                    } else {
                        if self.send_command(&mut link, session, cmd).is_err() {
                            return Ok(End::Dropped("writing failed".into()));
                        }
                        last_sent = Instant::now();
                    }
                }
                Some(request) = self.transfers.requests.recv(), if has_room => {
                    if self.ask(&mut link, request).is_err() {
                        return Ok(End::Dropped("writing failed".into()));
                    }
                    last_sent = Instant::now();
                }
                () = room, if !has_room => {}
                () = sleep_until_or_never(session.retry_at()), if has_room && session.retry_at().is_some() => {
                    if let Some(say) = session.take_retry() {
                        match link.try_send(say.request()) {
                            Ok(Some(seq)) => session.sent(seq, say.client_id),
                            // Still pending: it goes out after the next reconnect.
                            Ok(None) => warn!("send queue full; message kept for later"),
                            Err(_) => return Ok(End::Dropped("writing failed".into())),
                        }
                    }
                    last_sent = Instant::now();
                }
                () = tokio::time::sleep_until(last_sent + ping_every) => {
                    // A full queue means requests are going out anyway.
                    if link.try_send(ClientMessage::Ping(Ping {})).is_err() {
                        return Ok(End::Dropped("writing failed".into()));
                    }
                    last_sent = Instant::now();
                }
            }
        }
    }

    /// Book-keeping for one message from the server, then hand it to the app.
    async fn on_server(
        &mut self,
        session: &mut Session,
        msg: ServerMessage,
    ) -> Result<Option<End>, Stop> {
        if let Some(seq) = msg.seq() {
            if let Some(reply) = self.awaiting.remove(&seq) {
                // A transfer's ticket (or refusal): for the transfer only.
                let _ = reply.send(msg);
                return Ok(None);
            }
            if let Some(i) = self.quiet.iter().position(|s| *s == seq) {
                self.quiet.swap_remove(i);
                if let ServerMessage::Error(e) = &msg {
                    debug!(code = %e.code, "refused quietly");
                    return Ok(None);
                }
            }
        }
        let mut end = None;
        match msg {
            ServerMessage::UserList(page) if self.users_asked.contains_key(&page.seq) => {
                if let Some(request) = self.users_asked.remove(&page.seq) {
                    let page = Ok(page);
                    self.emit(NetEvent::Users { request, page }).await?;
                }
                return Ok(None);
            }
            ServerMessage::HistoryPage(page) => {
                if let Some(query) = session.answered(page.seq) {
                    let page = Ok(page);
                    self.emit(NetEvent::History { query, page }).await?;
                } else {
                    debug!(seq = page.seq, "a history page nobody waits for");
                }
                return Ok(None);
            }
            ServerMessage::Error(e) => {
                debug!(code = %e.code, seq = ?e.seq, "server error");
                if let Some(request) = e.seq.and_then(|seq| self.users_asked.remove(&seq)) {
                    let page = Err(e);
                    self.emit(NetEvent::Users { request, page }).await?;
                    return Ok(None);
                }
                if let Some(query) = e.seq.and_then(|seq| session.answered(seq)) {
                    let page = Err(e);
                    self.emit(NetEvent::History { query, page }).await?;
                    return Ok(None);
                }
                match session.failed(&e) {
                    SayRefusal::Refused(client_id) => {
                        let refused = NetEvent::SendRefused {
                            client_id,
                            error: e,
                        };
                        self.emit(refused).await?;
                        return Ok(None);
                    }
                    SayRefusal::Later => {
                        debug!(code = %e.code, "message refused for now; it goes out again");
                        if e.code == ErrorCode::StorageUnavailable {
                            // Not the client's doing: the user is told why it waits.
                            self.emit(NetEvent::SendDelayed { error: e }).await?;
                        }
                        return Ok(None);
                    }
                    SayRefusal::NotOurs => {}
                }
                self.emit(NetEvent::Server(ServerMessage::Error(e))).await?;
                return Ok(None);
            }
            _ => {}
        }
        match &msg {
            ServerMessage::Message(m) if m.to.is_room() && !session.saw(m.id) => {
                debug!(id = m.id, "duplicate message dropped");
                return Ok(None);
            }
            ServerMessage::Announcement(a) if !session.saw(a.id) => {
                debug!(id = a.id, "duplicate announcement dropped");
                return Ok(None);
            }
            ServerMessage::SayOk(ok) => session.acked(ok),
            ServerMessage::ServerShutdown(s) => {
                debug!(message = %s.message, "the server is shutting down");
                session.closing = Some("the server is shutting down".to_owned());
            }
            ServerMessage::Kicked(k) => end = Some(End::Ended(kick_reason(k))),
            ServerMessage::SessionReplaced(_) => {
                end = Some(End::Ended(
                    "You logged in somewhere else, so this session ended.".into(),
                ));
            }
            _ => {}
        }
        self.emit(NetEvent::Server(msg)).await?;
        Ok(end)
    }

    /// Send a transfer's control request; its reply goes back to the transfer.
    fn ask(&mut self, link: &mut Link, request: ControlRequest) -> Result<(), LinkClosed> {
        match link.try_send(request.body)? {
            Some(seq) => {
                self.awaiting.insert(seq, request.reply);
            }
            // Cannot happen (the caller checked for room); dropping the
            // reply tells the transfer it failed.
            None => warn!("send queue full; transfer request dropped"),
        }
        Ok(())
    }

    /// Send `quit`, give the server a moment to say `bye`, and stop.
    async fn quit(&mut self, mut link: Link) -> Result<End, Stop> {
        if let Ok(Some(_)) = link.try_send(ClientMessage::Quit(Quit {})) {
            let bye = async {
                loop {
                    match link.recv().await {
                        LinkEvent::Message(ServerMessage::Bye(_)) | LinkEvent::Closed(_) => break,
                        LinkEvent::Message(_) => {}
                    }
                }
            };
            if tokio::time::timeout(QUIT_WAIT, bye).await.is_err() {
                debug!("no bye in time");
            }
        }
        drop(link);
        let _ = self
            .emit(NetEvent::Ended {
                reason: "quit".into(),
            })
            .await;
        Err(Stop)
    }
}

/// Commands that start or stop a transfer (handled beside the chat).
pub(crate) fn is_transfer(cmd: &NetCommand) -> bool {
    matches!(
        cmd,
        NetCommand::Upload { .. } | NetCommand::Download { .. } | NetCommand::CancelTransfer { .. }
    )
}

/// What the user is told when an administrator removed the session.
fn kick_reason(k: &Kicked) -> String {
    let what = if k.banned {
        "The administrator banned this account"
    } else {
        "The administrator disconnected you"
    };
    match &k.reason {
        Some(reason) => format!("{what} ({}).", reason.trim().trim_end_matches('.')),
        None => format!("{what}."),
    }
}

/// Sleep until `at`; never wake without one (the branch using it is disabled then).
async fn sleep_until_or_never(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kick_reason_names_ban_and_reason() {
        let kick = |reason: Option<&str>, banned| Kicked {
            reason: reason.map(str::to_owned),
            banned,
        };
        assert_eq!(
            kick_reason(&kick(None, false)),
            "The administrator disconnected you."
        );
        assert_eq!(
            kick_reason(&kick(Some("spam."), true)),
            "The administrator banned this account (spam)."
        );
    }
}
