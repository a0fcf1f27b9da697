//! Stored records as the protocol shows them.

use chatroom_shared::message::{ChatMessage, MessageKind};

use crate::db::history::{LEVEL_ADMIN, StoredMessage};

/// The name announcements are shown under ("Admin: text").
pub const ADMIN_NAME: &str = "Admin";

/// A stored chat-history row as a protocol message.
pub fn to_chat_message(m: StoredMessage) -> ChatMessage {
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
    }
}
