//! Whole-screen snapshots of the online pane with 10,000 online: the count
//! in its title, the rows around the selection, the "loading…" row while a
//! page comes, and what is being found on its bottom border, at every size
//! the other snapshots use (100×30, 80×24, 60×20 and 48×17: below 72 columns
//! there is no side column, and the client stops watching the list). The
//! app is driven by events only and drawn into ratatui's TestBackend.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chatroom_tui::event::AppEvent;
use crossterm::event::KeyCode;

use common::{among_10000, answer_users, key, render};

fn screen_at(w: u16, h: u16) -> String {
    let app = among_10000(w, h);
    let screen = render(&app);
    if w >= 72 {
        assert!(screen.contains("Online (10,000)"), "{screen}");
        assert!(screen.contains("user0005"), "{screen}");
    } else {
        assert!(!screen.contains("Online"), "{screen}");
    }
    screen
}

#[test]
fn online_pane_with_10000_online_at_100x30() {
    insta::assert_snapshot!(screen_at(100, 30));
}

#[test]
fn online_pane_with_10000_online_at_80x24() {
    insta::assert_snapshot!(screen_at(80, 24));
}

#[test]
fn online_pane_with_10000_online_at_60x20() {
    insta::assert_snapshot!(screen_at(60, 20));
}

#[test]
fn online_pane_with_10000_online_at_48x17() {
    insta::assert_snapshot!(screen_at(48, 17));
}

#[test]
fn online_pane_with_a_page_on_its_way_shows_a_loading_row() {
    let mut app = among_10000(80, 24);
    // End reads on to the end; the first page asked for has not come.
    key(&mut app, KeyCode::End);
    let screen = render(&app);
    assert!(screen.contains("loading…"), "{screen}");
    assert!(screen.contains("user0499"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn online_pane_finding_by_typing_at_80x24() {
    let mut app = among_10000(80, 24);
    key(&mut app, KeyCode::Char('/'));
    let mut asked = Vec::new();
    for c in "user99".chars() {
        asked.extend(app.update(AppEvent::Key(crossterm::event::KeyEvent::from(
            KeyCode::Char(c),
        ))));
    }
    // Only the page for what is typed now counts.
    answer_users(&mut app, asked);
    key(&mut app, KeyCode::Down);
    let screen = render(&app);
    assert!(screen.contains("find: user99"), "{screen}");
    assert!(screen.contains("user9901"), "{screen}");
    assert!(!screen.contains("user0005"), "{screen}");
    insta::assert_snapshot!(screen);
}

/// A find with no match says so in words that fit the pane's 24 columns at
/// 80x24 (its one row when the board takes the top of the column).
#[test]
fn online_pane_find_without_a_match_fits_at_80x24() {
    let mut app = among_10000(80, 24);
    key(&mut app, KeyCode::Char('/'));
    let mut asked = Vec::new();
    for c in "zzz".chars() {
        asked.extend(app.update(AppEvent::Key(crossterm::event::KeyEvent::from(
            KeyCode::Char(c),
        ))));
    }
    answer_users(&mut app, asked);
    let screen = render(&app);
    assert!(screen.contains("find: zzz"), "{screen}");
    assert!(screen.contains("No such name online."), "{screen}");
}
