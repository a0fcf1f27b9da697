//! The user's conversations: the main room, the groups they belong to, and
//! direct-message conversations, each with its own message list, unread
//! count and read position; which one is shown; and the join requests that
//! wait for the user's decision in groups they created.
//!
//! Every stored message finds its conversation through [`conversation_of`]
//! and comes in through [`Conversations::receive`], so routing, duplicate
//! ids, unread counts and read positions are decided in one place. Read
//! positions go out at most one per conversation per tick
//! ([`Conversations::reads_due`]), so a burst of messages is one request.

use chatroom_shared::message::{ChatMessage, GroupInfo, Membership, Target};

pub use super::conversation::{Conversation, conversation_of, label};
use super::log::Pending;

/// Someone asks to join a group the user created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinRequest {
    /// The group's name.
    pub group: String,
    /// Who asks.
    pub user: String,
}

/// A row of the conversations pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// The conversation at this index of [`Conversations::all`].
    Conversation(usize),
    /// The join request at this index of [`Conversations::requests`].
    Request(usize),
}

/// Every conversation, the one shown, and the pane's selection.
#[derive(Debug, Clone)]
pub struct Conversations {
    /// The room first, then groups, then direct messages.
    list: Vec<Conversation>,
    shown: Target,
    /// Selected row of the conversations pane.
    pub selected: usize,
    /// Join requests waiting for the user, oldest first.
    pub requests: Vec<JoinRequest>,
    /// Every group of the last `group_list` (for `/groups`).
    pub groups: Vec<GroupInfo>,
    /// The user typed `/groups`: the next `group_list` is shown as notices.
    pub list_asked: bool,
}

impl Default for Conversations {
    fn default() -> Self {
        Self {
            list: vec![Conversation::new(Target::Room)],
            shown: Target::Room,
            selected: 0,
            requests: Vec::new(),
            groups: Vec::new(),
            list_asked: false,
        }
    }
}

impl Conversations {
    /// Every conversation, in pane order.
    pub fn all(&self) -> &[Conversation] {
        &self.list
    }

    /// The conversation for `target`, if there is one.
    pub fn get(&self, target: &Target) -> Option<&Conversation> {
        self.list.iter().find(|c| &c.target == target)
    }

    /// The conversation for `target`, to change.
    pub fn get_mut(&mut self, target: &Target) -> Option<&mut Conversation> {
        self.list.iter_mut().find(|c| &c.target == target)
    }

    fn shown_index(&self) -> usize {
        self.list
            .iter()
            .position(|c| c.target == self.shown)
            .unwrap_or(0)
    }

    /// The conversation on screen.
    pub fn shown(&self) -> &Conversation {
        &self.list[self.shown_index()]
    }

    /// The conversation on screen, to change.
    pub fn shown_mut(&mut self) -> &mut Conversation {
        let i = self.shown_index();
        &mut self.list[i]
    }

    /// The main room (always there).
    pub fn room_mut(&mut self) -> &mut Conversation {
        self.open(Target::Room)
    }

    /// The conversation for `target`, made (empty) if there is none: groups
    /// go after the other groups, direct messages at the end.
    pub fn open(&mut self, target: Target) -> &mut Conversation {
        let i = match self.list.iter().position(|c| c.target == target) {
            Some(i) => i,
            None => {
                let at = match target {
                    Target::Room => 0,
                    Target::Group { .. } => self
                        .list
                        .iter()
                        .rposition(|c| !matches!(c.target, Target::User { .. }))
                        .map_or(0, |i| i + 1),
                    Target::User { .. } => self.list.len(),
                };
                self.list.insert(at, Conversation::new(target));
                if at <= self.selected && self.list.len() > 1 {
                    self.selected += 1;
                }
                at
            }
        };
        &mut self.list[i]
    }

    /// Put `target` on screen (made if needed): its unread count is cleared,
    /// what it shows counts as read, and the pane's selection moves to it.
    pub fn show(&mut self, target: Target) {
        let conv = self.open(target.clone());
        conv.unread = 0;
        if let Some(last) = conv.log.last_id() {
            conv.seen(last);
        }
        self.shown = target;
        self.selected = self.shown_index();
    }

    /// Drop a conversation (a group left or removed from); the room stays.
    /// When it was shown, the room is shown instead.
    pub fn remove(&mut self, target: &Target) {
        if target.is_room() {
            return;
        }
        if let Some(i) = self.list.iter().position(|c| &c.target == target) {
            self.list.remove(i);
            if i < self.selected {
                self.selected -= 1;
            }
        }
        if &self.shown == target {
            self.show(Target::Room);
        }
        self.clamp_selection();
    }

