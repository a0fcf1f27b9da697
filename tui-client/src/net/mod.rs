//! The network side of the client.
//!
//! A connection task owns the socket: one task reads, one writes, so the
//! screen never waits on the network. The app talks to it through a
//! [`NetHandle`] ([`NetCommand`]s in) and hears from it through
//! [`NetEvent`]s. The task keeps the credentials in memory only, pings at the
//! server's interval, and after a dropped connection reconnects with growing,
//! capped, jittered backoff, logs in again with the resume token (or the
//! password), re-sends messages that were not acknowledged, and fetches what
//! was missed since the last message id it saw, so nothing is lost or doubled.
//!
//! After every login the task asks for the first page of the shared files,
//! of the games (open invitations and games in play), of the groups and of
//! the conversations, and the app asks for each next page while one says more
//! follow, so its panes start full. Who is online comes with the login
//! (`login_ok`: everyone, or the first page of a big room); the app pages
//! through the rest only as far as the online pane scrolls ([`UsersRequest`]).
//!
//! Duplicates are dropped here only for the main room (whose gap the task
//! fills itself); messages of groups and direct messages pass through, and
//! the app drops repeated ids per conversation (offline delivery repeats what
//! the user has not confirmed with `read`).
//!
//! File transfers run beside the chat: each in its own task with its own data
//! connection (`transfer.rs`, `data.rs`, `upload.rs`, `download.rs`), asking
//! the control connection only for its ticket, so chat never waits for bytes.

use std::path::PathBuf;
use std::time::Duration;

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{
    ChatMessage, Direction, ErrorReply, FileInfo, HistoryPage, LoginOk, ServerMessage, Target,
    UserList,
};

mod backoff;
mod commands;
mod connection;
mod dial;
mod game;
mod gap;
mod group;
mod handshake;
mod link;
mod list;
mod login;
mod manager;
mod reconnect;
mod session;
mod task;
mod transfer;
mod users;

pub use dial::{Transport, TrustError};
pub use game::GameRequest;
pub use group::{GroupRequest, HistoryQuery};
pub use list::ListRequest;
pub use task::{NetHandle, spawn};
pub use transfer::sha256_file;
pub use transfer::{part_path, unique_target};
pub use users::UsersRequest;

/// What the app asks of the network task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetCommand {
    /// Connect to `server` (if not connected to it) and log in; with
    /// `register`, create the account first.
    Login {
        /// `HOST:PORT`.
        server: String,
        /// User name.
        name: String,
        /// Password (kept in memory only, for reconnecting).
        password: String,
        /// Register before logging in.
        register: bool,
    },
    /// Send a chat message to the main room; `client_id` makes a re-send
    /// after a reconnect safe.
    Say {
        /// Client-chosen id, unique per message.
        client_id: String,
        /// The text.
        text: String,
    },
    /// Send a chat message to a group or a user (`send`), with the same
    /// pending, re-send and ack (`say_ok`) as `Say`.
    Send {
        /// Client-chosen id, unique per message.
        client_id: String,
        /// The group or user.
        to: Target,
        /// The text.
        text: String,
    },
    /// Fetch a page of a conversation's history; kept across a reconnect.
    /// The page comes back as [`NetEvent::History`].
    History(HistoryQuery),
    /// Share a local file with the room.
    Upload {
        /// Chosen by the app; names the transfer in every [`TransferUpdate`].
        transfer_id: u64,
        /// The local file.
        path: PathBuf,
        /// A comment shown with the file.
        comment: Option<String>,
    },
    /// Download a shared file into a directory (resuming a `.part` left there).
    Download {
        /// Chosen by the app; names the transfer in every [`TransferUpdate`].
        transfer_id: u64,
        /// The file, as listed.
        file: FileInfo,
        /// The directory to save into.
        dir: PathBuf,
    },
    /// Stop a transfer; a download's `.part` file stays for resuming.
    CancelTransfer {
        /// The transfer's id.
        transfer_id: u64,
    },
    /// A game request (`game_invite`, `game_accept`, `game_move`, `games`,
    /// `stats`, ...), sent as it is on the logged-in connection. Its reply
    /// comes back as a [`NetEvent::Server`]. Dropped while disconnected: a
    /// move decided before a drop may no longer fit the game after it.
    Game(GameRequest),
    /// A group, read-position or search request, sent as it is on the
    /// logged-in connection; its reply comes back as a [`NetEvent::Server`].
    /// Dropped while disconnected (the app sends reads again after a
    /// reconnect).
    Group(GroupRequest),
    /// A page of a listing (files, users, games, groups, a group's members),
    /// sent as it is on the logged-in connection; the page comes back as a
    /// [`NetEvent::Server`]. Dropped while disconnected (every login asks for
    /// the first pages again).
    List(ListRequest),
    /// A request about the online list (a page, watching a window, watching
    /// no more), sent as it is on the logged-in connection. A page comes
    /// back as [`NetEvent::Users`], with this request. Dropped while
    /// disconnected (the app asks again after the login).
    Users(UsersRequest),
    /// Leave: send `quit`, close, stop the task.
    Quit,
}

