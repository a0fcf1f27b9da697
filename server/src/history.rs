//! Stored records as the protocol shows them.

use std::collections::HashMap;

use chatroom_shared::message::{ChatMessage, MessageKind, Target};
use sea_orm::{ConnectionTrait, DbErr};

use crate::db::history::{LEVEL_ADMIN, StoredMessage, TargetKind};
use crate::db::{accounts, groups};

/// The name announcements are shown under ("Admin: text").
pub const ADMIN_NAME: &str = "Admin";

/// A stored chat-history row of the main room as a protocol message.
pub fn to_chat_message(m: StoredMessage) -> ChatMessage {
    with_target(m, Target::Room)
}

fn with_target(m: StoredMessage, to: Target) -> ChatMessage {
    let announcement = m.level == LEVEL_ADMIN;
    ChatMessage {
        id: m.id,
        ts: m.send_time,
        kind: if announcement {
            MessageKind::Announcement
        } else {
            MessageKind::Message
        },
        from: match m.sender {
            Some(name) if !announcement => name,
            _ => ADMIN_NAME.to_owned(),
        },
        text: m.text,
        to,
    }
}

/// Stored rows from any conversation as protocol messages, each naming its conversation
/// (group names and direct-message recipients are looked up once for all rows).
pub async fn to_chat_messages(
    db: &impl ConnectionTrait,
    rows: Vec<StoredMessage>,
) -> Result<Vec<ChatMessage>, DbErr> {
    let ids_of = |kind: TargetKind| {
        let mut ids: Vec<i64> = rows
            .iter()
            .filter(|r| r.target_kind == kind)
            .map(|r| r.target_id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let group_names: HashMap<i64, String> = groups::find_by_ids(db, &ids_of(TargetKind::Group))
        .await?
        .into_iter()
        .map(|(id, g)| (id, g.name))
        .collect();
    let user_names = accounts::names_by_ids(db, &ids_of(TargetKind::User)).await?;
    Ok(rows
        .into_iter()
        .map(|m| {
            let to = match m.target_kind {
                TargetKind::Group => Target::Group {
                    group: group_names.get(&m.target_id).cloned().unwrap_or_default(),
                },
                TargetKind::User => Target::User {
                    user: user_names.get(&m.target_id).cloned().unwrap_or_default(),
                },
                TargetKind::Room => Target::Room,
            };
            with_target(m, to)
        })
        .collect())
}
