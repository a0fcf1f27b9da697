//! The hostile suite, shared files: names that try to leave the storage root or to
//! drive a terminal, sizes that lie, clients that vanish mid-transfer, a disk that
//! fills up mid-upload, the per-user quota, and twenty uploads at once. Each case
//! ends with [`audit`]: nothing outside the storage root, no partial upload the
//! protocol does not promise to keep, and exactly one stored file per record, whole.
//! What `files.rs` already covers (the basic bad names, `file_exists`, a resumed
//! upload after a dropped connection, `storage_full` at `upload_begin`) is not
//! repeated here.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chatroom_server::Config;
use chatroom_server::db::entity::file_put_record;
use chatroom_server::db::files as db_files;
use chatroom_shared::ErrorCode;
use chatroom_shared::message::{ClientMessage, FileInfo, Files, ServerMessage, Transfer};
use sea_orm::EntityTrait;
use tempfile::TempDir;
use testkit::client::{TestClient, WAIT, error_code};
use testkit::db::{TestDb, db_test};
use testkit::disk::{Tmpfs, fill};
use testkit::hostile::{Pair, lo};
use testkit::server::TestServer;
use testkit::transfer::*;
use tokio::io::AsyncWriteExt;

/// A server whose data directory is `<root>/data`, with `root` a fresh directory of
/// its own: a name that escaped the data directory would show up in `root`.
struct Env {
    server: TestServer,
    root: TempDir,
}

impl Env {
    async fn start(tdb: &TestDb, adjust: impl FnOnce(&mut Config)) -> Self {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        Self::start_in(tdb, root, data, adjust).await
    }

    async fn start_in(
        tdb: &TestDb,
        root: TempDir,
        data: PathBuf,
        adjust: impl FnOnce(&mut Config),
    ) -> Self {
        let server = TestServer::start_with(tdb.url(), |c| {
            c.data_dir = data;
            adjust(c);
        })
        .await;
        Self { server, root }
    }

    fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    fn data(&self) -> PathBuf {
        self.server.config.data_dir.clone()
    }

    /// Stop the server and [`audit`] what it left; returns the root directory, to be
    /// removed once the caller is done with it.
    async fn finish(self, tdb: &TestDb, partials_kept: usize) -> TempDir {
        let data = self.data();
        self.server.stop().await;
        audit(tdb, &data, partials_kept).await;
        self.root
    }
}

/// The audit every file-touching case ends with: the data directory's parent holds
/// only the data directory, which holds only `files/`, which holds only stored files
/// and `.partial/`; `.partial/` holds exactly `partials_kept` partial uploads (those
/// the protocol keeps for a resume); and records and stored files match one to one,
/// each file with its record's size and SHA-256.
async fn audit(tdb: &TestDb, data: &Path, partials_kept: usize) {
    let parent = data.parent().unwrap();
    for entry in std::fs::read_dir(parent).unwrap() {
        let entry = entry.unwrap();
        assert_eq!(
            entry.path(),
            data,
            "something was written next to the data directory"
        );
    }
    assert_only_storage(data);
    assert_eq!(
        partial_files(data).len(),
        partials_kept,
        "partial uploads left: {:?}",
        partial_files(data)
    );

    let db = tdb.connect().await;
    let rows = file_put_record::Entity::find().all(&db).await.unwrap();
    let listed = db_files::list(&db).await.unwrap();
    db.close().await.unwrap();
    assert_eq!(rows.len(), listed.len(), "a record without stored content");
    let mut keys: Vec<String> = listed.iter().map(|f| f.storage_key.clone()).collect();
    keys.sort();
    assert_eq!(keys, stored_files(data), "records and stored files differ");
    for f in &listed {
        let bytes = std::fs::read(data.join("files").join(&f.storage_key)).unwrap();
        assert_eq!(bytes.len() as u64, f.size, "{}: size", f.name);
        assert_eq!(sha256_hex(&bytes), f.sha256, "{}: content", f.name);
    }
}

async fn list(c: &mut TestClient) -> Vec<FileInfo> {
    match c.request(ClientMessage::Files(Files::default())).await {
        ServerMessage::FileList(l) => l.files,
        other => panic!("files: {other:?}"),
    }
}

