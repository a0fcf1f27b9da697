//! Who is online, as nodes come and go: a node started later learns who is online on
//! the others; a node stopped gracefully takes its users out of the others' lists
//! at once (not after the node timeout); one account logging in on two nodes at the
//! same moment ends with one session, listed on one node by every node.
//!
//! Runs on PostgreSQL and MySQL/MariaDB with `TEST_NATS_URL` set; see
//! `testkit/src/cluster.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chatroom_shared::message::{ClientMessage, LeaveReason, Login, ServerMessage};
use testkit::client::{PASSWORD, TestClient, WAIT};
use testkit::cluster::{
    about, cluster_test, joined, left, message_with, online_names, pairs, placement,
};
use tokio::time::Instant;

fn sorted(mut names: Vec<&str>) -> Vec<&str> {
    names.sort_unstable();
    names
}

cluster_test!(
    a_node_started_later_learns_who_is_online,
    |env| async move {
        let mut cluster = env.start(2).await;
        let (mut alice, _) = TestClient::user(cluster.addr(1), "alice").await;
        let (mut bob, _) = TestClient::user(cluster.addr(2), "bob").await;
        cluster.online_everywhere(&["alice", "bob"]).await;

        // n3 starts while they are online: it learns of them without any new login.
        cluster.nodes.push(env.node("n3").await);
        cluster.online_everywhere(&["alice", "bob"]).await;
        assert_eq!(
            placement(cluster.node(3)).await,
            pairs(&[("alice", "n1"), ("bob", "n2")])
        );
        let (mut carol, login) = TestClient::user(cluster.addr(3), "carol").await;
        assert_eq!(sorted(online_names(&login)), ["alice", "bob", "carol"]);
        joined(&mut alice, "carol").await;
        joined(&mut bob, "carol").await;

        // Chat flows between all three.
        let ack = carol.say_ok("c1", "hello from n3").await;
        assert_eq!(
            message_with(&mut alice, "hello from n3").await.id,
            ack.message_id
        );
        assert_eq!(
            message_with(&mut bob, "hello from n3").await.id,
            ack.message_id
        );
        let ack = alice.say_ok("a1", "welcome, n3").await;
        assert_eq!(
            message_with(&mut carol, "welcome, n3").await.id,
            ack.message_id
        );
        cluster.stop().await;
    }
);

cluster_test!(
    a_node_stopped_gracefully_takes_its_users_out_at_once,
    |env| async move {
        // A node timeout far beyond the test's waits: only the stopping node's own
        // word can take its users out in time.
        let mut cluster = env
            .start_with(2, |c| c.node_timeout = Duration::from_secs(60))
            .await;
        let (mut alice, _) = TestClient::user(cluster.addr(1), "alice").await;
        let (mut bob, _) = TestClient::user(cluster.addr(2), "bob").await;
        let (mut carol, _) = TestClient::user(cluster.addr(2), "carol").await;
        cluster.online_everywhere(&["alice", "bob", "carol"]).await;

        let n2 = cluster.nodes.remove(1);
        n2.stop().await;
        for c in [&mut bob, &mut carol] {
            let got = c.expect_closed().await;
            assert!(
                got.iter()
                    .any(|m| matches!(m, ServerMessage::ServerShutdown(_))),
                "{got:?}"
            );
        }
        left(&mut alice, "bob").await;
        left(&mut alice, "carol").await;
        cluster.online_everywhere(&["alice"]).await;

        // They come back on n1.
        let (_bob, login) = TestClient::existing(cluster.addr(1), "bob").await;
        assert_eq!(sorted(online_names(&login)), ["alice", "bob"]);
        joined(&mut alice, "bob").await;
        cluster.stop().await;
    }
);

