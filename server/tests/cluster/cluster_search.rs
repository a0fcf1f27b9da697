//! Search across cluster nodes: each node keeps its own index, fed with the
//! other nodes' batches as it delivers them, so a message stored through one
//! node is found through another, in memory and once committed; a node that
//! was down reads back at its next start what was stored meanwhile. Each
//! message is fed to each node's index once: by the store of the node that
//! committed it, or by the ordering of the others, also when it reaches them
//! only from the database.
//!
//! Runs on PostgreSQL and MySQL/MariaDB with `TEST_NATS_URL` set; see
//! `testkit/src/cluster.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chatroom_shared::message::{ClientMessage, Search, Send, ServerMessage, Target};
use testkit::client::TestClient;
use testkit::cluster::cluster_test;
use testkit::server::TestServer;

async fn found(c: &mut TestClient, text: &str) -> Vec<String> {
    let reply = c
        .request(ClientMessage::Search(Search {
            text: text.into(),
            before: None,
            limit: Some(100),
        }))
        .await;
    let ServerMessage::SearchResults(r) = reply else {
        panic!("{reply:?}")
    };
    assert!(!r.has_more);
    r.messages.into_iter().map(|m| m.text).collect()
}

async fn flush(node: &TestServer) {
    node.search.as_ref().expect("an index").flush().await;
}

cluster_test!(
    a_message_stored_through_one_node_is_found_through_another,
    |env| async move {
        let cluster = env.start(2).await;
        let (mut alice, _) = TestClient::user(cluster.addr(1), "alice").await;
        let (mut bob, _) = TestClient::user(cluster.addr(2), "bob").await;
        let (mut carol, _) = TestClient::user(cluster.addr(2), "carol").await;
        cluster.online_everywhere(&["alice", "bob", "carol"]).await;

        let room = alice.say_ok("a1", "the Pulsar in the room").await;
        let dm = alice
            .request(ClientMessage::Send(Send {
                id: "a2".into(),
                to: Target::User { user: "bob".into() },
                text: "a pulsar for bob".into(),
            }))
            .await;
        assert!(matches!(dm, ServerMessage::SayOk(_)), "{dm:?}");
        // Once bob has both, his node has taken them.
        let got = bob.next_message().await;
        assert_eq!(got.id, room.message_id);
        bob.next_message().await;
        carol.next_message().await;
        for stage in ["in memory", "committed"] {
            if stage == "committed" {
                flush(cluster.node(2)).await;
            }
            assert_eq!(
                found(&mut bob, "PULSAR").await,
                ["a pulsar for bob", "the Pulsar in the room"],
                "{stage}"
            );
            // carol reads the room, not bob's direct messages.
            assert_eq!(
                found(&mut carol, "pulsar").await,
                ["the Pulsar in the room"],
                "{stage}"
            );
        }
        drop((bob, carol));

        // n2 goes down; alice writes meanwhile; n2 comes back and finds it.
        let mut nodes = cluster.nodes;
        let n2 = nodes.pop().unwrap();
        n2.stop().await;
        alice.say_ok("a3", "a pulsar while n2 was down").await;
        let n2 = env.node("n2").await;
        let (mut bob, _) = TestClient::existing(n2.addr, "bob").await;
        assert_eq!(
            found(&mut bob, "pulsar").await,
            [
                "a pulsar while n2 was down",
                "a pulsar for bob",
                "the Pulsar in the room"
            ]
        );
        n2.stop().await;
        for node in nodes {
            node.stop().await;
        }
    }
);

/// Messages in `node`'s index once everything fed is committed.
async fn indexed(node: &TestServer) -> u64 {
    flush(node).await;
    node.search.as_ref().expect("an index").size().messages
}

cluster_test!(
    every_node_indexes_each_message_once_also_when_it_comes_from_the_database,
    |env| async move {
        // n1 never sends its batches over NATS: n2 gets them from the
        // database only (read back after a gap or a silent tail).
        let n1 = env
            .node_with("n1", |c| c.faults.unpublished_batches = true)
            .await;
        let n2 = env.node("n2").await;
        let (mut alice, _) = TestClient::user(n1.addr, "alice").await;
        let (mut bob, _) = TestClient::user(n2.addr, "bob").await;
        let mut sent = 0u64;
        for i in 0..5 {
            alice
                .say_ok(&format!("a{i}"), &format!("quasar from n1 {i}"))
                .await;
            bob.say_ok(&format!("b{i}"), &format!("quasar from n2 {i}"))
                .await;
            sent += 2;
        }
        // bob has every message of alice once n2 delivered the last one.
        let mut from_alice = 0;
        while from_alice < 5 {
            let m = bob.next_message().await;
            if m.text.starts_with("quasar from n1") {
                from_alice += 1;
            }
        }
        let mut from_bob = 0;
        while from_bob < 5 {
            let m = alice.next_message().await;
            if m.text.starts_with("quasar from n2") {
                from_bob += 1;
            }
        }
        // The store of the committing node fed its own messages; the
        // ordering fed the other node's, once each, not a second time.
        assert_eq!(indexed(&n1).await, sent, "n1's index");
        assert_eq!(indexed(&n2).await, sent, "n2's index");
        for c in [&mut alice, &mut bob] {
            let found = found(c, "quasar").await;
            assert_eq!(found.len() as u64, sent, "{found:?}");
        }
        n2.stop().await;
        n1.stop().await;
    }
);
