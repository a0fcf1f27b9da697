//! The administrator: announcements, the console's commands (driven through
//! `console::run` in-process), and the real binary with its console on
//! standard input and its shutdown on SIGTERM or `/quit`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Duration;

use chatroom_server::console;
use chatroom_server::db::history::{self as db_history, Cursor, LEVEL_ADMIN};
use chatroom_server::{Admin, AdminError};
use chatroom_shared::ErrorCode;
use chatroom_shared::message::{
    ClientMessage, Kicked, LeaveReason, MessageKind, Ping, Resume, ServerMessage, UserLeft,
};
use testkit::binary::{ServerProcess, Stdin};
use testkit::client::{PASSWORD, TestClient, error_code};
use testkit::db::db_test;
use testkit::server::TestServer;
use tokio::io::{AsyncBufReadExt, BufReader, DuplexStream, Lines};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// Wait for `name`'s `user_left` and return it.
async fn left(client: &mut TestClient, name: &str) -> UserLeft {
    let m = client
        .wait_for(
            "user_left",
            |m| matches!(m, ServerMessage::UserLeft(l) if l.name == name),
        )
        .await;
    let ServerMessage::UserLeft(l) = m else {
        unreachable!()
    };
    l
}

/// Wait for the announcement with `text`.
async fn announcement(
    client: &mut TestClient,
    text: &str,
) -> chatroom_shared::message::Announcement {
    let m = client
        .wait_for(
            "announcement",
            |m| matches!(m, ServerMessage::Announcement(a) if a.text == text),
        )
        .await;
    let ServerMessage::Announcement(a) = m else {
        unreachable!()
    };
    a
}

/// The messages a connection got before the server closed it, the last one
/// being `kicked`; returns that.
async fn kicked_then_closed(client: &mut TestClient) -> Kicked {
    let got = client.expect_closed().await;
    match got.last() {
        Some(ServerMessage::Kicked(k)) => k.clone(),
        _ => panic!("expected kicked, then the end: {got:?}"),
    }
}

/// Log in `name` (registering it first) on a connection whose own address
/// the test knows, as the server sees it.
async fn user_at(server: SocketAddr, name: &str) -> (TestClient, SocketAddr) {
    let stream = TcpStream::connect(server).await.unwrap();
    let local = stream.local_addr().unwrap();
    let mut c = TestClient::from_stream(stream);
    c.hello().await;
    assert!(matches!(
        c.register(name, PASSWORD).await,
        ServerMessage::RegisterOk(_)
    ));
    c.login_ok(name, PASSWORD).await;
    (c, local)
}

/// The console running in-process on a channel of lines, writing to a pipe.
struct Console {
    lines: mpsc::Sender<String>,
    out: Lines<BufReader<DuplexStream>>,
    task: tokio::task::JoinHandle<()>,
}

impl Console {
    fn start(admin: Admin) -> Self {
        let (lines, rx) = mpsc::channel(16);
        let (writer, reader) = tokio::io::duplex(64 * 1024);
        let task = tokio::spawn(console::run(rx, writer, admin));
        Self {
            lines,
            out: BufReader::new(reader).lines(),
            task,
        }
    }

    /// Type a line and read the first line of the answer.
    async fn run(&mut self, line: &str) -> String {
        self.lines.send(line.to_owned()).await.unwrap();
        self.next_line().await
    }

    async fn next_line(&mut self) -> String {
        tokio::time::timeout(Duration::from_secs(10), self.out.next_line())
            .await
            .expect("console answers in time")
            .unwrap()
            .expect("console output open")
    }
}

db_test!(
    announcement_reaches_everyone_and_is_stored,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut bob, _) = TestClient::user(server.addr, "bob").await;

        let text = "The server restarts at noon";
        let id = server.admin.announce(text).await.unwrap();
        for c in [&mut alice, &mut bob] {
            let a = announcement(c, text).await;
            assert_eq!(a.id, id);
        }

        // Stored: in history as an announcement from Admin, and in the recent
        // list of whoever logs in next.
        let page = alice.history(None, None, None).await;
        let m = page
            .messages
            .iter()
            .find(|m| m.id == id)
            .expect("in history");
        assert_eq!(
            (m.kind, m.from.as_str(), m.text.as_str()),
            (MessageKind::Announcement, "Admin", text)
        );
        let (_carol, login) = TestClient::user(server.addr, "carol").await;
        let m = login.recent.iter().find(|m| m.id == id).expect("in recent");
        assert_eq!(
            (m.kind, m.from.as_str()),
            (MessageKind::Announcement, "Admin")
        );
        let db = tdb.connect().await;
        let (rows, _) = db_history::room_page(&db, Cursor::Latest, 10)
            .await
            .unwrap();
        let row = rows.iter().find(|r| r.id == id).expect("stored row");
        assert_eq!((row.level, row.sender.as_deref()), (LEVEL_ADMIN, None));
        db.close().await.unwrap();

        // An empty announcement is refused and not stored.
        assert!(matches!(
            server.admin.announce("").await,
            Err(AdminError::InvalidText(_))
        ));
        let page = alice.history(None, None, None).await;
        assert_eq!(page.messages.last().unwrap().id, id);
        server.stop().await;
    }
);

