//! Flow control: acks are never silently lost, and a client that reads
//! promptly is never dropped as too slow because a large batch arrived at once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use chatroom_shared::message::{ClientMessage, Request, Say, ServerMessage};
use chatroom_shared::{Decoded, FrameCodec};
use futures_util::StreamExt;
use testkit::client::{TestClient, WAIT};
use testkit::db::db_test;
use testkit::server::TestServer;
use tokio::io::{AsyncWriteExt, ReadHalf};
use tokio::net::TcpStream;
use tokio_util::codec::FramedRead;

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

/// Frames of `count` `say` requests of `size` bytes each, back to back.
fn say_burst(prefix: &str, count: usize, size: usize) -> Vec<u8> {
    let text = "x".repeat(size);
    let mut out = Vec::new();
    for i in 0..count {
        let body = ClientMessage::Say(Say {
            id: format!("{prefix}{i}"),
            text: text.clone(),
        });
        let seq = u32::try_from(i).unwrap() + 1000;
        out.extend_from_slice(&chatroom_shared::encode_frame(&Request { seq, body }).unwrap());
    }
    out
}

/// Read until `want` messages match `pred`; fails if the server closes first.
async fn read_until(
    reader: &mut FramedRead<ReadHalf<TcpStream>, FrameCodec>,
    want: usize,
    pred: impl Fn(&ServerMessage) -> bool,
) {
    let mut got = 0;
    while got < want {
        let next = tokio::time::timeout(WAIT * 6, reader.next())
            .await
            .expect("server went quiet");
        match next {
            Some(Ok(Decoded::Frame(body))) => {
                let m: ServerMessage = serde_json::from_slice(&body).unwrap();
                assert!(
                    !matches!(m, ServerMessage::UserLeft(_)),
                    "someone was dropped: {m:?}"
                );
                if pred(&m) {
                    got += 1;
                }
            }
            Some(Ok(Decoded::FrameStarted)) => {}
            other => panic!("connection ended after {got} of {want}: {other:?}"),
        }
    }
}

db_test!(
    a_lone_sender_pipelining_megabytes_is_not_dropped,
    |tdb| async move {
        // 3000 messages of 4000 bytes (12 MB) in one write against a 256 KiB
        // outbox budget: nearly all of it is the sender's own, which it never
        // gets, so only its acks may count.
        let server = TestServer::start_with(tdb.url(), |c| c.outbound_bytes = 256 * 1024).await;
        let (alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut reader, mut writer) = alice.into_split();
        let burst = say_burst("a", 3000, 4000);
        let send = tokio::spawn(async move {
            writer.write_all(&burst).await.unwrap();
            writer
        });
        read_until(&mut reader, 3000, |m| matches!(m, ServerMessage::SayOk(_))).await;
        drop(send.await.unwrap());
        server.stop().await;
    }
);

db_test!(
    a_reader_keeping_up_survives_a_burst_of_large_messages,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let (bob, _) = TestClient::user(server.addr, "bob").await;
        let (alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut bob_reader, _bob_writer) = bob.into_split();
        let watcher = tokio::spawn(async move {
            read_until(&mut bob_reader, 3000, |m| {
                matches!(m, ServerMessage::Message(_))
            })
            .await;
        });
        let (mut reader, mut writer) = alice.into_split();
        let burst = say_burst("b", 3000, 4000);
        let send = tokio::spawn(async move {
            writer.write_all(&burst).await.unwrap();
            writer
        });
        read_until(&mut reader, 3000, |m| matches!(m, ServerMessage::SayOk(_))).await;
        watcher.await.unwrap();
        drop(send.await.unwrap());
        server.stop().await;
    }
);
