//! The nodes themselves: the administrator of one node sees, kicks and bans users
//! connected to another, and when a node dies (SIGKILL of the real binary) its users
//! leave the online lists of the nodes that are left.
//!
//! Runs on PostgreSQL and MySQL/MariaDB with `TEST_NATS_URL` set; see
//! `testkit/src/cluster.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chatroom_server::AdminError;
use chatroom_shared::ErrorCode;
use chatroom_shared::message::{ClientMessage, Kicked, LeaveReason, Send, ServerMessage};
use testkit::binary::{ServerProcess, Stdin};
use testkit::client::{PASSWORD, TestClient, WAIT, error_code, user};
use testkit::cluster::{
    ClusterEnv, about, cluster_test, joined, left, online_names, pairs, placement,
};

use crate::cluster::{left_is, until_each};
use testkit::server::TestServer;
use tokio::time::Instant;

/// The messages a connection got before the server closed it, the last one being
/// `kicked`; returns that.
async fn kicked_then_closed(c: &mut TestClient) -> Kicked {
    let got = c.expect_closed().await;
    match got.last() {
        Some(ServerMessage::Kicked(k)) => k.clone(),
        _ => panic!("expected kicked, then the end: {got:?}"),
    }
}

fn sorted(mut names: Vec<&str>) -> Vec<&str> {
    names.sort_unstable();
    names
}

cluster_test!(
    admin_of_n1_lists_kicks_and_bans_users_of_n2,
    |env| async move {
        let cluster = env.start(2).await;
        let (mut alice, _) = TestClient::user(cluster.addr(1), "alice").await;
        let (mut bob, _) = TestClient::user(cluster.addr(2), "bob").await;
        let (mut carol, _) = TestClient::user(cluster.addr(2), "carol").await;
        cluster.online_everywhere(&["alice", "bob", "carol"]).await;

        // Either node's administrator lists every user with the node they are on.
        let want = pairs(&[("alice", "n1"), ("bob", "n2"), ("carol", "n2")]);
        for n in 1..=2 {
            assert_eq!(placement(cluster.node(n)).await, want, "n{n}'s list");
        }

        // n1's administrator kicks bob, who is on n2.
        cluster
            .node(1)
            .admin
            .kick("bob", Some("spam".into()))
            .await
            .unwrap();
        let k = kicked_then_closed(&mut bob).await;
        assert_eq!((k.reason.as_deref(), k.banned), (Some("spam"), false));
        assert_eq!(left(&mut alice, "bob").await.reason, LeaveReason::Kicked);
        assert_eq!(left(&mut carol, "bob").await.reason, LeaveReason::Kicked);
        cluster.online_everywhere(&["alice", "carol"]).await;
        let again = cluster.node(1).admin.kick("bob", None).await;
        assert!(
            matches!(again, Err(AdminError::NotOnline(_))),
            "kicking bob again: {again:?}"
        );

        // A kicked user may come back, on either node.
        let (mut bob, _) = TestClient::existing(cluster.addr(1), "bob").await;
        joined(&mut carol, "bob").await;
        cluster.online_everywhere(&["alice", "bob", "carol"]).await;
        let want = pairs(&[("alice", "n1"), ("bob", "n1"), ("carol", "n2")]);
        for n in 1..=2 {
            assert_eq!(placement(cluster.node(n)).await, want, "n{n}'s list");
        }

        // n2's administrator bans alice, who is on n1: she is out on every node.
        assert!(
            cluster.node(2).admin.ban("alice").await.unwrap(),
            "alice was online"
        );
        let k = kicked_then_closed(&mut alice).await;
        assert!(k.banned, "{k:?}");
        assert_eq!(left(&mut carol, "alice").await.reason, LeaveReason::Banned);
        assert_eq!(left(&mut bob, "alice").await.reason, LeaveReason::Banned);
        cluster.online_everywhere(&["bob", "carol"]).await;
        // Banned on every node.
        for n in 1..=2 {
            let mut c = TestClient::greeted(cluster.addr(n)).await;
            assert_eq!(
                error_code(&c.login("alice", PASSWORD).await),
                ErrorCode::AccountDisabled,
                "on n{n}"
            );
        }
        cluster.stop().await;
    }
);

