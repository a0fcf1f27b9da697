//! The online pane with 10,000 online, driven only by events: the login's
//! first page and count, pages asked for as the list scrolls past what is
//! loaded, `presence` events in the watched window, finding by typing, at
//! most 2,000 users kept however far the list is paged, and watching only
//! while the pane is on screen. A fake server answers the pages from a
//! sorted list of 10,000 names, as the real one does (by name, after a
//! cursor, by prefix).

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{
    ErrorReply, LeaveReason, LoginOk, OnlineUser, Presence, PresenceLeft, ServerMessage, UserInfo,
    UserJoined, UserList,
};
use crossterm::event::KeyCode;

use super::entry::EntryKind;
use super::online::{LOG_PRESENCE_MAX, Order, WATCH_LIMIT};
use super::online_window::{MAX_LOADED, PAGE};
use super::tests::{key, type_text};
use super::*;
use crate::net::{NetEvent, UsersRequest};

/// How many are online in the big room.
const ONLINE: usize = 10_000;

fn user(name: &str) -> OnlineUser {
    OnlineUser {
        name: name.into(),
        since: 7,
    }
}

/// The server's side: who is online, sorted by name (code point order), and
/// its answers to `users` and `watch_users`.
struct FakeServer {
    names: Vec<String>,
}

impl FakeServer {
    /// alice and u0001 … u9999: 10,000 names (digits padded, so the names
    /// sort as their numbers do).
    fn big() -> Self {
        let mut names: Vec<String> = (1..ONLINE).map(|i| format!("u{i:04}")).collect();
        names.push("alice".into());
        names.sort();
        Self { names }
    }

    fn page(&self, after: Option<&str>, prefix: Option<&str>, limit: u32) -> UserList {
        let matching: Vec<&String> = self
            .names
            .iter()
            .filter(|n| after.is_none_or(|a| n.as_str() > a))
            .filter(|n| prefix.is_none_or(|p| n.starts_with(p)))
            .collect();
        let users: Vec<OnlineUser> = matching
            .iter()
            .take(limit as usize)
            .map(|n| user(n))
            .collect();
        let has_more = matching.len() > users.len();
        UserList {
            seq: 9,
            next: has_more.then(|| users.last().unwrap().name.clone()),
            users,
            has_more,
            online_count: self.names.len() as u64,
        }
    }

    fn answer(&self, request: &UsersRequest) -> Option<UserList> {
        match request {
            UsersRequest::Page {
                after,
                prefix,
                limit,
            } => Some(self.page(after.as_deref(), prefix.as_deref(), *limit)),
            UsersRequest::Watch { after, limit } => Some(self.page(after.as_deref(), None, *limit)),
            UsersRequest::Unwatch => None,
        }
    }

    /// `login_ok` as the server sends it: with more than 100 online, the
    /// first page by name and its cursor.
    fn login_ok(&self) -> LoginOk {
        let first = self.page(None, None, 100);
        LoginOk {
            seq: 1,
            user: UserInfo {
                id: 1,
                name: "alice".into(),
            },
            token: "t".into(),
            token_expires: 0,
            online: first.users,
            online_count: self.names.len() as u64,
            online_next: first.next,
            recent: Vec::new(),
        }
    }
}

/// The requests about the online list in `actions`.
fn users_requests(actions: &[Action]) -> Vec<UsersRequest> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Net(NetCommand::Users(r)) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

/// Answer every page asked for in `actions` (and in what the answers make
/// the app do) from `server`; returns every request about the list made.
fn serve(app: &mut App, server: &FakeServer, actions: Vec<Action>) -> Vec<UsersRequest> {
    let mut asked = Vec::new();
    let mut queue = users_requests(&actions);
    while let Some(request) = queue.first().cloned() {
        queue.remove(0);
        asked.push(request.clone());
        if let Some(page) = server.answer(&request) {
            let more = app.update(AppEvent::Net(NetEvent::Users {
                request,
                page: Ok(page),
            }));
            queue.extend(users_requests(&more));
        }
        assert!(asked.len() < 10_000, "the app keeps asking");
    }
    asked
}

