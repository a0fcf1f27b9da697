//! Paged lists over real TCP (PROTOCOL §3.4): files, groups, members, games and
//! online users, each filled past one page (files past one whole frame) and paged
//! through: every entry comes exactly once, in order, and every reply frame is
//! far under the frame limit.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chatroom_server::db::files as db_files;
use chatroom_shared::message::{
    ClientMessage, Files, GameInviteRequest, Games, GroupCreate, GroupInfo, GroupMembers,
    GroupStatus, Groups, OnlineUser, ServerMessage, Users,
};
use chatroom_shared::{ErrorCode, MAX_LIST_PAGE};
use sea_orm::TransactionTrait;
use testkit::client::{TestClient, error_code, gref, member_ref, members_of};
use testkit::cluster::cluster_test;
use testkit::db::{TestDb, db_test};
use testkit::pages::{file_page, game_page, group_page, member_page, page_through, user_page};
use testkit::server::TestServer;

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
        // A client of the time before paging sends `files` alone: the first page.
        let pages = page_through(
            &mut alice,
            |after| ClientMessage::Files(Files { after, limit: None }),
            file_page,
            |f| f.id,
        )
        .await;
        assert!(pages.len() > 1, "more than one frame of files: pages");
        assert!(
            pages[0].len() < MAX_LIST_PAGE as usize,
            "cut by bytes, not by count"
        );
        let ids: Vec<i64> = pages.iter().flatten().map(|f| f.id).collect();
        assert_eq!(ids.len(), total, "every file once");
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first");
        let all = pages.into_iter().flatten();
        assert!(all.clone().all(|f| f.name.len() == NAME_BYTES));
        assert!(
            all.clone()
                .all(|f| f.comment.as_deref().map(str::len) == Some(COMMENT_BYTES))
        );
        // A page from the middle, by a small limit.
        let reply = alice
            .request(ClientMessage::Files(Files {
                after: Some(ids[9]),
                limit: Some(3),
            }))
            .await;
        let got = file_page(reply);
        let middle: Vec<i64> = got.items.iter().map(|f| f.id).collect();
        assert_eq!(middle, ids[10..13]);
        assert!(got.has_more);
        server.stop().await;
    }
);

db_test!(
    groups_come_in_pages_with_the_closed_ones_of_the_user,
    |tdb| async move {
        let server = TestServer::start_with(tdb.url(), |c| c.max_groups_per_user = 100).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut bob, _) = TestClient::user(server.addr, "bob").await;
        let (mut carol, _) = TestClient::user(server.addr, "carol").await;
        let create = |name: String, private: bool| {
            ClientMessage::GroupCreate(GroupCreate {
                name,
                private,
                comment: Some("x".repeat(100)),
                full_history: false,
            })
        };
        for i in 0..23 {
            let r = alice.request(create(format!("a{i:02}"), i % 3 == 0)).await;
            assert!(matches!(r, ServerMessage::GroupState(_)), "{r:?}");
        }
        // Bob's three: carol is in the first when he closes it, in none of the others.
        for name in ["b0", "b1", "b2"] {
            let r = bob.request(create(name.into(), false)).await;
            assert!(matches!(r, ServerMessage::GroupState(_)), "{r:?}");
        }
        let r = carol.request(ClientMessage::GroupJoin(gref("b0"))).await;
        assert!(matches!(r, ServerMessage::GroupState(_)), "{r:?}");
        for name in ["b0", "b1"] {
            let r = bob.request(ClientMessage::GroupLeave(gref(name))).await;
            assert!(matches!(r, ServerMessage::GroupState(_)), "{r:?}");
        }
        let pages = page_through(
            &mut carol,
            |after| {
                ClientMessage::Groups(Groups {
                    after,
                    limit: Some(4),
                })
            },
            group_page,
            |g| g.id,
        )
        .await;
        assert_eq!(pages.len(), 7, "25 groups in pages of 4");
        assert!(pages.iter().rev().skip(1).all(|p| p.len() == 4));
        let groups: Vec<GroupInfo> = pages.into_iter().flatten().collect();
        let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
        let mut want: Vec<String> = (0..23).map(|i| format!("a{i:02}")).collect();
        want.extend(["b0".into(), "b2".into()]);
        assert_eq!(
            names, want,
            "every group once, oldest first; b1 is not carol's"
        );
        assert!(groups.windows(2).all(|w| w[0].id < w[1].id));
        let b0 = &groups[23];
        assert_eq!(b0.status, GroupStatus::Closed);
        assert_eq!(b0.members, 1, "carol is left in it");
        assert_eq!(groups[24].members, 1);
        // Bob lists neither closed group: he left them.
        let pages = page_through(
            &mut bob,
            |after| ClientMessage::Groups(Groups { after, limit: None }),
            group_page,
            |g| g.id,
        )
        .await;
        assert_eq!(pages.len(), 1);
        assert_eq!(pages[0].len(), 24);
        server.stop().await;
    }
);

