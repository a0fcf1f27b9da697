//! App-level behaviour, driven only by events: no terminal, no socket.

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{
    ChatMessage, LeaveReason, LoginOk, MessageKind, OnlineUser, SayOk, ServerMessage, Target,
    UserInfo, UserJoined, UserLeft,
};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

use super::*;
use crate::net::{HistoryQuery, NetEvent};
use crate::ui::layout::{chat_regions, login_regions};

pub(super) fn key(code: KeyCode) -> AppEvent {
    AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub(super) fn with(code: KeyCode, modifiers: KeyModifiers) -> AppEvent {
    AppEvent::Key(KeyEvent::new(code, modifiers))
}

pub(super) fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(key(KeyCode::Char(c)));
    }
}

pub(super) fn click(x: u16, y: u16) -> AppEvent {
    AppEvent::Mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: x,
        row: y,
        modifiers: KeyModifiers::NONE,
    })
}

fn wheel(up: bool, x: u16, y: u16) -> AppEvent {
    AppEvent::Mouse(MouseEvent {
        kind: if up {
            MouseEventKind::ScrollUp
        } else {
            MouseEventKind::ScrollDown
        },
        column: x,
        row: y,
        modifiers: KeyModifiers::NONE,
    })
}

fn msg(id: i64, from: &str, text: &str) -> ChatMessage {
    ChatMessage {
        id,
        ts: 1_767_225_600_000 + id * 1000,
        kind: MessageKind::Message,
        from: from.into(),
        text: text.into(),
        to: Default::default(),
    }
}

pub(super) fn login_ok(name: &str, online: &[&str], recent: Vec<ChatMessage>) -> LoginOk {
    LoginOk {
        seq: 1,
        user: UserInfo {
            id: 1,
            name: name.into(),
        },
        token: "t".into(),
        token_expires: 0,
        online_count: online.len() as u64,
        online_next: None,
        online: online
            .iter()
            .map(|n| OnlineUser {
                name: (*n).into(),
                since: 0,
            })
            .collect(),
        recent,
    }
}

/// An app logged in as alice, 100×30, with bob online.
pub(super) fn logged_in() -> App {
    let mut app = App::new("h:1", "alice", Settings::default(), 0).with_client_id_prefix("t");
    app.update(AppEvent::Resize(100, 30));
    type_text(&mut app, "password1");
    app.update(key(KeyCode::Enter));
    app.update(AppEvent::Net(NetEvent::LoggedIn {
        ok: login_ok("alice", &["alice", "bob"], vec![msg(1, "bob", "hello")]),
        resumed: false,
    }));
    app
}

fn stored_ids(app: &App) -> Vec<i64> {
    app.chat()
        .unwrap()
        .log()
        .entries()
        .iter()
        .filter_map(|e| e.id)
        .collect()
}

#[test]
fn login_flow_submits_the_form_and_opens_the_main_screen() {
    let mut app = App::new("h:1", "alice", Settings::default(), 0);
    type_text(&mut app, "password1");
    let actions = app.update(key(KeyCode::Enter));
    assert_eq!(
        actions,
        vec![Action::Net(NetCommand::Login {
            server: "h:1".into(),
            name: "alice".into(),
            password: "password1".into(),
            register: false
        })]
    );
    let actions = app.update(AppEvent::Net(NetEvent::LoggedIn {
        ok: login_ok("alice", &["alice"], vec![msg(1, "bob", "hi")]),
        resumed: false,
    }));
    // The online pane is on screen (80×24): it watches the list.
    assert_eq!(
        actions,
        vec![
            Action::Remember {
                server: "h:1".into(),
                user: "alice".into()
            },
            Action::Net(NetCommand::Users(crate::net::UsersRequest::Watch {
                after: None,
                limit: super::online::WATCH_LIMIT,
            }))
        ]
    );
    let chat = app.chat().expect("main screen");
    assert_eq!(chat.me, "alice");
    assert_eq!(stored_ids(&app), vec![1]);
}

