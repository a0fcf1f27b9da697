//! Groups in the app, driven only by events: join requests decided from the
//! conversations pane by key and click, switching conversations from the
//! pane, group events and replies as notices, `/groups`, history per
//! conversation (first page, scrollback, catch-up after a reconnect), and
//! search results with the jump into a conversation's history.

use chatroom_shared::message::{
    ChatMessage, GroupChange, GroupList, GroupState, GroupStatus, GroupUpdate, HistoryPage,
    MemberList, Membership, SearchResults, ServerMessage, Target,
};
use crossterm::event::KeyCode;

use super::conversations::Row;
use super::conversations_tests::{
    alice_in_team, alt, dm, group_req, history, ids, info, live, msg, shown, team, unread,
};
use super::games_tests::{chat, command, last_notice, server};
use super::tests::{click, key, logged_in};
use super::*;
use crate::net::{GroupRequest, HistoryQuery, NetEvent};
use crate::ui::conversations::request_button_at;
use crate::ui::layout::for_chat;

#[test]
fn approve_from_the_room_finds_the_one_group_asked_for() {
    let mut app = alice_in_team();
    assert!(command(&mut app, "/approve bob").is_empty());
    assert!(last_notice(&app).contains("has not asked"));
    server(
        &mut app,
        ServerMessage::GroupUpdate(GroupUpdate {
            group: info("team", "alice", true, Membership::Member),
            change: GroupChange::Requested,
            user: Some("bob".into()),
        }),
    );
    assert_eq!(
        command(&mut app, "/approve bob"),
        group_req(GroupRequest::Approve {
            group: "team".into(),
            user: "bob".into()
        })
    );
    assert!(chat(&app).convs.requests.is_empty());
}

#[test]
fn a_join_request_on_a_narrow_screen_is_answered_by_command() {
    let mut app = alice_in_team();
    app.update(AppEvent::Resize(60, 20));
    server(
        &mut app,
        ServerMessage::GroupUpdate(GroupUpdate {
            group: info("team", "alice", true, Membership::Member),
            change: GroupChange::Requested,
            user: Some("bob".into()),
        }),
    );
    let notices = &chat(&app).convs.get(&team()).unwrap().log.entries();
    let text = &notices.last().unwrap().text;
    assert!(
        text.contains("/approve bob") && !text.contains("pane"),
        "{text}"
    );
}

#[test]
fn a_join_request_is_listed_and_decided_from_the_pane_by_key_and_click() {
    let mut app = alice_in_team();
    for user in ["bob", "carol"] {
        server(
            &mut app,
            ServerMessage::GroupUpdate(GroupUpdate {
                group: info("team", "alice", true, Membership::Member),
                change: GroupChange::Requested,
                user: Some(user.into()),
            }),
        );
    }
    let notices = &chat(&app).convs.get(&team()).unwrap().log.entries();
    assert!(
        notices[0]
            .text
            .starts_with("bob asks to join #team: a approves")
    );
    // Tab to the pane (input, messages, conversations); the rows are the
    // room, #team, then the two requests.
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Tab));
    assert_eq!(chat(&app).focus, Focus::Conversations);
    for _ in 0..2 {
        app.update(key(KeyCode::Down));
    }
    assert_eq!(chat(&app).convs.selected_row(), Some(Row::Request(0)));
    assert_eq!(
        app.update(key(KeyCode::Char('a'))),
        group_req(GroupRequest::Approve {
            group: "team".into(),
            user: "bob".into()
        })
    );
    // carol's request is now the third row: its ✗ rejects with a click.
    let pane = for_chat(app.area, chat(&app)).conversations.unwrap();
    let x = (pane.x..pane.right())
        .find(|&x| request_button_at(pane, x) == Some(false))
        .unwrap();
    assert_eq!(
        app.update(click(x, pane.y + 3)),
        group_req(GroupRequest::Reject {
            group: "team".into(),
            user: "carol".into()
        })
    );
    assert!(chat(&app).convs.requests.is_empty());
    // A click on #team shows it.
    app.update(click(pane.x + 3, pane.y + 2));
    assert_eq!(shown(&app), team());
    assert!(last_notice(&app).contains("turned down carol's request"));
}

#[test]
fn enter_in_the_pane_switches_the_messages_and_the_input() {
    let mut app = alice_in_team();
    live(&mut app, msg(2, "bob", dm("alice"), "hey"));
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Tab));
    for _ in 0..2 {
        app.update(key(KeyCode::Down));
    }
    let actions = app.update(key(KeyCode::Enter));
    assert_eq!(shown(&app), dm("bob"));
    assert_eq!(chat(&app).focus, Focus::Input);
    assert!(actions.is_empty(), "messages are here: no history asked");
    assert!(chat(&app).log().loaded);
    assert_eq!(unread(&app, &dm("bob")), 0);
}

