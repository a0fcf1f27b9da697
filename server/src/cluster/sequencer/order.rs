//! The ordering rule alone, without IO: which committed batches may be
//! delivered now.
//!
//! Each batch says, for every conversation it holds, the id its messages
//! follow (`prev`: that conversation's newest message before the batch). A
//! batch is delivered once every such `prev` has been delivered here, so each
//! conversation's messages reach this node's sessions in id order, whatever
//! order the batches of several nodes arrive in. Batches for different
//! conversations never wait for each other.
//!
//! What is not known is filled from the database: [`Order::gaps`] lists the
//! messages a waiting batch needs, and the read-back batch the task makes of
//! them follows on from what was delivered, so it passes at once. Messages
//! delivered twice (read back, then arriving late after all) are dropped.

use std::collections::{HashMap, HashSet};

use tracing::debug;

use crate::delivery::{Committed, Conversation};

/// Conversations remembered at most; past that, the half delivered longest
/// ago are forgotten (see [`Order::forget_oldest`]).
pub const MAX_CONVERSATIONS: usize = 100_000;

/// Messages one conversation is missing: ids in `after+1..=upto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// The conversation.
    pub conversation: Conversation,
    /// Delivered up to here.
    pub after: i64,
    /// Needed up to here (a waiting batch follows on from it).
    pub upto: i64,
}

/// What has been delivered, per conversation, and what waits.
#[derive(Debug)]
pub struct Order {
    /// Per conversation, the newest id delivered here.
    delivered: HashMap<Conversation, i64>,
    /// For a conversation not in `delivered`: everything up to here counts
    /// as delivered (ids stored before this node started, or forgotten).
    floor: i64,
    /// Batches that follow on from messages not delivered yet, in arrival order.
    waiting: Vec<Committed>,
}

impl Order {
    /// Ordering for a node that starts when ids up to `floor` are stored.
    pub fn new(floor: i64) -> Self {
        Self {
            delivered: HashMap::new(),
            floor,
            waiting: Vec::new(),
        }
    }

    /// The newest id delivered in `c` (or the floor).
    pub fn delivered(&self, c: Conversation) -> i64 {
        self.delivered.get(&c).copied().unwrap_or(self.floor)
    }

    fn ready(&self, b: &Committed) -> bool {
        b.threads
            .iter()
            .all(|t| t.prev <= self.delivered(t.conversation))
    }

    /// Take a batch; returns the batches to deliver now, in order.
    pub fn take(&mut self, batch: Committed) -> Vec<Committed> {
        if !self.ready(&batch) {
            self.waiting.push(batch);
            return Vec::new();
        }
        let mut ready = vec![self.mark(batch)];
        // What waited may follow on now; and what follows on from that.
        while let Some(i) = self.waiting.iter().position(|b| self.ready(b)) {
            let b = self.waiting.remove(i);
            ready.push(self.mark(b));
        }
        ready.retain(|b| !b.events.is_empty());
        if self.delivered.len() > MAX_CONVERSATIONS {
            self.forget_oldest();
        }
        ready
    }

    /// A ready batch: leave out what was delivered before, note what it delivers.
    fn mark(&mut self, mut batch: Committed) -> Committed {
        let mut skip: HashSet<i64> = HashSet::new();
        for t in &batch.threads {
            // A conversation first seen here is new from the floor on, its
            // messages all undelivered (a batch committed while this node
            // started may hold ids below the floor).
            if let Some(&done) = self.delivered.get(&t.conversation) {
                skip.extend(t.ids.iter().copied().filter(|&id| id <= done));
            }
        }
        if !skip.is_empty() {
            debug!(count = skip.len(), "messages already delivered left out");
            batch
                .events
                .retain(|e| e.message_id.is_none_or(|id| !skip.contains(&id)));
        }
        for t in &batch.threads {
            if let Some(&newest) = t.ids.last() {
                let d = self.delivered.entry(t.conversation).or_insert(newest);
                *d = (*d).max(newest);
            }
        }
        batch
    }

    /// Whether batches wait for messages not delivered yet.
    pub fn is_waiting(&self) -> bool {
        !self.waiting.is_empty()
    }

    /// The messages the waiting batches need, one gap per conversation.
    pub fn gaps(&self) -> Vec<Gap> {
        let mut need: HashMap<Conversation, i64> = HashMap::new();
        for b in &self.waiting {
            for t in &b.threads {
                if t.prev > self.delivered(t.conversation) {
                    let upto = need.entry(t.conversation).or_insert(t.prev);
                    *upto = (*upto).max(t.prev);
                }
            }
        }
        let mut gaps: Vec<Gap> = need
            .into_iter()
            .map(|(conversation, upto)| Gap {
                conversation,
                after: self.delivered(conversation),
                upto,
            })
            .collect();
        gaps.sort_unstable_by_key(|g| g.conversation);
        gaps
    }

