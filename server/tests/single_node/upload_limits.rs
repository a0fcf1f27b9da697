//! Uploads one user may have at once (`--max-uploads-per-user`): tickets handed out
//! and data connections running both count; one more is `too_many_uploads`; an upload
//! that ends in any way (shared, failed, its ticket expired) frees its place.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chatroom_shared::ErrorCode;
use chatroom_shared::message::ServerMessage;
use testkit::client::{TestClient, WAIT, error_code};
use testkit::db::db_test;
use testkit::server::TestServer;
use testkit::transfer::*;

/// The refusal of an `upload_begin` over the limit, checked to name the limit.
async fn refused(c: &mut TestClient, name: &str, bytes: &[u8], limit: u32) {
    let reply = c.request(upload_request(name, bytes)).await;
    assert_eq!(error_code(&reply), ErrorCode::TooManyUploads, "{reply:?}");
    let ServerMessage::Error(e) = reply else {
        unreachable!()
    };
    assert!(
        e.message.contains(&limit.to_string()),
        "names the limit: {}",
        e.message
    );
}

db_test!(
    four_uploads_at_once_and_a_fifth_once_one_ends,
    |tdb| async {
        let server = TestServer::start_with(tdb.url(), |c| c.max_uploads_per_user = 4).await;
        let addr = server.addr;
        let (mut alice, _) = TestClient::user(addr, "alice").await;
        let (mut bob, _) = TestClient::user(addr, "bob").await;
        let files: Vec<(String, Vec<u8>)> = (0..8u8)
            .map(|i| (format!("f{i}.bin"), content(1000 + usize::from(i), i)))
            .collect();
        let mut tickets = Vec::new();
        for (name, bytes) in &files[..4] {
            tickets.push(upload_ready(&mut alice, name, bytes).await.ticket);
        }
        refused(&mut alice, &files[4].0, &files[4].1, 4).await;
        // Asking again for an upload already granted replaces its ticket: no new place.
        tickets[0] = upload_ready(&mut alice, &files[0].0, &files[0].1)
            .await
            .ticket;
        // Every user has places of their own.
        upload_ready(&mut bob, &files[7].0, &files[7].1).await;

        // A data connection that runs holds its place; a shared file gives it back.
        let (running, reply) = DataConn::open(addr, &tickets[1]).await;
        ready(reply);
        refused(&mut alice, &files[4].0, &files[4].1, 4).await;
        match upload(addr, &tickets[0], &files[0].1).await {
            ServerMessage::TransferDone(_) => {}
            other => panic!("upload: {other:?}"),
        }
        upload_ready(&mut alice, &files[4].0, &files[4].1).await;
        refused(&mut alice, &files[5].0, &files[5].1, 4).await;

        // So does a failed upload (the wrong bytes), and a dropped data connection.
        let wrong = vec![0u8; files[2].1.len()];
        let failed = upload(addr, &tickets[2], &wrong).await;
        assert_eq!(error_code(&failed), ErrorCode::ChecksumMismatch);
        upload_ready(&mut alice, &files[5].0, &files[5].1).await;
        drop(running);
        granted_eventually(&mut alice, &files[6].0, &files[6].1).await;
        server.stop().await;
    }
);

db_test!(an_expired_ticket_frees_its_place, |tdb| async {
    let server = TestServer::start_with(tdb.url(), |c| {
        c.max_uploads_per_user = 1;
        c.transfer_ticket_ttl = Duration::from_millis(300);
    })
    .await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let first = content(10, 1);
    let second = content(20, 2);
    let ready = upload_ready(&mut alice, "first.bin", &first).await;
    refused(&mut alice, "second.bin", &second, 1).await;
    // Wait until the server's own expiry time has passed.
    let left = ready.expires - chatroom_server::time::now_ms();
    tokio::time::sleep(Duration::from_millis(u64::try_from(left.max(0)).unwrap())).await;
    granted_eventually(&mut alice, "second.bin", &second).await;
    server.stop().await;
});

/// `upload_begin` until it is granted: the server notices a dropped data connection,
/// or a ticket's expiry, a moment after it happens.
async fn granted_eventually(c: &mut TestClient, name: &str, bytes: &[u8]) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match c.request(upload_request(name, bytes)).await {
            ServerMessage::UploadReady(_) => return,
            ServerMessage::Error(e) if e.code == ErrorCode::TooManyUploads => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the place was never freed"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            other => panic!("upload_begin {name}: {other:?}"),
        }
    }
}
