//! The table's rules as behaviour: invitations, moves, endings, deadlines,
//! spectators and a cluster's takeover, each driven through [`Table`] with the
//! time given, so no test needs a clock or a socket.

use super::*;
use chatroom_shared::message::{EndReason, GameStatus};
use chatroom_shared::tictactoe::Mark;

const TIMES: Times = Times {
    invite_ttl: 300_000,
    move_timeout: 60_000,
    reconnect_grace: 30_000,
};

fn p(uid: i64, name: &str) -> Player {
    Player {
        uid,
        name: name.into(),
    }
}

/// A table with alice (1) and bob (2) online and playing game 1, alice X.
fn playing() -> (Table, i64) {
    let mut t = Table::new(TIMES);
    t.online(1, 10, 0);
    t.online(2, 20, 0);
    let mut fx = Vec::new();
    let id = t.invite(p(1, "alice"), 0, &mut fx).unwrap().id;
    t.accept(p(2, "bob"), id, 0, &mut fx).unwrap();
    (t, id)
}

fn code(r: Answer) -> ErrorCode {
    r.unwrap_err().0
}

#[test]
fn invite_tells_everyone_else_and_the_first_accept_wins() {
    let mut t = Table::new(TIMES);
    let mut fx = Vec::new();
    let g = t.invite(p(1, "alice"), 5, &mut fx).unwrap();
    assert_eq!(g.status, GameStatus::Open);
    assert_eq!(g.deadline, Some(5 + TIMES.invite_ttl));
    assert!(matches!(
        &fx[0],
        Effect::ToAll {
            msg: ServerMessage::GameInvite(_),
            except: Some(1)
        }
    ));
    assert_eq!(
        code(t.accept(p(1, "alice"), g.id, 6, &mut fx)),
        ErrorCode::OwnGame
    );
    let taken = t.accept(p(2, "bob"), g.id, 6, &mut fx).unwrap();
    assert_eq!(taken.status, GameStatus::Playing);
    assert_eq!(taken.turn.as_deref(), Some("alice"));
    let (c, msg) = t.accept(p(3, "carol"), g.id, 7, &mut fx).unwrap_err();
    assert_eq!(c, ErrorCode::GameTaken);
    assert!(msg.contains("bob"), "{msg}");
    assert_eq!(
        code(t.invite(p(2, "bob"), 8, &mut fx)),
        ErrorCode::AlreadyInGame
    );
    assert_eq!(
        code(t.invite(p(1, "alice"), 8, &mut fx)),
        ErrorCode::AlreadyInGame
    );
}

#[test]
fn a_game_to_a_win_is_announced_and_recorded() {
    let (mut t, id) = playing();
    let mut fx = Vec::new();
    for (uid, cell) in [(1, 0), (2, 3), (1, 1), (2, 4)] {
        t.play(uid, id, cell, 1, &mut fx).unwrap();
    }
    // Moves go to the other player (and spectators), not to everyone.
    assert!(matches!(&fx[0], Effect::ToUsers { uids, .. } if uids == &vec![2]));
    fx.clear();
    let end = t.play(1, id, 2, 9, &mut fx).unwrap();
    let result = end.result.unwrap();
    assert_eq!(end.status, GameStatus::Over);
    assert_eq!(result.summary, "alice beat bob at tic-tac-toe");
    assert_eq!(result.line, Some([0, 1, 2]));
    assert!(matches!(
        &fx[0],
        Effect::ToAll {
            except: Some(1),
            ..
        }
    ));
    assert_eq!(
        fx[1],
        Effect::Record(FinishedGame {
            x_uid: 1,
            o_uid: 2,
            winner: Some(Mark::X),
            reason: EndReason::Line,
            moves: vec![0, 3, 1, 4, 2],
            start_time: 0,
            end_time: 9,
        })
    );
    assert!(t.list().is_empty());
    assert_eq!(code(t.play(2, id, 5, 10, &mut fx)), ErrorCode::GameNotFound);
}

