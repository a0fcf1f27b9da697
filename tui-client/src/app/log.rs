//! One conversation's message list: what the main room, each group and each
//! direct-message conversation show, each in its own [`MessageLog`].
//!
//! Stored messages are kept exactly once and in id order, however they arrive
//! (live events, the login's recent list, offline delivery, gap fill after a
//! reconnect, history pages in either direction): [`MessageLog::insert_stored`]
//! is the one way in. The log also keeps the user's own messages still waiting
//! for their ack, how far the list is scrolled, and how far its history has
//! been loaded each way.

use std::collections::HashSet;

use chatroom_shared::UnixMillis;
use chatroom_shared::message::{ChatMessage, MessageKind};

use super::entry::{Entry, EntryKind};

/// A message sent but not acknowledged yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// Its client message id.
    pub client_id: String,
    /// Its text.
    pub text: String,
}

/// One conversation's message list.
#[derive(Debug, Clone, Default)]
pub struct MessageLog {
    /// The entries, oldest first.
    pub entries: Vec<Entry>,
    ids: HashSet<i64>,
    /// Own messages waiting for their ack (also shown, dimmed, at the end).
    pub pending: Vec<Pending>,
    /// Lines scrolled up from the newest (0 = following).
    pub scroll: usize,
    /// Stored messages that arrived while scrolled up.
    pub unseen_below: usize,
    /// A request for older messages is out.
    pub loading_older: bool,
    /// The server said there is nothing older.
    pub history_complete: bool,
    /// A request for newer messages is out.
    pub loading_newer: bool,
    /// Messages newer than the newest here may be missing (after a jump into
    /// the history, or a page of a catch-up that said there is more): they
    /// are asked for when the list is scrolled to its bottom.
    pub newer_missing: bool,
    /// The newest page has been asked for once (a conversation that was
    /// never shown starts empty and loads it when first shown).
    pub loaded: bool,
    /// Scroll so that this message is in view once it is here (a jump from
    /// search results).
    pub jump_to: Option<i64>,
    /// The message the last jump went to, highlighted.
    pub marked: Option<i64>,
}

/// True when `text` names `me` (as a word, ignoring case, `@` optional).
pub fn mentions(me: &str, text: &str) -> bool {
    let me = me.to_lowercase();
    let lower = text.to_lowercase();
    lower
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-' || c == '\''))
        .any(|word| word == me)
}

