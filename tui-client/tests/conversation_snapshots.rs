//! Whole-screen snapshots of conversations: the conversations pane with
//! unread counts and a join request, a group conversation on screen, and
//! search results. The app is driven by events only and drawn into ratatui's
//! TestBackend; times are fixed and the clock is UTC.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chatroom_shared::message::{
    ChatMessage, GroupChange, GroupInfo, GroupList, GroupStatus, GroupUpdate, HistoryPage, LoginOk,
    Membership, MessageKind, OnlineUser, ServerMessage, Target, UserInfo,
};
use chatroom_tui::app::{App, Settings};
use chatroom_tui::event::AppEvent;
use chatroom_tui::net::{HistoryQuery, NetEvent};
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

fn press(app: &mut App, code: KeyCode, modifiers: KeyModifiers) {
    app.update(AppEvent::Key(KeyEvent::new(code, modifiers)));
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c), KeyModifiers::NONE);
    }
}

fn server(app: &mut App, msg: ServerMessage) {
    app.update(AppEvent::Net(NetEvent::Server(msg)));
}

fn group(name: &str) -> Target {
    Target::Group { group: name.into() }
}

fn dm(user: &str) -> Target {
    Target::User { user: user.into() }
}

fn msg(id: i64, minute: i64, from: &str, to: Target, text: &str) -> ChatMessage {
    ChatMessage {
        id,
        ts: T0 + minute * 60_000,
        kind: MessageKind::Message,
        from: from.into(),
        text: text.into(),
        to,
    }
}

fn info(name: &str, creator: &str, private: bool, comment: Option<&str>) -> GroupInfo {
    GroupInfo {
        id: 1,
        name: name.into(),
        creator: creator.into(),
        private,
        comment: comment.map(str::to_owned),
        created: T0,
        status: GroupStatus::Open,
        me: Membership::Member,
        members: 3,
    }
}

/// alice, logged in on a 110×30 screen, member of #team (hers, private),
/// #rust (public) and the closed #old; bob wrote to her directly, dave asks
/// to join #team, and messages wait in every conversation but the room.
fn alice_with_conversations() -> App {
    let mut app =
        App::new("chat.example:44302", "alice", Settings::default(), 0).with_client_id_prefix("s");
    app.update(AppEvent::Resize(110, 30));
    app.update(AppEvent::Tick(T0));
    type_text(&mut app, "password1");
    press(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    let online: Vec<OnlineUser> = ["alice", "bob", "carol"]
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
            recent: vec![msg(1, 0, "carol", Target::Room, "morning all")],
        },
        resumed: false,
    }));
    let mut old = info("old", "carol", false, None);
    old.status = GroupStatus::Closed;
    server(
        &mut app,
        ServerMessage::GroupList(GroupList {
            seq: 3,
            groups: vec![
                info("team", "alice", true, Some("release planning")),
                info("rust", "carol", false, None),
                old,
            ],
            has_more: false,
            next: None,
        }),
    );
    server(
        &mut app,
        ServerMessage::GroupUpdate(GroupUpdate {
            group: info("team", "alice", true, Some("release planning")),
            change: GroupChange::Requested,
            user: Some("dave".into()),
        }),
    );
    let live = [
        msg(2, 1, "bob", group("team"), "the build is green again"),
        msg(3, 2, "carol", group("team"), "shall we cut 1.4 today?"),
        msg(4, 3, "bob", group("team"), "alice, your call"),
        msg(5, 4, "carol", group("rust"), "borrowck finally happy"),
        msg(6, 5, "bob", dm("alice"), "lunch at noon?"),
        msg(7, 6, "bob", dm("alice"), "the usual place"),
    ];
    for m in live {
        server(&mut app, ServerMessage::Message(m));
    }
    app
}

#[test]
fn conversations_pane_with_unread_counts_and_a_join_request() {
    let mut app = alice_with_conversations();
    // Tab to the pane (input, messages, conversations), down to the request.
    for _ in 0..2 {
        press(&mut app, KeyCode::Tab, KeyModifiers::NONE);
    }
    for _ in 0..5 {
        press(&mut app, KeyCode::Down, KeyModifiers::NONE);
    }
    insta::assert_snapshot!(render(&app));
}

#[test]
fn a_group_conversation_on_screen() {
    let mut app = alice_with_conversations();
    // Alt-↓: the next conversation after the room, #team.
    press(&mut app, KeyCode::Down, KeyModifiers::ALT);
    app.update(AppEvent::Net(NetEvent::History {
        query: HistoryQuery::older(group("team"), None),
        page: Ok(HistoryPage {
            seq: 4,
            messages: vec![msg(
                1,
                -30,
                "carol",
                group("team"),
                "welcome to the release group",
            )],
            has_more: false,
        }),
    }));
    server(
        &mut app,
        ServerMessage::GroupUpdate(GroupUpdate {
            group: info("team", "alice", true, Some("release planning")),
            change: GroupChange::Joined,
            user: Some("erin".into()),
        }),
    );
    type_text(&mut app, "yes, cutting it now");
    press(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    type_text(&mut app, "/members");
    insta::assert_snapshot!(render(&app));
}

#[test]
fn search_results_over_the_main_screen() {
    let mut app = alice_with_conversations();
    type_text(&mut app, "/search release");
    press(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    server(
        &mut app,
        ServerMessage::SearchResults(chatroom_shared::message::SearchResults {
            seq: 5,
            messages: vec![
                msg(8, 20, "bob", group("team"), "release notes are in the wiki"),
                msg(
                    7,
                    -1440,
                    "carol",
                    Target::Room,
                    "who owns the release\nchecklist this time?",
                ),
                msg(6, -2000, "alice", dm("bob"), "release day lunch is on me"),
            ],
            has_more: true,
        }),
    );
    press(&mut app, KeyCode::Down, KeyModifiers::NONE);
    insta::assert_snapshot!(render(&app));
}

#[test]
fn a_closed_group_reads_on_and_its_input_says_it_is_read_only() {
    let mut app = alice_with_conversations();
    // Alt-↓ three times: #team, #rust, then the closed #old.
    for _ in 0..3 {
        press(&mut app, KeyCode::Down, KeyModifiers::ALT);
    }
    app.update(AppEvent::Net(NetEvent::History {
        query: HistoryQuery::older(group("old"), None),
        page: Ok(HistoryPage {
            seq: 4,
            messages: vec![msg(1, -30, "carol", group("old"), "the last word in #old")],
            has_more: false,
        }),
    }));
    let screen = render(&app);
    assert!(screen.contains("the last word in #old"), "{screen}");
    assert!(
        screen.contains("#old is closed: its history stays readable"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}
