//! One conversation's message list: what the main room, each group and each
//! direct-message conversation show, each in its own [`MessageLog`].
//!
//! Stored messages are kept exactly once and in id order, however they arrive
//! (live events, the login's recent list, offline delivery, gap fill after a
//! reconnect, history pages in either direction): [`MessageLog::insert_stored`]
//! is the one way in. The log also keeps the user's own messages still waiting
//! for their ack, how far the list is scrolled, and how far its history has
//! been loaded each way.
//!
//! Two things keep the cost of a busy room flat however long it runs:
//! - **Line heights per width.** Each entry's number of lines at the pane's
//!   width is kept beside it ([`MessageLog::set_view`] recomputes them only
//!   when the width changes), so scrolling and drawing never wrap what is
//!   not on screen.
//! - **A window.** Only about [`WINDOW`] entries are kept: past that, the
//!   oldest ones the view does not need are dropped and the log no longer
//!   counts as complete, so scrolling up past its top fetches them again
//!   from the history like any older page.

use std::collections::HashSet;

use chatroom_shared::UnixMillis;
use chatroom_shared::message::{ChatMessage, MessageKind};

use super::entry::{Entry, EntryKind};
use crate::ui::messages::{Heights, entry_height};

/// About how many entries a log keeps in memory; older ones come from the
/// server's history again when scrolled to.
pub const WINDOW: usize = 5_000;

/// How far past [`WINDOW`] a log grows before its oldest entries are dropped
/// (in one go, so dropping costs little per message).
const WINDOW_SLACK: usize = WINDOW / 8;

/// Lines above the top of the view that are kept however full the window:
/// the page of older history just loaded there, what scrolling up reaches
/// next.
const KEEP_ABOVE_VIEW: usize = 1_000;

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
    entries: Vec<Entry>,
    /// Lines of each entry at `width` (0 for all while the width is unknown).
    heights: Vec<u32>,
    /// The sum of `heights`.
    total_lines: usize,
    /// The width the heights are for (inside the pane's border); 0 = unknown.
    width: u16,
    /// The rows of the view (inside the pane's border).
    view_height: u16,
    /// Stored messages below this id were dropped from the window: one that
    /// comes again other than in a page of older history is not shown (it
    /// would sit alone above a gap nobody sees).
    floor: Option<i64>,
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