fn pages(asked: &[UsersRequest]) -> Vec<UsersRequest> {
    asked
        .iter()
        .filter(|r| matches!(r, UsersRequest::Page { .. }))
        .cloned()
        .collect()
}

/// alice logged in at 100×30 in a room of 10,000, the watch answered.
fn big_room() -> (App, FakeServer) {
    let server = FakeServer::big();
    let mut app = App::new("h:1", "alice", Settings::default(), 0).with_client_id_prefix("t");
    app.update(AppEvent::Resize(100, 30));
    type_text(&mut app, "password1");
    app.update(key(KeyCode::Enter));
    let actions = app.update(AppEvent::Net(NetEvent::LoggedIn {
        ok: server.login_ok(),
        resumed: false,
    }));
    serve(&mut app, &server, actions);
    (app, server)
}

/// Tab from the input to the online pane.
fn focus_online(app: &mut App) {
    while app.chat().unwrap().focus != Focus::Users {
        app.update(key(KeyCode::Tab));
    }
}

fn online(app: &App) -> &super::online::Online {
    &app.chat().unwrap().online
}

fn shown_names(app: &App) -> Vec<String> {
    online(app)
        .shown()
        .users()
        .iter()
        .map(|u| u.name.clone())
        .collect()
}

fn page_after(after: &str) -> UsersRequest {
    UsersRequest::Page {
        after: Some(after.into()),
        prefix: None,
        limit: PAGE,
    }
}

fn presence(count: u64, joined: &[&str], left: &[&str]) -> AppEvent {
    AppEvent::Net(NetEvent::Server(ServerMessage::Presence(Presence {
        online_count: count,
        joined: joined.iter().map(|n| user(n)).collect(),
        left: left
            .iter()
            .map(|n| PresenceLeft {
                name: (*n).into(),
                reason: LeaveReason::Quit,
            })
            .collect(),
        ts: 9,
    })))
}

/// The names of the "joined" and "left" lines in the main room.
fn room_lines(app: &App) -> Vec<String> {
    app.chat().unwrap().convs.all()[0]
        .log
        .entries()
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::Joined(n) => Some(format!("+{n}")),
            EntryKind::Left(n, _) => Some(format!("-{n}")),
            _ => None,
        })
        .collect()
}

#[test]
fn a_login_among_10000_shows_the_count_and_the_first_page_by_name_and_watches_it() {
    let server = FakeServer::big();
    let mut app = App::new("h:1", "alice", Settings::default(), 0);
    app.update(AppEvent::Resize(100, 30));
    type_text(&mut app, "password1");
    app.update(key(KeyCode::Enter));
    let actions = app.update(AppEvent::Net(NetEvent::LoggedIn {
        ok: server.login_ok(),
        resumed: false,
    }));
    assert_eq!(
        users_requests(&actions),
        [UsersRequest::Watch {
            after: None,
            limit: WATCH_LIMIT
        }]
    );
    let o = online(&app);
    assert_eq!(o.count(), 10_000);
    assert_eq!(o.list.len(), 100);
    assert_eq!(o.list.order(), Order::Name);
    assert_eq!(shown_names(&app)[..3], ["alice", "u0001", "u0002"]);
    // The watch's page (500 names) fills the list as far as it goes.
    serve(&mut app, &server, actions);
    assert_eq!(online(&app).list.len(), 500);
    assert_eq!(shown_names(&app).last().unwrap(), "u0499");
}

