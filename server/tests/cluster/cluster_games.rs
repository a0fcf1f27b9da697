//! Tic-tac-toe across three cluster nodes: an invitation made on one node reaches the
//! others, two accepts from two other nodes at the same moment seat exactly one
//! player, every node lists the same game, and moves cross between the players' nodes;
//! a game goes on when the node owning the game table is killed.
//!
//! Runs on PostgreSQL and MySQL/MariaDB with `TEST_NATS_URL` set; see
//! `testkit/src/cluster.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{
    ClientMessage, GameInviteRequest, GameMove, GameRef, GameStatus, GameView, Games, ServerMessage,
};
use std::time::Duration;

use testkit::binary::Stdin;
use testkit::client::{TestClient, WAIT, error_code};
use testkit::cluster::{cluster_test, joined, left};

async fn invite(c: &mut TestClient) -> GameView {
    match c
        .request(ClientMessage::GameInvite(GameInviteRequest {}))
        .await
    {
        ServerMessage::GameState(s) => s.game,
        other => panic!("game_invite: {other:?}"),
    }
}

async fn games(c: &mut TestClient) -> Vec<GameView> {
    match c.request(ClientMessage::Games(Games::default())).await {
        ServerMessage::GameList(l) => l.games,
        other => panic!("games: {other:?}"),
    }
}

