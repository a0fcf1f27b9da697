//! The hostile suite, authorization: a user who may not see something gets the
//! documented error code and not one byte of it. A private group's messages,
//! members and history stay with its members, whatever cursor, filter or
//! conversation an outsider, a removed member, one who left or one still
//! asking tries, live, at login or in a search; group decisions are the
//! creator's; administrator commands do not exist on the wire; a game's seat
//! goes once and only its players move; guessed file ids and tickets find
//! nothing. After each case alice and bob still chat and nothing is lost.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use testkit::client::group;

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{
    ChatMessage, ClientMessage, DownloadBegin, ErrorReply, GameInviteRequest, GameMove, GameRef,
    GameStatus, GameView, Games, GroupCreate, History, MessageKind, Ping, Read, Search, Send,
    ServerMessage, Target,
};
use testkit::client::{TestClient, all_history, gref, member_ref, members_of};
use testkit::db::db_test;
use testkit::hostile::{Pair, lo};
use testkit::server::TestServer;
use testkit::transfer::{DataConn, content, download, download_ready, share};

/// Send a request that must succeed (anything but an error).
async fn ok(c: &mut TestClient, req: ClientMessage) -> ServerMessage {
    let reply = c.request(req.clone()).await;
    assert!(
        !matches!(reply, ServerMessage::Error(_)),
        "{}: {reply:?}",
        req.type_name()
    );
    reply
}

/// Send a request that must be refused with `code`; returns the error.
async fn refused(c: &mut TestClient, req: ClientMessage, code: ErrorCode) -> ErrorReply {
    let seq = c.send(req.clone()).await;
    match c.reply_to(seq).await {
        ServerMessage::Error(e) => {
            assert_eq!(e.code, code, "{}: {e:?}", req.type_name());
            assert_eq!(e.seq, Some(seq));
            e
        }
        other => panic!("{}: expected {code}, got {other:?}", req.type_name()),
    }
}

fn create(name: &str, private: bool) -> ClientMessage {
    ClientMessage::GroupCreate(GroupCreate {
        name: name.into(),
        private,
        comment: None,
        full_history: false,
    })
}

fn send(id: &str, to: Target, text: &str) -> ClientMessage {
    ClientMessage::Send(Send {
        id: id.into(),
        to,
        text: text.into(),
    })
}

/// `send` that must be stored; returns the message id.
async fn sent(c: &mut TestClient, id: &str, to: Target, text: &str) -> i64 {
    match c.request(send(id, to, text)).await {
        ServerMessage::SayOk(ok) => ok.message_id,
        other => panic!("send {text:?}: {other:?}"),
    }
}

fn history(to: Target, before: Option<i64>, after: Option<i64>) -> ClientMessage {
    ClientMessage::History(History {
        to,
        before,
        after,
        ..Default::default()
    })
}

async fn page(c: &mut TestClient, req: ClientMessage) -> Vec<ChatMessage> {
    match ok(c, req).await {
        ServerMessage::HistoryPage(p) => p.messages,
        ServerMessage::SearchResults(r) => r.messages,
        other => panic!("expected a page: {other:?}"),
    }
}

/// Every `message` event that arrives before the one with id `marker`.
async fn messages_before(c: &mut TestClient, marker: i64) -> Vec<ChatMessage> {
    let mut out = Vec::new();
    loop {
        if let ServerMessage::Message(m) = c.recv().await {
            if m.id == marker {
                return out;
            }
            out.push(m);
        }
    }
}

/// Every `message` event that arrives before the reply to a ping: after a
/// login, the messages delivered for it (they are written before the next reply).
async fn messages_before_pong(c: &mut TestClient) -> Vec<ChatMessage> {
    let seq = c.send(ClientMessage::Ping(Ping {})).await;
    let mut out = Vec::new();
    loop {
        match c.recv().await {
            ServerMessage::Pong(p) if p.seq == seq => return out,
            ServerMessage::Message(m) => out.push(m),
            _ => {}
        }
    }
}

fn texts(ms: &[ChatMessage]) -> Vec<&str> {
    ms.iter().map(|m| m.text.as_str()).collect()
}

