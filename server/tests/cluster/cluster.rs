//! The main room across cluster nodes (in-process servers sharing one database and one
//! NATS server): messages, join and leave notices and online lists between nodes; one
//! order for every observer under concurrent bursts from two nodes; an announcement
//! made on one node; a login on a second node taking over the session; a name
//! registered on two nodes at once; a message resent through another node stored once.
//!
//! Runs on PostgreSQL and MySQL/MariaDB with `TEST_NATS_URL` set; see
//! `testkit/src/cluster.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{
    ChatMessage, ClientMessage, LeaveReason, MessageKind, Register, Say, SayOk, ServerMessage,
};
use testkit::client::{PASSWORD, TestClient, WAIT, all_history, error_code};
use testkit::cluster::{
    about, chat, cluster_test, joined, left, message_with, online, online_names,
};
use tokio::time::Instant;

fn sorted(mut names: Vec<&str>) -> Vec<&str> {
    names.sort_unstable();
    names
}

/// Everything `c` gets (what it holds from earlier waits first) until each of
/// `markers` has matched a message, the markers included. A test that asserts
/// nothing came before a marker which must arrive after it asserts an absence
/// without guessing how long to wait; a marker that never comes fails the test
/// after [`WAIT`] of silence.
pub(crate) async fn until_each(
    c: &mut TestClient,
    markers: &[&dyn Fn(&ServerMessage) -> bool],
) -> Vec<ServerMessage> {
    let mut missing = markers.to_vec();
    let mut seen = Vec::new();
    while !missing.is_empty() {
        let m = c.recv().await;
        missing.retain(|marker| !marker(&m));
        seen.push(m);
    }
    seen
}

/// True for the `message` event with this text.
pub(crate) fn text_is(m: &ServerMessage, text: &str) -> bool {
    matches!(m, ServerMessage::Message(x) if x.text == text)
}

/// True for `name`'s `user_joined`.
pub(crate) fn joined_is(m: &ServerMessage, name: &str) -> bool {
    matches!(m, ServerMessage::UserJoined(j) if j.name == name)
}

/// True for `name`'s `user_left`.
pub(crate) fn left_is(m: &ServerMessage, name: &str) -> bool {
    matches!(m, ServerMessage::UserLeft(l) if l.name == name)
}

/// The ids of the chat messages among `seen`, in order.
fn chat_ids(seen: &[ServerMessage]) -> Vec<i64> {
    chat(seen).iter().map(|m| m.id).collect()
}

cluster_test!(
    chat_joins_leaves_and_online_lists_cross_nodes,
    |env| async move {
        let cluster = env.start(2).await;
        let (mut alice, alice_login) = TestClient::user(cluster.addr(1), "alice").await;
        assert_eq!(online_names(&alice_login), ["alice"]);
        cluster.online_everywhere(&["alice"]).await;

        // bob, on n2, finds alice (n1) online; alice sees him join.
        let (mut bob, bob_login) = TestClient::user(cluster.addr(2), "bob").await;
        assert_eq!(sorted(online_names(&bob_login)), ["alice", "bob"]);
        joined(&mut alice, "bob").await;

        // Each gets the other's message once, with the id of the sender's ack.
        let ack = alice.say_ok("a1", "hello from n1").await;
        let got = bob.next_message().await;
        assert_eq!(
            (got.id, got.from.as_str(), got.text.as_str(), got.kind),
            (
                ack.message_id,
                "alice",
                "hello from n1",
                MessageKind::Message
            )
        );
        let ack = bob.say_ok("b1", "hello from n2").await;
        let got = alice.next_message().await;
        assert_eq!(
            (got.id, got.from.as_str(), got.text.as_str()),
            (ack.message_id, "bob", "hello from n2")
        );

        // carol logs in on n1: bob on n2 sees her join; her list has everyone.
        let (mut carol, carol_login) = TestClient::user(cluster.addr(1), "carol").await;
        assert_eq!(
            sorted(online_names(&carol_login)),
            ["alice", "bob", "carol"]
        );
        joined(&mut bob, "carol").await;
        joined(&mut alice, "carol").await;
        // carol's message is stored after both above, and the room reaches
        // everyone in id order: a repeat of either would come before it.
        let ack = carol.say_ok("c1", "hi all").await;
        for (who, c) in [("alice", &mut alice), ("bob", &mut bob)] {
            let seen = until_each(c, &[&|m| text_is(m, "hi all")]).await;
            assert_eq!(chat_ids(&seen), [ack.message_id], "{who} got {seen:?}");
        }

        // Leaves cross too: carol's connection drops on n1, bob quits on n2.
        drop(carol);
        let l = left(&mut bob, "carol").await;
        assert_eq!(l.reason, LeaveReason::Disconnected);
        left(&mut alice, "carol").await;
        // Nobody sees a notice twice. A node tells its presence changes in the
        // order it made them: dave logs in on n1 after carol left there, so a
        // repeat of her notices would reach bob, on n2, before dave's.
        let (_dave, _) = TestClient::user(cluster.addr(1), "dave").await;
        let seen = until_each(&mut bob, &[&|m| joined_is(m, "dave")]).await;
        assert!(
            !seen.iter().any(|m| about(m, "carol")),
            "bob saw more notices: {seen:?}"
        );
        bob.quit().await;
        let l = left(&mut alice, "bob").await;
        assert_eq!(l.reason, LeaveReason::Quit);
        // Likewise erin logs in on n2 after bob quit there (and dave came
        // after carol left n1).
        let (_erin, _) = TestClient::user(cluster.addr(2), "erin").await;
        let seen = until_each(
            &mut alice,
            &[&|m| joined_is(m, "dave"), &|m| joined_is(m, "erin")],
        )
        .await;
        assert!(
            !seen.iter().any(|m| about(m, "bob") || about(m, "carol")),
            "alice saw more notices: {seen:?}"
        );
        cluster.online_everywhere(&["alice", "dave", "erin"]).await;
        cluster.stop().await;
    }
);

