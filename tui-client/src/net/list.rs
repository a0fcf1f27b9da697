//! The listings the app pages through: `files`, `games`, `groups`,
//! `group_members` and `conversations`, one page at a time after a cursor
//! (PROTOCOL §3.4), in a type the app's actions can compare. (Who is online
//! is paged only as far as the pane scrolls: `users.rs`.)

use chatroom_shared::message::{ClientMessage, Conversations, Files, Games, GroupMembers, Groups};

/// One page of a listing: the first without a cursor, else the one after it
/// (the `next` of the page before). Pages are the server's size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListRequest {
    /// `files`: shared files, after a file id.
    Files {
        /// The cursor: a file id.
        after: Option<i64>,
    },
    /// `games`: open invitations and games in play, after a game id.
    Games {
        /// The cursor: a game id.
        after: Option<i64>,
    },
    /// `groups`: the groups, after a group id.
    Groups {
        /// The cursor: a group id.
        after: Option<i64>,
    },
    /// `group_members`: a group's members (and, for its creator, who asks),
    /// after a name.
    Members {
        /// The group.
        group: String,
        /// The cursor: a member's (or asker's) name.
        after: Option<String>,
    },
    /// `conversations`: the user's direct-message conversations, newest
    /// first, after a message id.
    Conversations {
        /// The cursor: the newest message id of the page before's last entry.
        after: Option<i64>,
    },
}

impl ListRequest {
    /// The first pages of the listings the app keeps up to date, asked for
    /// after every login (and reconnect) so its panes start full: the
    /// conversations pane lists every direct-message conversation, also
    /// those with nothing unread. (Not who is online: `login_ok` brings
    /// everyone, or the first page of a big room, and the online pane asks
    /// for the rest as it scrolls.)
    pub fn after_login() -> [Self; 4] {
        [
            Self::Files { after: None },
            Self::Games { after: None },
            Self::Groups { after: None },
            Self::Conversations { after: None },
        ]
    }

    /// The request as it goes on the wire.
    pub fn into_message(self) -> ClientMessage {
        match self {
            Self::Files { after } => ClientMessage::Files(Files { after, limit: None }),
            Self::Games { after } => ClientMessage::Games(Games { after, limit: None }),
            Self::Groups { after } => ClientMessage::Groups(Groups { after, limit: None }),
            Self::Members { group, after } => ClientMessage::GroupMembers(GroupMembers {
                group,
                after,
                limit: None,
            }),
            Self::Conversations { after } => {
                ClientMessage::Conversations(Conversations { after, limit: None })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_go_out_with_their_cursor_and_the_servers_size() {
        let wire = |r: ListRequest| serde_json::to_value(r.into_message()).unwrap();
        assert_eq!(
            wire(ListRequest::Files { after: None }),
            serde_json::json!({"type":"files"})
        );
        assert_eq!(
            wire(ListRequest::Files { after: Some(7) }),
            serde_json::json!({"type":"files","after":7})
        );
        assert_eq!(
            wire(ListRequest::Games { after: Some(3) }),
            serde_json::json!({"type":"games","after":3})
        );
        assert_eq!(
            wire(ListRequest::Groups { after: None }),
            serde_json::json!({"type":"groups"})
        );
        assert_eq!(
            wire(ListRequest::Members {
                group: "team".into(),
                after: Some("carol".into())
            }),
            serde_json::json!({"type":"group_members","group":"team","after":"carol"})
        );
        assert_eq!(
            wire(ListRequest::Conversations { after: Some(12) }),
            serde_json::json!({"type":"conversations","after":12})
        );
    }
}
