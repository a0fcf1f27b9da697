//! One order per conversation across cluster nodes, under concurrent writers: what users
//! see now that each conversation commits under its own clock and different
//! conversations commit at the same time on every node (issue 17 §3).
//!
//! Three users on each of two nodes write at the same moment to the main room, to a
//! group all six are in, and to direct messages between pairs that span the nodes.
//! Then, per conversation: every acknowledged message reaches every other member
//! exactly once and nothing else arrives; ids grow in the order each client receives
//! them; every client, on either node, sees the conversation's one order (its
//! history); and the history, read through each node, lists exactly the acknowledged
//! messages, oldest first.
//!
//! Runs on PostgreSQL and MySQL/MariaDB with `TEST_NATS_URL` set; see
//! `testkit/src/cluster.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chatroom_shared::message::{
    ChatMessage, ClientMessage, GroupCreate, History, Membership, Say, Send, ServerMessage, Target,
};
use testkit::client::{TestClient, WAIT, gref, group, user};
use testkit::cluster::cluster_test;
use tokio::sync::Barrier;
use tokio::time::Instant;

use crate::cluster::discrepancies;

/// The writers, three on each node: `ON_N1[i]` talks directly with `ON_N2[i]` and
/// `ON_N2[i + 1]` (wrapping), so every direct conversation spans the nodes.
const ON_N1: [&str; 3] = ["alice", "amir", "anna"];
const ON_N2: [&str; 3] = ["bob", "bea", "boris"];

/// The group every writer is a member of.
const GROUP: &str = "crew";

/// Messages each writer sends in the concurrent round, spread over its conversations.
const EACH: usize = 30;

/// History page size: small, so every conversation's history takes several pages.
const PAGE: u32 = 16;

/// A conversation, as the test tells them apart.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Conv {
    Room,
    Group,
    /// A direct conversation between two users, named in sorted order.
    Direct(String, String),
}

impl Conv {
    fn direct(a: &str, b: &str) -> Self {
        let (a, b) = if a <= b { (a, b) } else { (b, a) };
        Self::Direct(a.to_owned(), b.to_owned())
    }

    /// The conversation a `message` event belongs to (for a direct message, `to`
    /// names the recipient).
    fn of(m: &ChatMessage) -> Self {
        match &m.to {
            Target::Room => Self::Room,
            Target::Group { group } => {
                assert_eq!(group, GROUP, "a message of an unknown group: {m:?}");
                Self::Group
            }
            Target::User { user } => Self::direct(&m.from, user),
        }
    }

    fn has(&self, name: &str) -> bool {
        match self {
            Self::Room | Self::Group => true,
            Self::Direct(a, b) => a == name || b == name,
        }
    }

    /// How `me` names this conversation in `send` and `history`.
    fn target(&self, me: &str) -> Target {
        match self {
            Self::Room => Target::Room,
            Self::Group => group(GROUP),
            Self::Direct(a, b) if a == me => user(b),
            Self::Direct(a, _) => user(a),
        }
    }
}

/// Every conversation `me` writes to: the room, the group, and its direct ones.
fn conversations_of(me: &str) -> Vec<Conv> {
    let mut out = vec![Conv::Room, Conv::Group];
    for i in 0..ON_N1.len() {
        for (a, b) in [
            (ON_N1[i], ON_N2[i]),
            (ON_N1[i], ON_N2[(i + 1) % ON_N2.len()]),
        ] {
            if a == me || b == me {
                out.push(Conv::direct(a, b));
            }
        }
    }
    out
}

/// One message a writer sends; its text is unique in the test.
struct Outgoing {
    conv: Conv,
    text: String,
}

/// What one client saw, over every round.
#[derive(Default)]
struct Seen {
    /// Its acknowledged messages by request `seq` (the order it sent them):
    /// conversation, text, message id.
    acked: BTreeMap<u32, (Conv, String, i64)>,
    /// Its messages that were answered with anything but `say_ok`.
    refused: Vec<String>,
    /// The `message` events it received, per conversation, in the order they came.
    received: BTreeMap<Conv, Vec<ChatMessage>>,
}