db_test!(members_then_waiting_users_come_in_pages, |tdb| async move {
    let server = TestServer::start(tdb.url()).await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let r = alice
        .request(ClientMessage::GroupCreate(GroupCreate {
            name: "club".into(),
            private: true,
            comment: None,
            full_history: false,
        }))
        .await;
    assert!(matches!(r, ServerMessage::GroupState(_)), "{r:?}");
    let mut users = Vec::new();
    for i in 0..10 {
        let name = format!("m{i}");
        let (mut c, _) = TestClient::user(server.addr, &name).await;
        let r = c.request(ClientMessage::GroupJoin(gref("club"))).await;
        assert!(matches!(r, ServerMessage::GroupState(_)), "{r:?}");
        users.push((name, c));
    }
    // In another order than they asked: members are listed as they joined.
    for i in [3, 0, 5, 1, 4, 2] {
        let r = alice
            .request(ClientMessage::GroupApprove(member_ref("club", &users[i].0)))
            .await;
        assert!(matches!(r, ServerMessage::GroupState(_)), "{r:?}");
    }
    let entries = |pages: Vec<Vec<(String, bool)>>| -> Vec<(String, bool)> {
        pages.into_iter().flatten().collect()
    };
    let pages = page_through(
        &mut alice,
        |after| {
            ClientMessage::GroupMembers(GroupMembers {
                group: "club".into(),
                after,
                limit: Some(3),
            })
        },
        member_page,
        |e| e.0.clone(),
    )
    .await;
    assert_eq!(pages.len(), 4, "11 entries in pages of 3");
    let mut want: Vec<(String, bool)> = ["alice", "m3", "m0", "m5", "m1", "m4", "m2"]
        .iter()
        .map(|n| ((*n).to_owned(), false))
        .collect();
    want.extend(
        ["m6", "m7", "m8", "m9"]
            .iter()
            .map(|n| ((*n).to_owned(), true)),
    );
    assert_eq!(
        entries(pages),
        want,
        "the creator sees members, then requests"
    );
    // A member sees the members only.
    let m0 = &mut users[0].1;
    let pages = page_through(
        m0,
        |after| {
            ClientMessage::GroupMembers(GroupMembers {
                group: "club".into(),
                after,
                limit: Some(4),
            })
        },
        member_page,
        |e| e.0.clone(),
    )
    .await;
    assert_eq!(pages.len(), 2);
    want.truncate(7);
    assert_eq!(entries(pages), want);
    // The first page without a limit: everything at once.
    let got = member_page(
        m0.request(ClientMessage::GroupMembers(members_of("club")))
            .await,
    );
    assert_eq!(got.items.len(), 7);
    assert!(!got.has_more);
    // A cursor that is nobody in the group's lists.
    for nobody in ["zed", "bob"] {
        let r = m0
            .request(ClientMessage::GroupMembers(GroupMembers {
                group: "club".into(),
                after: Some(nobody.into()),
                limit: None,
            }))
            .await;
        assert_eq!(error_code(&r), ErrorCode::InvalidCursor, "{r:?}");
    }
    server.stop().await;
});

db_test!(games_come_in_pages_oldest_first, |tdb| async move {
    let server = TestServer::start(tdb.url()).await;
    let mut players = Vec::new();
    let mut ids = Vec::new();
    for i in 0..12 {
        let (mut c, _) = TestClient::user(server.addr, &format!("p{i:02}")).await;
        match c
            .request(ClientMessage::GameInvite(GameInviteRequest {}))
            .await
        {
            ServerMessage::GameState(s) => ids.push(s.game.id),
            other => panic!("game_invite: {other:?}"),
        }
        players.push(c);
    }
    let pages = page_through(
        &mut players[0],
        |after| {
            ClientMessage::Games(Games {
                after,
                limit: Some(5),
            })
        },
        game_page,
        |g| g.id,
    )
    .await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [5, 5, 2]);
    let listed: Vec<i64> = pages.into_iter().flatten().map(|g| g.id).collect();
    assert_eq!(listed, ids, "every game once, oldest first");
    // A limit over the maximum is clamped, as in `history`; 0 means one.
    let got = game_page(
        players[1]
            .request(ClientMessage::Games(Games {
                after: None,
                limit: Some(0),
            }))
            .await,
    );
    assert_eq!(got.items.len(), 1);
    assert!(got.has_more);
    let got = game_page(
        players[1]
            .request(ClientMessage::Games(Games {
                after: None,
                limit: Some(u32::MAX),
            }))
            .await,
    );
    assert_eq!(got.items.len(), 12);
    server.stop().await;
});