/// Nothing of the private group "vault" is among `ms`.
fn none_of_the_vault(who: &str, ms: &[ChatMessage]) {
    assert!(
        ms.iter()
            .all(|m| m.to != group("vault") && !m.text.contains("vault")),
        "{who} got {:?}",
        texts(ms)
    );
}

/// The members and the waiting requests of group `name`, as `c` may see them.
async fn member_list(c: &mut TestClient, name: &str) -> (Vec<String>, Vec<String>) {
    match ok(c, ClientMessage::GroupMembers(members_of(name))).await {
        ServerMessage::MemberList(l) => (l.members, l.requests),
        other => panic!("{other:?}"),
    }
}

// A private group's messages, history, members and read positions are refused
// (forbidden) to an outsider, a removed member, a member who left and a user
// whose request waits; they get none of its messages live, at login, in a
// search, or through a cursor into another conversation; a late member reads
// only from when they joined; only the creator decides who is in.
db_test!(
    a_private_group_leaks_to_no_outsider_removed_or_departed_member,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let addr = server.addr;
        let mut pair = Pair::new(addr, lo(1), lo(1)).await;
        let mut users = Vec::new();
        for name in ["carol", "dave", "erin", "frank", "grace"] {
            users.push(TestClient::user(addr, name).await.0);
        }
        let [mut carol, mut dave, mut erin, mut frank, mut grace] =
            <[TestClient; 5]>::try_from(users).ok().unwrap();

        // alice's private vault: bob, dave and frank are let in; erin asks.
        ok(&mut pair.alice, create("vault", true)).await;
        for c in [&mut pair.bob, &mut dave, &mut frank] {
            ok(c, ClientMessage::GroupJoin(gref("vault"))).await;
        }
        for name in ["bob", "dave", "frank"] {
            ok(
                &mut pair.alice,
                ClientMessage::GroupApprove(member_ref("vault", name)),
            )
            .await;
        }
        ok(&mut erin, ClientMessage::GroupJoin(gref("vault"))).await;
        // A public lobby and a direct message, to aim cursors at.
        ok(&mut pair.alice, create("lobby", false)).await;
        let lobby = sent(&mut pair.alice, "l1", group("lobby"), "lobby talk").await;
        let dm = sent(
            &mut pair.bob,
            "d1",
            Target::User {
                user: "carol".into(),
            },
            "hi carol",
        )
        .await;

        let secret1 = sent(&mut pair.alice, "v1", group("vault"), "vault secret one").await;
        // Only the creator decides; the others' attempts change nothing.
        refused(
            &mut pair.bob,
            ClientMessage::GroupApprove(member_ref("vault", "erin")),
            ErrorCode::Forbidden,
        )
        .await;
        refused(
            &mut pair.bob,
            ClientMessage::GroupReject(member_ref("vault", "erin")),
            ErrorCode::Forbidden,
        )
        .await;
        refused(
            &mut dave,
            ClientMessage::GroupRemove(member_ref("vault", "bob")),
            ErrorCode::Forbidden,
        )
        .await;
        refused(
            &mut erin,
            ClientMessage::GroupApprove(member_ref("vault", "erin")),
            ErrorCode::Forbidden,
        )
        .await;
        refused(
            &mut carol,
            ClientMessage::GroupRemove(member_ref("vault", "alice")),
            ErrorCode::Forbidden,
        )
        .await;
        let members = member_list(&mut pair.alice, "vault").await;
        assert_eq!(members.0, ["alice", "bob", "dave", "frank"]);
        assert_eq!(members.1, ["erin"]);

        // dave is removed, frank leaves; then a second secret.
        ok(
            &mut pair.alice,
            ClientMessage::GroupRemove(member_ref("vault", "dave")),
        )
        .await;
        ok(&mut frank, ClientMessage::GroupLeave(gref("vault"))).await;
        let secret2 = sent(&mut pair.alice, "v2", group("vault"), "vault secret two").await;
        let marker = pair.alice.say_ok("mark", "the marker").await.message_id;
        pair.acked.push((marker, "the marker".into()));

        // Live: bob gets both secrets; the others got neither after dave's and
        // frank's going (they got the first while members), nor at all (carol, erin).
        let bobs = messages_before(&mut pair.bob, marker).await;
        assert!(texts(&bobs).contains(&"vault secret two"), "{bobs:?}");
        for (who, c) in [("dave", &mut dave), ("frank", &mut frank)] {
            let got = messages_before(c, marker).await;
            assert!(got.iter().all(|m| m.id != secret2), "{who}: {got:?}");
        }
        for (who, c) in [("carol", &mut carol), ("erin", &mut erin)] {
            let got = messages_before(c, marker).await;
            none_of_the_vault(who, &got);
        }

        // Every way in is refused, with no content in the refusal.
        let vault = group("vault");
        for (who, c) in [
            ("carol", &mut carol),
            ("dave", &mut dave),
            ("erin", &mut erin),
            ("frank", &mut frank),
        ] {
            let mut attempts = vec![
                history(vault.clone(), None, None),
                history(vault.clone(), Some(i64::MAX), None),
                history(vault.clone(), None, Some(0)),
                history(vault.clone(), Some(secret2 + 1), None),
                ClientMessage::History(History {
                    to: vault.clone(),
                    from: Some("alice".into()),
                    text: Some("secret".into()),
                    ..Default::default()
                }),
                send(&format!("{who}-in"), vault.clone(), "let me in"),
                ClientMessage::Read(Read {
                    to: vault.clone(),
                    upto: i64::MAX,
                }),
                ClientMessage::GroupMembers(members_of("vault")),
            ];
            // The same group named another way is the same group.
            attempts.push(history(group(" VAULT "), None, Some(0)));
            for req in attempts {
                let e = refused(c, req, ErrorCode::Forbidden).await;
                assert!(!e.message.contains("secret"), "{who}: {e:?}");
            }
            // Cursors into the vault's ids, in conversations they may read,
            // give those conversations only.
            let room = page(c, history(Target::Room, None, Some(secret1 - 1))).await;
            none_of_the_vault(who, &room);
            let around = page(c, history(group("lobby"), Some(secret2 + 1), None)).await;
            assert_eq!(
                around.iter().map(|m| m.id).collect::<Vec<_>>(),
                [lobby],
                "{who}"
            );
            let after = page(c, history(group("lobby"), None, Some(secret1 - 1))).await;
            none_of_the_vault(who, &after);
            let dms = page(
                c,
                history(Target::User { user: "bob".into() }, Some(i64::MAX), None),
            )
            .await;
            let want: Vec<i64> = if who == "carol" { vec![dm] } else { vec![] };
            assert_eq!(dms.iter().map(|m| m.id).collect::<Vec<_>>(), want, "{who}");
            let alices = page(
                c,
                history(
                    Target::User {
                        user: "alice".into(),
                    },
                    None,
                    Some(0),
                ),
            )
            .await;
            assert!(alices.is_empty(), "{who} read alice's DMs: {alices:?}");
            let found = page(
                c,
                ClientMessage::Search(Search {
                    text: "secret".into(),
                    before: Some(i64::MAX),
                    limit: Some(u32::MAX),
                }),
            )
            .await;
            assert!(found.is_empty(), "{who} found {:?}", texts(&found));
        }
        pair.still_chatting("every way into the vault").await;

        // At login, the vault's messages reach its members only. (Each login
        // takes the session over from the connection it had.)
        for name in ["dave", "frank", "erin"] {
            let (mut again, _) = TestClient::existing(addr, name).await;
            let got = messages_before_pong(&mut again).await;
            none_of_the_vault(name, &got);
        }
        carol = TestClient::existing(addr, "carol").await.0;
        let got = messages_before_pong(&mut carol).await;
        none_of_the_vault("carol", &got);
        assert_eq!(texts(&got), ["hi carol"], "her unread direct message, only");
        let (mut bob_again, _) = TestClient::existing(addr, "bob").await;
        let got = messages_before_pong(&mut bob_again).await;
        assert_eq!(
            texts(&got)
                .iter()
                .filter(|t| t.starts_with("vault"))
                .count(),
            2,
            "bob, a member, gets both: {got:?}"
        );
        pair.bob = bob_again;

        // grace, let in now, reads from when she joined, by any cursor.
        ok(&mut grace, ClientMessage::GroupJoin(gref("vault"))).await;
        ok(
            &mut pair.alice,
            ClientMessage::GroupApprove(member_ref("vault", "grace")),
        )
        .await;
        for req in [
            history(vault.clone(), None, None),
            history(vault.clone(), None, Some(0)),
            history(vault.clone(), Some(secret2 + 1), None),
            history(vault.clone(), None, Some(secret1 - 1)),
        ] {
            assert!(page(&mut grace, req).await.is_empty());
        }
        let secret3 = sent(&mut pair.alice, "v3", group("vault"), "vault secret three").await;
        let hers = page(&mut grace, history(vault.clone(), None, Some(0))).await;
        assert_eq!(hers.iter().map(|m| m.id).collect::<Vec<_>>(), [secret3]);
        let found = page(
            &mut grace,
            ClientMessage::Search(Search {
                text: "secret".into(),
                ..Default::default()
            }),
        )
        .await;
        assert_eq!(texts(&found), ["vault secret three"]);

        // dave, removed, asks again and is let back in: he reads from his new
        // start, not what was said while he was out, live or at login.
        let (mut dave, _) = TestClient::existing(addr, "dave").await;
        ok(&mut dave, ClientMessage::GroupJoin(gref("vault"))).await;
        ok(
            &mut pair.alice,
            ClientMessage::GroupApprove(member_ref("vault", "dave")),
        )
        .await;
        assert!(
            page(&mut dave, history(vault.clone(), None, Some(0)))
                .await
                .is_empty()
        );
        let (mut dave, _) = TestClient::existing(addr, "dave").await;
        none_of_the_vault("dave, back", &messages_before_pong(&mut dave).await);

        // A removed member of a public group may not come back.
        ok(&mut carol, ClientMessage::GroupJoin(gref("lobby"))).await;
        ok(
            &mut pair.alice,
            ClientMessage::GroupRemove(member_ref("lobby", "carol")),
        )
        .await;
        refused(
            &mut carol,
            ClientMessage::GroupJoin(gref("lobby")),
            ErrorCode::Forbidden,
        )
        .await;
        refused(
            &mut carol,
            send("c-lobby", group("lobby"), "back"),
            ErrorCode::Forbidden,
        )
        .await;

        // The members are who alice let in, and the stored vault is intact.
        let (mut members, requests) = member_list(&mut pair.alice, "vault").await;
        members.sort();
        assert_eq!(
            (members, requests),
            (
                vec!["alice".into(), "bob".into(), "dave".into(), "grace".into()],
                vec!["erin".into()]
            )
        );
        let all = page(&mut pair.bob, history(vault, None, Some(0))).await;
        assert_eq!(
            all.iter().map(|m| m.id).collect::<Vec<_>>(),
            [secret1, secret2, secret3]
        );
        pair.still_chatting("the vault").await;
        pair.nothing_lost().await;
        server.stop().await;
    }
);

