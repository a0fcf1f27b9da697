//! A user's direct-message conversations (`conversations`), listed newest
//! activity first a page at a time, from a table the writer keeps with each
//! direct message (and the migration fills from the history); and closed
//! groups, which stay readable, read-only, for their members.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{
    ClientMessage, ConversationList, Conversations, GroupCreate, History, Read, Search, Send,
    ServerMessage, Target,
};
use migration::{Migrator, MigratorTrait};
use testkit::client::{TestClient, error_code, gref, group, member_ref, message, user};
use testkit::db::db_test;
use testkit::server::TestServer;

async fn send_ok(c: &mut TestClient, id: &str, to: Target, text: &str) -> i64 {
    match send(c, id, to, text).await {
        ServerMessage::SayOk(ok) => ok.message_id,
        other => panic!("send {text:?}: {other:?}"),
    }
}

async fn send(c: &mut TestClient, id: &str, to: Target, text: &str) -> ServerMessage {
    c.request(ClientMessage::Send(Send {
        id: id.into(),
        to,
        text: text.into(),
    }))
    .await
}

async fn page(c: &mut TestClient, after: Option<i64>, limit: Option<u32>) -> ConversationList {
    match c
        .request(ClientMessage::Conversations(Conversations { after, limit }))
        .await
    {
        ServerMessage::ConversationList(l) => l,
        other => panic!("conversations: {other:?}"),
    }
}

/// The whole list as (peer, last message id), one entry a page.
async fn listed(c: &mut TestClient) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let l = page(c, after, Some(1)).await;
        out.extend(
            l.conversations
                .iter()
                .map(|c| (c.user.clone(), c.last_message_id)),
        );
        if !l.has_more {
            assert_eq!(l.next, None);
            return out;
        }
        after = l.next;
        assert_eq!(
            after,
            out.last().map(|e| e.1),
            "next is the last entry's id"
        );
    }
}

db_test!(
    direct_conversations_are_listed_newest_first_in_pages_and_only_to_their_users,
    |tdb| async {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut bob, _) = TestClient::user(server.addr, "bob").await;
        let (mut carol, _) = TestClient::user(server.addr, "carol").await;
        let (mut dave, _) = TestClient::user(server.addr, "dave").await;
        assert!(page(&mut alice, None, None).await.conversations.is_empty());

        send_ok(&mut alice, "a1", user("bob"), "hi bob").await;
        let carol_alice = send_ok(&mut carol, "c1", user("alice"), "hi alice").await;
        let bob_alice = send_ok(&mut bob, "b1", user("alice"), "hi again").await;
        let dave_carol = send_ok(&mut dave, "d1", user("carol"), "psst").await;
        alice
            .say_ok("a2", "room messages are no conversation")
            .await;
        let note = send_ok(&mut dave, "d2", user("dave"), "note to self").await;

        // Newest activity first, either way, read back all at once and a page of one at a time.
        let first = page(&mut alice, None, None).await;
        assert!(!first.has_more && first.next.is_none());
        let whole: Vec<(String, i64, i64)> = first
            .conversations
            .iter()
            .map(|c| (c.user.clone(), c.last_message_id, c.last_at))
            .collect();
        assert_eq!(whole.len(), 2, "{whole:?}");
        assert_eq!(
            (whole[0].0.as_str(), whole[0].1),
            ("bob", bob_alice),
            "{whole:?}"
        );
        assert_eq!((whole[1].0.as_str(), whole[1].1), ("carol", carol_alice));
        assert!(
            whole[0].2 >= whole[1].2 && whole[1].2 > 0,
            "times: {whole:?}"
        );
        let alices = vec![
            ("bob".to_owned(), bob_alice),
            ("carol".to_owned(), carol_alice),
        ];
        assert_eq!(listed(&mut alice).await, alices);
        // Each user sees only their own.
        assert_eq!(listed(&mut bob).await, [("alice".to_owned(), bob_alice)]);
        assert_eq!(
            listed(&mut carol).await,
            [
                ("dave".to_owned(), dave_carol),
                ("alice".to_owned(), carol_alice)
            ]
        );
        assert_eq!(
            listed(&mut dave).await,
            [("dave".to_owned(), note), ("carol".to_owned(), dave_carol)]
        );
        // A cursor between entries starts after it; one older than all gives nothing.
        let l = page(&mut alice, Some(bob_alice), None).await;
        assert_eq!(l.conversations.len(), 1);
        assert_eq!(l.conversations[0].user, "carol");
        assert!(
            page(&mut alice, Some(1), None)
                .await
                .conversations
                .is_empty()
        );

        // A newer message moves its conversation to the top.
        let newest = send_ok(&mut carol, "c2", user("alice"), "still there?").await;
        message(&mut alice, "still there?").await;
        assert_eq!(
            listed(&mut alice).await,
            [("carol".to_owned(), newest), ("bob".to_owned(), bob_alice)]
        );
        server.stop().await;

        // The migration fills the table from the stored history: undone and
        // done again, it lists the same.
        let db = chatroom_server::db::connect(tdb.url()).await.unwrap();
        let all = Migrator::migrations();
        let at = all
            .iter()
            .position(|m| m.name() == "m20261207_000012_direct_conversation")
            .unwrap();
        let undo = u32::try_from(all.len() - at).unwrap();
        Migrator::down(&db, Some(undo)).await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        db.close().await.unwrap();
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::existing(server.addr, "alice").await;
        assert_eq!(
            listed(&mut alice).await,
            [("carol".to_owned(), newest), ("bob".to_owned(), bob_alice)]
        );
        let (mut dave, _) = TestClient::existing(server.addr, "dave").await;
        assert_eq!(
            listed(&mut dave).await,
            [("dave".to_owned(), note), ("carol".to_owned(), dave_carol)]
        );
        server.stop().await;
    }
);

