//! Shared files over real TCP: checks before any byte moves, uploads and downloads on
//! data connections, the `file_shared` event, resume of both directions, one-time
//! tickets, the list across restarts, and chat flowing during a transfer.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::Duration;

use chatroom_server::Config;
use chatroom_server::db::files as db_files;
use chatroom_shared::ErrorCode;
use chatroom_shared::message::{
    ClientMessage, FileInfo, Files, ServerMessage, Transfer, UploadBegin,
};
use tempfile::TempDir;
use testkit::client::{TestClient, error_code};
use testkit::db::{TestDb, db_test};
use testkit::server::TestServer;
use testkit::transfer::*;
use tokio::io::AsyncWriteExt;

/// A server on `tdb` with its own data directory (returned, to look inside).
async fn start(tdb: &TestDb, adjust: impl FnOnce(&mut Config)) -> (TestServer, TempDir) {
    let data = tempfile::tempdir().unwrap();
    let path = data.path().to_owned();
    let server = TestServer::start_with(tdb.url(), |c| {
        c.data_dir = path;
        adjust(c);
    })
    .await;
    (server, data)
}

async fn list(c: &mut TestClient) -> Vec<FileInfo> {
    match c.request(ClientMessage::Files(Files::default())).await {
        ServerMessage::FileList(l) => l.files,
        other => panic!("files: {other:?}"),
    }
}

async fn shared_event(c: &mut TestClient) -> FileInfo {
    match c
        .wait_for("file_shared", |m| matches!(m, ServerMessage::FileShared(_)))
        .await
    {
        ServerMessage::FileShared(s) => s.file,
        _ => unreachable!(),
    }
}

async fn records(tdb: &TestDb) -> usize {
    let db = tdb.connect().await;
    let n = db_files::list(&db).await.unwrap().len();
    db.close().await.unwrap();
    n
}

fn finish(data: &Path) {
    assert_only_storage(data);
}

db_test!(
    upload_then_download_gives_the_same_bytes_and_everyone_is_told,
    |tdb| async move {
        let (server, data) = start(tdb, |_| {}).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut bob, _) = TestClient::user(server.addr, "bob").await;
        let bytes = content(3 * 1024 * 1024 + 17, 1);

        let ready = upload_ready(&mut alice, "report.pdf", &bytes).await;
        assert_eq!(ready.offset, 0);
        let done = match upload(server.addr, &ready.ticket, &bytes).await {
            ServerMessage::TransferDone(d) => d.file,
            other => panic!("{other:?}"),
        };
        assert_eq!(done.name, "report.pdf");
        assert_eq!(done.size, bytes.len() as u64);
        assert_eq!(done.sha256, sha256_hex(&bytes));
        assert_eq!(done.uploader, "alice");
        assert_eq!(shared_event(&mut alice).await, done);
        assert_eq!(shared_event(&mut bob).await, done);

        assert_eq!(list(&mut bob).await, vec![done.clone()]);
        let (mut carol, _) = TestClient::user(server.addr, "carol").await;
        assert_eq!(list(&mut carol).await, vec![done.clone()]);

        let d = download_ready(&mut carol, done.id, 0).await;
        assert_eq!(d.file, done);
        let got = download(server.addr, &d.ticket).await;
        assert_eq!(sha256_hex(&got), done.sha256);
        assert!(got == bytes);
        assert_eq!(stored_files(data.path()).len(), 1);
        assert!(partial_files(data.path()).is_empty());
        server.stop().await;
        finish(data.path());
    }
);

db_test!(a_comment_travels_with_the_file, |tdb| async move {
    let (server, data) = start(tdb, |_| {}).await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let bytes = content(100, 2);
    let mut req = upload_request("notes.txt", &bytes);
    if let ClientMessage::UploadBegin(u) = &mut req {
        u.comment = Some("Q3 numbers".into());
    }
    let ServerMessage::UploadReady(r) = alice.request(req).await else {
        panic!("upload_begin refused");
    };
    let ServerMessage::TransferDone(d) = upload(server.addr, &r.ticket, &bytes).await else {
        panic!("upload failed");
    };
    assert_eq!(d.file.comment.as_deref(), Some("Q3 numbers"));
    assert_eq!(
        list(&mut alice).await[0].comment.as_deref(),
        Some("Q3 numbers")
    );
    server.stop().await;
    finish(data.path());
});

