//! The main room over real TCP: join notices, fan-out, acks after storage,
//! leave notices, history.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chatroom_shared::message::{LeaveReason, MessageKind, ServerMessage};
use common::client::TestClient;
use common::db::db_test;
use common::server::TestServer;

db_test!(join_chat_and_leave_notices_reach_the_others, |tdb| async move {
    let server = TestServer::start(tdb.url()).await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let (mut bob, bob_login) = TestClient::user(server.addr, "bob").await;
    assert_eq!(
        bob_login.online.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(),
        ["alice", "bob"]
    );
    let joined = alice
        .wait_for("bob joined", |m| matches!(m, ServerMessage::UserJoined(_)))
        .await;
    assert!(matches!(joined, ServerMessage::UserJoined(j) if j.name == "bob"));

    let ack = alice.say_ok("m1", "hello bob").await;
    let got = bob.next_message().await;
    assert_eq!(got.id, ack.message_id);
    assert_eq!(got.from, "alice");
    assert_eq!(got.text, "hello bob");
    assert_eq!(got.kind, MessageKind::Message);

    bob.quit().await;
    let left = alice
        .wait_for("bob left", |m| matches!(m, ServerMessage::UserLeft(_)))
        .await;
    assert!(matches!(left, ServerMessage::UserLeft(l) if l.name == "bob" && l.reason == LeaveReason::Quit));
    server.stop().await;
});
