//! The main screen's state: the message list, who is online, the side panes,
//! the connection, and which pane has the focus.
//!
//! Stored messages are kept exactly once and in id order, however they arrive
//! (live events, the login's recent list, gap fill after a reconnect,
//! scrollback pages): [`ChatView::insert_stored`] is the one way in.

use std::collections::HashSet;

use chatroom_shared::UnixMillis;
use chatroom_shared::message::{ChatMessage, MessageKind, OnlineUser};

use super::compose::Compose;
use super::entry::{Entry, EntryKind};
use super::files::Sharing;

/// The main screen's panes, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// The input box.
    Input,
    /// The message list (arrows scroll).
    Messages,
    /// Online users.
    Users,
    /// Shared files.
    Files,
    /// Game invitations.
    Invites,
}

impl Focus {
    const ORDER: [Self; 5] = [
        Self::Input,
        Self::Messages,
        Self::Users,
        Self::Files,
        Self::Invites,
    ];

    /// The next (or previous) pane in Tab order.
    pub fn step(self, forward: bool) -> Self {
        super::cycle(&Self::ORDER, self, forward)
    }
}

/// The state of the connection, for the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// Logged in.
    Online,
    /// Trying to get back (attempt number).
    Reconnecting(u32),
    /// Over for good (kicked, replaced, quit).
    Ended(String),
}

/// A message sent but not acknowledged yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// Its client message id.
    pub client_id: String,
    /// Its text.
    pub text: String,
}

/// The main screen.
#[derive(Debug, Clone)]
pub struct ChatView {
    /// Who this client is logged in as.
    pub me: String,
    /// `HOST:PORT`.
    pub server: String,
    /// The message list, oldest first.
    pub entries: Vec<Entry>,
    ids: HashSet<i64>,
    /// Own messages waiting for their ack (also shown, dimmed, at the end).
    pub pending: Vec<Pending>,
    /// Lines scrolled up from the newest (0 = following).
    pub scroll: usize,
    /// Stored messages that arrived while scrolled up.
    pub unseen_below: usize,
    /// Everyone online, in the order they came.
    pub online: Vec<OnlineUser>,
    /// Selected row in each side pane.
    pub selected_user: usize,
    /// Selected row in the files pane.
    pub selected_file: usize,
    /// Selected row in the invites pane.
    pub selected_invite: usize,
    /// Which pane has the focus.
    pub focus: Focus,
    /// The input box.
    pub compose: Compose,
    /// The connection.
    pub connection: Connection,
    /// A scrollback request is out.
    pub loading_older: bool,
    /// The server said there is nothing older.
    pub history_complete: bool,
    /// Shared files, transfers and the save/upload prompt.
    pub sharing: Sharing,
}

impl ChatView {
    /// A fresh main screen after logging in.
    pub fn new(me: &str, server: &str, online: Vec<OnlineUser>) -> Self {
        Self {
            me: me.to_owned(),
            server: server.to_owned(),
            entries: Vec::new(),
            ids: HashSet::new(),
            pending: Vec::new(),
            scroll: 0,
            unseen_below: 0,
            online,
            selected_user: 0,
            selected_file: 0,
            selected_invite: 0,
            focus: Focus::Input,
            compose: Compose::new(),
            connection: Connection::Online,
            loading_older: false,
            history_complete: false,
            sharing: Sharing::default(),
        }
    }