db_test!(online_users_come_in_pages_by_name, |tdb| async move {
    let server = TestServer::start(tdb.url()).await;
    let mut clients = Vec::new();
    let mut since = std::collections::HashMap::new();
    // Not in name order, and with upper case (code point order: "Zoe" first).
    for name in [
        "nina", "Zoe", "bob", "alice", "émile", "carol", "dave", "erin", "frank", "grace", "heidi",
        "ivan", "judy", "mallory", "oscar",
    ] {
        let (c, ok) = TestClient::user(server.addr, name).await;
        let me = ok.online.iter().find(|u| u.name == name).unwrap();
        since.insert(name.to_owned(), me.since);
        clients.push(c);
    }
    let pages = page_through(
        &mut clients[0],
        |after| {
            ClientMessage::Users(Users {
                after,
                limit: Some(4),
                prefix: None,
            })
        },
        user_page,
        |u| u.name.clone(),
    )
    .await;
    assert_eq!(pages.len(), 4);
    let users: Vec<OnlineUser> = pages.into_iter().flatten().collect();
    let names: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();
    let mut want: Vec<&str> = since.keys().map(String::as_str).collect();
    want.sort_unstable();
    assert_eq!(names, want, "everyone once, by name");
    assert_eq!(names[0], "Zoe");
    assert_eq!(names[14], "émile");
    assert!(users.iter().all(|u| since[&u.name] == u.since));
    // Whoever leaves is no longer listed; a cursor need not be anyone online.
    clients.remove(5).quit().await;
    clients[0]
        .wait_for(
            "carol left",
            |m| matches!(m, ServerMessage::UserLeft(l) if l.name == "carol"),
        )
        .await;
    let got = user_page(
        clients[0]
            .request(ClientMessage::Users(Users {
                after: Some("bz".into()),
                limit: Some(2),
                prefix: None,
            }))
            .await,
    );
    let names: Vec<&str> = got.items.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["dave", "erin"]);
    server.stop().await;
});

cluster_test!(users_and_games_are_paged_across_nodes, |env| async move {
    let cluster = env.start(2).await;
    let mut clients = Vec::new();
    let names = ["ann", "ben", "cat", "dan", "eve", "fay", "gus"];
    for (i, name) in names.iter().enumerate() {
        let (c, _) = TestClient::user(cluster.addr(1 + i % 2), name).await;
        clients.push(c);
    }
    cluster.online_everywhere(&names).await;
    for node in [0, 1] {
        let pages = page_through(
            &mut clients[node],
            |after| {
                ClientMessage::Users(Users {
                    after,
                    limit: Some(3),
                    prefix: None,
                })
            },
            user_page,
            |u| u.name.clone(),
        )
        .await;
        let listed: Vec<String> = pages.into_iter().flatten().map(|u| u.name).collect();
        assert_eq!(listed, names, "both nodes' users, merged by name");
    }
    let mut ids = Vec::new();
    for c in clients.iter_mut().take(5) {
        match c
            .request(ClientMessage::GameInvite(GameInviteRequest {}))
            .await
        {
            ServerMessage::GameState(s) => ids.push(s.game.id),
            other => panic!("game_invite: {other:?}"),
        }
    }
    for node in [0, 1] {
        let pages = page_through(
            &mut clients[5 + node],
            |after| {
                ClientMessage::Games(Games {
                    after,
                    limit: Some(2),
                })
            },
            game_page,
            |g| g.id,
        )
        .await;
        assert_eq!(pages.len(), 3);
        let listed: Vec<i64> = pages.into_iter().flatten().map(|g| g.id).collect();
        assert_eq!(listed, ids);
    }
    cluster.stop().await;
});