// No request of the protocol is an administrator command: a client sending
// kick, ban, announce, close_group or shutdown gets unknown_type with its seq,
// and nothing happens; a say dressed as an announcement is stored as the
// sender's plain message.
db_test!(
    admin_commands_from_a_client_are_unknown_and_change_nothing,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let addr = server.addr;
        let mut pair = Pair::new(addr, lo(1), lo(1)).await;
        let (mut mallory, _) = TestClient::user(addr, "mallory").await;
        ok(&mut pair.alice, create("lobby", false)).await;
        let commands = [
            r#"{"type":"kick","seq":7001,"name":"bob","reason":"bye"}"#,
            r#"{"type":"ban","seq":7002,"name":"bob"}"#,
            r#"{"type":"unban","seq":7003,"name":"mallory"}"#,
            r#"{"type":"announce","seq":7004,"text":"free pizza"}"#,
            r#"{"type":"announcement","seq":7005,"text":"free pizza"}"#,
            r#"{"type":"close_group","seq":7006,"group":"lobby"}"#,
            r#"{"type":"shutdown","seq":7007}"#,
            r#"{"type":"admin","seq":7009,"command":"/quit"}"#,
        ];
        for json in commands {
            let seq: u32 = serde_json::from_str::<serde_json::Value>(json).unwrap()["seq"]
                .as_u64()
                .unwrap()
                .try_into()
                .unwrap();
            mallory.send_frame(json.as_bytes()).await;
            match mallory.reply_to(seq).await {
                ServerMessage::Error(e) => assert_eq!(e.code, ErrorCode::UnknownType, "{json}"),
                other => panic!("{json}: {other:?}"),
            }
            pair.still_chatting(json).await;
        }
        // `users` is a client's request (PROTOCOL §5.9), not the console's
        // `/users`: a `user_list` of names and login times (`OnlineUser` has no
        // address or node to give away).
        match mallory
            .request(ClientMessage::Users(Default::default()))
            .await
        {
            ServerMessage::UserList(l) => {
                let names: Vec<&str> = l.users.iter().map(|u| u.name.as_str()).collect();
                assert_eq!(names, ["alice", "bob", "mallory"]);
            }
            other => panic!("users: {other:?}"),
        }
        pair.still_chatting("users").await;
        // An "announcement" that is a say.
        let dressed = serde_json::json!({
            "type": "say", "seq": 7010, "id": "fake", "text": "server restarts now",
            "kind": "announcement", "from": "Admin",
        });
        mallory.send_frame(dressed.to_string().as_bytes()).await;
        let id = match mallory.reply_to(7010).await {
            ServerMessage::SayOk(ok) => ok.message_id,
            other => panic!("{other:?}"),
        };
        let got = pair
            .bob
            .wait_for(
                "mallory's say",
                |m| matches!(m, ServerMessage::Message(x) if x.id == id),
            )
            .await;
        match got {
            ServerMessage::Message(m) => {
                assert_eq!((m.kind, m.from.as_str()), (MessageKind::Message, "mallory"));
            }
            _ => unreachable!(),
        }
        // Nobody was kicked or banned, the lobby is open, nothing was announced.
        assert_eq!(
            testkit::hostile::online(&server).await,
            ["alice", "bob", "mallory"]
        );
        let groups = server.admin.groups().await.unwrap();
        assert_eq!(
            groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(),
            ["lobby"]
        );
        let history = all_history(&mut pair.alice).await;
        assert!(
            history.iter().all(|m| m.kind == MessageKind::Message),
            "{history:?}"
        );
        pair.still_chatting("admin commands").await;
        pair.nothing_lost().await;
        server.stop().await;
    }
);

