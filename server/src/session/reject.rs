//! A request's failure ([`Reject`]): the stable error code and sentence the
//! client is sent, and whether the connection closes afterwards; and which
//! requests are cut off after the request timeout.

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{ClientMessage, ErrorReply};
use tracing::warn;

/// A request's failure: the error to send and whether to close afterwards.
#[derive(Debug)]
pub(crate) struct Reject {
    pub(super) reply: ErrorReply,
    pub(super) close: bool,
}

impl Reject {
    pub(super) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            reply: ErrorReply::new(None, code, message),
            close: false,
        }
    }

    pub(super) fn closing(mut self) -> Self {
        self.close = true;
        self
    }

    /// The database does not take writes now (disk full, database down):
    /// nothing was stored; try again after `retry_after`.
    pub(super) fn storage_unavailable(retry_after: std::time::Duration) -> Self {
        let mut r = Self::new(
            ErrorCode::StorageUnavailable,
            "the server cannot store anything right now; nothing was stored: \
             try again after retry_after_ms",
        );
        r.reply.retry_after_ms = Some(
            u64::try_from(retry_after.as_millis())
                .unwrap_or(u64::MAX)
                .max(1),
        );
        r
    }

    pub(super) fn internal(what: &str, err: &dyn std::fmt::Display) -> Self {
        warn!(error = %err, "{what} failed");
        Self::new(
            ErrorCode::Internal,
            format!("{what} failed inside the server; try again"),
        )
    }
}

impl From<sea_orm::DbErr> for Reject {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::internal("the database request", &e)
    }
}

/// Whether a request is cut off after `Config::request_timeout` (answered
/// `internal`): every request that waits for the database or another task,
/// but not those that write to the socket themselves (a login flushes what
/// the user missed; a cut-off write would leave half a frame) or need nothing
/// (hello, ping, quit). Those are bounded by the database pool's own timeout.
pub(super) fn is_bounded(body: &ClientMessage) -> bool {
    !matches!(
        body,
        ClientMessage::Hello(_)
            | ClientMessage::Register(_)
            | ClientMessage::Login(_)
            | ClientMessage::Resume(_)
            | ClientMessage::Transfer(_)
            | ClientMessage::Ping(_)
            | ClientMessage::Quit(_)
    )
}
