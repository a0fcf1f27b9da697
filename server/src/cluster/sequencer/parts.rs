//! A committed batch as NATS messages and back.
//!
//! NATS refuses messages over its `max_payload` (1 MiB by default), so a large
//! batch crosses as parts of about [`MAX_WIRE_BYTES`] of frames, each covering
//! an ascending run of its ids. Each part carries its share of every
//! conversation, following on from the part before, so the parts can be
//! delivered as they come.

use std::collections::HashMap;

use chatroom_shared::UnixMillis;

use crate::cluster::wire::{StoredBatch, WireEvent};
use crate::delivery::{Committed, Conversation, Thread};

/// Frames per NATS message of a stored batch, at most (plus one frame).
pub const MAX_WIRE_BYTES: usize = 256 * 1024;

/// A received part as a batch to order.
pub fn from_wire(batch: StoredBatch) -> Committed {
    Committed {
        first: batch.first,
        last: batch.last,
        events: batch
            .events
            .into_iter()
            .map(WireEvent::into_event)
            .collect(),
        threads: batch.threads,
    }
}

/// The batch as parts of about `max_bytes` of frames, numbered from `seq`.
pub fn to_wire(
    batch: &Committed,
    started: UnixMillis,
    seq: u64,
    max_bytes: usize,
) -> Vec<StoredBatch> {
    let conversation_of: HashMap<i64, Conversation> = batch
        .threads
        .iter()
        .flat_map(|t| t.ids.iter().map(|&id| (id, t.conversation)))
        .collect();
    let mut prev: HashMap<Conversation, i64> = batch
        .threads
        .iter()
        .map(|t| (t.conversation, t.prev))
        .collect();
    let mut out = Vec::new();
    let mut events = Vec::new();
    let mut ids: Vec<i64> = Vec::new();
    let mut bytes = 0;
    let mut first = batch.first;
    let flush = |events: &mut Vec<WireEvent>,
                 ids: &mut Vec<i64>,
                 prev: &mut HashMap<Conversation, i64>,
                 first: i64,
                 last: i64,
                 out: &mut Vec<StoredBatch>| {
        let threads = Thread::group(
            ids.iter()
                .filter_map(|&id| Some((*conversation_of.get(&id)?, id))),
            |c| prev.get(&c).copied().unwrap_or(0),
        );
        for t in &threads {
            if let Some(&newest) = t.ids.last() {
                prev.insert(t.conversation, newest);
            }
        }
        out.push(StoredBatch {
            started,
            seq: seq + out.len() as u64,
            first,
            last,
            events: std::mem::take(events),
            threads,
        });
        ids.clear();
    };
    for e in &batch.events {
        let Some(wire) = WireEvent::from_event(e) else {
            continue;
        };
        bytes += e.frame.len();
        events.push(wire);
        if let Some(id) = e.message_id {
            ids.push(id);
            if bytes >= max_bytes && id < batch.last {
                flush(&mut events, &mut ids, &mut prev, first, id, &mut out);
                first = id + 1;
                bytes = 0;
            }
        }
    }
    flush(
        &mut events,
        &mut ids,
        &mut prev,
        first,
        batch.last,
        &mut out,
    );
    out
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use chatroom_shared::message::{Announcement, ServerMessage};

    use super::*;
    use crate::cluster::sequencer::order::Order;
    use crate::delivery::{Audience, Event};

    #[test]
    fn a_large_batch_crosses_in_parts_that_follow_on() {
        let frame = crate::outbox::encode_event(&ServerMessage::Announcement(Announcement {
            id: 0,
            ts: 0,
            text: "x".repeat(1000 / 3),
        }));
        let ids: Vec<i64> = (1..=10).collect();
        let room: Vec<i64> = ids.iter().copied().filter(|i| i % 2 == 1).collect();
        let group: Vec<i64> = ids.iter().copied().filter(|i| i % 2 == 0).collect();
        let batch = Committed {
            first: 1,
            last: 10,
            events: ids
                .iter()
                .map(|&id| Event {
                    frame: frame.clone(),
                    message_id: Some(id),
                    to: Audience::EVERYONE,
                })
                .collect(),
            threads: vec![
                Thread {
                    conversation: Conversation::Room,
                    prev: 0,
                    ids: room,
                },
                Thread {
                    conversation: Conversation::Group(4),
                    prev: 0,
                    ids: group,
                },
            ],
        };
        let parts = to_wire(&batch, 77, 5, frame.len() * 3);
        let shape: Vec<_> = parts
            .iter()
            .map(|p| (p.seq, p.first, p.last, p.events.len()))
            .collect();
        assert_eq!(
            shape,
            [(5, 1, 3, 3), (6, 4, 6, 3), (7, 7, 9, 3), (8, 10, 10, 1)]
        );
        assert!(parts.iter().all(|p| p.started == 77));
        // The second part's room messages follow the first part's.
        let room_of_second = parts[1]
            .threads
            .iter()
            .find(|t| t.conversation == Conversation::Room)
            .unwrap();
        assert_eq!(
            (room_of_second.prev, room_of_second.ids.clone()),
            (3, vec![5])
        );
        // Received in any order, they deliver everything once, in order.
        let mut o = Order::new(0);
        let mut got = Vec::new();
        for p in parts.into_iter().rev() {
            for b in o.take(from_wire(p)) {
                got.extend(b.events.iter().filter_map(|e| e.message_id));
            }
        }
        assert_eq!(got, ids);
    }

    #[test]
    fn a_small_batch_is_one_part() {
        let batch = Committed {
            first: 3,
            last: 3,
            events: vec![Event {
                frame: Bytes::from_static(b"\0\0\0\x02{}"),
                message_id: Some(3),
                to: Audience::EVERYONE,
            }],
            threads: vec![Thread {
                conversation: Conversation::Room,
                prev: 2,
                ids: vec![3],
            }],
        };
        let parts = to_wire(&batch, 1, 1, MAX_WIRE_BYTES);
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].threads, batch.threads);
    }
}
