//! What the server's group messages do: `group_update` events and the
//! replies `group_state`, `read_ok` and `search_results`, and the listings
//! `group_list` and `member_list` once all their pages are in
//! (`paging.rs`), change the conversations and become notices in the
//! group's conversation ("bob joined #team", "your request to join #team was
//! approved"); group errors become plain sentences.

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{
    GroupChange, GroupInfo, GroupStatus, GroupUpdate, MemberList, Membership, ServerMessage, Target,
};

use super::chat::Focus;
use super::{Action, App};

/// What an error about groups, direct messages or search means, for
/// people; `None` for other codes.
pub fn error_text(code: ErrorCode) -> Option<&'static str> {
    Some(match code {
        ErrorCode::Forbidden => {
            "You may not do that: a private group is for its members, and only its creator \
             approves, rejects or removes."
        }
        ErrorCode::GroupNotFound => "No group has that name; /groups lists them.",
        ErrorCode::GroupExists => {
            "A group of that name exists already (names are never reused): pick another."
        }
        ErrorCode::TooManyGroups => {
            "You have as many open groups as one may create: leave one of yours first \
             (that closes it)."
        }
        ErrorCode::GroupClosed => {
            "That group is closed: nothing more can be sent to it; its members still read it."
        }
        ErrorCode::AlreadyMember => {
            "You are in that group already (or your request to join it is waiting)."
        }
        ErrorCode::UserNotFound => "Nobody has that name.",
        ErrorCode::TooManyConnections => {
            "Too many connections from this address: close another chatroom first."
        }
        _ => return None,
    })
}

/// A group on one line, for `/groups`: "#team · private · by alice · 3
/// members · member — our work".
pub fn group_line(g: &GroupInfo) -> String {
    let kind = if g.private { "private" } else { "public" };
    let members = if g.members == 1 {
        "1 member".to_owned()
    } else {
        format!("{} members", g.members)
    };
    let standing = match (g.status, g.me) {
        (GroupStatus::Closed | GroupStatus::ClosedByAdmin, _) => "closed".to_owned(),
        (_, Membership::Member) => "you are a member".to_owned(),
        (_, Membership::Requested) => "you asked to join".to_owned(),
        (_, _) => format!("/join {}", g.name),
    };
    let mut line = format!(
        "#{} · {kind} · by {} · {members} · {standing}",
        g.name, g.creator
    );
    if let Some(comment) = g.comment.as_deref().filter(|c| !c.is_empty()) {
        line.push_str(" — ");
        line.push_str(comment);
    }
    line
}

fn group_target(g: &GroupInfo) -> Target {
    Target::Group {
        group: g.name.clone(),
    }
}

impl App {
    /// A group message from the server; `None` when `msg` is about
    /// something else.
    pub(super) fn on_group_message(&mut self, msg: ServerMessage) -> Option<Vec<Action>> {
        let now = self.now;
        let chat = self.chat_view()?;
        match msg {
            ServerMessage::GroupUpdate(update) => return Some(self.group_update(update)),
            ServerMessage::GroupState(state) => return Some(self.group_state(state.group)),
            ServerMessage::ReadOk(ok) => chat.convs.read_ok(&ok.to, ok.upto),
            ServerMessage::SearchResults(results) => {
                if let Some(search) = &mut chat.search {
                    search.add_page(results.messages, results.has_more);
                }
            }
            ServerMessage::Error(e) => {
                let text = error_text(e.code)?;
                if let Some(search) = &mut chat.search {
                    search.loading = false;
                }
                chat.notice(now, text);
            }
            _ => return None,
        }
        Some(Vec::new())
    }

    /// Every group (all pages of `groups`): they replace the list, and are
    /// shown when the user asked with `/groups`.
    pub(super) fn groups_listed(&mut self, groups: Vec<GroupInfo>) {
        let now = self.now;
        let Some(chat) = self.chat_view() else { return };
        chat.convs.list_groups(groups);
        if std::mem::take(&mut chat.convs.list_asked) {
            let lines: Vec<String> = chat.convs.groups.iter().map(group_line).collect();
            if lines.is_empty() {
                chat.notice(now, "No groups yet: /create NAME makes one.");
            } else {
                chat.notice(now, format!("Groups ({}):", lines.len()));
                for line in lines {
                    chat.notice(now, line);
                }
            }
        }
    }

    /// A notice in the conversation of `group` (made if needed).
    fn group_notice(&mut self, group: &GroupInfo, text: String) {
        let now = self.now;
        if let Some(chat) = self.chat_view() {
            chat.convs.open(group_target(group)).log.notice(now, text);
        }
    }