#[test]
fn unknown_user_then_one_key_registers() {
    let mut app = App::new("h:1", "newbie", Settings::default(), 0);
    type_text(&mut app, "password1");
    app.update(key(KeyCode::Enter));
    app.update(AppEvent::Net(NetEvent::LoginFailed {
        code: ErrorCode::UserNotFound,
        message: "no account".into(),
        attempts_left: None,
        closed: false,
    }));
    let actions = app.update(with(KeyCode::Char('r'), KeyModifiers::CONTROL));
    assert!(matches!(
        &actions[..],
        [Action::Net(NetCommand::Login { register: true, .. })]
    ));
}

#[test]
fn third_wrong_password_says_closed_and_enter_tries_again() {
    let mut app = App::new("h:1", "alice", Settings::default(), 0);
    for left in [2, 1, 0] {
        type_text(&mut app, "wrong-pass");
        app.update(key(KeyCode::Enter));
        app.update(AppEvent::Net(NetEvent::LoginFailed {
            code: ErrorCode::WrongPassword,
            message: "wrong".into(),
            attempts_left: Some(left),
            closed: left == 0,
        }));
    }
    let form = app.login().unwrap();
    assert!(
        matches!(&form.status, FormStatus::Error { message, .. } if message.contains("reconnect"))
    );
    type_text(&mut app, "right-pass");
    assert!(matches!(
        &app.update(key(KeyCode::Enter))[..],
        [Action::Net(NetCommand::Login { .. })]
    ));
}

#[test]
fn tab_cycles_focus_through_every_pane() {
    let mut app = logged_in();
    let mut seen = vec![app.chat().unwrap().focus];
    for _ in 0..6 {
        app.update(key(KeyCode::Tab));
        seen.push(app.chat().unwrap().focus);
    }
    assert_eq!(
        seen,
        vec![
            Focus::Input,
            Focus::Messages,
            Focus::Conversations,
            Focus::Users,
            Focus::Files,
            Focus::Invites,
            Focus::Input
        ]
    );
    app.update(with(KeyCode::BackTab, KeyModifiers::SHIFT));
    assert_eq!(app.chat().unwrap().focus, Focus::Invites);
    app.update(key(KeyCode::Esc));
    assert_eq!(app.chat().unwrap().focus, Focus::Input);
}

#[test]
fn enter_sends_with_a_fresh_client_id_and_shows_it_pending_until_acked() {
    let mut app = logged_in();
    type_text(&mut app, "hi bob");
    let actions = app.update(key(KeyCode::Enter));
    assert_eq!(
        actions,
        vec![Action::Net(NetCommand::Say {
            client_id: "t-1".into(),
            text: "hi bob".into()
        })]
    );
    assert_eq!(app.chat().unwrap().log().pending.len(), 1);
    assert!(app.chat().unwrap().compose.is_empty());
    app.update(AppEvent::Net(NetEvent::Server(ServerMessage::SayOk(
        SayOk {
            seq: 2,
            id: "t-1".into(),
            message_id: 2,
            ts: 5,
        },
    ))));
    assert!(app.chat().unwrap().log().pending.is_empty());
    assert_eq!(stored_ids(&app), vec![1, 2]);
}

#[test]
fn alt_enter_and_shift_enter_insert_newlines() {
    let mut app = logged_in();
    type_text(&mut app, "a");
    app.update(with(KeyCode::Enter, KeyModifiers::ALT));
    type_text(&mut app, "b");
    app.update(with(KeyCode::Enter, KeyModifiers::SHIFT));
    type_text(&mut app, "c");
    assert_eq!(app.chat().unwrap().compose.text(), "a\nb\nc");
}

