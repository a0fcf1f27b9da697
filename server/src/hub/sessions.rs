//! This node's sessions: the table of who is logged in here, and the fan-out
//! of events to their outboxes.
//!
//! The table never waits on a session: a full outbox means the client is not
//! reading, and the session is dropped from the table (which closes its end of
//! the outbox) instead of letting it grow memory or slow anybody else. Whoever
//! owns the table (the hub task) tells the others about the sessions dropped.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chatroom_shared::UnixMillis;
use chatroom_shared::message::{
    Kicked, LeaveReason, OnlineUser, ServerMessage, SessionReplaced, UserJoined, UserLeft,
};
use tracing::warn;

use super::SessionEntry;
use crate::delivery::{Audience, Event};
use crate::outbox::{Batch, CloseReason, Outbound, PushError, encode_event};
use crate::time::now_ms;

/// The sessions logged in on this node.
#[derive(Debug, Default)]
pub struct Sessions {
    by_uid: HashMap<i64, SessionEntry>,
    /// Login order, for a stable online list.
    order: Vec<i64>,
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

    /// The sessions here in login order.
    pub fn in_login_order(&self) -> impl Iterator<Item = &SessionEntry> {
        self.order.iter().filter_map(|uid| self.by_uid.get(uid))
    }

    /// The users here whose names come after `after`, by name (lazily: the
    /// caller takes a page).
    pub fn users_after<'a>(
        &'a self,
        after: Option<&'a str>,
    ) -> impl Iterator<Item = OnlineUser> + 'a {
        use std::ops::Bound::{Excluded, Unbounded};
        let from = after.map_or(Unbounded, Excluded);
        self.by_name
            .range::<str, _>((from, Unbounded))
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
                self.order.push(uid);
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
        self.order.retain(|&u| u != uid);
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
            if let Err(PushError::Full) = session.outbox.push(item) {
                let (items, bytes) = session.outbox.queued();
                warn!(uid, items, bytes, "client too slow; disconnecting");
                too_slow.push(*uid);
            }
            // PushError::Closed: the session is ending; its own leave follows.
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
        if let Err(PushError::Full) = session.outbox.push(Outbound::Frames(e.frame.clone())) {
            let (items, bytes) = session.outbox.queued();
            warn!(uid, items, bytes, "client too slow; disconnecting");
            too_slow.push(uid);
        }
    }

    fn count(&self) {
        self.online.store(self.by_uid.len(), Ordering::Relaxed);
    }
}

/// Tell an old session a newer login replaced it, and close it.
fn close_replaced(old: &SessionEntry) {
    let frame = encode_event(&ServerMessage::SessionReplaced(SessionReplaced {}));
    let _ = old.outbox.push(Outbound::Frames(frame));
    let _ = old.outbox.push(Outbound::Close(CloseReason::Replaced));
}

/// The `user_joined` notice of `name`, for everyone but `except`.
pub fn joined(name: String, ts: UnixMillis, except: Option<i64>) -> Event {
    Event::new(
        encode_event(&ServerMessage::UserJoined(UserJoined { name, ts })),
        Audience::Everyone { except },
    )
}

/// The `user_left` notice of `name`, for everyone.
pub fn left(name: String, reason: LeaveReason) -> Event {
    Event::new(
        encode_event(&ServerMessage::UserLeft(UserLeft {
            name,
            reason,
            ts: now_ms(),
        })),
        Audience::EVERYONE,
    )
}
