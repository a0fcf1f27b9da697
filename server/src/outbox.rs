//! What the rest of the server queues for one session to write.
//!
//! Frames are encoded once and shared ([`Bytes`]), so a broadcast to a
//! thousand sessions copies no message bytes.

use bytes::Bytes;
use tokio::sync::mpsc;

/// The sending end of a session's bounded outbound queue.
pub type Outbox = mpsc::Sender<Outbound>;

/// One item in a session's outbound queue.
#[derive(Debug)]
pub enum Outbound {
    /// A ready frame to write.
    Frame(Bytes),
    /// A stored chat message; carries its id so a session that already sent it
    /// (in the recent list of its `login_ok`) can skip the duplicate.
    Message {
        /// The encoded `message` or `announcement` event.
        frame: Bytes,
        /// Its chat-history id.
        id: i64,
    },
    /// Write what came before, then close the connection.
    Close(CloseReason),
}

/// Why the server closes a session on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The account logged in on another connection.
    Replaced,
    /// An administrator kicked or banned the account.
    Kicked,
}