#[test]
fn up_and_down_on_an_empty_input_recall_sent_messages() {
    let mut app = logged_in();
    for text in ["first", "second"] {
        type_text(&mut app, text);
        app.update(key(KeyCode::Enter));
    }
    app.update(key(KeyCode::Up));
    assert_eq!(app.chat().unwrap().compose.text(), "second");
    app.update(key(KeyCode::Up));
    assert_eq!(app.chat().unwrap().compose.text(), "first");
    app.update(key(KeyCode::Down));
    assert_eq!(app.chat().unwrap().compose.text(), "second");
}

#[test]
fn a_paste_is_one_message_and_a_long_one_asks_first() {
    let mut app = logged_in();
    app.update(AppEvent::Paste("one\ntwo\nthree".into()));
    let actions = app.update(key(KeyCode::Enter));
    assert_eq!(
        actions,
        vec![Action::Net(NetCommand::Say {
            client_id: "t-1".into(),
            text: "one\ntwo\nthree".into()
        })]
    );
    let long: Vec<String> = (1..=12).map(|i| format!("line {i}")).collect();
    app.update(AppEvent::Paste(long.join("\r\n")));
    assert!(
        app.update(key(KeyCode::Enter)).is_empty(),
        "asks before sending"
    );
    assert!(app.chat().unwrap().compose.confirm.is_some());
    app.update(key(KeyCode::Esc));
    assert!(app.chat().unwrap().compose.confirm.is_none());
    assert_eq!(
        app.chat().unwrap().compose.line_count(),
        12,
        "still there to edit"
    );
    app.update(key(KeyCode::Enter));
    let actions = app.update(key(KeyCode::Enter));
    assert!(
        matches!(&actions[..], [Action::Net(NetCommand::Say { text, .. })] if text == &long.join("\n"))
    );
}

#[test]
fn page_keys_and_the_wheel_scroll_and_new_messages_are_counted_below() {
    let mut app = logged_in();
    for id in 2..200 {
        app.update(AppEvent::Net(NetEvent::Server(ServerMessage::Message(
            msg(id, "bob", "line"),
        ))));
    }
    app.update(key(KeyCode::PageUp));
    let scrolled = app.chat().unwrap().log().scroll;
    assert!(scrolled > 0);
    app.update(AppEvent::Net(NetEvent::Server(ServerMessage::Message(
        msg(200, "bob", "new"),
    ))));
    assert_eq!(app.chat().unwrap().log().unseen_below, 1);
    let r = chat_regions(app.area, 1, 0, false);
    app.update(wheel(true, r.messages.x + 2, r.messages.y + 2));
    assert_eq!(app.chat().unwrap().log().scroll, scrolled + 3);
    app.update(key(KeyCode::PageDown));
    app.update(key(KeyCode::PageDown));
    app.update(key(KeyCode::PageDown));
    assert_eq!(
        (
            app.chat().unwrap().log().scroll,
            app.chat().unwrap().log().unseen_below
        ),
        (0, 0)
    );
}

#[test]
fn scrolling_to_the_top_asks_for_older_messages_once() {
    let mut app = logged_in();
    let r = chat_regions(app.area, 1, 0, false);
    let mut asked = Vec::new();
    for _ in 0..5 {
        asked.extend(app.update(wheel(true, r.messages.x + 1, r.messages.y + 1)));
    }
    assert_eq!(
        asked,
        vec![Action::Net(NetCommand::History(HistoryQuery::older(
            Target::Room,
            Some(1)
        )))]
    );
}

