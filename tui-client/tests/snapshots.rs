//! Whole-screen snapshots: the app is driven by events only, drawn into
//! ratatui's TestBackend, and compared with insta snapshots. Times are fixed
//! and the clock is UTC, so the snapshots are stable.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{
    Announcement, ChatMessage, Direction, EndReason, FileInfo, FileList, FileShared, GameList,
    GameResult, GameStatus, GameUpdate, GameView, LeaveReason, LoginOk, MessageKind, OnlineUser,
    ServerMessage, UserInfo, UserJoined, UserLeft,
};
use chatroom_shared::tictactoe::TicTacToe;
use chatroom_tui::app::{App, Settings};
use chatroom_tui::event::AppEvent;
use chatroom_tui::net::{NetEvent, TransferState, TransferUpdate};
use chatroom_tui::ui;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// 2026-01-01 09:00 UTC.
const T0: i64 = 1_767_258_000_000;

fn render(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(app.area.width, app.area.height)).unwrap();
    terminal.draw(|f| ui::draw(f, app)).unwrap();
    format!("{}", terminal.backend())
}

fn key(app: &mut App, code: KeyCode) {
    app.update(AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

fn new_app(w: u16, h: u16) -> App {
    let mut app =
        App::new("chat.example:44302", "alice", Settings::default(), 0).with_client_id_prefix("s");
    app.update(AppEvent::Resize(w, h));
    app.update(AppEvent::Tick(T0));
    app
}

fn msg(id: i64, minute: i64, from: &str, text: &str) -> ChatMessage {
    ChatMessage {
        id,
        ts: T0 + minute * 60_000,
        kind: MessageKind::Message,
        from: from.into(),
        text: text.into(),
        to: Default::default(),
    }
}

fn main_screen() -> App {
    let mut app = new_app(100, 28);
    type_text(&mut app, "password1");
    key(&mut app, KeyCode::Enter);
    let online = ["alice", "bob", "张伟", "さくら"]
        .iter()
        .map(|n| OnlineUser {
            name: (*n).into(),
            since: T0,
        })
        .collect();
    app.update(AppEvent::Net(NetEvent::LoggedIn {
        ok: LoginOk {
            seq: 2,
            user: UserInfo {
                id: 1,
                name: "alice".into(),
            },
            token: "t".into(),
            token_expires: 0,
            online,
            recent: vec![
                msg(1, 0, "bob", "good morning everyone"),
                msg(
                    2,
                    1,
                    "张伟",
                    "早上好！今天的会议改到下午三点，请大家准时参加。",
                ),
                msg(3, 2, "さくら", "了解です 👍 よろしくお願いします"),
            ],
        },
        resumed: false,
    }));
    let events = [
        ServerMessage::Announcement(Announcement {
            id: 4,
            ts: T0 + 3 * 60_000,
            text: "Server maintenance at 18:00 UTC".into(),
        }),
        ServerMessage::UserJoined(UserJoined {
            name: "carol".into(),
            ts: T0 + 4 * 60_000,
        }),
        ServerMessage::Message(msg(
            5,
            5,
            "bob",
            "alice, can you review the 🏳️‍🌈 flag and ❤️ emoji widths? a long line that wraps around the message pane to show the continuation indent",
        )),
        ServerMessage::UserLeft(UserLeft {
            name: "carol".into(),
            reason: LeaveReason::Disconnected,
            ts: T0 + 6 * 60_000,
        }),
    ];
    for e in events {
        app.update(AppEvent::Net(NetEvent::Server(e)));
    }
    type_text(&mut app, "한국어도 됩니다");
    app
}

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
    key(&mut app, KeyCode::PageDown);
    key(&mut app, KeyCode::PageDown);
    insta::assert_snapshot!(render(&app));
}

#[test]
fn too_small_terminal_says_how_big_it_must_be() {
    let mut app = main_screen();
    app.update(AppEvent::Resize(40, 10));
    insta::assert_snapshot!(render(&app));
}

fn shared_file(id: i64, minute: i64, name: &str, size: u64, uploader: &str) -> FileInfo {
    FileInfo {
        id,
        name: name.into(),
        size,
        sha256: "0".repeat(64),
        uploader: uploader.into(),
        comment: None,
        ts: T0 + minute * 60_000,
    }
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
    // Tab to the files pane (the input holds a draft, so Tab completes
    // nothing and moves on), select the second file.
    for _ in 0..4 {
        key(&mut app, KeyCode::Tab);
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
    for _ in 0..4 {
        key(&mut app, KeyCode::Tab);
    }
    key(&mut app, KeyCode::Char('d'));
    insta::assert_snapshot!(render(&app));
}

/// Game `id`: `x` invites (open, `o` None) or plays `o` after `moves`.
fn game(id: i64, x: &str, o: Option<&str>, moves: &[u8], secs_left: i64) -> GameView {
    let rules = TicTacToe::from_moves(moves).unwrap();
    let playing = o.is_some();
    let turn = match rules.turn() {
        Some(chatroom_shared::tictactoe::Mark::X) => Some(x.to_owned()),
        _ => o.map(str::to_owned),
    };
    GameView {
        id,
        status: if playing {
            GameStatus::Playing
        } else {
            GameStatus::Open
        },
        x: x.into(),
        o: o.map(str::to_owned),
        moves: moves.to_vec(),
        board: rules.board_string(),
        turn: turn.filter(|_| playing),
        deadline: Some(T0 + secs_left * 1000),
        result: None,
        created: T0,
    }
}

fn server(app: &mut App, msg: ServerMessage) {
    app.update(AppEvent::Net(NetEvent::Server(msg)));
}

/// The main screen with invitations listed and alice's game against bob on
/// the board (alice to move), the board focused with F2 (the draft stays).
fn screen_with_a_game() -> App {
    let mut app = main_screen();
    server(
        &mut app,
        ServerMessage::GameList(GameList {
            seq: 4,
            games: vec![
                game(2, "さくら", None, &[], 272),
                game(5, "张伟", Some("carol"), &[0, 4], 50),
                game(6, "dave", None, &[], 31),
            ],
            has_more: false,
            next: None,
        }),
    );
    server(
        &mut app,
        ServerMessage::GameUpdate(GameUpdate {
            game: game(3, "alice", Some("bob"), &[], 60),
        }),
    );
    server(
        &mut app,
        ServerMessage::GameUpdate(GameUpdate {
            game: game(3, "alice", Some("bob"), &[4, 0, 2, 6], 42),
        }),
    );
    key(&mut app, KeyCode::F(2));
    key(&mut app, KeyCode::Right);
    app
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