/// Download `file` whole through `c` and check it is `bytes`.
async fn downloads_as(c: &mut TestClient, addr: SocketAddr, file: &FileInfo, bytes: &[u8]) {
    let d = download_ready(c, file.id, 0).await;
    let got = download(addr, &d.ticket).await;
    assert_eq!(got.len(), bytes.len(), "{}: length", file.name);
    assert!(got == bytes, "{}: content", file.name);
}

/// Read one frame from the read half of a data connection.
async fn read_frame(read: &mut tokio::net::tcp::OwnedReadHalf) -> ServerMessage {
    use tokio::io::AsyncReadExt;
    let mut len = [0u8; 4];
    tokio::time::timeout(WAIT, read.read_exact(&mut len))
        .await
        .expect("timed out waiting for a frame")
        .expect("a frame before the close");
    let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
    read.read_exact(&mut body).await.unwrap();
    serde_json::from_slice(&body).unwrap()
}

/// Close a data connection abruptly (RST, as when a client is killed).
fn vanish(conn: DataConn) {
    conn.stream.set_zero_linger().unwrap();
    drop(conn);
}

/// The length of the single partial upload in `data`.
fn partial_len(data: &Path) -> u64 {
    let partials = partial_files(data);
    assert_eq!(partials.len(), 1, "{partials:?}");
    std::fs::metadata(data.join("files").join(".partial").join(&partials[0]))
        .unwrap()
        .len()
}

// Names that are paths (`../../x`, `C:\x`, `\\server\share`), hold control
// characters or terminal escapes (C0, DEL, C1 CSI, OSC), or have trailing or
// leading white space (also non-ASCII), or are over 255 bytes in multi-byte
// UTF-8, are refused with invalid_file_name; names the rules allow although they
// look dangerous elsewhere (`C:x`, `CON`, `nul.txt`, `name.`, `...`, exactly 255
// bytes) are stored under random keys, listed and downloaded under their exact
// name, and nothing is written outside the storage root.
db_test!(
    hostile_names_are_refused_or_stored_only_as_names,
    |tdb| async move {
        let env = Env::start(tdb, |_| {}).await;
        let (mut alice, _) = TestClient::user(env.addr(), "alice").await;
        let refused = [
            "/etc/passwd".to_owned(),
            "C:\\x".into(),
            "C:\\Windows\\System32\\x".into(),
            "\\\\server\\share".into(),
            "dir/".into(),
            "a\nb".into(),
            "a\rb".into(),
            "tab\t".into(),
            "del\u{7f}".into(),
            "csi\u{9b}2J".into(),
            "next\u{85}line".into(),
            "\u{1b}]0;pwned\u{7}".into(),
            "\u{1b}[2J\u{1b}[H".into(),
            "name ".into(),
            "name\u{a0}".into(),
            "\u{3000}name".into(),
            "é".repeat(128),
            "😀".repeat(64),
        ];
        for name in &refused {
            let reply = alice.request(upload_request(name, b"data")).await;
            assert_eq!(error_code(&reply), ErrorCode::InvalidFileName, "{name:?}");
        }
        assert!(list(&mut alice).await.is_empty());

        let accepted = [
            "C:x".to_owned(),
            "CON".into(),
            "nul.txt".into(),
            "name.".into(),
            "...".into(),
            "..x".into(),
            ".hidden".into(),
            "x".repeat(255),
            format!("{}x", "é".repeat(127)),
            format!("{}abc", "😀".repeat(63)),
        ];
        for (i, name) in accepted.iter().enumerate() {
            assert!(name.len() <= 255);
            let bytes = content(100 + i, i as u8);
            let file = share(&mut alice, env.addr(), name, &bytes).await;
            assert_eq!(&file.name, name);
            downloads_as(&mut alice, env.addr(), &file, &bytes).await;
        }
        let names: Vec<String> = list(&mut alice).await.into_iter().map(|f| f.name).collect();
        assert_eq!(names, accepted);
        env.finish(tdb, 0).await;
    }
);