db_test!(a_name_already_shared_is_refused, |tdb| async move {
    let (server, data) = start(tdb, |_| {}).await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let (mut bob, _) = TestClient::user(server.addr, "bob").await;
    share(&mut alice, server.addr, "a.txt", b"first").await;
    let reply = bob.request(upload_request("a.txt", b"second")).await;
    assert_eq!(error_code(&reply), ErrorCode::FileExists);
    let reply = alice.request(upload_request("a.txt", b"first")).await;
    assert_eq!(error_code(&reply), ErrorCode::FileExists);
    // Names are compared exactly, on every database.
    share(&mut bob, server.addr, "A.txt", b"second").await;
    assert_eq!(list(&mut bob).await.len(), 2);
    server.stop().await;
    finish(data.path());
});

db_test!(every_kind_of_bad_name_is_refused, |tdb| async move {
    let (server, data) = start(tdb, |_| {}).await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let long = "x".repeat(256);
    for name in [
        "../../x",
        "..\\x",
        "/abs",
        ".",
        "..",
        "a\0b",
        "a\u{1b}[31mb",
        long.as_str(),
        "",
        " padded",
    ] {
        let reply = alice.request(upload_request(name, b"data")).await;
        assert_eq!(error_code(&reply), ErrorCode::InvalidFileName, "{name:?}");
    }
    assert!(list(&mut alice).await.is_empty());
    assert!(stored_files(data.path()).is_empty());
    server.stop().await;
    finish(data.path());
});

db_test!(
    bad_checksums_sizes_and_comments_are_refused_before_any_byte,
    |tdb| async move {
        let (server, data) = start(tdb, |c| c.max_file_size = 1000).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let upload = |name: &str, size: u64, sha256: String, comment: Option<String>| {
            ClientMessage::UploadBegin(UploadBegin {
                name: name.into(),
                size,
                sha256,
                comment,
            })
        };
        let ok_sum = sha256_hex(b"x");
        let cases = [
            (
                upload("a", 1, ok_sum.to_uppercase(), None),
                ErrorCode::InvalidChecksum,
            ),
            (
                upload("a", 1, "abc".into(), None),
                ErrorCode::InvalidChecksum,
            ),
            (
                upload("a", 1001, ok_sum.clone(), None),
                ErrorCode::FileTooLarge,
            ),
            (
                upload("a", 1, ok_sum.clone(), Some("bell\u{7}".into())),
                ErrorCode::InvalidText,
            ),
        ];
        for (req, code) in cases {
            let reply = alice.request(req).await;
            assert_eq!(error_code(&reply), code);
        }
        // Exactly the maximum is fine.
        let bytes = content(1000, 3);
        share(&mut alice, server.addr, "max.bin", &bytes).await;
        server.stop().await;
        finish(data.path());
    }
);

db_test!(
    an_upload_larger_than_the_free_space_is_refused,
    |tdb| async move {
        let (server, data) = start(tdb, |c| c.min_free_space = u64::MAX / 2).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let reply = alice.request(upload_request("big", b"x")).await;
        assert_eq!(error_code(&reply), ErrorCode::StorageFull);
        server.stop().await;
        finish(data.path());
    }
);

db_test!(
    two_uploads_of_one_name_at_once_exactly_one_wins,
    |tdb| async move {
        let (server, data) = start(tdb, |_| {}).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut bob, _) = TestClient::user(server.addr, "bob").await;
        let a_bytes = content(5000, 4);
        let b_bytes = content(6000, 5);
        let sa = alice.send(upload_request("same.bin", &a_bytes)).await;
        let sb = bob.send(upload_request("same.bin", &b_bytes)).await;
        let (ra, rb) = tokio::join!(alice.reply_to(sa), bob.reply_to(sb));
        let (winner, bytes, loser) = match (ra, rb) {
            (ServerMessage::UploadReady(r), other) => (r, &a_bytes, other),
            (other, ServerMessage::UploadReady(r)) => (r, &b_bytes, other),
            other => panic!("nobody won: {other:?}"),
        };
        assert_eq!(error_code(&loser), ErrorCode::FileExists);
        let ServerMessage::TransferDone(done) = upload(server.addr, &winner.ticket, bytes).await
        else {
            panic!("the winner's upload failed");
        };
        assert_eq!(shared_event(&mut alice).await, done.file);
        assert_eq!(shared_event(&mut bob).await, done.file);
        assert_eq!(list(&mut alice).await.len(), 1);
        assert_eq!(records(tdb).await, 1);
        server.stop().await;
        finish(data.path());
    }
);

