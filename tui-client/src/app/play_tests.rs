//! Tic-tac-toe keys, clicks and commands, driven only by events: what each
//! sends, and what is refused here with a reason instead.

use chatroom_shared::message::{GameStatus, ServerMessage, Stats};
use chatroom_shared::tictactoe::Mark;
use crossterm::event::KeyCode;

use super::games::Role;
use super::games_tests::{
    alice_playing_bob, board_moves, chat, command, event, game, invited, last_notice, reply, sent,
    server,
};
use super::tests::{click, key, logged_in};
use super::*;
use crate::net::{GameRequest, ListRequest, NetEvent};
use crate::ui::board::cell_at;
use crate::ui::layout::for_chat;

#[test]
fn accepting_from_the_side_panel_sends_accept_and_the_reply_opens_the_board() {
    let mut app = logged_in();
    invited(&mut app, game(3, "bob", None, &[]));
    for _ in 0..5 {
        app.update(key(KeyCode::Tab));
    }
    assert_eq!(chat(&app).focus, Focus::Invites);
    assert_eq!(
        app.update(key(KeyCode::Enter)),
        sent(GameRequest::Accept(3))
    );
    reply(&mut app, game(3, "bob", Some("alice"), &[]));
    let board = chat(&app).games.board.as_ref().expect("the board opened");
    assert_eq!(board.role, Role::Player(Mark::O));
    assert_eq!(board.cursor, 4, "the cursor starts in the centre");
    assert_eq!(chat(&app).focus, Focus::Invites, "the focus stays");
    assert!(last_notice(&app).contains("You play O against bob"));
    assert_eq!(
        chat(&app).games.listed[0].status,
        GameStatus::Playing,
        "listed as in play"
    );
}

#[test]
fn digits_enter_and_space_place_marks_only_when_the_rules_allow() {
    let mut app = alice_playing_bob();
    // 5 is the centre.
    assert_eq!(
        app.update(key(KeyCode::Char('5'))),
        sent(GameRequest::Move {
            game_id: 3,
            cell: 4
        })
    );
    // A second key before the answer is held back.
    assert!(app.update(key(KeyCode::Char('1'))).is_empty());
    assert!(last_notice(&app).contains("on its way"));
    event(&mut app, game(3, "alice", Some("bob"), &[4]));
    // bob's turn: refused here, nothing sent.
    assert!(app.update(key(KeyCode::Char('1'))).is_empty());
    assert!(
        last_notice(&app).contains("It is bob's turn"),
        "{}",
        last_notice(&app)
    );
    event(&mut app, game(3, "alice", Some("bob"), &[4, 0]));
    // A taken cell is refused with its number.
    assert!(app.update(key(KeyCode::Char('1'))).is_empty());
    assert!(last_notice(&app).contains("Cell 1 is taken"));
    // Arrows move the cursor (clamped at the edges); Enter and Space place.
    assert_eq!(chat(&app).games.board.as_ref().unwrap().cursor, 0);
    app.update(key(KeyCode::Up));
    for _ in 0..3 {
        app.update(key(KeyCode::Right));
    }
    assert_eq!(chat(&app).games.board.as_ref().unwrap().cursor, 2);
    assert_eq!(
        app.update(key(KeyCode::Enter)),
        sent(GameRequest::Move {
            game_id: 3,
            cell: 2
        })
    );
    event(&mut app, game(3, "alice", Some("bob"), &[4, 0, 2, 6]));
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Left));
    app.update(key(KeyCode::Left));
    // From the top right to the bottom left, which is taken; one right is
    // free.
    assert_eq!(chat(&app).games.board.as_ref().unwrap().cursor, 6);
    app.update(key(KeyCode::Right));
    assert_eq!(
        app.update(key(KeyCode::Char(' '))),
        sent(GameRequest::Move {
            game_id: 3,
            cell: 7
        })
    );
}