/// One writer: its name, its client and what it saw.
struct Writer {
    name: &'static str,
    node: usize,
    client: TestClient,
    seen: Seen,
}

/// Send every message of `out` pipelined once `start` opens, and read until each has
/// its reply and every text in `expect` has come as a `message` event, or a generous
/// deadline (a guard against hanging: the checks then say what is missing) passed.
/// Everything read is noted in `w.seen`, strays and repeats included.
async fn write_and_read(
    mut w: Writer,
    out: Vec<Outgoing>,
    mut expect: BTreeSet<String>,
    start: Arc<Barrier>,
) -> Writer {
    start.wait().await;
    let mut pending = BTreeMap::new();
    for o in out {
        let id = o.text.replace(' ', "-");
        let req = match o.conv {
            Conv::Room => ClientMessage::Say(Say {
                id,
                text: o.text.clone(),
            }),
            _ => ClientMessage::Send(Send {
                id,
                to: o.conv.target(w.name),
                text: o.text.clone(),
            }),
        };
        pending.insert(w.client.send(req).await, o);
    }
    let deadline = Instant::now() + 3 * WAIT;
    while !(pending.is_empty() && expect.is_empty()) {
        // Each read waits less than the client's own limit, so it never panics.
        let step = (Instant::now() + WAIT / 2).min(deadline);
        let m = match tokio::time::timeout_at(step, w.client.recv()).await {
            Ok(m) => m,
            Err(_) if Instant::now() >= deadline => break,
            Err(_) => continue,
        };
        let ours = m
            .seq()
            .and_then(|seq| pending.remove(&seq).map(|o| (seq, o)));
        match (m, ours) {
            (ServerMessage::Message(m), _) => {
                expect.remove(&m.text);
                w.seen.received.entry(Conv::of(&m)).or_default().push(m);
            }
            (ServerMessage::SayOk(ok), Some((seq, o))) => {
                w.seen.acked.insert(seq, (o.conv, o.text, ok.message_id));
            }
            (other, Some((_, o))) => w.seen.refused.push(format!("{:?}: {other:?}", o.text)),
            // Group and presence notices.
            (_, None) => {}
        }
    }
    w
}

/// Run one round: every writer sends its messages (`plan` of its name) at the same
/// moment and reads until it has every message of the round meant for it.
async fn round(writers: Vec<Writer>, plan: impl Fn(&str) -> Vec<Outgoing>) -> Vec<Writer> {
    let mut plan: BTreeMap<&str, Vec<Outgoing>> =
        writers.iter().map(|w| (w.name, plan(w.name))).collect();
    let mut incoming: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (from, out) in &plan {
        for w in &writers {
            let texts = out
                .iter()
                .filter(|o| w.name != *from && o.conv.has(w.name))
                .map(|o| o.text.clone());
            incoming.entry(w.name).or_default().extend(texts);
        }
    }
    let start = Arc::new(Barrier::new(writers.len()));
    let tasks: Vec<_> = writers
        .into_iter()
        .map(|w| {
            let out = plan.remove(w.name).unwrap_or_default();
            let expect = incoming.remove(w.name).unwrap_or_default();
            tokio::spawn(write_and_read(w, out, expect, start.clone()))
        })
        .collect();
    let mut writers = Vec::new();
    for t in tasks {
        writers.push(t.await.unwrap());
    }
    writers
}

