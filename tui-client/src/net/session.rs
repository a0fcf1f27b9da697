//! What the network task remembers about a logged-in session across
//! reconnects: the credentials and resume token, the last message id seen in
//! the main room, the `say`s and `send`s still waiting for their `say_ok`,
//! and the `history` requests still waiting for their page.
//!
//! The gap cursor advances only with messages from the room (`recent`,
//! room `message` and `announcement` events, `Missed`); messages of groups
//! and direct messages share the id sequence but not the room's gap. A `say_ok` can arrive
//! before the events of lower ids stored in the same batch, so an own message
//! id must not move the cursor past them; own ids are kept aside instead, to
//! be left out of the next gap (the app has them from the `say_ok`).

use std::collections::{BTreeSet, HashMap};

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{ErrorReply, LoginOk, SayOk, Target};

use super::HistoryQuery;
use super::gap::{Filled, Gap};

/// What is needed to connect and log in again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Credentials {
    /// `HOST:PORT`.
    pub(crate) server: String,
    /// The user name as typed.
    pub(crate) name: String,
    /// The password, in memory only.
    pub(crate) password: String,
}

/// A chat message sent but not yet acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PendingSay {
    /// The client message id (the server deduplicates by it).
    pub(crate) client_id: String,
    /// Where it goes: the room (`say`), a group or a user (`send`).
    pub(crate) to: Target,
    /// The text.
    pub(crate) text: String,
}

/// The state of one logged-in session.
#[derive(Debug)]
pub(crate) struct Session {
    /// Where and as whom.
    pub(crate) creds: Credentials,
    /// The resume token of the last `login_ok`.
    pub(crate) token: String,
    /// Why the server is closing the connection (`server_shutdown`), if it said.
    pub(crate) closing: Option<String>,
    highest: i64,
    own: BTreeSet<i64>,
    pending: Vec<PendingSay>,
    in_flight: HashMap<u32, String>,
    history_in_flight: HashMap<u32, HistoryQuery>,
    history_deferred: Vec<HistoryQuery>,
}

impl Session {
    /// The session that `ok` (a first login) opened.
    pub(crate) fn new(creds: Credentials, ok: &LoginOk) -> Self {
        Self {
            creds,
            token: ok.token.clone(),
            closing: None,
            highest: ok.recent.iter().map(|m| m.id).max().unwrap_or(0),
            own: BTreeSet::new(),
            pending: Vec::new(),
            in_flight: HashMap::new(),
            history_in_flight: HashMap::new(),
            history_deferred: Vec::new(),
        }
    }

    /// The highest message id seen from the room.
    pub(crate) fn highest(&self) -> i64 {
        self.highest
    }

    /// A room `message` or `announcement` event with id `id` arrived: true
    /// when it is new, false for a duplicate the app must not see again.
    pub(crate) fn saw(&mut self, id: i64) -> bool {
        if id <= self.highest {
            return false;
        }
        self.highest = id;
        self.prune_own();
        true
    }

    /// The app asked to send this message to `to`.
    pub(crate) fn said(&mut self, client_id: String, to: Target, text: String) {
        self.pending.retain(|p| p.client_id != client_id);
        self.pending.push(PendingSay {
            client_id,
            to,
            text,
        });
    }

    /// The `say` for `client_id` went out on the current connection as `seq`.
    pub(crate) fn sent(&mut self, seq: u32, client_id: String) {
        self.in_flight.insert(seq, client_id);
    }

    /// Messages not yet acknowledged, in the order they were said.
    pub(crate) fn pending(&self) -> &[PendingSay] {
        &self.pending
    }

    /// A `say_ok` arrived: the message is stored and no longer pending.
    pub(crate) fn acked(&mut self, ok: &SayOk) {
        self.in_flight.remove(&ok.seq);
        self.pending.retain(|p| p.client_id != ok.id);
        if ok.message_id > self.highest {
            self.own.insert(ok.message_id);
        }
    }

    /// The app asked for a page of history while there is no connection:
    /// the request goes out after the reconnect.
    pub(crate) fn history_later(&mut self, query: HistoryQuery) {
        if !self.history_deferred.contains(&query) {
            self.history_deferred.push(query);
        }
    }

    /// A `history` request went out as `seq`.
    pub(crate) fn history_sent(&mut self, seq: u32, query: HistoryQuery) {
        self.history_in_flight.insert(seq, query);
    }

    /// A `history_page` (or error) answered `seq`: the query it answers, if
    /// it was one of the app's.
    pub(crate) fn answered(&mut self, seq: u32) -> Option<HistoryQuery> {
        self.history_in_flight.remove(&seq)
    }

    /// History requests to send on the new connection.
    pub(crate) fn take_history(&mut self) -> Vec<HistoryQuery> {
        std::mem::take(&mut self.history_deferred)
    }

    /// An `error` arrived: if it answers a `say` or `send`, that message is
    /// given up (its client id is returned), unless the server refused it
    /// only because it is shutting down (then it is sent again after the
    /// reconnect).
    pub(crate) fn failed(&mut self, e: &ErrorReply) -> Option<String> {
        let client_id = e.seq.and_then(|seq| self.in_flight.remove(&seq))?;
        if e.code == ErrorCode::ShuttingDown {
            return None;
        }
        self.pending.retain(|p| p.client_id != client_id);
        Some(client_id)
    }

    /// A new connection starts: replies to `seq`s of the old one never come,
    /// so unanswered history requests are asked again.
    pub(crate) fn new_connection(&mut self) {
        self.in_flight.clear();
        let mut unanswered: Vec<(u32, HistoryQuery)> = self.history_in_flight.drain().collect();
        unanswered.sort_unstable_by_key(|(seq, _)| *seq);
        for (_, query) in unanswered {
            self.history_later(query);
        }
        self.closing = None;
    }

