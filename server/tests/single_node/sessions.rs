//! Session lifetimes: dead peers time out, a second login takes the session
//! over, a client that does not read is dropped without slowing the others.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{ClientMessage, LeaveReason, Say, ServerMessage};
use testkit::client::{PASSWORD, TestClient};
use testkit::db::db_test;
use testkit::server::TestServer;
use tokio::time::Instant;

const KEEPALIVE: Duration = Duration::from_secs(1);
const PING_EVERY: Duration = Duration::from_millis(300);

fn left_named<'a>(
    m: &'a ServerMessage,
    name: &str,
) -> Option<&'a chatroom_shared::message::UserLeft> {
    match m {
        ServerMessage::UserLeft(l) if l.name == name => Some(l),
        _ => None,
    }
}

fn about(m: &ServerMessage, name: &str) -> bool {
    match m {
        ServerMessage::UserLeft(l) => l.name == name,
        ServerMessage::UserJoined(j) => j.name == name,
        _ => false,
    }
}

db_test!(
    silent_client_is_closed_with_idle_timeout_and_others_see_timeout,
    |tdb| async move {
        let server = TestServer::start_with(tdb.url(), |c| c.keepalive = KEEPALIVE).await;
        let addr = server.addr;

        // bob keeps pinging from the moment he is in, and waits for alice to go.
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let bob = tokio::spawn(async move {
            let (mut bob, _) = TestClient::user(addr, "bob").await;
            ready_tx.send(()).unwrap();
            let left = bob
                .wait_for_pinging("alice to time out", PING_EVERY, |m| {
                    left_named(m, "alice").is_some()
                })
                .await;
            (bob, left)
        });
        ready_rx.await.unwrap();

        // Her last request (login) reaches the server after `start`.
        let start = Instant::now();
        let (mut alice, _) = TestClient::user(addr, "alice").await;
        let before_close = alice.expect_closed().await;
        let waited = start.elapsed();
        let last = before_close.last().expect("an error before closing");
        assert!(
            matches!(last, ServerMessage::Error(e) if e.code == ErrorCode::IdleTimeout && e.seq.is_none()),
            "{before_close:?}"
        );
        assert!(waited >= KEEPALIVE, "closed after {waited:?}");

        let (mut bob, left) = bob.await.unwrap();
        assert_eq!(
            left_named(&left, "alice").unwrap().reason,
            LeaveReason::Timeout
        );
        // bob, who pinged all along, is still there.
        bob.say_ok("b1", "still here").await;
        server.stop().await;
    }
);

db_test!(
    client_that_pings_stays_connected_past_the_keepalive,
    |tdb| async move {
        let server = TestServer::start_with(tdb.url(), |c| c.keepalive = KEEPALIVE).await;
        let (mut alice, login) = TestClient::user(server.addr, "alice").await;
        assert_eq!(login.online.len(), 1);
        let pongs = alice.keep_pinging(3 * KEEPALIVE, PING_EVERY).await;
        assert!(pongs > 0);
        let rest = alice.drain_for(Duration::ZERO).await;
        assert!(
            !rest.iter().any(|m| matches!(m, ServerMessage::Error(_))),
            "{rest:?}"
        );
        alice.say_ok("a1", "still connected").await;
        server.stop().await;
    }
);

db_test!(second_login_replaces_first_session, |tdb| async move {
    let server = TestServer::start(tdb.url()).await;
    let (mut first, _) = TestClient::user(server.addr, "alice").await;
    let (mut bob, _) = TestClient::user(server.addr, "bob").await;
    first.wait_for("bob joined", |m| about(m, "bob")).await;

    let (mut second, login) = TestClient::existing(server.addr, "alice").await;
    let online: Vec<_> = login.online.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(online, ["alice", "bob"]);

    let closing = first.expect_closed().await;
    assert!(
        matches!(closing.last(), Some(ServerMessage::SessionReplaced(_))),
        "{closing:?}"
    );

    // bob saw alice neither leave nor join. While few are online the server
    // tells presence changes before any later message (docs/ARCHITECTURE.md,
    // "Presence at any size"), so a notice the takeover caused would reach bob
    // before the message the second connection sends after it.
    let mut seen = Vec::new();
    let ack = second.say_ok("a1", "from the second connection").await;
    loop {
        let m = bob.recv().await;
        let done = matches!(&m, ServerMessage::Message(c) if c.id == ack.message_id);
        seen.push(m);
        if done {
            break;
        }
    }
    assert!(!seen.iter().any(|m| about(m, "alice")), "{seen:?}");
    let ServerMessage::Message(got) = seen.last().unwrap() else {
        unreachable!()
    };
    assert_eq!(
        (got.from.as_str(), got.text.as_str()),
        ("alice", "from the second connection")
    );

    // And the new session receives.
    let ack = bob.say_ok("b1", "welcome back").await;
    let got = second.next_message().await;
    assert_eq!(got.id, ack.message_id);
    server.stop().await;
});