    /// A stored message: into its conversation (made if needed), once.
    /// `live` messages (events, offline delivery, gap fill) count as unread
    /// when their conversation is not shown; pages of history do not.
    /// Returns true when the message is new here.
    pub fn receive(&mut self, m: &ChatMessage, me: &str, live: bool) -> bool {
        let target = conversation_of(m, me);
        let shown = target == self.shown;
        let conv = self.open(target);
        let new = conv.log.insert_stored(m, me);
        if shown {
            // Also for a copy already here: a message delivered again at
            // login was not confirmed read yet.
            conv.seen(m.id);
        } else if new && live && m.from != me {
            conv.unread += 1;
        }
        new
    }

    /// An own message was acknowledged or refused: taken from the pending
    /// messages of whichever conversation it was sent to.
    pub fn settle(&mut self, client_id: &str) -> Option<(Target, Pending)> {
        self.list
            .iter_mut()
            .find_map(|c| Some((c.target.clone(), c.log.settle(client_id)?)))
    }

    /// Read positions to send now: one per conversation whose shown messages
    /// went past what was sent. They count as sent from here on.
    pub fn reads_due(&mut self) -> Vec<(Target, i64)> {
        self.list
            .iter_mut()
            .filter_map(|c| Some((c.target.clone(), c.read_to_send()?)))
            .collect()
    }

    /// The server confirmed the read position of `target`.
    pub fn read_ok(&mut self, target: &Target, upto: i64) {
        if let Some(c) = self.get_mut(target) {
            c.read_ok(upto);
        }
    }

    /// A new connection: `read`s that were not confirmed may be lost, so they
    /// are due again.
    pub fn resend_unconfirmed_reads(&mut self) {
        for c in &mut self.list {
            c.read_unconfirmed();
        }
    }

    /// The pane's rows: every conversation, then the join requests.
    pub fn rows(&self) -> Vec<Row> {
        (0..self.list.len())
            .map(Row::Conversation)
            .chain((0..self.requests.len()).map(Row::Request))
            .collect()
    }

    /// The selected row.
    pub fn selected_row(&self) -> Option<Row> {
        self.rows().get(self.selected).copied()
    }

    /// Keep the selection on a row.
    pub fn clamp_selection(&mut self) {
        let rows = self.list.len() + self.requests.len();
        self.selected = self.selected.min(rows.saturating_sub(1));
    }

    /// Someone asks to join `group`: true when the request is new.
    pub fn add_request(&mut self, group: &str, user: &str) -> bool {
        if self
            .requests
            .iter()
            .any(|r| r.group == group && r.user == user)
        {
            return false;
        }
        self.requests.push(JoinRequest {
            group: group.to_owned(),
            user: user.to_owned(),
        });
        true
    }

    /// A request was decided (or is gone): true when it was listed.
    pub fn remove_request(&mut self, group: &str, user: &str) -> bool {
        let before = self.requests.len();
        self.requests
            .retain(|r| !(r.group == group && r.user == user));
        self.clamp_selection();
        self.requests.len() != before
    }

    /// A group's new state: remembered in the list of groups and in its
    /// conversation, if there is one. Returns the state known before.
    pub fn update_group(&mut self, info: &GroupInfo) -> Option<GroupInfo> {
        let before = match self.groups.iter_mut().find(|g| g.name == info.name) {
            Some(known) => Some(std::mem::replace(known, info.clone())),
            None => {
                self.groups.push(info.clone());
                None
            }
        };
        let target = Target::Group {
            group: info.name.clone(),
        };
        let conv_before = self
            .get_mut(&target)
            .and_then(|c| c.group.replace(info.clone()));
        conv_before.or(before)
    }

    /// A `group_list`: the groups the user is a member of get a conversation;
    /// those they left or were removed from lose theirs.
    pub fn list_groups(&mut self, groups: Vec<GroupInfo>) {
        for g in &groups {
            let target = Target::Group {
                group: g.name.clone(),
            };
            match g.me {
                Membership::Member => self.open(target).group = Some(g.clone()),
                Membership::Left | Membership::Removed => self.remove(&target),
                Membership::None | Membership::Requested => {
                    if let Some(c) = self.get_mut(&target) {
                        c.group = Some(g.clone());
                    }
                }
            }
        }
        self.groups = groups;
        self.clamp_selection();
    }

