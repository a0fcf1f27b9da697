//! The database unavailable, and the disk full.
//!
//! Another process (python3's sqlite3, or failing that another connection of
//! this one) holds SQLite's write lock, or the data directory's file system is
//! full, so the store writer cannot commit. It tries again with backoff for
//! `--db-timeout`, then gives the batch up and tells its senders
//! `storage_unavailable` with a retry time; meanwhile new messages are refused
//! at once (`storage_unavailable`, or `server_busy` when the queue is full).
//! So every `say` is answered while the database is still down; the server
//! keeps answering everyone else; nothing acknowledged is lost, nothing
//! refused is stored; and when the database is back a message sent again
//! with its id is stored once.
//!
//! (A PostgreSQL server that is down has its own test, with a private
//! PostgreSQL, in `db_down.rs`.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::time::Duration;

use bytes::BytesMut;
use chatroom_shared::message::{ClientMessage, Ping, Request, Say, ServerMessage};
use chatroom_shared::{ErrorCode, encode_frame_into};
use sea_orm::sqlx::{self, Connection as _};
use testkit::client::{TestClient, all_history};
use testkit::db::{Backend, TestDb};
use testkit::disk::{Tmpfs, fill};
use testkit::server::TestServer;
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

/// Whether a refusal says to send the message again later, with a time.
fn refused_for_now(e: &chatroom_shared::message::ErrorReply) -> bool {
    matches!(
        e.code,
        ErrorCode::ServerBusy | ErrorCode::StorageUnavailable
    ) && e.retry_after_ms.is_some_and(|ms| ms > 0)
}

/// Send `say` `m{i}` ("message {i}") again until it is stored, waiting the
/// time each refusal names; returns its message id.
async fn say_until_stored(c: &mut TestClient, i: u32) -> i64 {
    loop {
        let seq = c
            .send(ClientMessage::Say(Say {
                id: format!("m{i}"),
                text: format!("message {i}"),
            }))
            .await;
        match c.reply_to(seq).await {
            ServerMessage::SayOk(ok) => return ok.message_id,
            ServerMessage::Error(e) if refused_for_now(&e) => {
                tokio::time::sleep(Duration::from_millis(e.retry_after_ms.unwrap())).await;
            }
            other => panic!("message {i}: {other:?}"),
        }
    }
}