#[test]
fn group_events_become_notices_in_the_group() {
    let mut app = alice_in_team();
    let update = |change, user: Option<&str>| {
        ServerMessage::GroupUpdate(GroupUpdate {
            group: info("team", "alice", true, Membership::Member),
            change,
            user: user.map(str::to_owned),
        })
    };
    server(&mut app, update(GroupChange::Joined, Some("bob")));
    server(&mut app, update(GroupChange::Left, Some("carol")));
    let texts: Vec<String> = chat(&app)
        .convs
        .get(&team())
        .unwrap()
        .log
        .entries()
        .iter()
        .map(|e| e.text.clone())
        .collect();
    assert_eq!(texts, ["bob joined #team.", "carol left #team."]);
    // bob's side: approved into a group he asked for.
    let mut bob = logged_in();
    server(
        &mut bob,
        ServerMessage::GroupUpdate(GroupUpdate {
            group: info("rust", "carol", true, Membership::Member),
            change: GroupChange::Approved,
            user: Some("alice".into()),
        }),
    );
    let rust = Target::Group {
        group: "rust".into(),
    };
    let entries = &chat(&bob).convs.get(&rust).unwrap().log.entries();
    assert_eq!(
        entries[0].text,
        "Your request to join #rust was approved. Welcome!"
    );
    assert!(
        last_notice(&bob).starts_with("Your request to join #rust was approved. Welcome! It is")
    );
    server(
        &mut bob,
        ServerMessage::GroupUpdate(GroupUpdate {
            group: info("rust", "carol", true, Membership::Removed),
            change: GroupChange::Removed,
            user: Some("alice".into()),
        }),
    );
    assert!(chat(&bob).convs.get(&rust).is_none());
    assert_eq!(last_notice(&bob), "carol removed you from #rust.");
}

#[test]
fn replies_create_show_ask_and_leave_groups() {
    let mut app = logged_in();
    let state = |g| ServerMessage::GroupState(GroupState { seq: 3, group: g });
    let actions = server(
        &mut app,
        state(info("team", "alice", true, Membership::Member)),
    );
    assert_eq!(shown(&app), team());
    assert!(last_notice(&app).starts_with("You created #team (private): others ask to join"));
    assert_eq!(actions, [history(HistoryQuery::older(team(), None))]);
    server(
        &mut app,
        state(info("rust", "carol", true, Membership::Requested)),
    );
    assert!(last_notice(&app).starts_with("You asked to join #rust; carol decides"));
    server(
        &mut app,
        state(info("rust", "carol", true, Membership::Left)),
    );
    assert_eq!(
        last_notice(&app),
        "You withdrew your request to join #rust."
    );
    server(
        &mut app,
        state(info("rust", "carol", true, Membership::Requested)),
    );
    // The creator leaving closes the group: the reply still says member.
    let mut left = info("team", "alice", true, Membership::Member);
    left.status = GroupStatus::Closed;
    server(&mut app, state(left));
    assert_eq!(shown(&app), Target::Room);
    assert!(chat(&app).convs.get(&team()).is_none());
    assert_eq!(last_notice(&app), "You left #team. It is closed now.");
    server(
        &mut app,
        ServerMessage::MemberList(MemberList {
            seq: 5,
            group: "rust".into(),
            members: vec!["carol".into(), "dave".into()],
            requests: vec![],
            has_more: false,
            next: None,
        }),
    );
    assert_eq!(
        last_notice(&app),
        "#rust has 2 member(s): carol (creator), dave."
    );
    // Someone else's group: leaving it.
    server(
        &mut app,
        state(info("rust", "carol", true, Membership::Member)),
    );
    assert_eq!(
        shown(&app),
        Target::Group {
            group: "rust".into()
        }
    );
    server(
        &mut app,
        state(info("rust", "carol", true, Membership::Left)),
    );
    assert_eq!(last_notice(&app), "You left #rust.");
    assert_eq!(shown(&app), Target::Room);
}

#[test]
fn groups_lists_every_group_as_notices_only_when_asked() {
    let mut app = logged_in();
    let list = || {
        ServerMessage::GroupList(GroupList {
            seq: 3,
            groups: vec![
                info("team", "alice", true, Membership::Member),
                info("rust", "carol", false, Membership::None),
            ],
            has_more: false,
            next: None,
        })
    };
    let before = chat(&app).log().entries().len();
    server(&mut app, list());
    assert_eq!(
        chat(&app).log().entries().len(),
        before,
        "the login's list is quiet"
    );
    command(&mut app, "/groups");
    server(&mut app, list());
    assert_eq!(
        last_notice(&app),
        "#rust · public · by carol · 2 members · /join rust"
    );
}

