//! Paged lists over real TCP: files, groups, members, games and users, each
//! filled past one page (files past one whole frame) and paged through.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chatroom_server::db::files as db_files;
use chatroom_shared::MAX_SERVER_FRAME;
use chatroom_shared::message::{ClientMessage, Files, ServerMessage};
use common::client::TestClient;
use common::db::{TestDb, db_test};
use common::server::TestServer;
use sea_orm::TransactionTrait;

/// Users sharing files, and files each (the report of issue 15: 8 × 500).
const SHARERS: usize = 8;
const FILES_EACH: usize = 500;
/// The longest file name, and a long comment.
const NAME_BYTES: usize = 255;
const COMMENT_BYTES: usize = 4000;

/// Record `SHARERS × FILES_EACH` files with the longest names and long
/// comments straight in the database (as finished uploads would), in one
/// transaction: together they are more than one server frame of JSON.
async fn share_many_files(tdb: &TestDb, uids: &[i64]) -> usize {
    let db = tdb.connect().await;
    let txn = db.begin().await.unwrap();
    let comment = "c".repeat(COMMENT_BYTES);
    let sha = "ab".repeat(32);
    let mut n = 0;
    for (u, uid) in uids.iter().enumerate() {
        for i in 0..FILES_EACH {
            let prefix = format!("{u}-{i:04}-");
            let name = format!("{prefix}{}", "n".repeat(NAME_BYTES - prefix.len()));
            let key = format!("k{u}-{i}");
            db_files::insert_file(
                &txn,
                db_files::NewFile {
                    name: &name,
                    size: 0,
                    sha256: &sha,
                    uid: *uid,
                    comment: Some(&comment),
                    now: 1_767_225_600_000,
                    storage_key: &key,
                },
            )
            .await
            .unwrap();
            n += 1;
        }
    }
    txn.commit().await.unwrap();
    db.close().await.unwrap();
    n
}

db_test!(
    files_past_one_frame_come_in_frames_under_the_limit,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let mut uids = Vec::new();
        for u in 0..SHARERS {
            let (_c, ok) = TestClient::user(server.addr, &format!("sharer{u}")).await;
            uids.push(ok.user.id);
        }
        let total = share_many_files(tdb, &uids).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        alice.largest_frame = 0;
        let reply = alice.request(ClientMessage::Files(Files::default())).await;
        let ServerMessage::FileList(list) = reply else {
            panic!("files: {reply:?}");
        };
        assert!(
            alice.largest_frame <= MAX_SERVER_FRAME,
            "{}",
            alice.largest_frame
        );
        assert!(!list.files.is_empty() && list.files.len() <= total);
        server.stop().await;
    }
);