db_test!(
    console_announces_lists_kicks_bans_and_unbans,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let mut console = Console::start(server.admin.clone());
        let (mut alice, alice_addr) = user_at(server.addr, "alice").await;
        let (mut bob, bob_addr) = user_at(server.addr, "bob").await;

        // A plain line is an announcement.
        assert_eq!(
            console.run("welcome, everyone").await,
            "announced: Admin: welcome, everyone"
        );
        announcement(&mut alice, "welcome, everyone").await;
        announcement(&mut bob, "welcome, everyone").await;

        // /users lists everyone online with their address.
        assert_eq!(console.run("/users").await, "2 online:");
        let first = console.next_line().await;
        let second = console.next_line().await;
        assert!(first.contains(&format!("alice  {alice_addr}")), "{first}");
        assert!(second.contains(&format!("bob  {bob_addr}")), "{second}");

        // /kick: bob is told why, then closed; the others see him kicked.
        assert_eq!(console.run("/kick bob spam").await, "kicked bob");
        let k = kicked_then_closed(&mut bob).await;
        assert_eq!((k.reason.as_deref(), k.banned), (Some("spam"), false));
        assert_eq!(left(&mut alice, "bob").await.reason, LeaveReason::Kicked);

        // A kicked user may come back; a banned one may not.
        let (mut bob, _) = TestClient::existing(server.addr, "bob").await;
        let bob_token = bob.token.clone().unwrap();
        assert_eq!(
            console.run("/ban bob").await,
            "banned bob and disconnected them"
        );
        let k = kicked_then_closed(&mut bob).await;
        assert!(k.banned, "{k:?}");
        assert_eq!(left(&mut alice, "bob").await.reason, LeaveReason::Banned);
        let mut bob = TestClient::greeted(server.addr).await;
        assert_eq!(
            error_code(&bob.login("bob", PASSWORD).await),
            ErrorCode::AccountDisabled
        );
        // The ban also revoked his resume tokens.
        let reply = bob
            .request(ClientMessage::Resume(Resume { token: bob_token }))
            .await;
        assert_eq!(error_code(&reply), ErrorCode::InvalidToken);

        // /unban lets him in again.
        assert_eq!(console.run("/unban bob").await, "unbanned bob");
        bob.login_ok("bob", PASSWORD).await;

        // Mistakes get a hint, not an action.
        let answer = console.run("/nonsense").await;
        assert!(
            answer.contains("unknown command /nonsense") && answer.contains("/help"),
            "{answer}"
        );
        assert_eq!(console.run("/kick").await, "usage: /kick NAME [REASON]");
        assert_eq!(
            console.run("/help").await,
            console::HELP.lines().next().unwrap()
        );
        for line in console::HELP.lines().skip(1) {
            assert_eq!(console.next_line().await, line);
        }

        // /quit shuts the server down: everyone is told, then closed.
        assert_eq!(console.run("/quit").await, "shutting down");
        for c in [&mut alice, &mut bob] {
            let got = c.expect_closed().await;
            assert!(
                got.iter()
                    .any(|m| matches!(m, ServerMessage::ServerShutdown(_))),
                "{got:?}"
            );
        }
        tokio::time::timeout(Duration::from_secs(10), console.task)
            .await
            .expect("the console ends after /quit")
            .unwrap();
        server.stop().await;
    }
);

db_test!(kick_reports_offline_and_unknown_users, |tdb| async move {
    let server = TestServer::start(tdb.url()).await;
    let (mut carol, _) = TestClient::user(server.addr, "carol").await;
    carol.quit().await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;

    match server.admin.kick("carol", None).await {
        Err(AdminError::NotOnline(name)) => assert_eq!(name, "carol"),
        other => panic!("kick carol: {other:?}"),
    }
    match server.admin.kick("zed", None).await {
        Err(AdminError::UnknownUser(name)) => assert_eq!(name, "zed"),
        other => panic!("kick zed: {other:?}"),
    }

    let mut console = Console::start(server.admin.clone());
    assert_eq!(
        console.run("/kick carol").await,
        "not kicked: carol is not online"
    );
    assert_eq!(
        console.run("/kick zed because").await,
        "not kicked: no account is named zed"
    );
    assert_eq!(
        console.run("/ban zed").await,
        "not banned: no account is named zed"
    );
    assert_eq!(
        console.run("/unban zed").await,
        "not unbanned: no account is named zed"
    );
    // Banning someone offline works and says so.
    assert_eq!(console.run("/ban carol").await, "banned carol");

    // Nobody online was disturbed. The server tells presence changes in the
    // order they happen: bob logs in after all of the above, so a leave it
    // caused would reach alice before bob's join.
    let (_bob, _) = TestClient::user(server.addr, "bob").await;
    let mut seen = Vec::new();
    loop {
        let m = alice.recv().await;
        let done = matches!(&m, ServerMessage::UserJoined(j) if j.name == "bob");
        seen.push(m);
        if done {
            break;
        }
    }
    assert!(
        !seen.iter().any(|m| matches!(m, ServerMessage::UserLeft(_))),
        "{seen:?}"
    );
    alice.say_ok("a1", "undisturbed").await;
    server.stop().await;
});