/// The numbers of the "message N" texts in the room's history, in order.
async fn stored_numbers(c: &mut TestClient) -> Vec<u32> {
    all_history(c)
        .await
        .iter()
        .filter_map(|m| m.text.strip_prefix("message "))
        .map(|rest| rest.split(' ').next().unwrap().parse().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_database_answers_every_message_at_once_and_all_recovers() {
    let tdb = TestDb::create(Backend::Sqlite).await;
    let server = TestServer::start_with(tdb.url(), |c| {
        c.store_queue = QUEUE;
        c.store_batch = 4;
        c.db_timeout = Duration::from_secs(2);
    })
    .await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let (mut bob, _) = TestClient::user(server.addr, "bob").await;
    alice.say_ok("before", "before the lock").await;

    // Another process takes the write lock and keeps it.
    let locker = Locker::lock(tdb.url()).await;

    alice.send_raw(&says()).await;
    // Every message is answered while the lock is still held: the first
    // batches are given up after --db-timeout, the rest refused at once.
    let mut refused = BTreeSet::new();
    let mut unavailable = 0;
    while refused.len() < SENT as usize {
        match alice.recv().await {
            ServerMessage::Error(e) => {
                assert!(refused_for_now(&e), "{e:?}");
                if e.code == ErrorCode::StorageUnavailable {
                    unavailable += 1;
                }
                assert!(
                    refused.insert(e.seq.unwrap() - 100),
                    "answered twice: {e:?}"
                );
            }
            ServerMessage::SayOk(ok) => panic!("nothing can be stored yet, got {ok:?}"),
            _ => {} // presence events
        }
    }
    assert!(
        unavailable > 0,
        "the queued messages were given up, not left waiting"
    );
    // The server still answers: bob pings and gets his pong.
    let seq = bob.send(ClientMessage::Ping(Ping {})).await;
    match bob.reply_to(seq).await {
        ServerMessage::Pong(_) => {}
        other => panic!("{other:?}"),
    }
    // While the lock is held, a new message is refused too, never left waiting.
    let seq = alice
        .send(ClientMessage::Say(Say {
            id: "during".into(),
            text: "during the lock".into(),
        }))
        .await;
    match alice.reply_to(seq).await {
        ServerMessage::Error(e) => assert_eq!(e.code, ErrorCode::StorageUnavailable, "{e:?}"),
        other => panic!("{other:?}"),
    }
    // Nothing refused was stored.
    locker.release().await;
    assert_eq!(stored_numbers(&mut bob).await, Vec::<u32>::new());

    // Recovered: each message sent again with its id is stored once.
    let mut ids = Vec::new();
    for i in 0..SENT {
        ids.push(say_until_stored(&mut alice, i).await);
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert_eq!(
        stored_numbers(&mut bob).await,
        (0..SENT).collect::<Vec<_>>()
    );
    server.stop().await;
    tdb.drop_db().await;
}

/// Room messages of about 4 KB, to fill the database's disk quickly.
fn big(i: u32) -> String {
    format!("message {i} {}", "x".repeat(4000))
}

// The data directory on a full disk: SQLite cannot write, every message is
// answered (stored, or refused with storage_unavailable and a retry time),
// nothing refused is stored, and once there is room again each refused one
// sent again with its id is stored once and delivered once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root: it mounts a tmpfs"]
async fn a_full_disk_answers_every_message_and_stores_each_once_when_space_returns() {
    let root = tempfile::tempdir().unwrap();
    let disk = root.path().join("disk");
    let Some(tmpfs) = Tmpfs::mount(&disk, 8 * 1024 * 1024) else {
        panic!("this test fills a small tmpfs: run it as root, which may mount one");
    };
    let data = disk.join("data");
    let mut config = testkit::server::test_config("");
    config.database_url = None;
    config.data_dir = data.clone();
    config.db_timeout = Duration::from_secs(2);
    let server = TestServer::start_config(config).await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let (mut bob, _) = TestClient::user(server.addr, "bob").await;
    alice.say_ok("before", "before the disk filled up").await;
    let filler = disk.join("filler");
    fill(&filler);

    // Send until the database fails (the WAL may have room for a few first).
    let mut stored = Vec::new();
    let mut refused = Vec::new();
    let mut n = 0;
    while refused.len() < 20 {
        assert!(n < 20_000, "8 MiB full, and 80 MB of messages all stored?");
        let seq = alice
            .send(ClientMessage::Say(Say {
                id: format!("m{n}"),
                text: big(n),
            }))
            .await;
        match alice.reply_to(seq).await {
            ServerMessage::SayOk(_) => stored.push(n),
            ServerMessage::Error(e) => {
                assert_eq!(e.code, ErrorCode::StorageUnavailable, "{e:?}");
                assert!(e.retry_after_ms.is_some_and(|ms| ms > 0), "{e:?}");
                refused.push(n);
            }
            other => panic!("{other:?}"),
        }
        n += 1;
    }
    // Others are still served.
    let seq = bob.send(ClientMessage::Ping(Ping {})).await;
    assert!(matches!(bob.reply_to(seq).await, ServerMessage::Pong(_)));

    std::fs::remove_file(&filler).unwrap();
    for &i in &refused {
        loop {
            let seq = alice
                .send(ClientMessage::Say(Say {
                    id: format!("m{i}"),
                    text: big(i),
                }))
                .await;
            match alice.reply_to(seq).await {
                ServerMessage::SayOk(_) => break,
                ServerMessage::Error(e) if refused_for_now(&e) => {
                    tokio::time::sleep(Duration::from_millis(e.retry_after_ms.unwrap())).await;
                }
                other => panic!("message {i}: {other:?}"),
            }
        }
    }
    let mut all: Vec<u32> = stored.iter().chain(&refused).copied().collect();
    all.sort_unstable();
    let mut in_history = stored_numbers(&mut bob).await;
    in_history.sort_unstable();
    assert_eq!(in_history, all, "each stored once");
    // bob was sent each stored message once, live.
    let mut live = Vec::new();
    while live.len() < all.len() {
        let m = bob.next_message().await;
        if let Some(rest) = m.text.strip_prefix("message ") {
            live.push(rest.split(' ').next().unwrap().parse::<u32>().unwrap());
        }
    }
    live.sort_unstable();
    assert_eq!(live, all, "each delivered once");
    server.stop().await;
    drop(tmpfs);
}
