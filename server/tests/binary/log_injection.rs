//! Log and terminal injection: every string a client chooses reaches the real
//! binary's log (its standard error) and the operator's console escaped, so a
//! newline cannot forge a log line and an ESC cannot reach the operator's terminal.
//!
//! Each field is sent holding a newline followed by a forged log line and an ESC
//! sequence; afterwards no line of the log may start with the forged text, no ESC
//! byte may be anywhere in it, and the fields the server logs show the escaped form.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chatroom_server::db::{accounts, groups};
use chatroom_server::password::PasswordHasher;
use chatroom_shared::PROTOCOL_VERSION;
use chatroom_shared::message::*;
use chatroom_shared::rules::name_key;
use testkit::binary::{ServerProcess, Stdin};
use testkit::client::{PASSWORD, TestClient, error_code, gref, member_ref};
use testkit::db::db_test;

/// The start of the line a client tries to forge.
const FORGED_LINE: &str = "2026-12-06T18:00:00Z ERROR FORGED";

/// A value for `field` that carries a forged log line and a clear-screen sequence.
fn forged(field: &str) -> String {
    format!("x\n{FORGED_LINE}-{field}\x1b[2J")
}

/// How `forged(field)` reads once escaped.
fn escaped(field: &str) -> String {
    format!(r"x\n{FORGED_LINE}-{field}\u{{1b}}[2J")
}

/// No forged line and no ESC in `text` (a log or console output).
fn assert_clean(what: &str, text: &str) {
    assert!(
        !text.contains('\x1b'),
        "an ESC byte reached the {what}:\n{text}"
    );
    let forged: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with(FORGED_LINE))
        .collect();
    assert!(
        forged.is_empty(),
        "the {what} holds forged lines {forged:?}:\n{text}"
    );
}

/// Every request that carries a string of the client's choosing, each with a forged
/// value, on one logged-in connection (and `transfer` on a fresh one).
async fn send_every_field(server: &ServerProcess) {
    let addr = server.addr;
    let mut c = TestClient::connect(addr).await;
    let reply = c
        .request(ClientMessage::Hello(Hello {
            version: PROTOCOL_VERSION,
            client: forged("client"),
        }))
        .await;
    assert!(matches!(reply, ServerMessage::HelloOk(_)), "{reply:?}");
    let reply = c.register(&forged("register"), PASSWORD).await;
    assert_eq!(error_code(&reply), chatroom_shared::ErrorCode::InvalidName);
    let reply = c.login(&forged("login"), PASSWORD).await;
    assert_eq!(
        error_code(&reply),
        chatroom_shared::ErrorCode::WrongPassword
    );
    c.request(ClientMessage::Resume(Resume {
        token: forged("resume"),
    }))
    .await;

    let (mut alice, _) = TestClient::user(addr, "alice").await;
    let group = Target::Group {
        group: forged("to-group"),
    };
    let user = Target::User {
        user: forged("to-user"),
    };
    let requests = vec![
        ClientMessage::Say(Say {
            id: forged("say-id"),
            text: "hi".into(),
        }),
        ClientMessage::Say(Say {
            id: "s1".into(),
            text: forged("say-text"),
        }),
        ClientMessage::Send(Send {
            id: "s2".into(),
            to: group.clone(),
            text: forged("send-text"),
        }),
        ClientMessage::Send(Send {
            id: "s3".into(),
            to: user.clone(),
            text: "hi".into(),
        }),
        ClientMessage::History(History {
            to: group.clone(),
            ..Default::default()
        }),
        ClientMessage::History(History {
            from: Some(forged("history-from")),
            text: Some(forged("history-text")),
            ..Default::default()
        }),
        ClientMessage::Search(Search {
            text: forged("search"),
            ..Default::default()
        }),
        ClientMessage::Read(Read { to: user, upto: 1 }),
        ClientMessage::UploadBegin(UploadBegin {
            name: forged("file-name"),
            size: 1,
            sha256: "a".repeat(64),
            comment: None,
        }),
        ClientMessage::UploadBegin(UploadBegin {
            name: "ok.txt".into(),
            size: 1,
            sha256: "a".repeat(64),
            comment: Some(forged("file-comment")),
        }),
        ClientMessage::UploadBegin(UploadBegin {
            name: "ok.txt".into(),
            size: 1,
            sha256: "a".repeat(64),
            comment: Some(format!("line one\n{FORGED_LINE}-file-comment-newline")),
        }),
        ClientMessage::GroupCreate(GroupCreate {
            name: forged("group-name"),
            private: false,
            comment: None,
            full_history: false,
        }),
        ClientMessage::GroupCreate(GroupCreate {
            name: "plain".into(),
            private: false,
            comment: Some(format!("about\n{FORGED_LINE}-group-comment")),
            full_history: false,
        }),
        ClientMessage::GroupJoin(gref(&forged("group-join"))),
        ClientMessage::GroupMembers(testkit::client::members_of(&forged("group-members"))),
        ClientMessage::GroupApprove(member_ref("plain", &forged("group-approve"))),
        ClientMessage::Stats(StatsRequest {
            name: Some(forged("stats")),
        }),
    ];
    for body in requests {
        alice.request(body).await;
    }
    let mut data = TestClient::connect(addr).await;
    data.send(ClientMessage::Transfer(Transfer {
        ticket: forged("ticket"),
    }))
    .await;
    data.expect_closed().await;
    alice.quit().await;
}

