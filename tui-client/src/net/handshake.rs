//! The request/reply exchanges before a connection is handed to its reader
//! and writer tasks: register and login, resume after a drop (falling back to
//! the password), and the catch-up that follows a resume (re-sending
//! unacknowledged `say`s and `send`s and paging the room's `history` through
//! the gap).

use std::collections::HashSet;
use std::time::Duration;

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{
    ChatMessage, ClientMessage, ErrorReply, History, Login, LoginOk, Register, RegisterOk, Resume,
    ServerMessage,
};
use tracing::{debug, info};

use super::connection::{Conn, ConnError, unexpected};
use super::dial::DialError;
use super::dial::Transport;
use super::session::Session;

/// A reply that is either what was asked for or the server's refusal.
pub(crate) type Answer<T> = Result<T, ErrorReply>;

/// Why a reconnect attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ResumeError {
    /// Worth another attempt later (network, server restarting, throttled).
    Retry(String),
    /// Trying again cannot help (banned, account gone, password changed):
    /// the server's refusal.
    Fatal(ErrorReply),
    /// The server's certificate is not the pinned one: never retried.
    Untrusted(String),
}

/// What a catch-up after a resume found.
#[derive(Debug)]
pub(crate) struct CatchUp {
    /// Messages stored while the connection was down, new to the app.
    pub(crate) missed: Vec<ChatMessage>,
    /// Everything else read meanwhile (live events, `say_ok`s), in order,
    /// for the usual handling once `missed` has been shown.
    pub(crate) later: Vec<ServerMessage>,
}

/// Send `register`.
pub(crate) async fn register(
    conn: &mut Conn,
    name: &str,
    password: &str,
) -> Result<Answer<RegisterOk>, ConnError> {
    let body = ClientMessage::Register(Register {
        name: name.to_owned(),
        password: password.to_owned(),
    });
    match conn.request(body, ignore).await? {
        ServerMessage::RegisterOk(ok) => Ok(Ok(ok)),
        ServerMessage::Error(e) => Ok(Err(e)),
        other => Err(unexpected(&other)),
    }
}

/// Send `login`.
pub(crate) async fn login(
    conn: &mut Conn,
    name: &str,
    password: &str,
) -> Result<Answer<LoginOk>, ConnError> {
    let body = ClientMessage::Login(Login {
        name: name.to_owned(),
        password: password.to_owned(),
    });
    logged_in(conn.request(body, ignore).await?)
}

/// Send `resume`.
async fn resume(conn: &mut Conn, token: &str) -> Result<Answer<LoginOk>, ConnError> {
    let body = ClientMessage::Resume(Resume {
        token: token.to_owned(),
    });
    logged_in(conn.request(body, ignore).await?)
}

/// Connect again for `session`: hello, `resume` with its token, and on
/// `invalid_token` a `login` with the kept password.
pub(crate) async fn reconnect(
    session: &Session,
    transport: &Transport,
) -> Result<(Conn, LoginOk), ResumeError> {
    let retry = |e: ConnError| {
        debug!(error = %e, "reconnecting failed");
        ResumeError::Retry(e.for_user())
    };
    let mut conn = match Conn::open(&session.creds.server, transport).await {
        Ok(conn) => conn,
        Err(ConnError::Dial(DialError::Untrusted(warning))) => {
            return Err(ResumeError::Untrusted(warning));
        }
        Err(e) => return Err(retry(e)),
    };
    match resume(&mut conn, &session.token).await.map_err(retry)? {
        Ok(ok) => return Ok((conn, ok)),
        Err(e) if e.code == ErrorCode::InvalidToken => {
            info!("resume token refused; logging in with the password");
        }
        Err(e) => return Err(classify(e)),
    }
    let creds = &session.creds;
    match login(&mut conn, &creds.name, &creds.password)
        .await
        .map_err(retry)?
    {
        Ok(ok) => Ok((conn, ok)),
        Err(e) => Err(classify(e)),
    }
}

