//! A PostgreSQL or MariaDB server that stops, or hangs, under a running chat
//! server (through a proxy in front of the test's database, so the machine's
//! shared server is never touched): every request is still answered within
//! `--db-timeout` and a little, with the documented error (`internal` for a
//! read, `storage_unavailable` for a message), everyone stays connected, and
//! once the database is back everything works again.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{
    ClientMessage, Files, History, Ping, Say, Search, ServerMessage, StatsRequest, Target,
};
use testkit::client::TestClient;
use testkit::db::{Backend, TestDb};
use testkit::db_proxy::{DbProxy, Mode};
use testkit::server::TestServer;

/// The server's --db-timeout in these tests.
const DB_TIMEOUT: Duration = Duration::from_secs(2);

/// The reply to `body`, which must come (the test client fails after 10 s).
async fn answer(c: &mut TestClient, body: ClientMessage) -> ServerMessage {
    let seq = c.send(body).await;
    c.reply_to(seq).await
}

fn code(m: &ServerMessage) -> ErrorCode {
    match m {
        ServerMessage::Error(e) => e.code,
        other => panic!("expected an error, got {other:?}"),
    }
}

fn history() -> ClientMessage {
    ClientMessage::History(History {
        to: Target::Room,
        ..Default::default()
    })
}

async fn database_down_and_back(backend: Backend) {
    let tdb = TestDb::create(backend).await;
    let proxy = DbProxy::start(tdb.url()).await;
    let server = TestServer::start_with(&proxy.url_for(tdb.url()), |c| {
        c.db_timeout = DB_TIMEOUT;
    })
    .await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let (mut bob, _) = TestClient::user(server.addr, "bob").await;
    alice.say_ok("a-1", "before").await;

    for mode in [Mode::Down, Mode::Hung] {
        proxy.set(mode);
        // Reads answer `internal`.
        for body in [
            history(),
            ClientMessage::Search(Search {
                text: "before".into(),
                ..Default::default()
            }),
            ClientMessage::Files(Files::default()),
            ClientMessage::Stats(StatsRequest::default()),
        ] {
            let reply = answer(&mut alice, body.clone()).await;
            assert_eq!(
                code(&reply),
                ErrorCode::Internal,
                "{mode:?} {body:?}: {reply:?}"
            );
        }
        // A message is not stored, and its sender is told to send it again.
        let reply = answer(
            &mut alice,
            ClientMessage::Say(Say {
                id: format!("a-{mode:?}"),
                text: "while down".into(),
            }),
        )
        .await;
        assert_eq!(
            code(&reply),
            ErrorCode::StorageUnavailable,
            "{mode:?}: {reply:?}"
        );
        // A login needs the database too: refused with an error, not left waiting.
        let mut carol = TestClient::greeted(server.addr).await;
        let reply = carol.login("carol", testkit::client::PASSWORD).await;
        assert_eq!(code(&reply), ErrorCode::Internal, "{mode:?}: {reply:?}");
        // What needs no database goes on.
        assert!(matches!(
            answer(&mut bob, ClientMessage::Ping(Ping {})).await,
            ServerMessage::Pong(_)
        ));
        proxy.set(Mode::Up);

        // Back: the message sent again with its id is stored; reads work.
        let mut stored = None;
        for _ in 0..100 {
            match answer(
                &mut alice,
                ClientMessage::Say(Say {
                    id: format!("a-{mode:?}"),
                    text: "while down".into(),
                }),
            )
            .await
            {
                ServerMessage::SayOk(ok) => {
                    stored = Some(ok);
                    break;
                }
                ServerMessage::Error(e) if e.retry_after_ms.is_some() => {
                    tokio::time::sleep(Duration::from_millis(e.retry_after_ms.unwrap())).await;
                }
                other => panic!("{mode:?}: {other:?}"),
            }
        }
        assert!(
            stored.is_some(),
            "{mode:?}: stored once the database is back"
        );
        let mut page = None;
        for _ in 0..100 {
            match answer(&mut alice, history()).await {
                ServerMessage::HistoryPage(p) => {
                    page = Some(p);
                    break;
                }
                // The pool's broken connections are replaced as they are found.
                ServerMessage::Error(e) if e.code == ErrorCode::Internal => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                other => panic!("{mode:?}: {other:?}"),
            }
        }
        let texts: Vec<_> = page
            .expect("history answers again")
            .messages
            .into_iter()
            .map(|m| m.text)
            .collect();
        assert_eq!(texts.last().map(String::as_str), Some("while down"));
    }
    let texts: Vec<_> = testkit::client::all_history(&mut bob)
        .await
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert_eq!(texts, ["before", "while down", "while down"], "each once");
    server.stop().await;
    drop(proxy);
    tdb.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs TEST_POSTGRES_URL"]
async fn postgres_down_or_hung_answers_every_request_and_recovers() {
    database_down_and_back(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs TEST_MYSQL_URL"]
async fn mysql_down_or_hung_answers_every_request_and_recovers() {
    database_down_and_back(Backend::MySql).await;
}
