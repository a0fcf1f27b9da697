//! Recognising retried messages.
//!
//! A client gives every chat message an id of its own and sends it again with
//! the same id when it never saw the `say_ok` (its connection dropped). The
//! writer remembers, for the last [`CAPACITY`] stored messages, each sender's
//! client message id with the message's id, time and a fingerprint of its
//! content (the conversation and the text). A message whose (sender, client id)
//! is remembered is a retry when its content matches: it is acknowledged with
//! the original id and not stored again. When the content differs it is not a
//! retry but an id used twice (a client restarted with a counter that began
//! again): it is refused with `message_id_reused`, never acknowledged as if it
//! were stored.

use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};

use chatroom_shared::UnixMillis;
use sea_orm::{ConnectionTrait, DbErr};

use crate::db::history;

/// How many (sender, client message id) pairs the writer remembers.
pub const CAPACITY: usize = 65_536;

/// Rows read at a time when the memory is loaded at start.
const LOAD_PAGE: u64 = 4_096;

/// What a chat message's content (conversation and text) hashes to: two
/// messages with one id are the same message when their fingerprints match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint(u64);

impl Fingerprint {
    /// The fingerprint of a message with this text to this conversation
    /// (`chat_history.target_kind`, `target_id`).
    pub fn of(kind: history::TargetKind, target: i64, text: &str) -> Self {
        // SipHash with fixed keys: the same value for the same content in this
        // process, which is all it is compared within (the memory is rebuilt
        // from the database at every start). 64 bits: two different messages
        // under one id collide once in 2^64.
        let mut h = std::hash::DefaultHasher::new();
        kind.code().hash(&mut h);
        target.hash(&mut h);
        text.hash(&mut h);
        Self(h.finish())
    }
}

/// A stored message, as a retry of it is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Original {
    /// Its message id.
    pub id: i64,
    /// When it was stored.
    pub ts: UnixMillis,
    /// Its content.
    pub fingerprint: Fingerprint,
}

/// The key a message is remembered by: sender and client message id.
pub type Key = (i64, String);

/// The writer's memory of recent client message ids, bounded to [`CAPACITY`].
#[derive(Default)]
pub struct Dedup {
    map: HashMap<Key, Original>,
    order: VecDeque<Key>,
}

impl Dedup {
    /// The memory of the newest [`CAPACITY`] messages stored with a client id,
    /// read from the database page by page (the texts are only hashed).
    pub async fn load(db: &impl ConnectionTrait) -> Result<Self, DbErr> {
        let mut rows = Vec::new();
        let mut below = None;
        while rows.len() < CAPACITY {
            let want = LOAD_PAGE.min((CAPACITY - rows.len()) as u64);
            let page = history::recent_client_messages(db, below, want).await?;
            let Some(last) = page.last() else { break };
            below = Some(last.id);
            let short = (page.len() as u64) < want;
            rows.extend(page.into_iter().map(|m| {
                let original = Original {
                    id: m.id,
                    ts: m.ts,
                    fingerprint: Fingerprint::of(m.target_kind, m.target_id, &m.text),
                };
                ((m.uid, m.client_id), original)
            }));
            if short {
                break;
            }
        }
        let mut dedup = Self::default();
        // Oldest first, so the oldest are the first forgotten.
        for (key, original) in rows.into_iter().rev() {
            dedup.insert(key, original);
        }
        Ok(dedup)
    }

    /// The stored message remembered under `key`.
    pub fn get(&self, key: &Key) -> Option<Original> {
        self.map.get(key).copied()
    }

    /// Remember a stored message, forgetting the oldest beyond [`CAPACITY`].
    pub fn insert(&mut self, key: Key, original: Original) {
        if self.map.insert(key.clone(), original).is_none() {
            self.order.push_back(key);
            while self.order.len() > CAPACITY {
                if let Some(old) = self.order.pop_front() {
                    self.map.remove(&old);
                }
            }
        }
    }
}

/// Client ids of messages the writer gave up after a failed commit that may
/// have stored them after all (the connection broke during COMMIT): a message
/// sent again under one of them is looked up in the database before it is
/// stored, so it is never stored twice. Bounded to [`CAPACITY`], oldest out.
#[derive(Default)]
pub struct Uncertain {
    set: std::collections::HashSet<Key>,
    order: VecDeque<Key>,
}

impl Uncertain {
    /// Whether `key` was given up after a failure.
    pub fn contains(&self, key: &Key) -> bool {
        self.set.contains(key)
    }

    /// Note a given-up message.
    pub fn insert(&mut self, key: Key) {
        if self.set.insert(key.clone()) {
            self.order.push_back(key);
            while self.order.len() > CAPACITY {
                if let Some(old) = self.order.pop_front() {
                    self.set.remove(&old);
                }
            }
        }
    }

    /// The database has answered for `key`: nothing is uncertain about it now.
    pub fn remove(&mut self, key: &Key) {
        if self.set.remove(key) {
            self.order.retain(|k| k != key);
        }
    }
}

/// What a chat message turns out to be against what is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// New: store it.
    New,
    /// A retry of a message stored earlier: acknowledge with its id and time.
    Stored(i64, UnixMillis),
    /// A retry of a message stored by an earlier step of the same batch.
    InBatch(usize),
    /// The id was used for another message: refuse it.
    Reused,
}

impl Seen {
    /// Compare a message with the one stored under its key.
    pub fn against(original: Original, fingerprint: Fingerprint) -> Self {
        if original.fingerprint == fingerprint {
            Self::Stored(original.id, original.ts)
        } else {
            Self::Reused
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn original(id: i64, text: &str) -> Original {
        Original {
            id,
            ts: id * 10,
            fingerprint: Fingerprint::of(history::TargetKind::Room, 0, text),
        }
    }

    #[test]
    fn same_content_is_a_retry_other_content_is_a_reuse() {
        let o = original(7, "hello");
        assert_eq!(
            Seen::against(o, Fingerprint::of(history::TargetKind::Room, 0, "hello")),
            Seen::Stored(7, 70)
        );
        assert_eq!(
            Seen::against(o, Fingerprint::of(history::TargetKind::Room, 0, "hello!")),
            Seen::Reused
        );
        // The same text to another conversation is another message.
        assert_eq!(
            Seen::against(o, Fingerprint::of(history::TargetKind::User, 0, "hello")),
            Seen::Reused
        );
        assert_eq!(
            Seen::against(o, Fingerprint::of(history::TargetKind::Room, 5, "hello")),
            Seen::Reused
        );
    }

    #[test]
    fn memory_forgets_the_oldest_beyond_capacity() {
        let mut d = Dedup::default();
        for i in 0..=CAPACITY as i64 {
            d.insert((1, format!("c{i}")), original(i, "t"));
        }
        assert!(d.get(&(1, "c0".into())).is_none());
        assert_eq!(d.get(&(1, "c1".into())).map(|o| o.id), Some(1));
        let last = format!("c{CAPACITY}");
        assert_eq!(d.get(&(1, last)).map(|o| o.id), Some(CAPACITY as i64));
    }
}
