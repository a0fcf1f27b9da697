//! A frame the server would send over the 16 MiB limit of every frame
//! (PROTOCOL §2.3): the codec refuses it, a reply becomes an `internal` error
//! for its request, an event is dropped, and the connections go on.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chatroom_shared::message::{ClientMessage, Request, Say, ServerMessage};
use chatroom_shared::{ErrorCode, MAX_SERVER_FRAME};
use testkit::client::TestClient;
use testkit::db::TestDb;
use testkit::server::{TestServer, test_config};

/// A reply over the frame limit is answered with an error, and an event over it
/// is dropped, while the connection goes on: a history page and a `message`
/// holding one text of 17 MiB (on a server told to take texts that long).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_over_the_frame_limit_is_an_error_and_such_an_event_is_dropped() {
    let tdb = TestDb::create(testkit::db::Backend::Sqlite).await;
    let huge = MAX_SERVER_FRAME + (1 << 20);
    let mut config = test_config(tdb.url());
    config.max_message_len = huge;
    config.max_frame = huge + 1024;
    let server = TestServer::start_config(config).await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let (mut bob, _) = TestClient::user(server.addr, "bob").await;
    // Written by hand: our codec refuses to encode a frame this long.
    let say = Request {
        seq: 1000,
        body: ClientMessage::Say(Say {
            id: "huge".into(),
            text: "x".repeat(huge),
        }),
    };
    alice.send_frame(&serde_json::to_vec(&say).unwrap()).await;
    let r = alice.reply_to(1000).await;
    assert!(matches!(r, ServerMessage::SayOk(_)), "stored: {r:?}");
    alice.say_ok("small", "after it").await;
    // Bob gets the message after it, not the one no frame can hold.
    let next = bob.next_message().await;
    assert_eq!(next.text, "after it");
    let seq = alice.send(ClientMessage::History(Default::default())).await;
    let r = alice.reply_to(seq).await;
    let ServerMessage::Error(e) = r else {
        panic!("history: {r:?}");
    };
    assert_eq!((e.seq, e.code), (Some(seq), ErrorCode::Internal));
    // Both connections go on.
    alice.say_ok("later", "still here").await;
    assert_eq!(bob.next_message().await.text, "still here");
    let page = bob.history(None, None, Some(1)).await;
    assert_eq!(page.messages[0].text, "still here");
    server.stop().await;
    tdb.drop_db().await;
}
