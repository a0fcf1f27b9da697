//! Groups and direct messages across cluster nodes: a public group made on one node and
//! joined from another, a private group whose membership every node checks (request,
//! approval, removal), direct messages both ways, and offline delivery to a user who
//! logs in on another node than the sender's.
//!
//! Runs on PostgreSQL and MySQL/MariaDB with `TEST_NATS_URL` set; see
//! `testkit/src/cluster.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use testkit::client::{group, user};

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{
    ChatMessage, ClientMessage, GroupChange, GroupCreate, GroupInfo, History, Membership, Read,
    Send, ServerMessage, Target,
};
use testkit::client::{PASSWORD, TestClient, error_code, gref, member_ref};
use testkit::cluster::{chat, cluster_test, message_with};

/// A short while to see whether anything more arrives.
const QUIET: Duration = Duration::from_millis(500);

async fn create_ok(c: &mut TestClient, name: &str, private: bool) -> GroupInfo {
    let req = ClientMessage::GroupCreate(GroupCreate {
        name: name.into(),
        private,
        comment: None,
        full_history: false,
    });
    match c.request(req).await {
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

static NEXT: AtomicU32 = AtomicU32::new(0);

async fn send(c: &mut TestClient, to: Target, text: &str) -> ServerMessage {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
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

/// The next `group_update` with this change and (if any) user.
async fn update(c: &mut TestClient, change: GroupChange) -> (GroupInfo, Option<String>) {
    match c
        .wait_for(
            &format!("group_update {change:?}"),
            |m| matches!(m, ServerMessage::GroupUpdate(u) if u.change == change),
        )
        .await
    {
        ServerMessage::GroupUpdate(u) => (u.group, u.user),
        _ => unreachable!(),
    }
}

async fn history(c: &mut TestClient, to: Target) -> ServerMessage {
    c.request(ClientMessage::History(History {
        to,
        ..Default::default()
    }))
    .await
}

fn texts(ms: &[ChatMessage]) -> Vec<&str> {
    ms.iter().map(|m| m.text.as_str()).collect()
}

/// Chat messages that arrive within [`QUIET`].
async fn messages_now(c: &mut TestClient) -> Vec<ChatMessage> {
    chat(&c.drain_for(QUIET).await)
}

cluster_test!(
    public_group_and_direct_messages_cross_nodes,
    |env| async move {
        let cluster = env.start(2).await;
        let (mut alice, _) = TestClient::user(cluster.addr(1), "alice").await;
        let (mut bob, _) = TestClient::user(cluster.addr(2), "bob").await;
        let (mut carol, _) = TestClient::user(cluster.addr(2), "carol").await;
        cluster.online_everywhere(&["alice", "bob", "carol"]).await;

        // alice makes a public group on n1; bob joins it from n2, and she is told.
        create_ok(&mut alice, "rust", false).await;
        let joined = state(&mut bob, ClientMessage::GroupJoin(gref("rust"))).await;
        assert_eq!((joined.me, joined.members), (Membership::Member, 2));
        let (g, who) = update(&mut alice, GroupChange::Joined).await;
        assert_eq!(
            (g.name.as_str(), g.members, who.as_deref()),
            ("rust", 2, Some("bob"))
        );

        // Messages both ways; carol (n2, not a member) gets none.
        let id = send_ok(&mut alice, group("rust"), "from n1 to the group").await;
        let got = message_with(&mut bob, "from n1 to the group").await;
        assert_eq!(
            (got.id, got.from.as_str(), &got.to),
            (id, "alice", &group("rust"))
        );
        let id = send_ok(&mut bob, group("rust"), "from n2 to the group").await;
        let got = message_with(&mut alice, "from n2 to the group").await;
        assert_eq!((got.id, got.from.as_str()), (id, "bob"));
        let stray = messages_now(&mut carol).await;
        assert!(stray.is_empty(), "carol got group messages: {stray:?}");
        assert!(messages_now(&mut alice).await.is_empty(), "alice got more");
        assert!(messages_now(&mut bob).await.is_empty(), "bob got more");
        // carol may read the public group's history (on n2) but not write to it.
        match history(&mut carol, group("rust")).await {
            ServerMessage::HistoryPage(p) => assert_eq!(
                texts(&p.messages),
                ["from n1 to the group", "from n2 to the group"]
            ),
            other => panic!("history: {other:?}"),
        }
        assert_eq!(
            error_code(&send(&mut carol, group("rust"), "hi").await),
            ErrorCode::Forbidden
        );

        // Direct messages from n1 to n2 and back, each naming its recipient.
        let id = send_ok(&mut alice, user("bob"), "psst, bob").await;
        let got = message_with(&mut bob, "psst, bob").await;
        assert_eq!(
            (got.id, got.from.as_str(), &got.to),
            (id, "alice", &user("bob"))
        );
        let id = send_ok(&mut bob, user("alice"), "psst, alice").await;
        let got = message_with(&mut alice, "psst, alice").await;
        assert_eq!(
            (got.id, got.from.as_str(), &got.to),
            (id, "bob", &user("alice"))
        );
        let stray = messages_now(&mut carol).await;
        assert!(stray.is_empty(), "carol got direct messages: {stray:?}");

        // bob leaves the group on n2: alice is told and he gets no more of it.
        state(&mut bob, ClientMessage::GroupLeave(gref("rust"))).await;
        let (_, who) = update(&mut alice, GroupChange::Left).await;
        assert_eq!(who.as_deref(), Some("bob"));
        send_ok(&mut alice, group("rust"), "anyone left?").await;
        let stray = messages_now(&mut bob).await;
        assert!(
            stray.is_empty(),
            "bob got messages after leaving: {stray:?}"
        );
        cluster.stop().await;
    }
);

cluster_test!(
    private_group_membership_is_checked_on_every_node,
    |env| async move {
        let cluster = env.start(2).await;
        let (mut alice, _) = TestClient::user(cluster.addr(1), "alice").await;
        let (mut bob, _) = TestClient::user(cluster.addr(2), "bob").await;
        cluster.online_everywhere(&["alice", "bob"]).await;

        create_ok(&mut alice, "secret", true).await;
        send_ok(&mut alice, group("secret"), "before bob").await;

        // bob (n2) asks to join; alice (n1) is told. Until she decides, n2 keeps him out.
        let asked = state(&mut bob, ClientMessage::GroupJoin(gref("secret"))).await;
        assert_eq!(asked.me, Membership::Requested);
        let (_, who) = update(&mut alice, GroupChange::Requested).await;
        assert_eq!(who.as_deref(), Some("bob"));
        assert_eq!(
            error_code(&send(&mut bob, group("secret"), "let me in").await),
            ErrorCode::Forbidden
        );
        assert_eq!(
            error_code(&history(&mut bob, group("secret")).await),
            ErrorCode::Forbidden
        );
        send_ok(&mut alice, group("secret"), "while bob waits").await;
        let stray = messages_now(&mut bob).await;
        assert!(stray.is_empty(), "bob read the group early: {stray:?}");

        // alice approves on n1: on n2 bob is in at once, both ways.
        state(
            &mut alice,
            ClientMessage::GroupApprove(member_ref("secret", "bob")),
        )
        .await;
        let (g, _) = update(&mut bob, GroupChange::Approved).await;
        assert_eq!(g.me, Membership::Member);
        let id = send_ok(&mut bob, group("secret"), "thanks for having me").await;
        assert_eq!(
            message_with(&mut alice, "thanks for having me").await.id,
            id
        );
        let id = send_ok(&mut alice, group("secret"), "welcome, bob").await;
        assert_eq!(message_with(&mut bob, "welcome, bob").await.id, id);
        match history(&mut bob, group("secret")).await {
            // He reads from the moment he joined (the group keeps no full history).
            ServerMessage::HistoryPage(p) => {
                assert_eq!(texts(&p.messages), ["thanks for having me", "welcome, bob"])
            }
            other => panic!("history: {other:?}"),
        }

        // alice removes him on n1: on n2 he is out again at once.
        state(
            &mut alice,
            ClientMessage::GroupRemove(member_ref("secret", "bob")),
        )
        .await;
        let (g, _) = update(&mut bob, GroupChange::Removed).await;
        assert_eq!(g.me, Membership::Removed);
        assert_eq!(
            error_code(&send(&mut bob, group("secret"), "still here?").await),
            ErrorCode::Forbidden
        );
        assert_eq!(
            error_code(&history(&mut bob, group("secret")).await),
            ErrorCode::Forbidden
        );
        send_ok(&mut alice, group("secret"), "after bob").await;
        let stray = messages_now(&mut bob).await;
        assert!(
            stray.is_empty(),
            "bob read the group after removal: {stray:?}"
        );
        cluster.stop().await;
    }
);

cluster_test!(
    direct_messages_to_an_offline_user_arrive_at_login_on_another_node,
    |env| async move {
        let cluster = env.start(2).await;
        let (mut alice, _) = TestClient::user(cluster.addr(1), "alice").await;
        // bob has an account (made on n2) but is not logged in anywhere.
        let mut reg = TestClient::greeted(cluster.addr(2)).await;
        assert!(matches!(
            reg.register("bob", PASSWORD).await,
            ServerMessage::RegisterOk(_)
        ));
        drop(reg);

        // alice, on n1, writes to him while he is offline.
        let first = send_ok(&mut alice, user("bob"), "dm 1").await;
        let second = send_ok(&mut alice, user("bob"), "dm 2").await;

        // He logs in on n2 and gets both, in order.
        let (mut bob, _) = TestClient::existing(cluster.addr(2), "bob").await;
        let got = messages_now(&mut bob).await;
        assert_eq!(texts(&got), ["dm 1", "dm 2"]);
        assert_eq!(
            got.iter().map(|m| m.id).collect::<Vec<_>>(),
            [first, second]
        );
        assert!(got.iter().all(|m| m.from == "alice" && m.to == user("bob")));

        // He marks them read on n2 and quits; one more comes while he is away.
        match bob
            .request(ClientMessage::Read(Read {
                to: user("alice"),
                upto: second,
            }))
            .await
        {
            ServerMessage::ReadOk(ok) => assert_eq!(ok.upto, second),
            other => panic!("read: {other:?}"),
        }
        bob.quit().await;
        send_ok(&mut alice, user("bob"), "dm 3").await;

        // Back on n1 this time: only what he has not read.
        let (mut bob, _) = TestClient::existing(cluster.addr(1), "bob").await;
        assert_eq!(texts(&messages_now(&mut bob).await), ["dm 3"]);
        cluster.stop().await;
    }
);
