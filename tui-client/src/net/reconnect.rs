//! Reconnecting after a dropped connection: wait with growing, jittered
//! backoff (still taking commands), connect, resume (or log in with the kept
//! password), then catch up on what was missed in the main room, reporting
//! every step. (Groups and direct messages catch up by themselves: the
//! server delivers what the user has not read after the login, and the app
//! asks for public groups' pages.)

use std::time::Duration;

use chatroom_shared::message::{ErrorReply, ServerMessage, Target};
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::backoff;
use super::connection::Conn;
use super::handshake::{self, ResumeError};
use super::manager::{Manager, Stop};
use super::session::Session;
use super::{NetCommand, NetEvent};

/// Why reconnecting stopped for good.
#[derive(Debug)]
pub(crate) enum GiveUp {
    /// Logging in again was refused (banned, password changed).
    Refused(ErrorReply),
    /// The server's certificate is not the pinned one (the warning).
    Untrusted(String),
}

impl Manager {
    /// Reconnect with backoff until logged in and caught up; `Ok(Err(_))` when
    /// trying again cannot help.
    pub(crate) async fn reconnect(
        &mut self,
        session: &mut Session,
        mut reason: String,
    ) -> Result<Result<(Conn, Vec<ServerMessage>), GiveUp>, Stop> {
        let mut attempt = 1u32;
        loop {
            let retry_in = backoff::delay(attempt);
            self.emit(NetEvent::Disconnected {
                reason: reason.clone(),
                retry_in,
                attempt,
            })
            .await?;
            self.wait_out(session, retry_in).await?;
            self.emit(NetEvent::Connecting {
                server: session.creds.server.clone(),
                attempt,
            })
            .await?;
            reason = match handshake::reconnect(session, &self.transport).await {
                Ok((mut conn, mut ok)) => {
                    if let Some(notice) = conn.take_notice() {
                        self.emit(NetEvent::Notice(notice)).await?;
                    }
                    session.token.clone_from(&ok.token);
                    // What is new in `recent` comes in `Missed`, once.
                    let recent = std::mem::take(&mut ok.recent);
                    info!(attempt, after = session.highest(), "resumed");
                    self.emit(NetEvent::LoggedIn { ok, resumed: true }).await?;
                    match handshake::catch_up(&mut conn, session, recent).await {
                        Ok(caught) => {
                            self.emit(NetEvent::Missed(caught.missed)).await?;
                            return Ok(Ok((conn, caught.later)));
                        }
                        Err(e) => e.to_string(),
                    }
                }
                Err(ResumeError::Fatal(refusal)) => return Ok(Err(GiveUp::Refused(refusal))),
                Err(ResumeError::Untrusted(warning)) => return Ok(Err(GiveUp::Untrusted(warning))),
                Err(ResumeError::Retry(reason)) => reason,
            };
            debug!(attempt, %reason, "reconnect attempt failed");
            attempt = attempt.saturating_add(1);
        }
    }

    /// Sleep before the next attempt, still taking commands: messages said
    /// meanwhile are sent after the reconnect; `Quit` stops at once.
    async fn wait_out(&mut self, session: &mut Session, delay: Duration) -> Result<(), Stop> {
        let until = Instant::now() + delay;
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(until) => return Ok(()),
                cmd = self.commands.recv() => match cmd.ok_or(Stop)? {
                    NetCommand::Say { client_id, text } => {
                        session.said(client_id, Target::Room, text);
                    }
                    NetCommand::Send { client_id, to, text } => session.said(client_id, to, text),
                    NetCommand::Quit => {
                        let _ = self.emit(NetEvent::Ended { reason: "quit".into() }).await;
                        return Err(Stop);
                    }
                    NetCommand::History(query) => session.history_later(query),
                    NetCommand::Login { .. } => warn!("already logged in; login ignored"),
                    NetCommand::Game(_) => warn!("not connected; game request dropped"),
                    NetCommand::Group(_) => debug!("not connected; group request dropped"),
                    // Every login asks for the first pages again.
                    NetCommand::List(_) => debug!("not connected; list request dropped"),
                    // The app asks again when the login comes.
                    NetCommand::Users(_) => debug!("not connected; users request dropped"),
                    cmd @ (NetCommand::Upload { .. }
                    | NetCommand::Download { .. }
                    | NetCommand::CancelTransfer { .. }) => {
                        // Their requests go out once reconnected.
                        self.transfers.start(cmd, Some(&session.creds.server), &self.events);
                    }
                },
            }
        }
    }
}