/// Send `each` messages pipelined (all on the wire before any reply is read); returns
/// the client and the acks in the order they came.
async fn burst(mut c: TestClient, me: &'static str, each: usize) -> (TestClient, Vec<SayOk>) {
    let mut seqs = Vec::new();
    for n in 0..each {
        let say = ClientMessage::Say(Say {
            id: format!("{me}-{n}"),
            text: format!("{me} says {n}"),
        });
        seqs.push(c.send(say).await);
    }
    let mut acks = Vec::new();
    for seq in seqs {
        match c.reply_to(seq).await {
            ServerMessage::SayOk(ok) => acks.push(ok),
            other => panic!("{me}: say: {other:?}"),
        }
    }
    (c, acks)
}

/// The message said after both bursts were acknowledged: stored after them, so
/// it reaches every observer after all of them and after any repeat.
const LAST: &str = "the bursts are over";

/// Read until [`LAST`] came (or a generous deadline passed); returns the chat
/// messages before it and whether it came, for the test to say what is
/// missing. It reads in slices of 200 ms, polling for the deadline, so that a
/// lost message shows as one missing rather than as a timeout.
async fn collect(mut c: TestClient) -> (TestClient, Vec<ChatMessage>, bool) {
    let deadline = Instant::now() + 3 * WAIT;
    let mut got = Vec::new();
    while Instant::now() < deadline {
        for m in chat(&c.drain_for(Duration::from_millis(200)).await) {
            if m.text == LAST {
                return (c, got, true);
            }
            got.push(m);
        }
    }
    (c, got, false)
}

/// What is wrong with `ids` against the set that was sent: missing, repeated and
/// unexpected ids.
pub(crate) fn discrepancies(ids: &[i64], sent: &BTreeSet<i64>) -> String {
    let got: BTreeSet<i64> = ids.iter().copied().collect();
    let missing: Vec<_> = sent.difference(&got).collect();
    let extra: Vec<_> = got.difference(sent).collect();
    let mut seen = BTreeSet::new();
    let repeated: Vec<_> = ids.iter().filter(|id| !seen.insert(**id)).collect();
    format!("missing {missing:?}, repeated {repeated:?}, unexpected {extra:?}")
}

