//! Crash durability: the real server binary is killed with SIGKILL at a random
//! moment while 50 clients send steadily, then started again on the same data
//! directory. Every message whose `say_ok` a sender saw must be in the history
//! exactly once, with the id the ack gave it, and SQLite's integrity check
//! must pass. Repeated [`DEFAULT_KILLS`] times (`CHATROOM_TEST_CRASH_KILLS`
//! sets another count, for the longer run in README).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chatroom_shared::message::{ClientMessage, Say, ServerMessage};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use testkit::binary::{ServerProcess, Stdin};
use testkit::client::{TestClient, history_after};

/// Clients sending at once.
const CLIENTS: usize = 50;
/// Messages each client keeps in flight.
const WINDOW: usize = 4;
/// Every client comes from 127.0.0.1 and sends flat out.
const FLAGS: &[&str] = testkit::binary::UNLIMITED;
/// Kills in CI.
const DEFAULT_KILLS: usize = 10;
/// Acks to see in a round before the kill may come.
const MIN_ACKS_BEFORE_KILL: usize = 200;

fn kills() -> usize {
    std::env::var("CHATROOM_TEST_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_KILLS)
}

/// What one sender saw acknowledged before its connection died:
/// (text, message id) of every `say_ok`. The text is unique per message.
async fn send_until_killed(
    mut c: TestClient,
    name: String,
    round: usize,
    acked_count: Arc<AtomicUsize>,
) -> Vec<(String, i64)> {
    let mut waiting: HashMap<u32, String> = HashMap::new();
    let mut acked = Vec::new();
    let mut sent = 0usize;
    let mut can_send = true;
    loop {
        if can_send && waiting.len() < WINDOW {
            let text = format!("{name}-r{round}-{sent}");
            let say = ClientMessage::Say(Say {
                id: text.clone(),
                text: text.clone(),
            });
            match c.try_send(say).await {
                Ok(seq) => {
                    waiting.insert(seq, text);
                    sent += 1;
                }
                Err(_) => can_send = false,
            }
            continue;
        }
        match c.try_recv().await {
            // Killed: the connection is gone; what was acked is what counts.
            None => return acked,
            Some(ServerMessage::SayOk(ok)) => {
                let text = waiting.remove(&ok.seq).expect("an ack for a sent message");
                assert_eq!(ok.id, text);
                acked.push((text, ok.message_id));
                acked_count.fetch_add(1, Ordering::Relaxed);
            }
            Some(ServerMessage::Error(e)) => panic!("{name}: error while sending: {e:?}"),
            Some(_) => {}
        }
    }
}

/// Run `sql` on the database file the killed server left, opened as the
/// server opens it.
async fn query(data_dir: &Path, sql: &str) -> Vec<sea_orm::QueryResult> {
    let url = chatroom_server::db::sqlite_url_for(data_dir);
    let db = chatroom_server::db::connect(&url).await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(DatabaseBackend::Sqlite, sql))
        .await
        .unwrap();
    db.close().await.unwrap();
    rows
}

/// SQLite's own check of the database file the killed server left.
async fn integrity_check(data_dir: &Path) {
    let verdicts: Vec<String> = query(data_dir, "PRAGMA integrity_check")
        .await
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect();
    assert_eq!(verdicts, ["ok"], "integrity check after a kill");
}

/// Every message acknowledged in the last round is stored once, with its
/// acknowledged id, and nothing since the round began is stored twice: read
/// over the protocol, from the restarted server.
async fn check_round(addr: std::net::SocketAddr, acked: &HashMap<String, i64>) {
    let Some(first) = acked.values().min() else {
        return;
    };
    let (mut reader, _) = TestClient::existing(addr, "reader").await;
    let history = history_after(&mut reader, first - 1).await;
    reader.quit().await;
    check(
        &history
            .iter()
            .map(|m| (m.id, m.text.clone()))
            .collect::<Vec<_>>(),
        acked,
    );
}

/// `stored` (id, text) in id order holds every acknowledged text once, under
/// its acknowledged id, and no text twice.
fn check(stored: &[(i64, String)], acked: &HashMap<String, i64>) {
    assert!(stored.windows(2).all(|w| w[0].0 < w[1].0), "ids in order");
    let mut by_text: HashMap<&str, i64> = HashMap::new();
    for (id, text) in stored {
        if let Some(first) = by_text.insert(text.as_str(), *id) {
            panic!("{text:?} stored twice: ids {first} and {id}");
        }
    }
    for (text, id) in acked {
        match by_text.get(text.as_str()) {
            Some(found) => assert_eq!(found, id, "{text} is stored under another id"),
            None => panic!("acknowledged {text} (message {id}) is not in the history"),
        }
    }
}

/// The whole history, straight from the database file.
async fn stored_messages(data_dir: &Path) -> Vec<(i64, String)> {
    query(data_dir, "SELECT id, comment FROM chat_history ORDER BY id")
        .await
        .iter()
        .map(|r| {
            (
                r.try_get_by_index::<i64>(0).unwrap(),
                r.try_get_by_index::<String>(1).unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_message_survives_sigkill_exactly_once() {
    let data = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..CLIENTS).map(|i| format!("crash{i}")).collect();
    let mut acked: HashMap<String, i64> = HashMap::new();
    let mut last_round: HashMap<String, i64> = HashMap::new();
    let rounds = kills();
    for round in 0..rounds {
        let mut server = ServerProcess::spawn_with(data.path(), None, Stdin::Null, FLAGS).await;
        if round == 0 {
            let (reader, _) = TestClient::user(server.addr, "reader").await;
            drop(reader);
        } else {
            // What the last kill interrupted.
            check_round(server.addr, &last_round).await;
        }
        let counter = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::with_capacity(CLIENTS);
        for name in &names {
            let (c, _) = if round == 0 {
                TestClient::user(server.addr, name).await
            } else {
                TestClient::existing(server.addr, name).await
            };
            tasks.push(tokio::spawn(send_until_killed(
                c,
                name.clone(),
                round,
                Arc::clone(&counter),
            )));
        }
        // Kill at a random moment once messages flow from everyone.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while counter.load(Ordering::Relaxed) < MIN_ACKS_BEFORE_KILL {
            assert!(
                tokio::time::Instant::now() < deadline,
                "messages do not flow"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(rand::random_range(0..500))).await;
        server.kill().await;
        last_round.clear();
        for t in tasks {
            for (text, id) in t.await.unwrap() {
                assert!(last_round.insert(text, id).is_none(), "one ack per message");
            }
        }
        acked.extend(last_round.iter().map(|(t, id)| (t.clone(), *id)));
        integrity_check(data.path()).await;
    }
    // A last restart serves the last round; then the whole file, every round.
    let server = ServerProcess::spawn_with(data.path(), None, Stdin::Null, FLAGS).await;
    check_round(server.addr, &last_round).await;
    drop(server);
    check(&stored_messages(data.path()).await, &acked);
    assert!(acked.len() >= rounds * MIN_ACKS_BEFORE_KILL);
    eprintln!(
        "{rounds} kills: {} acknowledged messages, every one stored once",
        acked.len()
    );
}