/// The entry for a stored message, as `me` sees it.
pub fn entry_for(m: &ChatMessage, me: &str) -> Entry {
    let kind = match m.kind {
        MessageKind::Announcement => EntryKind::Announcement,
        MessageKind::Message => {
            let own = m.from == me;
            EntryKind::Message {
                from: m.from.clone(),
                own,
                mention: !own && mentions(me, &m.text),
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

impl MessageLog {
    /// The entries to show: the stored ones, then own messages (from `me`)
    /// still waiting for their ack. Borrowed when nothing is waiting.
    pub fn shown_entries(&self, me: &str, now: UnixMillis) -> std::borrow::Cow<'_, [Entry]> {
        if self.pending.is_empty() {
            return std::borrow::Cow::Borrowed(&self.entries);
        }
        let mut all = self.entries.clone();
        all.extend(self.pending.iter().map(|p| Entry {
            id: None,
            ts: now,
            kind: EntryKind::Message {
                from: me.to_owned(),
                own: true,
                mention: false,
            },
            text: p.text.clone(),
        }));
        std::borrow::Cow::Owned(all)
    }

    /// True when the message with this id is in the list.
    pub fn contains(&self, id: i64) -> bool {
        self.ids.contains(&id)
    }

    /// The highest stored id shown.
    pub fn last_id(&self) -> Option<i64> {
        self.entries.iter().rev().find_map(|e| e.id)
    }

    /// The lowest stored id shown (for scrollback).
    pub fn first_id(&self) -> Option<i64> {
        self.entries.iter().find_map(|e| e.id)
    }

    /// Add a stored message or announcement once, in id order, as `me` sees
    /// it. Returns false when it was already there. Settles a pending own
    /// message with the same text (its ack may come after the message itself,
    /// e.g. in gap fill).
    pub fn insert_stored(&mut self, m: &ChatMessage, me: &str) -> bool {
        if !self.ids.insert(m.id) {
            return false;
        }
        if m.kind == MessageKind::Message
            && m.from == me
            && let Some(i) = self.pending.iter().position(|p| p.text == m.text)
        {
            self.pending.remove(i);
        }
        let entry = entry_for(m, me);
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

    /// Forget every stored message (before jumping to a point in the history
    /// that is not here: what is between would be missing unnoticed). Own
    /// messages waiting for their ack stay.
    pub fn clear_stored(&mut self) {
        self.entries.clear();
        self.ids.clear();
        self.scroll = 0;
        self.unseen_below = 0;
        self.loading_older = false;
        self.loading_newer = false;
        self.history_complete = false;
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

    /// Scroll up (towards older messages) by `lines`, at most `max`.
    pub fn scroll_up(&mut self, lines: usize, max: usize) {
        self.scroll = self.scroll.saturating_add(lines).min(max);
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
            to: Default::default(),
        }
    }

    fn ids(v: &MessageLog) -> Vec<i64> {
        v.entries.iter().filter_map(|e| e.id).collect()
    }

    #[test]
    fn stored_messages_are_kept_once_and_in_id_order() {
        let mut v = MessageLog::default();
        for id in [1, 2, 5] {
            assert!(v.insert_stored(&msg(id, "bob", "x"), "me"));
        }
        v.notice(0, "reconnected");
        assert!(v.insert_stored(&msg(6, "bob", "live"), "me"));
        // Gap fill arrives after a live message: 3 and 4 go before 5.
        assert!(v.insert_stored(&msg(3, "bob", "x"), "me"));
        assert!(v.insert_stored(&msg(4, "bob", "x"), "me"));
        assert!(!v.insert_stored(&msg(5, "bob", "again"), "me"));
        assert_eq!(ids(&v), vec![1, 2, 3, 4, 5, 6]);
        assert!(v.contains(4) && !v.contains(7));
    }

    #[test]
    fn own_message_arriving_in_gap_fill_settles_the_pending_copy() {
        let mut v = MessageLog::default();
        v.pending.push(Pending {
            client_id: "c1".into(),
            text: "hello".into(),
        });
        v.insert_stored(&msg(7, "me", "hello"), "me");
        assert!(v.pending.is_empty());
        assert_eq!(v.settle("c1"), None, "the late ack finds nothing to settle");
    }

    #[test]
    fn mentions_are_whole_words_ignoring_case() {
        assert!(mentions("alice", "hi Alice!"));
        assert!(mentions("alice", "@alice look"));
        assert!(!mentions("alice", "malice"));
        let e = entry_for(&msg(1, "bob", "ALICE?"), "alice");
        assert!(matches!(
            e.kind,
            EntryKind::Message {
                mention: true,
                own: false,
                ..
            }
        ));
        let own = entry_for(&msg(2, "alice", "alice here"), "alice");
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
        let mut v = MessageLog::default();
        v.scroll_up(5, 100);
        v.insert_stored(&msg(1, "bob", "a"), "me");
        v.insert_stored(&msg(2, "bob", "b"), "me");
        assert_eq!(v.unseen_below, 2);
        v.scroll_down(3);
        assert_eq!(v.unseen_below, 2);
        v.scroll_down(10);
        assert_eq!((v.scroll, v.unseen_below), (0, 0));
        v.scroll_up(500, 40);
        assert_eq!(v.scroll, 40);
    }

    #[test]
    fn clearing_keeps_pending_messages_and_forgets_ids() {
        let mut v = MessageLog::default();
        v.insert_stored(&msg(1, "bob", "a"), "me");
        v.pending.push(Pending {
            client_id: "c1".into(),
            text: "mine".into(),
        });
        v.history_complete = true;
        v.clear_stored();
        assert!(v.entries.is_empty() && !v.history_complete);
        assert_eq!(v.pending.len(), 1);
        assert!(v.insert_stored(&msg(1, "bob", "a"), "me"), "1 is new again");
    }
}
