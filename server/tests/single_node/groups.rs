//! Groups, direct messages, offline delivery, history and search over real TCP, and every
//! forbidden path: non-members of private groups, non-creators, a sixth group, a DM to
//! nobody, closed groups; plus the per-address connection limit and the admin's
//! `/close-group`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use testkit::client::{group, message, user};

use std::time::Duration;

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{
    ChatMessage, ClientMessage, GroupChange, GroupCreate, GroupInfo, GroupStatus, Groups, History,
    LeaveReason, Membership, Read, Search, Send, ServerMessage, Target,
};
use testkit::client::{TestClient, error_code, gref, member_ref, members_of};
use testkit::db::{TestDb, db_test};
use testkit::hostile::{greeted_from_eventually, lo};
use testkit::server::TestServer;

async fn create(c: &mut TestClient, name: &str, private: bool) -> ServerMessage {
    c.request(ClientMessage::GroupCreate(GroupCreate {
        name: name.into(),
        private,
        comment: Some(format!("about {name}")),
        full_history: false,
    }))
    .await
}

async fn create_ok(c: &mut TestClient, name: &str, private: bool) -> GroupInfo {
    match create(c, name, private).await {
        ServerMessage::GroupState(s) => s.group,
        other => panic!("group_create {name}: {other:?}"),
    }
}

async fn state(c: &mut TestClient, req: ClientMessage) -> GroupInfo {
    match c.request(req.clone()).await {
        ServerMessage::GroupState(s) => s.group,
        other => panic!("{}: {other:?}", req.type_name()),
    }
}

static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

async fn send(c: &mut TestClient, to: Target, text: &str) -> ServerMessage {
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    c.request(ClientMessage::Send(Send {
        id: format!("m{n}"),
        to,
        text: text.into(),
    }))
    .await
}

async fn send_ok(c: &mut TestClient, to: Target, text: &str) -> i64 {
    match send(c, to, text).await {
        ServerMessage::SayOk(ok) => ok.message_id,
        other => panic!("send {text:?}: {other:?}"),
    }
}

async fn update(c: &mut TestClient, change: GroupChange) -> (GroupInfo, Option<String>) {
    match c
        .wait_for(
            "group_update",
            |m| matches!(m, ServerMessage::GroupUpdate(u) if u.change == change),
        )
        .await
    {
        ServerMessage::GroupUpdate(u) => (u.group, u.user),
        _ => unreachable!(),
    }
}

/// The `message` events `c` gets before the one with the text `marker`, in
/// order. Sent after the events in question, the marker reaches `c` after
/// them (one hub delivers committed batches in id order), so nothing can
/// still be on its way when this returns.
async fn messages_before(c: &mut TestClient, marker: &str) -> Vec<ChatMessage> {
    let mut got = Vec::new();
    loop {
        match c.recv().await {
            ServerMessage::Message(m) if m.text == marker => return got,
            ServerMessage::Message(m) => got.push(m),
            _ => {}
        }
    }
}

async fn history(c: &mut TestClient, h: History) -> Vec<ChatMessage> {
    match c.request(ClientMessage::History(h)).await {
        ServerMessage::HistoryPage(p) => p.messages,
        other => panic!("history: {other:?}"),
    }
}

fn texts(ms: &[ChatMessage]) -> Vec<&str> {
    ms.iter().map(|m| m.text.as_str()).collect()
}