db_test!(
    an_interrupted_upload_lists_nothing_and_resumes_at_its_offset,
    |tdb| async move {
        let (server, data) = start(tdb, |_| {}).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let bytes = content(2 * 1024 * 1024, 6);
        let half = bytes.len() / 2;

        let r = upload_ready(&mut alice, "movie.mkv", &bytes).await;
        let (mut conn, reply) = DataConn::open(server.addr, &r.ticket).await;
        assert_eq!(ready(reply).length, bytes.len() as u64);
        conn.stream.write_all(&bytes[..half]).await.unwrap();
        conn.stream.flush().await.unwrap();
        drop(conn);

        let again = upload_ready_eventually(&mut alice, "movie.mkv", &bytes).await;
        assert_eq!(again.offset, half as u64, "the partial upload is kept");
        assert!(list(&mut alice).await.is_empty());
        assert_eq!(records(tdb).await, 0);
        assert!(stored_files(data.path()).is_empty());
        assert_eq!(partial_files(data.path()).len(), 1);

        let ServerMessage::TransferDone(done) = upload(server.addr, &again.ticket, &bytes).await
        else {
            panic!("the resumed upload failed");
        };
        assert_eq!(done.file.sha256, sha256_hex(&bytes));
        let d = download_ready(&mut alice, done.file.id, 0).await;
        assert!(download(server.addr, &d.ticket).await == bytes);
        assert!(partial_files(data.path()).is_empty());
        server.stop().await;
        finish(data.path());
    }
);

db_test!(
    wrong_content_is_a_checksum_mismatch_and_nothing_is_shared,
    |tdb| async move {
        let (server, data) = start(tdb, |_| {}).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let promised = content(10_000, 7);
        let sent = content(10_000, 8);
        let r = upload_ready(&mut alice, "x.bin", &promised).await;
        let reply = upload(server.addr, &r.ticket, &sent).await;
        assert_eq!(error_code(&reply), ErrorCode::ChecksumMismatch);
        assert!(list(&mut alice).await.is_empty());
        assert_eq!(records(tdb).await, 0);
        assert!(stored_files(data.path()).is_empty());
        assert!(partial_files(data.path()).is_empty());
        // The name is free again.
        share(&mut alice, server.addr, "x.bin", &sent).await;
        server.stop().await;
        finish(data.path());
    }
);

db_test!(
    an_interrupted_download_resumes_from_its_offset,
    |tdb| async move {
        let (server, data) = start(tdb, |_| {}).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut bob, _) = TestClient::user(server.addr, "bob").await;
        let bytes = content(3 * 1024 * 1024, 9);
        let file = share(&mut alice, server.addr, "data.bin", &bytes).await;

        let d = download_ready(&mut bob, file.id, 0).await;
        let (mut conn, reply) = DataConn::open(server.addr, &d.ticket).await;
        assert_eq!(ready(reply).length, bytes.len() as u64);
        let first = conn.read_bytes(1_000_000).await;
        drop(conn);

        let d = download_ready(&mut bob, file.id, first.len() as u64).await;
        assert_eq!(d.offset, first.len() as u64);
        let (mut conn, reply) = DataConn::open(server.addr, &d.ticket).await;
        let r = ready(reply);
        assert_eq!(
            (r.offset, r.length),
            (1_000_000, (bytes.len() - 1_000_000) as u64)
        );
        let rest = conn.read_bytes(r.length as usize).await;
        let mut whole = first;
        whole.extend_from_slice(&rest);
        assert_eq!(sha256_hex(&whole), file.sha256);

        // Past the end, and unknown files, are refused.
        let past = bob
            .request(ClientMessage::DownloadBegin(
                chatroom_shared::message::DownloadBegin {
                    file_id: file.id,
                    offset: file.size + 1,
                },
            ))
            .await;
        assert_eq!(error_code(&past), ErrorCode::InvalidField);
        let missing = bob
            .request(ClientMessage::DownloadBegin(
                chatroom_shared::message::DownloadBegin {
                    file_id: file.id + 100,
                    offset: 0,
                },
            ))
            .await;
        assert_eq!(error_code(&missing), ErrorCode::FileNotFound);
        // Downloading from the very end gives zero bytes.
        let d = download_ready(&mut bob, file.id, file.size).await;
        assert!(download(server.addr, &d.ticket).await.is_empty());
        server.stop().await;
        finish(data.path());
    }
);

