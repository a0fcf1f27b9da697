//! Presence at any size (PROTOCOL §18): `login_ok` with the count and a first
//! page, `users` by prefix, and joins and leaves gathered for sessions that
//! watch a window of the list, while clients that do not watch hear of them
//! one by one only while few are online.
//!
//! Presence does not touch the database, so these run on SQLite only.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chatroom_server::Config;
use chatroom_shared::message::{
    ClientMessage, LeaveReason, OnlineUser, Presence, ServerMessage, UnwatchUsers, UserList, Users,
    WatchUsers,
};
use testkit::client::TestClient;
use testkit::db::{Backend, TestDb};
use testkit::server::TestServer;

async fn sqlite_server(adjust: impl FnOnce(&mut Config)) -> (TestServer, TestDb) {
    let tdb = TestDb::create(Backend::Sqlite).await;
    let server = TestServer::start_with(tdb.url(), adjust).await;
    (server, tdb)
}

/// Everything received until a message matches `pred`, that one last.
async fn until(
    client: &mut TestClient,
    pred: impl Fn(&ServerMessage) -> bool,
) -> Vec<ServerMessage> {
    let mut seen = Vec::new();
    loop {
        let m = client.recv().await;
        let done = pred(&m);
        seen.push(m);
        if done {
            return seen;
        }
    }
}

/// A chat line `text` arrives: the marker after which an absence is checked.
fn says(m: &ServerMessage, text: &str) -> bool {
    matches!(m, ServerMessage::Message(c) if c.text == text)
}

fn user_list(m: ServerMessage) -> UserList {
    match m {
        ServerMessage::UserList(l) => l,
        other => panic!("expected user_list, got {other:?}"),
    }
}

fn watch(limit: u32, after: Option<&str>) -> ClientMessage {
    ClientMessage::WatchUsers(WatchUsers {
        after: after.map(str::to_owned),
        limit: Some(limit),
    })
}

fn presences(seen: &[ServerMessage]) -> Vec<&Presence> {
    seen.iter()
        .filter_map(|m| match m {
            ServerMessage::Presence(p) => Some(p),
            _ => None,
        })
        .collect()
}

fn joined_names(events: &[&Presence]) -> Vec<String> {
    events
        .iter()
        .flat_map(|p| p.joined.iter().map(|u| u.name.clone()))
        .collect()
}

fn one_by_one(seen: &[ServerMessage]) -> Vec<&ServerMessage> {
    seen.iter()
        .filter(|m| matches!(m, ServerMessage::UserJoined(_) | ServerMessage::UserLeft(_)))
        .collect()
}