cluster_test!(
    bursts_from_two_nodes_reach_every_observer_once_in_one_order,
    |env| async move {
        const EACH: usize = 200;
        let cluster = env.start(3).await;
        let mut observers = Vec::new();
        for n in 1..=3 {
            observers.push(
                TestClient::user(cluster.addr(n), &format!("obs{n}"))
                    .await
                    .0,
            );
        }
        let (s1, _) = TestClient::user(cluster.addr(1), "s1").await;
        let (s2, _) = TestClient::user(cluster.addr(2), "s2").await;
        cluster
            .online_everywhere(&["obs1", "obs2", "obs3", "s1", "s2"])
            .await;

        // The observers read all along; both senders send at once.
        let readers: Vec<_> = observers
            .into_iter()
            .map(|c| tokio::spawn(collect(c)))
            .collect();
        let b1 = tokio::spawn(burst(s1, "s1", EACH));
        let b2 = tokio::spawn(burst(s2, "s2", EACH));
        let (mut s1, acks1) = b1.await.unwrap();
        let (_s2, acks2) = b2.await.unwrap();
        let last = s1.say_ok("s1-last", LAST).await;
        let mut sent: HashMap<i64, (String, String)> = HashMap::new();
        for (me, acks) in [("s1", acks1), ("s2", acks2)] {
            assert_eq!(acks.len(), EACH);
            assert!(
                acks.windows(2).all(|w| w[0].message_id < w[1].message_id),
                "{me}'s acks are not in growing id order"
            );
            for a in acks {
                let n = a.id.strip_prefix(&format!("{me}-")).unwrap();
                let old = sent.insert(a.message_id, (me.to_owned(), format!("{me} says {n}")));
                assert!(old.is_none(), "message id {} given twice", a.message_id);
            }
        }
        let all_ids: BTreeSet<i64> = sent.keys().copied().collect();

        let mut sequences = Vec::new();
        for (i, reader) in readers.into_iter().enumerate() {
            let (mut c, got, finished) = reader.await.unwrap();
            let who = format!("obs{} on n{}", i + 1, i + 1);
            let ids: Vec<i64> = got.iter().map(|m| m.id).collect();
            assert_eq!(
                got.len(),
                2 * EACH,
                "{who} got {} messages: {}",
                got.len(),
                discrepancies(&ids, &all_ids)
            );
            assert!(finished, "{who} got all, but not {LAST:?} after them");
            if let Some(w) = ids.windows(2).find(|w| w[0] >= w[1]) {
                panic!("{who}: id {} came after {}: {ids:?}", w[1], w[0]);
            }
            assert_eq!(
                ids.iter().copied().collect::<BTreeSet<_>>(),
                all_ids,
                "{who}: {}",
                discrepancies(&ids, &all_ids)
            );
            for m in &got {
                assert_eq!((&m.from, &m.text), {
                    let (f, t) = &sent[&m.id];
                    (f, t)
                });
            }
            if i == 0 {
                // The stored order is the delivered order.
                let history: Vec<i64> = all_history(&mut c)
                    .await
                    .iter()
                    .filter(|m| m.kind == MessageKind::Message)
                    .map(|m| m.id)
                    .collect();
                let delivered = [ids.as_slice(), &[last.message_id]].concat();
                assert_eq!(history, delivered, "history differs from what {who} got");
            }
            sequences.push(ids);
        }
        assert_eq!(
            sequences[0], sequences[1],
            "n1 and n2 delivered differently"
        );
        assert_eq!(
            sequences[0], sequences[2],
            "n1 and n3 delivered differently"
        );
        cluster.stop().await;
    }
);

cluster_test!(
    announcement_made_on_n2_reaches_users_on_every_node,
    |env| async move {
        const TEXT: &str = "maintenance at noon";
        let cluster = env.start(2).await;
        let (mut alice, _) = TestClient::user(cluster.addr(1), "alice").await;
        let (mut bob, _) = TestClient::user(cluster.addr(2), "bob").await;
        cluster.online_everywhere(&["alice", "bob"]).await;

        let id = cluster.node(2).admin.announce(TEXT).await.unwrap();
        // Each of them says something once it is stored: the room reaches
        // everyone in id order, so the announcement (and any repeat of it)
        // comes before the other's message.
        alice.say_ok("a1", "noted on n1").await;
        bob.say_ok("b1", "noted on n2").await;
        for (who, c, next) in [
            ("alice on n1", &mut alice, "noted on n2"),
            ("bob on n2", &mut bob, "noted on n1"),
        ] {
            let seen = until_each(c, &[&|m| text_is(m, next)]).await;
            let announced: Vec<(i64, &str)> = seen
                .iter()
                .filter_map(|m| match m {
                    ServerMessage::Announcement(a) => Some((a.id, a.text.as_str())),
                    _ => None,
                })
                .collect();
            assert_eq!(announced, [(id, TEXT)], "{who} saw {seen:?}");
        }
        // It is in the history, read through the other node.
        let history = all_history(&mut alice).await;
        let stored = history.iter().find(|m| m.id == id).expect("in history");
        assert_eq!(
            (stored.kind, stored.text.as_str()),
            (MessageKind::Announcement, TEXT)
        );
        cluster.stop().await;
    }
);

