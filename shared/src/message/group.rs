//! Messages of groups, direct messages, read positions and search.
//!
//! Every message goes to a [`Target`]: the main room, a group (by name) or a user
//! (a direct message, by name). The main room is `say`; groups and users are `send`.
//! Private groups and direct messages are delivered also to whoever was offline when
//! they were sent: at login the server sends every message after the user's read
//! position in each conversation, and the client moves that position with `read`
//! once it has shown them, so nothing is lost if a connection drops half-way
//! (the client drops repeated message ids).

use serde::{Deserialize, Serialize};

use crate::UnixMillis;

/// Where a message goes; names a conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// The main room, where everyone is.
    #[default]
    Room,
    /// A group, by name.
    Group {
        /// The group's name.
        group: String,
    },
    /// A direct message conversation with one user, by name. In a `message` event it
    /// names the recipient, so the conversation is the other party of `from` and it.
    User {
        /// The user's name.
        user: String,
    },
}

impl Target {
    /// True for the main room (left out of the wire form where optional).
    pub fn is_room(&self) -> bool {
        matches!(self, Self::Room)
    }
}

/// `send`: a chat message to a group or a user (the main room takes `say`, or
/// `send` with `to` the room).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Send {
    /// Client-chosen message id, as in `say`.
    pub id: String,
    /// Where it goes.
    pub to: Target,
    /// The text, as in `say`.
    pub text: String,
}

/// `group_create`: make a group (you become its creator and first member).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupCreate {
    /// The name: the rules of user names, unique among all groups ever made.
    pub name: String,
    /// Private: joining needs the creator's approval; only members read it.
    #[serde(default)]
    pub private: bool,
    /// What the group is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Private groups: new members read the history from before they joined too
    /// (by default they see it from the moment they joined).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub full_history: bool,
}

/// A request about one group: `group_join`, `group_leave`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRef {
    /// The group's name.
    pub group: String,
}

/// A creator's decision about one user: `group_approve`, `group_reject`,
/// `group_remove`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMemberRef {
    /// The group's name.
    pub group: String,
    /// The user's name.
    pub user: String,
}

/// `group_members`: one page of a group's members, then (for its creator) of
/// the users waiting for approval.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMembers {
    /// The group's name.
    pub group: String,
    /// Only the entries after this name: the `next` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Page size; absent means `limits.max_list_page`, clamped to 1 ...
    /// `max_list_page`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// `groups`: one page of the groups, oldest (lowest id) first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Groups {
    /// Only groups with a larger id: the `next` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<i64>,
    /// Page size; absent means `limits.max_list_page`, clamped to 1 ...
    /// `max_list_page`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// `conversations`: one page of the user's direct-message conversations, the
/// one with the newest message first.
///
/// It exists so a client can list every conversation after logging in, also
/// those with nothing unread (offline delivery brings only unread messages).
/// The cursor is a message id: each conversation of one user has its own
/// newest message, so the `last_message_id` of a page's last entry says where
/// the next page starts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversations {
    /// Only conversations whose newest message is older (has a smaller id)
    /// than this: the `next` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<i64>,
    /// Page size; absent means `limits.max_list_page`, clamped to 1 ...
    /// `max_list_page`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// One direct-message conversation of a user: with whom, and its last activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectConversation {
    /// The other user (the user themself for notes to self).
    pub user: String,
    /// The id of the newest message between the two, sent either way.
    pub last_message_id: i64,
    /// When that message was sent.
    pub last_at: UnixMillis,
}

/// Reply to `conversations`: one page of the user's direct-message
/// conversations, newest activity first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationList {
    /// The request's `seq`.
    pub seq: u32,
    /// The page's conversations, the one with the newest message first.
    pub conversations: Vec<DirectConversation>,
    /// More conversations follow: ask again with `after` = `next`.
    #[serde(default)]
    pub has_more: bool,
    /// With `has_more`: the cursor for the next page (the last entry's
    /// `last_message_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<i64>,
}