#[test]
fn r_on_the_board_asks_before_resigning_and_the_command_does_not() {
    let mut app = alice_playing_bob();
    let asked = |app: &App| chat(app).games.board.as_ref().unwrap().resign_asked;
    // r asks; n (or Esc) keeps playing, on the board.
    assert!(app.update(key(KeyCode::Char('r'))).is_empty());
    assert!(asked(&app));
    assert!(app.update(key(KeyCode::Char('n'))).is_empty());
    assert!(!asked(&app));
    app.update(key(KeyCode::Char('r')));
    assert!(app.update(key(KeyCode::Esc)).is_empty());
    assert!(!asked(&app));
    assert_eq!(chat(&app).focus, Focus::Board);
    // Another key drops the question and does its own job.
    app.update(key(KeyCode::Char('r')));
    assert_eq!(
        app.update(key(KeyCode::Char('5'))),
        sent(GameRequest::Move {
            game_id: 3,
            cell: 4
        })
    );
    assert!(!asked(&app));
    // r, then y: resigned.
    app.update(key(KeyCode::Char('r')));
    assert_eq!(
        app.update(key(KeyCode::Char('y'))),
        sent(GameRequest::Resign(3))
    );
    assert!(!asked(&app));
    // Leaving the board drops the question.
    app.update(key(KeyCode::Char('r')));
    app.update(key(KeyCode::F(2)));
    assert_eq!(chat(&app).focus, Focus::Input);
    assert!(!asked(&app));
    // The command is explicit: it resigns at once.
    assert_eq!(command(&mut app, "/resign"), sent(GameRequest::Resign(3)));
    let mut idle = logged_in();
    assert!(command(&mut idle, "/resign").is_empty());
    assert!(last_notice(&idle).contains("not playing"));
}

#[test]
fn commands_invite_accept_cancel_and_ask_for_stats() {
    let mut app = logged_in();
    assert_eq!(command(&mut app, "/game"), sent(GameRequest::Invite));
    reply(&mut app, game(7, "alice", None, &[]));
    assert!(last_notice(&app).contains("/cancel withdraws it"));
    // One open invitation at a time; not one's own to accept.
    assert!(command(&mut app, "/game").is_empty());
    assert!(last_notice(&app).contains("already invite"));
    assert!(command(&mut app, "/accept 7").is_empty());
    assert!(last_notice(&app).contains("your own invitation"));
    assert!(
        command(&mut app, "/accept").is_empty(),
        "no one else invites"
    );
    assert_eq!(command(&mut app, "/cancel"), sent(GameRequest::Cancel(7)));
    let mut cancelled = game(7, "alice", None, &[]);
    cancelled.status = GameStatus::Cancelled;
    reply(&mut app, cancelled);
    assert!(last_notice(&app).contains("withdrawn"));
    assert!(command(&mut app, "/cancel").is_empty());

    // /accept takes the newest invitation from someone else.
    invited(&mut app, game(8, "bob", None, &[]));
    invited(&mut app, game(9, "carol", None, &[]));
    assert_eq!(command(&mut app, "/accept"), sent(GameRequest::Accept(9)));
    assert_eq!(
        command(&mut app, "/accept #8"),
        sent(GameRequest::Accept(8))
    );
    assert!(command(&mut app, "/accept soon").is_empty());
    assert!(last_notice(&app).starts_with("/accept [ID]"));

    assert_eq!(command(&mut app, "/stats"), sent(GameRequest::Stats(None)));
    assert_eq!(
        command(&mut app, "/stats bob"),
        sent(GameRequest::Stats(Some("bob".into())))
    );
    assert_eq!(
        command(&mut app, "/games"),
        vec![Action::Net(NetCommand::List(ListRequest::Games {
            after: None
        }))]
    );
    server(
        &mut app,
        ServerMessage::Stats(Stats {
            seq: 4,
            name: "alice".into(),
            wins: 3,
            losses: 1,
            draws: 2,
        }),
    );
    assert_eq!(last_notice(&app), "alice: 3 wins, 1 loss, 2 draws");
}

