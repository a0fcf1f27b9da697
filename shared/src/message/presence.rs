//! Presence that scales (PROTOCOL §16): watching a window of the online list,
//! and the coalesced `presence` event.
//!
//! `login_ok` carries the number online and a first page of them; `users`
//! pages through the rest. A client that shows the list asks for changes with
//! `watch_users`: it then gets `presence` events (one per batch or tick,
//! carrying many names) for the names in the window it watches, plus the
//! number online, instead of one `user_joined` / `user_left` per user. Clients
//! that do not watch (every version-1 client) get `user_joined` and
//! `user_left` as before while few are online, and none above the server's
//! threshold, so a login costs the same at any number online.

use serde::{Deserialize, Serialize};

use super::{LeaveReason, OnlineUser};
use crate::UnixMillis;

/// `watch_users`: send me the changes among the online users in this window,
/// and the number online, as `presence` events. The reply is the window's
/// page (`user_list`), as `users` with the same fields would give it.
///
/// The window is the names after `after` up to the page's last name (or
/// without end when the page is the last one). A new `watch_users` replaces
/// the window.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchUsers {
    /// Only users whose name comes after this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Page size; absent means `limits.max_list_page`, clamped to 1 ...
    /// `max_list_page`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// `unwatch_users`: stop the `presence` events (the online pane is off screen).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnwatchUsers {}

/// Reply to `unwatch_users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnwatchOk {
    /// The request's `seq`.
    pub seq: u32,
}

/// Someone who left, in a `presence` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceLeft {
    /// Who.
    pub name: String,
    /// Why.
    pub reason: LeaveReason,
}

/// Event `presence`: the changes in a watched window since the last one, and
/// the number online now. Sent only to sessions that watch (`watch_users`).
///
/// A name is in at most one of the two lists: its latest change wins (a user
/// who came and went within one event is in `left`). Apply `left`, then
/// `joined`; a name in `joined` that is already listed replaces that entry
/// (a new session of the same user).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    /// How many users are online now (on every node of a cluster).
    pub online_count: u64,
    /// Users who came online in the window, by name.
    #[serde(default)]
    pub joined: Vec<OnlineUser>,
    /// Users who went offline in the window, by name.
    #[serde(default)]
    pub left: Vec<PresenceLeft>,
    /// When the event was sent.
    pub ts: UnixMillis,
}