    /// A `group_update` event.
    fn group_update(&mut self, update: GroupUpdate) -> Vec<Action> {
        let now = self.now;
        let pane = self.on_screen(Focus::Conversations);
        let Some(chat) = self.chat_view() else {
            return Vec::new();
        };
        let me = chat.me.clone();
        let g = update.group;
        let name = format!("#{}", g.name);
        let target = group_target(&g);
        chat.convs.update_group(&g);
        let user = update.user.unwrap_or_default();
        let about_me = user == me || user.is_empty();
        match update.change {
            GroupChange::Requested => {
                if chat.convs.add_request(&g.name, &user) {
                    let text = if pane {
                        format!(
                            "{user} asks to join {name}: a approves, r rejects in the \
                             Conversations pane (or /approve {user}, /reject {user})."
                        )
                    } else {
                        format!("{user} asks to join {name}: /approve {user} or /reject {user}.")
                    };
                    self.group_notice(&g, text);
                }
            }
            GroupChange::Joined | GroupChange::Approved if about_me => {
                let elsewhere = chat.convs.shown().target != target;
                chat.convs.open(target).group = Some(g.clone());
                let text = if update.change == GroupChange::Approved {
                    format!("Your request to join {name} was approved. Welcome!")
                } else {
                    format!("You joined {name}.")
                };
                if elsewhere {
                    let there = if pane {
                        "It is in the Conversations pane (Alt-↑/↓ goes there)."
                    } else {
                        "Alt-↑/↓ goes there."
                    };
                    chat.notice(now, format!("{text} {there}"));
                }
                self.group_notice(&g, text);
            }
            GroupChange::Joined | GroupChange::Approved => {
                chat.convs.remove_request(&g.name, &user);
                self.group_notice(&g, format!("{user} joined {name}."));
            }
            GroupChange::Left | GroupChange::Removed if about_me => {
                chat.convs.remove(&target);
                let text = if update.change == GroupChange::Removed {
                    format!("{} removed you from {name}.", g.creator)
                } else {
                    format!("You left {name}.")
                };
                chat.notice(now, text);
            }
            GroupChange::Left => self.group_notice(&g, format!("{user} left {name}.")),
            GroupChange::Removed => {
                chat.convs.remove_request(&g.name, &user);
                self.group_notice(&g, format!("{user} is no longer in {name}."));
            }
            GroupChange::Rejected if about_me => {
                chat.notice(now, format!("Your request to join {name} was turned down."));
            }
            GroupChange::Rejected => {
                chat.convs.remove_request(&g.name, &user);
            }
            GroupChange::Closed => {
                chat.convs.requests.retain(|r| r.group != g.name);
                chat.convs.clamp_selection();
                let text = if g.status == GroupStatus::ClosedByAdmin {
                    format!("The administrator closed {name}.")
                } else {
                    format!("{} closed {name} (the creator left).", g.creator)
                };
                if chat.convs.get(&target).is_some() {
                    self.group_notice(&g, text);
                } else {
                    chat.notice(now, text);
                }
            }
        }
        Vec::new()
    }

    /// The reply to the user's own create, join, leave, approve, reject or
    /// remove: what changed for the user is told; a group created or joined
    /// is shown.
    fn group_state(&mut self, g: GroupInfo) -> Vec<Action> {
        let now = self.now;
        let pane = self.on_screen(Focus::Conversations);
        let Some(chat) = self.chat_view() else {
            return Vec::new();
        };
        let before = chat.convs.update_group(&g);
        let was_member = before.as_ref().is_some_and(|b| b.me == Membership::Member);
        let was_open = before
            .as_ref()
            .is_some_and(|b| b.status == GroupStatus::Open);
        let name = format!("#{}", g.name);
        let target = group_target(&g);
        if g.creator == chat.me && g.status != GroupStatus::Open && was_open {
            // The creator left: that closes the group.
            chat.convs.remove(&target);
            chat.notice(now, format!("You left {name}. It is closed now."));
            return Vec::new();
        }
        match g.me {
            Membership::Member if !was_member => {
                chat.convs.open(target.clone()).group = Some(g.clone());
                let text = if before.is_none() && g.creator == chat.me && g.private {
                    let how = if pane {
                        "in the Conversations pane"
                    } else {
                        "with /approve NAME"
                    };
                    format!(
                        "You created {name} (private): others ask to join with /join {}, \
                         and you approve them {how}.",
                        g.name
                    )
                } else if before.is_none() && g.creator == chat.me {
                    format!("You created {name}: others join with /join {}.", g.name)
                } else {
                    format!("You joined {name}.")
                };
                chat.convs.open(target.clone()).log.notice(now, text);
                return self.show_conversation(target);
            }
            Membership::Requested => {
                chat.notice(
                    now,
                    format!(
                        "You asked to join {name}; {} decides, and you will be told here.",
                        g.creator
                    ),
                );
            }
            Membership::Left | Membership::None
                if before
                    .as_ref()
                    .is_some_and(|b| b.me == Membership::Requested) =>
            {
                chat.notice(now, format!("You withdrew your request to join {name}."));
            }
            Membership::Left | Membership::Removed | Membership::None
                if was_member || chat.convs.get(&target).is_some() =>
            {
                chat.convs.remove(&target);
                let closed = if g.status == GroupStatus::Open {
                    ""
                } else {
                    " It is closed now."
                };
                chat.notice(now, format!("You left {name}.{closed}"));
            }
            _ => {}
        }
        Vec::new()
    }

    /// A group's members (all pages of `group_members`) as a notice; pending
    /// requests (only the creator gets them) join the pane.
    pub(super) fn member_list(&mut self, list: MemberList) {
        let now = self.now;
        let pane = self.on_screen(Focus::Conversations);
        let Some(chat) = self.chat_view() else { return };
        let creator = chat
            .convs
            .groups
            .iter()
            .find(|g| g.name == list.group)
            .map(|g| g.creator.clone());
        let names: Vec<String> = list
            .members
            .iter()
            .map(|m| {
                if Some(m) == creator.as_ref() {
                    format!("{m} (creator)")
                } else {
                    m.clone()
                }
            })
            .collect();
        let mut text = format!(
            "#{} has {} member(s): {}.",
            list.group,
            list.members.len(),
            names.join(", ")
        );
        for user in &list.requests {
            chat.convs.add_request(&list.group, user);
        }
        if !list.requests.is_empty() {
            let how = if pane {
                "a/r in the Conversations pane"
            } else {
                "/approve or /reject NAME"
            };
            text.push_str(&format!(
                " Waiting for your answer: {} ({how}).",
                list.requests.join(", ")
            ));
        }
        chat.notice(now, text);
    }
}