#[test]
fn illegal_moves_are_refused_and_change_nothing() {
    let (mut t, id) = playing();
    let mut fx = Vec::new();
    assert_eq!(code(t.play(2, id, 0, 1, &mut fx)), ErrorCode::NotYourTurn);
    assert_eq!(code(t.play(3, id, 0, 1, &mut fx)), ErrorCode::NotAPlayer);
    assert_eq!(code(t.play(1, id, 9, 1, &mut fx)), ErrorCode::InvalidCell);
    assert_eq!(code(t.play(1, 99, 0, 1, &mut fx)), ErrorCode::GameNotFound);
    t.play(1, id, 4, 1, &mut fx).unwrap();
    assert_eq!(code(t.play(2, id, 4, 1, &mut fx)), ErrorCode::CellTaken);
    assert_eq!(t.list()[0].moves, vec![4]);
    let open = t.invite(p(3, "carol"), 1, &mut fx).unwrap().id;
    assert_eq!(
        code(t.play(3, open, 0, 1, &mut fx)),
        ErrorCode::GameNotInPlay
    );
}

#[test]
fn a_draw_and_a_resignation() {
    let (mut t, id) = playing();
    let mut fx = Vec::new();
    let moves = [0, 1, 2, 4, 3, 5, 7, 6, 8];
    let mut last = None;
    for (i, cell) in moves.into_iter().enumerate() {
        last = Some(
            t.play(if i % 2 == 0 { 1 } else { 2 }, id, cell, 1, &mut fx)
                .unwrap(),
        );
    }
    let r = last.unwrap().result.unwrap();
    assert_eq!((r.reason, r.winner), (EndReason::Draw, None));
    assert_eq!(r.summary, "alice and bob drew at tic-tac-toe");

    let (mut t, id) = playing();
    let end = t.resign(1, id, 2, &mut fx).unwrap().result.unwrap();
    assert_eq!(
        end.summary,
        "bob beat alice at tic-tac-toe (alice resigned)"
    );
}

#[test]
fn the_player_to_move_loses_on_timeout() {
    let (mut t, id) = playing();
    let mut fx = Vec::new();
    t.play(1, id, 4, 1_000, &mut fx).unwrap();
    assert_eq!(t.next_deadline(), Some(1_000 + TIMES.move_timeout));
    t.tick(1_000 + TIMES.move_timeout - 1, &mut fx);
    assert_eq!(t.list().len(), 1);
    fx.clear();
    t.tick(1_000 + TIMES.move_timeout, &mut fx);
    assert!(t.list().is_empty());
    let Effect::ToAll {
        msg: ServerMessage::GameUpdate(u),
        ..
    } = &fx[0]
    else {
        panic!("{fx:?}")
    };
    let r = u.game.result.clone().unwrap();
    assert_eq!(
        (r.reason, r.winner.as_deref()),
        (EndReason::Timeout, Some("alice"))
    );
}

/// alice and bob playing game 1 (one move each), carol watching it, dave's
/// invitation open; everyone online.
fn busy_table() -> (Table, i64, i64) {
    let (mut t, game) = playing();
    let mut fx = Vec::new();
    t.online(3, 30, 0);
    t.online(4, 40, 0);
    t.play(1, game, 4, 1_000, &mut fx).unwrap();
    t.play(2, game, 0, 2_000, &mut fx).unwrap();
    t.watch(3, game).unwrap();
    let open = t.invite(p(4, "dave"), 3_000, &mut fx).unwrap().id;
    (t, game, open)
}

fn online_map(pairs: &[(i64, u64)]) -> HashMap<i64, u64> {
    pairs.iter().copied().collect()
}

#[test]
fn a_restored_snapshot_is_the_same_table_and_play_goes_on() {
    let (t, game, open) = busy_table();
    let snapshot = t.snapshot();
    assert_eq!(snapshot.games(), 2);
    // Through the wire format, as it crosses between nodes.
    let json = serde_json::to_string(&snapshot).unwrap();
    let mut taken = Table::new(TIMES);
    let mut fx = Vec::new();
    let everyone = online_map(&[(1, 10), (2, 20), (3, 30), (4, 40)]);
    taken.restore(
        Some(serde_json::from_str(&json).unwrap()),
        &everyone,
        4_000,
        &mut fx,
    );
    assert!(fx.is_empty(), "nobody left, nothing to tell: {fx:?}");
    assert_eq!(taken.list(), t.list());
    assert_eq!(taken.snapshot(), snapshot);
    // The game goes on where it was: alice's move, then bob's; carol follows.
    fx.clear();
    let g = taken.play(1, game, 8, 5_000, &mut fx).unwrap();
    assert_eq!(g.moves, vec![4, 0, 8]);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::ToUsers { uids, .. } if uids.contains(&3)))
    );
    assert_eq!(
        code(taken.play(1, game, 1, 5_100, &mut fx)),
        ErrorCode::NotYourTurn
    );
    // dave's invitation is still open; new ids follow the old ones.
    taken.accept(p(3, "carol"), open, 6_000, &mut fx).unwrap();
    let next = taken.invite(p(5, "erin"), 6_000, &mut fx).unwrap().id;
    assert!(next > open, "{next} reuses an id");
}

