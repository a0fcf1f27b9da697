//! Search across cluster nodes: each node keeps its own index, fed with the
//! other nodes' batches as they arrive, so a message stored through one node
//! is found through another, in memory and once committed; a node that was
//! down reads back at its next start what was stored meanwhile.
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
