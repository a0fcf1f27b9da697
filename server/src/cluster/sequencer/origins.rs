//! Which batches of the other nodes went missing, without IO.
//!
//! Every node numbers the batches it publishes (`seq`, from 1 each time it
//! starts) and says every heartbeat how far it got ([`Tail`]). One node's
//! batches take ever higher ids, so the batches missing between two that
//! arrived hold ids between theirs, and those missing before a tail hold ids
//! up to the tail's `last`. A node that goes silent (it died, perhaps between
//! a commit and its publication) may have committed anything above the last
//! id heard from it. Each answer is a range of ids to read back from the
//! database; the messages found there are delivered per conversation.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chatroom_shared::UnixMillis;

use crate::cluster::wire::Tail;

/// How long a silent node's entry is kept, in timeouts: meanwhile what is
/// stored is read back every heartbeat; a node that comes back is followed on
/// from there.
const FORGET_AFTER: u32 = 60;

/// Ids below the last one read back that are read again while a node is
/// silent: a batch that took its ids before another committed may commit
/// after it.
const LOOKBACK: i64 = 4096;

/// Ids to read back: `after+1..=upto` (`upto` `None`: up to the newest stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Missing {
    /// Heard up to here.
    pub after: i64,
    /// Missing up to here.
    pub upto: Option<i64>,
}

#[derive(Debug)]
struct Heard {
    seq: u64,
    last: i64,
    at: Instant,
    /// Its messages were read back after it went silent.
    silent: bool,
}

/// What was heard from each run of each other node.
#[derive(Debug)]
pub struct Origins {
    heard: HashMap<(String, UnixMillis), Heard>,
    /// Ids stored when this node started: a node first heard of is followed
    /// on from here.
    floor: i64,
}

impl Origins {
    /// For a node that starts when ids up to `floor` are stored.
    pub fn new(floor: i64) -> Self {
        Self {
            heard: HashMap::new(),
            floor,
        }
    }

    fn entry(&mut self, node: &str, started: UnixMillis, now: Instant) -> &mut Heard {
        let floor = self.floor;
        self.heard
            .entry((node.to_owned(), started))
            .or_insert(Heard {
                seq: 0,
                last: floor,
                at: now,
                silent: false,
            })
    }

    /// Batch `seq` of `node` arrived, holding ids `first..=last`: batches
    /// skipped before it hold ids below `first`.
    pub fn batch(&mut self, node: &str, tail: Tail, first: i64, now: Instant) -> Option<Missing> {
        self.heard(node, tail, now, |h| {
            (tail.seq > h.seq + 1).then_some(first - 1)
        })
    }

    /// `node` says how far its batches go: those not received hold ids up to
    /// its `last`.
    pub fn tail(&mut self, node: &str, tail: Tail, now: Instant) -> Option<Missing> {
        self.heard(node, tail, now, |_| Some(tail.last))
    }

    /// Note `tail` from `node`; when it is news, the ids above what was heard
    /// and up to `missing_upto` (if any) are missing.
    fn heard(
        &mut self,
        node: &str,
        tail: Tail,
        now: Instant,
        missing_upto: impl FnOnce(&Heard) -> Option<i64>,
    ) -> Option<Missing> {
        let h = self.entry(node, tail.started, now);
        h.at = now;
        h.silent = false;
        if tail.seq <= h.seq {
            return None;
        }
        let missing = missing_upto(h)
            .filter(|&upto| upto > h.last)
            .map(|upto| Missing {
                after: h.last,
                upto: Some(upto),
            });
        h.seq = tail.seq;
        h.last = h.last.max(tail.last);
        missing
    }