cluster_test!(
    login_on_another_node_takes_over_without_leave_or_join,
    |env| async move {
        let cluster = env.start(2).await;
        let (mut first, _) = TestClient::user(cluster.addr(1), "alice").await;
        let (mut bob, _) = TestClient::user(cluster.addr(1), "bob").await;
        let (mut carol, _) = TestClient::user(cluster.addr(2), "carol").await;
        cluster.online_everywhere(&["alice", "bob", "carol"]).await;

        // alice logs in again, on n2: the n1 session is replaced and closed.
        let (mut second, login) = TestClient::existing(cluster.addr(2), "alice").await;
        assert_eq!(
            sorted(online_names(&login)),
            ["alice", "bob", "carol"],
            "alice listed once"
        );
        let closing = first.expect_closed().await;
        assert!(
            matches!(closing.last(), Some(ServerMessage::SessionReplaced(_))),
            "the n1 session got {closing:?}"
        );

        // bob (n1) and carol (n2) saw alice neither leave nor join, and get her
        // message from n2. Each node tells its presence changes in the order it
        // made them: dave logs in on n1 and erin on n2 after the takeover, so a
        // notice about alice from either node would come before theirs.
        let ack = second.say_ok("a1", "now on n2").await;
        let (mut dave, _) = TestClient::user(cluster.addr(1), "dave").await;
        let (mut erin, _) = TestClient::user(cluster.addr(2), "erin").await;
        for (who, c) in [("bob on n1", &mut bob), ("carol on n2", &mut carol)] {
            let seen = until_each(
                c,
                &[
                    &|m| matches!(m, ServerMessage::Message(x) if x.id == ack.message_id),
                    &|m| joined_is(m, "dave"),
                    &|m| joined_is(m, "erin"),
                ],
            )
            .await;
            assert!(
                !seen.iter().any(|m| about(m, "alice")),
                "{who} saw {seen:?}"
            );
        }
        // Every node lists her once.
        let everyone = ["alice", "bob", "carol", "dave", "erin"];
        cluster.online_everywhere(&everyone).await;
        for n in 1..=2 {
            let names = online(cluster.node(n)).await;
            assert_eq!(names, everyone, "n{n}");
        }

        // Messages from both nodes reach the new session.
        let ack = bob.say_ok("b1", "welcome to n2").await;
        assert_eq!(second.next_message().await.id, ack.message_id);
        let ack = carol.say_ok("c1", "hi alice").await;
        assert_eq!(second.next_message().await.id, ack.message_id);
        // n1 has delivered carol's message before alice resumes there: a
        // session that joins n1 while the batch is still on its way from n2
        // would get it live, as anyone logging in at that moment would.
        message_with(&mut bob, "hi alice").await;

        // Resuming with the token on n1 takes the session back the same way.
        let token = second.token.clone().unwrap();
        let mut third = TestClient::greeted(cluster.addr(1)).await;
        third.resume_ok(&token).await;
        let closing = second.expect_closed().await;
        assert!(
            matches!(closing.last(), Some(ServerMessage::SessionReplaced(_))),
            "the n2 session got {closing:?}"
        );
        let ack = carol.say_ok("c2", "back on n1?").await;
        assert_eq!(third.next_message().await.id, ack.message_id);
        // bob saw no notice about alice before dave (n1) and erin (n2) quit,
        // after this takeover.
        dave.quit().await;
        erin.quit().await;
        let seen = until_each(
            &mut bob,
            &[&|m| left_is(m, "dave"), &|m| left_is(m, "erin")],
        )
        .await;
        assert!(!seen.iter().any(|m| about(m, "alice")), "bob saw {seen:?}");
        cluster.online_everywhere(&["alice", "bob", "carol"]).await;
        cluster.stop().await;
    }
);