db_test!(
    resume_on_another_connection_replaces_the_session,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let (mut first, _) = TestClient::user(server.addr, "alice").await;
        let token = first.token.clone().unwrap();
        let mut second = TestClient::greeted(server.addr).await;
        let reply = second
            .request(ClientMessage::Resume(chatroom_shared::message::Resume {
                token,
            }))
            .await;
        assert!(matches!(reply, ServerMessage::LoginOk(_)), "{reply:?}");
        let closing = first.expect_closed().await;
        assert!(
            matches!(closing.last(), Some(ServerMessage::SessionReplaced(_))),
            "{closing:?}"
        );
        second.say_ok("r1", "resumed").await;
        // A password login takes over from the resumed one just the same.
        let mut third = TestClient::greeted(server.addr).await;
        third.login_ok("alice", PASSWORD).await;
        let closing = second.expect_closed().await;
        assert!(
            matches!(closing.last(), Some(ServerMessage::SessionReplaced(_))),
            "{closing:?}"
        );
        server.stop().await;
    }
);

db_test!(
    client_that_stops_reading_is_dropped_as_too_slow,
    |tdb| async move {
        const WINDOW: usize = 4;
        const LIMIT: usize = 30_000;
        let server = TestServer::start_with(tdb.url(), |c| c.outbound_queue = 16).await;
        let addr = server.addr;

        // A small receive buffer, so the kernel takes less before the server's
        // queue for this client fills. After login it is never read again.
        let mut slow = TestClient::connect_small_buffer(addr, 4096).await;
        slow.hello().await;
        slow.register("slow", PASSWORD).await;
        slow.login_ok("slow", PASSWORD).await;

        let (mut alice, _) = TestClient::user(addr, "alice").await;
        let (bob, _) = TestClient::user(addr, "bob").await;

        // bob reads everything, until slow is gone.
        let reader = tokio::spawn(async move {
            let mut bob = bob;
            let mut messages = 0usize;
            loop {
                match bob.recv().await {
                    ServerMessage::Message(_) => messages += 1,
                    m @ ServerMessage::UserLeft(_) if left_named(&m, "slow").is_some() => {
                        return (bob, m, messages);
                    }
                    _ => {}
                }
            }
        });

        // alice sends big messages, a few in flight at a time, until slow is gone.
        let text = "x".repeat(4000);
        let mut sent = 0usize;
        let mut in_flight = 0usize;
        let mut slow_gone = false;
        while !slow_gone || in_flight > 0 {
            if !slow_gone && in_flight < WINDOW {
                assert!(sent < LIMIT, "slow was not dropped after {sent} messages");
                alice
                    .send(ClientMessage::Say(Say {
                        id: format!("m{sent}"),
                        text: text.clone(),
                    }))
                    .await;
                sent += 1;
                in_flight += 1;
                continue;
            }
            match alice.recv().await {
                ServerMessage::SayOk(_) => in_flight -= 1,
                m if left_named(&m, "slow").is_some() => {
                    assert_eq!(left_named(&m, "slow").unwrap().reason, LeaveReason::TooSlow);
                    slow_gone = true;
                }
                ServerMessage::Error(e) => panic!("alice got {e:?}"),
                _ => {}
            }
        }

        let (mut bob, left, _) = reader.await.unwrap();
        assert_eq!(
            left_named(&left, "slow").unwrap().reason,
            LeaveReason::TooSlow
        );

        // The others chat on.
        let ack = alice.say_ok("after", "still flowing").await;
        let got = bob
            .wait_for(
                "alice's message",
                |m| matches!(m, ServerMessage::Message(c) if c.id == ack.message_id),
            )
            .await;
        assert!(matches!(got, ServerMessage::Message(c) if c.text == "still flowing"));
        let ack = bob.say_ok("reply", "yes").await;
        alice
            .wait_for(
                "bob's message",
                |m| matches!(m, ServerMessage::Message(c) if c.id == ack.message_id),
            )
            .await;

        // slow's connection is closed: reading it now finds the end, having
        // missed messages.
        let got = slow.expect_closed().await;
        let messages = got
            .iter()
            .filter(|m| matches!(m, ServerMessage::Message(_)))
            .count();
        assert!(messages < sent, "slow got {messages} of {sent}");
        assert!(
            !got.iter()
                .any(|m| matches!(m, ServerMessage::Message(c) if c.text == "still flowing"))
        );
        server.stop().await;
    }
);