async fn game_state(c: &mut TestClient, req: ClientMessage) -> GameView {
    match ok(c, req).await {
        ServerMessage::GameState(s) => s.game,
        other => panic!("{other:?}"),
    }
}

// A seat already taken is game_taken for every later accept; only a game's
// players move or resign in it (not_a_player), not a spectator and not the
// players of another game; guessed game ids are game_not_found; the board is
// unchanged by all of it.
db_test!(
    a_taken_seat_and_someone_elses_game_are_refused,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let addr = server.addr;
        let mut pair = Pair::new(addr, lo(1), lo(1)).await;
        let (mut carol, _) = TestClient::user(addr, "carol").await;
        let (mut dave, _) = TestClient::user(addr, "dave").await;
        let (mut erin, _) = TestClient::user(addr, "erin").await;

        let id = game_state(
            &mut pair.alice,
            ClientMessage::GameInvite(GameInviteRequest {}),
        )
        .await
        .id;
        let taken = game_state(
            &mut pair.bob,
            ClientMessage::GameAccept(GameRef { game_id: id }),
        )
        .await;
        assert_eq!(taken.status, GameStatus::Playing);
        for c in [&mut carol, &mut dave] {
            refused(
                c,
                ClientMessage::GameAccept(GameRef { game_id: id }),
                ErrorCode::GameTaken,
            )
            .await;
        }
        // dave and erin play a game of their own.
        let other = game_state(&mut dave, ClientMessage::GameInvite(GameInviteRequest {}))
            .await
            .id;
        game_state(
            &mut erin,
            ClientMessage::GameAccept(GameRef { game_id: other }),
        )
        .await;
        game_state(
            &mut carol,
            ClientMessage::GameWatch(GameRef { game_id: id }),
        )
        .await;
        game_state(
            &mut pair.alice,
            ClientMessage::GameMove(GameMove {
                game_id: id,
                cell: 4,
            }),
        )
        .await;
        // bob's turn now: nobody else may move for him, or resign.
        for c in [&mut carol, &mut dave, &mut erin] {
            refused(
                c,
                ClientMessage::GameMove(GameMove {
                    game_id: id,
                    cell: 0,
                }),
                ErrorCode::NotAPlayer,
            )
            .await;
            refused(
                c,
                ClientMessage::GameResign(GameRef { game_id: id }),
                ErrorCode::NotAPlayer,
            )
            .await;
        }
        for guess in [0, -1, i64::MAX, i64::MIN, id + other + 1] {
            refused(
                &mut carol,
                ClientMessage::GameMove(GameMove {
                    game_id: guess,
                    cell: 0,
                }),
                ErrorCode::GameNotFound,
            )
            .await;
            refused(
                &mut carol,
                ClientMessage::GameAccept(GameRef { game_id: guess }),
                ErrorCode::GameNotFound,
            )
            .await;
        }
        let list = match ok(&mut carol, ClientMessage::Games(Games::default())).await {
            ServerMessage::GameList(l) => l.games,
            other => panic!("{other:?}"),
        };
        let mine = list.iter().find(|g| g.id == id).unwrap();
        assert_eq!(
            (mine.board.as_str(), mine.turn.as_deref(), mine.o.as_deref()),
            ("....X....", Some("bob"), Some("bob"))
        );
        let theirs = list.iter().find(|g| g.id == other).unwrap();
        assert_eq!(theirs.board, ".........");
        pair.still_chatting("game intrusions").await;
        pair.nothing_lost().await;
        server.stop().await;
    }
);

