//! `read` positions are message ids the user may read: one beyond the newest is
//! clamped to it (it would silence that conversation's offline delivery for good), a
//! negative one is refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use testkit::client::{group, message, user};

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{
    ChatMessage, ClientMessage, GroupCreate, Ping, Read, ReadOk, Send, ServerMessage, Target,
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

/// Log `name` in again and return what it missed: every message the server
/// queued before its reply to a ping sent right after `login_ok` (offline
/// delivery ends before the session reads its next request).
async fn missed_at_login(addr: std::net::SocketAddr, name: &str) -> (TestClient, Vec<String>) {
    let (mut c, _) = TestClient::existing(addr, name).await;
    match c.request(ClientMessage::Ping(Ping {})).await {
        ServerMessage::Pong(_) => {}
        other => panic!("ping: {other:?}"),
    }
    let got: Vec<ChatMessage> = c
        .drain_for(std::time::Duration::ZERO)
        .await
        .into_iter()
        .filter_map(|m| match m {
            ServerMessage::Message(m) => Some(m),
            _ => None,
        })
        .collect();
    assert!(
        got.windows(2).all(|w| w[0].id < w[1].id),
        "oldest first: {got:?}"
    );
    let texts = got.into_iter().map(|m| m.text).collect();
    (c, texts)
}

db_test!(
    missed_direct_messages_come_from_each_conversations_own_position,
    |tdb| async {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut bob, _) = TestClient::user(server.addr, "bob").await;
        let (mut carol, _) = TestClient::user(server.addr, "carol").await;
        let (mut dave, _) = TestClient::user(server.addr, "dave").await;
        // What dave writes himself (a note to self, a message to carol) is read.
        send_ok(&mut dave, "d1", user("dave"), "note to self").await;
        send_ok(&mut dave, "d2", user("carol"), "dave to carol").await;
        dave.quit().await;

        let mut ids = std::collections::HashMap::new();
        for text in ["a1", "b1", "c1", "a2", "b2", "a3"] {
            let who = match &text[..1] {
                "a" => &mut alice,
                "b" => &mut bob,
                _ => &mut carol,
            };
            ids.insert(text, send_ok(who, text, user("dave"), text).await);
        }
        let (mut dave, missed) = missed_at_login(server.addr, "dave").await;
        assert_eq!(missed, ["a1", "b1", "c1", "a2", "b2", "a3"]);

        // Each conversation moves on its own.
        read_ok(&mut dave, user("alice"), ids["a2"]).await;
        read_ok(&mut dave, user("bob"), ids["b2"]).await;
        dave.quit().await;
        let (mut dave, missed) = missed_at_login(server.addr, "dave").await;
        assert_eq!(missed, ["c1", "a3"]);

        // His own reply is the newest message with carol: it reads nothing.
        send_ok(&mut dave, "d3", user("carol"), "dave replies").await;
        dave.quit().await;
        let (mut dave, missed) = missed_at_login(server.addr, "dave").await;
        assert_eq!(missed, ["c1", "a3"]);

        read_ok(&mut dave, user("carol"), ids["c1"]).await;
        read_ok(&mut dave, user("alice"), ids["a3"]).await;
        dave.quit().await;
        let (dave, missed) = missed_at_login(server.addr, "dave").await;
        assert!(missed.is_empty(), "{missed:?}");
        drop(dave);

        // News after a read position comes, and only that.
        send_ok(&mut carol, "c2", user("dave"), "c2").await;
        send_ok(&mut bob, "b3", user("dave"), "b3").await;
        let (_dave, missed) = missed_at_login(server.addr, "dave").await;
        assert_eq!(missed, ["c2", "b3"]);
        server.stop().await;
    }
);
