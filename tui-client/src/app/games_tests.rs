//! Tic-tac-toe in the app, driven only by events: what the server's
//! replies, events and errors do to the invite board and the board (the
//! keys and commands are in `play_tests.rs`). The fixtures here serve both.

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{
    EndReason, ErrorReply, GameInvite, GameList, GameResult, GameState, GameStatus, GameUpdate,
    GameView, ServerMessage,
};
use chatroom_shared::tictactoe::{Mark, TicTacToe};
use crossterm::event::KeyCode;

use super::games::Role;
use super::tests::{key, logged_in, type_text};
use super::*;
use crate::net::{GameRequest, NetEvent};

/// 2026-01-01 00:00 UTC.
pub(super) const T0: i64 = 1_767_225_600_000;

/// Game `id` between `x` and `o` (None while open) after `moves`.
pub(super) fn game(id: i64, x: &str, o: Option<&str>, moves: &[u8]) -> GameView {
    let rules = TicTacToe::from_moves(moves).unwrap();
    let status = match (o, rules.outcome()) {
        (None, _) => GameStatus::Open,
        (Some(_), None) => GameStatus::Playing,
        (Some(_), Some(_)) => GameStatus::Over,
    };
    let turn = rules.turn().and_then(|m| match m {
        Mark::X => Some(x.to_owned()),
        Mark::O => o.map(str::to_owned),
    });
    GameView {
        id,
        status,
        x: x.into(),
        o: o.map(str::to_owned),
        moves: moves.to_vec(),
        board: rules.board_string(),
        turn: turn.filter(|_| status == GameStatus::Playing),
        deadline: Some(T0 + 60_000),
        result: None,
        created: T0,
    }
}

/// Game `id` won by `winner` along `line` after `moves`.
pub(super) fn won(id: i64, x: &str, o: &str, moves: &[u8], line: [u8; 3]) -> GameView {
    let mut g = game(id, x, Some(o), moves);
    let (winner, loser) = if moves.len() % 2 == 1 { (x, o) } else { (o, x) };
    g.status = GameStatus::Over;
    g.result = Some(GameResult {
        winner: Some(winner.into()),
        loser: Some(loser.into()),
        reason: EndReason::Line,
        line: Some(line),
        summary: format!("{winner} beat {loser} at tic-tac-toe"),
    });
    g
}

pub(super) fn server(app: &mut App, msg: ServerMessage) -> Vec<Action> {
    app.update(AppEvent::Net(NetEvent::Server(msg)))
}

pub(super) fn event(app: &mut App, g: GameView) -> Vec<Action> {
    server(app, ServerMessage::GameUpdate(GameUpdate { game: g }))
}

pub(super) fn reply(app: &mut App, g: GameView) -> Vec<Action> {
    server(app, ServerMessage::GameState(GameState { seq: 9, game: g }))
}

pub(super) fn invited(app: &mut App, g: GameView) -> Vec<Action> {
    server(app, ServerMessage::GameInvite(GameInvite { game: g }))
}

pub(super) fn sent(request: GameRequest) -> Vec<Action> {
    vec![Action::Net(NetCommand::Game(request))]
}

pub(super) fn command(app: &mut App, text: &str) -> Vec<Action> {
    type_text(app, text);
    app.update(key(KeyCode::Enter))
}

pub(super) fn chat(app: &App) -> &ChatView {
    app.chat().unwrap()
}

pub(super) fn last_notice(app: &App) -> String {
    chat(app).log().entries().last().unwrap().text.clone()
}

pub(super) fn notices(app: &App) -> Vec<String> {
    chat(app)
        .log()
        .entries()
        .iter()
        .map(|e| e.text.clone())
        .collect()
}

pub(super) fn board_moves(app: &App) -> Vec<u8> {
    chat(app).games.board.as_ref().unwrap().game.moves.clone()
}

/// alice (X) plays bob; the board is open and has the focus (F2), alice to
/// move.
pub(super) fn alice_playing_bob() -> App {
    let mut app = logged_in();
    command(&mut app, "/game");
    reply(&mut app, game(3, "alice", None, &[]));
    event(&mut app, game(3, "alice", Some("bob"), &[]));
    assert_eq!(
        chat(&app).focus,
        Focus::Input,
        "a game never takes the focus"
    );
    app.update(key(KeyCode::F(2)));
    assert_eq!(chat(&app).focus, Focus::Board);
    app
}