// Files belong to nobody's group (every logged-in user may list and fetch
// them), so the only ways at a file one was not given are guesses: guessed
// file ids get file_not_found, guessed tickets and used ones invalid_ticket
// and a close; before login nothing is served.
db_test!(
    guessed_file_ids_and_tickets_find_nothing,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let addr = server.addr;
        let mut pair = Pair::new(addr, lo(1), lo(1)).await;
        let (mut mallory, _) = TestClient::user(addr, "mallory").await;
        let bytes = content(10_000, 7);
        let file = share(&mut pair.alice, addr, "plans.bin", &bytes).await;

        for guess in [0, -1, i64::MIN, i64::MAX, file.id + 1, file.id + 1000] {
            refused(
                &mut mallory,
                ClientMessage::DownloadBegin(DownloadBegin {
                    file_id: guess,
                    offset: 0,
                }),
                ErrorCode::FileNotFound,
            )
            .await;
        }
        // bob's ticket works once, for bob's download; after that it is void
        // for anyone; made-up tickets of the right shape are void too.
        let d = download_ready(&mut pair.bob, file.id, 0).await;
        assert_eq!(download(addr, &d.ticket).await, bytes);
        let made_up = "A".repeat(43);
        for ticket in [d.ticket.as_str(), made_up.as_str(), "", &"t".repeat(60_000)] {
            let (mut conn, reply) = DataConn::open(addr, ticket).await;
            match reply {
                ServerMessage::Error(e) => assert_eq!(e.code, ErrorCode::InvalidTicket),
                other => panic!("ticket {:?}: {other:?}", &ticket[..ticket.len().min(8)]),
            }
            assert!(conn.closed().await);
        }
        // Before login: nothing.
        let mut anon = TestClient::greeted(addr).await;
        refused(
            &mut anon,
            ClientMessage::DownloadBegin(DownloadBegin {
                file_id: file.id,
                offset: 0,
            }),
            ErrorCode::LoginRequired,
        )
        .await;
        let mut fresh = TestClient::connect(addr).await;
        refused(
            &mut fresh,
            ClientMessage::DownloadBegin(DownloadBegin {
                file_id: file.id,
                offset: 0,
            }),
            ErrorCode::HelloRequired,
        )
        .await;
        pair.still_chatting("guessed files").await;
        pair.nothing_lost().await;
        server.stop().await;
    }
);