#[test]
fn reconnect_keeps_every_message_once_and_in_order() {
    let mut app = logged_in();
    app.update(AppEvent::Net(NetEvent::Server(ServerMessage::Message(
        msg(2, "bob", "two"),
    ))));
    app.update(AppEvent::Net(NetEvent::Disconnected {
        reason: "reset".into(),
        retry_in: std::time::Duration::from_millis(500),
        attempt: 1,
    }));
    assert_eq!(app.chat().unwrap().connection, Connection::Reconnecting(1));
    app.update(AppEvent::Net(NetEvent::LoggedIn {
        ok: login_ok(
            "alice",
            &["alice", "bob"],
            vec![msg(2, "bob", "two"), msg(5, "bob", "five")],
        ),
        resumed: true,
    }));
    assert_eq!(app.chat().unwrap().connection, Connection::Online);
    // A live message, then the gap fill with overlap.
    app.update(AppEvent::Net(NetEvent::Server(ServerMessage::Message(
        msg(6, "bob", "six"),
    ))));
    app.update(AppEvent::Net(NetEvent::Missed(vec![
        msg(3, "bob", "3"),
        msg(4, "bob", "4"),
        msg(5, "bob", "5"),
    ])));
    assert_eq!(stored_ids(&app), vec![1, 2, 3, 4, 5, 6]);
    let notices: Vec<_> = app
        .chat()
        .unwrap()
        .log()
        .entries()
        .iter()
        .filter(|e| e.kind == entry::EntryKind::Notice)
        .map(|e| e.text.clone())
        .collect();
    assert!(notices.iter().any(|n| n.starts_with("Connection lost")));
    assert!(notices.iter().any(|n| n == "Reconnected."));
}

#[test]
fn joins_and_leaves_update_the_online_list_and_the_messages() {
    let mut app = logged_in();
    app.update(AppEvent::Net(NetEvent::Server(ServerMessage::UserJoined(
        UserJoined {
            name: "carol".into(),
            ts: 1,
        },
    ))));
    assert_eq!(app.chat().unwrap().online.list.len(), 3);
    assert_eq!(app.chat().unwrap().online.count(), 3);
    app.update(AppEvent::Net(NetEvent::Server(ServerMessage::UserLeft(
        UserLeft {
            name: "bob".into(),
            reason: LeaveReason::Quit,
            ts: 2,
        },
    ))));
    let chat = app.chat().unwrap();
    assert_eq!(chat.online.names().collect::<Vec<_>>(), ["alice", "carol"]);
    assert_eq!(chat.online.count(), 2);
    assert!(
        matches!(&chat.log().entries()[chat.log().entries().len() - 2].kind, entry::EntryKind::Joined(n) if n == "carol")
    );
    assert!(
        matches!(&chat.log().entries()[chat.log().entries().len() - 1].kind, entry::EntryKind::Left(n, _) if n == "bob")
    );
}

#[test]
fn a_mention_rings_the_bell_unless_turned_off() {
    let mut app = logged_in();
    let ev = AppEvent::Net(NetEvent::Server(ServerMessage::Message(msg(
        2,
        "bob",
        "alice: look",
    ))));
    assert_eq!(app.update(ev), vec![Action::Bell]);
    app.settings.bell_on_mention = false;
    let ev = AppEvent::Net(NetEvent::Server(ServerMessage::Message(msg(
        3,
        "bob",
        "alice again",
    ))));
    assert!(app.update(ev).is_empty());
}

#[test]
fn clicks_focus_form_fields_and_select_side_items() {
    let mut app = App::new("h:1", "alice", Settings::default(), 0);
    app.update(AppEvent::Resize(100, 30));
    let r = login_regions(app.area, 2);
    app.update(click(r.server.x + 2, r.server.y + 1));
    assert_eq!(app.login().unwrap().focus, LoginField::Server);
    app.update(click(r.password.x + 2, r.password.y + 1));
    type_text(&mut app, "password1");
    let actions = app.update(click(r.register.x + 1, r.register.y + 1));
    assert!(matches!(
        &actions[..],
        [Action::Net(NetCommand::Login { register: true, .. })]
    ));

    let mut app = logged_in();
    let r = chat_regions(app.area, 1, 0, false);
    let users = r.users.unwrap();
    app.update(click(users.x + 2, users.y + 2));
    let chat = app.chat().unwrap();
    assert_eq!((chat.focus, chat.online.list.selected), (Focus::Users, 1));
    app.update(click(r.input.x + 2, r.input.y + 1));
    assert_eq!(app.chat().unwrap().focus, Focus::Input);
}