/// After a resume: re-send every unacknowledged `say` or `send` with its client id
/// (the server stores each once), page `history` from the last id seen until
/// `has_more` is false, and wait for the replies to the re-sent `say`s, so
/// that their ids can be left out of the gap.
pub(crate) async fn catch_up(
    conn: &mut Conn,
    session: &mut Session,
    recent: Vec<ChatMessage>,
) -> Result<CatchUp, ConnError> {
    session.new_connection();
    let mut awaiting = HashSet::new();
    for say in session.pending().to_vec() {
        let body = say.request();
        let seq = conn.send(body).await?;
        session.sent(seq, say.client_id);
        awaiting.insert(seq);
    }
    let mut gap = session.gap();
    let limit = conn.limits().max_history_page;
    let mut paging = None;
    // The `after` of the page asked for last, to ask again if refused for now.
    let mut asked_after = gap.after();
    if gap.needs_history(&recent) {
        paging = Some(conn.send(history_after(asked_after, limit)).await?);
    }
    gap.add(recent);
    debug!(after = gap.after(), resent = awaiting.len(), "catching up");
    let mut later = Vec::new();
    while paging.is_some() || !awaiting.is_empty() {
        let msg = conn.next().await?;
        let seq = msg.seq();
        if seq.is_some() && seq == paging {
            let page = match msg {
                ServerMessage::HistoryPage(page) => page,
                // Told to slow down: ask for the same page again when told.
                ServerMessage::Error(e)
                    if matches!(e.code, ErrorCode::RateLimited | ErrorCode::ServerBusy) =>
                {
                    let wait = Duration::from_millis(e.retry_after_ms.unwrap_or(1000));
                    debug!(?wait, "history page refused for now; asking again");
                    tokio::time::sleep(wait).await;
                    paging = Some(conn.send(history_after(asked_after, limit)).await?);
                    continue;
                }
                ServerMessage::Error(e) => return Err(ConnError::Refused(e)),
                other => return Err(unexpected(&other)),
            };
            let last = page.messages.last().map(|m| m.id);
            gap.add(page.messages);
            paging = match (page.has_more, last) {
                (true, Some(last)) => {
                    asked_after = last;
                    Some(conn.send(history_after(last, limit)).await?)
                }
                _ => None,
            };
            continue;
        }
        if let Some(seq) = seq.filter(|s| awaiting.remove(s))
            && let ServerMessage::SayOk(ok) = &msg
        {
            debug!(seq, id = %ok.id, "re-sent message acknowledged");
            session.acked(ok);
        }
        later.push(msg);
    }
    let filled = session.fill(gap);
    info!(
        missed = filled.missed.len(),
        newest = filled.newest,
        "caught up"
    );
    Ok(CatchUp {
        missed: filled.missed,
        later,
    })
}

/// A `history` request for the oldest messages after `after`.
fn history_after(after: i64, limit: u32) -> ClientMessage {
    ClientMessage::History(History {
        before: None,
        after: Some(after),
        limit: Some(limit),
        ..Default::default()
    })
}

/// The answer to `login` or `resume`.
fn logged_in(reply: ServerMessage) -> Result<Answer<LoginOk>, ConnError> {
    match reply {
        ServerMessage::LoginOk(ok) => Ok(Ok(ok)),
        ServerMessage::Error(e) => Ok(Err(e)),
        other => Err(unexpected(&other)),
    }
}

/// Whether a refused reconnect is worth retrying.
fn classify(e: ErrorReply) -> ResumeError {
    match e.code {
        ErrorCode::AccountDisabled | ErrorCode::UserNotFound | ErrorCode::WrongPassword => {
            ResumeError::Fatal(e)
        }
        _ => {
            debug!(code = %e.code, message = %e.message, "reconnecting was refused");
            ResumeError::Retry(super::connection::refusal(&e))
        }
    }
}

/// Messages before login carry nothing for the app (there are no events yet).
fn ignore(msg: ServerMessage) {
    debug!(?msg, "ignored before login");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ban_and_changed_password_end_the_session_but_throttling_retries() {
        let fatal = [
            ErrorCode::AccountDisabled,
            ErrorCode::UserNotFound,
            ErrorCode::WrongPassword,
        ];
        for code in fatal {
            assert!(matches!(
                classify(ErrorReply::new(Some(1), code, "x")),
                ResumeError::Fatal(_)
            ));
        }
        for code in [
            ErrorCode::TooManyAttempts,
            ErrorCode::ShuttingDown,
            ErrorCode::Internal,
        ] {
            assert!(matches!(
                classify(ErrorReply::new(Some(1), code, "x")),
                ResumeError::Retry(_)
            ));
        }
    }
}
