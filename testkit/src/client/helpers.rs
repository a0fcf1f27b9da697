//! Free helpers around [`TestClient`]: reading an error's code, paging through the
//! room's history, naming groups, members and conversations in requests, and
//! waiting for a message by its text.

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{
    ChatMessage, GroupMemberRef, GroupMembers, GroupRef, ServerMessage, Target,
};

use super::TestClient;

/// The error code of a message, or a panic if it is not an error.
pub fn error_code(m: &ServerMessage) -> ErrorCode {
    match m {
        ServerMessage::Error(e) => e.code,
        other => panic!("expected an error, got {other:?}"),
    }
}

/// The whole room history, oldest first, paged forwards.
pub async fn all_history(client: &mut TestClient) -> Vec<ChatMessage> {
    history_after(client, 0).await
}

/// The room history after message id `first_after`, oldest first, paged forwards.
pub async fn history_after(client: &mut TestClient, first_after: i64) -> Vec<ChatMessage> {
    let mut out: Vec<ChatMessage> = Vec::new();
    loop {
        let after = out.last().map_or(first_after, |m| m.id);
        let page = client.history(None, Some(after), Some(200)).await;
        out.extend(page.messages);
        if !page.has_more {
            return out;
        }
    }
}

/// A group named in a request.
pub fn gref(name: &str) -> GroupRef {
    GroupRef { group: name.into() }
}

/// The first page of a group's members.
pub fn members_of(name: &str) -> GroupMembers {
    GroupMembers {
        group: name.into(),
        ..Default::default()
    }
}

/// A member of a group named in a request.
pub fn member_ref(g: &str, u: &str) -> GroupMemberRef {
    GroupMemberRef {
        group: g.into(),
        user: u.into(),
    }
}

/// A group conversation, as `to` names it.
pub fn group(name: &str) -> Target {
    Target::Group { group: name.into() }
}

/// A direct-message conversation with `name`, as `to` names it.
pub fn user(name: &str) -> Target {
    Target::User { user: name.into() }
}

/// The next `message` event with this text (others read meanwhile are kept).
pub async fn message(c: &mut TestClient, text: &str) -> ChatMessage {
    match c
        .wait_for(
            text,
            |m| matches!(m, ServerMessage::Message(x) if x.text == text),
        )
        .await
    {
        ServerMessage::Message(m) => m,
        _ => unreachable!(),
    }
}
