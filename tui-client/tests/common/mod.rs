//! Fixtures shared by the whole-screen tests: an app driven by events only
//! (fixed times, UTC), the main screen with messages in several scripts, a
//! game on the board, a room of 10,000 online, and rendering into ratatui's
//! TestBackend.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use chatroom_shared::message::{
    Announcement, ChatMessage, FileInfo, GameList, GameStatus, GameUpdate, GameView, LeaveReason,
    LoginOk, MessageKind, OnlineUser, ServerMessage, UserInfo, UserJoined, UserLeft, UserList,
};
use chatroom_shared::tictactoe::TicTacToe;
use chatroom_tui::app::{Action, App, Focus, Settings};
use chatroom_tui::event::AppEvent;
use chatroom_tui::net::{NetCommand, NetEvent, UsersRequest};
use chatroom_tui::ui;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// 2026-01-01 09:00 UTC.
pub const T0: i64 = 1_767_258_000_000;

pub fn render(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(app.area.width, app.area.height)).unwrap();
    terminal.draw(|f| ui::draw(f, app)).unwrap();
    format!("{}", terminal.backend())
}

pub fn key(app: &mut App, code: KeyCode) {
    app.update(AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

pub fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

pub fn new_app(w: u16, h: u16) -> App {
    let mut app =
        App::new("chat.example:44302", "alice", Settings::default(), 0).with_client_id_prefix("s");
    app.update(AppEvent::Resize(w, h));
    app.update(AppEvent::Tick(T0));
    app
}

pub fn msg(id: i64, minute: i64, from: &str, text: &str) -> ChatMessage {
    ChatMessage {
        id,
        ts: T0 + minute * 60_000,
        kind: MessageKind::Message,
        from: from.into(),
        text: text.into(),
        to: Default::default(),
    }
}

pub fn main_screen() -> App {
    let mut app = new_app(100, 28);
    type_text(&mut app, "password1");
    key(&mut app, KeyCode::Enter);
    let online: Vec<OnlineUser> = ["alice", "bob", "张伟", "さくら"]
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
            online_count: online.len() as u64,
            online,
            online_next: None,
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

pub fn shared_file(id: i64, minute: i64, name: &str, size: u64, uploader: &str) -> FileInfo {
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

/// Game `id`: `x` invites (open, `o` None) or plays `o` after `moves`.
pub fn game(id: i64, x: &str, o: Option<&str>, moves: &[u8], secs_left: i64) -> GameView {
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

pub fn server(app: &mut App, msg: ServerMessage) {
    app.update(AppEvent::Net(NetEvent::Server(msg)));
}

/// The main screen with invitations listed and alice's game against bob on
/// the board (alice to move), the board focused with F2 (the draft stays).
pub fn screen_with_a_game() -> App {
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

/// alice and user0001 … user9999, by name.
pub fn everyone() -> Vec<String> {
    let mut names: Vec<String> = (1..10_000).map(|i| format!("user{i:04}")).collect();
    names.push("alice".into());
    names.sort();
    names
}

/// The server's page of `users` / `watch_users` in a room of 10,000.
pub fn online_page(after: Option<&str>, prefix: Option<&str>, limit: u32) -> UserList {
    let names = everyone();
    let matching: Vec<&String> = names
        .iter()
        .filter(|n| after.is_none_or(|a| n.as_str() > a))
        .filter(|n| prefix.is_none_or(|p| n.starts_with(p)))
        .collect();
    let users: Vec<OnlineUser> = matching
        .iter()
        .take(limit as usize)
        .map(|n| OnlineUser {
            name: (*n).clone(),
            since: T0,
        })
        .collect();
    let has_more = matching.len() > users.len();
    UserList {
        seq: 5,
        next: has_more.then(|| users.last().unwrap().name.clone()),
        users,
        has_more,
        online_count: 10_000,
    }
}

/// Answer the pages the app asked for in `actions` (not those it asks for
/// after them: a test that wants a page on its way stops there).
pub fn answer_users(app: &mut App, actions: Vec<Action>) {
    for action in actions {
        let Action::Net(NetCommand::Users(request)) = action else {
            continue;
        };
        let list = match &request {
            UsersRequest::Page {
                after,
                prefix,
                limit,
            } => online_page(after.as_deref(), prefix.as_deref(), *limit),
            UsersRequest::Watch { after, limit } => online_page(after.as_deref(), None, *limit),
            UsersRequest::Unwatch => continue,
        };
        app.update(AppEvent::Net(NetEvent::Users {
            request,
            page: Ok(list),
        }));
    }
}

/// alice logged in at `w`×`h` among 10,000, a few lines in the room, the
/// online pane focused with the sixth user selected.
pub fn among_10000(w: u16, h: u16) -> App {
    let mut app = new_app(w, h);
    type_text(&mut app, "password1");
    key(&mut app, KeyCode::Enter);
    let first = online_page(None, None, 100);
    let actions = app.update(AppEvent::Net(NetEvent::LoggedIn {
        ok: LoginOk {
            seq: 2,
            user: UserInfo {
                id: 1,
                name: "alice".into(),
            },
            token: "t".into(),
            token_expires: 0,
            online: first.users,
            online_count: 10_000,
            online_next: first.next,
            recent: vec![
                msg(1, 0, "user0042", "so many of us today"),
                msg(2, 1, "user9001", "hello from the end of the list"),
            ],
        },
        resumed: false,
    }));
    answer_users(&mut app, actions);
    while app.chat().unwrap().focus != Focus::Users {
        let on_screen = app.update(AppEvent::Key(crossterm::event::KeyEvent::from(
            KeyCode::Tab,
        )));
        answer_users(&mut app, on_screen);
        if app.chat().unwrap().focus == Focus::Input {
            // No online pane at this size.
            break;
        }
    }
    for _ in 0..5 {
        key(&mut app, KeyCode::Down);
    }
    app
}
