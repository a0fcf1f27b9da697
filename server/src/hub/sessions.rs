//! This node's sessions: the table of who is logged in here, and the fan-out
//! of events to their outboxes.
//!
//! The table never waits on a session: a full outbox means the client is not
//! reading, and the session is dropped from the table (which closes its end of
//! the outbox) instead of letting it grow memory or slow anybody else. Whoever
//! owns the table (the hub task) tells the others about the sessions dropped.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use chatroom_shared::message::{Kicked, OnlineUser, ServerMessage, SessionReplaced};
use tracing::warn;

use super::SessionEntry;
use super::presence::{Told, Window};
use crate::delivery::{Audience, Event};
use crate::outbox::{Batch, CloseReason, Outbound, PushError, encode_event};

/// The sessions logged in on this node.
#[derive(Debug, Default)]
pub struct Sessions {
    by_uid: HashMap<i64, SessionEntry>,
    /// Login order, for a stable online list: a number per login (a
    /// takeover keeps it), so a leave costs a lookup, not a pass.
    order: BTreeMap<u64, i64>,
    /// Each session's number in `order`.
    place: HashMap<i64, u64>,
    /// The next login's number.
    next_place: u64,
    /// By name, for pages of `users`.
    by_name: BTreeMap<String, i64>,
    /// `by_uid.len()`, shared with readers that must not wait for the hub.
    online: Arc<AtomicUsize>,
}

impl Sessions {
    /// An empty table whose size is published to `online`.
    pub(super) fn new(online: Arc<AtomicUsize>) -> Self {
        Self {
            online,
            ..Self::default()
        }
    }

    /// The session of `uid`, if it is logged in here.
    pub fn get(&self, uid: i64) -> Option<&SessionEntry> {
        self.by_uid.get(&uid)
    }