#[test]
fn scrolling_past_what_is_loaded_asks_for_the_page_after_its_cursor() {
    let server = FakeServer::big();
    let mut app = App::new("h:1", "alice", Settings::default(), 0);
    app.update(AppEvent::Resize(100, 30));
    type_text(&mut app, "password1");
    app.update(key(KeyCode::Enter));
    // The watch is not answered (yet): the list is the login's 100.
    app.update(AppEvent::Net(NetEvent::LoggedIn {
        ok: server.login_ok(),
        resumed: false,
    }));
    focus_online(&mut app);
    let mut asked = Vec::new();
    for _ in 0..99 {
        asked.extend(pages(&users_requests(&app.update(key(KeyCode::Down)))));
    }
    assert_eq!(online(&app).list.selected, 99, "u0099, the last loaded");
    assert_eq!(asked, [page_after("u0099")], "asked once, at the end");
    assert!(online(&app).list.loading().is_some(), "a loading row");
    // More keys while it comes ask nothing more.
    let again = users_requests(&app.update(key(KeyCode::Down)));
    assert!(pages(&again).is_empty(), "{again:?}");
    let page = server.page(Some("u0099"), None, PAGE);
    app.update(AppEvent::Net(NetEvent::Users {
        request: page_after("u0099"),
        page: Ok(page),
    }));
    let o = online(&app);
    assert_eq!(o.list.len(), 200);
    assert!(o.list.loading().is_none());
    assert_eq!(shown_names(&app)[199], "u0199");
    app.update(key(KeyCode::Down));
    assert_eq!(online(&app).list.selected_user().unwrap().name, "u0100");
}

#[test]
fn presence_moves_the_count_and_changes_the_list_inside_the_window() {
    let (mut app, _server) = big_room();
    assert_eq!(online(&app).list.len(), 500);
    app.update(presence(10_001, &["u0050b", "u0007"], &["u0008"]));
    let names = shown_names(&app);
    assert!(names.contains(&"u0050b".to_owned()), "joined, in its place");
    assert_eq!(names.iter().position(|n| n == "u0050b"), Some(50));
    assert!(!names.contains(&"u0008".to_owned()), "left");
    assert_eq!(names.iter().filter(|n| *n == "u0007").count(), 1);
    assert_eq!(online(&app).count(), 10_001);
    // Someone not listed leaves: nothing changes but the count.
    let before = shown_names(&app);
    app.update(presence(10_000, &[], &["u7777", "nobody"]));
    assert_eq!(shown_names(&app), before);
    assert_eq!(online(&app).count(), 10_000);
    // With 10,000 online no join or leave is a line in the room.
    assert!(room_lines(&app).is_empty(), "{:?}", room_lines(&app));
}

#[test]
fn typing_in_the_pane_finds_by_prefix_and_esc_brings_the_list_back() {
    let (mut app, server) = big_room();
    focus_online(&mut app);
    for _ in 0..5 {
        app.update(key(KeyCode::Down));
    }
    assert!(users_requests(&app.update(key(KeyCode::Char('/')))).is_empty());
    let mut asked = Vec::new();
    for c in "u99".chars() {
        asked.extend(users_requests(&app.update(key(KeyCode::Char(c)))));
    }
    let find = |p: &str| UsersRequest::Page {
        after: None,
        prefix: Some(p.into()),
        limit: PAGE,
    };
    assert_eq!(asked, [find("u"), find("u9"), find("u99")]);
    // A page for what was typed before is too late: dropped.
    app.update(AppEvent::Net(NetEvent::Users {
        request: find("u9"),
        page: Ok(server.page(None, Some("u9"), PAGE)),
    }));
    assert!(shown_names(&app).is_empty());
    app.update(AppEvent::Net(NetEvent::Users {
        request: find("u99"),
        page: Ok(server.page(None, Some("u99"), PAGE)),
    }));
    let found = shown_names(&app);
    assert_eq!(found.len(), 100);
    assert!(found.iter().all(|n| n.starts_with("u99")), "{found:?}");
    assert_eq!(online(&app).count(), 10_000, "the count is everyone's");
    // Letters are the find's, not the input's.
    assert!(app.chat().unwrap().compose.is_empty());
    assert_eq!(app.chat().unwrap().focus, Focus::Users);
    app.update(key(KeyCode::Esc));
    assert!(online(&app).find.is_none());
    assert_eq!(shown_names(&app).len(), 500, "the list as it was");
    assert_eq!(online(&app).list.selected, 5, "and its selection");
    assert_eq!(app.chat().unwrap().focus, Focus::Users);
    // Found, then Enter: the mention goes to the input.
    app.update(key(KeyCode::Char('/')));
    type_text(&mut app, "u42");
    app.update(AppEvent::Net(NetEvent::Users {
        request: find("u42"),
        page: Ok(server.page(None, Some("u42"), PAGE)),
    }));
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Enter));
    let chat = app.chat().unwrap();
    assert_eq!(chat.compose.text(), "@u4201 ");
    assert!(chat.online.find.is_none());
}