// A client that sends more bytes than it declared gets its declared bytes stored
// and nothing more: with the extra bytes sent after transfer_ready, or glued to the
// transfer frame before it; if its sha256 covered the extra bytes too, the upload
// is a checksum_mismatch and nothing is kept.
db_test!(
    bytes_past_the_declared_size_are_never_stored,
    |tdb| async move {
        let env = Env::start(tdb, |_| {}).await;
        let (mut alice, _) = TestClient::user(env.addr(), "alice").await;
        let declared = content(50_000, 1);
        let mut sent = declared.clone();
        sent.extend_from_slice(&content(30_000, 2));

        // Extra bytes after transfer_ready.
        let r = upload_ready(&mut alice, "after.bin", &declared).await;
        let (mut conn, reply) = DataConn::open(env.addr(), &r.ticket).await;
        assert_eq!(ready(reply).length, declared.len() as u64);
        conn.stream.write_all(&sent).await.unwrap();
        let ServerMessage::TransferDone(done) = conn.recv().await.unwrap() else {
            panic!("the declared bytes should be shared");
        };
        assert_eq!(done.file.size, declared.len() as u64);
        downloads_as(&mut alice, env.addr(), &done.file, &declared).await;

        // Extra bytes in the same write as the transfer frame.
        let r = upload_ready(&mut alice, "glued.bin", &declared).await;
        let mut stream = tokio::net::TcpStream::connect(env.addr()).await.unwrap();
        let mut glued =
            testkit::hostile::frame(1, ClientMessage::Transfer(Transfer { ticket: r.ticket }));
        glued.extend_from_slice(&sent);
        stream.write_all(&glued).await.unwrap();
        let mut conn = DataConn { stream };
        assert_eq!(
            ready(conn.recv().await.unwrap()).length,
            declared.len() as u64
        );
        let ServerMessage::TransferDone(done) = conn.recv().await.unwrap() else {
            panic!("the declared bytes should be shared");
        };
        assert_eq!(done.file.size, declared.len() as u64);
        downloads_as(&mut alice, env.addr(), &done.file, &declared).await;

        // A sha256 of everything sent, with the smaller size declared.
        let mut lie = upload_request("lie.bin", &sent);
        if let ClientMessage::UploadBegin(u) = &mut lie {
            u.size = declared.len() as u64;
        }
        let ServerMessage::UploadReady(r) = alice.request(lie).await else {
            panic!("upload_begin refused");
        };
        let (mut conn, reply) = DataConn::open(env.addr(), &r.ticket).await;
        ready(reply);
        conn.stream.write_all(&sent).await.unwrap();
        let reply = conn.recv().await.unwrap();
        assert_eq!(error_code(&reply), ErrorCode::ChecksumMismatch);
        assert_eq!(list(&mut alice).await.len(), 2);
        env.finish(tdb, 0).await;
    }
);

// A client that declares more bytes than it sends and then ends its side gets
// transfer_incomplete: nothing is listed or recorded, the bytes it sent are kept
// as the one partial upload the protocol promises, and the same upload_begin
// resumes from exactly there.
db_test!(
    fewer_bytes_than_declared_are_incomplete_and_resumable,
    |tdb| async move {
        let env = Env::start(tdb, |_| {}).await;
        let (mut alice, _) = TestClient::user(env.addr(), "alice").await;
        let bytes = content(300_000, 3);
        let sent = 120_000;
        let r = upload_ready(&mut alice, "short.bin", &bytes).await;
        let (mut conn, reply) = DataConn::open(env.addr(), &r.ticket).await;
        ready(reply);
        conn.stream.write_all(&bytes[..sent]).await.unwrap();
        conn.stream.shutdown().await.unwrap();
        let reply = conn.recv().await.unwrap();
        assert_eq!(error_code(&reply), ErrorCode::TransferIncomplete);
        assert!(conn.closed().await);
        assert!(list(&mut alice).await.is_empty());
        audit(tdb, &env.data(), 1).await;
        assert_eq!(partial_len(&env.data()), sent as u64);

        let again = upload_ready_eventually(&mut alice, "short.bin", &bytes).await;
        assert_eq!(again.offset, sent as u64);
        let ServerMessage::TransferDone(done) = upload(env.addr(), &again.ticket, &bytes).await
        else {
            panic!("the resumed upload failed");
        };
        downloads_as(&mut alice, env.addr(), &done.file, &bytes).await;
        env.finish(tdb, 0).await;
    }
);

