//! The writer's queue: the records senders hand it ([`StoreItem`]), where a
//! chat message goes ([`Destination`]) and its acknowledgement ([`Ack`]), and
//! the handle that queues them ([`Store`]), bounded so a slow database makes
//! senders wait or be refused instead of growing memory.

use std::sync::Arc;
use std::time::Duration;

use chatroom_shared::UnixMillis;
use chatroom_shared::message::Target;
use tokio::sync::{mpsc, oneshot};

use super::Health;
use crate::db::history;
use crate::delivery::Audience;
use crate::outbox::Outbox;

/// Where to send the `say_ok` for a stored message.
#[derive(Debug)]
pub struct Ack {
    /// The sender's outbox.
    pub outbox: Outbox,
    /// The sender's connection, so an overflowing outbox drops that session only.
    pub session_id: u64,
    /// The `seq` of the `say` request.
    pub seq: u32,
}

/// One record for the writer.
#[derive(Debug)]
pub enum StoreItem {
    /// A user's chat message: to the main room, a group or a user.
    Chat {
        /// Sender account id.
        uid: i64,
        /// Where it goes.
        to: Destination,
        /// Sender display name (for the event).
        name: Arc<str>,
        /// Client message id, for de-duplication.
        client_id: String,
        /// Validated text.
        text: String,
        /// Server receive time.
        ts: UnixMillis,
        /// Where the acknowledgement goes.
        ack: Ack,
    },
    /// An administrator's announcement; `done` gets its id once stored and sent.
    Announcement {
        /// Validated text.
        text: String,
        /// When it was made.
        ts: UnixMillis,
        /// Told the stored id, or the error.
        done: oneshot::Sender<Result<i64, StoreError>>,
    },
    /// A successful login: update the account's last address, time and count.
    LoginStat {
        /// Account id.
        uid: i64,
        /// Peer address.
        address: String,
        /// Login time.
        ts: UnixMillis,
    },
    /// A resume token was issued: store its hash and prune the account's old ones, in
    /// the writer's own transaction (so logins never compete with it for the database's
    /// write lock); `done` is told once it is committed, before the token is handed out.
    TokenIssued {
        /// Account id.
        uid: i64,
        /// SHA-256 of the token.
        hash: Vec<u8>,
        /// Issue time.
        ts: UnixMillis,
        /// Expiry time.
        expires: UnixMillis,
        /// Told once committed, or that the store gave it up.
        done: oneshot::Sender<Result<(), StoreError>>,
    },
    /// A resume token was used.
    TokenUsed {
        /// The token row id.
        token_id: i64,
        /// When.
        ts: UnixMillis,
    },
}

/// Where a chat message goes, resolved by the session that took it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// The kind of conversation.
    pub kind: history::TargetKind,
    /// `chat_history.target_id`.
    pub id: i64,
    /// The conversation as clients name it (in the `message` event).
    pub target: Target,
    /// Who gets the message now (if online). The sender is never among
    /// them: they get `say_ok`.
    pub audience: Audience,
}

impl Destination {
    /// The main room, for a message from `sender`.
    pub fn room(sender: i64) -> Self {
        Self {
            kind: history::TargetKind::Room,
            id: 0,
            target: Target::Room,
            audience: Audience::all_but(sender),
        }
    }
}

/// Why a record was not stored.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The writer has stopped (the server is shutting down).
    #[error("the store has stopped")]
    Stopped,
    /// The database did not take the record in time (disk full, database
    /// down); nothing was stored. The store tries again after `retry_after`.
    #[error("the database cannot store it now")]
    Unavailable {
        /// When the store tries the database again.
        retry_after: Duration,
    },
}

/// Why [`Store::try_submit`] did not queue a record.
#[derive(Debug, thiserror::Error)]
pub enum TrySubmitError {
    /// The queue is full (the database is slow or unavailable): try later.
    #[error("the store queue is full")]
    Full,
    /// The writer has stopped.
    #[error("the store has stopped")]
    Stopped,
}

/// Handle for queueing records. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub(super) tx: mpsc::Sender<StoreItem>,
    pub(super) health: Arc<Health>,
}

impl Store {
    /// How long a new chat message must wait before it is taken, while the
    /// database is failing (`None`: it may be queued). A message refused for it
    /// is answered at once instead of waiting in the queue for a database that
    /// does not take writes.
    pub fn unavailable_for(&self) -> Option<Duration> {
        self.health.refusal()
    }

    /// Records waiting for the writer now (for the operator's metrics).
    pub fn queued(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Queue a record, waiting while the queue is full (backpressure).
    pub async fn submit(&self, item: StoreItem) -> Result<(), StoreError> {
        self.tx.send(item).await.map_err(|_| StoreError::Stopped)
    }

    /// Queue a record if there is room now. Chat messages use this: while the
    /// database is unavailable the queue fills, and senders are told to retry
    /// (`server_busy`) instead of waiting without an answer.
    pub fn try_submit(&self, item: StoreItem) -> Result<(), TrySubmitError> {
        self.tx.try_send(item).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => TrySubmitError::Full,
            mpsc::error::TrySendError::Closed(_) => TrySubmitError::Stopped,
        })
    }
}
