//! Where keys go, driven only by events: Tab visits only the panes on
//! screen, a pane that leaves the screen gives the focus back to the input,
//! and a Tab in a draft never moves the focus away unseen.

use crossterm::event::{KeyCode, KeyModifiers};

use super::tests::{key, logged_in, type_text, with};
use super::*;

#[test]
fn tab_visits_only_the_panes_on_screen() {
    // 60 columns: no side column, so Tab goes between the input and the
    // messages only.
    let mut app = logged_in();
    app.update(AppEvent::Resize(60, 20));
    let mut seen = Vec::new();
    for _ in 0..3 {
        app.update(key(KeyCode::Tab));
        seen.push(app.chat().unwrap().focus);
    }
    assert_eq!(seen, [Focus::Messages, Focus::Input, Focus::Messages]);
    app.update(with(KeyCode::BackTab, KeyModifiers::SHIFT));
    assert_eq!(app.chat().unwrap().focus, Focus::Input);
    app.update(with(KeyCode::BackTab, KeyModifiers::SHIFT));
    assert_eq!(app.chat().unwrap().focus, Focus::Messages);
}

#[test]
fn a_pane_that_leaves_the_screen_takes_the_focus_back_to_the_input() {
    let mut app = logged_in();
    for _ in 0..4 {
        app.update(key(KeyCode::Tab));
    }
    assert_eq!(app.chat().unwrap().focus, Focus::Files);
    app.update(AppEvent::Resize(60, 20));
    assert_eq!(app.chat().unwrap().focus, Focus::Input);
    type_text(&mut app, "x");
    assert_eq!(app.chat().unwrap().compose.text(), "x");
}

#[test]
fn tab_in_a_draft_completes_or_stays_and_keys_go_where_the_focus_shows() {
    let mut app = logged_in();
    // Nothing completes "/s" (/search and /stats): the focus stays in the
    // input, so Backspace and letters edit the draft as the user sees it.
    type_text(&mut app, "/s");
    app.update(key(KeyCode::Tab));
    assert_eq!(app.chat().unwrap().focus, Focus::Input);
    assert!(app.chat().unwrap().tab_found_nothing);
    app.update(key(KeyCode::Backspace));
    app.update(key(KeyCode::Backspace));
    assert!(!app.chat().unwrap().tab_found_nothing);
    type_text(&mut app, "/sta");
    app.update(key(KeyCode::Tab));
    assert_eq!(app.chat().unwrap().compose.text(), "/stats ");
    // In a pane, Backspace goes to the input with the focus, as letters do.
    app.update(with(KeyCode::BackTab, KeyModifiers::SHIFT));
    assert_ne!(app.chat().unwrap().focus, Focus::Input);
    app.update(key(KeyCode::Backspace));
    assert_eq!(app.chat().unwrap().focus, Focus::Input);
    assert_eq!(app.chat().unwrap().compose.text(), "/stats");
    // An empty input: Tab goes to the next pane.
    for _ in 0..6 {
        app.update(key(KeyCode::Backspace));
    }
    app.update(key(KeyCode::Tab));
    assert_eq!(app.chat().unwrap().focus, Focus::Messages);
}
