//! Moving between databases (issue 19 §3): a chat on the embedded SQLite
//! default — users, a private group with an approved member, direct messages
//! (one left unread by its offline recipient), a shared file, a finished game
//! and room history — is copied by the real binary's `copy-data` into a fresh
//! PostgreSQL or MariaDB database (or another SQLite file), and a server
//! started on the copy, in the same data directory, answers as the original
//! did. New rows get ids past the copied ones, and copying onto the now
//! filled target is refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Output;

use chatroom_server::db::sqlite_url_for;
use chatroom_shared::message::{
    ClientMessage, FileInfo, Files, GameInviteRequest, GameMove, GameRef, GameStatus, GroupCreate,
    Groups, History, Search, Send, ServerMessage, StatsRequest, Target,
};
use testkit::binary::{ServerProcess, Stdin, subcommand};
use testkit::client::{TestClient, all_history, gref, group, member_ref, message, user as dm};
use testkit::fresh_db::FreshDatabase;
use testkit::process::server_binary;
use testkit::services::{MYSQL_ENV, POSTGRES_ENV, required};
use testkit::transfer::{content, download, download_ready, share};

/// `chatroom-server copy-data --from FROM --to TO --batch 2` (small batches,
/// so every table takes several), with no settings from the test's environment.
async fn copy_data(from: &str, to: &str) -> Output {
    let mut cmd = subcommand(server_binary());
    cmd.args(["copy-data", "--from", from, "--to", to, "--batch", "2"]);
    cmd.output().await.expect("run chatroom-server copy-data")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A request whose reply must be the same on the original and on the copy.
async fn answer(c: &mut TestClient, req: ClientMessage) -> serde_json::Value {
    let mut reply = serde_json::to_value(c.request(req).await).unwrap();
    // The request's own number is the only part that may differ.
    reply.as_object_mut().unwrap().remove("seq");
    reply
}

/// Everything alice asks that the copy must answer the same: history pages of
/// the room, the group and a direct conversation, a search, the shared
/// files, the groups, and both players' game records.
async fn observed(alice: &mut TestClient) -> Vec<serde_json::Value> {
    let room = all_history(alice).await;
    let mut out = vec![serde_json::to_value(&room).unwrap()];
    let page = |to: Target, before: Option<i64>| {
        ClientMessage::History(History {
            to,
            before,
            limit: Some(2),
            ..Default::default()
        })
    };
    let last = room.last().unwrap().id;
    for req in [
        page(Target::Room, Some(last)),
        page(group("club"), None),
        page(dm("carol"), None),
        page(dm("bob"), None),
        ClientMessage::Search(Search {
            text: "rocket".into(),
            ..Default::default()
        }),
        ClientMessage::Files(Files::default()),
        ClientMessage::Groups(Groups::default()),
        ClientMessage::Stats(StatsRequest {
            name: Some("alice".into()),
        }),
        ClientMessage::Stats(StatsRequest {
            name: Some("carol".into()),
        }),
    ] {
        out.push(answer(alice, req).await);
    }
    out
}

async fn send_ok(c: &mut TestClient, id: &str, to: Target, text: &str) -> i64 {
    match c
        .request(ClientMessage::Send(Send {
            id: id.into(),
            to,
            text: text.into(),
        }))
        .await
    {
        ServerMessage::SayOk(ok) => ok.message_id,
        other => panic!("send {text:?}: {other:?}"),
    }
}

/// A private group of alice's that bob asked to join and alice approved.
async fn club(alice: &mut TestClient, bob: &mut TestClient) {
    let created = alice
        .request(ClientMessage::GroupCreate(GroupCreate {
            name: "club".into(),
            private: true,
            comment: Some("rockets".into()),
            full_history: false,
        }))
        .await;
    assert!(
        matches!(created, ServerMessage::GroupState(_)),
        "{created:?}"
    );
    let asked = bob.request(ClientMessage::GroupJoin(gref("club"))).await;
    assert!(matches!(asked, ServerMessage::GroupState(_)), "{asked:?}");
    let approved = alice
        .request(ClientMessage::GroupApprove(member_ref("club", "bob")))
        .await;
    assert!(
        matches!(approved, ServerMessage::GroupState(_)),
        "{approved:?}"
    );
}

/// alice invites, carol accepts, alice wins along the top row.
async fn game(alice: &mut TestClient, carol: &mut TestClient) {
    let id = match alice
        .request(ClientMessage::GameInvite(GameInviteRequest {}))
        .await
    {
        ServerMessage::GameState(s) => s.game.id,
        other => panic!("game_invite: {other:?}"),
    };
    let accepted = carol
        .request(ClientMessage::GameAccept(GameRef { game_id: id }))
        .await;
    assert!(
        matches!(accepted, ServerMessage::GameState(_)),
        "{accepted:?}"
    );
    for (n, cell) in [0u8, 3, 1, 4, 2].into_iter().enumerate() {
        let mover = if n % 2 == 0 { &mut *alice } else { &mut *carol };
        match mover
            .request(ClientMessage::GameMove(GameMove { game_id: id, cell }))
            .await
        {
            ServerMessage::GameState(s) if n == 4 => assert_eq!(s.game.status, GameStatus::Over),
            ServerMessage::GameState(_) => {}
            other => panic!("game_move {cell}: {other:?}"),
        }
    }
}

/// Download `file` from the server at `c`'s address.
async fn downloads(c: &mut TestClient, addr: std::net::SocketAddr, file: &FileInfo) -> Vec<u8> {
    let ready = download_ready(c, file.id, 0).await;
    download(addr, &ready.ticket).await
}

/// The whole story, copied to the database at `to`.
async fn copied_chat_answers_the_same(to: &str) {
    let dir = tempfile::tempdir().unwrap();
    let original = ServerProcess::spawn(dir.path(), None, Stdin::Null).await;
    let addr = original.addr;
    let (mut alice, _) = TestClient::user(addr, "alice").await;
    let (mut bob, _) = TestClient::user(addr, "bob").await;
    let (mut carol, _) = TestClient::user(addr, "carol").await;
    for i in 0..5 {
        alice
            .say_ok(&format!("a{i}"), &format!("room line {i}"))
            .await;
        carol.say_ok(&format!("c{i}"), &format!("reply {i}")).await;
    }
    alice
        .say_ok("a-rocket", "the rocket launches at noon")
        .await;
    club(&mut alice, &mut bob).await;
    send_ok(
        &mut alice,
        "g1",
        group("club"),
        "rocket plans, members only",
    )
    .await;
    message(&mut bob, "rocket plans, members only").await;
    send_ok(&mut alice, "d1", dm("carol"), "hi carol").await;
    send_ok(&mut carol, "d2", dm("alice"), "hi alice ✓").await;
    // bob is away when alice writes to him: it waits for his next login.
    bob.quit().await;
    let unread = send_ok(&mut alice, "d3", dm("bob"), "while you were away").await;
    let bytes = content(200 * 1024, 3);
    let file = share(&mut carol, addr, "notes.bin", &bytes).await;
    game(&mut alice, &mut carol).await;
    let before = observed(&mut alice).await;
    alice.quit().await;
    carol.quit().await;
    original.terminate();
    let mut original = original;
    assert!(original.wait_exit().await.success(), "{}", original.log());

    let from = sqlite_url_for(dir.path());
    let out = copy_data(&from, to).await;
    let said = stderr(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("chat_history: copying "), "{said}");
    assert!(said.contains("on both sides"), "{said}");
    assert!(
        said.contains("every row count and checksum matched"),
        "{said}"
    );

    // The same data directory (the shared files stay where they are), the copy
    // as its database.
    let copy = ServerProcess::spawn(dir.path(), Some(to), Stdin::Null).await;
    let (mut alice, _) = TestClient::existing(copy.addr, "alice").await;
    let after = observed(&mut alice).await;
    assert_eq!(after, before);
    // What bob had not read comes at his login, as it would have on the original.
    let (mut bob, _) = TestClient::existing(copy.addr, "bob").await;
    let away = message(&mut bob, "while you were away").await;
    assert_eq!((away.id, away.from.as_str()), (unread, "alice"));
    assert_eq!(downloads(&mut bob, copy.addr, &file).await, bytes);

    // New rows get ids past the copied ones: a message, an account, a group,
    // a membership, a file.
    let copied_max = [unread, file.id].into_iter().max().unwrap();
    let said = alice.say_ok("new", "after the move").await;
    assert!(said.message_id > copied_max, "{said:?} after {copied_max}");
    let (mut dave, _) = TestClient::user(copy.addr, "dave").await;
    let made = dave
        .request(ClientMessage::GroupCreate(GroupCreate {
            name: "movers".into(),
            private: false,
            comment: None,
            full_history: false,
        }))
        .await;
    assert!(matches!(made, ServerMessage::GroupState(_)), "{made:?}");
    let joined = alice
        .request(ClientMessage::GroupJoin(gref("movers")))
        .await;
    assert!(matches!(joined, ServerMessage::GroupState(_)), "{joined:?}");
    let second = share(&mut dave, copy.addr, "more.bin", b"more").await;
    assert!(second.id > file.id, "{second:?} after {file:?}");
    alice.quit().await;
    bob.quit().await;
    dave.quit().await;
    copy.terminate();
    let mut copy = copy;
    assert!(copy.wait_exit().await.success(), "{}", copy.log());

    // The target has rows now: a second copy onto it is refused.
    let again = copy_data(&from, to).await;
    let refused = stderr(&again);
    assert!(!again.status.success(), "{refused}");
    assert!(refused.contains("the target is not empty"), "{refused}");
    // And a database is never copied onto itself.
    let itself = copy_data(&from, &from).await;
    assert!(!itself.status.success());
    assert!(
        stderr(&itself).contains("the same database"),
        "{}",
        stderr(&itself)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_copied_to_another_sqlite_file_answers_the_same() {
    let target = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        target.path().join("copy.db").display()
    );
    copied_chat_answers_the_same(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs TEST_POSTGRES_URL"]
async fn a_chat_copied_from_sqlite_to_postgres_answers_the_same() {
    let target = FreshDatabase::create(&required(POSTGRES_ENV), "chatroom_copy")
        .await
        .unwrap();
    copied_chat_answers_the_same(target.url()).await;
    target.drop_db().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs TEST_MYSQL_URL"]
async fn a_chat_copied_from_sqlite_to_mariadb_answers_the_same() {
    let target = FreshDatabase::create(&required(MYSQL_ENV), "chatroom_copy")
        .await
        .unwrap();
    copied_chat_answers_the_same(target.url()).await;
    target.drop_db().await.unwrap();
}
