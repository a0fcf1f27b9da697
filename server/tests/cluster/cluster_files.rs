//! Shared files across cluster nodes with one shared data directory: a file uploaded
//! through one node is announced to users on the other, listed there, and downloaded
//! through it (from the start, and resumed at an offset) with the same bytes; a data
//! connection may reach another node than the one that issued its ticket.
//!
//! Runs on PostgreSQL and MySQL/MariaDB with `TEST_NATS_URL` set; see
//! `testkit/src/cluster.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{ClientMessage, FileInfo, Files, ServerMessage};
use testkit::client::{TestClient, error_code};
use testkit::cluster::cluster_test;
use testkit::transfer::{
    DataConn, content, download, download_ready, sha256_hex, share, upload, upload_ready,
};

async fn list(c: &mut TestClient) -> Vec<FileInfo> {
    match c.request(ClientMessage::Files(Files::default())).await {
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

cluster_test!(
    a_data_connection_may_reach_another_node_than_the_one_that_issued_its_ticket,
    |env| async move {
        let cluster = env.start(2).await;
        let (mut alice, _) = TestClient::user(cluster.addr(1), "alice").await;
        let (mut bob, _) = TestClient::user(cluster.addr(2), "bob").await;
        cluster.online_everywhere(&["alice", "bob"]).await;

        // A load balancer without address affinity: alice's upload ticket comes
        // from n1, her data connection reaches n2, which claims the ticket from n1.
        let bytes = content(300_000, 5);
        let file = share(&mut alice, cluster.addr(2), "roaming.bin", &bytes).await;
        assert_eq!(shared_event(&mut bob, "roaming.bin").await, file);

        // bob's download ticket comes from n2, his data connection reaches n1.
        let ready = download_ready(&mut bob, file.id, 0).await;
        let got = download(cluster.addr(1), &ready.ticket).await;
        assert_eq!(sha256_hex(&got), sha256_hex(&bytes), "bytes differ");

        // A ticket serves once, whichever node it reaches: used at n1, refused at n2
        // (where it was issued) and at n1 again.
        for n in [2, 1] {
            let (_, reply) = DataConn::open(cluster.addr(n), &ready.ticket).await;
            assert_eq!(
                error_code(&reply),
                ErrorCode::InvalidTicket,
                "n{n}: {reply:?}"
            );
        }
        // A ticket nobody issued is refused by every node.
        let (_, reply) = DataConn::open(cluster.addr(1), "no-such-ticket").await;
        assert_eq!(error_code(&reply), ErrorCode::InvalidTicket);

        // An upload ticket is also claimed only once: alice asks on n1, her first
        // data connection reaches n2 and uploads; a second one with the same
        // ticket at n1 is refused.
        let more = content(4096, 7);
        let t = upload_ready(&mut alice, "second.bin", &more).await;
        let ServerMessage::TransferDone(done) = upload(cluster.addr(2), &t.ticket, &more).await
        else {
            panic!("the upload through n2 failed")
        };
        assert_eq!(done.file.size, more.len() as u64);
        let (_, reply) = DataConn::open(cluster.addr(1), &t.ticket).await;
        assert_eq!(error_code(&reply), ErrorCode::InvalidTicket);
        let names: Vec<String> = list(&mut bob).await.into_iter().map(|f| f.name).collect();
        assert!(names.contains(&"second.bin".to_owned()), "{names:?}");
        cluster.stop().await;
    }
);
