//! Test fixtures shared by the conversation tests: targets, messages and groups.

use chatroom_shared::message::{
    ChatMessage, GroupInfo, GroupStatus, Membership, MessageKind, Target,
};

/// A group conversation.
pub(crate) fn group(name: &str) -> Target {
    Target::Group { group: name.into() }
}

/// A direct-message conversation.
pub(crate) fn user(name: &str) -> Target {
    Target::User { user: name.into() }
}

/// A stored message `id` (text `m{id}`, time `id`).
pub(crate) fn msg(id: i64, from: &str, to: Target) -> ChatMessage {
    ChatMessage {
        id,
        ts: id,
        kind: MessageKind::Message,
        from: from.into(),
        text: format!("m{id}"),
        to,
    }
}

/// An open private group of two members, as a user with standing `me` sees it.
pub(crate) fn info(name: &str, creator: &str, me: Membership) -> GroupInfo {
    GroupInfo {
        id: 1,
        name: name.into(),
        creator: creator.into(),
        private: true,
        comment: None,
        created: 0,
        status: GroupStatus::Open,
        me,
        members: 2,
    }
}