#[test]
fn watching_opens_a_board_that_refuses_moves_and_q_stops_watching() {
    let mut app = logged_in();
    event(&mut app, game(5, "bob", Some("carol"), &[4]));
    assert_eq!(command(&mut app, "/watch 5"), sent(GameRequest::Watch(5)));
    reply(&mut app, game(5, "bob", Some("carol"), &[4]));
    let board = chat(&app).games.board.as_ref().expect("watching");
    assert_eq!(board.role, Role::Spectator);
    assert_eq!(chat(&app).focus, Focus::Input, "the focus stays");
    app.update(key(KeyCode::F(2)));
    assert!(app.update(key(KeyCode::Char('1'))).is_empty());
    assert!(last_notice(&app).contains("You are watching"));
    // Moves of the watched game arrive as events.
    event(&mut app, game(5, "bob", Some("carol"), &[4, 0]));
    assert_eq!(board_moves(&app), [4, 0]);
    assert_eq!(
        app.update(key(KeyCode::Char('q'))),
        sent(GameRequest::Unwatch(5))
    );
    assert!(chat(&app).games.board.is_none());
    // Later events about the game do not bring the board back.
    event(&mut app, game(5, "bob", Some("carol"), &[4, 0, 1]));
    assert!(chat(&app).games.board.is_none());
}

#[test]
fn enter_on_a_game_in_play_watches_it_and_own_games_cannot_be_watched() {
    let mut app = logged_in();
    event(&mut app, game(5, "bob", Some("carol"), &[]));
    for _ in 0..5 {
        app.update(key(KeyCode::Tab));
    }
    assert_eq!(app.update(key(KeyCode::Enter)), sent(GameRequest::Watch(5)));
    let mut app = alice_playing_bob();
    assert!(command(&mut app, "/watch 3").is_empty());
    assert!(command(&mut app, "/watch x").is_empty());
    assert!(last_notice(&app).starts_with("/watch ID"));
}

#[test]
fn game_requests_wait_for_the_connection() {
    let mut app = logged_in();
    app.update(AppEvent::Net(NetEvent::Disconnected {
        reason: "gone".into(),
        retry_in: std::time::Duration::from_secs(1),
        attempt: 1,
    }));
    assert!(command(&mut app, "/game").is_empty());
    assert!(last_notice(&app).contains("Not connected"));
}

#[test]
fn a_click_on_a_cell_places_a_mark_there() {
    let mut app = alice_playing_bob();
    app.update(key(KeyCode::Esc));
    let area = for_chat(app.area, chat(&app)).board.unwrap();
    let (x, y) = (area.x..area.right())
        .flat_map(|x| (area.y..area.bottom()).map(move |y| (x, y)))
        .find(|&(x, y)| cell_at(area, x, y) == Some(8))
        .unwrap();
    assert_eq!(
        app.update(click(x, y)),
        sent(GameRequest::Move {
            game_id: 3,
            cell: 8
        })
    );
    assert_eq!(chat(&app).focus, Focus::Board);
    // A click on the board's border only focuses it.
    app.update(key(KeyCode::Esc));
    assert!(app.update(click(area.x, area.y)).is_empty());
    assert_eq!(chat(&app).focus, Focus::Board);
}

#[test]
fn a_click_in_the_games_pane_selects_the_row() {
    let mut app = logged_in();
    invited(&mut app, game(3, "bob", None, &[]));
    invited(&mut app, game(4, "carol", None, &[]));
    let pane = for_chat(app.area, chat(&app)).invites.unwrap();
    app.update(click(pane.x + 2, pane.y + 2));
    assert_eq!(chat(&app).focus, Focus::Invites);
    assert_eq!(chat(&app).games.selected, 1);
    assert_eq!(
        app.update(key(KeyCode::Char('a'))),
        sent(GameRequest::Accept(4))
    );
}

#[test]
fn tab_reaches_the_board_only_while_a_game_is_on_it() {
    let mut app = alice_playing_bob();
    app.update(key(KeyCode::Tab));
    assert_eq!(
        chat(&app).focus,
        Focus::Input,
        "Tab from the board: the chat"
    );
    app.update(key(KeyCode::BackTab));
    assert_eq!(chat(&app).focus, Focus::Board);
    // A letter the board does not use goes to the input.
    app.update(key(KeyCode::Char('h')));
    assert_eq!(chat(&app).focus, Focus::Input);
    assert_eq!(chat(&app).compose.text(), "h");
}
