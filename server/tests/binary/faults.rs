//! Faults with the real binary: a panic in one connection's handler ends that
//! session only, and a graceful restart with two hundred clients online brings
//! every one of them back by resume token (no password, so no bcrypt) with no
//! message lost or stored twice.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chatroom_shared::message::{ClientMessage, LeaveReason, Say, ServerMessage};
use testkit::binary::ServerProcess;
use testkit::client::{TestClient, all_history};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_one_session_ends_that_session_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut server =
        ServerProcess::spawn_env(dir.path(), &[], &[("CHATROOM_TEST_PANIC_ON", "boom")]).await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let (mut bob, _) = TestClient::user(server.addr, "bob").await;
    let (mut carol, _) = TestClient::user(server.addr, "carol").await;

    // bob's handler panics on this message: his connection ends.
    bob.send(ClientMessage::Say(Say {
        id: "b1".into(),
        text: "boom".into(),
    }))
    .await;
    let before_close = bob.expect_closed().await;
    assert!(
        !before_close
            .iter()
            .any(|m| matches!(m, ServerMessage::SayOk(_))),
        "{before_close:?}"
    );
    match alice
        .wait_for(
            "bob leaving",
            |m| matches!(m, ServerMessage::UserLeft(l) if l.name == "bob"),
        )
        .await
    {
        ServerMessage::UserLeft(l) => assert_eq!(l.reason, LeaveReason::Disconnected),
        _ => unreachable!(),
    }

    // Everyone else goes on; bob comes back.
    alice.say_ok("a1", "still here").await;
    assert_eq!(carol.next_message().await.text, "still here");
    let (mut bob, _) = TestClient::existing(server.addr, "bob").await;
    bob.say_ok("b2", "back again").await;
    assert_eq!(alice.next_message().await.text, "back again");
    assert!(server.is_running());
    assert!(server.log().contains("injected panic"), "{}", server.log());
    let texts: Vec<String> = all_history(&mut carol)
        .await
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert_eq!(texts, ["still here", "back again"]);
}

const CLIENTS: usize = 200;
const BEFORE: usize = 3;
const DURING: usize = 3;

/// One client's side of the restart test.
struct Member {
    client: TestClient,
    /// Client message id → text, for every message this client said.
    said: Vec<(String, String)>,
    /// Client message id → stored message id, for every `say_ok` seen.
    acked: HashMap<String, i64>,
}

impl Member {
    fn record(&mut self, msg: &ServerMessage) {
        if let ServerMessage::SayOk(ok) = msg {
            let previous = self.acked.insert(ok.id.clone(), ok.message_id);
            assert!(
                previous.is_none() || previous == Some(ok.message_id),
                "one id per message"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_clients_come_back_by_resume_token_after_a_graceful_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::spawn_env(dir.path(), testkit::binary::UNLIMITED, &[]).await;
    let addr = server.addr;

    // Two hundred users log in and chat (each message acknowledged).
    let mut tasks = Vec::new();
    for i in 0..CLIENTS {
        tasks.push(tokio::spawn(async move {
            let (client, _) = TestClient::user(addr, &format!("u{i}")).await;
            let mut m = Member {
                client,
                said: Vec::new(),
                acked: HashMap::new(),
            };
            for k in 0..BEFORE {
                let (id, text) = (format!("u{i}-{k}"), format!("u{i} says {k}"));
                let ok = m.client.say_ok(&id, &text).await;
                m.record(&ServerMessage::SayOk(ok));
                m.said.push((id, text));
            }
            m
        }));
    }
    let mut members = Vec::new();
    for t in tasks {
        members.push(t.await.unwrap());
    }

    // Each pipelines more while the server is told to stop: what it accepted
    // is stored and acknowledged before it closes.
    for (i, m) in members.iter_mut().enumerate() {
        for k in BEFORE..BEFORE + DURING {
            let (id, text) = (format!("u{i}-{k}"), format!("u{i} says {k}"));
            m.client
                .send(ClientMessage::Say(Say {
                    id: id.clone(),
                    text: text.clone(),
                }))
                .await;
            m.said.push((id, text));
        }
    }
    server.terminate();
    let mut tasks = Vec::new();
    for mut m in members {
        tasks.push(tokio::spawn(async move {
            for msg in m.client.expect_closed().await {
                m.record(&msg);
            }
            m
        }));
    }
    let mut members = Vec::new();
    for t in tasks {
        members.push(t.await.unwrap());
    }
    assert!(server.wait_exit().await.success());

    // The server starts again where it was; everyone resumes at once.
    let mut server = ServerProcess::restart_at(addr, dir.path(), testkit::binary::UNLIMITED).await;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for m in members {
        tasks.push(tokio::spawn(async move {
            let token = m.client.token.clone().unwrap();
            let mut client = TestClient::greeted(addr).await;
            client.resume_ok(&token).await;
            let back = start.elapsed();
            let mut m = Member { client, ..m };
            // Like a real client: send again what was not acknowledged, with
            // the same ids; a stored one is acknowledged with its first id.
            let unacked: Vec<(String, String)> = m
                .said
                .iter()
                .filter(|(id, _)| !m.acked.contains_key(id))
                .cloned()
                .collect();
            for (id, text) in unacked {
                let ok = m.client.say_ok(&id, &text).await;
                m.record(&ServerMessage::SayOk(ok));
            }
            (m, back)
        }));
    }
    let mut members = Vec::new();
    let mut slowest = Duration::ZERO;
    for t in tasks {
        let (m, back) = t.await.unwrap();
        slowest = slowest.max(back);
        members.push(m);
    }
    println!("{CLIENTS} clients back by resume token within {slowest:?}");

    // Every message said is stored exactly once, under the id it was acked with.
    let history = all_history(&mut members[0].client).await;
    let mut stored: HashMap<&str, Vec<i64>> = HashMap::new();
    for msg in &history {
        stored.entry(msg.text.as_str()).or_default().push(msg.id);
    }
    for m in &members {
        for (id, text) in &m.said {
            let ids = stored.get(text.as_str()).cloned().unwrap_or_default();
            assert_eq!(ids.len(), 1, "{text:?} stored {} times", ids.len());
            assert_eq!(Some(&ids[0]), m.acked.get(id), "{text:?}");
        }
    }
    assert_eq!(history.len(), CLIENTS * (BEFORE + DURING));
    server.terminate();
    assert!(server.wait_exit().await.success());
}