    /// While some node is not heard from within `timeout` (it died, or NATS
    /// is down), everything stored above the last id read back for it may be
    /// its: the range to read this turn (the ids a little below too, which a
    /// writer may have committed late). Entries silent for long are dropped.
    pub fn silent(&mut self, now: Instant, timeout: Duration) -> Option<Missing> {
        let mut after: Option<i64> = None;
        for h in self.heard.values_mut() {
            if now.saturating_duration_since(h.at) > timeout {
                h.silent = true;
                after = Some(after.map_or(h.last, |a| a.min(h.last)));
            }
        }
        self.heard
            .retain(|_, h| now.saturating_duration_since(h.at) <= timeout * FORGET_AFTER);
        after.map(|after| Missing {
            after: (after - LOOKBACK).max(0),
            upto: None,
        })
    }

    /// Messages up to `upto` were read back: a silent node's next batch
    /// follows on from there.
    pub fn read_back_to(&mut self, upto: i64) {
        for h in self.heard.values_mut().filter(|h| h.silent) {
            h.last = h.last.max(upto);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(seq: u64, last: i64) -> Tail {
        Tail {
            started: 1,
            seq,
            last,
        }
    }

    #[test]
    fn batches_in_sequence_miss_nothing() {
        let now = Instant::now();
        let mut o = Origins::new(10);
        assert_eq!(o.batch("n1", t(1, 12), 11, now), None);
        assert_eq!(o.batch("n1", t(2, 20), 15, now), None);
        assert_eq!(o.tail("n1", t(2, 20), now), None);
    }

    #[test]
    fn a_skipped_number_is_read_back_between_its_neighbours() {
        let now = Instant::now();
        let mut o = Origins::new(10);
        assert_eq!(o.batch("n1", t(1, 12), 11, now), None);
        assert_eq!(
            o.batch("n1", t(3, 30), 25, now),
            Some(Missing {
                after: 12,
                upto: Some(24)
            })
        );
        // A late duplicate changes nothing.
        assert_eq!(o.batch("n1", t(2, 20), 15, now), None);
    }

    #[test]
    fn a_tail_past_the_last_batch_heard_is_read_back() {
        let now = Instant::now();
        let mut o = Origins::new(10);
        assert_eq!(o.batch("n1", t(1, 12), 11, now), None);
        assert_eq!(
            o.tail("n1", t(2, 18), now),
            Some(Missing {
                after: 12,
                upto: Some(18)
            })
        );
        assert_eq!(o.tail("n1", t(2, 18), now), None);
        // A node first heard of by its tail: from this node's start on.
        assert_eq!(
            o.tail("n2", t(5, 40), now),
            Some(Missing {
                after: 10,
                upto: Some(40)
            })
        );
        // Another run of n1 counts from 1 again.
        let again = Tail {
            started: 2,
            seq: 1,
            last: 50,
        };
        assert_eq!(o.batch("n1", again, 45, now), None);
    }

    #[test]
    fn a_silent_node_is_read_back_every_turn_then_followed_on() {
        let start = Instant::now();
        let timeout = Duration::from_secs(5);
        let mut o = Origins::new(0);
        o.batch("n1", t(1, 7), 5, start);
        o.tail("n2", t(0, 0), start);
        assert_eq!(o.silent(start + Duration::from_secs(1), timeout), None);
        let later = start + Duration::from_secs(6);
        let first = o.silent(later, timeout).unwrap();
        assert_eq!(
            first,
            Missing {
                after: 0,
                upto: None
            }
        );
        o.read_back_to(LOOKBACK + 30);
        // Still silent: read again from what was read, a little below.
        assert_eq!(
            o.silent(later, timeout),
            Some(Missing {
                after: 30,
                upto: None
            })
        );
        // It comes back: the ids read back are not missing.
        assert_eq!(o.tail("n1", t(2, LOOKBACK + 30), later), None);
        assert_eq!(o.tail("n2", t(1, LOOKBACK + 30), later), None);
        assert_eq!(o.silent(later, timeout), None);
        // Long silent: forgotten.
        o.silent(later + timeout * (FORGET_AFTER + 1), timeout);
        assert!(o.heard.is_empty());
    }
}