#[test]
fn paging_through_all_10000_keeps_at_most_2000_loaded_and_reads_the_top_again() {
    let (mut app, server) = big_room();
    focus_online(&mut app);
    let mut most = 0;
    let mut seen = std::collections::BTreeSet::new();
    // PageDown to the end (4 rows a page at 100×30), the fake server
    // answering each page.
    for _ in 0..5_000 {
        let actions = app.update(key(KeyCode::PageDown));
        serve(&mut app, &server, actions);
        let o = online(&app);
        most = most.max(o.list.len());
        seen.extend(o.list.users().iter().map(|u| u.name.clone()));
        if o.list.selected_user().unwrap().name == "u9999" {
            break;
        }
    }
    assert_eq!(online(&app).list.selected_user().unwrap().name, "u9999");
    assert_eq!(seen.len(), ONLINE, "every user came by");
    assert!(most <= MAX_LOADED, "{most} loaded");
    assert!(online(&app).list.has_before(), "the top was dropped");
    // Back up to the top: the dropped pages are read again.
    for _ in 0..5_000 {
        let actions = app.update(key(KeyCode::PageUp));
        serve(&mut app, &server, actions);
        most = most.max(online(&app).list.len());
        if online(&app).list.selected == 0 && !online(&app).list.has_before() {
            break;
        }
    }
    let o = online(&app);
    assert_eq!(o.list.selected_user().unwrap().name, "alice");
    assert!(most <= MAX_LOADED, "{most} loaded");
    let names = shown_names(&app);
    assert_eq!(names, server.names[..names.len()], "in order, no gap");
}

#[test]
fn end_reads_on_to_the_last_user_and_home_goes_back_to_the_first() {
    let (mut app, server) = big_room();
    focus_online(&mut app);
    let actions = app.update(key(KeyCode::End));
    let asked = pages(&serve(&mut app, &server, actions));
    // 500 loaded; 9,500 to go, 500 a page.
    assert_eq!(asked.len(), 19, "{asked:?}");
    let o = online(&app);
    assert_eq!(o.list.selected_user().unwrap().name, "u9999");
    assert!(o.list.len() <= MAX_LOADED);
    assert!(!o.list.has_more());
    let actions = app.update(key(KeyCode::Home));
    assert_eq!(
        pages(&users_requests(&actions)),
        [UsersRequest::Page {
            after: None,
            prefix: None,
            limit: PAGE
        }]
    );
    serve(&mut app, &server, actions);
    assert_eq!(online(&app).list.selected_user().unwrap().name, "alice");
}

#[test]
fn the_pane_watches_while_on_screen_and_stops_when_it_leaves() {
    let (mut app, server) = big_room();
    // 60 columns: no side column, no online pane.
    let actions = app.update(AppEvent::Resize(60, 20));
    assert_eq!(users_requests(&actions), [UsersRequest::Unwatch]);
    assert!(!online(&app).watching());
    assert!(users_requests(&app.update(AppEvent::Resize(61, 20))).is_empty());
    let actions = app.update(AppEvent::Resize(100, 30));
    assert_eq!(
        users_requests(&actions),
        [UsersRequest::Watch {
            after: None,
            limit: WATCH_LIMIT
        }]
    );
    serve(&mut app, &server, actions);
    // Scrolling 600 rows down (4 a page) watches the window around the
    // rows shown once they leave the first 500: once, not per key.
    focus_online(&mut app);
    let mut watches = Vec::new();
    for _ in 0..150 {
        let actions = app.update(key(KeyCode::PageDown));
        watches.extend(
            serve(&mut app, &server, actions)
                .into_iter()
                .filter(|r| matches!(r, UsersRequest::Watch { .. })),
        );
    }
    assert_eq!(watches.len(), 1, "{watches:?}");
    let UsersRequest::Watch {
        after: Some(after), ..
    } = &watches[0]
    else {
        panic!("{watches:?}");
    };
    // It starts 100 rows above the first row shown then (u0496..u0500).
    assert!(
        after.as_str() >= "u0390" && after.as_str() < "u0400",
        "{after}"
    );
}

