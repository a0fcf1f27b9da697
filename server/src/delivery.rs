//! What the server delivers to clients, and to whom: the one vocabulary that
//! sessions, the store, the games, the hub and (when there is one) the cluster
//! share for "this frame goes to these users".
//!
//! - [`Audience`]: who receives an event: everyone online but perhaps one
//!   account (the sender, who gets an acknowledgement instead), or only some
//!   accounts (group and direct messages, notices).
//! - [`Event`]: an encoded frame with its audience and, for a stored message,
//!   its id.
//! - [`Committed`] and [`Deliver`]: the store hands each committed batch to one
//!   `Deliver`. On a single node that is the hub itself; in a cluster it is a
//!   part that first puts the batches of every node in order. The store does
//!   not know which.
//!
//! This module knows nothing of sessions, the database or other nodes.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// Largest run of events handed to the hub at once, in bytes of frames, so
/// that one large batch never fills a reader's outbox budget by itself.
pub const MAX_PUBLISH_BYTES: usize = 1024 * 1024;

/// Who receives an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Everyone online; `except` (the sender of a room message, who is
    /// acknowledged instead) is left out.
    Everyone {
        /// The account left out, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        except: Option<i64>,
    },
    /// Only these accounts, wherever they are online.
    Only(Vec<i64>),
}

impl Audience {
    /// Everyone online.
    pub const EVERYONE: Self = Self::Everyone { except: None };

    /// Everyone online but `uid`.
    pub fn all_but(uid: i64) -> Self {
        Self::Everyone { except: Some(uid) }
    }

    /// Whether `uid` receives the event.
    pub fn includes(&self, uid: i64) -> bool {
        match self {
            Self::Everyone { except } => *except != Some(uid),
            Self::Only(uids) => uids.contains(&uid),
        }
    }

    /// The recipients of a direct message from `sender` to `peer`: the peer,
    /// or nobody for a note to oneself (the sender is acknowledged instead).
    pub fn direct(sender: i64, peer: i64) -> Self {
        Self::Only(if peer == sender {
            Vec::new()
        } else {
            vec![peer]
        })
    }
}

/// One event for clients: an encoded frame, shared by all its recipients.
#[derive(Debug, Clone)]
pub struct Event {
    /// The encoded frame (length prefix and JSON).
    pub frame: Bytes,
    /// The stored message id, when the event is a stored message (a session
    /// skips the ones its `login_ok` already carried).
    pub message_id: Option<i64>,
    /// Who receives it.
    pub to: Audience,
}

impl Event {
    /// An event that is not a stored message.
    pub fn new(frame: Bytes, to: Audience) -> Self {
        Self {
            frame,
            message_id: None,
            to,
        }
    }
}

/// A conversation: what has one order of its messages. Ids grow within each
/// conversation; across conversations they are only unique.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Conversation {
    /// The main room (its announcements included).
    Room,
    /// One group.
    Group(i64),
    /// The direct messages between two users, the lower id first (the same
    /// twice for notes to oneself).
    Direct(i64, i64),
}

impl Conversation {
    /// The direct messages between `a` and `b`, either way.
    pub fn direct(a: i64, b: i64) -> Self {
        Self::Direct(a.min(b), a.max(b))
    }
}

/// The messages of one conversation in a committed batch, and where they
/// follow on: a cluster node delivers them once it has delivered `prev`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thread {
    /// The conversation.
    pub conversation: Conversation,
    /// Its newest message before this batch (0 when the store does not know:
    /// a single node, which orders by committing alone).
    pub prev: i64,
    /// The ids the batch stored in it, ascending.
    pub ids: Vec<i64>,
}

impl Thread {
    /// Stored ids with their conversations, in id order, as one thread per
    /// conversation (in order of first appearance), each following `prev(c)`.
    pub fn group(
        ids: impl IntoIterator<Item = (Conversation, i64)>,
        prev: impl Fn(Conversation) -> i64,
    ) -> Vec<Self> {
        let mut threads: Vec<Self> = Vec::new();
        let mut index: std::collections::HashMap<Conversation, usize> = Default::default();
        for (c, id) in ids {
            match index.get(&c) {
                Some(&i) => threads[i].ids.push(id),
                None => {
                    index.insert(c, threads.len());
                    threads.push(Self {
                        conversation: c,
                        prev: prev(c),
                        ids: vec![id],
                    });
                }
            }
        }
        threads
    }
}

/// A committed batch of the store: message ids within `first..=last`, the
/// events of the messages it stored, in id order (a retried message that was
/// stored before has none), and per conversation which ids are its.
#[derive(Debug, Clone)]
pub struct Committed {
    /// The lowest id.
    pub first: i64,
    /// The highest id.
    pub last: i64,
    /// The events, in id order.
    pub events: Vec<Event>,
    /// The batch's conversations, each with its ids.
    pub threads: Vec<Thread>,
}

/// A future a [`Deliver`] returns.
pub type Delivering<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Where the store hands its committed batches, after their senders were
/// acknowledged. It is the seam between the store and whatever delivers: the
/// local hub on one node, the cluster's ordering on several.
pub trait Deliver: Send + Sync + 'static {
    /// Deliver a committed batch (waiting while the deliverer is behind).
    fn deliver(&self, batch: Committed) -> Delivering<'_>;
}

/// Cut events, in order, into runs of about `max_bytes` of frames each (a run
/// ends with the frame that reaches the limit).
pub fn runs(events: Vec<Event>, max_bytes: usize) -> Vec<Vec<Event>> {
    let mut out = Vec::new();
    let mut run = Vec::new();
    let mut bytes = 0;
    for e in events {
        bytes += e.frame.len();
        run.push(e);
        if bytes >= max_bytes {
            out.push(std::mem::take(&mut run));
            bytes = 0;
        }
    }
    if !run.is_empty() {
        out.push(run);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(n: usize) -> Event {
        Event::new(Bytes::from(vec![b'x'; n]), Audience::EVERYONE)
    }

    #[test]
    fn runs_keep_order_and_stay_near_the_limit() {
        let sizes = [400, 400, 400, 100, 900, 50];
        let cut = runs(sizes.iter().map(|&n| event(n)).collect(), 1000);
        let lens: Vec<Vec<usize>> = cut
            .iter()
            .map(|s| s.iter().map(|d| d.frame.len()).collect())
            .collect();
        assert_eq!(lens, vec![vec![400, 400, 400], vec![100, 900], vec![50]]);
        assert!(runs(Vec::new(), 1000).is_empty());
    }

    #[test]
    fn an_audience_says_who_is_in_it() {
        assert!(Audience::EVERYONE.includes(7));
        assert!(!Audience::all_but(7).includes(7));
        assert!(Audience::all_but(7).includes(8));
        assert!(Audience::Only(vec![1, 2]).includes(2));
        assert!(!Audience::Only(vec![1, 2]).includes(3));
        assert_eq!(Audience::direct(1, 1), Audience::Only(Vec::new()));
        assert_eq!(Audience::direct(1, 2), Audience::Only(vec![2]));
    }

    #[test]
    fn an_audience_crosses_the_wire_as_json() {
        for a in [
            Audience::EVERYONE,
            Audience::all_but(3),
            Audience::Only(vec![1, 2]),
        ] {
            let json = serde_json::to_string(&a).unwrap();
            assert_eq!(serde_json::from_str::<Audience>(&json).unwrap(), a);
        }
    }
}