// An empty file is shared and downloaded like any other: transfer_ready says
// length 0, transfer_done and file_shared carry size 0 and the empty SHA-256, and
// the download is transfer_ready with length 0 followed by the close.
db_test!(a_zero_byte_file_goes_end_to_end, |tdb| async move {
    let env = Env::start(tdb, |_| {}).await;
    let (mut alice, _) = TestClient::user(env.addr(), "alice").await;
    let (mut bob, _) = TestClient::user(env.addr(), "bob").await;
    let r = upload_ready(&mut alice, "empty", b"").await;
    let (mut conn, reply) = DataConn::open(env.addr(), &r.ticket).await;
    assert_eq!(ready(reply).length, 0);
    let ServerMessage::TransferDone(done) = conn.recv().await.unwrap() else {
        panic!("the empty upload failed");
    };
    assert_eq!(done.file.size, 0);
    assert_eq!(done.file.sha256, sha256_hex(b""));
    let shared = bob
        .wait_for("file_shared", |m| matches!(m, ServerMessage::FileShared(_)))
        .await;
    assert!(matches!(shared, ServerMessage::FileShared(s) if s.file == done.file));
    let d = download_ready(&mut bob, done.file.id, 0).await;
    assert!(download(env.addr(), &d.ticket).await.is_empty());
    env.finish(tdb, 0).await;
});

