//! Requests from a client to the server.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// One request: the client-chosen sequence number plus the request itself.
///
/// On the wire both are fields of one JSON object:
/// `{"type":"say","seq":7,"id":"c-1","text":"hi"}`. The server echoes `seq` in
/// its reply so a client can match replies to requests.
///
/// Deserialization is strict about `"type"`: it must be a string naming a
/// request. (serde's derived `flatten` would also take an integer as a variant
/// index, so `"type": 7` would silently mean `quit`.)
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Request {
    /// Client-chosen number echoed in the reply.
    pub seq: u32,
    /// The request itself; its variant gives the `"type"` field.
    #[serde(flatten)]
    pub body: ClientMessage,
}

impl<'de> Deserialize<'de> for Request {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut map = serde_json::Map::deserialize(deserializer)?;
        let seq = match map.remove("seq") {
            Some(v) => u32::deserialize(v).map_err(D::Error::custom)?,
            None => return Err(D::Error::missing_field("seq")),
        };
        match map.get("type") {
            Some(Value::String(_)) => {}
            Some(_) => return Err(D::Error::custom("\"type\" must be a string")),
            None => return Err(D::Error::missing_field("type")),
        }
        let body = ClientMessage::deserialize(Value::Object(map)).map_err(D::Error::custom)?;
        Ok(Self { seq, body })
    }
}

/// Every request type of protocol v1.
///
/// No request names its sender: the server takes identity from the
/// authenticated session only, and ignores any extra field that claims one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// First request on every connection: protocol version and client name.
    Hello(Hello),
    /// Create an account. Does not log in.
    Register(Register),
    /// Log in with name and password; joins the main room.
    Login(Login),
    /// Log in with a resume token from an earlier `login_ok`, without a password.
    Resume(Resume),
    /// Send a chat message to the main room.
    Say(Say),
    /// Page through the main room's stored messages.
    History(History),
    /// Keepalive; the server answers `pong`.
    Ping(Ping),
    /// Leave the chat; the server answers `bye` and closes the connection.
    Quit(Quit),
    /// One page of the shared files.
    Files(super::Files),
    /// Announce an upload; the reply carries a ticket for a data connection.
    UploadBegin(super::UploadBegin),
    /// Ask for a download; the reply carries a ticket for a data connection.
    DownloadBegin(super::DownloadBegin),
    /// First request on a data connection: present a ticket.
    Transfer(super::Transfer),
    /// Invite anyone online to a game of tic-tac-toe.
    GameInvite(super::GameInviteRequest),
    /// Withdraw your open invitation.
    GameCancel(super::GameRef),
    /// Take the seat of an open invitation (the first accept wins).
    GameAccept(super::GameRef),
    /// Place your mark.
    GameMove(super::GameMove),
    /// Give up a game in play.
    GameResign(super::GameRef),
    /// Follow a game's moves as a spectator.
    GameWatch(super::GameRef),
    /// Stop following a game.
    GameUnwatch(super::GameRef),
    /// One page of the open invitations and games in play.
    Games(super::Games),
    /// A user's wins, losses and draws.
    Stats(super::StatsRequest),
    /// Send a chat message to a group or a user (direct message).
    Send(super::Send),
    /// Make a group.
    GroupCreate(super::GroupCreate),
    /// Join a public group, or ask to join a private one.
    GroupJoin(super::GroupRef),
    /// Leave a group (its creator leaving closes it).
    GroupLeave(super::GroupRef),
    /// One page of a group's members (and, for its creator, pending requests).
    GroupMembers(super::GroupMembers),
    /// The creator lets a user who asked into a private group.
    GroupApprove(super::GroupMemberRef),
    /// The creator turns down a user's request.
    GroupReject(super::GroupMemberRef),
    /// The creator removes a member.
    GroupRemove(super::GroupMemberRef),
    /// One page of the groups.
    Groups(super::Groups),
    /// Move a conversation's read position forward.
    Read(super::Read),
    /// Search every message the user may read.
    Search(super::Search),
    /// One page of who is online now.
    Users(Users),
    /// One page of the user's direct-message conversations, newest activity first.
    Conversations(super::Conversations),
    /// Get `presence` events for a window of the online list.
    WatchUsers(super::WatchUsers),
    /// Stop the `presence` events.
    UnwatchUsers(super::UnwatchUsers),
}

/// `hello`: opens the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// The protocol version the client speaks.
    pub version: u32,
    /// Free-form client name and version, for logs (e.g. `"chatroom-tui 0.1.0"`).
    pub client: String,
}

/// `register`: create an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Register {
    /// The wanted user name (see [`crate::rules::names`]).
    pub name: String,
    /// The password (see [`crate::rules::password`]).
    pub password: String,
}