fn names(users: &[OnlineUser]) -> Vec<&str> {
    users.iter().map(|u| u.name.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_ok_lists_everyone_up_to_a_page_and_then_the_first_page_by_name() {
    let (server, _tdb) = sqlite_server(|_| {}).await;
    // Few online: everyone, in login order, and the count.
    let mut held = Vec::new();
    for name in ["zed", "amy"] {
        held.push(TestClient::user(server.addr, name).await.0);
    }
    let (bob, ok) = TestClient::user(server.addr, "bob").await;
    held.push(bob);
    assert_eq!(names(&ok.online), ["zed", "amy", "bob"]);
    assert_eq!(ok.online_count, 3);
    assert_eq!(ok.online_next, None);

    // 101 online: the newcomer gets the first 100 by name and where the rest starts.
    for i in 0..97 {
        held.push(TestClient::user(server.addr, &format!("u{i:03}")).await.0);
    }
    let (mut last, ok) = TestClient::user(server.addr, "mia").await;
    assert_eq!(ok.online_count, 101);
    assert_eq!(ok.online.len(), 100);
    let mut sorted = names(&ok.online);
    sorted.sort_unstable();
    assert_eq!(names(&ok.online), sorted, "by name");
    assert_eq!(ok.online[0].name, "amy");
    assert_eq!(ok.online_next.as_deref(), Some(ok.online[99].name.as_str()));
    assert!(
        last.largest_frame < 16 * 1024,
        "login_ok of {} bytes",
        last.largest_frame
    );
    // The rest, through `users` from the cursor: nobody twice, nobody missed.
    let rest = user_list(
        last.request(ClientMessage::Users(Users {
            after: ok.online_next.clone(),
            ..Users::default()
        }))
        .await,
    );
    assert_eq!(names(&rest.users), ["zed"]);
    assert!(!rest.has_more);
    assert_eq!(rest.online_count, 101);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_finds_by_the_start_of_a_name_and_pages_within_it() {
    let (server, _tdb) = sqlite_server(|_| {}).await;
    let mut held = Vec::new();
    for name in ["bo", "bob", "bobby", "boris", "carl", "b"] {
        held.push(TestClient::user(server.addr, name).await.0);
    }
    let (mut amy, _) = TestClient::user(server.addr, "amy").await;
    let find = |prefix: &str, after: Option<&str>| {
        ClientMessage::Users(Users {
            prefix: Some(prefix.into()),
            after: after.map(str::to_owned),
            limit: Some(2),
        })
    };
    let page = user_list(amy.request(find("bo", None)).await);
    assert_eq!(names(&page.users), ["bo", "bob"]);
    assert_eq!(page.next.as_deref(), Some("bob"));
    let page = user_list(amy.request(find("bo", Some("bob"))).await);
    assert_eq!(names(&page.users), ["bobby", "boris"]);
    // "carl" follows but does not start with "bo": the last page says so.
    let page = user_list(amy.request(find("bo", Some("boris"))).await);
    assert!(page.users.is_empty() && !page.has_more, "{page:?}");
    let page = user_list(amy.request(find("x", None)).await);
    assert!(page.users.is_empty() && !page.has_more);
    assert_eq!(page.online_count, 7);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_few_are_online_watchers_get_presence_and_the_others_one_event_each() {
    let (server, _tdb) = sqlite_server(|_| {}).await;
    let (mut amy, _) = TestClient::user(server.addr, "amy").await;
    let (mut wes, _) = TestClient::user(server.addr, "wes").await;
    let page = user_list(wes.request(watch(100, None)).await);
    assert_eq!(names(&page.users), ["amy", "wes"]);
    assert_eq!(page.online_count, 2);

    let (mut bob, _) = TestClient::user(server.addr, "bob").await;
    bob.say_ok("b-1", "hello").await;
    // amy, not watching: user_joined (wes's, then bob's), before bob's line.
    let seen = until(&mut amy, |m| says(m, "hello")).await;
    let joins: Vec<_> = seen
        .iter()
        .filter_map(|m| match m {
            ServerMessage::UserJoined(j) => Some(j.name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(joins, ["wes", "bob"], "{seen:?}");
    // wes, watching: a presence event with bob and the count, before bob's
    // line, and no user_joined.
    let seen = until(&mut wes, |m| says(m, "hello")).await;
    let events = presences(&seen);
    assert_eq!(joined_names(&events), ["bob"], "{seen:?}");
    assert_eq!(events.last().unwrap().online_count, 3);
    assert!(one_by_one(&seen).is_empty(), "{seen:?}");

    bob.quit().await;
    amy.say_ok("a-1", "bye bob").await;
    let seen = until(&mut wes, |m| says(m, "bye bob")).await;
    let events = presences(&seen);
    let left: Vec<_> = events.iter().flat_map(|p| p.left.iter()).collect();
    assert_eq!(left.len(), 1, "{seen:?}");
    assert_eq!(
        (left[0].name.as_str(), left[0].reason),
        ("bob", LeaveReason::Quit)
    );
    assert_eq!(events.last().unwrap().online_count, 2);

    // Unwatched: one event per change again.
    let reply = wes
        .request(ClientMessage::UnwatchUsers(UnwatchUsers {}))
        .await;
    assert!(matches!(reply, ServerMessage::UnwatchOk(_)), "{reply:?}");
    let (_cat, _) = TestClient::user(server.addr, "cat").await;
    let seen = until(
        &mut wes,
        |m| matches!(m, ServerMessage::UserJoined(j) if j.name == "cat"),
    )
    .await;
    assert!(presences(&seen).is_empty(), "{seen:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn above_the_broadcast_max_only_watchers_hear_and_only_of_their_window() {
    let (server, _tdb) = sqlite_server(|c| c.presence_broadcast_max = 2).await;
    let (mut amy, _) = TestClient::user(server.addr, "amy").await;
    let (mut kim, _) = TestClient::user(server.addr, "kim").await;
    // kim watches the first two names: amy and kim (the window ends at kim).
    let page = user_list(kim.request(watch(2, None)).await);
    assert_eq!(names(&page.users), ["amy", "kim"]);
    assert!(!page.has_more);
    let (mut wes, _) = TestClient::user(server.addr, "wes").await;
    let page = user_list(wes.request(watch(1, None)).await);
    assert_eq!(names(&page.users), ["amy"]);
    assert!(page.has_more, "{page:?}");

    // Three log in above the threshold: gathered into the next tick.
    let mut held = Vec::new();
    for name in ["ann", "bea", "zoe"] {
        held.push(TestClient::user(server.addr, name).await.0);
    }
    // kim's window has no end: all three, in as few events as ticks passed.
    let seen = until(
        &mut kim,
        |m| matches!(m, ServerMessage::Presence(p) if p.joined.iter().any(|u| u.name == "zoe")),
    )
    .await;
    let mut got = joined_names(&presences(&seen));
    got.sort_unstable();
    assert_eq!(got, ["ann", "bea", "wes", "zoe"], "{seen:?}");
    assert!(one_by_one(&seen).is_empty(), "{seen:?}");
    assert_eq!(presences(&seen).last().unwrap().online_count, 6);

    // A line sent now comes after that tick was told to everyone.
    held[2].say_ok("z-1", "marker").await;
    // amy does not watch: above the threshold she hears of nobody.
    let seen = until(&mut amy, |m| says(m, "marker")).await;
    let heard: Vec<_> = one_by_one(&seen)
        .into_iter()
        .filter(|m| !matches!(m, ServerMessage::UserJoined(j) if j.name == "kim"))
        .collect();
    assert!(heard.is_empty(), "{seen:?}");
    assert!(presences(&seen).is_empty(), "{seen:?}");
    // wes watches (…, amy]: the count changed, but no name of his window.
    let seen = until(&mut wes, |m| says(m, "marker")).await;
    let events = presences(&seen);
    assert!(!events.is_empty(), "{seen:?}");
    assert!(joined_names(&events).is_empty(), "{seen:?}");
    assert_eq!(events.last().unwrap().online_count, 6);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_one_client_that_ignores_the_new_fields_still_chats() {
    // What a version-1 client reads: login_ok's online list (a page above 100),
    // user_joined / user_left while few are online, and the chat.
    let (server, _tdb) = sqlite_server(|_| {}).await;
    let (mut old, ok) = TestClient::user(server.addr, "old").await;
    assert_eq!(names(&ok.online), ["old"]);
    let (mut bob, _) = TestClient::user(server.addr, "bob").await;
    bob.say_ok("b-1", "hi old").await;
    let seen = until(&mut old, |m| says(m, "hi old")).await;
    assert!(
        matches!(&seen[0], ServerMessage::UserJoined(j) if j.name == "bob"),
        "{seen:?}"
    );
    old.say_ok("o-1", "hi bob").await;
    until(&mut bob, |m| says(m, "hi bob")).await;
    server.stop().await;
}