    /// A gap starting at the last id seen.
    pub(crate) fn gap(&self) -> Gap {
        Gap::new(self.highest)
    }

    /// Close the gap: returns the messages to show, and moves the cursor past
    /// everything it covered.
    pub(crate) fn fill(&mut self, gap: Gap) -> Filled {
        let filled = gap.finish(&self.own);
        self.highest = self.highest.max(filled.newest);
        self.prune_own();
        filled
    }

    fn prune_own(&mut self) {
        let keep = self.own.split_off(&self.highest.saturating_add(1));
        self.own = keep;
    }
}

#[cfg(test)]
mod tests {
    use chatroom_shared::message::{ChatMessage, MessageKind, UserInfo};

    use super::*;

    fn msg(id: i64) -> ChatMessage {
        ChatMessage {
            id,
            ts: 0,
            kind: MessageKind::Message,
            from: "bob".into(),
            text: format!("m{id}"),
            to: Default::default(),
        }
    }

    fn session(recent: &[i64]) -> Session {
        let ok = LoginOk {
            seq: 1,
            user: UserInfo {
                id: 1,
                name: "alice".into(),
            },
            token: "tok".into(),
            token_expires: 0,
            online: vec![],
            recent: recent.iter().copied().map(msg).collect(),
        };
        let creds = Credentials {
            server: "h:1".into(),
            name: "alice".into(),
            password: "pw".into(),
        };
        Session::new(creds, &ok)
    }

    fn say_ok(seq: u32, id: &str, message_id: i64) -> SayOk {
        SayOk {
            seq,
            id: id.into(),
            message_id,
            ts: 0,
        }
    }

    #[test]
    fn starts_after_the_newest_recent_message() {
        assert_eq!(session(&[3, 4, 9]).highest(), 9);
        assert_eq!(session(&[]).highest(), 0);
    }

    #[test]
    fn duplicate_or_older_events_are_refused() {
        let mut s = session(&[5]);
        assert!(!s.saw(5));
        assert!(s.saw(6));
        assert!(!s.saw(6));
        assert!(!s.saw(2));
    }

    #[test]
    fn acknowledged_says_stop_being_pending() {
        let mut s = session(&[]);
        s.said("a".into(), Target::Room, "one".into());
        s.said("b".into(), Target::Room, "two".into());
        s.sent(7, "a".into());
        s.sent(8, "b".into());
        s.acked(&say_ok(7, "a", 3));
        let left: Vec<_> = s.pending().iter().map(|p| p.client_id.as_str()).collect();
        assert_eq!(left, ["b"]);
    }

    #[test]
    fn refused_say_is_dropped_but_shutting_down_keeps_it() {
        let mut s = session(&[]);
        s.said("a".into(), Target::Room, "one".into());
        s.said("b".into(), Target::Room, "two".into());
        s.sent(1, "a".into());
        s.sent(2, "b".into());
        let refused = s.failed(&ErrorReply::new(Some(1), ErrorCode::InvalidText, "no"));
        assert_eq!(refused.as_deref(), Some("a"));
        assert_eq!(
            s.failed(&ErrorReply::new(Some(2), ErrorCode::ShuttingDown, "bye")),
            None
        );
        assert_eq!(
            s.failed(&ErrorReply::new(None, ErrorCode::IdleTimeout, "idle")),
            None
        );
        let left: Vec<_> = s.pending().iter().map(|p| p.client_id.as_str()).collect();
        assert_eq!(left, ["b"]);
    }

    #[test]
    fn own_ack_does_not_move_the_gap_cursor() {
        let mut s = session(&[10]);
        s.acked(&say_ok(1, "a", 12));
        assert_eq!(s.highest(), 10);
        assert_eq!(s.gap().after(), 10);
    }

    #[test]
    fn gap_leaves_out_acknowledged_own_messages_and_advances() {
        let mut s = session(&[10]);
        s.acked(&say_ok(1, "a", 12));
        let mut gap = s.gap();
        gap.add([11, 12, 13].map(msg));
        let filled = s.fill(gap);
        let ids: Vec<_> = filled.missed.iter().map(|m| m.id).collect();
        assert_eq!(ids, [11, 13]);
        assert_eq!(s.highest(), 13);
        assert!(!s.saw(12), "a later event with a covered id is a duplicate");
    }

    #[test]
    fn unanswered_history_is_asked_again_on_the_next_connection() {
        let older = |before| HistoryQuery::older(Target::Room, Some(before));
        let team = Target::Group {
            group: "team".into(),
        };
        let mut s = session(&[]);
        s.history_sent(3, older(100));
        s.history_sent(4, older(50));
        s.history_sent(5, HistoryQuery::newer(team.clone(), 7));
        assert_eq!(s.answered(4), Some(older(50)));
        assert_eq!(s.answered(9), None, "not a history request");
        s.history_later(older(20));
        s.new_connection();
        assert_eq!(
            s.take_history(),
            [older(20), older(100), HistoryQuery::newer(team, 7)]
        );
        assert!(s.take_history().is_empty());
    }

    #[test]
    fn resaying_an_id_replaces_the_pending_copy() {
        let mut s = session(&[]);
        s.said("a".into(), Target::Room, "one".into());
        s.said("a".into(), Target::Room, "one again".into());
        assert_eq!(s.pending().len(), 1);
        assert_eq!(s.pending()[0].text, "one again");
    }
}
