//! One conversation: the main room, a group or a direct-message
//! conversation, with its message list, unread count, the group it is (for
//! groups), and its read position; and how a stored message finds its
//! conversation ([`conversation_of`]).
//!
//! A read position moves in three steps: *due* when a message of the
//! conversation is on screen, *sent* when a `read` for it went out, *acked*
//! when `read_ok` came back; after a reconnect what was sent but not acked
//! is due again, so the server never redelivers what the user has seen.

use chatroom_shared::message::{ChatMessage, GroupInfo, GroupStatus, Membership, Target};

use super::log::MessageLog;

/// The conversation a stored message belongs to, for the user `me`: the
/// room, its group, or for a direct message the other person (the sender, or
/// the recipient when `me` sent it from another session).
pub fn conversation_of(m: &ChatMessage, me: &str) -> Target {
    match &m.to {
        Target::User { user } if m.from != me => Target::User {
            user: m.from.clone(),
        },
        Target::User { user } => Target::User { user: user.clone() },
        other => other.clone(),
    }
}

/// How a conversation is named in the pane and titles: "Main room",
/// "#rust", "@bob".
pub fn label(target: &Target) -> String {
    match target {
        Target::Room => "Main room".to_owned(),
        Target::Group { group } => format!("#{group}"),
        Target::User { user } => format!("@{user}"),
    }
}

/// Where the read position of one conversation stands (message ids).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ReadPosition {
    /// The newest message shown to the user.
    due: i64,
    /// The newest one a `read` went out for.
    sent: i64,
    /// The newest one the server confirmed.
    acked: i64,
}

/// One conversation.
#[derive(Debug, Clone)]
pub struct Conversation {
    /// What it is: the room, a group, or a user.
    pub target: Target,
    /// Its messages.
    pub log: MessageLog,
    /// Messages received while it was not shown.
    pub unread: usize,
    /// For a group: the group as the server last described it.
    pub group: Option<GroupInfo>,
    read: ReadPosition,
}

impl Conversation {
    /// An empty conversation.
    pub fn new(target: Target) -> Self {
        Self {
            target,
            log: MessageLog::default(),
            unread: 0,
            group: None,
            read: ReadPosition::default(),
        }
    }

    /// "Main room", "#rust", "@bob".
    pub fn label(&self) -> String {
        label(&self.target)
    }

    /// A private group.
    pub fn is_private(&self) -> bool {
        self.group.as_ref().is_some_and(|g| g.private)
    }

    /// A closed group (by its creator or the administrator).
    pub fn is_closed(&self) -> bool {
        self.group
            .as_ref()
            .is_some_and(|g| g.status != GroupStatus::Open)
    }

    /// What the input says in place of its hint when nothing can be sent
    /// here whatever the user does (a closed group): it stays readable.
    pub fn read_only_notice(&self) -> Option<String> {
        self.is_closed().then(|| {
            format!(
                "{} is closed: its history stays readable (commands still work)",
                self.label()
            )
        })
    }

    /// Whether the user can write here now; the reason for people when not.
    pub fn can_send(&self) -> Result<(), String> {
        let Some(g) = &self.group else {
            return Ok(());
        };
        let name = self.label();
        match (g.status, g.me) {
            (GroupStatus::Closed | GroupStatus::ClosedByAdmin, _) => Err(format!(
                "{name} is closed: nothing more can be sent to it; its history stays readable."
            )),
            (_, Membership::Member) => Ok(()),
            (_, Membership::Requested) => Err(format!(
                "Your request to join {name} is waiting for {}.",
                g.creator
            )),
            _ => Err(format!(
                "You are not a member of {name}: /join {} first.",
                g.name
            )),
        }
    }

    /// The room has no read position (nothing of it is delivered offline).
    fn keeps_read_position(&self) -> bool {
        !self.target.is_room()
    }

    /// A message of this conversation is on screen.
    pub(super) fn seen(&mut self, id: i64) {
        self.read.due = self.read.due.max(id);
    }

    /// The read position to send now, if it moved past what was sent (it
    /// counts as sent from here on).
    pub(super) fn read_to_send(&mut self) -> Option<i64> {
        if !self.keeps_read_position() || self.read.due <= self.read.sent {
            return None;
        }
        self.read.sent = self.read.due;
        Some(self.read.due)
    }

    /// The server confirmed the read position `upto`.
    pub(super) fn read_ok(&mut self, upto: i64) {
        self.read.acked = self.read.acked.max(upto);
        self.read.sent = self.read.sent.max(upto);
        self.read.due = self.read.due.max(upto);
    }

    /// A new connection: a `read` sent but not confirmed may be lost.
    pub(super) fn read_unconfirmed(&mut self) {
        self.read.sent = self.read.acked;
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::app::fixtures::{group, info, msg, user};

    #[test]
    fn direct_messages_are_filed_under_the_other_person_from_both_sides() {
        let to_me = msg(1, "bob", user("alice"));
        assert_eq!(conversation_of(&to_me, "alice"), user("bob"));
        let from_me = msg(2, "alice", user("bob"));
        assert_eq!(conversation_of(&from_me, "alice"), user("bob"));
        assert_eq!(
            conversation_of(&msg(3, "bob", group("rust")), "alice"),
            group("rust")
        );
        assert_eq!(
            conversation_of(&msg(4, "bob", Target::Room), "alice"),
            Target::Room
        );
    }

    #[test]
    fn only_members_of_open_groups_may_send() {
        let mut conv = Conversation::new(group("team"));
        assert!(conv.can_send().is_ok(), "unknown yet: the server decides");
        conv.group = Some(info("team", "carol", Membership::Requested));
        assert!(conv.can_send().unwrap_err().contains("waiting for carol"));
        conv.group = Some(info("team", "carol", Membership::None));
        assert!(conv.can_send().unwrap_err().contains("/join team"));
        conv.group = Some(info("team", "carol", Membership::Member));
        assert!(conv.can_send().is_ok());
    }
}
