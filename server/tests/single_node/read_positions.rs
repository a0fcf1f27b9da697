//! `read` positions are message ids the user may read: one beyond the newest is
//! clamped to it (it would silence that conversation's offline delivery for good), a
//! negative one is refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use testkit::client::{group, message, user};

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{
    ClientMessage, GroupCreate, Read, ReadOk, Send, ServerMessage, Target,
};
use testkit::client::{TestClient, error_code, gref, member_ref};
use testkit::db::db_test;
use testkit::server::TestServer;

async fn send_ok(c: &mut TestClient, id: &str, to: Target, text: &str) -> i64 {
    let reply = c
        .request(ClientMessage::Send(Send {
            id: id.into(),
            to,
            text: text.into(),
        }))
        .await;
    match reply {
        ServerMessage::SayOk(ok) => ok.message_id,
        other => panic!("send {text:?}: {other:?}"),
    }
}

async fn read(c: &mut TestClient, to: Target, upto: i64) -> ServerMessage {
    c.request(ClientMessage::Read(Read { to, upto })).await
}

async fn read_ok(c: &mut TestClient, to: Target, upto: i64) -> ReadOk {
    match read(c, to, upto).await {
        ServerMessage::ReadOk(ok) => ok,
        other => panic!("read: {other:?}"),
    }
}

db_test!(
    read_beyond_the_newest_id_is_clamped_and_later_messages_still_come_offline,
    |tdb| async {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut bob, _) = TestClient::user(server.addr, "bob").await;
        let created = alice
            .request(ClientMessage::GroupCreate(GroupCreate {
                name: "club".into(),
                private: true,
                comment: None,
                full_history: false,
            }))
            .await;
        assert!(
            matches!(created, ServerMessage::GroupState(_)),
            "{created:?}"
        );
        bob.request(ClientMessage::GroupJoin(gref("club"))).await;
        let approved = alice
            .request(ClientMessage::GroupApprove(member_ref("club", "bob")))
            .await;
        assert!(
            matches!(approved, ServerMessage::GroupState(_)),
            "{approved:?}"
        );

        let in_club = send_ok(&mut alice, "a1", group("club"), "club one").await;
        let in_dm = send_ok(&mut alice, "a2", user("bob"), "dm one").await;
        // Newer messages elsewhere do not count for these two conversations.
        alice.say_ok("a3", "room one").await;
        message(&mut bob, "dm one").await;

        let ok = read_ok(&mut bob, group("club"), i64::MAX).await;
        assert_eq!((ok.to, ok.upto), (group("club"), in_club));
        let ok = read_ok(&mut bob, user("alice"), i64::MAX).await;
        assert_eq!((ok.to, ok.upto), (user("alice"), in_dm));
        // The position is a message id, never negative.
        let reply = read(&mut bob, user("alice"), -1).await;
        assert_eq!(error_code(&reply), ErrorCode::InvalidField, "{reply:?}");
        let ok = read_ok(&mut bob, user("alice"), 0).await;
        assert_eq!(ok.upto, in_dm, "never moves back");
        bob.quit().await;

        // What comes later reaches bob at his next login.
        send_ok(&mut alice, "a4", group("club"), "club two").await;
        send_ok(&mut alice, "a5", user("bob"), "dm two").await;
        let (mut bob, _) = TestClient::existing(server.addr, "bob").await;
        let two = message(&mut bob, "club two").await;
        assert_eq!(two.to, group("club"));
        let two = message(&mut bob, "dm two").await;
        assert_eq!(two.to, user("bob"));
        server.stop().await;
    }
);

db_test!(
    read_in_a_conversation_without_messages_stays_at_zero,
    |tdb| async {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (_bob, _) = TestClient::user(server.addr, "bob").await;
        let ok = read_ok(&mut alice, user("bob"), i64::MAX).await;
        assert_eq!(ok.upto, 0);
        let first = send_ok(&mut alice, "a1", user("bob"), "first").await;
        let ok = read_ok(&mut alice, user("bob"), i64::MAX).await;
        assert_eq!(ok.upto, first);
        server.stop().await;
    }
);
