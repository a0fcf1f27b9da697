//! Search results as the app keeps them while their overlay is open: the
//! words searched, the matches (newest first, each naming its conversation),
//! the selected one, and whether more can be loaded. Choosing one jumps to
//! that point of its conversation's history (`talk.rs`).

use chatroom_shared::message::ChatMessage;

/// Rows PageUp / PageDown move in the results.
pub const PAGE: usize = 10;

/// The open search results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchView {
    /// The words searched.
    pub text: String,
    /// Matches so far, newest first.
    pub results: Vec<ChatMessage>,
    /// The selected match.
    pub selected: usize,
    /// More matches exist before the oldest one here.
    pub has_more: bool,
    /// A request is out (the first page, or the next).
    pub loading: bool,
}

impl SearchView {
    /// Results for `text`, waiting for the first page.
    pub fn new(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            results: Vec::new(),
            selected: 0,
            has_more: false,
            loading: true,
        }
    }

    /// A page of results arrived; matches already here are not added twice.
    pub fn add_page(&mut self, messages: Vec<ChatMessage>, has_more: bool) {
        for m in messages {
            if !self.results.iter().any(|r| r.id == m.id) {
                self.results.push(m);
            }
        }
        self.has_more = has_more;
        self.loading = false;
    }

    /// Move the selection by `delta` rows. Returns the id to search before
    /// when the move went past the last match and more can be loaded.
    pub fn step(&mut self, delta: isize) -> Option<i64> {
        let last = self.results.len().saturating_sub(1);
        let wanted = self.selected.saturating_add_signed(delta);
        self.selected = wanted.min(last);
        let past_end = delta > 0 && wanted > last;
        if past_end && self.has_more && !self.loading {
            self.loading = true;
            return self.results.last().map(|m| m.id);
        }
        None
    }

    /// The selected match.
    pub fn chosen(&self) -> Option<&ChatMessage> {
        self.results.get(self.selected)
    }
}

#[cfg(test)]
mod tests {
    use chatroom_shared::message::MessageKind;

    use super::*;

    fn hit(id: i64) -> ChatMessage {
        ChatMessage {
            id,
            ts: id,
            kind: MessageKind::Message,
            from: "bob".into(),
            text: "deploy".into(),
            to: Default::default(),
        }
    }

    #[test]
    fn moving_past_the_last_match_asks_for_the_next_page_once() {
        let mut s = SearchView::new("deploy");
        s.add_page(vec![hit(9), hit(7)], true);
        assert_eq!(s.step(1), None);
        assert_eq!(s.chosen().map(|m| m.id), Some(7));
        assert_eq!(s.step(1), Some(7));
        assert_eq!(s.step(1), None, "already loading");
        s.add_page(vec![hit(7), hit(3)], false);
        assert_eq!(s.results.len(), 3, "7 is not listed twice");
        assert_eq!(s.step(PAGE as isize), None, "nothing more");
        assert_eq!(s.chosen().map(|m| m.id), Some(3));
        s.step(-(PAGE as isize));
        assert_eq!(s.selected, 0);
    }
}
