//! Filling the gap after a reconnect (protocol §10.5), as pure logic.
//!
//! Everything the client may learn about the missed stretch (the new
//! `login_ok.recent`, the `history` pages fetched with `after`) is merged by
//! id: only messages newer than the last id seen before the drop count, each
//! id once, in id order. The client's own messages whose `say_ok` it already
//! has are left out, since the app shows those from the acknowledgement.

use std::collections::{BTreeMap, BTreeSet};

use chatroom_shared::message::ChatMessage;

/// The messages found for one gap, merged as they come in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Gap {
    after: i64,
    found: BTreeMap<i64, ChatMessage>,
}

/// What a finished gap yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Filled {
    /// Messages the app has not seen, oldest first.
    pub(crate) missed: Vec<ChatMessage>,
    /// The highest id now covered (own messages included): where the next
    /// gap starts.
    pub(crate) newest: i64,
}

impl Gap {
    /// A gap of everything stored after message id `after`.
    pub(crate) fn new(after: i64) -> Self {
        Self {
            after,
            found: BTreeMap::new(),
        }
    }

    /// The last id seen before the gap: the `after` cursor of the first page.
    pub(crate) fn after(&self) -> i64 {
        self.after
    }

    /// Whether `history` must be asked at all: not when the oldest entry of
    /// `recent` is at or below the last id seen (then `recent` covers the
    /// gap). An empty `recent` proves nothing (the server may send none), so
    /// it takes one query.
    pub(crate) fn needs_history(&self, recent: &[ChatMessage]) -> bool {
        recent.first().is_none_or(|m| m.id > self.after)
    }

    /// Merge messages from `recent` or a history page; older ones and
    /// duplicates are dropped.
    pub(crate) fn add(&mut self, messages: impl IntoIterator<Item = ChatMessage>) {
        for m in messages {
            if m.id > self.after {
                self.found.entry(m.id).or_insert(m);
            }
        }
    }

    /// The merged gap, without the ids in `own` (own messages already
    /// acknowledged to the app).
    pub(crate) fn finish(self, own: &BTreeSet<i64>) -> Filled {
        let newest = self.found.keys().next_back().copied().unwrap_or(self.after);
        let missed = self
            .found
            .into_values()
            .filter(|m| !own.contains(&m.id))
            .collect();
        Filled { missed, newest }
    }
}

#[cfg(test)]
mod tests {
    use chatroom_shared::message::MessageKind;

    use super::*;

    fn msg(id: i64) -> ChatMessage {
        ChatMessage {
            id,
            ts: 1_767_225_600_000 + id,
            kind: MessageKind::Message,
            from: "bob".into(),
            text: format!("m{id}"),
            to: Default::default(),
        }
    }

    fn ids(filled: &Filled) -> Vec<i64> {
        filled.missed.iter().map(|m| m.id).collect()
    }

    #[test]
    fn recent_reaching_back_past_the_last_seen_id_needs_no_history() {
        let gap = Gap::new(5);
        assert!(!gap.needs_history(&[msg(4), msg(5), msg(6)]));
        assert!(!gap.needs_history(&[msg(5), msg(6)]));
        assert!(gap.needs_history(&[msg(6), msg(7)]));
        assert!(gap.needs_history(&[]));
    }

    #[test]
    fn merge_keeps_only_newer_messages_once_in_id_order() {
        let mut gap = Gap::new(10);
        // recent overlaps what was seen; pages overlap recent and each other.
        gap.add([msg(8), msg(10), msg(11), msg(14)]);
        gap.add([msg(11), msg(12), msg(13)]);
        gap.add([msg(13), msg(14), msg(15)]);
        let filled = gap.finish(&BTreeSet::new());
        assert_eq!(ids(&filled), [11, 12, 13, 14, 15]);
        assert_eq!(filled.newest, 15);
    }

    #[test]
    fn ids_need_not_be_consecutive() {
        let mut gap = Gap::new(41);
        gap.add([msg(45), msg(100)]);
        assert_eq!(ids(&gap.finish(&BTreeSet::new())), [45, 100]);
    }

    #[test]
    fn acknowledged_own_messages_are_left_out_but_still_covered() {
        let mut gap = Gap::new(3);
        gap.add([msg(4), msg(5), msg(6)]);
        let filled = gap.finish(&BTreeSet::from([4, 6, 9]));
        assert_eq!(ids(&filled), [5]);
        assert_eq!(filled.newest, 6);
    }

    #[test]
    fn empty_gap_stays_at_the_last_seen_id() {
        let mut gap = Gap::new(7);
        gap.add([msg(6), msg(7)]);
        let filled = gap.finish(&BTreeSet::new());
        assert!(filled.missed.is_empty());
        assert_eq!(filled.newest, 7);
    }

    #[test]
    fn first_copy_of_an_id_wins() {
        let mut gap = Gap::new(0);
        gap.add([msg(1)]);
        let mut other = msg(1);
        other.text = "changed".into();
        gap.add([other]);
        assert_eq!(gap.finish(&BTreeSet::new()).missed, [msg(1)]);
    }
}
