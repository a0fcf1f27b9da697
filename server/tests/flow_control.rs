//! Flow control: acks are never silently lost, and a client that reads
//! promptly is never dropped as too slow because a large batch arrived at once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;

use chatroom_shared::message::{ClientMessage, Say, ServerMessage};
use common::client::TestClient;
use common::db::db_test;
use common::server::TestServer;

db_test!(
    pipelined_says_beyond_the_outbox_size_are_all_acknowledged,
    |tdb| async move {
        // An outbox of 16 items: far fewer than the messages in flight.
        let server = TestServer::start_with(tdb.url(), |c| c.outbound_queue = 16).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let mut seqs = Vec::new();
        for i in 0..600 {
            let say = ClientMessage::Say(Say {
                id: format!("m{i}"),
                text: format!("message {i}"),
            });
            seqs.push(alice.send(say).await);
        }
        let mut acked = HashSet::new();
        for seq in seqs {
            match alice.reply_to(seq).await {
                ServerMessage::SayOk(ok) => assert!(acked.insert(ok.message_id)),
                other => panic!("expected say_ok, got {other:?}"),
            }
        }
        assert_eq!(acked.len(), 600);
        server.stop().await;
    }
);

db_test!(
    a_prompt_reader_survives_a_burst_larger_than_its_outbox,
    |tdb| async move {
        let server = TestServer::start_with(tdb.url(), |c| c.outbound_queue = 16).await;
        let (mut bob, _) = TestClient::user(server.addr, "bob").await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        // Bob reads in his own task, promptly, while alice sends a burst.
        let reader = tokio::spawn(async move {
            let mut texts = Vec::new();
            while texts.len() < 2000 {
                match bob.recv().await {
                    ServerMessage::Message(m) => texts.push(m.text),
                    ServerMessage::UserLeft(l) => panic!("{} left: {:?}", l.name, l.reason),
                    _ => {}
                }
            }
            texts
        });
        let mut seqs = Vec::new();
        for i in 0..2000 {
            seqs.push(
                alice
                    .send(ClientMessage::Say(Say {
                        id: format!("b{i}"),
                        text: format!("burst {i}"),
                    }))
                    .await,
            );
        }
        for seq in seqs {
            assert!(matches!(alice.reply_to(seq).await, ServerMessage::SayOk(_)));
        }
        let texts = reader.await.unwrap();
        let expected: Vec<String> = (0..2000).map(|i| format!("burst {i}")).collect();
        assert_eq!(texts, expected, "every message once, in order");
        server.stop().await;
    }
);