// ----- the real binary -----

db_test!(
    binary_console_line_reaches_clients_as_an_announcement,
    |tdb| async move {
        let dir = tempfile::tempdir().unwrap();
        let mut server = ServerProcess::spawn(dir.path(), Some(tdb.url()), Stdin::Piped).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;

        server.type_line("hello from the console").await;
        let a = announcement(&mut alice, "hello from the console").await;
        assert_eq!(
            server.console_line().await.as_deref(),
            Some("announced: Admin: hello from the console")
        );
        let page = alice.history(None, None, None).await;
        assert!(
            page.messages
                .iter()
                .any(|m| m.id == a.id && m.kind == MessageKind::Announcement && m.from == "Admin")
        );

        server.terminate();
        assert!(server.wait_exit().await.success(), "{}", server.log());
    }
);

db_test!(
    binary_keeps_serving_when_stdin_is_closed,
    |tdb| async move {
        let dir = tempfile::tempdir().unwrap();
        let mut server = ServerProcess::spawn(dir.path(), Some(tdb.url()), Stdin::Null).await;
        // The console ends at once on a closed stdin; the server does not.
        assert!(server.is_running());
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        alice.say_ok("a1", "anyone there?").await;
        let (_bob, login) = TestClient::user(server.addr, "bob").await;
        assert_eq!(login.recent.last().unwrap().text, "anyone there?");
        assert!(server.is_running());

        server.terminate();
        assert!(server.wait_exit().await.success(), "{}", server.log());
    }
);

db_test!(
    binary_sigterm_sends_server_shutdown_and_exits_zero,
    |tdb| async move {
        let dir = tempfile::tempdir().unwrap();
        let mut server = ServerProcess::spawn(dir.path(), Some(tdb.url()), Stdin::Piped).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut bob, _) = TestClient::user(server.addr, "bob").await;
        alice.say_ok("a1", "before the stop").await;

        server.terminate();
        for c in [&mut alice, &mut bob] {
            let got = c.expect_closed().await;
            assert!(
                got.iter()
                    .any(|m| matches!(m, ServerMessage::ServerShutdown(_))),
                "{got:?}"
            );
        }
        let status = server.wait_exit().await;
        assert_eq!(status.code(), Some(0), "{status:?}; log:\n{}", server.log());
    }
);

db_test!(
    binary_console_quit_sends_server_shutdown_and_exits_zero,
    |tdb| async move {
        let dir = tempfile::tempdir().unwrap();
        let mut server = ServerProcess::spawn(dir.path(), Some(tdb.url()), Stdin::Piped).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;

        server.type_line("/quit").await;
        assert_eq!(
            server.console_line().await.as_deref(),
            Some("shutting down")
        );
        let got = alice.expect_closed().await;
        assert!(
            got.iter()
                .any(|m| matches!(m, ServerMessage::ServerShutdown(_))),
            "{got:?}"
        );
        let status = server.wait_exit().await;
        assert_eq!(status.code(), Some(0), "{status:?}; log:\n{}", server.log());
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_without_database_url_keeps_sqlite_in_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    // A data directory that does not exist yet.
    let data = dir.path().join("state").join("chat");
    let mut server = ServerProcess::spawn(&data, None, Stdin::Piped).await;
    assert!(data.join("chatroom.db").is_file(), "{}", server.log());
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let ack = alice.say_ok("a1", "kept on disk").await;
    server.terminate();
    assert!(server.wait_exit().await.success(), "{}", server.log());
    drop(alice);

    // Started again on the same directory, it has the account and the message.
    let mut server = ServerProcess::spawn(&data, None, Stdin::Piped).await;
    let (_alice, login) = TestClient::existing(server.addr, "alice").await;
    let last = login.recent.last().expect("the message survived");
    assert_eq!(
        (last.id, last.text.as_str()),
        (ack.message_id, "kept on disk")
    );
    server.terminate();
    assert!(server.wait_exit().await.success(), "{}", server.log());
}

// A kick closes gently: after `kicked` and the end of the stream, the server
// still reads (and discards) what the client sends for a moment, so the
// kernel sends no reset that could destroy the client's unread `kicked`.
db_test!(
    a_kicked_client_gets_no_reset_after_the_last_frame,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let (mut dave, _) = TestClient::user(server.addr, "dave").await;
        server
            .admin
            .kick("dave", Some("enough".into()))
            .await
            .unwrap();
        let got = dave.expect_closed().await;
        assert!(
            got.iter()
                .any(|m| matches!(m, ServerMessage::Kicked(k) if !k.banned)),
            "{got:?}"
        );
        // A socket closed with unread data answers with a reset, after which
        // writes fail; a lingering one still takes them.
        for _ in 0..3 {
            let sent = dave.try_send(ClientMessage::Ping(Ping {})).await;
            assert!(sent.is_ok(), "write after the close failed: {sent:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        server.stop().await;
    }
);