db_test!(
    a_closed_group_stays_readable_for_its_members_and_takes_no_more_messages,
    |tdb| async {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut bob, _) = TestClient::user(server.addr, "bob").await;
        let (mut carol, _) = TestClient::user(server.addr, "carol").await;
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
        let first = send_ok(&mut alice, "a1", group("club"), "rocket plans").await;
        message(&mut bob, "rocket plans").await;
        // Bob has not acknowledged this one when the group closes.
        let unread = send_ok(&mut alice, "a2", group("club"), "launch at noon").await;
        message(&mut bob, "launch at noon").await;
        server.admin.close_group("club").await.unwrap();

        // Sending is refused, in so many words.
        let r = send(&mut bob, "b1", group("club"), "anyone?").await;
        assert_eq!(error_code(&r), ErrorCode::GroupClosed);
        match &r {
            ServerMessage::Error(e) => assert!(e.message.contains("readable"), "{e:?}"),
            _ => unreachable!(),
        }
        // History, search and read positions still work for a member.
        let history = |to| {
            ClientMessage::History(History {
                to,
                ..Default::default()
            })
        };
        let ids = |m: ServerMessage| match m {
            ServerMessage::HistoryPage(p) => p.messages.iter().map(|m| m.id).collect::<Vec<_>>(),
            ServerMessage::SearchResults(p) => p.messages.iter().map(|m| m.id).collect(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            ids(bob.request(history(group("club"))).await),
            [first, unread]
        );
        let found = bob
            .request(ClientMessage::Search(Search {
                text: "rocket".into(),
                ..Default::default()
            }))
            .await;
        assert_eq!(ids(found), [first]);
        let read = bob
            .request(ClientMessage::Read(Read {
                to: group("club"),
                upto: first,
            }))
            .await;
        assert!(
            matches!(&read, ServerMessage::ReadOk(ok) if ok.upto == first),
            "{read:?}"
        );
        // Someone who was never a member reads nothing of it.
        let r = carol.request(history(group("club"))).await;
        assert_eq!(error_code(&r), ErrorCode::GroupClosed);

        // Offline delivery goes on: what bob did not acknowledge comes at his next login.
        bob.quit().await;
        let (mut bob, _) = TestClient::existing(server.addr, "bob").await;
        let again = message(&mut bob, "launch at noon").await;
        assert_eq!(again.id, unread);
        server.stop().await;
    }
);
