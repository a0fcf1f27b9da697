//! The search index after a crash: the real server binary is killed with
//! SIGKILL right after its last acknowledgement, before the index commits
//! what it was fed; at the next start the index reads back what it missed,
//! and then finds every acknowledged message, once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::time::Duration;

use chatroom_shared::message::{ClientMessage, Say, Search, ServerMessage};
use testkit::binary::{ServerProcess, Stdin, UNLIMITED};
use testkit::client::TestClient;

/// Messages acknowledged before the kill.
const MESSAGES: usize = 400;

/// Ask the console for the index's state until it is ready; returns its report.
async fn ready_report(server: &mut ServerProcess) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        server.type_line("/search-index").await;
        let report = server.console_line().await.expect("the console answers");
        if report.starts_with("search index: ready;") {
            return report;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the index is not ready: {report}\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_message_is_found_after_sigkill() {
    let data = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::spawn_with(data.path(), None, Stdin::Piped, UNLIMITED).await;
    ready_report(&mut server).await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    // Pipelined, then killed at the first moment every one is acknowledged:
    // the index commits once a second, so the last of them are only in its
    // memory.
    let mut waiting = HashSet::new();
    for i in 0..MESSAGES {
        let text = format!("nebula {i}");
        let seq = alice
            .send(ClientMessage::Say(Say {
                id: format!("k{i}"),
                text,
            }))
            .await;
        waiting.insert(seq);
    }
    while !waiting.is_empty() {
        match alice.recv().await {
            ServerMessage::SayOk(ok) => assert!(waiting.remove(&ok.seq)),
            ServerMessage::Error(e) => panic!("{e:?}"),
            _ => {}
        }
    }
    server.kill().await;
    drop(alice);

    let mut server = ServerProcess::spawn_with(data.path(), None, Stdin::Piped, UNLIMITED).await;
    let report = ready_report(&mut server).await;
    assert!(
        report.starts_with(&format!("search index: ready; {MESSAGES} messages in it")),
        "{report}"
    );
    let (mut alice, _) = TestClient::existing(server.addr, "alice").await;
    let mut found = HashSet::new();
    let mut before = None;
    loop {
        let reply = alice
            .request(ClientMessage::Search(Search {
                text: "NEBULA".into(),
                before,
                limit: Some(150),
            }))
            .await;
        let ServerMessage::SearchResults(r) = reply else {
            panic!("{reply:?}")
        };
        for m in &r.messages {
            assert!(found.insert(m.text.clone()), "found twice: {}", m.text);
        }
        if !r.has_more {
            break;
        }
        before = r.messages.last().map(|m| m.id);
    }
    let all: HashSet<String> = (0..MESSAGES).map(|i| format!("nebula {i}")).collect();
    assert_eq!(found, all);
}