db_test!(
    public_and_private_groups_with_every_forbidden_path,
    |tdb| async {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut bob, _) = TestClient::user(server.addr, "bob").await;
        let (mut carol, _) = TestClient::user(server.addr, "carol").await;

        // A public group: anyone joins; messages reach the members only.
        let rust = create_ok(&mut alice, "rust", false).await;
        assert_eq!(
            (rust.me, rust.members, rust.private),
            (Membership::Member, 1, false)
        );
        assert_eq!(
            error_code(&create(&mut bob, "RUST", false).await),
            ErrorCode::GroupExists
        );
        let joined = state(&mut bob, ClientMessage::GroupJoin(gref("rust"))).await;
        assert_eq!((joined.me, joined.members), (Membership::Member, 2));
        let (_, who) = update(&mut alice, GroupChange::Joined).await;
        assert_eq!(who.as_deref(), Some("bob"));
        let again = bob.request(ClientMessage::GroupJoin(gref("rust"))).await;
        assert_eq!(error_code(&again), ErrorCode::AlreadyMember);
        send_ok(&mut alice, group("rust"), "hello rustaceans").await;
        let got = message(&mut bob, "hello rustaceans").await;
        assert_eq!((got.from.as_str(), &got.to), ("alice", &group("rust")));
        // A DM sent after it reaches carol after it would have.
        send_ok(&mut alice, user("carol"), "marker for carol").await;
        assert!(
            messages_before(&mut carol, "marker for carol")
                .await
                .is_empty(),
            "a non-member got a group message"
        );
        // A non-member may read a public group's history but not write to it.
        let page = history(
            &mut carol,
            History {
                to: group("rust"),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(texts(&page), ["hello rustaceans"]);
        assert_eq!(
            error_code(&send(&mut carol, group("rust"), "hi").await),
            ErrorCode::Forbidden
        );

        // A private group: joining is a request the creator decides.
        let secret = create_ok(&mut alice, "secret", true).await;
        assert!(secret.private);
        let asked = state(&mut bob, ClientMessage::GroupJoin(gref("secret"))).await;
        assert_eq!(asked.me, Membership::Requested);
        let (_, who) = update(&mut alice, GroupChange::Requested).await;
        assert_eq!(who.as_deref(), Some("bob"));
        // Only the creator decides; only members see inside.
        let r = carol
            .request(ClientMessage::GroupApprove(member_ref("secret", "bob")))
            .await;
        assert_eq!(error_code(&r), ErrorCode::Forbidden);
        let r = carol
            .request(ClientMessage::GroupMembers(members_of("secret")))
            .await;
        assert_eq!(error_code(&r), ErrorCode::Forbidden);
        let r = carol
            .request(ClientMessage::History(History {
                to: group("secret"),
                ..Default::default()
            }))
            .await;
        assert_eq!(error_code(&r), ErrorCode::Forbidden);
        assert_eq!(
            error_code(&send(&mut carol, group("secret"), "let me in").await),
            ErrorCode::Forbidden
        );
        assert_eq!(
            error_code(&send(&mut bob, group("secret"), "pending").await),
            ErrorCode::Forbidden
        );
        match alice
            .request(ClientMessage::GroupMembers(members_of("secret")))
            .await
        {
            ServerMessage::MemberList(l) => {
                assert_eq!(
                    (l.members, l.requests),
                    (vec!["alice".to_owned()], vec!["bob".to_owned()])
                );
            }
            other => panic!("{other:?}"),
        }
        state(
            &mut alice,
            ClientMessage::GroupApprove(member_ref("secret", "bob")),
        )
        .await;
        let (g, _) = update(&mut bob, GroupChange::Approved).await;
        assert_eq!(g.me, Membership::Member);
        send_ok(&mut bob, group("secret"), "thanks for having me").await;
        message(&mut alice, "thanks for having me").await;
        match bob
            .request(ClientMessage::GroupMembers(members_of("secret")))
            .await
        {
            ServerMessage::MemberList(l) => {
                assert_eq!(l.members, ["alice", "bob"]);
                assert!(l.requests.is_empty(), "only the creator sees requests");
            }
            other => panic!("{other:?}"),
        }
        // carol asks and is rejected; then asks again and is let in, then removed.
        state(&mut carol, ClientMessage::GroupJoin(gref("secret"))).await;
        state(
            &mut alice,
            ClientMessage::GroupReject(member_ref("secret", "carol")),
        )
        .await;
        let (g, _) = update(&mut carol, GroupChange::Rejected).await;
        assert_eq!(g.me, Membership::Removed);
        state(&mut carol, ClientMessage::GroupJoin(gref("secret"))).await;
        state(
            &mut alice,
            ClientMessage::GroupApprove(member_ref("secret", "carol")),
        )
        .await;
        update(&mut bob, GroupChange::Joined).await;
        let r = bob
            .request(ClientMessage::GroupRemove(member_ref("secret", "carol")))
            .await;
        assert_eq!(error_code(&r), ErrorCode::Forbidden);
        state(
            &mut alice,
            ClientMessage::GroupRemove(member_ref("secret", "carol")),
        )
        .await;
        update(&mut carol, GroupChange::Removed).await;
        assert_eq!(
            error_code(&send(&mut carol, group("secret"), "still here?").await),
            ErrorCode::Forbidden
        );
        let r = alice
            .request(ClientMessage::GroupRemove(member_ref("secret", "alice")))
            .await;
        assert_eq!(error_code(&r), ErrorCode::Forbidden);
        let r = alice
            .request(ClientMessage::GroupApprove(member_ref("secret", "nobody")))
            .await;
        assert_eq!(error_code(&r), ErrorCode::UserNotFound);

        // The list shows each user's standing.
        let list = match carol
            .request(ClientMessage::Groups(Groups::default()))
            .await
        {
            ServerMessage::GroupList(l) => l.groups,
            other => panic!("{other:?}"),
        };
        let standing: Vec<(&str, Membership, u32)> = list
            .iter()
            .map(|g| (g.name.as_str(), g.me, g.members))
            .collect();
        assert_eq!(
            standing,
            [
                ("rust", Membership::None, 2),
                ("secret", Membership::Removed, 2)
            ]
        );

        // A member leaves; then the creator leaves, which closes the group.
        state(&mut bob, ClientMessage::GroupLeave(gref("rust"))).await;
        let (_, who) = update(&mut alice, GroupChange::Left).await;
        assert_eq!(who.as_deref(), Some("bob"));
        let left = state(&mut alice, ClientMessage::GroupLeave(gref("secret"))).await;
        assert_eq!(
            (left.status, left.me),
            (GroupStatus::Closed, Membership::Left)
        );
        let (g, _) = update(&mut bob, GroupChange::Closed).await;
        assert_eq!(g.status, GroupStatus::Closed);
        // A closed group stays listed for its members, not for the creator who left.
        let listed = |l: ServerMessage| match l {
            ServerMessage::GroupList(l) => l.groups.into_iter().map(|g| g.name).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        let bobs = listed(bob.request(ClientMessage::Groups(Groups::default())).await);
        assert!(bobs.contains(&"secret".to_owned()), "{bobs:?}");
        let alices = listed(
            alice
                .request(ClientMessage::Groups(Groups::default()))
                .await,
        );
        assert!(!alices.contains(&"secret".to_owned()), "{alices:?}");
        assert_eq!(
            error_code(&send(&mut bob, group("secret"), "anyone?").await),
            ErrorCode::GroupClosed
        );
        // ... and stays readable for its members.
        let r = bob
            .request(ClientMessage::History(History {
                to: group("secret"),
                ..Default::default()
            }))
            .await;
        assert!(matches!(r, ServerMessage::HistoryPage(_)), "{r:?}");
        let r = bob.request(ClientMessage::GroupJoin(gref("nope"))).await;
        assert_eq!(error_code(&r), ErrorCode::GroupNotFound);

        // At most five open groups each (the closed one does not count).
        for name in ["g1", "g2", "g3", "g4"] {
            create_ok(&mut alice, name, false).await;
        }
        assert_eq!(
            error_code(&create(&mut alice, "g5", false).await),
            ErrorCode::TooManyGroups
        );
        assert_eq!(
            error_code(&create(&mut carol, "bad name", false).await),
            ErrorCode::InvalidName
        );

        // The administrator closes a group; its members are told.
        state(&mut bob, ClientMessage::GroupJoin(gref("g1"))).await;
        server.admin.close_group("g1").await.unwrap();
        let (g, _) = update(&mut bob, GroupChange::Closed).await;
        assert_eq!(
            (g.name.as_str(), g.status),
            ("g1", GroupStatus::ClosedByAdmin)
        );
        assert!(server.admin.close_group("g1").await.is_err());
        let names: Vec<String> = server
            .admin
            .groups()
            .await
            .unwrap()
            .into_iter()
            .map(|g| g.name)
            .collect();
        assert_eq!(names, ["rust", "g2", "g3", "g4"]);
        server.stop().await;
    }
);

db_test!(
    offline_delivery_is_in_order_once_acknowledged_and_survives_a_restart,
    |tdb| async {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut bob, _) = TestClient::user(server.addr, "bob").await;
        create_ok(&mut alice, "private", true).await;
        create_ok(&mut alice, "public", false).await;
        state(&mut bob, ClientMessage::GroupJoin(gref("private"))).await;
        state(
            &mut alice,
            ClientMessage::GroupApprove(member_ref("private", "bob")),
        )
        .await;
        state(&mut bob, ClientMessage::GroupJoin(gref("public"))).await;
        // A DM to nobody.
        assert_eq!(
            error_code(&send(&mut alice, user("nobody"), "hi").await),
            ErrorCode::UserNotFound
        );
        // Online, a DM arrives at once, naming its recipient.
        send_ok(&mut alice, user("bob"), "are you there?").await;
        let dm = message(&mut bob, "are you there?").await;
        assert_eq!((dm.from.as_str(), &dm.to), ("alice", &user("bob")));
        bob.request(ClientMessage::Read(Read {
            to: user("alice"),
            upto: dm.id,
        }))
        .await;

        // bob goes offline; alice writes to him, to the private group and the public one.
        bob.quit().await;
        let mut sent = Vec::new();
        for (to, text) in [
            (user("bob"), "dm 1"),
            (group("private"), "private 1"),
            (group("public"), "public 1"),
            (user("bob"), "dm 2"),
            (group("private"), "private 2"),
        ] {
            sent.push((send_ok(&mut alice, to, text).await, text));
        }
        // At login, what he missed arrives in order, but nothing from the public group.
        let (mut bob, _) = TestClient::existing(server.addr, "bob").await;
        let got = messages_before_pong(&mut bob).await;
        assert_eq!(texts(&got), ["dm 1", "private 1", "dm 2", "private 2"]);
        assert!(got.windows(2).all(|w| w[0].id < w[1].id));
        // He acknowledged nothing and the connection drops: all of it comes again.
        drop(bob);
        alice
            .wait_for("bob's connection drops", |m| {
                matches!(m, ServerMessage::UserLeft(l)
                    if l.name == "bob" && l.reason == LeaveReason::Disconnected)
            })
            .await;
        let (mut bob, _) = TestClient::existing(server.addr, "bob").await;
        let again = messages_before_pong(&mut bob).await;
        assert_eq!(texts(&again), ["dm 1", "private 1", "dm 2", "private 2"]);
        // He acknowledges the private group only, and the first DM.
        let private_last = again
            .iter()
            .filter(|m| m.to == group("private"))
            .map(|m| m.id)
            .max()
            .unwrap();
        match bob
            .request(ClientMessage::Read(Read {
                to: group("private"),
                upto: private_last,
            }))
            .await
        {
            ServerMessage::ReadOk(ok) => assert_eq!(ok.upto, private_last),
            other => panic!("{other:?}"),
        }
        // A position never moves back.
        match bob
            .request(ClientMessage::Read(Read {
                to: group("private"),
                upto: 1,
            }))
            .await
        {
            ServerMessage::ReadOk(ok) => assert_eq!(ok.upto, private_last),
            other => panic!("{other:?}"),
        }
        bob.request(ClientMessage::Read(Read {
            to: user("alice"),
            upto: again[0].id,
        }))
        .await;
        bob.quit().await;

        // After a server restart, only what he did not acknowledge comes.
        server.stop().await;
        let server = TestServer::start(tdb.url()).await;
        let (mut bob, _) = TestClient::existing(server.addr, "bob").await;
        assert_eq!(texts(&messages_before_pong(&mut bob).await), ["dm 2"]);
        let last = sent.iter().find(|(_, t)| *t == "dm 2").unwrap().0;
        bob.request(ClientMessage::Read(Read {
            to: user("alice"),
            upto: last,
        }))
        .await;
        bob.quit().await;
        let (mut bob, _) = TestClient::existing(server.addr, "bob").await;
        assert!(
            messages_before_pong(&mut bob).await.is_empty(),
            "acknowledged messages came again"
        );

        // A request made while the creator is offline (since the restart) reaches
        // them when they log in.
        let (mut carol, _) = TestClient::user(server.addr, "carol").await;
        state(&mut carol, ClientMessage::GroupJoin(gref("private"))).await;
        let (mut alice, _) = TestClient::existing(server.addr, "alice").await;
        let (g, who) = update(&mut alice, GroupChange::Requested).await;
        assert_eq!(
            (g.name.as_str(), who.as_deref()),
            ("private", Some("carol"))
        );
        // A new member of a private group reads it from the moment they joined.
        state(
            &mut alice,
            ClientMessage::GroupApprove(member_ref("private", "carol")),
        )
        .await;
        send_ok(&mut alice, group("private"), "welcome carol").await;
        let page = history(
            &mut carol,
            History {
                to: group("private"),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(texts(&page), ["welcome carol"]);
        let page = history(
            &mut bob,
            History {
                to: group("private"),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(texts(&page), ["private 1", "private 2", "welcome carol"]);
        server.stop().await;
    }
);

db_test!(
    history_queries_and_search_see_only_what_the_user_may_read,
    |tdb| async {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut bob, _) = TestClient::user(server.addr, "bob").await;
        let (mut carol, _) = TestClient::user(server.addr, "carol").await;
        create_ok(&mut alice, "club", true).await;
        state(&mut bob, ClientMessage::GroupJoin(gref("club"))).await;
        state(
            &mut alice,
            ClientMessage::GroupApprove(member_ref("club", "bob")),
        )
        .await;
        create_ok(&mut carol, "open", false).await;

        let t0 = chatroom_server::time::now_ms();
        let a1 = send_ok(&mut alice, group("club"), "Deploy the Rocket at noon").await;
        tokio::time::sleep(Duration::from_millis(30)).await;
        let t1 = chatroom_server::time::now_ms();
        let b1 = send_ok(&mut bob, group("club"), "rocket fuel is 100% ready").await;
        let _a2 = send_ok(&mut alice, group("club"), "great, see you").await;
        send_ok(&mut carol, group("open"), "a ROCKET in the open").await;
        send_ok(&mut carol, user("alice"), "secret rocket plans for alice").await;
        send_ok(&mut bob, user("carol"), "rocket talk bob to carol").await;
        alice.say_ok("r1", "rocket in the main room").await;

        // By conversation, cursor, time, sender and words.
        let all = history(
            &mut bob,
            History {
                to: group("club"),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(all.len(), 3);
        assert!(all.iter().all(|m| m.to == group("club")));
        let before = history(
            &mut bob,
            History {
                to: group("club"),
                before: Some(b1),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(texts(&before), ["Deploy the Rocket at noon"]);
        let after = history(
            &mut bob,
            History {
                to: group("club"),
                after: Some(a1),
                limit: Some(1),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(texts(&after), ["rocket fuel is 100% ready"]);
        let timed = history(
            &mut bob,
            History {
                to: group("club"),
                after_ts: Some(t1 - 1),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(timed.len(), 2);
        let early = history(
            &mut bob,
            History {
                to: group("club"),
                before_ts: Some(t1),
                after_ts: Some(t0 - 1),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(texts(&early), ["Deploy the Rocket at noon"]);
        let from = history(
            &mut bob,
            History {
                to: group("club"),
                from: Some("alice".into()),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(
            texts(&from),
            ["Deploy the Rocket at noon", "great, see you"]
        );
        let words = history(
            &mut bob,
            History {
                to: group("club"),
                text: Some("ROCKET 100%".into()),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(texts(&words), ["rocket fuel is 100% ready"]);
        let pct = history(
            &mut bob,
            History {
                to: group("club"),
                text: Some("%".into()),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(
            texts(&pct),
            ["rocket fuel is 100% ready"],
            "% is a character, not a wildcard"
        );
        // Direct messages: between two users only, seen by both.
        let dm = history(
            &mut alice,
            History {
                to: user("carol"),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(texts(&dm), ["secret rocket plans for alice"]);
        assert_eq!(dm[0].to, user("alice"));
        let dm = history(
            &mut carol,
            History {
                to: user("alice"),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(texts(&dm), ["secret rocket plans for alice"]);

        // Search: everything the user may read, newest first, and nothing else.
        let search = |text: &str| {
            ClientMessage::Search(Search {
                text: text.into(),
                ..Default::default()
            })
        };
        let found = match carol.request(search("rocket")).await {
            ServerMessage::SearchResults(r) => r.messages,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            texts(&found),
            [
                "rocket in the main room",
                "rocket talk bob to carol",
                "secret rocket plans for alice",
                "a ROCKET in the open"
            ]
        );
        let found = match bob.request(search("rocket")).await {
            ServerMessage::SearchResults(r) => r.messages,
            other => panic!("{other:?}"),
        };
        let places: Vec<&Target> = found.iter().map(|m| &m.to).collect();
        assert_eq!(texts(&found)[0], "rocket in the main room");
        assert!(places.contains(&&group("club")) && places.contains(&&group("open")));
        assert!(
            !texts(&found).contains(&"secret rocket plans for alice"),
            "bob read alice's DM"
        );
        match bob
            .request(ClientMessage::Search(Search {
                text: "rocket".into(),
                limit: Some(2),
                ..Default::default()
            }))
            .await
        {
            ServerMessage::SearchResults(r) => {
                assert_eq!(r.messages.len(), 2);
                assert!(r.has_more);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            error_code(&bob.request(search("  ")).await),
            ErrorCode::InvalidText
        );
        server.stop().await;
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_connection_too_many_from_an_address_is_refused_and_closed() {
    let tdb = TestDb::create(testkit::db::Backend::Sqlite).await;
    let server = TestServer::start_with(tdb.url(), |c| c.max_connections_per_address = 2).await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let _second = TestClient::greeted(server.addr).await;
    let mut third = TestClient::connect(server.addr).await;
    let got = third.expect_closed().await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(error_code(&got[0]), ErrorCode::TooManyConnections);
    // The others are undisturbed; a freed slot can be used again.
    alice.say_ok("x", "still here").await;
    drop(_second);
    // Connects until the server has noticed the close and freed the slot.
    greeted_from_eventually(server.addr, lo(1)).await;
    server.stop().await;
    tdb.drop_db().await;
}

/// The `message` events that arrive before the reply to a `ping` sent now:
/// offline delivery happens inside the login, so everything it sends comes
/// before the reply to the next request.
async fn messages_before_pong(c: &mut TestClient) -> Vec<ChatMessage> {
    let seq = c
        .send(ClientMessage::Ping(chatroom_shared::message::Ping {}))
        .await;
    let mut got = Vec::new();
    loop {
        match c.recv().await {
            ServerMessage::Pong(p) if p.seq == seq => return got,
            ServerMessage::Message(m) => got.push(m),
            _ => {}
        }
    }
}

// A client never receives its own messages as events (PROTOCOL §7.3): a user's
// read position covers what they sent, in private groups as in DMs.
db_test!(
    own_messages_never_come_back_at_the_next_login,
    |tdb| async {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut bob, _) = TestClient::user(server.addr, "bob").await;
        create_ok(&mut alice, "private", true).await;
        state(&mut bob, ClientMessage::GroupJoin(gref("private"))).await;
        state(
            &mut alice,
            ClientMessage::GroupApprove(member_ref("private", "bob")),
        )
        .await;
        send_ok(&mut alice, group("private"), "alice to the group").await;
        send_ok(&mut alice, user("bob"), "alice to bob").await;
        send_ok(&mut bob, group("private"), "bob to the group").await;
        send_ok(&mut bob, user("alice"), "bob to alice").await;
        send_ok(&mut alice, group("private"), "alice again").await;
        send_ok(&mut alice, user("alice"), "a note to herself").await;
        alice.quit().await;
        bob.quit().await;

        // Neither read anything: each gets what the other wrote, and only that.
        let (mut alice, _) = TestClient::existing(server.addr, "alice").await;
        assert_eq!(
            texts(&messages_before_pong(&mut alice).await),
            ["bob to the group", "bob to alice"]
        );
        let (mut bob, _) = TestClient::existing(server.addr, "bob").await;
        assert_eq!(
            texts(&messages_before_pong(&mut bob).await),
            ["alice to the group", "alice to bob", "alice again"]
        );
        server.stop().await;
    }
);