    /// The entries to show: the stored ones, then own messages still waiting
    /// for their ack. Borrowed when nothing is waiting.
    pub fn shown_entries(&self, now: UnixMillis) -> std::borrow::Cow<'_, [Entry]> {
        if self.pending.is_empty() {
            return std::borrow::Cow::Borrowed(&self.entries);
        }
        let mut all = self.entries.clone();
        all.extend(self.pending.iter().map(|p| Entry {
            id: None,
            ts: now,
            kind: EntryKind::Message {
                from: self.me.clone(),
                own: true,
                mention: false,
            },
            text: p.text.clone(),
        }));
        std::borrow::Cow::Owned(all)
    }

    /// True when `text` names this user (as a word, ignoring case, `@` optional).
    pub fn mentions_me(&self, text: &str) -> bool {
        let me = self.me.to_lowercase();
        let lower = text.to_lowercase();
        lower
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-' || c == '\''))
            .any(|word| word == me)
    }

    /// The entry for a stored message.
    pub fn entry_for(&self, m: &ChatMessage) -> Entry {
        let kind = match m.kind {
            MessageKind::Announcement => EntryKind::Announcement,
            MessageKind::Message => {
                let own = m.from == self.me;
                EntryKind::Message {
                    from: m.from.clone(),
                    own,
                    mention: !own && self.mentions_me(&m.text),
                }
            }
        };
        Entry {
            id: Some(m.id),
            ts: m.ts,
            kind,
            text: m.text.clone(),
        }
    }

    /// The highest stored id shown.
    pub fn last_id(&self) -> Option<i64> {
        self.entries.iter().rev().find_map(|e| e.id)
    }

    /// The lowest stored id shown (for scrollback).
    pub fn first_id(&self) -> Option<i64> {
        self.entries.iter().find_map(|e| e.id)
    }

    /// Add a stored message or announcement once, in id order. Returns false
    /// when it was already there. Settles a pending own message with the same
    /// text (its ack may come after the message itself, e.g. in gap fill).
    pub fn insert_stored(&mut self, m: &ChatMessage) -> bool {
        if !self.ids.insert(m.id) {
            return false;
        }
        if m.kind == MessageKind::Message
            && m.from == self.me
            && let Some(i) = self.pending.iter().position(|p| p.text == m.text)
        {
            self.pending.remove(i);
        }
        let entry = self.entry_for(m);
        let appended = self.last_id().is_none_or(|last| last < m.id);
        if appended {
            self.push(entry);
        } else {
            let at = self
                .entries
                .iter()
                .position(|e| e.id.is_some_and(|id| id > m.id))
                .unwrap_or(self.entries.len());
            self.entries.insert(at, entry);
        }
        true
    }

    /// Append an entry at the bottom (a stored message, a join, a notice).
    pub fn push(&mut self, entry: Entry) {
        if self.scroll > 0 {
            self.unseen_below += 1;
        }
        self.entries.push(entry);
    }

    /// Add a note from the client itself.
    pub fn notice(&mut self, ts: UnixMillis, text: impl Into<String>) {
        self.push(Entry {
            id: None,
            ts,
            kind: EntryKind::Notice,
            text: text.into(),
        });
    }

    /// An own message was acknowledged (or refused): drop it from pending.
    pub fn settle(&mut self, client_id: &str) -> Option<Pending> {
        let i = self.pending.iter().position(|p| p.client_id == client_id)?;
        Some(self.pending.remove(i))
    }

    /// Someone came online.
    pub fn user_joined(&mut self, name: &str, since: UnixMillis) {
        if !self.online.iter().any(|u| u.name == name) {
            self.online.push(OnlineUser {
                name: name.to_owned(),
                since,
            });
        }
    }

    /// Someone went offline.
    pub fn user_left(&mut self, name: &str) {
        self.online.retain(|u| u.name != name);
        self.selected_user = self.selected_user.min(self.online.len().saturating_sub(1));
    }

    /// Scroll up (towards older messages) by `lines`, at most `max`.
    pub fn scroll_up(&mut self, lines: usize, max: usize) {
        self.scroll = (self.scroll + lines).min(max);
    }

    /// Scroll down (towards the newest) by `lines`.
    pub fn scroll_down(&mut self, lines: usize) {
        self.scroll = self.scroll.saturating_sub(lines);
        if self.scroll == 0 {
            self.unseen_below = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(id: i64, from: &str, text: &str) -> ChatMessage {
        ChatMessage {
            id,
            ts: 1_000 * id,
            kind: MessageKind::Message,
            from: from.into(),
            text: text.into(),
        }
    }

    fn ids(v: &ChatView) -> Vec<i64> {
        v.entries.iter().filter_map(|e| e.id).collect()
    }

    #[test]
    fn stored_messages_are_kept_once_and_in_id_order() {
        let mut v = ChatView::new("me", "h:1", vec![]);
        for id in [1, 2, 5] {
            assert!(v.insert_stored(&msg(id, "bob", "x")));
        }
        v.notice(0, "reconnected");
        assert!(v.insert_stored(&msg(6, "bob", "live")));
        // Gap fill arrives after a live message: 3 and 4 go before 5.
        assert!(v.insert_stored(&msg(3, "bob", "x")));
        assert!(v.insert_stored(&msg(4, "bob", "x")));
        assert!(!v.insert_stored(&msg(5, "bob", "again")));
        assert_eq!(ids(&v), vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn own_message_arriving_in_gap_fill_settles_the_pending_copy() {
        let mut v = ChatView::new("me", "h:1", vec![]);
        v.pending.push(Pending {
            client_id: "c1".into(),
            text: "hello".into(),
        });
        v.insert_stored(&msg(7, "me", "hello"));
        assert!(v.pending.is_empty());
        assert_eq!(v.settle("c1"), None, "the late ack finds nothing to settle");
    }

    #[test]
    fn mentions_are_whole_words_ignoring_case() {
        let v = ChatView::new("alice", "h:1", vec![]);
        assert!(v.mentions_me("hi Alice!"));
        assert!(v.mentions_me("@alice look"));
        assert!(!v.mentions_me("malice"));
        let e = v.entry_for(&msg(1, "bob", "ALICE?"));
        assert!(matches!(
            e.kind,
            EntryKind::Message {
                mention: true,
                own: false,
                ..
            }
        ));
        let own = v.entry_for(&msg(2, "alice", "alice here"));
        assert!(matches!(
            own.kind,
            EntryKind::Message {
                mention: false,
                own: true,
                ..
            }
        ));
    }

    #[test]
    fn scrolled_up_counts_unseen_messages_until_back_at_the_bottom() {
        let mut v = ChatView::new("me", "h:1", vec![]);
        v.scroll_up(5, 100);
        v.insert_stored(&msg(1, "bob", "a"));
        v.insert_stored(&msg(2, "bob", "b"));
        assert_eq!(v.unseen_below, 2);
        v.scroll_down(3);
        assert_eq!(v.unseen_below, 2);
        v.scroll_down(10);
        assert_eq!((v.scroll, v.unseen_below), (0, 0));
        v.scroll_up(500, 40);
        assert_eq!(v.scroll, 40);
    }

    #[test]
    fn presence_list_follows_joins_and_leaves() {
        let mut v = ChatView::new("me", "h:1", vec![]);
        v.user_joined("bob", 1);
        v.user_joined("bob", 2);
        v.user_joined("carol", 3);
        assert_eq!(v.online.len(), 2);
        v.selected_user = 1;
        v.user_left("carol");
        assert_eq!(v.online.len(), 1);
        assert_eq!(v.selected_user, 0);
    }

    #[test]
    fn focus_cycles_through_every_pane() {
        let mut f = Focus::Input;
        for _ in 0..5 {
            f = f.step(true);
        }
        assert_eq!(f, Focus::Input);
        assert_eq!(Focus::Input.step(false), Focus::Invites);
    }
}