/// Every stored message of the conversation `to` as `c` reads it, oldest first,
/// paged forwards from the start.
async fn conversation_history(c: &mut TestClient, to: Target) -> Vec<ChatMessage> {
    let mut out: Vec<ChatMessage> = Vec::new();
    loop {
        let req = ClientMessage::History(History {
            after: Some(out.last().map_or(0, |m| m.id)),
            limit: Some(PAGE),
            to: to.clone(),
            ..Default::default()
        });
        match c.request(req).await {
            ServerMessage::HistoryPage(p) => {
                let more = p.has_more;
                assert!(!more || !p.messages.is_empty(), "{to:?}: empty, has_more");
                out.extend(p.messages);
                if !more {
                    return out;
                }
            }
            other => panic!("history of {to:?}: {other:?}"),
        }
    }
}

/// One stored message: what its sender's acknowledgement, an event and the history
/// must agree on.
#[derive(Debug, PartialEq, Eq)]
struct Stored {
    conv: Conv,
    from: String,
    text: String,
}

impl Stored {
    fn of(m: &ChatMessage) -> Self {
        Self {
            conv: Conv::of(m),
            from: m.from.clone(),
            text: m.text.clone(),
        }
    }
}

/// Every writer's messages were acknowledged, each under an id of its own, and a
/// writer's messages to one conversation were stored in the order it sent them;
/// returns them all by id.
fn acknowledged(writers: &[Writer], per_writer: impl Fn(&str) -> usize) -> BTreeMap<i64, Stored> {
    let mut stored = BTreeMap::new();
    for w in writers {
        assert!(
            w.seen.refused.is_empty(),
            "{}: {:?}",
            w.name,
            w.seen.refused
        );
        assert_eq!(w.seen.acked.len(), per_writer(w.name), "{}'s acks", w.name);
        for (conv, text, id) in w.seen.acked.values() {
            let m = Stored {
                conv: conv.clone(),
                from: w.name.to_owned(),
                text: text.clone(),
            };
            if let Some(old) = stored.insert(*id, m) {
                panic!("message id {id} given to {old:?} and to {text:?}");
            }
        }
        for conv in conversations_of(w.name) {
            let acked = w.seen.acked.values();
            let ids: Vec<i64> = acked.filter(|a| a.0 == conv).map(|a| a.2).collect();
            assert!(
                ids.windows(2).all(|p| p[0] < p[1]),
                "{}'s messages to {conv:?} stored out of send order: {ids:?}",
                w.name
            );
        }
    }
    stored
}

/// Each conversation's history, read through a member on each node, lists exactly its
/// acknowledged messages in growing id order, the same through both; returns that
/// one order of each conversation.
async fn histories(
    writers: &mut [Writer],
    stored: &BTreeMap<i64, Stored>,
) -> BTreeMap<Conv, Vec<i64>> {
    let mut order = BTreeMap::new();
    let convs: BTreeSet<&Conv> = stored.values().map(|m| &m.conv).collect();
    for conv in convs {
        let acked: Vec<i64> = stored
            .iter()
            .filter(|(_, m)| m.conv == *conv)
            .map(|(id, _)| *id)
            .collect();
        let mut views = Vec::new();
        // The room and the group through alice (n1) and bob (n2); a direct
        // conversation through its two members, one on each node.
        for w in writers.iter_mut().filter(|w| match conv {
            Conv::Room | Conv::Group => w.name == ON_N1[0] || w.name == ON_N2[0],
            Conv::Direct(..) => conv.has(w.name),
        }) {
            let who = format!("{conv:?} through {} on n{}", w.name, w.node);
            let history = conversation_history(&mut w.client, conv.target(w.name)).await;
            for m in &history {
                let acked = stored.get(&m.id);
                assert_eq!(acked, Some(&Stored::of(m)), "{who}: not as acknowledged");
            }
            let ids: Vec<i64> = history.iter().map(|m| m.id).collect();
            let want = acked.iter().copied().collect();
            assert_eq!(ids, acked, "{who}: {}", discrepancies(&ids, &want));
            views.push((w.node, ids));
        }
        let nodes: BTreeSet<usize> = views.iter().map(|v| v.0).collect();
        assert_eq!(nodes.len(), 2, "{conv:?}'s history read through both nodes");
        assert_eq!(
            views[0].1, views[1].1,
            "{conv:?}: the nodes' histories differ"
        );
        order.insert(conv.clone(), views.swap_remove(0).1);
    }
    order
}

