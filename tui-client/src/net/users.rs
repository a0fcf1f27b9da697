//! The requests about who is online (PROTOCOL §5.9, §18): a page of the
//! online list by name (after a name, or among the names that start with
//! what the user typed), watching a window of it, and watching no more.
//!
//! The online pane scrolls, finds and watches at the same time, so the
//! network task hands each `user_list` back with the request it answers
//! ([`super::NetEvent::Users`]): the app never has to guess which of its
//! pages came.

use chatroom_shared::message::{ClientMessage, UnwatchUsers, Users, WatchUsers};

/// One request about the online list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsersRequest {
    /// `users`: a page of who is online, by name.
    Page {
        /// The cursor: only names after this one (none: from the first).
        after: Option<String>,
        /// Only names that start with this (finding a user by typing).
        prefix: Option<String>,
        /// Page size.
        limit: u32,
    },
    /// `watch_users`: the page after `after`, and from now on `presence`
    /// events for the names in it (instead of `user_joined` / `user_left`).
    Watch {
        /// The cursor: the window starts after this name (none: the first).
        after: Option<String>,
        /// Page size: how many names the window holds.
        limit: u32,
    },
    /// `unwatch_users`: no more `presence` events (the pane left the
    /// screen). Its reply (`unwatch_ok`) is nothing the app needs.
    Unwatch,
}

impl UsersRequest {
    /// True for the requests whose reply is a `user_list` the app waits for.
    pub fn has_page(&self) -> bool {
        !matches!(self, Self::Unwatch)
    }

    /// The request as it goes on the wire.
    pub fn to_message(&self) -> ClientMessage {
        match self.clone() {
            Self::Page {
                after,
                prefix,
                limit,
            } => ClientMessage::Users(Users {
                after,
                limit: Some(limit),
                prefix,
            }),
            Self::Watch { after, limit } => ClientMessage::WatchUsers(WatchUsers {
                after,
                limit: Some(limit),
            }),
            Self::Unwatch => ClientMessage::UnwatchUsers(UnwatchUsers {}),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_request_goes_out_in_its_wire_form() {
        let wire = |r: UsersRequest| serde_json::to_value(r.to_message()).unwrap();
        assert_eq!(
            wire(UsersRequest::Page {
                after: Some("bob".into()),
                prefix: None,
                limit: 100
            }),
            serde_json::json!({"type":"users","after":"bob","limit":100})
        );
        assert_eq!(
            wire(UsersRequest::Page {
                after: None,
                prefix: Some("bo".into()),
                limit: 100
            }),
            serde_json::json!({"type":"users","limit":100,"prefix":"bo"})
        );
        assert_eq!(
            wire(UsersRequest::Watch {
                after: Some("carol".into()),
                limit: 500
            }),
            serde_json::json!({"type":"watch_users","after":"carol","limit":500})
        );
        assert_eq!(
            wire(UsersRequest::Unwatch),
            serde_json::json!({"type":"unwatch_users"})
        );
        assert!(!UsersRequest::Unwatch.has_page());
    }
}