/// How far a transfer has come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferState {
    /// Accepted by the network task (hashing or asking the server).
    Started,
    /// Bytes are flowing: `done` of `total` (resumed bytes count as done).
    Progress {
        /// Bytes of the file in place so far.
        done: u64,
        /// The file's size.
        total: u64,
        /// Bytes per second moved by this run (resumed bytes not counted).
        rate: u64,
    },
    /// Finished: uploaded and shared, or downloaded, verified and saved.
    Done {
        /// Where a download was saved.
        saved: Option<PathBuf>,
    },
    /// Stopped by an error (the reason is for people).
    Failed(String),
    /// Stopped because the server refused it (`upload_begin`, `download_begin`, or
    /// on the data connection): the app puts its code in words.
    Refused(ErrorReply),
    /// Stopped by the user.
    Cancelled,
}

impl TransferState {
    /// True once the transfer has stopped for good.
    pub fn is_finished(&self) -> bool {
        matches!(
            self,
            Self::Done { .. } | Self::Failed(_) | Self::Refused(_) | Self::Cancelled
        )
    }
}

/// News about one transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferUpdate {
    /// The id the app chose.
    pub transfer_id: u64,
    /// The file's name.
    pub name: String,
    /// Which way.
    pub direction: Direction,
    /// Where it stands.
    pub state: TransferState,
}

/// What the network task tells the app.
#[derive(Debug, Clone, PartialEq)]
pub enum NetEvent {
    /// Trying to connect (attempt 1 is the first try).
    Connecting {
        /// `HOST:PORT`.
        server: String,
        /// Which attempt this is.
        attempt: u32,
    },
    /// The server could not be reached at all (before any login).
    Unreachable {
        /// `HOST:PORT`.
        server: String,
        /// Why.
        error: String,
    },
    /// The server's certificate is not the one pinned for it: nothing was sent
    /// and the client will not connect to it until the user removes the pin.
    Untrusted {
        /// `HOST:PORT`.
        server: String,
        /// The warning, with the two fingerprints and how to trust the new one.
        warning: String,
    },
    /// Something the user should know about the connection's security: a
    /// self-signed certificate was trusted on first use and pinned.
    Notice(String),
    /// `register` succeeded; a login follows.
    Registered {
        /// The name as the server stored it.
        name: String,
    },
    /// Login (or register) was refused.
    LoginFailed {
        /// The server's code (`user_not_found`, `wrong_password`, `name_taken`, ...).
        code: ErrorCode,
        /// The server's message.
        message: String,
        /// With `wrong_password`: tries left on this connection.
        attempts_left: Option<u32>,
        /// The server closed the connection (e.g. after the last wrong password).
        closed: bool,
    },
    /// Logged in; `resumed` is true when this is a reconnect.
    LoggedIn {
        /// The server's reply (user, online list, recent messages).
        ok: LoginOk,
        /// True after a reconnect.
        resumed: bool,
    },
    /// Messages stored while the connection was down, oldest first, none of
    /// them seen before.
    Missed(Vec<ChatMessage>),
    /// An event or reply from the server (messages, joins, leaves, acks,
    /// history pages, errors, ...).
    Server(ServerMessage),
    /// A page of history the app asked for (or the server's refusal).
    History {
        /// What was asked.
        query: HistoryQuery,
        /// The page, or why there is none.
        page: Result<HistoryPage, ErrorReply>,
    },
    /// A page of the online list the app asked for with
    /// [`NetCommand::Users`] (or the server's refusal).
    Users {
        /// What was asked.
        request: UsersRequest,
        /// The page, or why there is none.
        page: Result<UserList, ErrorReply>,
    },
    /// The server refused a `say` or `send` for good (e.g. a direct message
    /// to nobody): it is no longer pending.
    SendRefused {
        /// The message's client id.
        client_id: String,
        /// Why.
        error: ErrorReply,
    },
    /// The server could not store a `say` or `send` now (`storage_unavailable`):
    /// it stays pending and goes out again by itself after the time the server
    /// asked for.
    SendDelayed {
        /// The refusal, with its `retry_after_ms`.
        error: ErrorReply,
    },
    /// The connection dropped; the next attempt is in `retry_in`.
    Disconnected {
        /// Why, for the status bar.
        reason: String,
        /// When the next attempt starts.
        retry_in: Duration,
        /// The number of the next attempt.
        attempt: u32,
    },
    /// The session ended for good (kicked, banned, replaced, quit): no reconnect.
    Ended {
        /// Why, for the user.
        reason: String,
    },
    /// News about a file transfer (at most about ten a second each).
    Transfer(TransferUpdate),
}