/// `w` received every other member's messages of each conversation as they were
/// stored, in growing id order (so none twice), all of them and nothing else, in the
/// conversation's one order.
fn check_received(w: &Writer, stored: &BTreeMap<i64, Stored>, order: &BTreeMap<Conv, Vec<i64>>) {
    let convs: BTreeSet<&Conv> = order.keys().chain(w.seen.received.keys()).collect();
    for conv in convs {
        let who = format!("{} on n{}, {conv:?}", w.name, w.node);
        let got = w.seen.received.get(conv).map_or(&[][..], Vec::as_slice);
        for m in got {
            let acked = stored.get(&m.id);
            assert_eq!(acked, Some(&Stored::of(m)), "{who}: not as acknowledged");
        }
        let ids: Vec<i64> = got.iter().map(|m| m.id).collect();
        if let Some(p) = ids.windows(2).find(|p| p[0] >= p[1]) {
            panic!("{who}: id {} came after {}: {ids:?}", p[1], p[0]);
        }
        let want: Vec<i64> = order
            .get(conv)
            .into_iter()
            .flatten()
            .copied()
            .filter(|id| conv.has(w.name) && stored[id].from != w.name)
            .collect();
        let set = want.iter().copied().collect();
        assert_eq!(ids, want, "{who}: {}", discrepancies(&ids, &set));
    }
}

cluster_test!(
    every_conversation_has_one_order_on_every_node_under_concurrent_writers,
    |env| async move {
        let cluster = env.start(2).await;
        let mut writers = Vec::new();
        for (node, names) in [(1, ON_N1), (2, ON_N2)] {
            for name in names {
                let (client, _) = TestClient::user(cluster.addr(node), name).await;
                let seen = Seen::default();
                writers.push(Writer {
                    name,
                    node,
                    client,
                    seen,
                });
            }
        }
        let everyone: Vec<&str> = ON_N1.iter().chain(&ON_N2).copied().collect();
        cluster.online_everywhere(&everyone).await;

        // The group: made on n1, joined from both nodes.
        let req = ClientMessage::GroupCreate(GroupCreate {
            name: GROUP.into(),
            private: false,
            comment: None,
            full_history: false,
        });
        let made = writers[0].client.request(req).await;
        assert!(matches!(made, ServerMessage::GroupState(_)), "{made:?}");
        for w in &mut writers[1..] {
            match w
                .client
                .request(ClientMessage::GroupJoin(gref(GROUP)))
                .await
            {
                ServerMessage::GroupState(s) => assert_eq!(s.group.me, Membership::Member),
                other => panic!("{} joins: {other:?}", w.name),
            }
        }

        // Everyone writes at once, round-robin over its conversations.
        let plan = |me: &str, n: usize| {
            let convs = conversations_of(me);
            let conv = convs[n % convs.len()].clone();
            Outgoing {
                conv,
                text: format!("{me} {n}"),
            }
        };
        let writers = round(writers, |me| (0..EACH).map(|n| plan(me, n)).collect()).await;
        // Then once more, one last message per writer and conversation: a fence, so a
        // late repeat or stray of the first round is seen before reading stops,
        // without waiting for a quiet spell.
        let last = |me: &str| {
            let convs = conversations_of(me).into_iter().enumerate();
            let last = convs.map(|(n, conv)| Outgoing {
                conv,
                text: format!("{me} last {n}"),
            });
            last.collect()
        };
        let mut writers = round(writers, last).await;

        let stored = acknowledged(&writers, |me| EACH + conversations_of(me).len());
        let order = histories(&mut writers, &stored).await;
        for w in &writers {
            check_received(w, &stored, &order);
        }
        cluster.stop().await;
    }
);