    /// Unread messages in conversations other than the shown one.
    pub fn unread_elsewhere(&self) -> usize {
        self.list
            .iter()
            .filter(|c| c.target != self.shown)
            .map(|c| c.unread)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use chatroom_shared::message::GroupStatus;

    use super::*;
    use crate::app::fixtures::{group, info, msg, user};

    fn labels(c: &Conversations) -> Vec<String> {
        c.all().iter().map(Conversation::label).collect()
    }

    #[test]
    fn groups_go_before_direct_messages_and_the_room_stays_first() {
        let mut c = Conversations::default();
        c.open(user("bob"));
        c.open(group("rust"));
        c.open(user("carol"));
        c.open(group("team"));
        assert_eq!(
            labels(&c),
            ["Main room", "#rust", "#team", "@bob", "@carol"]
        );
        c.remove(&Target::Room);
        c.remove(&group("rust"));
        assert_eq!(labels(&c), ["Main room", "#team", "@bob", "@carol"]);
    }

    #[test]
    fn unread_counts_only_live_messages_of_hidden_conversations_and_showing_clears_them() {
        let mut c = Conversations::default();
        assert!(c.receive(&msg(1, "bob", user("alice")), "alice", true));
        assert!(!c.receive(&msg(1, "bob", user("alice")), "alice", true));
        c.receive(&msg(2, "alice", user("bob")), "alice", true);
        c.receive(&msg(3, "bob", group("rust")), "alice", false);
        c.receive(&msg(4, "bob", Target::Room), "alice", true);
        assert_eq!(
            c.get(&user("bob")).unwrap().unread,
            1,
            "own and dup not counted"
        );
        assert_eq!(
            c.get(&group("rust")).unwrap().unread,
            0,
            "history is not news"
        );
        assert_eq!(c.get(&Target::Room).unwrap().unread, 0, "shown");
        assert_eq!(c.unread_elsewhere(), 1);
        c.show(user("bob"));
        assert_eq!(c.get(&user("bob")).unwrap().unread, 0);
        c.receive(&msg(5, "bob", Target::Room), "alice", true);
        assert_eq!(c.get(&Target::Room).unwrap().unread, 1);
    }

    #[test]
    fn reads_are_due_for_shown_messages_once_and_again_after_a_reconnect_until_confirmed() {
        let mut c = Conversations::default();
        c.receive(&msg(1, "bob", user("alice")), "alice", true);
        c.receive(&msg(2, "bob", Target::Room), "alice", true);
        assert!(c.reads_due().is_empty(), "nothing of @bob is on screen yet");
        c.show(user("bob"));
        c.receive(&msg(3, "bob", user("alice")), "alice", true);
        c.receive(&msg(4, "bob", user("alice")), "alice", true);
        assert_eq!(c.reads_due(), [(user("bob"), 4)], "one read for the burst");
        assert!(c.reads_due().is_empty());
        c.resend_unconfirmed_reads();
        assert_eq!(c.reads_due(), [(user("bob"), 4)]);
        c.read_ok(&user("bob"), 4);
        c.resend_unconfirmed_reads();
        assert!(c.reads_due().is_empty());
        // Delivered again at login (the read was lost): read again.
        c.receive(&msg(5, "bob", user("alice")), "alice", true);
        c.resend_unconfirmed_reads();
        assert_eq!(c.reads_due(), [(user("bob"), 5)]);
        c.show(Target::Room);
        c.receive(&msg(6, "bob", Target::Room), "alice", true);
        assert!(c.reads_due().is_empty(), "the room keeps no read position");
    }

    #[test]
    fn removing_a_conversation_keeps_the_selection_on_its_row_and_the_shown_one_shows_the_room() {
        let mut c = Conversations::default();
        c.show(group("rust"));
        assert_eq!(c.selected, 1, "the selection follows what is shown");
        c.open(group("team"));
        c.add_request("rust", "bob");
        c.selected = 3;
        c.remove(&group("team"));
        assert_eq!(c.selected_row(), Some(Row::Request(0)));
        c.remove(&group("rust"));
        assert_eq!(c.shown().target, Target::Room);
        assert_eq!(c.selected_row(), Some(Row::Conversation(0)));
    }

    #[test]
    fn join_requests_are_listed_once_after_the_conversations() {
        let mut c = Conversations::default();
        c.open(group("team"));
        assert!(c.add_request("team", "bob"));
        assert!(!c.add_request("team", "bob"));
        assert!(c.add_request("team", "carol"));
        assert_eq!(
            c.rows(),
            [
                Row::Conversation(0),
                Row::Conversation(1),
                Row::Request(0),
                Row::Request(1)
            ]
        );
        assert!(c.remove_request("team", "bob"));
        assert!(!c.remove_request("team", "bob"));
        assert_eq!(c.requests[0].user, "carol");
    }

    #[test]
    fn a_group_list_opens_member_groups_and_drops_left_ones() {
        let mut c = Conversations::default();
        c.open(group("old"));
        c.list_groups(vec![
            info("team", "alice", Membership::Member),
            info("old", "bob", Membership::Left),
            info("other", "bob", Membership::None),
        ]);
        assert_eq!(labels(&c), ["Main room", "#team"]);
        assert_eq!(c.groups.len(), 3);
        let mut closed = info("team", "alice", Membership::Member);
        closed.status = GroupStatus::Closed;
        let before = c.update_group(&closed).unwrap();
        assert_eq!(before.status, GroupStatus::Open);
        let conv = c.get(&group("team")).unwrap();
        assert!(conv.is_closed() && conv.is_private());
        assert!(conv.can_send().unwrap_err().contains("closed"));
    }
}