/// `login`: authenticate with a password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    /// The account name (compared ignoring case).
    pub name: String,
    /// The password.
    pub password: String,
}

/// `resume`: authenticate with a resume token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    /// The token from an earlier `login_ok`.
    pub token: String,
}

/// `say`: a chat message to the main room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Say {
    /// Client-chosen message id (1-64 bytes, unique per user). Sending the same
    /// id again, e.g. after a reconnect, stores and delivers the message once.
    pub id: String,
    /// The text (see [`crate::rules::text`]).
    pub text: String,
}

/// `history`: one page of a conversation's stored messages (the main room unless
/// `to` says otherwise).
///
/// With `before`, the newest messages older than that id; with `after`, the
/// oldest messages newer than that id; with neither, the newest messages.
/// `before_ts` / `after_ts` bound the send time the same way, `from` keeps one
/// sender's messages, `text` those containing every one of its words (case is
/// ignored). Messages in the page are always in ascending id order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// Return messages with ids smaller than this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<i64>,
    /// Return messages with ids greater than this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<i64>,
    /// Page size; clamped to the server's maximum (announced in `hello_ok`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// The conversation: the main room when absent.
    #[serde(default, skip_serializing_if = "super::Target::is_room")]
    pub to: super::Target,
    /// Only messages sent before this time (unix milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_ts: Option<i64>,
    /// Only messages sent after this time (unix milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_ts: Option<i64>,
    /// Only messages from this user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Only messages containing every word of this text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// `users`: one page of the users online now (on every node of a cluster), by
/// name in Unicode code point order.
///
/// `login_ok` lists who is online at login; this is how a client gets the
/// rest when that list is not whole, or the list again later.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Users {
    /// Only users whose name comes after this one: the `next` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Page size; absent means `limits.max_list_page`, clamped to 1 ...
    /// `max_list_page`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Only users whose name starts with this (exactly, code point by code
    /// point): how a client finds a user among many by typing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

/// `ping`: keepalive. Clients send one whenever they have sent nothing for
/// `ping_interval_ms` (from `hello_ok`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ping {}

/// `quit`: leave the chat room.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quit {}

impl ClientMessage {
    /// The wire name of this request type.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Hello(_) => "hello",
            Self::Register(_) => "register",
            Self::Login(_) => "login",
            Self::Resume(_) => "resume",
            Self::Say(_) => "say",
            Self::History(_) => "history",
            Self::Ping(_) => "ping",
            Self::Quit(_) => "quit",
            Self::Files(_) => "files",
            Self::UploadBegin(_) => "upload_begin",
            Self::DownloadBegin(_) => "download_begin",
            Self::Transfer(_) => "transfer",
            Self::GameInvite(_) => "game_invite",
            Self::GameCancel(_) => "game_cancel",
            Self::GameAccept(_) => "game_accept",
            Self::GameMove(_) => "game_move",
            Self::GameResign(_) => "game_resign",
            Self::GameWatch(_) => "game_watch",
            Self::GameUnwatch(_) => "game_unwatch",
            Self::Games(_) => "games",
            Self::Stats(_) => "stats",
            Self::Send(_) => "send",
            Self::GroupCreate(_) => "group_create",
            Self::GroupJoin(_) => "group_join",
            Self::GroupLeave(_) => "group_leave",
            Self::GroupMembers(_) => "group_members",
            Self::GroupApprove(_) => "group_approve",
            Self::GroupReject(_) => "group_reject",
            Self::GroupRemove(_) => "group_remove",
            Self::Groups(_) => "groups",
            Self::Read(_) => "read",
            Self::Search(_) => "search",
            Self::Users(_) => "users",
            Self::WatchUsers(_) => "watch_users",
            Self::UnwatchUsers(_) => "unwatch_users",
            Self::Conversations(_) => "conversations",
        }
    }

    /// Every request type name, for diagnostics ("unknown type; known: ...").
    pub const TYPE_NAMES: &'static [&'static str] = &[
        "hello",
        "register",
        "login",
        "resume",
        "say",
        "history",
        "ping",
        "quit",
        "files",
        "upload_begin",
        "download_begin",
        "transfer",
        "game_invite",
        "game_cancel",
        "game_accept",
        "game_move",
        "game_resign",
        "game_watch",
        "game_unwatch",
        "games",
        "stats",
        "send",
        "group_create",
        "group_join",
        "group_leave",
        "group_members",
        "group_approve",
        "group_reject",
        "group_remove",
        "groups",
        "read",
        "search",
        "users",
        "conversations",
        "watch_users",
        "unwatch_users",
    ];
}
