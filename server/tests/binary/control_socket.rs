//! Administration without a terminal (issue 19 §1): `chatroom-server admin …`
//! reaches the real binary, started with its standard input closed as a
//! service manager starts it, over the control socket in its data directory;
//! only the server's own user may use the socket; a second server on the same
//! data directory refuses to start.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use chatroom_shared::message::{LeaveReason, ServerMessage};
use testkit::binary::{ServerProcess, Stdin, subcommand};
use testkit::client::{TestClient, all_history};
use testkit::process::server_binary;
use testkit::transfer::{content, download, download_ready, share};

/// `chatroom-server --data-dir DIR admin WORDS…`, run as a separate process,
/// with no settings from the test's environment.
async fn admin(dir: &Path, words: &[&str]) -> Output {
    admin_as(server_binary(), dir, words, None).await
}

/// [`admin`] with this copy of the binary, as `uid` when given.
async fn admin_as(binary: &Path, dir: &Path, words: &[&str], uid: Option<u32>) -> Output {
    let mut cmd = subcommand(binary);
    cmd.arg("--data-dir").arg(dir).arg("admin").args(words);
    if let Some(uid) = uid {
        cmd.uid(uid);
    }
    cmd.output().await.expect("run chatroom-server admin")
}

/// The text of the next announcement `c` receives.
async fn announcement(c: &mut TestClient) -> String {
    match c
        .wait_for("an announcement", |m| {
            matches!(m, ServerMessage::Announcement(_))
        })
        .await
    {
        ServerMessage::Announcement(a) => a.text,
        _ => unreachable!(),
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands_reach_a_server_without_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::spawn(dir.path(), None, Stdin::Null).await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let (mut bob, _) = TestClient::user(server.addr, "bob").await;

    let out = admin(dir.path(), &["announce", "maintenance", "at", "20:00"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "announced: Admin: maintenance at 20:00\n");
    for c in [&mut alice, &mut bob] {
        assert_eq!(announcement(c).await, "maintenance at 20:00");
    }

    let out = admin(dir.path(), &["users"]).await;
    let users = stdout(&out);
    assert!(users.starts_with("2 online:"), "{users}");
    assert!(users.contains("alice") && users.contains("bob"), "{users}");

    let out = admin(dir.path(), &["kick", "bob", "too", "loud"]).await;
    assert_eq!(stdout(&out), "kicked bob\n");
    let closing = bob.expect_closed().await;
    assert!(
        closing.iter().any(
            |m| matches!(m, ServerMessage::Kicked(k) if k.reason.as_deref() == Some("too loud"))
        ),
        "{closing:?}"
    );
    match alice
        .wait_for(
            "bob leaves",
            |m| matches!(m, ServerMessage::UserLeft(l) if l.name == "bob"),
        )
        .await
    {
        ServerMessage::UserLeft(l) => assert_eq!(l.reason, LeaveReason::Kicked),
        _ => unreachable!(),
    }

    // A command the console does not know gets the console's answer.
    let out = admin(dir.path(), &["dance"]).await;
    assert!(out.status.success());
    assert_eq!(
        stdout(&out),
        "unknown command /dance; type /help for the list\n"
    );

    // `admin quit` stops the server gracefully.
    let out = admin(dir.path(), &["quit"]).await;
    assert_eq!(stdout(&out), "shutting down\n");
    let mut server = server;
    assert!(server.wait_exit().await.success(), "{}", server.log());

    // With nobody there, the command says so and fails.
    let out = admin(dir.path(), &["users"]).await;
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no chatroom-server answers on"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_the_same_data_directory_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let first = ServerProcess::spawn(dir.path(), None, Stdin::Null).await;
    let log = ServerProcess::refused(dir.path(), &[]).await;
    assert!(
        log.contains("another chatroom-server is running on the data directory"),
        "{log}"
    );
    // The first one is untouched, and still answers on its socket.
    let (mut alice, _) = TestClient::user(first.addr, "alice").await;
    alice.say_ok("m1", "still here").await;
    let out = admin(dir.path(), &["users"]).await;
    assert!(stdout(&out).starts_with("1 online:"), "{}", stdout(&out));
    first.terminate();
    let mut first = first;
    assert!(first.wait_exit().await.success());
    // Once it has stopped, the directory is free again.
    let again = ServerProcess::spawn(dir.path(), None, Stdin::Null).await;
    let out = admin(dir.path(), &["users"]).await;
    assert_eq!(stdout(&out), "nobody is online\n");
    drop(again);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root: runs the admin command as another user"]
async fn another_user_cannot_use_the_control_socket() {
    assert!(
        rustix::process::geteuid().is_root(),
        "this test runs a command as another user: run it as root"
    );
    let dir = tempfile::tempdir().unwrap();
    // Anyone may enter the directory: only the socket's own mode keeps them out.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let server = ServerProcess::spawn(dir.path(), None, Stdin::Null).await;
    let socket = dir.path().join("admin.sock");
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the socket's mode is {mode:o}");
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;

    // nobody (65534) is refused, and nothing is announced. (It runs a copy of
    // the binary that it may execute: the build's own is under root's home.)
    let bin = tempfile::tempdir().unwrap();
    std::fs::set_permissions(bin.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let copy = bin.path().join("chatroom-server");
    std::fs::copy(server_binary(), &copy).unwrap();
    let words = ["announce", "not from the operator"];
    let out = admin_as(&copy, dir.path(), &words, Some(65534)).await;
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("Permission denied"),
        "{}",
        stderr(&out)
    );
    // The owner's announcement after it is the first thing alice hears.
    let out = admin(dir.path(), &["announce", "from the operator"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(announcement(&mut alice).await, "from the operator");
}

/// Download file `id` through `c` from `addr`.
async fn downloads(c: &mut TestClient, addr: std::net::SocketAddr, id: i64) -> Vec<u8> {
    let ready = download_ready(c, id, 0).await;
    download(addr, &ready.ticket).await
}

/// `chatroom-server --data-dir DIR backup PATH`.
async fn backup(dir: &Path, path: &Path) -> Output {
    let mut cmd = subcommand(server_binary());
    cmd.arg("--data-dir").arg(dir).arg("backup").arg(path);
    cmd.output().await.expect("run chatroom-server backup")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_running_starts_a_server_that_answers_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::spawn(dir.path(), None, Stdin::Null).await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let (mut bob, _) = TestClient::user(server.addr, "bob").await;
    for i in 0..20 {
        alice
            .say_ok(&format!("a{i}"), &format!("before the backup {i}"))
            .await;
    }
    let bytes = content(300 * 1024, 7);
    let file = share(&mut bob, server.addr, "notes.bin", &bytes).await;
    let history = all_history(&mut alice).await;

    // The copy is taken while alice keeps talking.
    let out_dir = tempfile::tempdir().unwrap();
    let copy = out_dir.path().join("chat backup.db");
    let talking = tokio::spawn(async move {
        for i in 0..20 {
            alice.say_ok(&format!("d{i}"), &format!("during {i}")).await;
        }
        alice
    });
    let out = backup(dir.path(), &copy).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(said.starts_with("backup written: "), "{said}");
    assert!(said.contains("1 shared file"), "{said}");
    let mut alice = talking.await.unwrap();
    // The same path again is refused; nothing is overwritten.
    let again = stdout(&backup(dir.path(), &copy).await);
    assert!(
        again.starts_with("no backup: ") && again.contains("exists already"),
        "{again}"
    );

    // Restore: the copy as the database of a new data directory, and the
    // listed files into its files directory.
    let restored = tempfile::tempdir().unwrap();
    std::fs::copy(&copy, restored.path().join("chatroom.db")).unwrap();
    let files = restored.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    let list = std::fs::read_to_string(out_dir.path().join("chat backup.db.files")).unwrap();
    let listed: Vec<&str> = list.lines().collect();
    assert_eq!(listed.len(), 1, "{list}");
    let from = Path::new(listed[0]);
    std::fs::copy(from, files.join(from.file_name().unwrap())).unwrap();

    let second = ServerProcess::spawn(restored.path(), None, Stdin::Null).await;
    let (mut reader, _) = TestClient::existing(second.addr, "bob").await;
    let got = all_history(&mut reader).await;
    // Everything before the backup is there as it was, in order; what was
    // said during it is there or not, each whole, after it.
    assert_eq!(&got[..history.len()], &history[..]);
    let during: Vec<&str> = got[history.len()..]
        .iter()
        .map(|m| m.text.as_str())
        .collect();
    let expected: Vec<String> = (0..during.len()).map(|i| format!("during {i}")).collect();
    assert_eq!(during, expected);
    assert_eq!(downloads(&mut reader, second.addr, file.id).await, bytes);
    alice.quit().await;
    drop(server);
}
