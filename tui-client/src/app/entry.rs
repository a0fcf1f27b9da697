//! One line of the message list, as the app keeps it.

use chatroom_shared::UnixMillis;
use chatroom_shared::message::LeaveReason;

/// The name announcements are shown under ("Admin: text").
pub const ADMIN: &str = "Admin";

/// What kind of line an entry is; decides how it is drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A user's chat message.
    Message {
        /// Sender.
        from: String,
        /// Sent by the user of this client.
        own: bool,
        /// Names the user of this client.
        mention: bool,
    },
    /// An administrator's announcement ("Admin: text").
    Announcement,
    /// "[name] joined the chat room".
    Joined(String),
    /// "[name] left the chat room".
    Left(String, LeaveReason),
    /// A note from the client itself (reconnecting, errors, help output).
    Notice,
}

/// One entry of the message list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The stored message id, for messages and announcements.
    pub id: Option<i64>,
    /// When it happened (server time for stored messages).
    pub ts: UnixMillis,
    /// What it is.
    pub kind: EntryKind,
    /// The text (messages, announcements, notices); empty for joins and leaves.
    pub text: String,
}