async fn play_ok(c: &mut TestClient, game_id: i64, cell: u8) -> GameView {
    match c
        .request(ClientMessage::GameMove(GameMove { game_id, cell }))
        .await
    {
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

/// The game as (status, x, o, moves): what every node must agree on.
fn summary(g: &GameView) -> (GameStatus, String, Option<String>, Vec<u8>) {
    (g.status, g.x.clone(), g.o.clone(), g.moves.clone())
}

cluster_test!(
    accepts_from_two_nodes_at_once_seat_one_player_and_moves_cross,
    |env| async move {
        let cluster = env.start(3).await;
        let (mut carol, _) = TestClient::user(cluster.addr(1), "carol").await;
        let (dave, _) = TestClient::user(cluster.addr(2), "dave").await;
        let (erin, _) = TestClient::user(cluster.addr(3), "erin").await;
        cluster.online_everywhere(&["carol", "dave", "erin"]).await;
        let mut players = [("dave", dave), ("erin", erin)];

        // carol invites on n1; dave (n2) and erin (n3) are told.
        let id = invite(&mut carol).await.id;
        for (name, c) in &mut players {
            let got = c
                .wait_for(
                    &format!("the game_invite at {name}"),
                    |m| matches!(m, ServerMessage::GameInvite(i) if i.game.id == id),
                )
                .await;
            let ServerMessage::GameInvite(i) = got else {
                unreachable!()
            };
            assert_eq!(
                (i.game.x.as_str(), i.game.status),
                ("carol", GameStatus::Open)
            );
        }

        // Both accepts are on the wire before either reply is read.
        let mut seqs = Vec::new();
        for (_, c) in &mut players {
            seqs.push(
                c.send(ClientMessage::GameAccept(GameRef { game_id: id }))
                    .await,
            );
        }
        let mut winners = Vec::new();
        for ((name, c), seq) in players.iter_mut().zip(seqs) {
            match c.reply_to(seq).await {
                ServerMessage::GameState(s) => {
                    assert_eq!(
                        (s.game.status, s.game.o.as_deref()),
                        (GameStatus::Playing, Some(*name))
                    );
                    winners.push(*name);
                }
                other => assert_eq!(
                    error_code(&other),
                    ErrorCode::GameTaken,
                    "{name}: {other:?}"
                ),
            }
        }
        assert_eq!(winners.len(), 1, "seated: {winners:?}");
        let winner = winners[0];
        let taken = update_where(&mut carol, id, |g| g.status == GameStatus::Playing).await;
        assert_eq!(taken.o.as_deref(), Some(winner));

        // Every node lists the same one game in play.
        let want = vec![(
            GameStatus::Playing,
            "carol".to_owned(),
            Some(winner.to_owned()),
            Vec::new(),
        )];
        let listed = games(&mut carol).await;
        assert_eq!(listed.iter().map(summary).collect::<Vec<_>>(), want, "n1");
        for (name, c) in &mut players {
            let listed = games(c).await;
            assert_eq!(
                listed.iter().map(summary).collect::<Vec<_>>(),
                want,
                "{name}'s node"
            );
        }

        // carol (X, n1) moves; the player on the other node sees it, answers, and
        // carol sees that.
        let (_, player) = players.iter_mut().find(|(n, _)| *n == winner).unwrap();
        play_ok(&mut carol, id, 0).await;
        let seen = update_where(player, id, |g| g.moves == [0]).await;
        assert_eq!(seen.turn.as_deref(), Some(winner));
        play_ok(player, id, 4).await;
        let seen = update_where(&mut carol, id, |g| g.moves == [0, 4]).await;
        assert_eq!(
            (seen.board.as_str(), seen.turn.as_deref()),
            ("X...O....", Some("carol"))
        );
        // Play it out to a win for carol: 0, 4, 1, 8, 2.
        play_ok(&mut carol, id, 1).await;
        update_where(player, id, |g| g.moves == [0, 4, 1]).await;
        play_ok(player, id, 8).await;
        update_where(&mut carol, id, |g| g.moves == [0, 4, 1, 8]).await;
        let over = play_ok(&mut carol, id, 2).await;
        assert_eq!(over.status, GameStatus::Over);
        let seen = update_where(player, id, |g| g.status == GameStatus::Over).await;
        let result = seen.result.expect("a result");
        assert_eq!(
            (result.winner.as_deref(), result.loser.as_deref()),
            (Some("carol"), Some(winner))
        );
        // The one who lost the race, on the third node, hears the game end too (the
        // end of a game goes to everyone online).
        let (other, observer) = players.iter_mut().find(|(n, _)| *n != winner).unwrap();
        let seen = update_where(observer, id, |g| g.status == GameStatus::Over).await;
        assert_eq!(seen.o.as_deref(), Some(winner), "as {other} saw it");
        cluster.stop().await;
    }
);

/// A move, sent again while the cluster works out a new owner of the game table
/// (`server_busy` until it has).
async fn play_when_ready(c: &mut TestClient, game_id: i64, cell: u8) -> GameView {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match c
            .request(ClientMessage::GameMove(GameMove { game_id, cell }))
            .await
        {
            ServerMessage::GameState(s) => return s.game,
            other if error_code(&other) == ErrorCode::ServerBusy => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "still busy: {other:?}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => panic!("game_move {cell}: {other:?}"),
        }
    }
}

cluster_test!(
    a_game_goes_on_when_the_node_owning_the_game_table_is_killed,
    |env| async move {
        // n1 starts first, so it owns the game table; its players are on n2 and n3.
        let mut n1 = env.spawn("n1", "1s", Stdin::Null).await;
        let n2 = env.spawn("n2", "1s", Stdin::Null).await;
        let n3 = env.spawn("n3", "1s", Stdin::Null).await;
        let (mut alice, _) = TestClient::user(n2.addr, "alice").await;
        let (mut bob, _) = TestClient::user(n3.addr, "bob").await;
        let (mut dave, _) = TestClient::user(n1.addr, "dave").await;
        joined(&mut alice, "bob").await;
        joined(&mut alice, "dave").await;
        joined(&mut bob, "dave").await;

        // alice (n2) plays bob (n3); dave, on n1, has an invitation open.
        let id = invite(&mut alice).await.id;
        let ServerMessage::GameState(s) = bob
            .request(ClientMessage::GameAccept(GameRef { game_id: id }))
            .await
        else {
            panic!("bob's accept was refused")
        };
        assert_eq!(s.game.status, GameStatus::Playing);
        play_ok(&mut alice, id, 0).await;
        update_where(&mut bob, id, |g| g.moves == [0]).await;
        play_ok(&mut bob, id, 4).await;
        update_where(&mut alice, id, |g| g.moves == [0, 4]).await;
        let open = invite(&mut dave).await.id;
        alice
            .wait_for(
                "dave's game_invite",
                |m| matches!(m, ServerMessage::GameInvite(i) if i.game.id == open),
            )
            .await;

        // n1 dies without a word.
        n1.kill().await;
        drop(dave);
        left(&mut alice, "dave").await;

        // The game goes on where it was, decided by the next oldest node; dave's
        // invitation ended with him.
        let g = play_when_ready(&mut alice, id, 1).await;
        assert_eq!(
            (g.moves.as_slice(), g.turn.as_deref()),
            (&[0, 4, 1][..], Some("bob"))
        );
        update_where(&mut alice, open, |g| g.status == GameStatus::Cancelled).await;
        update_where(&mut bob, id, |g| g.moves == [0, 4, 1]).await;
        play_ok(&mut bob, id, 8).await;
        update_where(&mut alice, id, |g| g.moves == [0, 4, 1, 8]).await;
        let over = play_ok(&mut alice, id, 2).await;
        assert_eq!(over.status, GameStatus::Over);
        let seen = update_where(&mut bob, id, |g| g.status == GameStatus::Over).await;
        let result = seen.result.expect("a result");
        assert_eq!(
            (result.winner.as_deref(), result.loser.as_deref()),
            (Some("alice"), Some("bob"))
        );
        // Both nodes list nothing left in play, and new games get new ids.
        assert!(games(&mut bob).await.is_empty());
        let next = invite(&mut bob).await.id;
        assert!(next > open, "id {next} given again");
        drop((alice, bob));
        for mut n in [n2, n3] {
            n.terminate();
            n.wait_exit().await;
        }
    }
);