#[test]
fn an_invitation_is_listed_and_announced_with_how_to_accept() {
    let mut app = logged_in();
    app.update(AppEvent::Tick(T0));
    invited(&mut app, game(3, "bob", None, &[]));
    let games = &chat(&app).games;
    assert_eq!(games.listed.len(), 1);
    assert_eq!(games.listed[0].x, "bob");
    let text = last_notice(&app);
    assert!(
        text.contains("bob invites") && text.contains("/accept"),
        "{text}"
    );
    // The list after a reconnect repeats it: listed once, no second notice.
    let before = notices(&app).len();
    server(
        &mut app,
        ServerMessage::GameList(GameList {
            seq: 4,
            games: vec![game(3, "bob", None, &[])],
            has_more: false,
            next: None,
        }),
    );
    assert_eq!(chat(&app).games.listed.len(), 1);
    assert_eq!(notices(&app).len(), before);
}

#[test]
fn a_game_starting_or_a_move_arriving_never_takes_the_focus() {
    // bob accepts alice's invitation just as she starts typing "really?":
    // every key still goes to the input (nothing is resigned or placed),
    // and the message is sent whole.
    let mut app = logged_in();
    command(&mut app, "/game");
    reply(&mut app, game(3, "alice", None, &[]));
    event(&mut app, game(3, "alice", Some("bob"), &[]));
    let board = chat(&app).games.board.as_ref().unwrap();
    assert_eq!(board.role, Role::Player(Mark::X));
    assert_eq!(chat(&app).focus, Focus::Input);
    let notice = last_notice(&app);
    assert!(
        notice.contains("bob accepted: you play X and move first") && notice.contains("F2"),
        "{notice}"
    );
    let mut actions = Vec::new();
    for c in "really? 5".chars() {
        actions.extend(app.update(key(KeyCode::Char(c))));
    }
    assert!(actions.is_empty(), "keys reached the board: {actions:?}");
    assert_eq!(chat(&app).compose.text(), "really? 5");
    let actions = app.update(key(KeyCode::Enter));
    assert!(
        matches!(&actions[..], [Action::Net(NetCommand::Say { text, .. })] if text == "really? 5"),
        "{actions:?}"
    );
    assert!(chat(&app).games.board.as_ref().unwrap().in_play());
    app.update(key(KeyCode::F(2)));
    assert_eq!(chat(&app).focus, Focus::Board);
    app.update(key(KeyCode::F(2)));
    assert_eq!(chat(&app).focus, Focus::Input);

    // Accepting from the games pane: the board opens, the focus stays in
    // the pane, and bob's move arriving does not move it either.
    let mut app = logged_in();
    invited(&mut app, game(4, "bob", None, &[]));
    for _ in 0..5 {
        app.update(key(KeyCode::Tab));
    }
    assert_eq!(chat(&app).focus, Focus::Invites);
    app.update(key(KeyCode::Enter));
    reply(&mut app, game(4, "bob", Some("alice"), &[]));
    assert!(chat(&app).games.board.is_some());
    assert_eq!(chat(&app).focus, Focus::Invites);
    event(&mut app, game(4, "bob", Some("alice"), &[4]));
    assert_eq!(chat(&app).focus, Focus::Invites);
    assert!(chat(&app).games.board.as_ref().unwrap().my_turn());
}

#[test]
fn notices_name_only_the_panes_on_screen() {
    // 100 columns: the games pane is there, and the notice points to it.
    let mut app = logged_in();
    invited(&mut app, game(3, "bob", None, &[]));
    assert!(last_notice(&app).contains("Enter in the Games pane"));
    // 60 columns: no side panes; the notice names only what works.
    let mut app = logged_in();
    app.update(AppEvent::Resize(60, 20));
    invited(&mut app, game(3, "bob", None, &[]));
    let text = last_notice(&app);
    assert!(text.contains("/accept") && !text.contains("pane"), "{text}");
    command(&mut app, "/accept soon");
    let text = last_notice(&app);
    assert!(
        text.starts_with("/accept [ID]") && !text.contains("pane"),
        "{text}"
    );
    command(&mut app, "/watch x");
    let text = last_notice(&app);
    assert!(
        text.starts_with("/watch ID") && !text.contains("pane"),
        "{text}"
    );
}

