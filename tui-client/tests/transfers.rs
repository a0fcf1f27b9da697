//! The network task's file transfers against the real server, started
//! in-process: an upload is shared with everyone, a download is verified
//! and saved without overwriting a local file, and a `.part` left by an
//! interrupted download is resumed from its length; the same over TLS (where
//! the server copies through the encryption instead of `sendfile`).
//!
//! Driven only through `net::spawn`, `NetCommand`s and `NetEvent`s.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use chatroom_server::{Config, Server};
use chatroom_shared::ErrorCode;
use chatroom_shared::message::{FileInfo, ServerMessage};
use chatroom_tui::net::{self, NetCommand, NetEvent, NetHandle, TransferState};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(60);

async fn start_server(dir: &TempDir) -> String {
    start_server_with(dir, true).await
}

async fn start_server_with(dir: &TempDir, plain: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        database_url: Some(chatroom_server::db::sqlite_url_for(dir.path())),
        bcrypt_cost: 4,
        plain,
        ..Config::default()
    };
    let server = Server::start(listener, config).await.unwrap();
    let addr = server.local_addr().unwrap();
    tokio::spawn(async move { server.run().await.unwrap() });
    addr.to_string()
}

struct Client {
    net: NetHandle,
    events: mpsc::Receiver<NetEvent>,
}

impl Client {
    async fn register(server: &str, name: &str) -> Self {
        Self::register_over(server, name, net::Transport::plain()).await
    }

    async fn register_over(server: &str, name: &str, transport: net::Transport) -> Self {
        let (tx, events) = mpsc::channel(1024);
        let net = net::spawn(tx, transport);
        let mut c = Self { net, events };
        c.net
            .send(NetCommand::Login {
                server: server.to_owned(),
                name: name.to_owned(),
                password: "correct horse battery".into(),
                register: true,
            })
            .await;
        c.until(|e| matches!(e, NetEvent::LoggedIn { .. }).then_some(()))
            .await;
        c
    }

    async fn until<T>(&mut self, mut f: impl FnMut(&NetEvent) -> Option<T>) -> T {
        tokio::time::timeout(WAIT, async {
            loop {
                let e = self.events.recv().await.expect("the network task stopped");
                if let Some(t) = f(&e) {
                    return t;
                }
            }
        })
        .await
        .expect("timed out")
    }

    /// The end state of transfer `id`, and the first progress it reported.
    async fn finish(&mut self, id: u64) -> (TransferState, Option<u64>) {
        let mut first = None;
        let end = self
            .until(|e| match e {
                NetEvent::Transfer(u) if u.transfer_id == id => match &u.state {
                    TransferState::Progress { done, .. } => {
                        first.get_or_insert(*done);
                        None
                    }
                    s if s.is_finished() => Some(s.clone()),
                    _ => None,
                },
                _ => None,
            })
            .await;
        (end, first)
    }

    /// The next file shared with the room.
    async fn shared_file(&mut self) -> FileInfo {
        self.until(|e| match e {
            NetEvent::Server(ServerMessage::FileShared(s)) => Some(s.file.clone()),
            _ => None,
        })
        .await
    }

    async fn download(&mut self, id: u64, file: &FileInfo, dir: &Path) -> (PathBuf, Option<u64>) {
        self.net
            .send(NetCommand::Download {
                transfer_id: id,
                file: file.clone(),
                dir: dir.to_owned(),
            })
            .await;
        match self.finish(id).await {
            (TransferState::Done { saved: Some(p) }, first) => (p, first),
            other => panic!("download {id} ended as {other:?}"),
        }
    }
}

