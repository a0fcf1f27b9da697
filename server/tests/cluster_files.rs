//! Shared files across cluster nodes with one shared data directory: a file uploaded
//! through one node is announced to users on the other, listed there, and downloaded
//! through it (from the start, and resumed at an offset) with the same bytes.
//!
//! Runs on PostgreSQL and MySQL/MariaDB with `TEST_NATS_URL` set; see
//! `common/cluster.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chatroom_shared::message::{ClientMessage, FileInfo, Files, ServerMessage};
use common::client::TestClient;
use common::cluster::cluster_test;
use common::transfer::{content, download, download_ready, sha256_hex, share};

async fn list(c: &mut TestClient) -> Vec<FileInfo> {
    match c.request(ClientMessage::Files(Files {})).await {
        ServerMessage::FileList(l) => l.files,
        other => panic!("files: {other:?}"),
    }
}

/// The `file_shared` event for the file named `name`.
async fn shared_event(c: &mut TestClient, name: &str) -> FileInfo {
    match c
        .wait_for(
            &format!("file_shared {name}"),
            |m| matches!(m, ServerMessage::FileShared(s) if s.file.name == name),
        )
        .await
    {
        ServerMessage::FileShared(s) => s.file,
        _ => unreachable!(),
    }
}

cluster_test!(
    file_shared_on_one_node_downloads_through_the_other_with_the_same_bytes,
    |env| async move {
        let cluster = env.start(2).await;
        let (mut alice, _) = TestClient::user(cluster.addr(1), "alice").await;
        let (mut bob, _) = TestClient::user(cluster.addr(2), "bob").await;
        cluster.online_everywhere(&["alice", "bob"]).await;

        // alice shares through n1; bob, on n2, is told and finds it listed there.
        let bytes = content(512 * 1024 + 17, 3);
        let file = share(&mut alice, cluster.addr(1), "notes.bin", &bytes).await;
        let told = shared_event(&mut bob, "notes.bin").await;
        assert_eq!(told, file);
        assert_eq!(
            (told.uploader.as_str(), told.size),
            ("alice", bytes.len() as u64)
        );
        let listed = list(&mut bob).await;
        assert!(listed.contains(&file), "n2 lists {listed:?}");

        // bob downloads it through n2: the same bytes.
        let ready = download_ready(&mut bob, file.id, 0).await;
        let got = download(cluster.addr(2), &ready.ticket).await;
        assert_eq!(got.len(), bytes.len());
        assert_eq!(sha256_hex(&got), sha256_hex(&bytes), "bytes differ");

        // And the other way: bob shares through n2, alice resumes a download through
        // n1 at an offset.
        let bytes = content(100_000, 9);
        let file = share(&mut bob, cluster.addr(2), "reply.txt", &bytes).await;
        assert_eq!(shared_event(&mut alice, "reply.txt").await, file);
        let ready = download_ready(&mut alice, file.id, 1000).await;
        assert_eq!(ready.offset, 1000);
        let got = download(cluster.addr(1), &ready.ticket).await;
        assert_eq!(sha256_hex(&got), sha256_hex(&bytes[1000..]), "bytes differ");
        cluster.stop().await;
    }
);
