//! Replies and events from the server to a client.
//!
//! Replies carry the `seq` of the request they answer. Events are pushed by the
//! server on its own and carry no `seq`.

use serde::{Deserialize, Serialize};

use crate::{ErrorCode, UnixMillis};

/// Every reply and event of protocol v1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    // ----- replies -----
    /// Reply to `hello`: the version was accepted.
    HelloOk(HelloOk),
    /// Reply to `register`: the account exists now.
    RegisterOk(RegisterOk),
    /// Reply to `login` and `resume`: the session is open and in the main room.
    LoginOk(LoginOk),
    /// Reply to `say`: the message is durably stored and was delivered.
    SayOk(SayOk),
    /// Reply to `history`.
    HistoryPage(HistoryPage),
    /// Reply to `ping`.
    Pong(Pong),
    /// Reply to `quit`; the server closes the connection after it.
    Bye(Bye),
    /// A request failed, or (without `seq`) the server is closing the connection.
    Error(ErrorReply),
    /// Reply to `files`.
    FileList(super::FileList),
    /// Reply to `upload_begin`.
    UploadReady(super::UploadReady),
    /// Reply to `download_begin`.
    DownloadReady(super::DownloadReady),
    /// Reply to `transfer` on a data connection: raw bytes follow.
    TransferReady(super::TransferReady),
    /// On an upload's data connection, after the bytes: the file is shared.
    TransferDone(super::TransferDone),
    /// Reply to the game requests that concern one game: its state after them.
    GameState(super::GameState),
    /// Reply to `games`.
    GameList(super::GameList),
    /// Reply to `stats`.
    Stats(super::Stats),
    /// Reply to the group requests that change or make one group.
    GroupState(super::GroupState),
    /// Reply to `groups`.
    GroupList(super::GroupList),
    /// Reply to `group_members`.
    MemberList(super::MemberList),
    /// Reply to `read`.
    ReadOk(super::ReadOk),
    /// Reply to `search`.
    SearchResults(super::SearchResults),
    /// Reply to `users`.
    UserList(UserList),
    /// Reply to `conversations`.
    ConversationList(super::ConversationList),
    /// Reply to `unwatch_users`.
    UnwatchOk(super::UnwatchOk),

    // ----- events -----
    /// Someone entered the chat room.
    UserJoined(UserJoined),
    /// Someone left the chat room.
    UserLeft(UserLeft),
    /// A chat message from another user.
    Message(ChatMessage),
    /// An announcement from the server's administrator.
    Announcement(Announcement),
    /// The same account logged in elsewhere; this connection closes next.
    SessionReplaced(SessionReplaced),
    /// An administrator removed this session; the connection closes next.
    Kicked(Kicked),
    /// The server is shutting down; the connection closes next.
    ServerShutdown(ServerShutdown),
    /// Someone shared a file.
    FileShared(super::FileShared),
    /// Someone invites anyone to a game.
    GameInvite(super::GameInvite),
    /// A game changed (taken, a move, over, cancelled, expired).
    GameUpdate(super::GameUpdate),
    /// A group changed (someone joined, left, asked to join; it closed; ...).
    GroupUpdate(super::GroupUpdate),
    /// Event: changes in the watched window of the online list, and the number online.
    Presence(super::Presence),
}

/// Reply to `hello`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelloOk {
    /// The request's `seq`.
    pub seq: u32,
    /// Server software name and version.
    pub server: String,
    /// The protocol version this connection will speak.
    pub version: u32,
    /// Oldest protocol version the server accepts.
    pub min_version: u32,
    /// Newest protocol version the server accepts.
    pub max_version: u32,
    /// The server's limits.
    pub limits: super::Limits,
}

/// A user account as others see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    /// Stable numeric account id.
    pub id: i64,
    /// The display name, as registered (NFC).
    pub name: String,
}

/// Reply to `register`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterOk {
    /// The request's `seq`.
    pub seq: u32,
    /// The new account.
    pub user: UserInfo,
}

/// Someone who is online now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnlineUser {
    /// Their name.
    pub name: String,
    /// When their session started.
    pub since: UnixMillis,
}

/// Reply to `users`: one page of who is online, by name in Unicode code point
/// order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserList {
    /// The request's `seq`.
    pub seq: u32,
    /// The page's users.
    pub users: Vec<OnlineUser>,
    /// More users follow: ask again with `after` = `next`.
    #[serde(default)]
    pub has_more: bool,
    /// With `has_more`: the cursor for the next page (the last user's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// How many users are online now (on every node of a cluster). Zero from
    /// a server before presence paging.
    #[serde(default)]
    pub online_count: u64,
}

/// Reply to `login` and `resume`: the session is open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginOk {
    /// The request's `seq`.
    pub seq: u32,
    /// Who is logged in on this connection.
    pub user: UserInfo,
    /// Resume token: send it in `resume` to log in again without a password.
    /// Keep it secret; it stays valid until revoked or `token_expires`.
    pub token: String,
    /// When the resume token expires.
    pub token_expires: UnixMillis,
    /// Who is online now, this user included: everyone in login order when
    /// they are at most a first page, otherwise the first page by name (then
    /// `online_next` is set).
    pub online: Vec<OnlineUser>,
    /// How many users are online now (on every node of a cluster). Zero from
    /// a server before presence paging.
    #[serde(default)]
    pub online_count: u64,
    /// Set when `online` is only the first page, by name: the cursor (`after`)
    /// for `users` to page through the rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online_next: Option<String>,
    /// The most recent messages of the main room, oldest first.
    pub recent: Vec<ChatMessage>,
}

/// What a stored record in the chat history is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// A user's chat message.
    #[default]
    Message,
    /// An administrator's announcement (`from` is `"Admin"`).
    Announcement,
}