/// Lines of `entry` at `width`; 0 while the width is unknown.
fn height_at(entry: &Entry, width: u16) -> u32 {
    if width == 0 {
        return 0;
    }
    u32::try_from(entry_height(entry, width)).unwrap_or(u32::MAX)
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
    /// The entries in memory, oldest first (stored messages, joins, notices).
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Own messages (from `me`) still waiting for their ack, as entries shown
    /// after the stored ones.
    pub fn pending_entries(&self, me: &str, now: UnixMillis) -> Vec<Entry> {
        self.pending
            .iter()
            .map(|p| Entry {
                id: None,
                ts: now,
                kind: EntryKind::Message {
                    from: me.to_owned(),
                    own: true,
                    mention: false,
                },
                text: p.text.clone(),
            })
            .collect()
    }

    /// The line heights of [`Self::entries`] for drawing, when known.
    pub fn heights(&self) -> Option<Heights<'_>> {
        (self.width > 0).then_some(Heights {
            width: self.width,
            each: &self.heights,
            total: self.total_lines,
        })
    }

    /// The view is `width` × `height` cells (inside the pane's border): the
    /// line heights are recomputed when the width changed, else nothing is.
    pub fn set_view(&mut self, width: u16, height: u16) {
        self.view_height = height;
        if width == self.width {
            return;
        }
        self.width = width;
        self.heights = self.entries.iter().map(|e| height_at(e, width)).collect();
        self.total_lines = self.heights.iter().map(|&h| h as usize).sum();
    }

    /// Lines all entries take at the view's width.
    pub fn total_lines(&self) -> usize {
        self.total_lines
    }

    /// Lines the entries after the one at `index` take at the view's width.
    pub fn lines_after(&self, index: usize) -> usize {
        self.heights
            .get(index + 1..)
            .map_or(0, |h| h.iter().map(|&h| h as usize).sum())
    }

    /// The largest useful scroll: the oldest line at the top of the view.
    pub fn max_scroll(&self) -> usize {
        self.total_lines
            .saturating_sub(usize::from(self.view_height))
    }

    /// The lowest id a stored message may have to be shown, after the
    /// window dropped older ones.
    pub fn floor(&self) -> Option<i64> {
        self.floor
    }

    /// A page of older history is in: its messages from `lowest` up may be
    /// shown (`None`: everything may, the history is complete).
    pub fn lower_floor(&mut self, lowest: Option<i64>) {
        self.floor = match (self.floor, lowest) {
            (Some(floor), Some(lowest)) => Some(floor.min(lowest)),
            _ => None,
        };
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
        if self.floor.is_some_and(|floor| m.id < floor) || !self.ids.insert(m.id) {
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
            let height = height_at(&entry, self.width);
            self.entries.insert(at, entry);
            self.heights.insert(at, height);
            self.total_lines += height as usize;
            self.trim();
        }
        true
    }

    /// Forget every stored message (before jumping to a point in the history
    /// that is not here: what is between would be missing unnoticed). Own
    /// messages waiting for their ack stay.
    pub fn clear_stored(&mut self) {
        self.entries.clear();
        self.heights.clear();
        self.total_lines = 0;
        self.floor = None;
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
        let height = height_at(&entry, self.width);
        self.entries.push(entry);
        self.heights.push(height);
        self.total_lines += height as usize;
        self.trim();
    }

    /// Keep the window: once it is [`WINDOW_SLACK`] past [`WINDOW`] entries,
    /// drop the oldest down to [`WINDOW`], but never what the view shows or
    /// the [`KEEP_ABOVE_VIEW`] lines above it. What was dropped comes again
    /// from the history when scrolled to (a page asked for before the drop
    /// no longer reaches the window's top and is not shown).
    fn trim(&mut self) {
        if self.entries.len() <= WINDOW + WINDOW_SLACK {
            return;
        }
        let keep_lines = self
            .scroll
            .saturating_add(usize::from(self.view_height))
            .saturating_add(KEEP_ABOVE_VIEW);
        let mut kept_lines = self.total_lines;
        let mut drop = 0;
        for &h in &self.heights[..self.entries.len() - WINDOW] {
            let h = h as usize;
            if self.width > 0 && kept_lines - h < keep_lines {
                break;
            }
            kept_lines -= h;
            drop += 1;
        }
        if drop == 0 {
            return;
        }
        let highest_dropped = self.entries[..drop].iter().rev().find_map(|e| e.id);
        for id in self.entries.drain(..drop).filter_map(|e| e.id) {
            self.ids.remove(&id);
        }
        self.heights.drain(..drop);
        self.total_lines = kept_lines;
        let floor = self
            .first_id()
            .or(highest_dropped.map(|id| id.saturating_add(1)));
        self.floor = self.floor.max(floor);
        self.history_complete = false;
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

    fn stored_ids(v: &MessageLog) -> Vec<i64> {
        ids(v)
    }

    #[test]
    fn the_window_stays_bounded_and_keeps_the_newest() {
        let mut v = MessageLog::default();
        v.set_view(60, 20);
        v.loaded = true;
        v.history_complete = true;
        for id in 1..=20_000 {
            assert!(v.insert_stored(&msg(id, "bob", "hello"), "me"));
        }
        assert!(
            v.entries.len() <= WINDOW + WINDOW_SLACK,
            "{}",
            v.entries.len()
        );
        assert!(v.entries.len() >= WINDOW);
        assert_eq!(v.ids.len(), v.entries.len(), "dropped ids are forgotten");
        assert_eq!(v.heights.len(), v.entries.len());
        assert_eq!(v.last_id(), Some(20_000));
        let first = v.first_id().unwrap();
        assert_eq!(stored_ids(&v), (first..=20_000).collect::<Vec<_>>());
        assert!(
            !v.history_complete,
            "what was dropped comes from the history"
        );
        let lines: usize = v.entries.iter().map(|e| entry_height(e, 60)).sum();
        assert_eq!(v.total_lines(), lines);
    }

    #[test]
    fn a_dropped_message_comes_back_only_with_a_page_of_older_history() {
        let mut v = MessageLog::default();
        v.set_view(60, 20);
        for id in 1..=(WINDOW + WINDOW_SLACK + 1) as i64 {
            v.insert_stored(&msg(id, "bob", "x"), "me");
        }
        let first = v.first_id().unwrap();
        assert!(first > 1);
        assert_eq!(v.floor(), Some(first));
        // A stale copy (a redelivery at login) would stand alone above a gap.
        assert!(!v.insert_stored(&msg(first - 1, "bob", "x"), "me"));
        assert_eq!(v.first_id(), Some(first));
        // The page before the window's top is shown, once, in order.
        v.lower_floor(Some(first - 2));
        assert!(v.insert_stored(&msg(first - 2, "bob", "x"), "me"));
        assert!(v.insert_stored(&msg(first - 1, "bob", "x"), "me"));
        assert!(!v.insert_stored(&msg(first - 1, "bob", "x"), "me"));
        assert_eq!(stored_ids(&v)[..3], [first - 2, first - 1, first]);
        v.lower_floor(None);
        assert_eq!(v.floor(), None, "the history is complete");
    }

    #[test]
    fn scrolled_up_the_view_keeps_what_it_shows() {
        let mut v = MessageLog::default();
        v.set_view(60, 20);
        for id in 1..=(WINDOW as i64) {
            v.insert_stored(&msg(id, "bob", "x"), "me");
        }
        // Scrolled to the very top, `scroll` lines above the newest: the
        // view and what is above it stay, past the window's size.
        let max = v.max_scroll();
        v.scroll_up(max, max);
        for id in (WINDOW as i64 + 1)..=(2 * WINDOW as i64) {
            v.insert_stored(&msg(id, "bob", "x"), "me");
        }
        assert_eq!(v.scroll, max);
        assert!(
            v.total_lines() >= v.scroll + 20 + KEEP_ABOVE_VIEW,
            "{}",
            v.total_lines()
        );
        assert!(v.entries.len() > WINDOW);
        assert!(v.entries.len() < 2 * WINDOW, "the rest was dropped");
    }

    #[test]
    fn heights_follow_the_width() {
        let mut v = MessageLog::default();
        let long = "word ".repeat(40);
        v.insert_stored(&msg(1, "bob", &long), "me");
        assert!(v.heights().is_none(), "unknown before the first layout");
        v.set_view(100, 10);
        let wide = v.total_lines();
        v.set_view(30, 10);
        assert!(v.total_lines() > wide);
        assert_eq!(v.total_lines(), entry_height(&v.entries[0], 30));
        assert_eq!(v.max_scroll(), v.total_lines().saturating_sub(10));
        v.notice(0, "note");
        assert_eq!(v.heights().unwrap().each.len(), 2);
    }
}