#[test]
fn an_error_from_the_server_is_explained_and_frees_the_next_move() {
    let mut app = alice_playing_bob();
    app.update(key(KeyCode::Char('5')));
    server(
        &mut app,
        ServerMessage::Error(ErrorReply::new(Some(9), ErrorCode::NotYourTurn, "no")),
    );
    assert!(last_notice(&app).contains("It is not your turn"));
    assert!(!chat(&app).games.board.as_ref().unwrap().awaiting);
    assert!(!app.update(key(KeyCode::Char('5'))).is_empty());
    server(
        &mut app,
        ServerMessage::Error(ErrorReply::new(Some(10), ErrorCode::GameTaken, "taken")),
    );
    assert!(last_notice(&app).contains("someone else accepted that invitation first"));
}

#[test]
fn the_end_shows_on_the_board_and_its_summary_once_in_the_chat() {
    let mut app = alice_playing_bob();
    let end = won(3, "alice", "bob", &[4, 0, 2, 1, 6], [2, 4, 6]);
    reply(&mut app, end.clone());
    event(&mut app, end);
    let summaries = notices(&app)
        .iter()
        .filter(|t| *t == "alice beat bob at tic-tac-toe")
        .count();
    assert_eq!(summaries, 1);
    let board = chat(&app).games.board.as_ref().unwrap();
    assert_eq!(board.winning_line(), Some([2, 4, 6]));
    assert!(chat(&app).games.listed.is_empty(), "no longer listed");
    // A late copy of an earlier state changes nothing.
    event(&mut app, game(3, "alice", Some("bob"), &[4, 0, 2, 1]));
    assert_eq!(board_moves(&app), [4, 0, 2, 1, 6]);
    assert!(chat(&app).games.listed.is_empty());
    // Moves and resigning are refused now; q closes the board.
    assert!(app.update(key(KeyCode::Char('9'))).is_empty());
    assert!(last_notice(&app).contains("over"));
    assert!(app.update(key(KeyCode::Char('r'))).is_empty());
    assert!(app.update(key(KeyCode::Char('q'))).is_empty());
    assert!(chat(&app).games.board.is_none());
    assert_eq!(chat(&app).focus, Focus::Input);
}

#[test]
fn everyone_sees_the_summary_of_other_peoples_games() {
    let mut app = logged_in();
    event(&mut app, game(5, "bob", Some("carol"), &[]));
    assert_eq!(chat(&app).games.listed.len(), 1);
    assert!(chat(&app).games.board.is_none(), "not alice's game");
    event(
        &mut app,
        won(5, "bob", "carol", &[0, 3, 1, 4, 2], [0, 1, 2]),
    );
    assert_eq!(last_notice(&app), "bob beat carol at tic-tac-toe");
    assert!(chat(&app).games.listed.is_empty());
}

#[test]
fn an_own_invitation_that_expires_is_announced_and_dropped() {
    let mut app = logged_in();
    command(&mut app, "/game");
    reply(&mut app, game(7, "alice", None, &[]));
    let mut expired = game(7, "alice", None, &[]);
    expired.status = GameStatus::Expired;
    event(&mut app, expired);
    assert!(last_notice(&app).contains("expired"));
    assert!(chat(&app).games.listed.is_empty());
}

#[test]
fn a_game_of_ones_own_replaces_a_watched_board_and_unwatches_it() {
    let mut app = logged_in();
    event(&mut app, game(5, "bob", Some("carol"), &[]));
    command(&mut app, "/watch 5");
    reply(&mut app, game(5, "bob", Some("carol"), &[]));
    invited(&mut app, game(6, "dave", None, &[]));
    command(&mut app, "/accept 6");
    let actions = reply(&mut app, game(6, "dave", Some("alice"), &[]));
    assert_eq!(actions, sent(GameRequest::Unwatch(5)));
    assert_eq!(chat(&app).games.board.as_ref().unwrap().game.id, 6);
}