db_test!(
    tickets_work_once_and_only_as_the_first_request,
    |tdb| async move {
        let (server, data) = start(tdb, |_| {}).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let bytes = content(1000, 10);
        let r = upload_ready(&mut alice, "once.bin", &bytes).await;
        assert!(matches!(
            upload(server.addr, &r.ticket, &bytes).await,
            ServerMessage::TransferDone(_)
        ));
        let (mut conn, reply) = DataConn::open(server.addr, &r.ticket).await;
        assert_eq!(error_code(&reply), ErrorCode::InvalidTicket);
        assert!(conn.closed().await);

        let file = list(&mut alice).await.remove(0);
        let d = download_ready(&mut alice, file.id, 0).await;
        assert!(download(server.addr, &d.ticket).await == bytes);
        let (_, reply) = DataConn::open(server.addr, &d.ticket).await;
        assert_eq!(error_code(&reply), ErrorCode::InvalidTicket);
        let (_, reply) = DataConn::open(server.addr, "made-up").await;
        assert_eq!(error_code(&reply), ErrorCode::InvalidTicket);

        // After hello a connection is a chat connection: no transfer on it.
        let d = download_ready(&mut alice, file.id, 0).await;
        let reply = alice
            .request(ClientMessage::Transfer(Transfer { ticket: d.ticket }))
            .await;
        assert_eq!(error_code(&reply), ErrorCode::AlreadyHello);
        server.stop().await;
        finish(data.path());
    }
);

db_test!(
    an_expired_ticket_is_invalid_and_frees_the_name,
    |tdb| async move {
        let (server, data) =
            start(tdb, |c| c.transfer_ticket_ttl = Duration::from_millis(200)).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut bob, _) = TestClient::user(server.addr, "bob").await;
        let r = upload_ready(&mut alice, "late.bin", b"late").await;
        // The server checks a ticket's expiry against the clock when it is
        // used (no timer task): 400 ms after it was issued, a 200 ms ticket
        // has expired however slow the machine is.
        tokio::time::sleep(Duration::from_millis(400)).await;
        let (_, reply) = DataConn::open(server.addr, &r.ticket).await;
        assert_eq!(error_code(&reply), ErrorCode::InvalidTicket);
        share(&mut bob, server.addr, "late.bin", b"bob's").await;
        server.stop().await;
        finish(data.path());
    }
);

db_test!(the_list_survives_a_restart, |tdb| async move {
    let (server, data) = start(tdb, |_| {}).await;
    let config = server.config.clone();
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let a = content(4096, 11);
    let b = content(70_000, 12);
    let fa = share(&mut alice, server.addr, "a.bin", &a).await;
    let fb = share(&mut alice, server.addr, "b.bin", &b).await;
    drop(alice);
    server.stop().await;

    let server = TestServer::start_config(config).await;
    let (mut bob, _) = TestClient::user(server.addr, "bob").await;
    assert_eq!(list(&mut bob).await, vec![fa, fb.clone()]);
    let d = download_ready(&mut bob, fb.id, 0).await;
    assert!(download(server.addr, &d.ticket).await == b);
    let reply = bob.request(upload_request("a.bin", b"other")).await;
    assert_eq!(error_code(&reply), ErrorCode::FileExists);
    server.stop().await;
    finish(data.path());
});

db_test!(users_chat_while_an_upload_runs, |tdb| async move {
    let (server, data) = start(tdb, |_| {}).await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let (mut bob, _) = TestClient::user(server.addr, "bob").await;
    const CHUNK: usize = 1024 * 1024;
    const CHUNKS: usize = 20;
    let bytes = content(CHUNK * CHUNKS, 13);
    let r = upload_ready(&mut alice, "big.bin", &bytes).await;
    let (mut conn, reply) = DataConn::open(server.addr, &r.ticket).await;
    ready(reply);
    // The upload's last chunk is sent only after every message went round, so each
    // message provably arrived while the upload was still running.
    for (i, chunk) in bytes.chunks(CHUNK).enumerate() {
        let last = i == CHUNKS - 1;
        if last {
            assert!(
                list(&mut bob).await.is_empty(),
                "not shared before the last byte"
            );
        }
        conn.stream.write_all(chunk).await.unwrap();
        if last {
            break;
        }
        let text = format!("message {i}");
        alice.say_ok(&format!("a{i}"), &text).await;
        assert_eq!(bob.next_message().await.text, text);
        let reply = format!("reply {i}");
        bob.say_ok(&format!("b{i}"), &reply).await;
        assert_eq!(alice.next_message().await.text, reply);
    }
    let ServerMessage::TransferDone(done) = conn.recv().await.unwrap() else {
        panic!("the upload failed");
    };
    assert_eq!(shared_event(&mut bob).await, done.file);
    server.stop().await;
    finish(data.path());
});