fn content(len: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[0]
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_is_shared_and_downloads_verify_resume_and_never_overwrite() {
    let server_dir = TempDir::new().unwrap();
    let server = start_server(&server_dir).await;
    let mut alice = Client::register(&server, "alice").await;
    let mut bob = Client::register(&server, "bob").await;

    let local = TempDir::new().unwrap();
    let bytes = content(5 * 1024 * 1024 + 17);
    let path = local.path().join("data set.bin");
    std::fs::write(&path, &bytes).unwrap();
    alice
        .net
        .send(NetCommand::Upload {
            transfer_id: 1,
            path: path.clone(),
            comment: Some("for bob".into()),
        })
        .await;
    assert_eq!(alice.finish(1).await.0, TransferState::Done { saved: None });
    let file = bob.shared_file().await;
    assert_eq!(file.name, "data set.bin");
    assert_eq!(file.size, bytes.len() as u64);
    assert_eq!(file.comment.as_deref(), Some("for bob"));
    assert_eq!(net::sha256_file(&path).unwrap().1, file.sha256);

    // A download lands under the file's name, verified.
    let downloads = TempDir::new().unwrap();
    let (saved, _) = bob.download(1, &file, downloads.path()).await;
    assert_eq!(saved, downloads.path().join("data set.bin"));
    assert!(std::fs::read(&saved).unwrap() == bytes);

    // Again: the first copy stays, the second gets the next free name.
    std::fs::write(&saved, b"my own edits").unwrap();
    let (again, _) = bob.download(2, &file, downloads.path()).await;
    assert_eq!(again, downloads.path().join("data set (1).bin"));
    assert_eq!(std::fs::read(&saved).unwrap(), b"my own edits");
    assert!(std::fs::read(&again).unwrap() == bytes);

    // A part left by an interrupted download is resumed from its length.
    let resume = TempDir::new().unwrap();
    let half = bytes.len() / 2;
    let part = net::part_path(resume.path(), &file.name);
    std::fs::write(&part, &bytes[..half]).unwrap();
    let (resumed, first) = bob.download(3, &file, resume.path()).await;
    assert!(first.unwrap() >= half as u64, "started at {first:?}");
    assert!(std::fs::read(&resumed).unwrap() == bytes);
    assert!(!part.exists());

    // A new client lists the file (shared before it logged in).
    let mut carol = Client::register(&server, "carol").await;
    let listed = carol
        .until(|e| match e {
            NetEvent::Server(ServerMessage::FileList(l)) => Some(l.files.clone()),
            _ => None,
        })
        .await;
    assert_eq!(listed, vec![file]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_upload_fails_with_the_servers_reason() {
    let server_dir = TempDir::new().unwrap();
    let server = start_server(&server_dir).await;
    let mut alice = Client::register(&server, "alice").await;
    let local = TempDir::new().unwrap();
    let path = local.path().join("twice.txt");
    std::fs::write(&path, b"hello").unwrap();
    for id in [1, 2] {
        alice
            .net
            .send(NetCommand::Upload {
                transfer_id: id,
                path: path.clone(),
                comment: None,
            })
            .await;
        if id == 1 {
            assert_eq!(alice.finish(1).await.0, TransferState::Done { saved: None });
        }
    }
    match alice.finish(2).await.0 {
        TransferState::Refused(e) => assert_eq!(e.code, ErrorCode::FileExists, "{e:?}"),
        other => panic!("the second upload of the same name ended as {other:?}"),
    }
    let missing = local.path().join("nope.txt");
    alice
        .net
        .send(NetCommand::Upload {
            transfer_id: 3,
            path: missing,
            comment: None,
        })
        .await;
    match alice.finish(3).await.0 {
        TransferState::Failed(why) => assert!(why.contains("nope.txt"), "{why}"),
        other => panic!("uploading a missing file ended as {other:?}"),
    }
}

/// Waits for transfer `id`'s first progress report, cancels it, and returns how it
/// ended.
async fn cancel_when_moving(client: &mut Client, id: u64) -> TransferState {
    client
        .until(|e| match e {
            NetEvent::Transfer(u) if u.transfer_id == id => match &u.state {
                TransferState::Progress { .. } => Some(()),
                s if s.is_finished() => panic!("transfer {id} ended before the cancel: {s:?}"),
                _ => None,
            },
            _ => None,
        })
        .await;
    client
        .net
        .send(NetCommand::CancelTransfer { transfer_id: id })
        .await;
    client.finish(id).await.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_cancelled_midway_leave_nothing_shared_or_saved_and_resume_later() {
    let server_dir = TempDir::new().unwrap();
    let server = start_server(&server_dir).await;
    let mut alice = Client::register(&server, "alice").await;
    let local = TempDir::new().unwrap();
    let bytes = content(48 * 1024 * 1024);
    let path = local.path().join("big.bin");
    std::fs::write(&path, &bytes).unwrap();
    let upload = |id| NetCommand::Upload {
        transfer_id: id,
        path: path.clone(),
        comment: None,
    };

    // An upload cancelled half-way shares nothing: a newcomer's list is empty.
    alice.net.send(upload(1)).await;
    assert_eq!(
        cancel_when_moving(&mut alice, 1).await,
        TransferState::Cancelled
    );
    let mut bob = Client::register(&server, "bob").await;
    let listed = bob
        .until(|e| match e {
            NetEvent::Server(ServerMessage::FileList(l)) => Some(l.files.clone()),
            _ => None,
        })
        .await;
    assert!(
        listed.is_empty(),
        "a cancelled upload was listed: {listed:?}"
    );

    // Sent again, it is shared whole. (It resumes after whatever bytes the server
    // kept, which may be none: closing a socket with unread data resets it, and the
    // server may lose what it had not read yet. Resuming from a kept partial is
    // tested in the server's files tests.)
    alice.net.send(upload(2)).await;
    let (end, _) = alice.finish(2).await;
    assert_eq!(end, TransferState::Done { saved: None });
    let file = bob.shared_file().await;
    assert_eq!(file.size, bytes.len() as u64);

    // A download cancelled half-way leaves only its `.part`, never the file's name.
    let downloads = TempDir::new().unwrap();
    bob.net
        .send(NetCommand::Download {
            transfer_id: 1,
            file: file.clone(),
            dir: downloads.path().to_owned(),
        })
        .await;
    assert_eq!(
        cancel_when_moving(&mut bob, 1).await,
        TransferState::Cancelled
    );
    let part = net::part_path(downloads.path(), &file.name);
    let kept = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    assert!(!downloads.path().join("big.bin").exists());
    assert!(kept < bytes.len() as u64);

    // Downloaded again, it resumes from the part and the bytes match.
    let (saved, first) = bob.download(2, &file, downloads.path()).await;
    assert_eq!(saved, downloads.path().join("big.bin"));
    assert!(first.unwrap() >= kept, "resumed at {first:?}, kept {kept}");
    assert!(std::fs::read(&saved).unwrap() == bytes);
    assert!(!part.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_cross_tls_whole_and_resumed() {
    let server_dir = TempDir::new().unwrap();
    let server = start_server_with(&server_dir, false).await;
    let known = server_dir.path().join("known_servers");
    let tls = || net::Transport::tls(Some(known.clone()), None).unwrap();
    let mut alice = Client::register_over(&server, "alice", tls()).await;
    let mut bob = Client::register_over(&server, "bob", tls()).await;

    let local = TempDir::new().unwrap();
    let bytes = content(3 * 1024 * 1024 + 5);
    let path = local.path().join("over tls.bin");
    std::fs::write(&path, &bytes).unwrap();
    alice
        .net
        .send(NetCommand::Upload {
            transfer_id: 1,
            path,
            comment: None,
        })
        .await;
    assert_eq!(alice.finish(1).await.0, TransferState::Done { saved: None });
    let file = bob.shared_file().await;
    assert_eq!(file.size, bytes.len() as u64);

    let downloads = TempDir::new().unwrap();
    let (saved, _) = bob.download(1, &file, downloads.path()).await;
    assert!(std::fs::read(&saved).unwrap() == bytes);

    let resume = TempDir::new().unwrap();
    let third = bytes.len() / 3;
    let part = net::part_path(resume.path(), &file.name);
    std::fs::write(&part, &bytes[..third]).unwrap();
    let (resumed, first) = bob.download(2, &file, resume.path()).await;
    assert!(first.unwrap() >= third as u64, "started at {first:?}");
    assert!(std::fs::read(&resumed).unwrap() == bytes);
}