#[test]
fn a_group_loads_its_newest_page_when_first_shown_and_older_ones_past_the_top() {
    let mut app = alice_in_team();
    let actions = app.update(alt(KeyCode::Down));
    assert_eq!(actions, [history(HistoryQuery::older(team(), None))]);
    let page: Vec<ChatMessage> = (10..60).map(|id| msg(id, "bob", team(), "line")).collect();
    app.update(AppEvent::Net(NetEvent::History {
        query: HistoryQuery::older(team(), None),
        page: Ok(HistoryPage {
            seq: 0,
            messages: page,
            has_more: true,
        }),
    }));
    assert_eq!(ids(&app, &team()).len(), 50);
    assert_eq!(unread(&app, &team()), 0, "history is not news");
    let mut asked = Vec::new();
    for _ in 0..20 {
        asked.extend(app.update(key(KeyCode::PageUp)));
    }
    assert_eq!(asked, [history(HistoryQuery::older(team(), Some(10)))]);
    assert_eq!(ids(&app, &Target::Room), [1], "the room is untouched");
}

#[test]
fn a_search_of_more_than_eight_words_is_not_sent_and_says_the_limit() {
    let mut app = alice_in_team();
    assert!(command(&mut app, "/search a b c d e f g h i").is_empty());
    assert_eq!(
        last_notice(&app),
        "Search takes at most 8 words of at most 64 characters: the search text has 9 \
         words; at most 8 are allowed."
    );
    assert!(chat(&app).search.is_none());
    assert!(!command(&mut app, "/search a b c d e f g h").is_empty());
}

#[test]
fn search_results_open_and_enter_jumps_around_the_message() {
    let mut app = alice_in_team();
    let actions = command(&mut app, "/search deploy friday");
    assert_eq!(
        actions,
        group_req(GroupRequest::Search {
            text: "deploy friday".into(),
            before: None
        })
    );
    server(
        &mut app,
        ServerMessage::SearchResults(SearchResults {
            seq: 6,
            messages: vec![
                msg(90, "bob", team(), "deploy on friday?"),
                msg(40, "carol", Target::Room, "no deploy friday"),
            ],
            has_more: false,
        }),
    );
    assert_eq!(chat(&app).search.as_ref().unwrap().results.len(), 2);
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Up));
    let actions = app.update(key(KeyCode::Enter));
    assert!(chat(&app).search.is_none());
    assert_eq!(shown(&app), team());
    assert_eq!(
        actions,
        [
            history(HistoryQuery::older(team(), Some(91))),
            history(HistoryQuery::newer(team(), 90))
        ]
    );
    let page = |q, ids: std::ops::Range<i64>, has_more| {
        AppEvent::Net(NetEvent::History {
            query: q,
            page: Ok(HistoryPage {
                seq: 0,
                messages: ids.map(|id| msg(id, "bob", team(), "x")).collect(),
                has_more,
            }),
        })
    };
    app.update(page(HistoryQuery::older(team(), Some(91)), 41..91, true));
    app.update(page(HistoryQuery::newer(team(), 90), 91..141, true));
    let log = chat(&app).log();
    assert_eq!(log.marked, Some(90));
    assert!(log.scroll > 0, "the view is on message 90, not the newest");
    assert!(log.newer_missing);
    // Scrolling to the bottom asks for what follows.
    let actions = app.update(key(KeyCode::End));
    assert!(
        actions.is_empty(),
        "End is a messages-pane key; the input has the focus"
    );
    let asked = app.update(key(KeyCode::PageDown));
    let more: Vec<Action> = (0..40)
        .flat_map(|_| app.update(key(KeyCode::PageDown)))
        .collect();
    assert!(
        asked
            .iter()
            .chain(&more)
            .any(|a| a == &history(HistoryQuery::newer(team(), 140)))
    );
}

#[test]
fn after_a_reconnect_conversations_with_messages_catch_up() {
    let mut app = alice_in_team();
    live(&mut app, msg(5, "bob", dm("alice"), "hi"));
    let ok = super::tests::login_ok("alice", &["alice"], vec![]);
    let actions = app.update(AppEvent::Net(NetEvent::LoggedIn { ok, resumed: true }));
    // (And the online pane watches again: watching ended with the old
    // connection.)
    let watch = Action::Net(NetCommand::Users(crate::net::UsersRequest::Watch {
        after: None,
        limit: super::online::WATCH_LIMIT,
    }));
    assert_eq!(actions, [history(HistoryQuery::newer(dm("bob"), 5)), watch]);
}