    /// Every session here, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &SessionEntry> {
        self.by_uid.values()
    }

    /// How many sessions are here.
    pub fn len(&self) -> usize {
        self.by_uid.len()
    }

    /// Whether no session is here.
    pub fn is_empty(&self) -> bool {
        self.by_uid.is_empty()
    }

    /// The sessions here in login order.
    pub fn in_login_order(&self) -> impl Iterator<Item = &SessionEntry> {
        self.order.values().filter_map(|uid| self.by_uid.get(uid))
    }

    /// The users here whose names start at `from`, by name (lazily: the
    /// caller takes a page).
    pub fn users_from<'a>(&'a self, from: Bound<&'a str>) -> impl Iterator<Item = OnlineUser> + 'a {
        self.by_name
            .range::<str, _>((from, Bound::Unbounded))
            .filter_map(|(_, uid)| self.by_uid.get(uid))
            .map(|s| OnlineUser {
                name: s.name.clone(),
                since: s.since,
            })
    }

    /// Put a session in the table. An older session of the same account is
    /// told it was replaced and closed; returns true when there was one.
    pub(super) fn insert(&mut self, entry: SessionEntry) -> bool {
        let uid = entry.uid;
        self.by_name.insert(entry.name.clone(), uid);
        let replaced = match self.by_uid.insert(uid, entry) {
            Some(old) => {
                if let Some(current) = self.by_uid.get(&uid)
                    && current.name != old.name
                {
                    self.by_name.remove(&old.name);
                }
                close_replaced(&old);
                true
            }
            None => {
                self.order.insert(self.next_place, uid);
                self.place.insert(uid, self.next_place);
                self.next_place += 1;
                false
            }
        };
        self.count();
        replaced
    }

    /// A login elsewhere took this account's session over: close it as
    /// replaced, without a notice to anyone. Returns it, if it was here.
    pub fn take_over(&mut self, uid: i64) -> Option<SessionEntry> {
        let old = self.remove(uid)?;
        close_replaced(&old);
        Some(old)
    }

    /// Remove a session from the table. Dropping the entry drops the table's
    /// end of the session's outbox, so the session drains what is queued and
    /// then closes.
    pub fn remove(&mut self, uid: i64) -> Option<SessionEntry> {
        let entry = self.by_uid.remove(&uid)?;
        if let Some(place) = self.place.remove(&uid) {
            self.order.remove(&place);
        }
        self.by_name.remove(&entry.name);
        self.count();
        Some(entry)
    }

    /// Tell a session here it is disconnected (kick or ban) and remove it.
    pub fn kick(&mut self, uid: i64, kicked: Kicked) -> Option<SessionEntry> {
        let s = self.by_uid.get(&uid)?;
        let frame = encode_event(&ServerMessage::Kicked(kicked));
        let _ = s.outbox.push(Outbound::Frames(frame));
        let _ = s.outbox.push(Outbound::Close(CloseReason::Kicked));
        self.remove(uid)
    }

    /// Queue events, in order, for the sessions here they are for: runs of
    /// events for everyone as one batch shared by every session, events for
    /// some accounts to those sessions only. Returns the sessions removed
    /// because they could not keep up.
    #[must_use]
    pub(super) fn deliver(&mut self, events: Vec<Event>) -> Vec<SessionEntry> {
        let mut too_slow = Vec::new();
        let mut run = Vec::new();
        for e in events {
            match &e.to {
                Audience::Everyone { .. } => run.push(e),
                Audience::Only(uids) => {
                    if !run.is_empty() {
                        self.queue_batch(Batch::new(std::mem::take(&mut run)), &mut too_slow);
                    }
                    for &uid in uids {
                        self.queue_to(uid, &e, &mut too_slow);
                    }
                }
            }
        }
        if !run.is_empty() {
            self.queue_batch(Batch::new(run), &mut too_slow);
        }
        too_slow
            .into_iter()
            .filter_map(|uid| self.remove(uid))
            .collect()
    }

    /// Watch `window` of the online list from the session `session_id` of
    /// `uid` (none to stop); false when that session is not here.
    pub(super) fn watch(&mut self, uid: i64, session_id: u64, window: Option<Window>) -> bool {
        match self.by_uid.get_mut(&uid) {
            Some(s) if s.session_id == session_id => {
                s.watching = window;
                true
            }
            _ => false,
        }
    }

    /// Tell every session here about gathered joins and leaves: watchers the
    /// `presence` frames of their window, the others one event per change
    /// when `one_by_one` (few online). Returns the sessions removed because
    /// they could not keep up.
    #[must_use]
    pub(super) fn tell(&mut self, told: &Told, one_by_one: bool) -> Vec<SessionEntry> {
        let batch = if one_by_one {
            let events = told.one_by_one();
            (!events.is_empty()).then(|| Batch::new(events))
        } else {
            None
        };
        // Most watchers watch the same window (the first page): encode once.
        let mut frames: HashMap<&Window, Vec<Bytes>> = HashMap::new();
        let mut too_slow = Vec::new();
        for (uid, session) in &self.by_uid {
            let pushed = match &session.watching {
                Some(window) => frames
                    .entry(window)
                    .or_insert_with(|| told.for_window(window))
                    .iter()
                    .try_for_each(|f| session.outbox.push(Outbound::Frames(f.clone()))),
                None => match &batch {
                    Some(batch) => {
                        let bytes = batch.bytes_for(*uid);
                        if bytes == 0 {
                            continue;
                        }
                        session.outbox.push(Outbound::Batch {
                            batch: batch.clone(),
                            bytes,
                        })
                    }
                    None => continue,
                },
            };
            note_too_slow(*uid, session, pushed, &mut too_slow);
        }
        too_slow
            .into_iter()
            .filter_map(|uid| self.remove(uid))
            .collect()
    }

    /// Queue a batch for every session; note those too slow to take it.
    fn queue_batch(&self, batch: Batch, too_slow: &mut Vec<i64>) {
        for (uid, session) in &self.by_uid {
            // Charged only for what it will write: not its own messages.
            let bytes = batch.bytes_for(*uid);
            if bytes == 0 || too_slow.contains(uid) {
                continue;
            }
            let item = Outbound::Batch {
                batch: batch.clone(),
                bytes,
            };
            note_too_slow(*uid, session, session.outbox.push(item), too_slow);
        }
    }

    /// Queue one event for one account, if it is here (in a cluster it may be
    /// elsewhere); note it when it is too slow to take it.
    fn queue_to(&self, uid: i64, e: &Event, too_slow: &mut Vec<i64>) {
        let Some(session) = self.by_uid.get(&uid) else {
            return;
        };
        if too_slow.contains(&uid) {
            return;
        }
        let pushed = session.outbox.push(Outbound::Frames(e.frame.clone()));
        note_too_slow(uid, session, pushed, too_slow);
    }

    fn count(&self) {
        self.online.store(self.by_uid.len(), Ordering::Relaxed);
    }
}

/// A session whose outbox was full for what was pushed to it is too slow: note
/// it for removal. (`PushError::Closed`: the session is ending; its own leave
/// follows.)
fn note_too_slow(
    uid: i64,
    session: &SessionEntry,
    pushed: Result<(), PushError>,
    too_slow: &mut Vec<i64>,
) {
    if let Err(PushError::Full) = pushed {
        let (items, bytes) = session.outbox.queued();
        warn!(uid, items, bytes, "client too slow; disconnecting");
        metrics::counter!(crate::metrics::CLIENTS_DROPPED, "reason" => "queue_full").increment(1);
        too_slow.push(uid);
    }
}

/// Tell an old session a newer login replaced it, and close it.
fn close_replaced(old: &SessionEntry) {
    let frame = encode_event(&ServerMessage::SessionReplaced(SessionReplaced {}));
    let _ = old.outbox.push(Outbound::Frames(frame));
    let _ = old.outbox.push(Outbound::Close(CloseReason::Replaced));
}
