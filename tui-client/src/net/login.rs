//! The first login of a session, as the app asked for it: connect (or reuse
//! the connection a refused login left open), register if asked, log in, and
//! report each outcome as a [`NetEvent`].

use chatroom_shared::message::{ErrorReply, LoginOk};
use tracing::{info, warn};

use super::NetEvent;
use super::connection::{Conn, ConnError};
use super::dial::DialError;
use super::handshake;
use super::manager::{Idle, Manager, Stop};
use super::session::Credentials;

/// How a first login went.
pub(crate) enum FirstLogin {
    /// Logged in on this connection.
    LoggedIn(Conn, LoginOk),
    /// Refused or unreachable (already reported); the connection if it is
    /// still open, for the next try.
    Failed(Option<Idle>),
}

/// One register-and-login exchange on one connection.
enum Attempt {
    LoggedIn(LoginOk),
    Refused(ErrorReply),
}

impl Manager {
    /// Log in as the app asked; `kept` is the connection of a refused login.
    pub(crate) async fn first_login(
        &mut self,
        creds: &Credentials,
        register: bool,
        kept: Option<Idle>,
    ) -> Result<FirstLogin, Stop> {
        self.emit(NetEvent::Connecting {
            server: creds.server.clone(),
            attempt: 1,
        })
        .await?;
        let mut reused = kept.filter(|k| k.server == creds.server).map(|k| k.conn);
        loop {
            let is_reused = reused.is_some();
            let mut conn = match reused.take() {
                Some(conn) => conn,
                None => match Conn::open(&creds.server, &self.transport).await {
                    Ok(mut conn) => {
                        if let Some(notice) = conn.take_notice() {
                            self.emit(NetEvent::Notice(notice)).await?;
                        }
                        conn
                    }
                    Err(e) => return self.not_connected(creds, e).await,
                },
            };
            let replies = conn.replies();
            match self.attempt(&mut conn, creds, register).await? {
                Ok(Attempt::LoggedIn(ok)) => {
                    info!(user = %ok.user.name, "logged in");
                    return Ok(FirstLogin::LoggedIn(conn, ok));
                }
                Ok(Attempt::Refused(e)) => {
                    // The last allowed wrong password closes the connection.
                    let closed = e.attempts_left == Some(0);
                    self.emit(NetEvent::LoginFailed {
                        code: e.code,
                        message: e.message,
                        attempts_left: e.attempts_left,
                        closed,
                    })
                    .await?;
                    let idle = (!closed).then(|| Idle {
                        server: creds.server.clone(),
                        conn,
                    });
                    return Ok(FirstLogin::Failed(idle));
                }
                // A kept connection the server has closed meanwhile (e.g.
                // after its auth deadline): nothing was done, so try anew.
                Err(e) if is_reused && conn.replies() == replies => {
                    info!(error = %e, "kept connection is gone; connecting again");
                }
                Err(e) => return self.not_connected(creds, e).await,
            }
        }
    }

    /// Register (if asked) and log in on `conn`.
    async fn attempt(
        &mut self,
        conn: &mut Conn,
        creds: &Credentials,
        register: bool,
    ) -> Result<Result<Attempt, ConnError>, Stop> {
        if register {
            match handshake::register(conn, &creds.name, &creds.password).await {
                Err(e) => return Ok(Err(e)),
                Ok(Err(e)) => return Ok(Ok(Attempt::Refused(e))),
                Ok(Ok(ok)) => {
                    info!(user = %ok.user.name, "registered");
                    self.emit(NetEvent::Registered { name: ok.user.name })
                        .await?;
                }
            }
        }
        Ok(
            match handshake::login(conn, &creds.name, &creds.password).await {
                Err(e) => Err(e),
                Ok(Err(e)) => Ok(Attempt::Refused(e)),
                Ok(Ok(ok)) => Ok(Attempt::LoggedIn(ok)),
            },
        )
    }

    /// Report a connection that failed before a login answer: a refused
    /// `hello` is a login failure that closed the connection, anything else
    /// means the server cannot be reached.
    async fn not_connected(
        &mut self,
        creds: &Credentials,
        e: ConnError,
    ) -> Result<FirstLogin, Stop> {
        warn!(server = %creds.server, error = %e, "could not log in");
        let event = match e {
            ConnError::Refused(e) => NetEvent::LoginFailed {
                code: e.code,
                message: e.message,
                attempts_left: e.attempts_left,
                closed: true,
            },
            ConnError::Dial(DialError::Untrusted(warning)) => NetEvent::Untrusted {
                server: creds.server.clone(),
                warning,
            },
            other => NetEvent::Unreachable {
                server: creds.server.clone(),
                error: other.for_user(),
            },
        };
        self.emit(event).await?;
        Ok(FirstLogin::Failed(None))
    }
}
