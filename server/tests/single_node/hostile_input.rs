//! The hostile suite, fields: mistyped fields in every newer request get
//! `invalid_field` with their seq; names and texts at their limits are taken on
//! every database, and over them (or 100 KB long) get their own codes; pages
//! asked for a billion messages are clamped. After each case two users still
//! chat and nothing is lost.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chatroom_shared::message::{ClientMessage, Hello, History, Login, Search, ServerMessage};
use chatroom_shared::{ErrorCode, PROTOCOL_VERSION};
use testkit::client::{TestClient, all_history, error_code};
use testkit::db::db_test;
use testkit::hostile::{Pair, code_of, lo, login, register, say, sqlite_server};
use testkit::server::TestServer;

// ----- oversized and mistyped fields -----

/// A request frame written as raw JSON, and the error code it must get.
fn mistyped() -> Vec<(&'static str, ErrorCode)> {
    use ErrorCode::{InvalidField, UnknownType};
    vec![
        (
            r#"{"type":"group_create","seq":9001,"name":"g","private":"yes"}"#,
            InvalidField,
        ),
        (
            r#"{"type":"group_create","seq":9002,"name":5}"#,
            InvalidField,
        ),
        (
            r#"{"type":"group_join","seq":9003,"group":["g"]}"#,
            InvalidField,
        ),
        (
            r#"{"type":"group_approve","seq":9004,"group":"g"}"#,
            InvalidField,
        ),
        (
            r#"{"type":"send","seq":9005,"id":"x","text":"t","to":{"kind":"planet"}}"#,
            InvalidField,
        ),
        (
            r#"{"type":"send","seq":9006,"id":"x","text":"t","to":"room"}"#,
            InvalidField,
        ),
        (
            r#"{"type":"send","seq":9007,"id":"x","text":"t","to":{"kind":"group"}}"#,
            InvalidField,
        ),
        (r#"{"type":"history","seq":9008,"limit":-1}"#, InvalidField),
        (
            r#"{"type":"history","seq":9009,"limit":4294967296}"#,
            InvalidField,
        ),
        (r#"{"type":"history","seq":9010,"limit":1e9}"#, InvalidField),
        (
            r#"{"type":"history","seq":9011,"before":"5"}"#,
            InvalidField,
        ),
        (
            r#"{"type":"history","seq":9012,"after":9223372036854775808}"#,
            InvalidField,
        ),
        (
            r#"{"type":"read","seq":9013,"to":{"kind":"room"},"upto":"x"}"#,
            InvalidField,
        ),
        (
            r#"{"type":"search","seq":9014,"text":["rocket"]}"#,
            InvalidField,
        ),
        (
            r#"{"type":"game_move","seq":9015,"game_id":1,"cell":"4"}"#,
            InvalidField,
        ),
        (
            r#"{"type":"game_move","seq":9016,"game_id":1,"cell":256}"#,
            InvalidField,
        ),
        (
            r#"{"type":"game_accept","seq":9017,"game_id":1.5}"#,
            InvalidField,
        ),
        (
            r#"{"type":"download_begin","seq":9018,"file_id":1,"offset":-1}"#,
            InvalidField,
        ),
        (
            r#"{"type":"upload_begin","seq":9019,"name":"a","size":-1,"sha256":"00"}"#,
            InvalidField,
        ),
        (r#"{"type":"stats","seq":9020,"name":7}"#, InvalidField),
        (r#"{"type":"resume","seq":9021,"token":null}"#, InvalidField),
        (r#"{"type":"Ping","seq":9022}"#, UnknownType),
        (r#"{"type":"ping ","seq":9023}"#, UnknownType),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mistyped_fields_of_every_newer_request_get_invalid_field_with_their_seq() {
    let (server, _tdb) = sqlite_server(|_| {}).await;
    let mut pair = Pair::new(server.addr, lo(1), lo(1)).await;
    let (mut mallory, _) = TestClient::user(server.addr, "mallory").await;
    for (json, code) in mistyped() {
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        let seq = u32::try_from(v["seq"].as_u64().unwrap()).unwrap();
        mallory.send_frame(json.as_bytes()).await;
        let reply = mallory.reply_to(seq).await;
        assert_eq!(error_code(&reply), code, "{json}: {reply:?}");
        pair.still_chatting(json).await;
    }
    // Nothing of it changed anything: no group, no message.
    assert!(server.admin.groups().await.unwrap().is_empty());
    let history = all_history(&mut pair.alice).await;
    assert!(history.iter().all(|m| m.from != "mallory"), "{history:?}");
    pair.nothing_lost().await;
    server.stop().await;
}

fn group_create(name: &str, comment: Option<String>) -> ClientMessage {
    ClientMessage::GroupCreate(chatroom_shared::message::GroupCreate {
        name: name.into(),
        private: false,
        comment,
        full_history: false,
    })
}

fn created(m: &ServerMessage) -> String {
    match m {
        ServerMessage::GroupState(s) => s.group.name.clone(),
        other => panic!("expected group_state, got {other:?}"),
    }
}

// Names and texts at their limits are taken on every database; over them, or
// absurdly long (100 KB), each gets its own code, nothing is stored, and the
// others chat on.
db_test!(
    oversized_fields_are_refused_with_their_codes_and_limits_are_exact,
    |tdb| async move {
        use chatroom_shared::message::{
            DownloadBegin, GroupRef, Resume, Send, StatsRequest, Target, UploadBegin,
        };
        let server = TestServer::start_with(tdb.url(), |c| c.max_frame = 512 * 1024).await;
        let mut pair = Pair::new(server.addr, lo(1), lo(1)).await;
        let (mut mallory, _) = TestClient::user(server.addr, "mallory").await;
        let huge = "x".repeat(100_000);
        let words = "word ".repeat(20_000);
        let max_text = "y".repeat(4096);
        let over_text = "y".repeat(4097);

        // Before login.
        let mut anon = TestClient::connect(server.addr).await;
        let ok = anon
            .request(ClientMessage::Hello(Hello {
                version: PROTOCOL_VERSION,
                client: huge.clone(),
            }))
            .await;
        assert!(matches!(ok, ServerMessage::HelloOk(_)), "{ok:?}");
        assert_eq!(
            code_of(&mut anon, register(&huge)).await,
            ErrorCode::InvalidName
        );
        assert_eq!(
            code_of(&mut anon, login(&huge)).await,
            ErrorCode::WrongPassword
        );
        let e = anon
            .request(ClientMessage::Login(Login {
                name: "bob".into(),
                password: huge.clone(),
            }))
            .await;
        assert_eq!(error_code(&e), ErrorCode::WrongPassword);
        let e = code_of(
            &mut anon,
            ClientMessage::Resume(Resume {
                token: huge.clone(),
            }),
        )
        .await;
        assert_eq!(e, ErrorCode::InvalidToken);
        pair.still_chatting("huge fields before login").await;

        // Group names: 32 characters (also 32 of three bytes each) are fine;
        // 33, a look-alike key over 255 bytes, or 100 KB are not.
        let at_limit = format!("g{}", "x".repeat(31));
        let cjk = "群".repeat(32);
        for name in [at_limit.as_str(), cjk.as_str()] {
            assert_eq!(
                created(&mallory.request(group_create(name, None)).await),
                name
            );
        }
        let over = format!("g{}", "x".repeat(32));
        let wide_key = "\u{fdfa}".repeat(9);
        for name in [over.as_str(), wide_key.as_str(), huge.as_str()] {
            let e = code_of(&mut mallory, group_create(name, None)).await;
            assert_eq!(
                e,
                ErrorCode::InvalidName,
                "{} characters",
                name.chars().count()
            );
        }
        // A comment of exactly the text limit is kept whole; one byte more is not.
        created(
            &mallory
                .request(group_create("commented", Some(max_text.clone())))
                .await,
        );
        let e = code_of(
            &mut mallory,
            group_create("overlong", Some(over_text.clone())),
        )
        .await;
        assert_eq!(e, ErrorCode::TextTooLong);
        pair.still_chatting("group names at and over the limit")
            .await;

        // Names that cannot exist, 100 KB long, are simply not found.
        let e = code_of(
            &mut mallory,
            ClientMessage::GroupJoin(GroupRef {
                group: huge.clone(),
            }),
        )
        .await;
        assert_eq!(e, ErrorCode::GroupNotFound);
        let to_huge_group = Target::Group {
            group: huge.clone(),
        };
        let to_huge_user = Target::User { user: huge.clone() };
        for (to, code) in [
            (to_huge_group.clone(), ErrorCode::GroupNotFound),
            (to_huge_user.clone(), ErrorCode::UserNotFound),
        ] {
            let send = ClientMessage::Send(Send {
                id: "h".into(),
                to: to.clone(),
                text: "hi".into(),
            });
            assert_eq!(code_of(&mut mallory, send).await, code);
            let history = ClientMessage::History(History {
                to,
                ..Default::default()
            });
            assert_eq!(code_of(&mut mallory, history).await, code);
        }
        let stats = ClientMessage::Stats(StatsRequest {
            name: Some(huge.clone()),
        });
        assert_eq!(code_of(&mut mallory, stats).await, ErrorCode::UserNotFound);
        // A text over the limit to a user, and 100 KB ids and file names.
        let send = ClientMessage::Send(Send {
            id: "long".into(),
            to: Target::User { user: "bob".into() },
            text: over_text.clone(),
        });
        assert_eq!(code_of(&mut mallory, send).await, ErrorCode::TextTooLong);
        assert_eq!(
            code_of(&mut mallory, say(&huge, "hi")).await,
            ErrorCode::InvalidMessageId
        );
        let upload = |name: &str, comment: Option<String>| {
            ClientMessage::UploadBegin(UploadBegin {
                name: name.into(),
                size: 1,
                sha256: "0".repeat(64),
                comment,
            })
        };
        assert_eq!(
            code_of(&mut mallory, upload(&huge, None)).await,
            ErrorCode::InvalidFileName
        );
        let e = code_of(&mut mallory, upload("a.txt", Some(over_text.clone()))).await;
        assert_eq!(e, ErrorCode::TextTooLong);
        let e = code_of(
            &mut mallory,
            ClientMessage::DownloadBegin(DownloadBegin {
                file_id: i64::MAX,
                offset: u64::MAX,
            }),
        )
        .await;
        assert_eq!(e, ErrorCode::FileNotFound);
        pair.still_chatting("100 KB names").await;

        // A 100 KB sender filter matches nobody; search texts of 100 KB (one word
        // over 64 characters, or 20,000 words over 8) are refused, never cut.
        let history = |from: Option<String>, text: Option<String>| {
            ClientMessage::History(History {
                from,
                text,
                ..Default::default()
            })
        };
        match mallory.request(history(Some(huge.clone()), None)).await {
            ServerMessage::HistoryPage(p) => assert!(p.messages.is_empty(), "{p:?}"),
            other => panic!("{other:?}"),
        }
        for text in [&huge, &words] {
            let e = code_of(&mut mallory, history(None, Some(text.clone()))).await;
            assert_eq!(e, ErrorCode::InvalidField);
            let search = ClientMessage::Search(Search {
                text: text.clone(),
                ..Default::default()
            });
            assert_eq!(code_of(&mut mallory, search).await, ErrorCode::InvalidField);
        }
        pair.still_chatting("100 KB filters").await;

        // Only the groups at the limit exist, the comment whole; mallory stored nothing.
        let mut names: Vec<String> = server
            .admin
            .groups()
            .await
            .unwrap()
            .into_iter()
            .map(|g| g.name)
            .collect();
        names.sort();
        let mut want = vec![at_limit.clone(), cjk.clone(), "commented".to_owned()];
        want.sort();
        assert_eq!(names, want);
        match mallory
            .request(ClientMessage::Groups(
                chatroom_shared::message::Groups::default(),
            ))
            .await
        {
            ServerMessage::GroupList(l) => {
                let g = l.groups.iter().find(|g| g.name == "commented").unwrap();
                assert_eq!(g.comment.as_deref(), Some(max_text.as_str()));
            }
            other => panic!("{other:?}"),
        }
        let history = all_history(&mut pair.alice).await;
        assert!(history.iter().all(|m| m.from != "mallory"));
        pair.nothing_lost().await;
        server.stop().await;
    }
);

// ----- a page of a billion messages -----

// However many messages a history or search page asks for (a billion, u32's
// maximum, none, zero), it gets at most max_history_page, at least one, in the
// room, in a group and in a search alike; cursors at i64's ends are harmless.
db_test!(
    pages_asked_for_a_billion_messages_are_clamped_everywhere,
    |tdb| async move {
        use chatroom_shared::message::{GroupRef, Send, Target};
        const PAGE: u32 = 5;
        let server = TestServer::start_with(tdb.url(), |c| c.max_history_page = PAGE).await;
        let mut pair = Pair::new(server.addr, lo(1), lo(1)).await;
        created(&pair.alice.request(group_create("lobby", None)).await);
        let lobby = Target::Group {
            group: "lobby".into(),
        };
        pair.bob
            .request(ClientMessage::GroupJoin(GroupRef {
                group: "lobby".into(),
            }))
            .await;
        let mut room = Vec::new();
        let mut group = Vec::new();
        for i in 0..8 {
            room.push(
                pair.alice
                    .say_ok(&format!("r{i}"), &format!("billion room {i}"))
                    .await,
            );
            let sent = pair
                .alice
                .request(ClientMessage::Send(Send {
                    id: format!("g{i}"),
                    to: lobby.clone(),
                    text: format!("billion group {i}"),
                }))
                .await;
            match sent {
                ServerMessage::SayOk(ok) => group.push(ok.message_id),
                other => panic!("{other:?}"),
            }
        }
        let room: Vec<i64> = room.iter().map(|a| a.message_id).collect();
        for (i, id) in room.iter().enumerate() {
            pair.acked.push((*id, format!("billion room {i}")));
        }

        let page = |to: Target, before, after, limit| {
            ClientMessage::History(History {
                to,
                before,
                after,
                limit,
                ..Default::default()
            })
        };
        let ids = |m: ServerMessage| match m {
            ServerMessage::HistoryPage(p) => (
                p.messages.iter().map(|m| m.id).collect::<Vec<_>>(),
                p.has_more,
            ),
            ServerMessage::SearchResults(p) => (
                p.messages.iter().map(|m| m.id).collect::<Vec<_>>(),
                p.has_more,
            ),
            other => panic!("{other:?}"),
        };
        for (to, all) in [(Target::Room, &room), (lobby.clone(), &group)] {
            let newest: Vec<i64> = all[all.len() - PAGE as usize..].to_vec();
            let oldest: Vec<i64> = all[..PAGE as usize].to_vec();
            for limit in [Some(1_000_000_000), Some(u32::MAX), None] {
                let got = ids(pair.bob.request(page(to.clone(), None, None, limit)).await);
                assert_eq!(got, (newest.clone(), true), "{to:?} limit {limit:?}");
                let got = ids(pair
                    .bob
                    .request(page(to.clone(), None, Some(0), limit))
                    .await);
                assert_eq!(
                    got,
                    (oldest.clone(), true),
                    "{to:?} after 0, limit {limit:?}"
                );
                let got = ids(pair
                    .bob
                    .request(page(to.clone(), Some(i64::MAX), None, limit))
                    .await);
                assert_eq!(got, (newest.clone(), true), "{to:?} before i64::MAX");
            }
            let got = ids(pair
                .bob
                .request(page(to.clone(), None, None, Some(0)))
                .await);
            assert_eq!(got, (vec![*all.last().unwrap()], true), "limit 0 gives one");
            let got = ids(pair
                .bob
                .request(page(to.clone(), Some(i64::MIN), None, Some(u32::MAX)))
                .await);
            assert_eq!(got, (vec![], false));
            let got = ids(pair
                .bob
                .request(page(to.clone(), None, Some(i64::MAX), Some(u32::MAX)))
                .await);
            assert_eq!(got, (vec![], false));
        }
        // Search: newest first, clamped the same.
        let search = ClientMessage::Search(Search {
            text: "billion".into(),
            limit: Some(u32::MAX),
            ..Default::default()
        });
        let (got, more) = ids(pair.bob.request(search).await);
        let mut everything: Vec<i64> = room.iter().chain(&group).copied().collect();
        everything.sort_unstable();
        everything.reverse();
        assert_eq!((got, more), (everything[..PAGE as usize].to_vec(), true));
        pair.still_chatting("billion-message pages").await;
        pair.nothing_lost().await;
        server.stop().await;
    }
);
