//! Chat history (`chat_history`): storing messages in batches and reading a conversation
//! (the main room, a group, two users' direct messages, or everything a user may read)
//! back page by page, narrowed by time and sender (words: [`crate::search`]).
//!
//! Message ids are assigned by the server (monotonic), so "newer" means "higher id"
//! everywhere here, and pages are keyset pages on `id`, served by the
//! `(target_kind, target_id, id)` index.
//!
//! The table's vocabulary ([`TargetKind`], the levels) is here; the rest is one
//! module per job, re-exported so callers name everything as `db::history::X`:
//! - `write`: the rows to store and the batched INSERTs, and where numbering goes on;
//! - `scope`: what a read selects: the conversation ([`Scope`]) and the
//!   narrowing ([`Filters`]: time, sender), as SQL conditions;
//! - `read`: pages of a conversation, its newest id, id ranges for a cluster;
//! - `client_messages`: the reads of the writer's duplicate filter.

mod client_messages;
mod read;
mod scope;
mod write;

pub use client_messages::{ClientMessage, recent_client_messages, stored_client_messages};
pub use read::{
    Cursor, Indexable, Placed, StoredMessage, by_ids, count_room, indexable, newest_id, page,
    placed, room_page,
};
pub use scope::{Filters, Scope};
pub use write::{NewChatRow, fits_one_insert, insert_rows, max_id};

/// Where a stored message went: the kind of conversation, stored as the
/// `chat_history.target_kind` (and `read_position.target_kind`) column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TargetKind {
    /// The main room (`target_id` 0).
    Room,
    /// A group (`target_id` is the group).
    Group,
    /// A direct message (`target_id` is the recipient).
    User,
}

impl TargetKind {
    /// The value in the database column.
    pub const fn code(self) -> i16 {
        match self {
            Self::Room => 0,
            Self::Group => 1,
            Self::User => 2,
        }
    }

    /// The kind a column value stands for; `None` for a value no server writes.
    pub const fn from_code(code: i16) -> Option<Self> {
        match code {
            0 => Some(Self::Room),
            1 => Some(Self::Group),
            2 => Some(Self::User),
            _ => None,
        }
    }
}

/// `level` of a message written by a user.
pub const LEVEL_USER: i16 = 0;
/// `level` of an admin announcement (no `uid`).
pub const LEVEL_ADMIN: i16 = 1;

#[cfg(test)]
mod tests {
    use super::TargetKind;

    /// The codes are stored data: they never change, and every kind has one.
    #[test]
    fn target_kinds_keep_their_stored_codes() {
        let pinned = [
            (TargetKind::Room, 0),
            (TargetKind::Group, 1),
            (TargetKind::User, 2),
        ];
        for (kind, code) in pinned {
            assert_eq!(kind.code(), code);
            assert_eq!(TargetKind::from_code(code), Some(kind));
        }
        assert_eq!(TargetKind::from_code(3), None);
        assert_eq!(TargetKind::from_code(-1), None);
    }
}