// An uploader killed mid-upload (data connection reset, control connection gone)
// leaves no record and nothing listed, only its partial upload; the others chat on
// meanwhile; back again, it resumes from the bytes the server had.
db_test!(
    an_uploader_vanishing_mid_upload_leaves_only_its_partial,
    |tdb| async move {
        let env = Env::start(tdb, |_| {}).await;
        let mut pair = Pair::new(env.addr(), lo(1), lo(2)).await;
        let (mut carol, _) = TestClient::user(env.addr(), "carol").await;
        let bytes = content(2 * 1024 * 1024, 4);
        let half = bytes.len() / 2;
        let r = upload_ready(&mut carol, "gone.bin", &bytes).await;
        let (mut conn, reply) = DataConn::open(env.addr(), &r.ticket).await;
        ready(reply);
        conn.stream.write_all(&bytes[..half]).await.unwrap();
        conn.stream.flush().await.unwrap();
        pair.still_chatting("an upload half-way").await;
        // The partial holds the first half once the server has stored it.
        let deadline = tokio::time::Instant::now() + WAIT;
        while partial_files(&env.data()).is_empty() || partial_len(&env.data()) < half as u64 {
            assert!(tokio::time::Instant::now() < deadline, "bytes never stored");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        vanish(conn);
        drop(carol);
        pair.still_chatting("the uploader vanished").await;

        let (mut carol, _) = TestClient::existing(env.addr(), "carol").await;
        let again = upload_ready_eventually(&mut carol, "gone.bin", &bytes).await;
        assert_eq!(again.offset, half as u64);
        assert!(list(&mut pair.bob).await.is_empty());
        audit(tdb, &env.data(), 1).await;
        let ServerMessage::TransferDone(done) = upload(env.addr(), &again.ticket, &bytes).await
        else {
            panic!("the resumed upload failed");
        };
        downloads_as(&mut pair.bob, env.addr(), &done.file, &bytes).await;
        pair.still_chatting("the resumed upload").await;
        pair.nothing_lost().await;
        env.finish(tdb, 0).await;
    }
);

// A downloader killed mid-download (reset while the server is still sending)
// changes nothing: the file stays listed and whole, another download of it works,
// and chat goes on.
db_test!(
    a_downloader_vanishing_mid_download_changes_nothing,
    |tdb| async move {
        let env = Env::start(tdb, |_| {}).await;
        let mut pair = Pair::new(env.addr(), lo(1), lo(2)).await;
        let (mut carol, _) = TestClient::user(env.addr(), "carol").await;
        let bytes = content(8 * 1024 * 1024, 5);
        let file = share(&mut pair.alice, env.addr(), "big.bin", &bytes).await;
        for _ in 0..3 {
            let d = download_ready(&mut carol, file.id, 0).await;
            let (mut conn, reply) = DataConn::open(env.addr(), &d.ticket).await;
            ready(reply);
            assert!(conn.read_bytes(100_000).await == bytes[..100_000]);
            vanish(conn);
        }
        drop(carol);
        pair.still_chatting("downloaders vanished").await;
        assert_eq!(list(&mut pair.bob).await, vec![file.clone()]);
        downloads_as(&mut pair.bob, env.addr(), &file, &bytes).await;
        pair.nothing_lost().await;
        env.finish(tdb, 0).await;
    }
);

// The disk filling up mid-upload (a small tmpfs, filled after upload_begin) gives
// the uploader storage_full on its data connection, leaves no record and no partial
// upload, chat goes on, and once there is room again the same upload works. Where
// this process may not mount a tmpfs (not root), the case says it did not run
// and checks only the free space check at upload_begin (--min-free-space above
// the free space); CI runs as root, so there it must mount one.
db_test!(
    a_disk_full_mid_upload_is_storage_full_and_leaves_nothing,
    |tdb| async move {
        let root = tempfile::tempdir().unwrap();
        let disk = root.path().join("disk");
        let Some(tmpfs) = Tmpfs::mount(&disk, 4 * 1024 * 1024) else {
            assert!(
                !testkit::services::in_ci(),
                "CI runs as root and must mount the tmpfs this test fills"
            );
            eprintln!(
                "not run: the disk filling up mid-upload (mounting a tmpfs needs root); \
                 checking storage_full at upload_begin only"
            );
            let env = Env::start(tdb, |c| c.min_free_space = u64::MAX / 2).await;
            let mut pair = Pair::new(env.addr(), lo(1), lo(2)).await;
            let reply = pair.alice.request(upload_request("big", b"x")).await;
            assert_eq!(error_code(&reply), ErrorCode::StorageFull);
            pair.still_chatting("storage_full").await;
            env.finish(tdb, 0).await;
            return;
        };
        let data = disk.join("data");
        let env = Env::start_in(tdb, root, data.clone(), |c| c.min_free_space = 0).await;
        let mut pair = Pair::new(env.addr(), lo(1), lo(2)).await;
        let bytes = content(1024 * 1024, 6);
        let r = upload_ready(&mut pair.alice, "full.bin", &bytes).await;
        let filler = disk.join("filler");
        fill(&filler);

        let (conn, reply) = DataConn::open(env.addr(), &r.ticket).await;
        ready(reply);
        let (mut read, mut write) = conn.stream.into_split();
        let sending = {
            let bytes = bytes.clone();
            // The server may stop reading once its disk fails: ignore write errors.
            tokio::spawn(async move { write.write_all(&bytes).await })
        };
        let reply = read_frame(&mut read).await;
        assert_eq!(error_code(&reply), ErrorCode::StorageFull, "{reply:?}");
        // The write's own result may be an error (the server stopped
        // reading); a panic in the task may not.
        let _write_result = sending.await.expect("the sending task panicked");
        assert!(partial_files(&data).is_empty(), "the partial is discarded");
        assert!(list(&mut pair.bob).await.is_empty());
        pair.still_chatting("the disk filled up").await;

        std::fs::remove_file(&filler).unwrap();
        let file = share(&mut pair.alice, env.addr(), "full.bin", &bytes).await;
        downloads_as(&mut pair.bob, env.addr(), &file, &bytes).await;
        pair.nothing_lost().await;
        let root = env.finish(tdb, 0).await;
        drop(tmpfs);
        drop(root);
    }
);

// The per-user quota (--max-files-bytes-per-user) counts the user's stored files
// and uploads in progress (a ticket not yet used, a running upload): an upload
// that would pass it is refused with quota_exceeded before any byte moves; exactly
// the quota is fine; a retried upload_begin does not count against itself; other
// users have their own quota; 0 means no limit.
db_test!(
    the_per_user_quota_counts_stored_files_and_uploads_in_progress,
    |tdb| async move {
        let env = Env::start(tdb, |c| c.max_files_bytes_per_user = 10_000).await;
        let (mut alice, _) = TestClient::user(env.addr(), "alice").await;
        let (mut bob, _) = TestClient::user(env.addr(), "bob").await;
        let six = content(6000, 1);
        let four = content(4000, 2);
        share(&mut alice, env.addr(), "six.bin", &six).await;

        let reply = alice
            .request(upload_request("five.bin", &content(4001, 3)))
            .await;
        assert_eq!(error_code(&reply), ErrorCode::QuotaExceeded);
        let ticket = upload_ready(&mut alice, "four.bin", &four).await;
        // The same upload_begin again replaces the ticket; it is not counted twice.
        let ticket_again = upload_ready(&mut alice, "four.bin", &four).await;
        assert_ne!(ticket.ticket, ticket_again.ticket);
        let reply = alice.request(upload_request("one.bin", b"1")).await;
        assert_eq!(
            error_code(&reply),
            ErrorCode::QuotaExceeded,
            "an unused ticket counts"
        );
        let (mut conn, reply) = DataConn::open(env.addr(), &ticket_again.ticket).await;
        ready(reply);
        conn.stream.write_all(&four[..1000]).await.unwrap();
        let reply = alice.request(upload_request("one.bin", b"1")).await;
        assert_eq!(
            error_code(&reply),
            ErrorCode::QuotaExceeded,
            "a running upload counts"
        );
        conn.stream.write_all(&four[1000..]).await.unwrap();
        assert!(matches!(
            conn.recv().await.unwrap(),
            ServerMessage::TransferDone(_)
        ));
        let reply = alice.request(upload_request("one.bin", b"1")).await;
        assert_eq!(error_code(&reply), ErrorCode::QuotaExceeded);

        // Bob's quota is his own.
        share(&mut bob, env.addr(), "bob.bin", &content(10_000, 4)).await;
        assert_eq!(list(&mut bob).await.len(), 3);
        env.finish(tdb, 0).await;

        let fresh = TestDb::create(tdb.backend()).await;
        let env = Env::start(&fresh, |c| c.max_files_bytes_per_user = 0).await;
        let (mut carol, _) = TestClient::user(env.addr(), "carol").await;
        share(&mut carol, env.addr(), "any.bin", &content(20_000, 5)).await;
        env.finish(&fresh, 0).await;
        fresh.drop_db().await;
    }
);

/// What one of the simultaneous uploaders got.
enum Outcome {
    Shared(FileInfo, Vec<u8>),
    Exists,
}

// Twenty users upload at once, ten of them with names of their own and ten split
// over two names, while alice and bob chat: each uploader either shares its file
// once or is refused with file_exists, every name is shared exactly once, every
// shared file downloads byte for byte as its uploader sent it, and no message is
// lost.
db_test!(
    twenty_simultaneous_uploads_share_once_or_get_file_exists,
    |tdb| async move {
        let env = Env::start(tdb, |_| {}).await;
        let mut pair = Pair::new(env.addr(), lo(1), lo(2)).await;
        let addr = env.addr();
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(21));
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..20u8 {
            let start = std::sync::Arc::clone(&start);
            tasks.spawn(async move {
                let (mut c, _) = TestClient::user(addr, &format!("up{i}")).await;
                let name = match i {
                    0..10 => format!("own-{i}.bin"),
                    10..15 => "same-a.bin".into(),
                    _ => "same-b.bin".into(),
                };
                let bytes = content(100_000 + usize::from(i) * 7919, i);
                start.wait().await;
                match c.request(upload_request(&name, &bytes)).await {
                    ServerMessage::UploadReady(r) => match upload(addr, &r.ticket, &bytes).await {
                        ServerMessage::TransferDone(d) => Outcome::Shared(d.file, bytes),
                        other => panic!("upload {name}: {other:?}"),
                    },
                    other => {
                        assert_eq!(error_code(&other), ErrorCode::FileExists, "{name}");
                        Outcome::Exists
                    }
                }
            });
        }
        start.wait().await;
        pair.still_chatting("twenty uploads started").await;
        let mut shared = Vec::new();
        let mut refused = 0;
        while let Some(outcome) = tasks.join_next().await {
            match outcome.unwrap() {
                Outcome::Shared(f, bytes) => shared.push((f, bytes)),
                Outcome::Exists => refused += 1,
            }
        }
        assert_eq!((shared.len(), refused), (12, 8));
        let mut names: Vec<&str> = shared.iter().map(|(f, _)| f.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 12, "a name shared twice");
        let mut listed = list(&mut pair.bob).await;
        listed.sort_by_key(|f| f.id);
        let mut expected: Vec<FileInfo> = shared.iter().map(|(f, _)| f.clone()).collect();
        expected.sort_by_key(|f| f.id);
        assert_eq!(listed, expected);
        for (file, bytes) in &shared {
            downloads_as(&mut pair.bob, addr, file, bytes).await;
        }
        pair.still_chatting("twenty uploads").await;
        pair.nothing_lost().await;
        env.finish(tdb, 0).await;
    }
);