#[test]
fn help_opens_with_f1_and_closes_with_esc_and_ctrl_q_quits() {
    let mut app = logged_in();
    app.update(key(KeyCode::F(1)));
    assert!(app.help_open);
    app.update(key(KeyCode::Esc));
    assert!(!app.help_open);
    let actions = app.update(with(KeyCode::Char('q'), KeyModifiers::CONTROL));
    assert_eq!(actions, vec![Action::Net(NetCommand::Quit), Action::Quit]);
}

#[test]
fn slash_commands_run_and_unknown_ones_are_explained() {
    let mut app = logged_in();
    type_text(&mut app, "/help");
    app.update(key(KeyCode::Enter));
    assert!(app.help_open);
    app.update(key(KeyCode::Esc));
    type_text(&mut app, "/dance");
    assert!(app.update(key(KeyCode::Enter)).is_empty());
    let last = app.chat().unwrap().log().entries().last().unwrap();
    assert!(last.text.contains("Unknown command /dance"));
    type_text(&mut app, "//etc/passwd is a path");
    let actions = app.update(key(KeyCode::Enter));
    assert!(
        matches!(&actions[..], [Action::Net(NetCommand::Say { text, .. })] if text == "/etc/passwd is a path")
    );
}

#[test]
fn help_scrolls_on_a_short_screen() {
    let mut app = logged_in();
    app.update(AppEvent::Resize(100, 24));
    app.update(key(KeyCode::F(1)));
    for _ in 0..100 {
        app.update(key(KeyCode::Down));
    }
    let rect = crate::ui::help::overlay_rect(app.area);
    assert_eq!(rect.height, 24 - 2);
    assert_eq!(app.help_scroll, crate::ui::help::max_scroll(rect));
    assert!(app.help_scroll > 0);
    for _ in 0..3 {
        app.update(key(KeyCode::PageUp));
    }
    assert_eq!(app.help_scroll, 0);
}

#[test]
fn two_runs_in_one_process_never_share_a_message_id() {
    // Same process id, as a client restarted in a container (PID 1 each time).
    let mut first = App::new("", "", Settings::default(), 0);
    let mut second = App::new("", "", Settings::default(), 0);
    let (a, b) = (first.new_client_id(), second.new_client_id());
    assert_ne!(a, b);
    assert_ne!(first.new_client_id(), a, "ids of one run differ too");
    // Within the protocol's 1 to 64 bytes.
    assert!(chatroom_shared::rules::validate_client_id(&a), "{a}");
    assert!(a.len() <= 64, "{a}");
}

fn joined(name: &str, ts: i64) -> AppEvent {
    AppEvent::Net(NetEvent::Server(ServerMessage::UserJoined(UserJoined {
        name: name.into(),
        ts,
    })))
}

fn join_notices(app: &App) -> Vec<String> {
    app.chat()
        .unwrap()
        .log()
        .entries()
        .iter()
        .filter_map(|e| match &e.kind {
            entry::EntryKind::Joined(n) => Some(n.clone()),
            _ => None,
        })
        .collect()
}

/// alice, with bob online, at time 1 s: the server restarts, her connection
/// drops and she resumes first (bob is not back yet).
fn resumed_before_bob() -> App {
    let mut app = logged_in();
    app.update(AppEvent::Tick(1_000));
    app.update(AppEvent::Net(NetEvent::Disconnected {
        reason: "the server closed the connection".into(),
        retry_in: std::time::Duration::from_millis(300),
        attempt: 1,
    }));
    app.update(AppEvent::Net(NetEvent::LoggedIn {
        ok: login_ok("alice", &["alice"], Vec::new()),
        resumed: true,
    }));
    app
}