/// The names the console's `/users` lists on a binary node (started with its stdin
/// piped), sorted.
async fn console_users(node: &mut ServerProcess) -> Vec<String> {
    node.type_line("/users").await;
    let head = node.console_line().await.expect("an answer to /users");
    if head == "nobody is online" {
        return Vec::new();
    }
    let count: usize = head
        .strip_suffix(" online:")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("/users said {head:?}"));
    let mut names = Vec::new();
    for _ in 0..count {
        let line = node.console_line().await.expect("a user line");
        let name = line.split_whitespace().next().expect("a name").to_owned();
        names.push(name);
    }
    names.sort();
    names
}

/// Poll `/users` until it lists exactly `want` (sorted).
async fn console_users_become(node: &mut ServerProcess, want: &[&str]) {
    let deadline = Instant::now() + WAIT;
    loop {
        let now = console_users(node).await;
        if now == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "/users lists {now:?}, want {want:?}; log:\n{}",
            node.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

cluster_test!(
    users_of_a_killed_node_leave_the_other_nodes_lists,
    |env| async move {
        let mut n1 = env.spawn("n1", "1s", Stdin::Null).await;
        let mut n2 = env.spawn("n2", "1s", Stdin::Piped).await;
        let (mut carol, _) = TestClient::user(n2.addr, "carol").await;
        let (alice, _) = TestClient::user(n1.addr, "alice").await;
        let (bob, _) = TestClient::user(n1.addr, "bob").await;
        // carol, on n2, sees them arrive from n1; n2's console lists all three.
        joined(&mut carol, "alice").await;
        joined(&mut carol, "bob").await;
        console_users_become(&mut n2, &["alice", "bob", "carol"]).await;

        // n1 dies without a word: n2 notices within its node timeout, and carol
        // sees both leave.
        n1.kill().await;
        drop((alice, bob));
        left(&mut carol, "alice").await;
        left(&mut carol, "bob").await;
        console_users_become(&mut n2, &["carol"]).await;
        let (mut dave, login) = TestClient::user(n2.addr, "dave").await;
        assert_eq!(sorted(online_names(&login)), ["carol", "dave"]);

        // The survivor goes on: alice comes back on n2, and chat flows.
        let (mut alice, login) = TestClient::existing(n2.addr, "alice").await;
        assert_eq!(sorted(online_names(&login)), ["alice", "carol", "dave"]);
        joined(&mut carol, "alice").await;
        let ack = alice.say_ok("a1", "n1 is gone").await;
        assert_eq!(carol.next_message().await.id, ack.message_id);
        assert_eq!(dave.next_message().await.id, ack.message_id);
        // Nobody heard of bob again: n2 tells its presence changes in order, and
        // dave quits after everything above, so a notice about bob would come
        // before dave's leave.
        dave.quit().await;
        let seen = until_each(&mut carol, &[&|m| left_is(m, "dave")]).await;
        assert!(!seen.iter().any(|m| about(m, "bob")), "carol saw {seen:?}");

        n2.terminate();
        n2.wait_exit().await;
    }
);

cluster_test!(
    a_killed_node_started_again_under_its_id_drops_its_old_users,
    |env| async move {
        // A node timeout far beyond the test's waits: only noticing the new start can
        // take the old users out in time.
        let mut n1 = env.spawn("n1", "60s", Stdin::Null).await;
        let mut n2 = env.spawn("n2", "60s", Stdin::Piped).await;
        let (mut carol, _) = TestClient::user(n2.addr, "carol").await;
        let (alice, _) = TestClient::user(n1.addr, "alice").await;
        let (bob, _) = TestClient::user(n1.addr, "bob").await;
        joined(&mut carol, "alice").await;
        joined(&mut carol, "bob").await;

        // n1 is killed and at once started again, as a service manager would.
        n1.kill().await;
        drop((alice, bob));
        let mut n1 = env.spawn("n1", "60s", Stdin::Null).await;
        left(&mut carol, "alice").await;
        left(&mut carol, "bob").await;
        console_users_become(&mut n2, &["carol"]).await;

        // The new n1 works with n2 as before.
        let (mut dave, login) = TestClient::user(n1.addr, "dave").await;
        assert_eq!(sorted(online_names(&login)), ["carol", "dave"]);
        joined(&mut carol, "dave").await;
        let ack = dave.say_ok("d1", "n1 is back").await;
        assert_eq!(carol.next_message().await.id, ack.message_id);
        console_users_become(&mut n2, &["carol", "dave"]).await;

        n1.terminate();
        n1.wait_exit().await;
        n2.terminate();
        n2.wait_exit().await;
    }
);

/// n1 (the real binary) commits but never sends its batches to the other
/// nodes; n2 runs in process. alice is on n1, bob on n2, and each sees the other.
async fn unpublished_n1(
    env: &ClusterEnv<'_>,
) -> (ServerProcess, TestServer, TestClient, TestClient) {
    let n1 = env
        .spawn_env("n1", "5s", &[("CHATROOM_TEST_UNPUBLISHED_BATCHES", "1")])
        .await;
    let n2 = env.node("n2").await;
    let (mut alice, _) = TestClient::user(n1.addr, "alice").await;
    let (bob, _) = TestClient::user(n2.addr, "bob").await;
    joined(&mut alice, "bob").await;
    (n1, n2, alice, bob)
}

cluster_test!(
    batches_a_node_never_published_are_read_back_in_order,
    |env| async move {
        // n1 commits but never tells the others (as if it died after each commit,
        // or NATS lost the batches): n2 must find them in the database.
        let (mut n1, n2, mut alice, mut bob) = unpublished_n1(env).await;

        // Interleaved: alice's batches reach bob only from the database, bob's
        // reach alice over NATS; both see one order, the stored one.
        let mut acked = Vec::new();
        for i in 0..10 {
            acked.push(
                alice
                    .say_ok(&format!("a{i}"), &format!("alice {i}"))
                    .await
                    .message_id,
            );
            acked.push(
                bob.say_ok(&format!("b{i}"), &format!("bob {i}"))
                    .await
                    .message_id,
            );
        }
        let mut to_bob = Vec::new();
        let mut to_alice = Vec::new();
        for _ in 0..10 {
            to_bob.push(bob.next_message().await);
            to_alice.push(alice.next_message().await);
        }
        let ids = |got: &[chatroom_shared::message::ChatMessage]| -> Vec<i64> {
            got.iter().map(|m| m.id).collect()
        };
        let from = |who: &str| -> Vec<i64> {
            acked
                .iter()
                .enumerate()
                .filter(|(i, _)| (i % 2 == 0) == (who == "alice"))
                .map(|(_, id)| *id)
                .collect()
        };
        assert_eq!(ids(&to_bob), from("alice"), "bob got {to_bob:?}");
        assert_eq!(ids(&to_alice), from("bob"), "alice got {to_alice:?}");
        assert!(
            to_bob
                .iter()
                .all(|m| m.from == "alice" && m.text.starts_with("alice "))
        );
        // Nothing more (no repeats) for either of them: each says one more
        // message, stored after all of the above, and the room reaches everyone
        // in id order (bob gets alice's from the database too), so a repeat
        // would come before it.
        let last_of_alice = alice.say_ok("a-last", "alice is done").await;
        let last_of_bob = bob.say_ok("b-last", "bob is done").await;
        for (who, c, next) in [
            ("alice", &mut alice, &last_of_bob),
            ("bob", &mut bob, &last_of_alice),
        ] {
            let seen = until_each(
                c,
                &[&|m| matches!(m, ServerMessage::Message(x) if x.id == next.message_id)],
            )
            .await;
            let more: Vec<_> = seen
                .iter()
                .filter(|m| matches!(m, ServerMessage::Message(_)))
                .collect();
            assert_eq!(more.len(), 1, "{who} got repeats: {more:?}");
        }
        n1.terminate();
        n1.wait_exit().await;
        n2.stop().await;
    }
);

/// A NATS server of the test's own (the machine's shared one must not be stopped),
/// on `port`; killed on drop.
struct PrivateNats(std::process::Child);

impl PrivateNats {
    fn start(port: u16) -> Option<Self> {
        let child = std::process::Command::new("nats-server")
            .args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        Some(Self(child))
    }

    async fn wait_ready(port: u16) {
        let deadline = Instant::now() + WAIT;
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "nats-server did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for PrivateNats {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

cluster_test!(
    a_lost_batch_with_nothing_after_it_is_read_back_by_the_tail,
    |env| async move {
        // n1 commits but never sends its batches; it still says every heartbeat
        // how far they go. Direct messages to bob, with nothing after them in
        // their conversation, must reach him on n2 from the database, in order,
        // once.
        let (mut n1, n2, mut alice, mut bob) = unpublished_n1(env).await;

        let mut acked = Vec::new();
        for i in 0..3 {
            let seq = alice
                .send(ClientMessage::Send(Send {
                    id: format!("d{i}"),
                    to: user("bob"),
                    text: format!("only to bob {i}"),
                }))
                .await;
            match alice.reply_to(seq).await {
                ServerMessage::SayOk(ok) => acked.push(ok.message_id),
                other => panic!("not stored: {other:?}"),
            }
        }
        let mut got = Vec::new();
        for _ in 0..3 {
            let m = bob.next_message().await;
            assert_eq!(m.from, "alice");
            got.push(m.id);
        }
        assert_eq!(got, acked);
        // A room message from bob reaches alice over NATS; the next message bob
        // gets is alice's next one, read back too: nothing came twice before it.
        let ack = bob.say_ok("b1", "thanks").await;
        assert_eq!(alice.next_message().await.id, ack.message_id);
        let ack = alice.say_ok("a-last", "you are welcome").await;
        assert_eq!(bob.next_message().await.id, ack.message_id);
        n1.terminate();
        n1.wait_exit().await;
        n2.stop().await;
    }
);

cluster_test!(
    while_nats_is_down_messages_still_cross_through_the_database,
    |env| async move {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let Some(nats) = PrivateNats::start(port) else {
            panic!("this test starts a NATS server of its own: it needs nats-server installed");
        };
        PrivateNats::wait_ready(port).await;
        let url = format!("nats://127.0.0.1:{port}");
        let private = |c: &mut chatroom_server::Config| c.nats_url = Some(url.clone());
        let n1 = env.node_with("n1", private).await;
        let n2 = env.node_with("n2", private).await;
        let (mut alice, _) = TestClient::user(n1.addr, "alice").await;
        let (mut bob, _) = TestClient::user(n2.addr, "bob").await;
        joined(&mut alice, "bob").await;

        // NATS goes away. Each node keeps serving its own clients, and what is
        // stored on one reaches the other from the database (its sequencer sees
        // the higher ids), in order, once.
        drop(nats);
        let mut sent = Vec::new();
        for i in 0..5 {
            sent.push(
                alice
                    .say_ok(&format!("a{i}"), &format!("no nats {i}"))
                    .await
                    .message_id,
            );
        }
        let mut got = Vec::new();
        for _ in 0..5 {
            got.push(bob.next_message().await.id);
        }
        assert_eq!(got, sent);
        let reply = bob.say_ok("b", "bob without nats").await;
        assert_eq!(alice.next_message().await.id, reply.message_id);

        // NATS comes back: the nodes find each other again and both list both users.
        let _nats = PrivateNats::start(port).expect("restart nats-server");
        PrivateNats::wait_ready(port).await;
        let deadline = Instant::now() + Duration::from_secs(60);
        for node in [&n1, &n2] {
            loop {
                let names = testkit::cluster::online(node).await;
                if names == ["alice", "bob"] {
                    break;
                }
                assert!(Instant::now() < deadline, "after NATS came back: {names:?}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        let ack = alice.say_ok("a-back", "nats is back").await;
        let m = bob
            .wait_for(
                "the message after NATS came back",
                |m| matches!(m, ServerMessage::Message(c) if c.id == ack.message_id),
            )
            .await;
        assert!(matches!(m, ServerMessage::Message(_)));
        n1.stop().await;
        n2.stop().await;
    }
);

cluster_test!(
    a_node_started_later_learns_everyone_from_a_snapshot_in_parts,
    |env| async move {
        // n1 sends its presence snapshot in parts of two users (in production, parts
        // of 2,000 keep each NATS message small however many are online).
        let mut n1 = env
            .spawn_env("n1", "5s", &[("CHATROOM_TEST_PRESENCE_PART_USERS", "2")])
            .await;
        let names = ["u1", "u2", "u3", "u4", "u5"];
        let mut here = Vec::new();
        for name in names {
            here.push(TestClient::user(n1.addr, name).await.0);
        }
        // n2 starts after them: all it knows of n1's users comes from that snapshot.
        let n2 = env.node("n2").await;
        let deadline = Instant::now() + WAIT;
        for attempt in 0.. {
            let (probe, login) = TestClient::user(n2.addr, &format!("probe{attempt}")).await;
            let mut seen = sorted(online_names(&login));
            seen.retain(|n| !n.starts_with("probe"));
            if seen == names {
                break;
            }
            assert!(Instant::now() < deadline, "n2 sees {seen:?}");
            drop(probe);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        drop(here);
        n1.terminate();
        n1.wait_exit().await;
        n2.stop().await;
    }
);