/// `read`: everything in `to` up to message `upto` has been shown to the user.
/// Moves the read position forward only; offline delivery starts after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Read {
    /// The conversation (for a direct message: the other user).
    pub to: Target,
    /// The newest message id shown.
    pub upto: i64,
}

/// `search`: messages the user may read that contain every word of `text`,
/// newest first, across the room, their groups, public groups and their direct
/// messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Search {
    /// The words (case is ignored).
    pub text: String,
    /// Only messages with ids smaller than this (the next page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<i64>,
    /// Page size; clamped to the server's maximum history page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// A group's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupStatus {
    /// In use.
    Open,
    /// Closed by its creator (who left it).
    Closed,
    /// Closed by the server's administrator.
    ClosedByAdmin,
}

/// Where a user stands with a group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Membership {
    /// Not a member.
    #[default]
    None,
    /// Asked to join a private group; waiting for the creator.
    Requested,
    /// A member (the creator is one too).
    Member,
    /// Removed by the creator, or the request was rejected.
    Removed,
    /// Left.
    Left,
}

/// A group as a user sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupInfo {
    /// Server-assigned id.
    pub id: i64,
    /// The name.
    pub name: String,
    /// Who made it.
    pub creator: String,
    /// Private (joining needs approval) or public.
    pub private: bool,
    /// What it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// When it was made.
    pub created: UnixMillis,
    /// Open or closed.
    pub status: GroupStatus,
    /// The receiving user's standing.
    #[serde(default)]
    pub me: Membership,
    /// How many members it has.
    pub members: u32,
}

/// Reply to `group_create`, `group_join`, `group_leave`, `group_approve`,
/// `group_reject` and `group_remove`: the group after the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupState {
    /// The request's `seq`.
    pub seq: u32,
    /// The group.
    pub group: GroupInfo,
}

/// Reply to `groups`: one page of every open group (private ones too, to ask
/// to join), and closed ones the user belonged to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupList {
    /// The request's `seq`.
    pub seq: u32,
    /// The page's groups, oldest (lowest id) first.
    pub groups: Vec<GroupInfo>,
    /// More groups follow: ask again with `after` = `next`.
    #[serde(default)]
    pub has_more: bool,
    /// With `has_more`: the cursor for the next page (the last group's id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<i64>,
}

/// Reply to `group_members`: one page of one list that holds the members, in
/// the order they joined (the creator first), and after them the users
/// waiting for approval (only the creator gets those), in the order they asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberList {
    /// The request's `seq`.
    pub seq: u32,
    /// The group's name.
    pub group: String,
    /// The page's members.
    pub members: Vec<String>,
    /// The page's waiting users (empty but for the creator).
    pub requests: Vec<String>,
    /// More entries follow: ask again with `after` = `next`.
    #[serde(default)]
    pub has_more: bool,
    /// With `has_more`: the cursor for the next page (the name of the page's
    /// last entry, a member or a waiting user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// Reply to `read`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadOk {
    /// The request's `seq`.
    pub seq: u32,
    /// The conversation.
    pub to: Target,
    /// The read position now (never moves back).
    pub upto: i64,
}

/// Reply to `search`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResults {
    /// The request's `seq`.
    pub seq: u32,
    /// Matching messages, newest first; each names its conversation in `to`.
    pub messages: Vec<super::ChatMessage>,
    /// More matches exist before the last one.
    pub has_more: bool,
}

/// What happened to a group or its membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupChange {
    /// `user` joined (a public group, or was approved into a private one).
    Joined,
    /// `user` left.
    Left,
    /// The creator removed `user`.
    Removed,
    /// `user` asks to join (sent to the creator, also at login while pending).
    Requested,
    /// The creator approved the receiver's request (sent to the new member).
    Approved,
    /// The creator rejected the receiver's request.
    Rejected,
    /// The group was closed (its creator left, or the administrator closed it).
    Closed,
}

/// Event `group_update`: a group changed. Sent to the group's online members, and
/// to the user a change is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupUpdate {
    /// The group after the change, as the receiver sees it.
    pub group: GroupInfo,
    /// What happened.
    pub change: GroupChange,
    /// Who it happened to, for changes about one user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}
