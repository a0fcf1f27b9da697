//! The database unavailable: another process (python3's sqlite3, or failing
//! that another connection of this one) holds SQLite's write lock, so the store
//! writer cannot commit. It retries with backoff; its queue stays
//! bounded (`--store-queue`), and once it is full a sender gets `server_busy`
//! with a retry time instead of waiting without an answer; the server keeps
//! answering everyone else; nothing acknowledged is lost, nothing refused is
//! stored; and when the lock goes away everything recovers by itself.
//!
//! (Stopping the machine's shared PostgreSQL would break every other test
//! running at the same time, so the unavailable database is SQLite's, which
//! the writer treats the same way: a failed commit is retried, never dropped.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use bytes::BytesMut;
use chatroom_shared::message::{ClientMessage, Ping, Request, Say, ServerMessage};
use chatroom_shared::{ErrorCode, encode_frame_into};
use common::client::{TestClient, all_history};
use common::db::{Backend, TestDb};
use common::server::TestServer;
use sea_orm::sqlx::{self, Connection as _};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const QUEUE: usize = 16;
const SENT: u32 = 200;

/// `SENT` say requests in one buffer, seqs from 100, client ids `m{i}`.
fn says() -> BytesMut {
    let mut buf = BytesMut::new();
    for i in 0..SENT {
        let req = Request {
            seq: 100 + i,
            body: ClientMessage::Say(Say {
                id: format!("m{i}"),
                text: format!("message {i}"),
            }),
        };
        encode_frame_into(&mut buf, &req).unwrap();
    }
    buf
}

/// Who holds the write lock.
enum Locker {
    /// Another process, until its standard input closes.
    Process(Child),
    /// Another connection of this process (no python3 here).
    Connection(sqlx::SqliteConnection),
}

impl Locker {
    /// Take SQLite's write lock on the database at `url` and keep it.
    async fn lock(url: &str) -> Self {
        let path = url
            .trim_start_matches("sqlite://")
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        let script = "import sqlite3, sys\n\
                      c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)\n\
                      c.execute('BEGIN IMMEDIATE')\n\
                      print('locked', flush=True)\n\
                      sys.stdin.read()\n\
                      c.execute('ROLLBACK')\n";
        let spawned = Command::new("python3")
            .args(["-c", script, &path])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn();
        match spawned {
            Ok(mut child) => {
                let out = child.stdout.take().unwrap();
                let line = BufReader::new(out).lines().next_line().await.unwrap();
                assert_eq!(line.as_deref(), Some("locked"));
                Self::Process(child)
            }
            Err(e) => {
                eprintln!("no python3 ({e}): another connection of this process takes the lock");
                let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
                sqlx::query("BEGIN IMMEDIATE")
                    .execute(&mut conn)
                    .await
                    .unwrap();
                Self::Connection(conn)
            }
        }
    }

    /// Let the lock go.
    async fn release(self) {
        match self {
            Self::Process(mut child) => {
                drop(child.stdin.take());
                assert!(child.wait().await.unwrap().success());
            }
            Self::Connection(mut conn) => {
                sqlx::query("ROLLBACK").execute(&mut conn).await.unwrap();
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_database_fills_a_bounded_queue_senders_get_server_busy_and_all_recovers() {
    let tdb = TestDb::create(Backend::Sqlite).await.unwrap();
    let server = TestServer::start_with(tdb.url(), |c| {
        c.store_queue = QUEUE;
        c.store_batch = 4;
    })
    .await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let (mut bob, _) = TestClient::user(server.addr, "bob").await;
    alice.say_ok("before", "before the lock").await;

    // Another process takes the write lock and keeps it.
    let locker = Locker::lock(tdb.url()).await;

    alice.send_raw(&says()).await;
    // Refusals come at once; acks only after the lock is gone.
    let mut busy = BTreeSet::new();
    while busy.len() < (SENT as usize) - QUEUE - 8 {
        match alice.recv().await {
            ServerMessage::Error(e) => {
                assert_eq!(e.code, ErrorCode::ServerBusy, "{e:?}");
                assert!(e.retry_after_ms.unwrap() > 0, "{e:?}");
                busy.insert(e.seq.unwrap() - 100);
            }
            ServerMessage::SayOk(ok) => panic!("nothing can be stored yet, got {ok:?}"),
            _ => {} // presence events
        }
    }
    // The server still answers: bob pings and gets his pong.
    let seq = bob.send(ClientMessage::Ping(Ping {})).await;
    match bob.reply_to(seq).await {
        ServerMessage::Pong(_) => {}
        other => panic!("{other:?}"),
    }

    // The outage outlasts SQLite's busy timeout (5 s), so the writer's commit
    // fails and is retried with backoff (not just delayed), and bob's pings
    // are still answered meanwhile.
    let outage = tokio::time::Instant::now() + Duration::from_secs(6);
    while tokio::time::Instant::now() < outage {
        let seq = bob.send(ClientMessage::Ping(Ping {})).await;
        assert!(matches!(bob.reply_to(seq).await, ServerMessage::Pong(_)));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // The lock goes; the writer's next retry stores what it holds.
    locker.release().await;
    let mut acked = BTreeSet::new();
    while busy.len() + acked.len() < SENT as usize {
        match tokio::time::timeout(Duration::from_secs(60), alice.recv())
            .await
            .expect("every request answered after the lock is gone")
        {
            ServerMessage::Error(e) => {
                assert_eq!(e.code, ErrorCode::ServerBusy, "{e:?}");
                busy.insert(e.seq.unwrap() - 100);
            }
            ServerMessage::SayOk(ok) => {
                acked.insert(ok.seq - 100);
            }
            _ => {}
        }
    }
    // Bounded: at most the queue, the batch being written and the one being
    // formed were taken in; everything else was refused.
    assert!(
        !acked.is_empty() && acked.len() <= QUEUE + 8,
        "{} taken in",
        acked.len()
    );
    assert!(acked.is_disjoint(&busy));

    // Exactly the acknowledged messages are stored, once each.
    let history = all_history(&mut bob).await;
    let stored: Vec<u32> = history
        .iter()
        .filter_map(|m| m.text.strip_prefix("message "))
        .map(|n| n.parse().unwrap())
        .collect();
    let stored_set: BTreeSet<u32> = stored.iter().copied().collect();
    assert_eq!(stored.len(), stored_set.len(), "no duplicates");
    assert_eq!(stored_set, acked);

    // Recovered: a new message is stored and acknowledged as usual, and a
    // refused one sent again with its id is stored.
    alice.say_ok("after", "after the lock").await;
    let again = *busy.iter().next().unwrap();
    alice
        .say_ok(&format!("m{again}"), &format!("message {again}"))
        .await;
    server.stop().await;
    tdb.drop_db().await;
}
