//! Whole-screen snapshots: the app is driven by events only, drawn into
//! ratatui's TestBackend, and compared with insta snapshots. Times are fixed
//! and the clock is UTC, so the snapshots are stable.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{
    Direction, EndReason, FileList, FileShared, GameResult, GameStatus, GameUpdate, ServerMessage,
};
use chatroom_tui::app::App;
use chatroom_tui::event::AppEvent;
use chatroom_tui::net::{NetEvent, TransferState, TransferUpdate};
use chatroom_tui::ui;
use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use common::{
    game, key, main_screen, new_app, render, screen_with_a_game, server, shared_file, type_text,
};

#[test]
fn login_form_with_an_error() {
    let mut app = new_app(80, 24);
    type_text(&mut app, "wrong-pass");
    key(&mut app, KeyCode::Enter);
    app.update(AppEvent::Net(NetEvent::LoginFailed {
        code: ErrorCode::WrongPassword,
        message: "wrong password".into(),
        attempts_left: Some(2),
        closed: false,
    }));
    insta::assert_snapshot!(render(&app));
}

#[test]
fn login_form_with_a_changed_certificate_warning_shown_whole() {
    let mut app = new_app(80, 24);
    type_text(&mut app, "password1");
    key(&mut app, KeyCode::Enter);
    app.update(AppEvent::Net(NetEvent::Untrusted {
        server: "chat.example:44302".into(),
        warning: "WARNING: the certificate of chat.example:44302 has CHANGED since it was \
                  pinned (pinned SHA256:AAAA, presented SHA256:BBBB). Someone may be \
                  intercepting the connection, so the client did not connect and sent no \
                  password. If the server's certificate was replaced on purpose, delete the \
                  line for chat.example:44302 in /home/me/.config/chatroom/known_servers and \
                  connect again."
            .into(),
    }));
    let screen = render(&app);
    assert!(screen.contains("connect again."), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn login_form_offering_to_register() {
    let mut app = new_app(80, 24);
    type_text(&mut app, "password1");
    key(&mut app, KeyCode::Enter);
    app.update(AppEvent::Net(NetEvent::LoginFailed {
        code: ErrorCode::UserNotFound,
        message: "no account".into(),
        attempts_left: None,
        closed: false,
    }));
    insta::assert_snapshot!(render(&app));
}

#[test]
fn main_screen_with_cjk_emoji_and_an_announcement() {
    insta::assert_snapshot!(render(&main_screen()));
}

#[test]
fn main_screen_narrow_without_side_panes() {
    let mut app = main_screen();
    app.update(AppEvent::Resize(60, 20));
    insta::assert_snapshot!(render(&app));
}

#[test]
fn help_overlay() {
    let mut app = main_screen();
    key(&mut app, KeyCode::F(1));
    insta::assert_snapshot!(render(&app));
}

#[test]
fn help_overlay_scrolled_to_its_end() {
    let mut app = main_screen();
    key(&mut app, KeyCode::F(1));
    // Past the end: the help stops at its last line.
    for _ in 0..5 {
        key(&mut app, KeyCode::PageDown);
    }
    insta::assert_snapshot!(render(&app));
}

#[test]
fn too_small_terminal_says_how_big_it_must_be() {
    let mut app = main_screen();
    app.update(AppEvent::Resize(40, 10));
    insta::assert_snapshot!(render(&app));
}

#[test]
fn files_pane_with_two_files_and_a_running_transfer() {
    let mut app = main_screen();
    app.update(AppEvent::Net(NetEvent::Server(ServerMessage::FileList(
        FileList {
            seq: 3,
            files: vec![shared_file(
                1,
                7,
                "quarterly-report-2025-final-v2.pdf",
                2_516_582,
                "bob",
            )],
            has_more: false,
            next: None,
        },
    ))));
    app.update(AppEvent::Net(NetEvent::Server(ServerMessage::FileShared(
        FileShared {
            file: shared_file(2, 8, "会议记录.zip", 104_857_600, "张伟"),
        },
    ))));
    // Shift-Tab to the files pane (games, files; Tab would only complete
    // in the draft), select the second file.
    for _ in 0..2 {
        key(&mut app, KeyCode::BackTab);
    }
    key(&mut app, KeyCode::Down);
    app.update(AppEvent::Net(NetEvent::Transfer(TransferUpdate {
        transfer_id: 1,
        name: "会议记录.zip".into(),
        direction: Direction::Download,
        state: TransferState::Progress {
            done: 12_897_484,
            total: 104_857_600,
            rate: 4_404_019,
        },
    })));
    insta::assert_snapshot!(render(&app));
}

#[test]
fn save_prompt_over_the_main_screen() {
    let mut app = main_screen();
    app.update(AppEvent::Net(NetEvent::Server(ServerMessage::FileList(
        FileList {
            seq: 3,
            files: vec![shared_file(1, 7, "notes.txt", 2_000, "bob")],
            has_more: false,
            next: None,
        },
    ))));
    for _ in 0..2 {
        key(&mut app, KeyCode::BackTab);
    }
    key(&mut app, KeyCode::Char('d'));
    insta::assert_snapshot!(render(&app));
}

#[test]
fn main_screen_with_a_game_on_the_board_and_invitations_listed() {
    insta::assert_snapshot!(render(&screen_with_a_game()));
}

#[test]
fn narrow_screen_with_the_board_above_the_messages() {
    let mut app = screen_with_a_game();
    app.update(AppEvent::Resize(60, 24));
    insta::assert_snapshot!(render(&app));
}

#[test]
fn the_board_whole_at_common_terminal_sizes() {
    // 80×24 used to draw the board over its border and the pane below it;
    // 100×30 and 60×20 showed only the centre cell.
    for (w, h) in [(80, 24), (100, 30), (60, 20), (48, 17)] {
        let mut app = screen_with_a_game();
        app.update(AppEvent::Resize(w, h));
        insta::assert_snapshot!(format!("board_at_{w}x{h}"), render(&app));
    }
}

#[test]
fn a_won_game_with_the_line_on_the_board_and_the_summary_in_the_chat() {
    let mut app = screen_with_a_game();
    key(&mut app, KeyCode::Esc);
    let mut over = game(3, "alice", Some("bob"), &[4, 0, 2, 6, 3, 8, 5], 0);
    over.status = GameStatus::Over;
    over.turn = None;
    over.deadline = None;
    over.result = Some(GameResult {
        winner: Some("alice".into()),
        loser: Some("bob".into()),
        reason: EndReason::Line,
        line: Some([3, 4, 5]),
        summary: "alice beat bob at tic-tac-toe".into(),
    });
    server(
        &mut app,
        ServerMessage::GameUpdate(GameUpdate { game: over }),
    );
    insta::assert_snapshot!(render(&app));
}

/// The text of the screen's rows between columns `left` and `right`, each
/// row trimmed.
fn rows_between(app: &App, left: u16, right: u16) -> Vec<String> {
    let mut terminal = Terminal::new(TestBackend::new(app.area.width, app.area.height)).unwrap();
    terminal.draw(|f| ui::draw(f, app)).unwrap();
    let buf = terminal.backend().buffer();
    (0..app.area.height)
        .map(|y| {
            (left..right)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
                .trim()
                .to_owned()
        })
        .collect()
}

#[test]
fn help_overlay_fits_a_narrow_screen_and_scrolls_to_every_key() {
    let mut app = main_screen();
    app.update(AppEvent::Resize(60, 20));
    key(&mut app, KeyCode::F(1));
    insta::assert_snapshot!(render(&app));
    // Page through the help: every key and every word of what it does shows
    // inside the overlay (nothing is cut at its right edge).
    let mut seen = String::new();
    for _ in 0..40 {
        for row in rows_between(&app, 0, 60) {
            let inside = row.trim_matches(|c| c == '║' || c == ' ');
            seen.push_str(inside);
            seen.push(' ');
        }
        key(&mut app, KeyCode::PageDown);
    }
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let seen = words(&seen);
    for (keys, what) in ui::help::KEYS {
        assert!(seen.contains(&words(keys)), "{keys} is not shown whole");
        assert!(seen.contains(&words(what)), "{what:?} is not shown whole");
    }
}
