//! A busy room: the message list keeps a window of the newest entries, and
//! scrolling past its top asks the server for what was dropped, which then
//! shows once and in order.

use chatroom_shared::message::{ChatMessage, HistoryPage, MessageKind, ServerMessage, Target};
use crossterm::event::KeyCode;

use super::log::WINDOW;
use super::tests::{key, logged_in};
use super::*;
use crate::net::{HistoryQuery, NetEvent};

fn msg(id: i64) -> ChatMessage {
    ChatMessage {
        id,
        ts: 1_767_225_600_000 + id,
        kind: MessageKind::Message,
        from: "bob".into(),
        text: format!("line {id}"),
        to: Target::Room,
    }
}

fn stored_ids(app: &App) -> Vec<i64> {
    let log = app.chat().unwrap().log();
    log.entries().iter().filter_map(|e| e.id).collect()
}

#[test]
fn a_busy_room_keeps_a_window_and_scrolling_past_it_asks_for_older_history() {
    let mut app = logged_in();
    for id in 2..=20_001 {
        app.update(AppEvent::Net(NetEvent::Server(ServerMessage::Message(
            msg(id),
        ))));
    }
    let log = app.chat().unwrap().log();
    assert!(
        log.entries().len() <= WINDOW + WINDOW / 8,
        "{}",
        log.entries().len()
    );
    assert!(!log.history_complete);
    let first = log.first_id().unwrap();
    assert!(first > 2, "the oldest were dropped");
    assert!(stored_ids(&app) == (first..=20_001).collect::<Vec<_>>());

    let mut asked = Vec::new();
    for _ in 0..5_000 {
        asked = app.update(key(KeyCode::PageUp));
        if !asked.is_empty() {
            break;
        }
    }
    let query = HistoryQuery::older(Target::Room, Some(first));
    assert_eq!(asked, vec![Action::Net(NetCommand::History(query.clone()))]);

    // The page up to the window's top; a stale copy of a message inside the
    // window too (pages may overlap) and a redelivery from long before.
    let mut messages: Vec<_> = (first - 50..first).map(msg).collect();
    messages.push(msg(first));
    app.update(AppEvent::Net(NetEvent::Server(ServerMessage::Message(
        msg(first - 500),
    ))));
    app.update(AppEvent::Net(NetEvent::History {
        query,
        page: Ok(HistoryPage {
            seq: 0,
            messages,
            has_more: true,
        }),
    }));
    let ids = stored_ids(&app);
    assert!(
        ids == (first - 50..=20_001).collect::<Vec<_>>(),
        "each message once, in order, nothing from before the page: {:?}…",
        &ids[..ids.len().min(5)]
    );
    assert!(
        app.chat().unwrap().log().scroll > 0,
        "still reading up there"
    );
}

#[test]
fn keys_and_frames_do_not_depend_on_what_was_dropped() {
    let mut app = logged_in();
    for id in 2..=12_000 {
        app.update(AppEvent::Net(NetEvent::Server(ServerMessage::Message(
            msg(id),
        ))));
    }
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 30)).unwrap();
    terminal.draw(|f| crate::ui::draw(f, &app)).unwrap();
    let screen = format!("{:?}", terminal.backend().buffer());
    assert!(screen.contains("line 12000"), "the newest is on screen");
    app.update(key(KeyCode::PageUp));
    terminal.draw(|f| crate::ui::draw(f, &app)).unwrap();
    let screen = format!("{:?}", terminal.backend().buffer());
    let scroll = app.chat().unwrap().log().scroll;
    assert!(scroll > 0);
    assert!(!screen.contains("line 12000"), "scrolled up a page");
    // One line a message: the bottom row is `scroll` messages up.
    let bottom = format!("line {}", 12_000 - scroll);
    assert!(screen.contains(&bottom), "{bottom}: {screen}");
}

fn room(app: &mut App, ids: std::ops::RangeInclusive<i64>) {
    for id in ids {
        app.update(AppEvent::Net(NetEvent::Server(ServerMessage::Message(
            msg(id),
        ))));
    }
}

/// PageUp until the app asks for something (at most `n` times).
fn page_up_until_asked(app: &mut App, n: usize) -> Vec<Action> {
    for _ in 0..n {
        let asked = app.update(key(KeyCode::PageUp));
        if !asked.is_empty() {
            return asked;
        }
    }
    Vec::new()
}

#[test]
fn a_page_asked_for_before_the_window_moved_on_is_not_shown() {
    let mut app = logged_in();
    room(&mut app, 2..=20_001);
    let first = app.chat().unwrap().log().first_id().unwrap();
    let stale = HistoryQuery::older(Target::Room, Some(first));
    let asked = page_up_until_asked(&mut app, 5_000);
    assert_eq!(asked, vec![Action::Net(NetCommand::History(stale.clone()))]);
    // Back to the bottom; the room goes on and the window drops its oldest
    // before the page comes.
    while app.chat().unwrap().log().scroll > 0 {
        app.update(key(KeyCode::PageDown));
    }
    room(&mut app, 20_002..=21_001);
    let moved = app.chat().unwrap().log().first_id().unwrap();
    assert!(moved > first);
    let before = stored_ids(&app);
    app.update(AppEvent::Net(NetEvent::History {
        query: stale,
        page: Ok(HistoryPage {
            seq: 0,
            messages: (first - 50..first).map(msg).collect(),
            has_more: false,
        }),
    }));
    assert!(stored_ids(&app) == before, "nothing shown above a gap");
    assert!(!app.chat().unwrap().log().history_complete);
    let asked = page_up_until_asked(&mut app, 5_000);
    let query = HistoryQuery::older(Target::Room, Some(moved));
    assert_eq!(asked, vec![Action::Net(NetCommand::History(query))]);
}