/// Wait until every node lists the same users on the same nodes, each name once, and
/// that list has `names`; returns it.
async fn agreed_placement(
    cluster: &testkit::cluster::Cluster,
    names: &[&str],
) -> Vec<(String, String)> {
    let deadline = Instant::now() + WAIT;
    loop {
        let lists = [
            placement(cluster.node(1)).await,
            placement(cluster.node(2)).await,
        ];
        let listed: Vec<&str> = lists[0].iter().map(|(u, _)| u.as_str()).collect();
        if lists[0] == lists[1] && listed == names {
            return lists[0].clone();
        }
        assert!(
            Instant::now() < deadline,
            "the nodes do not agree: n1 lists {:?}, n2 lists {:?}, want {names:?} once each",
            lists[0],
            lists[1]
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

cluster_test!(
    one_account_logging_in_on_two_nodes_at_once_keeps_one_session,
    |env| async move {
        let cluster = env.start(2).await;
        let (mut bob, _) = TestClient::user(cluster.addr(1), "bob").await;
        let (mut carol, _) = TestClient::user(cluster.addr(2), "carol").await;
        cluster.online_everywhere(&["bob", "carol"]).await;

        for round in 0..3 {
            let name = format!("alice{round}");
            let mut reg = TestClient::greeted(cluster.addr(1)).await;
            assert!(matches!(
                reg.register(&name, PASSWORD).await,
                ServerMessage::RegisterOk(_)
            ));
            drop(reg);
            // Both logins are on the wire before either reply is read.
            let mut a1 = TestClient::greeted(cluster.addr(1)).await;
            let mut a2 = TestClient::greeted(cluster.addr(2)).await;
            let login = || {
                ClientMessage::Login(Login {
                    name: name.clone(),
                    password: PASSWORD.into(),
                })
            };
            let s1 = a1.send(login()).await;
            let s2 = a2.send(login()).await;
            for (n, c, seq) in [(1, &mut a1, s1), (2, &mut a2, s2)] {
                let reply = c.reply_to(seq).await;
                assert!(
                    matches!(reply, ServerMessage::LoginOk(_)),
                    "round {round}: login on n{n}: {reply:?}"
                );
            }

            // Every node ends up listing her once, on the same node ...
            let mut want = vec!["bob", "carol", name.as_str()];
            want.sort_unstable();
            let placed = agreed_placement(&cluster, &want).await;
            let node = placed.iter().find(|(u, _)| *u == name).unwrap().1.clone();
            let (mut kept, mut replaced) = match node.as_str() {
                "n1" => (a1, a2),
                "n2" => (a2, a1),
                other => panic!("round {round}: {name} is on {other}"),
            };
            // ... the other session is told and closed ...
            let closing = replaced.expect_closed().await;
            assert!(
                matches!(closing.last(), Some(ServerMessage::SessionReplaced(_))),
                "round {round}: the session not listed got {closing:?}"
            );
            // ... and the listed one receives.
            let ack = bob
                .say_ok(&format!("b{round}"), &format!("round {round}"))
                .await;
            assert_eq!(kept.next_message().await.id, ack.message_id);
            assert_eq!(
                message_with(&mut carol, &format!("round {round}")).await.id,
                ack.message_id
            );

            // She quits: bob and carol saw her join once, and the first leave
            // they see is that quit, sent after the other session was closed.
            // Nothing about an earlier round's name comes before it either.
            kept.quit().await;
            for (who, c) in [("bob", &mut bob), ("carol", &mut carol)] {
                let mut notices = Vec::new();
                let quit = loop {
                    match c.recv().await {
                        ServerMessage::UserLeft(l) if l.name == name => break l,
                        m if (0..=round).any(|r| about(&m, &format!("alice{r}"))) => {
                            notices.push(m);
                        }
                        _ => {}
                    }
                };
                assert_eq!(quit.reason, LeaveReason::Quit, "round {round}: {who}");
                assert!(
                    matches!(notices.as_slice(), [ServerMessage::UserJoined(j)] if j.name == name),
                    "round {round}: {who} saw {notices:?} before {name} quit"
                );
            }
        }
        cluster.stop().await;
    }
);

cluster_test!(
    a_watcher_hears_of_logins_and_leaves_on_other_nodes_and_counts_every_node,
    |env| async move {
        // Above the broadcast max at once: only watchers hear, per tick.
        let cluster = env.start_with(2, |c| c.presence_broadcast_max = 1).await;
        let (mut wes, _) = TestClient::user(cluster.addr(1), "wes").await;
        let (mut amy, _) = TestClient::user(cluster.addr(2), "amy").await;
        let (mut kim, _) = TestClient::user(cluster.addr(2), "kim").await;
        cluster.online_everywhere(&["amy", "kim", "wes"]).await;
        kim.request(ClientMessage::WatchUsers(
            chatroom_shared::message::WatchUsers::default(),
        ))
        .await;
        let page = match wes
            .request(ClientMessage::WatchUsers(
                chatroom_shared::message::WatchUsers::default(),
            ))
            .await
        {
            ServerMessage::UserList(l) => l,
            other => panic!("expected user_list, got {other:?}"),
        };
        assert_eq!(page.online_count, 3);

        // A login on n2 reaches the watcher on n1 as a presence event with the
        // count of both nodes; its login_ok counts both nodes too.
        let (bob, login) = TestClient::user(cluster.addr(2), "bob").await;
        assert_eq!(login.online_count, 4);
        let got = wes
            .wait_for("bob in a presence event", |m| {
                matches!(m, ServerMessage::Presence(p) if p.joined.iter().any(|u| u.name == "bob"))
            })
            .await;
        let ServerMessage::Presence(p) = got else {
            unreachable!()
        };
        assert_eq!(p.online_count, 4);
        drop(bob);
        let got = wes
            .wait_for("bob's leave in a presence event", |m| {
                matches!(m, ServerMessage::Presence(p) if p.left.iter().any(|u| u.name == "bob"))
            })
            .await;
        let ServerMessage::Presence(p) = got else {
            unreachable!()
        };
        assert_eq!(p.online_count, 3);
        // kim, watching on bob's node, heard of the leave: n2 has told its
        // sessions. amy, on n2 too, not watching and above the threshold, heard
        // of neither the join nor the leave before a line sent after that.
        kim.wait_for(
            "bob's leave on his own node",
            |m| matches!(m, ServerMessage::Presence(p) if p.left.iter().any(|u| u.name == "bob")),
        )
        .await;
        let ack = wes.say_ok("w1", "after bob").await;
        let mut before = Vec::new();
        loop {
            let m = amy.recv().await;
            if matches!(&m, ServerMessage::Message(c) if c.id == ack.message_id) {
                break;
            }
            before.push(m);
        }
        assert!(!before.iter().any(|m| about(m, "bob")), "{before:?}");
        cluster.stop().await;
    }
);