#[test]
fn logins_of_people_not_in_a_game_leave_the_snapshot_as_it_was() {
    let (mut t, _, _) = busy_table();
    let before = t.snapshot();
    t.online(9, 90, 5_000);
    let mut fx = Vec::new();
    t.offline(9, 90, 6_000, &mut fx);
    t.online(8, 80, 7_000);
    assert_eq!(t.snapshot(), before);
    // A player's new session does change it.
    t.online(1, 11, 8_000);
    assert_ne!(t.snapshot(), before);
}

#[test]
fn who_was_on_the_dead_node_leaves_when_the_table_is_taken_over() {
    let (t, game, open) = busy_table();
    // bob and dave were on the node that died; alice and carol are here,
    // and carol has logged in again since (a new session).
    let here = online_map(&[(1, 10), (3, 31)]);
    let mut taken = Table::new(TIMES);
    let mut fx = Vec::new();
    taken.restore(Some(t.snapshot()), &here, 10_000, &mut fx);
    // dave's invitation ends, as when an inviter leaves.
    let cancelled = fx.iter().any(|e| {
        matches!(e, Effect::ToAll { msg: ServerMessage::GameUpdate(u), .. }
            if u.game.id == open && u.game.status == GameStatus::Cancelled)
    });
    assert!(cancelled, "{fx:?}");
    // bob has the reconnect grace to come back; he does not, and forfeits.
    assert_eq!(taken.next_deadline(), Some(10_000 + TIMES.reconnect_grace));
    fx.clear();
    taken.tick(10_000 + TIMES.reconnect_grace, &mut fx);
    let over = fx.iter().find_map(|e| match e {
        Effect::ToAll {
            msg: ServerMessage::GameUpdate(u),
            ..
        } if u.game.id == game => u.game.result.clone(),
        _ => None,
    });
    let result = over.expect("the game ended");
    assert_eq!(result.reason, EndReason::Forfeit);
    assert_eq!(result.winner.as_deref(), Some("alice"));
    assert!(fx.iter().any(|e| matches!(e, Effect::Record(_))));
}

#[test]
fn a_player_back_on_another_node_plays_on_after_a_takeover() {
    let (t, game, _) = busy_table();
    // bob was away (his node died) and logged in again elsewhere, session 21.
    let here = online_map(&[(1, 10), (2, 21), (3, 30), (4, 40)]);
    let mut taken = Table::new(TIMES);
    let mut fx = Vec::new();
    taken.restore(Some(t.snapshot()), &here, 10_000, &mut fx);
    taken.play(1, game, 8, 11_000, &mut fx).unwrap();
    taken.play(2, game, 2, 12_000, &mut fx).unwrap();
    // His old session's "left" arrives late and changes nothing.
    taken.offline(2, 20, 13_000, &mut fx);
    assert_eq!(taken.next_deadline(), Some(12_000 + TIMES.move_timeout));
}

#[test]
fn taking_over_from_a_node_that_sent_no_snapshot_leaves_no_stale_games() {
    let (mut t, _, open) = busy_table();
    let mut fx = Vec::new();
    t.restore(None, &online_map(&[(1, 10)]), 10_000, &mut fx);
    assert!(t.list().is_empty());
    assert!(fx.is_empty(), "{fx:?}");
    let next = t.invite(p(1, "alice"), 10_000, &mut fx).unwrap().id;
    assert!(next > open);
}