    /// Forget the half of the conversations delivered longest ago: the floor
    /// rises to the newest id among them, so they still count as delivered
    /// up to there. Memory stays bounded however many pairs of users write.
    fn forget_oldest(&mut self) {
        let mut ids: Vec<i64> = self.delivered.values().copied().collect();
        let mid = ids.len() / 2;
        let (_, &mut median, _) = ids.select_nth_unstable(mid);
        self.floor = self.floor.max(median);
        self.delivered.retain(|_, &mut id| id > median);
        debug!(
            floor = self.floor,
            remembered = self.delivered.len(),
            "forgot the conversations delivered longest ago"
        );
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::delivery::{Audience, Event, Thread};

    const ROOM: Conversation = Conversation::Room;
    const G: Conversation = Conversation::Group(1);

    /// A batch of messages in conversations, each `(conversation, prev, ids)`.
    fn batch(threads: &[(Conversation, i64, &[i64])]) -> Committed {
        let mut ids: Vec<i64> = threads.iter().flat_map(|t| t.2.iter().copied()).collect();
        ids.sort_unstable();
        Committed {
            first: ids[0],
            last: *ids.last().unwrap(),
            events: ids
                .iter()
                .map(|&id| Event {
                    frame: Bytes::new(),
                    message_id: Some(id),
                    to: Audience::EVERYONE,
                })
                .collect(),
            threads: threads
                .iter()
                .map(|&(conversation, prev, ids)| Thread {
                    conversation,
                    prev,
                    ids: ids.to_vec(),
                })
                .collect(),
        }
    }

    fn ids(ready: &[Committed]) -> Vec<i64> {
        ready
            .iter()
            .flat_map(|b| b.events.iter().filter_map(|e| e.message_id))
            .collect()
    }

    #[test]
    fn batches_that_follow_on_pass_at_once() {
        let mut o = Order::new(0);
        assert_eq!(ids(&o.take(batch(&[(ROOM, 0, &[1, 2])]))), [1, 2]);
        assert_eq!(ids(&o.take(batch(&[(ROOM, 2, &[5])]))), [5]);
        assert!(o.gaps().is_empty());
    }

    #[test]
    fn a_batch_waits_for_its_conversation_only() {
        let mut o = Order::new(0);
        // Room message 4 follows 3, not here yet; the group goes on meanwhile.
        assert!(o.take(batch(&[(ROOM, 3, &[4])])).is_empty());
        assert_eq!(ids(&o.take(batch(&[(G, 0, &[5])]))), [5]);
        assert_eq!(
            o.gaps(),
            [Gap {
                conversation: ROOM,
                after: 0,
                upto: 3
            }]
        );
        assert_eq!(ids(&o.take(batch(&[(ROOM, 0, &[3])]))), [3, 4]);
        assert!(!o.is_waiting());
    }

    #[test]
    fn a_batch_of_two_conversations_waits_for_both() {
        let mut o = Order::new(0);
        assert!(o.take(batch(&[(ROOM, 1, &[3]), (G, 2, &[4])])).is_empty());
        assert_eq!(ids(&o.take(batch(&[(ROOM, 0, &[1])]))), [1]);
        assert!(o.is_waiting());
        assert_eq!(ids(&o.take(batch(&[(G, 0, &[2])]))), [2, 3, 4]);
    }

    #[test]
    fn nothing_is_delivered_twice() {
        let mut o = Order::new(0);
        // Read back from the database first, the original arriving late.
        assert_eq!(ids(&o.take(batch(&[(ROOM, 0, &[1, 2, 3])]))), [1, 2, 3]);
        assert!(o.take(batch(&[(ROOM, 0, &[1, 2])])).is_empty());
        // Overlapping what was delivered: only the new ids.
        assert_eq!(ids(&o.take(batch(&[(ROOM, 2, &[3, 4])]))), [4]);
    }

    #[test]
    fn a_conversation_first_seen_follows_on_from_the_floor() {
        let mut o = Order::new(100);
        // Stored before this node started: nothing to wait for.
        assert_eq!(ids(&o.take(batch(&[(G, 90, &[99])]))), [99]);
        // Newer than the floor: the messages in between are needed.
        assert!(o.take(batch(&[(ROOM, 105, &[107])])).is_empty());
        assert_eq!(
            o.gaps(),
            [Gap {
                conversation: ROOM,
                after: 100,
                upto: 105
            }]
        );
    }

    #[test]
    fn forgotten_conversations_count_as_delivered_up_to_the_floor() {
        let mut o = Order::new(0);
        for g in 0..=MAX_CONVERSATIONS as i64 {
            o.take(batch(&[(Conversation::Group(g), 0, &[g + 1])]));
        }
        assert!(o.delivered.len() <= MAX_CONVERSATIONS / 2 + 1);
        assert!(o.floor >= MAX_CONVERSATIONS as i64 / 2);
        // An old conversation goes on without waiting; a recent one is remembered.
        let next = MAX_CONVERSATIONS as i64 + 10;
        assert_eq!(
            ids(&o.take(batch(&[(Conversation::Group(3), 4, &[next])]))),
            [next]
        );
        assert_eq!(
            o.delivered(Conversation::Group(MAX_CONVERSATIONS as i64)),
            MAX_CONVERSATIONS as i64 + 1
        );
    }
}
