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
