//! What the network task remembers about a logged-in session across
//! reconnects: the credentials and resume token, the last message id seen in
//! the main room, the `say`s and `send`s still waiting for their `say_ok`,
//! and the `history` requests still waiting for their page. A message the
//! server refused for now (`server_busy`, `rate_limited`, `storage_unavailable`) stays pending and
//! goes out again after the time the server asked for.
//!
//! The gap cursor advances only with messages from the room (`recent`,
//! room `message` and `announcement` events, `Missed`); messages of groups
//! and direct messages share the id sequence but not the room's gap. A `say_ok` can arrive
//! before the events of lower ids stored in the same batch, so an own message
//! id must not move the cursor past them; own ids are kept aside instead, to
//! be left out of the next gap (the app has them from the `say_ok`).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{ClientMessage, ErrorReply, LoginOk, Say, SayOk, Send, Target};
use tokio::time::Instant;

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

impl PendingSay {
    /// The request that sends it: `say` to the room, `send` elsewhere.
    pub(crate) fn request(&self) -> ClientMessage {
        if self.to.is_room() {
            ClientMessage::Say(Say {
                id: self.client_id.clone(),
                text: self.text.clone(),
            })
        } else {
            ClientMessage::Send(Send {
                id: self.client_id.clone(),
                to: self.to.clone(),
                text: self.text.clone(),
            })
        }
    }
}

/// What a refusal of a `say` or `send` means for the message.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SayRefusal {
    /// The error is not about a message of ours (or the server is closing:
    /// it goes out again after the reconnect).
    NotOurs,
    /// The server asked to send it again later (`server_busy`, `rate_limited`,
    /// `storage_unavailable`):
    /// it stays pending and goes out again at [`Session::retry_at`].
    Later,
    /// Refused for good: the message with this client id is dropped.
    Refused(String),
}

/// The wait before re-sending a message refused as busy without a retry time.
const DEFAULT_RETRY: Duration = Duration::from_secs(1);

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
    /// Pending messages the server asked to send again (client ids), and when
    /// the next of them goes: one at a time, so that a client told to slow
    /// down never floods the server with its retries.
    retry: HashSet<String>,
    retry_at: Option<Instant>,
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
            retry: HashSet::new(),
            retry_at: None,
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
        self.retry.remove(&ok.id);
        if !self.retry.is_empty() && self.retry_at.is_none() {
            // The server takes messages again: the next refused one goes now.
            self.retry_at = Some(Instant::now());
        }
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
    pub(crate) fn failed(&mut self, e: &ErrorReply) -> SayRefusal {
        let Some(client_id) = e.seq.and_then(|seq| self.in_flight.remove(&seq)) else {
            return SayRefusal::NotOurs;
        };
        match e.code {
            ErrorCode::ShuttingDown => SayRefusal::NotOurs,
            ErrorCode::ServerBusy | ErrorCode::RateLimited | ErrorCode::StorageUnavailable => {
                let wait = e
                    .retry_after_ms
                    .map_or(DEFAULT_RETRY, Duration::from_millis);
                let at = Instant::now() + wait;
                self.retry_at = Some(self.retry_at.map_or(at, |t| t.max(at)));
                self.retry.insert(client_id);
                SayRefusal::Later
            }
            _ => {
                self.pending.retain(|p| p.client_id != client_id);
                SayRefusal::Refused(client_id)
            }
        }
    }

    /// When the next message refused for now is due to go out again.
    pub(crate) fn retry_at(&self) -> Option<Instant> {
        self.retry_at
    }

    /// The next message due to go out again: the first said of those refused
    /// for now. The one after it is due when this one is acknowledged (or at
    /// the time a new refusal names).
    pub(crate) fn take_retry(&mut self) -> Option<PendingSay> {
        self.retry_at = None;
        let next = self
            .pending
            .iter()
            .find(|p| self.retry.contains(&p.client_id))
            .cloned();
        match &next {
            Some(say) => {
                self.retry.remove(&say.client_id);
            }
            // Acknowledged meanwhile (a reply to an earlier send).
            None => self.retry.clear(),
        }
        next
    }

    /// A new connection starts: replies to `seq`s of the old one never come,
    /// so unanswered history requests are asked again.
    pub(crate) fn new_connection(&mut self) {
        self.in_flight.clear();
        // Every pending message goes out again on the new connection anyway.
        self.retry.clear();
        self.retry_at = None;
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
            online_count: 0,
            online_next: None,
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
        assert_eq!(refused, SayRefusal::Refused("a".into()));
        assert_eq!(
            s.failed(&ErrorReply::new(Some(2), ErrorCode::ShuttingDown, "bye")),
            SayRefusal::NotOurs
        );
        assert_eq!(
            s.failed(&ErrorReply::new(None, ErrorCode::IdleTimeout, "idle")),
            SayRefusal::NotOurs
        );
        let left: Vec<_> = s.pending().iter().map(|p| p.client_id.as_str()).collect();
        assert_eq!(left, ["b"]);
    }

    #[tokio::test(start_paused = true)]
    async fn storage_unavailable_keeps_the_message_and_a_reused_id_drops_it() {
        let mut s = session(&[]);
        for (i, id) in ["a", "b"].into_iter().enumerate() {
            s.said(id.into(), Target::Room, "text".into());
            s.sent(u32::try_from(i).unwrap() + 1, id.into());
        }
        let mut full = ErrorReply::new(Some(1), ErrorCode::StorageUnavailable, "disk full");
        full.retry_after_ms = Some(2000);
        assert_eq!(s.failed(&full), SayRefusal::Later);
        assert_eq!(
            s.retry_at().unwrap() - Instant::now(),
            Duration::from_millis(2000)
        );
        let reused = ErrorReply::new(Some(2), ErrorCode::MessageIdReused, "reused");
        assert_eq!(s.failed(&reused), SayRefusal::Refused("b".into()));
        let left: Vec<_> = s.pending().iter().map(|p| p.client_id.as_str()).collect();
        assert_eq!(left, ["a"], "the delayed one waits to go out again");
        assert_eq!(s.take_retry().unwrap().client_id, "a");
    }

    #[tokio::test(start_paused = true)]
    async fn busy_refusals_are_sent_again_one_at_a_time_in_order() {
        let mut s = session(&[]);
        for (i, id) in ["a", "b", "c"].into_iter().enumerate() {
            s.said(id.into(), Target::Room, "text".into());
            s.sent(u32::try_from(i).unwrap() + 1, id.into());
        }
        let mut busy = ErrorReply::new(Some(2), ErrorCode::ServerBusy, "busy");
        busy.retry_after_ms = Some(500);
        assert_eq!(s.failed(&busy), SayRefusal::Later);
        let mut limited = ErrorReply::new(Some(3), ErrorCode::RateLimited, "slow");
        limited.retry_after_ms = Some(200);
        assert_eq!(s.failed(&limited), SayRefusal::Later);
        // All stay pending; the latest of the times counts.
        assert_eq!(s.pending().len(), 3);
        let due = s.retry_at().unwrap();
        assert_eq!(due - Instant::now(), Duration::from_millis(500));
        // The first said goes first, alone.
        let first = s.take_retry().unwrap();
        assert_eq!(first.client_id, "b");
        assert_eq!(s.retry_at(), None, "the next waits for this one's answer");
        s.sent(4, first.client_id);
        s.acked(&say_ok(4, "b", 10));
        assert_eq!(s.retry_at(), Some(Instant::now()), "then the next at once");
        assert_eq!(s.take_retry().unwrap().client_id, "c");
        assert_eq!(s.take_retry(), None);
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