#[test]
fn after_a_reconnect_the_list_closes_a_vanished_game_and_renews_watching() {
    let mut app = alice_playing_bob();
    app.update(AppEvent::Net(NetEvent::LoggedIn {
        ok: chatroom_shared::message::LoginOk {
            seq: 1,
            user: chatroom_shared::message::UserInfo {
                id: 1,
                name: "alice".into(),
            },
            token: "t".into(),
            token_expires: 0,
            online: vec![],
            online_count: 0,
            online_next: None,
            recent: vec![],
        },
        resumed: true,
    }));
    server(
        &mut app,
        ServerMessage::GameList(GameList {
            seq: 3,
            games: vec![],
            has_more: false,
            next: None,
        }),
    );
    assert!(chat(&app).games.board.is_none());
    assert!(last_notice(&app).contains("Game 3 ended while you were away"));
    assert_eq!(chat(&app).focus, Focus::Input);

    let mut app = logged_in();
    event(&mut app, game(5, "bob", Some("carol"), &[]));
    command(&mut app, "/watch 5");
    reply(&mut app, game(5, "bob", Some("carol"), &[]));
    app.update(AppEvent::Net(NetEvent::LoggedIn {
        ok: chatroom_shared::message::LoginOk {
            seq: 1,
            user: chatroom_shared::message::UserInfo {
                id: 1,
                name: "alice".into(),
            },
            token: "t".into(),
            token_expires: 0,
            online: vec![],
            online_count: 0,
            online_next: None,
            recent: vec![],
        },
        resumed: true,
    }));
    let actions = server(
        &mut app,
        ServerMessage::GameList(GameList {
            seq: 3,
            games: vec![game(5, "bob", Some("carol"), &[4, 0])],
            has_more: false,
            next: None,
        }),
    );
    assert_eq!(actions, sent(GameRequest::Watch(5)));
    assert_eq!(
        board_moves(&app),
        [4, 0],
        "the list brings the board up to date"
    );
}

#[test]
fn a_game_in_play_listed_at_login_opens_its_board() {
    let mut app = logged_in();
    server(
        &mut app,
        ServerMessage::GameList(GameList {
            seq: 3,
            games: vec![
                game(2, "carol", None, &[]),
                game(3, "bob", Some("alice"), &[4]),
            ],
            has_more: false,
            next: None,
        }),
    );
    let board = chat(&app).games.board.as_ref().unwrap();
    assert_eq!((board.game.id, board.role), (3, Role::Player(Mark::O)));
    assert!(board.my_turn());
    assert_eq!(board.cursor, 0, "the centre is taken: the first free cell");
}

#[test]
fn a_new_game_with_an_old_id_after_a_server_restart_is_a_new_game() {
    let mut app = alice_playing_bob();
    event(
        &mut app,
        won(3, "alice", "bob", &[4, 0, 2, 1, 6], [2, 4, 6]),
    );
    // The server restarted and numbers its games from 1 again.
    let mut again = game(3, "bob", Some("alice"), &[]);
    again.created = T0 + 3_600_000;
    event(&mut app, again);
    let board = chat(&app).games.board.as_ref().unwrap();
    assert_eq!(board.role, Role::Player(Mark::O));
    assert!(board.in_play() && board.game.moves.is_empty());
    assert_eq!(chat(&app).games.listed.len(), 1);
}

#[test]
fn a_countdown_is_measured_from_when_its_event_arrived() {
    let mut app = logged_in();
    // The last tick was 0.9 s before bob's accept arrives with 60 s to move.
    app.update(AppEvent::Tick(T0 - 900));
    app.update(AppEvent::Clock(T0));
    event(&mut app, game(1, "alice", Some("bob"), &[]));
    assert_eq!(
        crate::ui::board::countdown(T0 + 60_000, app.now),
        "1:00",
        "never more than the 60 s the player has"
    );
    // A clock given late never moves time backwards.
    app.update(AppEvent::Clock(T0 - 500));
    assert_eq!(app.now, T0);
}