#[test]
fn a_small_room_tells_joins_and_leaves_from_presence_in_the_chat() {
    let mut app = super::tests::logged_in();
    assert!(online(&app).watching());
    app.update(presence(3, &["carol", "alice"], &[]));
    app.update(presence(2, &[], &["bob", "zed"]));
    assert_eq!(room_lines(&app), ["+carol", "-bob"], "not alice herself");
    let names: Vec<&str> = online(&app).names().collect();
    assert_eq!(names, ["alice", "carol"], "login order: newcomers last");
    assert_eq!(online(&app).count(), 2);
    // user_joined / user_left still work (a server that does not watch).
    app.update(AppEvent::Net(NetEvent::Server(ServerMessage::UserJoined(
        UserJoined {
            name: "dave".into(),
            ts: 10,
        },
    ))));
    assert_eq!(online(&app).count(), 3);
    assert_eq!(room_lines(&app).last().unwrap(), "+dave");
}

#[test]
fn above_500_online_presence_changes_the_list_but_not_the_chat() {
    let mut app = super::tests::logged_in();
    let many = LOG_PRESENCE_MAX + 1;
    app.update(presence(many, &["carol"], &["bob"]));
    assert!(room_lines(&app).is_empty(), "{:?}", room_lines(&app));
    assert!(online(&app).is_listed("carol"));
    assert!(!online(&app).is_listed("bob"));
    assert_eq!(online(&app).count(), many);
    assert_eq!(online(&app).list.order(), Order::Name, "paged from now on");
}

#[test]
fn a_server_that_cannot_watch_is_not_asked_again() {
    let mut app = super::tests::logged_in();
    let refused = ErrorReply::new(Some(4), ErrorCode::UnknownType, "unknown type");
    app.update(AppEvent::Net(NetEvent::Users {
        request: UsersRequest::Watch {
            after: None,
            limit: WATCH_LIMIT,
        },
        page: Err(refused),
    }));
    assert!(users_requests(&app.update(AppEvent::Resize(60, 20))).is_empty());
    assert!(users_requests(&app.update(AppEvent::Resize(100, 30))).is_empty());
    // The count of a server that does not count is the list's length.
    assert_eq!(online(&app).count(), 2);
}

#[test]
fn the_watched_window_narrows_when_the_room_grows_and_widens_when_it_shrinks() {
    let mut app = super::tests::logged_in();
    let everyone = UsersRequest::Watch {
        after: None,
        limit: WATCH_LIMIT,
    };
    // 501 online: the window watched so far (everyone) is asked again as a
    // page, so not every change in the room reaches this client.
    let actions = app.update(presence(LOG_PRESENCE_MAX + 1, &[], &[]));
    assert_eq!(users_requests(&actions), std::slice::from_ref(&everyone));
    assert!(users_requests(&app.update(presence(LOG_PRESENCE_MAX + 2, &[], &[]))).is_empty());
    // Back to 500: everyone again, so every join and leave is told.
    let actions = app.update(presence(LOG_PRESENCE_MAX, &[], &[]));
    assert_eq!(users_requests(&actions), [everyone]);
    assert!(users_requests(&app.update(presence(LOG_PRESENCE_MAX, &[], &[]))).is_empty());
}