#[test]
fn leaving_forfeits_after_the_grace_period_unless_back_in_time() {
    let (mut t, id) = playing();
    let mut fx = Vec::new();
    t.play(1, id, 4, 1_000, &mut fx).unwrap();
    // bob leaves at 2s with 59s on his clock; back at 20s: 59s again.
    t.offline(2, 20, 2_000, &mut fx);
    assert_eq!(t.next_deadline(), Some(2_000 + TIMES.reconnect_grace));
    t.online(2, 21, 20_000);
    assert_eq!(t.next_deadline(), Some(20_000 + 59_000));
    t.play(2, id, 0, 21_000, &mut fx).unwrap();
    // A stale "left" from the replaced session changes nothing.
    t.offline(2, 20, 22_000, &mut fx);
    assert_eq!(t.next_deadline(), Some(21_000 + TIMES.move_timeout));
    // alice leaves for good: she forfeits when the grace period ends.
    t.offline(1, 10, 23_000, &mut fx);
    fx.clear();
    t.tick(23_000 + TIMES.reconnect_grace, &mut fx);
    let Effect::ToAll {
        msg: ServerMessage::GameUpdate(u),
        ..
    } = &fx[0]
    else {
        panic!("{fx:?}")
    };
    let r = u.game.result.clone().unwrap();
    assert_eq!(r.reason, EndReason::Forfeit);
    assert_eq!(r.summary, "bob beat alice at tic-tac-toe (alice left)");
}

#[test]
fn invitations_end_when_cancelled_expired_the_inviter_leaves_or_accepts_another() {
    let mut t = Table::new(TIMES);
    let mut fx = Vec::new();
    t.online(1, 10, 0);
    let a = t.invite(p(1, "alice"), 0, &mut fx).unwrap().id;
    assert_eq!(code(t.cancel(2, a, &mut fx)), ErrorCode::NotAPlayer);
    assert_eq!(
        t.cancel(1, a, &mut fx).unwrap().status,
        GameStatus::Cancelled
    );
    let b = t.invite(p(1, "alice"), 0, &mut fx).unwrap().id;
    t.tick(TIMES.invite_ttl, &mut fx);
    assert!(t.list().is_empty(), "invitation {b} did not expire");
    t.invite(p(1, "alice"), 0, &mut fx).unwrap();
    t.offline(1, 10, 1, &mut fx);
    assert!(t.list().is_empty());
    // Accepting someone else's invitation withdraws your own.
    let own = t.invite(p(1, "alice"), 0, &mut fx).unwrap().id;
    let other = t.invite(p(2, "bob"), 0, &mut fx).unwrap().id;
    t.accept(p(1, "alice"), other, 1, &mut fx).unwrap();
    let ids: Vec<i64> = t.list().iter().map(|g| g.id).collect();
    assert_eq!(ids, vec![other], "own invitation {own} still open");
}

#[test]
fn a_page_of_games_is_a_range_of_ids() {
    let mut t = Table::new(TIMES);
    let mut fx = Vec::new();
    let ids: Vec<i64> = (1..=5)
        .map(|uid| t.invite(p(uid, "x"), 0, &mut fx).unwrap().id)
        .collect();
    let page = |after, n| -> Vec<i64> { t.list_page(after, n).iter().map(|g| g.id).collect() };
    assert_eq!(page(None, 2), ids[..2]);
    assert_eq!(page(Some(ids[1]), 2), ids[2..4]);
    assert_eq!(page(Some(ids[3]), 9), ids[4..]);
    assert!(page(Some(ids[4]), 9).is_empty());
    assert_eq!(page(Some(0), 9), ids, "a cursor need not be a game");
}

#[test]
fn spectators_follow_moves_until_they_stop_or_leave() {
    let (mut t, id) = playing();
    let mut fx = Vec::new();
    t.online(3, 30, 0);
    assert_eq!(t.watch(3, id).unwrap().id, id);
    t.play(1, id, 4, 1, &mut fx).unwrap();
    assert!(matches!(&fx[0], Effect::ToUsers { uids, .. } if uids == &vec![2, 3]));
    t.unwatch(3, id).unwrap();
    fx.clear();
    t.play(2, id, 0, 1, &mut fx).unwrap();
    assert!(matches!(&fx[0], Effect::ToUsers { uids, .. } if uids == &vec![1]));
    t.watch(3, id).unwrap();
    t.offline(3, 30, 2, &mut fx);
    fx.clear();
    t.play(1, id, 1, 3, &mut fx).unwrap();
    assert!(matches!(&fx[0], Effect::ToUsers { uids, .. } if uids == &vec![2]));
}
