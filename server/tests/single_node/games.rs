//! Tic-tac-toe over real TCP: invitations, the first accept taking the seat, play to a
//! win and to a draw, illegal moves, resignation, timeouts, disconnect forfeit and
//! reconnecting within the grace period, spectators, and the stored `game_record`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chatroom_server::db::entity::game_record;
use chatroom_shared::ErrorCode;
use chatroom_shared::message::{
    ClientMessage, EndReason, GameInviteRequest, GameMove, GameRef, GameStatus, GameView, Games,
    ServerMessage, StatsRequest,
};
use sea_orm::{EntityTrait, QueryOrder};
use testkit::client::{TestClient, error_code};
use testkit::db::{TestDb, db_test};
use testkit::server::TestServer;

async fn invite(c: &mut TestClient) -> GameView {
    match c
        .request(ClientMessage::GameInvite(GameInviteRequest {}))
        .await
    {
        ServerMessage::GameState(s) => s.game,
        other => panic!("game_invite: {other:?}"),
    }
}

fn accept_msg(game_id: i64) -> ClientMessage {
    ClientMessage::GameAccept(GameRef { game_id })
}

async fn accept(c: &mut TestClient, game_id: i64) -> GameView {
    match c.request(accept_msg(game_id)).await {
        ServerMessage::GameState(s) => s.game,
        other => panic!("game_accept: {other:?}"),
    }
}

async fn play(c: &mut TestClient, game_id: i64, cell: u8) -> ServerMessage {
    c.request(ClientMessage::GameMove(GameMove { game_id, cell }))
        .await
}

async fn play_ok(c: &mut TestClient, game_id: i64, cell: u8) -> GameView {
    match play(c, game_id, cell).await {
        ServerMessage::GameState(s) => s.game,
        other => panic!("game_move {cell}: {other:?}"),
    }
}

/// The next `game_update` for `game_id` that satisfies `pred`.
async fn update_where(
    c: &mut TestClient,
    game_id: i64,
    pred: impl Fn(&GameView) -> bool,
) -> GameView {
    match c
        .wait_for(
            "a game_update",
            |m| matches!(m, ServerMessage::GameUpdate(u) if u.game.id == game_id && pred(&u.game)),
        )
        .await
    {
        ServerMessage::GameUpdate(u) => u.game,
        _ => unreachable!(),
    }
}

async fn games(c: &mut TestClient) -> Vec<GameView> {
    match c.request(ClientMessage::Games(Games::default())).await {
        ServerMessage::GameList(l) => l.games,
        other => panic!("games: {other:?}"),
    }
}

async fn stats(c: &mut TestClient, name: &str) -> (u64, u64, u64) {
    let req = ClientMessage::Stats(StatsRequest {
        name: Some(name.into()),
    });
    match c.request(req).await {
        ServerMessage::Stats(s) => (s.wins, s.losses, s.draws),
        other => panic!("stats: {other:?}"),
    }
}

/// `name`'s record must be `want` now: a finished game is stored before
/// anyone is told it ended.
async fn stats_are(c: &mut TestClient, name: &str, want: (u64, u64, u64)) {
    assert_eq!(stats(c, name).await, want, "{name}'s record");
}

/// alice invites, bob accepts; both see the game in play. Returns its id.
async fn start_game(alice: &mut TestClient, bob: &mut TestClient) -> i64 {
    let id = invite(alice).await.id;
    bob.wait_for(
        "game_invite",
        |m| matches!(m, ServerMessage::GameInvite(i) if i.game.id == id),
    )
    .await;
    let taken = accept(bob, id).await;
    assert_eq!(taken.status, GameStatus::Playing);
    update_where(alice, id, |g| g.status == GameStatus::Playing).await;
    id
}