cluster_test!(
    one_name_registered_twenty_times_on_two_nodes_makes_one_account,
    |env| async move {
        const TRIES: usize = 20;
        let cluster = env.start(2).await;
        let mut clients = Vec::new();
        for i in 0..TRIES {
            clients.push(TestClient::greeted(cluster.addr(1 + i % 2)).await);
        }
        // Every register is on the wire before any reply is read.
        let mut seqs = Vec::new();
        for c in &mut clients {
            let req = ClientMessage::Register(Register {
                name: "zoe".into(),
                password: PASSWORD.into(),
            });
            seqs.push(c.send(req).await);
        }
        let mut winners = Vec::new();
        for (i, (c, seq)) in clients.iter_mut().zip(seqs).enumerate() {
            match c.reply_to(seq).await {
                ServerMessage::RegisterOk(ok) => {
                    assert_eq!(ok.user.name, "zoe");
                    winners.push(i);
                }
                other => assert_eq!(error_code(&other), ErrorCode::NameTaken, "{other:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "registered by clients {winners:?}");
        // The one account logs in on either node.
        TestClient::existing(cluster.addr(1), "zoe").await;
        TestClient::existing(cluster.addr(2), "zoe").await;
        cluster.stop().await;
    }
);

cluster_test!(
    a_message_resent_through_another_node_is_stored_and_delivered_once,
    |env| async move {
        let cluster = env.start(2).await;
        let (mut alice, _) = TestClient::user(cluster.addr(1), "alice").await;
        let (mut bob, _) = TestClient::user(cluster.addr(2), "bob").await;
        cluster.online_everywhere(&["alice", "bob"]).await;

        let first = alice.say_ok("retry-1", "said once").await;
        assert_eq!(
            message_with(&mut bob, "said once").await.id,
            first.message_id
        );

        // alice's connection drops before she saw the ack (as far as her client
        // knows); she resumes on n2 and sends the same message again.
        let token = alice.token.clone().unwrap();
        drop(alice);
        let mut alice = TestClient::greeted(cluster.addr(2)).await;
        alice.resume_ok(&token).await;
        let again = alice.say_ok("retry-1", "said once").await;
        assert_eq!(again.message_id, first.message_id, "stored twice");
        // Her next message is stored after the retry, and the room reaches bob
        // in id order: a repeat would come before it.
        let next = alice.say_ok("retry-2", "said next").await;
        let seen = until_each(&mut bob, &[&|m| text_is(m, "said next")]).await;
        assert_eq!(chat_ids(&seen), [next.message_id], "bob got {seen:?}");
        let stored: Vec<_> = all_history(&mut bob)
            .await
            .into_iter()
            .filter(|m| m.text == "said once")
            .map(|m| m.id)
            .collect();
        assert_eq!(stored, [first.message_id]);
        cluster.stop().await;
    }
);

cluster_test!(
    a_message_id_reused_through_another_node_is_refused,
    |env| async move {
        let cluster = env.start(2).await;
        let (mut alice, _) = TestClient::user(cluster.addr(1), "alice").await;
        let first = alice.say_ok("1-1", "first run message").await;
        let token = alice.token.clone().unwrap();
        drop(alice);
        // Her client restarted and counts from 1 again, on the other node.
        let mut alice = TestClient::greeted(cluster.addr(2)).await;
        alice.resume_ok(&token).await;
        let seq = alice
            .send(ClientMessage::Say(Say {
                id: "1-1".into(),
                text: "second run message".into(),
            }))
            .await;
        match alice.reply_to(seq).await {
            ServerMessage::Error(e) => assert_eq!(e.code, ErrorCode::MessageIdReused, "{e:?}"),
            other => panic!("a reused id was answered with {other:?}"),
        }
        let texts: Vec<_> = all_history(&mut alice)
            .await
            .into_iter()
            .map(|m| (m.id, m.text))
            .collect();
        assert_eq!(texts, [(first.message_id, "first run message".to_owned())]);
        cluster.stop().await;
    }
);