/// A stored chat message: the `message` event, and each entry of history pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Server-assigned id; ids grow in the order messages were stored.
    pub id: i64,
    /// When the server received it.
    pub ts: UnixMillis,
    /// A user's message or an administrator's announcement.
    #[serde(default)]
    pub kind: MessageKind,
    /// Sender's name (`"Admin"` for announcements).
    pub from: String,
    /// The text; may contain newlines and tabs.
    pub text: String,
    /// The conversation: absent for the main room; a group; or, for a direct
    /// message, the recipient.
    #[serde(default, skip_serializing_if = "super::Target::is_room")]
    pub to: super::Target,
}

/// Reply to `say`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SayOk {
    /// The request's `seq`.
    pub seq: u32,
    /// The client message id from the request.
    pub id: String,
    /// The server-assigned message id.
    pub message_id: i64,
    /// The server timestamp of the message.
    pub ts: UnixMillis,
}

/// Reply to `history`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    /// The request's `seq`.
    pub seq: u32,
    /// Messages in ascending id order.
    pub messages: Vec<ChatMessage>,
    /// True when more messages exist beyond this page in the requested direction.
    pub has_more: bool,
}

/// Reply to `ping`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pong {
    /// The request's `seq`.
    pub seq: u32,
    /// Server time, for clock-skew display.
    pub ts: UnixMillis,
}

/// Reply to `quit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bye {
    /// The request's `seq`.
    pub seq: u32,
}

/// An error: in reply to a request (with its `seq`), or on its own just
/// before the server closes the connection (without `seq`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReply {
    /// The failed request's `seq`, when the request had a readable one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u32>,
    /// Stable machine-readable code.
    pub code: ErrorCode,
    /// Human-readable explanation.
    pub message: String,
    /// With `wrong_password`: tries left before the connection closes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u32>,
    /// With `too_many_attempts`, `address_refused`, `server_busy`, `rate_limited`,
    /// `storage_unavailable`: wait this long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// With `version_unsupported`: oldest version the server accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_version: Option<u32>,
    /// With `version_unsupported`: newest version the server accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_version: Option<u32>,
    /// With errors in reply to `hello`: the server software name and version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
}

impl ErrorReply {
    /// An error with just a code and a message.
    pub fn new(seq: Option<u32>, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            seq,
            code,
            message: message.into(),
            attempts_left: None,
            retry_after_ms: None,
            min_version: None,
            max_version: None,
            server: None,
        }
    }
}

/// Event: someone entered the chat room ("[name] joined the chat room").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserJoined {
    /// Who.
    pub name: String,
    /// When.
    pub ts: UnixMillis,
}

/// Why someone left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaveReason {
    /// They sent `quit`.
    Quit,
    /// Their connection closed or failed.
    Disconnected,
    /// They sent nothing within the keepalive time.
    Timeout,
    /// They could not keep up with their messages.
    TooSlow,
    /// An administrator kicked them.
    Kicked,
    /// An administrator banned them.
    Banned,
}

/// Event: someone left the chat room ("[name] left the chat room").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserLeft {
    /// Who.
    pub name: String,
    /// Why.
    pub reason: LeaveReason,
    /// When.
    pub ts: UnixMillis,
}

/// Event: an announcement from the administrator ("Admin: text").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    /// Its id in the chat history.
    pub id: i64,
    /// When it was made.
    pub ts: UnixMillis,
    /// The text.
    pub text: String,
}

/// Event: this account logged in on another connection, which took over.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionReplaced {}

/// Event: an administrator removed this session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kicked {
    /// The administrator's reason, if one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// True when the account was also banned.
    #[serde(default)]
    pub banned: bool,
}

/// Event: the server is shutting down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerShutdown {
    /// Human-readable detail.
    pub message: String,
}

impl ServerMessage {
    /// The `seq` this message answers, or `None` for events.
    pub fn seq(&self) -> Option<u32> {
        match self {
            Self::HelloOk(m) => Some(m.seq),
            Self::RegisterOk(m) => Some(m.seq),
            Self::LoginOk(m) => Some(m.seq),
            Self::SayOk(m) => Some(m.seq),
            Self::HistoryPage(m) => Some(m.seq),
            Self::Pong(m) => Some(m.seq),
            Self::Bye(m) => Some(m.seq),
            Self::Error(m) => m.seq,
            Self::FileList(m) => Some(m.seq),
            Self::UploadReady(m) => Some(m.seq),
            Self::DownloadReady(m) => Some(m.seq),
            Self::TransferReady(m) => Some(m.seq),
            Self::TransferDone(m) => Some(m.seq),
            Self::GameState(m) => Some(m.seq),
            Self::GameList(m) => Some(m.seq),
            Self::Stats(m) => Some(m.seq),
            Self::GroupState(m) => Some(m.seq),
            Self::GroupList(m) => Some(m.seq),
            Self::MemberList(m) => Some(m.seq),
            Self::ReadOk(m) => Some(m.seq),
            Self::SearchResults(m) => Some(m.seq),
            Self::UserList(m) => Some(m.seq),
            Self::ConversationList(m) => Some(m.seq),
            Self::UnwatchOk(m) => Some(m.seq),
            Self::UserJoined(_)
            | Self::UserLeft(_)
            | Self::Message(_)
            | Self::Announcement(_)
            | Self::SessionReplaced(_)
            | Self::Kicked(_)
            | Self::ServerShutdown(_)
            | Self::FileShared(_)
            | Self::GameInvite(_)
            | Self::GameUpdate(_)
            | Self::GroupUpdate(_)
            | Self::Presence(_) => None,
        }
    }
}