db_test!(
    a_game_to_a_win_then_a_draw_is_announced_watched_and_recorded,
    |tdb| async {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut bob, _) = TestClient::user(server.addr, "bob").await;
        let (mut carol, _) = TestClient::user(server.addr, "carol").await;
        let (mut dave, _) = TestClient::user(server.addr, "dave").await;

        let open = invite(&mut alice).await;
        assert_eq!(
            (open.status, open.x.as_str(), open.o.as_ref()),
            (GameStatus::Open, "alice", None)
        );
        assert!(open.deadline.unwrap() > open.created);
        // Everyone else gets the invitation; the inviter gets the reply only.
        for c in [&mut bob, &mut carol, &mut dave] {
            c.wait_for(
                "game_invite",
                |m| matches!(m, ServerMessage::GameInvite(i) if i.game == open),
            )
            .await;
        }
        let game = accept(&mut bob, open.id).await;
        assert_eq!(game.o.as_deref(), Some("bob"));
        assert_eq!(game.turn.as_deref(), Some("alice"));
        // Taken: every board shows it in play between the two.
        for c in [&mut alice, &mut carol, &mut dave] {
            update_where(c, open.id, |g| g.status == GameStatus::Playing).await;
        }
        assert_eq!(games(&mut dave).await, vec![game.clone()]);
        // carol watches and sees every move live; dave does not watch.
        let watched = carol
            .request(ClientMessage::GameWatch(GameRef { game_id: open.id }))
            .await;
        assert!(
            matches!(watched, ServerMessage::GameState(_)),
            "{watched:?}"
        );

        let moves = [(0u8, true), (3, false), (1, true), (4, false)];
        for (n, (cell, x)) in moves.into_iter().enumerate() {
            let (mover, other) = if x {
                (&mut alice, &mut bob)
            } else {
                (&mut bob, &mut alice)
            };
            let after = play_ok(mover, open.id, cell).await;
            assert_eq!(after.moves.len(), n + 1);
            let seen = update_where(other, open.id, |g| g.moves.len() == n + 1).await;
            assert_eq!(seen, after);
            let spectated = update_where(&mut carol, open.id, |g| g.moves.len() == n + 1).await;
            assert_eq!(spectated.board, after.board);
        }
        let end = play_ok(&mut alice, open.id, 2).await;
        assert_eq!(end.status, GameStatus::Over);
        assert_eq!(end.board, "XXXOO....");
        let result = end.result.clone().unwrap();
        assert_eq!(result.summary, "alice beat bob at tic-tac-toe");
        assert_eq!(
            (result.reason, result.line),
            (EndReason::Line, Some([0, 1, 2]))
        );
        // The result reaches the whole room, watchers or not.
        for c in [&mut bob, &mut carol] {
            let over = update_where(c, open.id, |g| g.status == GameStatus::Over).await;
            assert_eq!(over.result.as_ref().unwrap().summary, result.summary);
        }
        // dave saw no move, only the lifecycle: the game's events go out in
        // the order the game task makes them, so a move sent to him would have
        // come before the result.
        let mut seen = Vec::new();
        let over = loop {
            match dave.recv().await {
                ServerMessage::GameUpdate(u)
                    if u.game.id == open.id && u.game.status == GameStatus::Over =>
                {
                    break u.game;
                }
                m => seen.push(m),
            }
        };
        assert_eq!(over.result.as_ref().unwrap().summary, result.summary);
        assert!(
            !seen.iter().any(|m| matches!(m, ServerMessage::GameUpdate(u) if u.game.status == GameStatus::Playing && !u.game.moves.is_empty())),
            "{seen:?}"
        );
        assert!(games(&mut dave).await.is_empty());
        stats_are(&mut dave, "alice", (1, 0, 0)).await;
        stats_are(&mut dave, "bob", (0, 1, 0)).await;

        // A second game, bob inviting this time, ends in a draw.
        let id = start_game(&mut bob, &mut alice).await;
        let cells = [0, 1, 2, 4, 3, 5, 7, 6, 8];
        let mut last = None;
        for (i, cell) in cells.into_iter().enumerate() {
            let mover = if i % 2 == 0 { &mut bob } else { &mut alice };
            last = Some(play_ok(mover, id, cell).await);
        }
        let draw = last.unwrap().result.unwrap();
        assert_eq!((draw.reason, draw.winner), (EndReason::Draw, None));
        assert_eq!(draw.summary, "bob and alice drew at tic-tac-toe");
        stats_are(&mut carol, "alice", (1, 0, 1)).await;
        let own = carol
            .request(ClientMessage::Stats(StatsRequest { name: None }))
            .await;
        assert!(
            matches!(own, ServerMessage::Stats(s) if s.name == "carol" && s.wins + s.losses + s.draws == 0)
        );
        let nobody = carol
            .request(ClientMessage::Stats(StatsRequest {
                name: Some("nobody".into()),
            }))
            .await;
        assert_eq!(error_code(&nobody), ErrorCode::UserNotFound);

        // The records, as stored.
        let db = tdb.connect().await;
        let rows = game_record::Entity::find()
            .order_by_asc(game_record::Column::Id)
            .all(&db)
            .await
            .unwrap();
        assert_eq!(rows.len(), 2);
        let (win, drawn) = (&rows[0], &rows[1]);
        assert_eq!(
            (win.result.as_str(), win.moves.as_deref()),
            ("x_won:line", Some("03142"))
        );
        assert_eq!(
            (drawn.result.as_str(), drawn.moves.as_deref()),
            ("draw", Some("012435768"))
        );
        assert!(win.end_time.unwrap() >= win.start_time);
        assert_ne!(win.uid, drawn.uid, "the X player is the inviter");
        assert_eq!(win.opponent_uid, Some(drawn.uid));
        server.stop().await;
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_clients_accepting_at_once_one_takes_the_seat() {
    let tdb = TestDb::create(testkit::db::Backend::Sqlite).await;
    let server = TestServer::start(tdb.url()).await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let mut others = Vec::new();
    for i in 0..10 {
        others.push(TestClient::user(server.addr, &format!("p{i}")).await.0);
    }
    let id = invite(&mut alice).await.id;
    for c in &mut others {
        c.wait_for("game_invite", |m| matches!(m, ServerMessage::GameInvite(_)))
            .await;
    }
    // Every accept is on the wire before any reply is read.
    let mut seqs = Vec::new();
    for c in &mut others {
        seqs.push(c.send(accept_msg(id)).await);
    }
    let mut winners = Vec::new();
    for (i, (c, seq)) in others.iter_mut().zip(seqs).enumerate() {
        match c.reply_to(seq).await {
            ServerMessage::GameState(s) => {
                assert_eq!(s.game.o, Some(format!("p{i}")));
                winners.push(i);
            }
            other => assert_eq!(error_code(&other), ErrorCode::GameTaken, "{other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    let game = &games(&mut alice).await[0];
    assert_eq!(game.o, Some(format!("p{}", winners[0])));
    // Nobody can accept their own invitation or play two games at once.
    let id2 = invite(&mut others[(winners[0] + 1) % 10]).await.id;
    let own = alice.request(accept_msg(id)).await;
    assert_eq!(error_code(&own), ErrorCode::OwnGame);
    let busy = alice.request(accept_msg(id2)).await;
    assert_eq!(error_code(&busy), ErrorCode::AlreadyInGame);
    let again = alice
        .request(ClientMessage::GameInvite(GameInviteRequest {}))
        .await;
    assert_eq!(error_code(&again), ErrorCode::AlreadyInGame);
    server.stop().await;
    tdb.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn illegal_moves_are_refused_with_a_code_and_change_nothing() {
    let tdb = TestDb::create(testkit::db::Backend::Sqlite).await;
    let server = TestServer::start(tdb.url()).await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let (mut bob, _) = TestClient::user(server.addr, "bob").await;
    let (mut carol, _) = TestClient::user(server.addr, "carol").await;
    let id = invite(&mut alice).await.id;
    // Before anyone accepts, nobody can move: the inviter's move is not in
    // play; anyone else is not a player, which is checked first (PROTOCOL §16.3).
    assert_eq!(
        error_code(&play(&mut alice, id, 0).await),
        ErrorCode::GameNotInPlay
    );
    assert_eq!(
        error_code(&play(&mut carol, id, 0).await),
        ErrorCode::NotAPlayer
    );
    assert_eq!(
        error_code(&play(&mut carol, id, 9).await),
        ErrorCode::NotAPlayer
    );
    bob.wait_for("game_invite", |m| matches!(m, ServerMessage::GameInvite(_)))
        .await;
    accept(&mut bob, id).await;
    assert_eq!(
        error_code(&play(&mut bob, id, 0).await),
        ErrorCode::NotYourTurn
    );
    assert_eq!(
        error_code(&play(&mut carol, id, 0).await),
        ErrorCode::NotAPlayer
    );
    assert_eq!(
        error_code(&play(&mut alice, id, 9).await),
        ErrorCode::InvalidCell
    );
    assert_eq!(
        error_code(&play(&mut alice, 999, 0).await),
        ErrorCode::GameNotFound
    );
    play_ok(&mut alice, id, 4).await;
    assert_eq!(
        error_code(&play(&mut bob, id, 4).await),
        ErrorCode::CellTaken
    );
    assert_eq!(
        error_code(&play(&mut alice, id, 0).await),
        ErrorCode::NotYourTurn
    );
    let resign_other = carol
        .request(ClientMessage::GameResign(GameRef { game_id: id }))
        .await;
    assert_eq!(error_code(&resign_other), ErrorCode::NotAPlayer);
    let cancel_started = alice
        .request(ClientMessage::GameCancel(GameRef { game_id: id }))
        .await;
    assert_eq!(error_code(&cancel_started), ErrorCode::GameNotInPlay);
    // A cell that is not a number 0-255 is a malformed request, not a move.
    alice
        .send_frame(
            format!(r#"{{"type":"game_move","seq":77,"game_id":{id},"cell":-1}}"#).as_bytes(),
        )
        .await;
    assert_eq!(
        error_code(&alice.reply_to(77).await),
        ErrorCode::InvalidField
    );
    let game = &games(&mut carol).await[0];
    assert_eq!(
        (game.board.as_str(), game.turn.as_deref()),
        ("....X....", Some("bob"))
    );
    // Game requests need a login.
    let mut anon = TestClient::greeted(server.addr).await;
    let r = anon.request(ClientMessage::Games(Games::default())).await;
    assert_eq!(error_code(&r), ErrorCode::LoginRequired);
    server.stop().await;
    tdb.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resignation_and_move_timeout_end_the_game() {
    let tdb = TestDb::create(testkit::db::Backend::Sqlite).await;
    let server = TestServer::start_with(tdb.url(), |c| {
        c.game_move_timeout = Duration::from_millis(400);
    })
    .await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let (mut bob, _) = TestClient::user(server.addr, "bob").await;
    let id = start_game(&mut alice, &mut bob).await;
    let resigned = match bob
        .request(ClientMessage::GameResign(GameRef { game_id: id }))
        .await
    {
        ServerMessage::GameState(s) => s.game,
        other => panic!("resign: {other:?}"),
    };
    let r = resigned.result.unwrap();
    assert_eq!(
        (r.reason, r.winner.as_deref()),
        (EndReason::Resign, Some("alice"))
    );
    assert_eq!(r.summary, "alice beat bob at tic-tac-toe (bob resigned)");
    update_where(&mut alice, id, |g| g.status == GameStatus::Over).await;

    // alice moves, then bob lets his clock run out.
    let id = start_game(&mut alice, &mut bob).await;
    let after = play_ok(&mut alice, id, 0).await;
    assert!(after.deadline.is_some());
    let over = update_where(&mut alice, id, |g| g.status == GameStatus::Over).await;
    let r = over.result.unwrap();
    assert_eq!(
        (r.reason, r.winner.as_deref()),
        (EndReason::Timeout, Some("alice"))
    );
    assert_eq!(
        r.summary,
        "alice beat bob at tic-tac-toe (bob ran out of time)"
    );
    update_where(&mut bob, id, |g| g.status == GameStatus::Over).await;
    stats_are(&mut bob, "alice", (2, 0, 0)).await;
    server.stop().await;
    tdb.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_player_who_leaves_forfeits_unless_back_within_the_grace_period() {
    let tdb = TestDb::create(testkit::db::Backend::Sqlite).await;
    // An invitation lasts as long as the grace: one made after bob's drop
    // expires after the grace for that drop has ended (one task keeps both
    // deadlines, and ends what is due in their order).
    let server = TestServer::start_with(tdb.url(), |c| {
        c.game_reconnect_grace = Duration::from_millis(1500);
        c.game_invite_ttl = Duration::from_millis(1500);
    })
    .await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let (mut bob, _) = TestClient::user(server.addr, "bob").await;
    let (mut carol, _) = TestClient::user(server.addr, "carol").await;
    let id = start_game(&mut alice, &mut bob).await;
    play_ok(&mut alice, id, 4).await;

    // bob's connection drops; he logs in again in time and the game goes on.
    // Once alice hears that he left, the server has seen the drop: he comes
    // back at once (milliseconds of the 1.5 s grace), not after a guess.
    drop(bob);
    alice
        .wait_for(
            "bob left",
            |m| matches!(m, ServerMessage::UserLeft(l) if l.name == "bob"),
        )
        .await;
    let (mut bob, _) = TestClient::existing(server.addr, "bob").await;
    let list = games(&mut bob).await;
    assert_eq!(list.len(), 1);
    assert_eq!(
        (list[0].status, list[0].turn.as_deref()),
        (GameStatus::Playing, Some("bob"))
    );
    assert_eq!(list[0].board, "....X....");
    // Past the grace period of the first drop, the game is still on: carol's
    // invitation, made after the drop, expires after that grace has ended.
    let marker = invite(&mut carol).await.id;
    update_where(&mut carol, marker, |g| g.status == GameStatus::Expired).await;
    play_ok(&mut bob, id, 0).await;

    // Now bob leaves for good: he forfeits when the grace period ends.
    bob.quit().await;
    let over = update_where(&mut alice, id, |g| g.status == GameStatus::Over).await;
    let r = over.result.unwrap();
    assert_eq!(
        (r.reason, r.winner.as_deref()),
        (EndReason::Forfeit, Some("alice"))
    );
    assert_eq!(r.summary, "alice beat bob at tic-tac-toe (bob left)");
    stats_are(&mut carol, "bob", (0, 1, 0)).await;
    server.stop().await;
    tdb.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_end_when_cancelled_expired_or_the_inviter_leaves() {
    let tdb = TestDb::create(testkit::db::Backend::Sqlite).await;
    let server = TestServer::start_with(tdb.url(), |c| {
        c.game_invite_ttl = Duration::from_millis(300);
    })
    .await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let (mut bob, _) = TestClient::user(server.addr, "bob").await;

    let id = invite(&mut alice).await.id;
    let not_yours = bob
        .request(ClientMessage::GameCancel(GameRef { game_id: id }))
        .await;
    assert_eq!(error_code(&not_yours), ErrorCode::NotAPlayer);
    let cancelled = alice
        .request(ClientMessage::GameCancel(GameRef { game_id: id }))
        .await;
    assert!(
        matches!(cancelled, ServerMessage::GameState(s) if s.game.status == GameStatus::Cancelled)
    );
    update_where(&mut bob, id, |g| g.status == GameStatus::Cancelled).await;
    assert_eq!(
        error_code(&bob.request(accept_msg(id)).await),
        ErrorCode::GameNotFound
    );

    let id = invite(&mut alice).await.id;
    update_where(&mut bob, id, |g| g.status == GameStatus::Expired).await;
    update_where(&mut alice, id, |g| g.status == GameStatus::Expired).await;
    assert!(games(&mut bob).await.is_empty());

    let id = invite(&mut alice).await.id;
    alice.quit().await;
    update_where(&mut bob, id, |g| g.status == GameStatus::Cancelled).await;
    assert!(games(&mut bob).await.is_empty());
    server.stop().await;
    tdb.drop_db().await;
}

// A client that asks for stats after seeing the result must see it counted:
// the result is stored before the final game_state and game_update go out.
db_test!(
    stats_count_a_game_as_soon_as_its_result_is_seen,
    |tdb| async {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut bob, _) = TestClient::user(server.addr, "bob").await;
        for n in 1..=10u64 {
            let id = start_game(&mut alice, &mut bob).await;
            for (cell, x) in [(0u8, true), (3, false), (1, true), (4, false)] {
                let (mover, other) = if x {
                    (&mut alice, &mut bob)
                } else {
                    (&mut bob, &mut alice)
                };
                let after = play_ok(mover, id, cell).await;
                update_where(other, id, |g| g.moves.len() == after.moves.len()).await;
            }
            let end = play_ok(&mut alice, id, 2).await;
            assert_eq!(end.status, GameStatus::Over);
            // The winner asks at once after the final game_state...
            stats_are(&mut alice, "alice", (n, 0, 0)).await;
            // ...and the loser at once after the game_update.
            update_where(&mut bob, id, |g| g.status == GameStatus::Over).await;
            stats_are(&mut bob, "bob", (0, n, 0)).await;
        }
        server.stop().await;
    }
);
