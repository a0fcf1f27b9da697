//! The requests of groups, direct messages, read positions, search and
//! history that the app asks the network task to send: exactly the
//! protocol's requests, in types the app's actions can compare. (The
//! listings `groups` and `group_members` are pages: `list.rs`.)

use chatroom_shared::message::{
    ClientMessage, GroupCreate, GroupMemberRef, GroupRef, History, Read, Search, Target,
};

/// One group, read-position or search request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupRequest {
    /// `group_create`: make a group; the user becomes its creator.
    Create {
        /// The name.
        name: String,
        /// Joining needs the creator's approval; only members read it.
        private: bool,
        /// What it is for.
        comment: Option<String>,
        /// New members of a private group read it all, not only from when
        /// they joined.
        full_history: bool,
    },
    /// `group_join`: join a public group, or ask to join a private one.
    Join(String),
    /// `group_leave`: leave a group (its creator leaving closes it).
    Leave(String),
    /// `group_approve`: the creator lets `user` in.
    Approve {
        /// The group.
        group: String,
        /// Who asked.
        user: String,
    },
    /// `group_reject`: the creator turns `user`'s request down.
    Reject {
        /// The group.
        group: String,
        /// Who asked.
        user: String,
    },
    /// `group_remove`: the creator removes a member.
    Remove {
        /// The group.
        group: String,
        /// The member.
        user: String,
    },
    /// `read`: the user has seen `to` up to message `upto`.
    Read {
        /// The conversation.
        to: Target,
        /// The newest message id shown.
        upto: i64,
    },
    /// `search`: messages with every word of `text`, newest first.
    Search {
        /// The words.
        text: String,
        /// Only older than this id (the next page).
        before: Option<i64>,
    },
}

impl GroupRequest {
    /// The request as it goes on the wire.
    pub fn into_message(self) -> ClientMessage {
        let one = |group| GroupRef { group };
        let member = |group, user| GroupMemberRef { group, user };
        match self {
            Self::Create {
                name,
                private,
                comment,
                full_history,
            } => ClientMessage::GroupCreate(GroupCreate {
                name,
                private,
                comment,
                full_history,
            }),
            Self::Join(group) => ClientMessage::GroupJoin(one(group)),
            Self::Leave(group) => ClientMessage::GroupLeave(one(group)),
            Self::Approve { group, user } => ClientMessage::GroupApprove(member(group, user)),
            Self::Reject { group, user } => ClientMessage::GroupReject(member(group, user)),
            Self::Remove { group, user } => ClientMessage::GroupRemove(member(group, user)),
            Self::Read { to, upto } => ClientMessage::Read(Read { to, upto }),
            Self::Search { text, before } => ClientMessage::Search(Search {
                text,
                before,
                limit: None,
            }),
        }
    }

    /// Requests whose errors are not worth telling the user about: a `read`
    /// that fails is sent again later, and a server without read positions
    /// refuses every one.
    pub fn is_quiet(&self) -> bool {
        matches!(self, Self::Read { .. })
    }
}

/// One page of a conversation's history: the newest messages before
/// `before`, the oldest after `after`, or (with neither) the newest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryQuery {
    /// The conversation.
    pub to: Target,
    /// Messages with smaller ids (scrolling back).
    pub before: Option<i64>,
    /// Messages with larger ids (forward from a jump, or a catch-up).
    pub after: Option<i64>,
}

impl HistoryQuery {
    /// The page before message `before` (the newest page without it).
    pub fn older(to: Target, before: Option<i64>) -> Self {
        Self {
            to,
            before,
            after: None,
        }
    }

    /// The page after message `after`.
    pub fn newer(to: Target, after: i64) -> Self {
        Self {
            to,
            before: None,
            after: Some(after),
        }
    }

    /// The request as it goes on the wire (the server's page size).
    pub fn to_message(&self) -> ClientMessage {
        ClientMessage::History(History {
            before: self.before,
            after: self.after,
            limit: None,
            to: self.to.clone(),
            ..Default::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(r: GroupRequest) -> serde_json::Value {
        serde_json::to_value(r.into_message()).unwrap()
    }

    #[test]
    fn requests_go_out_as_the_protocol_names_them() {
        let create = wire(GroupRequest::Create {
            name: "team".into(),
            private: true,
            comment: Some("our work".into()),
            full_history: false,
        });
        assert_eq!(
            create,
            serde_json::json!({"type":"group_create","name":"team","private":true,"comment":"our work"})
        );
        assert_eq!(
            wire(GroupRequest::Approve {
                group: "team".into(),
                user: "bob".into()
            }),
            serde_json::json!({"type":"group_approve","group":"team","user":"bob"})
        );
        assert_eq!(
            wire(GroupRequest::Read {
                to: Target::User { user: "bob".into() },
                upto: 7
            }),
            serde_json::json!({"type":"read","to":{"kind":"user","user":"bob"},"upto":7})
        );
        assert_eq!(
            wire(GroupRequest::Search {
                text: "deploy friday".into(),
                before: None
            }),
            serde_json::json!({"type":"search","text":"deploy friday"})
        );
        assert!(
            GroupRequest::Read {
                to: Target::Room,
                upto: 1
            }
            .is_quiet()
        );
        assert!(!GroupRequest::Join("team".into()).is_quiet());
    }

    #[test]
    fn history_queries_name_their_conversation_except_the_room() {
        let team = Target::Group {
            group: "team".into(),
        };
        let older = serde_json::to_value(HistoryQuery::older(team.clone(), Some(9)).to_message());
        assert_eq!(
            older.unwrap(),
            serde_json::json!({"type":"history","before":9,"to":{"kind":"group","group":"team"}})
        );
        let room = serde_json::to_value(HistoryQuery::newer(Target::Room, 4).to_message());
        assert_eq!(
            room.unwrap(),
            serde_json::json!({"type":"history","after":4})
        );
    }
}