#[test]
fn someone_back_after_a_server_restart_is_not_announced_as_joining_again() {
    let mut app = resumed_before_bob();
    // bob, online before, comes back: no "[bob] joined" a second time, with
    // no "left" between; carol, new, is announced.
    app.update(joined("bob", 2_000));
    app.update(joined("carol", 2_100));
    assert_eq!(join_notices(&app), ["carol"]);
    let online: Vec<_> = app.chat().unwrap().online.names().collect();
    assert_eq!(online, ["alice", "bob", "carol"]);
    // Once back, leaving and joining again is news.
    app.update(AppEvent::Net(NetEvent::Server(ServerMessage::UserLeft(
        UserLeft {
            name: "bob".into(),
            reason: LeaveReason::Quit,
            ts: 3_000,
        },
    ))));
    app.update(joined("bob", 3_100));
    assert_eq!(join_notices(&app), ["carol", "bob"]);
}

#[test]
fn someone_who_comes_back_long_after_a_reconnect_is_announced() {
    let mut app = resumed_before_bob();
    // bob did not come back with the others: much later, he joins anew.
    app.update(AppEvent::Tick(1_000 + 10 * 60 * 1000));
    app.update(joined("bob", 1_000 + 10 * 60 * 1000));
    assert_eq!(join_notices(&app), ["bob"]);
}

#[test]
fn a_session_ended_by_the_server_goes_back_to_the_login_form() {
    let mut app = logged_in();
    app.update(AppEvent::Net(NetEvent::Ended {
        reason: "The administrator disconnected you (spam).".into(),
    }));
    let form = app.login().expect("the login form again");
    assert_eq!(
        (form.server_value(), form.user_value()),
        ("h:1".into(), "alice".into())
    );
    assert!(matches!(
        &form.status,
        login::FormStatus::Error { message, .. }
            if message == "The administrator disconnected you (spam). Log in again, or press Ctrl-Q to leave."
    ));
}

#[test]
fn a_server_shutdown_is_one_sentence() {
    let mut app = logged_in();
    app.update(AppEvent::Net(NetEvent::Server(
        ServerMessage::ServerShutdown(chatroom_shared::message::ServerShutdown {
            message: "the server is shutting down".into(),
        }),
    )));
    app.update(AppEvent::Net(NetEvent::Disconnected {
        reason: "the server is shutting down".into(),
        retry_in: std::time::Duration::from_millis(300),
        attempt: 1,
    }));
    let notices: Vec<String> = app
        .chat()
        .unwrap()
        .log()
        .entries()
        .iter()
        .filter(|e| e.kind == entry::EntryKind::Notice)
        .map(|e| e.text.clone())
        .collect();
    assert_eq!(
        notices[notices.len() - 2..],
        [
            "The server is shutting down; this client reconnects by itself.",
            "Connection lost (the server is shutting down). Reconnecting in 0.3 s…"
        ]
    );
}

#[test]
fn a_message_over_the_limit_is_refused_the_same_typed_or_pasted() {
    let expected = "Not sent: the message has 5000 bytes; at most 4096 are allowed. \
                    Shorten it and press Enter again.";
    let long = "x".repeat(5000);
    for pasted in [false, true] {
        let mut app = logged_in();
        if pasted {
            app.update(AppEvent::Paste(long.clone()));
        } else {
            type_text(&mut app, &long);
        }
        let actions = app.update(key(KeyCode::Enter));
        assert!(actions.is_empty(), "nothing goes out: {actions:?}");
        let chat = app.chat().unwrap();
        let last = chat.log().entries().last().unwrap();
        assert_eq!(
            (last.kind.clone(), last.text.as_str()),
            (entry::EntryKind::Notice, expected),
            "pasted: {pasted}"
        );
        assert_eq!(
            chat.compose.text().len(),
            5000,
            "the text stays to be shortened"
        );
    }
}
