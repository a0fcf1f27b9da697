//! Sending the app's commands on a logged-in connection: each becomes its
//! request, and the session notes what must be remembered across a
//! reconnect (pending messages, history requests) or answered quietly
//! (`read`s).

use chatroom_shared::message::{ClientMessage, Say, Send, Target};
use tracing::warn;

use super::NetCommand;
use super::link::{Link, LinkClosed};
use super::manager::Manager;
use super::session::Session;

impl Manager {
    /// Send one command (not `Quit`) on a logged-in link.
    pub(crate) fn send_command(
        &mut self,
        link: &mut Link,
        session: &mut Session,
        cmd: NetCommand,
    ) -> Result<(), LinkClosed> {
        match cmd {
            NetCommand::Say { client_id, text } => {
                let body = ClientMessage::Say(Say {
                    id: client_id.clone(),
                    text: text.clone(),
                });
                session.said(client_id.clone(), Target::Room, text);
                send_message(link, session, client_id, body)?;
            }
            NetCommand::Send {
                client_id,
                to,
                text,
            } => {
                let body = ClientMessage::Send(Send {
                    id: client_id.clone(),
                    to: to.clone(),
                    text: text.clone(),
                });
                session.said(client_id.clone(), to, text);
                send_message(link, session, client_id, body)?;
            }
            NetCommand::History(query) => match link.try_send(query.to_message()) {
                Ok(Some(seq)) => session.history_sent(seq, query),
                Ok(None) => session.history_later(query),
                Err(e) => {
                    session.history_later(query);
                    return Err(e);
                }
            },
            NetCommand::Game(request) => {
                if link.try_send(request.into_message())?.is_none() {
                    // Cannot happen (the caller checked for room).
                    warn!("send queue full; game request dropped");
                }
            }
            NetCommand::Group(request) => {
                let quiet = request.is_quiet();
                match link.try_send(request.into_message())? {
                    Some(seq) if quiet => self.quiet.push(seq),
                    Some(_) => {}
                    // Cannot happen (the caller checked for room).
                    None => warn!("send queue full; group request dropped"),
                }
            }
            NetCommand::List(request) => {
                if link.try_send(request.into_message())?.is_none() {
                    // Cannot happen (the caller checked for room).
                    warn!("send queue full; list request dropped");
                }
            }
            NetCommand::Users(request) => match link.try_send(request.to_message())? {
                Some(seq) if request.has_page() => {
                    self.users_asked.insert(seq, request);
                }
                Some(seq) => self.quiet.push(seq),
                // Cannot happen (the caller checked for room).
                None => warn!("send queue full; users request dropped"),
            },
            NetCommand::Login { .. } => warn!("already logged in; login ignored"),
            NetCommand::Quit
            | NetCommand::Upload { .. }
            | NetCommand::Download { .. }
            | NetCommand::CancelTransfer { .. } => {}
        }
        Ok(())
    }
}

/// Send a `say` or `send` the session has noted as pending.
fn send_message(
    link: &mut Link,
    session: &mut Session,
    client_id: String,
    body: ClientMessage,
) -> Result<(), LinkClosed> {
    match link.try_send(body)? {
        Some(seq) => session.sent(seq, client_id),
        // Cannot happen (the caller checked for room); the message stays
        // pending and goes out after the next reconnect.
        None => warn!("send queue full; message kept for later"),
    }
    Ok(())
}