/// The real binary on `tdb` with these flags, logging its own debug lines
/// too (the database libraries' SQL stays off).
async fn logging_debug(
    dir: &tempfile::TempDir,
    tdb: &testkit::db::TestDb,
    flags: &[&str],
) -> ServerProcess {
    ServerProcess::spawn_db_env(
        dir.path(),
        Some(tdb.url()),
        Stdin::Null,
        flags,
        &[("RUST_LOG", "debug,sqlx=warn,sea_orm=warn")],
    )
    .await
}

db_test!(
    client_strings_reach_the_log_escaped_and_on_one_line,
    |tdb| async move {
        let dir = tempfile::tempdir().unwrap();
        let server = logging_debug(&dir, tdb, &[]).await;
        send_every_field(&server).await;
        let log = server.log();
        assert_clean("log", &log);
        for field in ["client", "login"] {
            assert!(
                log.contains(&escaped(field)),
                "the {field} field is not in the log, escaped:\n{log}"
            );
        }
    }
);

db_test!(
    names_from_the_database_reach_the_console_escaped,
    |tdb| async move {
        let dir = tempfile::tempdir().unwrap();
        let mut server = ServerProcess::spawn(dir.path(), Some(tdb.url()), Stdin::Piped).await;
        // Names the rules refuse today, as an older server or a hand-edited
        // database may hold them.
        let db = tdb.connect().await;
        let name = forged("account");
        let hash = PasswordHasher::new(4, 1).hash(PASSWORD).await.unwrap();
        let account = accounts::insert_account(
            &db,
            accounts::NewAccount {
                name: &name,
                name_key: &name_key(&name),
                password_hash: &hash,
                address: "127.0.0.1",
                now: 1,
            },
        )
        .await
        .unwrap();
        let group = forged("group");
        groups::create(
            &db,
            groups::NewGroup {
                creator: account.id,
                name: &group,
                key: &name_key(&group),
                private: false,
                comment: None,
                full_history: false,
                now: 1,
            },
            5,
        )
        .await
        .unwrap();
        let (_eve, _) = TestClient::existing(server.addr, &name).await;

        server.type_line("/users").await;
        let header = server.console_line().await.unwrap();
        assert_eq!(header, "1 online:");
        let line = server.console_line().await.unwrap();
        assert_clean("console", &line);
        assert!(line.contains(&escaped("account")), "{line}");

        server.type_line("/groups").await;
        let header = server.console_line().await.unwrap();
        assert_eq!(header, "1 open group:");
        let line = server.console_line().await.unwrap();
        assert_clean("console", &line);
        assert!(line.contains(&escaped("group")), "{line}");
        assert!(line.contains(&escaped("account")), "{line}");
        assert_clean("log", &server.log());
    }
);

db_test!(
    json_logs_are_one_object_a_line_with_client_strings_as_sent,
    |tdb| async move {
        let dir = tempfile::tempdir().unwrap();
        let server = logging_debug(&dir, tdb, &["--log-format", "json"]).await;
        send_every_field(&server).await;
        let log = server.log();
        assert_clean("log", &log);
        // Every line is one JSON object with a level and a message; the
        // fields a client chose read back as the escaped text form shows them.
        let mut strings = Vec::new();
        for line in log.lines() {
            let entry: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not one JSON object ({e}): {line:?}"));
            assert!(entry["level"].is_string(), "{line}");
            assert!(entry["fields"]["message"].is_string(), "{line}");
            for value in entry["fields"].as_object().unwrap().values() {
                if let Some(s) = value.as_str() {
                    strings.push(s.to_owned());
                }
            }
        }
        assert!(
            strings.iter().any(|s| s.contains("chatroom server ready")),
            "{log}"
        );
        for field in ["client", "login"] {
            let want = escaped(field);
            assert!(
                strings.iter().any(|s| s.contains(&want)),
                "the {field} field is not in the log as {want:?}:\n{log}"
            );
        }
    }
);
