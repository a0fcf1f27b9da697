//! Listings that come in pages, driven only by events: a page that says more
//! follow makes the app ask for the next one after its cursor, and what the
//! pages hold reaches the panes (files as they come; games, groups and a
//! group's members once the last page is in). Who is online pages only as
//! the pane scrolls: `online_tests.rs`.

use chatroom_shared::message::{
    ConversationList, DirectConversation, FileInfo, FileList, GameList, GroupList, MemberList,
    Membership, ServerMessage,
};
use crossterm::event::KeyCode;

use super::conversations_tests::{alt, dm, info, list_req, live, msg, shown, unread};
use super::games_tests::{chat, command, game, last_notice, notices, server};
use super::tests::{logged_in, login_ok};
use super::*;
use crate::net::{ListRequest, NetEvent};

fn file(id: i64) -> FileInfo {
    FileInfo {
        id,
        name: format!("f{id}.txt"),
        size: 10,
        sha256: "a".repeat(64),
        uploader: "bob".into(),
        comment: None,
        ts: 1_767_225_600_000 + id,
    }
}

fn files_page(ids: &[i64], next: Option<i64>) -> ServerMessage {
    ServerMessage::FileList(FileList {
        seq: 2,
        files: ids.iter().copied().map(file).collect(),
        has_more: next.is_some(),
        next,
    })
}

fn file_ids(app: &App) -> Vec<i64> {
    chat(app).sharing.files.iter().map(|f| f.id).collect()
}

#[test]
fn a_files_page_with_more_asks_for_the_next_after_its_cursor() {
    let mut app = logged_in();
    let actions = server(&mut app, files_page(&[1, 2, 3], Some(3)));
    assert_eq!(actions, list_req(ListRequest::Files { after: Some(3) }));
    assert_eq!(file_ids(&app), [1, 2, 3], "shown at once");
    let actions = server(&mut app, files_page(&[5, 8], Some(8)));
    assert_eq!(actions, list_req(ListRequest::Files { after: Some(8) }));
    let actions = server(&mut app, files_page(&[9], None));
    assert!(actions.is_empty(), "the last page: {actions:?}");
    assert_eq!(file_ids(&app), [1, 2, 3, 5, 8, 9], "every file");
}

#[test]
fn without_the_servers_cursor_the_next_page_starts_after_the_last_entry() {
    let mut app = logged_in();
    let mut page = FileList {
        seq: 2,
        files: vec![file(4), file(6)],
        has_more: true,
        next: None,
    };
    let actions = server(&mut app, ServerMessage::FileList(page.clone()));
    assert_eq!(actions, list_req(ListRequest::Files { after: Some(6) }));
    // An empty page that says more follow ends the listing (no loop).
    page.files.clear();
    assert!(server(&mut app, ServerMessage::FileList(page)).is_empty());
}

#[test]
fn games_replace_the_board_list_once_the_last_page_is_in() {
    let mut app = logged_in();
    let page = |games, next: Option<i64>| {
        ServerMessage::GameList(GameList {
            seq: 5,
            games,
            has_more: next.is_some(),
            next,
        })
    };
    let actions = server(
        &mut app,
        page(
            vec![game(1, "bob", None, &[]), game(2, "carol", None, &[])],
            Some(2),
        ),
    );
    assert_eq!(actions, list_req(ListRequest::Games { after: Some(2) }));
    assert!(
        chat(&app).games.listed.is_empty(),
        "gathered, not shown yet"
    );
    let actions = server(&mut app, page(vec![game(4, "dave", None, &[])], None));
    assert!(actions.is_empty());
    let ids: Vec<i64> = chat(&app).games.listed.iter().map(|g| g.id).collect();
    assert_eq!(ids, [1, 2, 4]);
    assert_eq!(chat(&app).paging, paging::Paging::default());
}

#[test]
fn groups_asked_with_slash_groups_are_told_once_all_pages_are_in() {
    let mut app = logged_in();
    assert_eq!(
        command(&mut app, "/groups"),
        list_req(ListRequest::Groups { after: None })
    );
    let mut first = info("team", "alice", true, Membership::Member);
    first.id = 1;
    let mut second = info("rust", "carol", false, Membership::None);
    second.id = 7;
    let actions = server(
        &mut app,
        ServerMessage::GroupList(GroupList {
            seq: 6,
            groups: vec![first],
            has_more: true,
            next: Some(1),
        }),
    );
    assert_eq!(actions, list_req(ListRequest::Groups { after: Some(1) }));
    assert!(!notices(&app).iter().any(|n| n.starts_with("Groups (")));
    let actions = server(
        &mut app,
        ServerMessage::GroupList(GroupList {
            seq: 7,
            groups: vec![second],
            has_more: false,
            next: None,
        }),
    );
    assert!(actions.is_empty());
    assert_eq!(chat(&app).convs.groups.len(), 2);
    let told = notices(&app);
    assert!(told.iter().any(|n| n == "Groups (2):"), "{told:?}");
}

#[test]
fn a_groups_members_are_gathered_over_pages_and_told_once() {
    let mut app = logged_in();
    let actions = command(&mut app, "/members team");
    assert_eq!(
        actions,
        list_req(ListRequest::Members {
            group: "team".into(),
            after: None
        })
    );
    let page = |members: &[&str], requests: &[&str], next: Option<&str>| {
        ServerMessage::MemberList(MemberList {
            seq: 8,
            group: "team".into(),
            members: members.iter().map(|s| (*s).to_owned()).collect(),
            requests: requests.iter().map(|s| (*s).to_owned()).collect(),
            has_more: next.is_some(),
            next: next.map(str::to_owned),
        })
    };
    let actions = server(&mut app, page(&["alice", "bob"], &[], Some("bob")));
    assert_eq!(
        actions,
        list_req(ListRequest::Members {
            group: "team".into(),
            after: Some("bob".into())
        })
    );
    let actions = server(&mut app, page(&["carol"], &["dave"], Some("dave")));
    assert_eq!(
        actions,
        list_req(ListRequest::Members {
            group: "team".into(),
            after: Some("dave".into())
        })
    );
    let before = notices(&app).len();
    let actions = server(&mut app, page(&[], &["erin"], None));
    assert!(actions.is_empty());
    assert_eq!(notices(&app).len(), before + 1, "one notice for all pages");
    let text = last_notice(&app);
    assert!(
        text.starts_with("#team has 3 member(s): alice, bob, carol."),
        "{text}"
    );
    assert!(text.contains("dave, erin"), "{text}");
    let asking: Vec<&str> = chat(&app)
        .convs
        .requests
        .iter()
        .map(|r| r.user.as_str())
        .collect();
    assert_eq!(asking, ["dave", "erin"]);
}

#[test]
fn pages_of_the_old_connection_are_dropped_when_it_comes_back() {
    let mut app = logged_in();
    server(
        &mut app,
        ServerMessage::GameList(GameList {
            seq: 5,
            games: vec![game(1, "bob", None, &[])],
            has_more: true,
            next: Some(1),
        }),
    );
    app.update(AppEvent::Net(NetEvent::LoggedIn {
        ok: login_ok("alice", &["alice", "bob"], vec![]),
        resumed: true,
    }));
    // The first page again, on the new connection: game 1 ended meanwhile.
    server(
        &mut app,
        ServerMessage::GameList(GameList {
            seq: 1,
            games: vec![game(3, "carol", None, &[])],
            has_more: false,
            next: None,
        }),
    );
    let ids: Vec<i64> = chat(&app).games.listed.iter().map(|g| g.id).collect();
    assert_eq!(ids, [3]);
}

fn conversations_page(entries: &[(&str, i64)], next: Option<i64>) -> ServerMessage {
    ServerMessage::ConversationList(ConversationList {
        seq: 6,
        conversations: entries
            .iter()
            .map(|&(user, id)| DirectConversation {
                user: user.into(),
                last_message_id: id,
                last_at: 1_767_225_600_000 + id,
            })
            .collect(),
        has_more: next.is_some(),
        next,
    })
}

#[test]
fn after_login_the_pane_lists_every_direct_conversation_also_those_with_nothing_unread() {
    let mut app = logged_in();
    // Offline delivery brings only what is unread: carol's message.
    live(&mut app, msg(7, "carol", dm("alice"), "are you there?"));
    let actions = server(
        &mut app,
        conversations_page(&[("bob", 9), ("carol", 7)], Some(7)),
    );
    assert_eq!(
        actions,
        list_req(ListRequest::Conversations { after: Some(7) })
    );
    let actions = server(&mut app, conversations_page(&[("dave", 3)], None));
    assert!(actions.is_empty(), "the last page: {actions:?}");
    let labels: Vec<String> = chat(&app).convs.all().iter().map(|c| c.label()).collect();
    assert_eq!(labels, ["Main room", "@carol", "@bob", "@dave"]);
    assert_eq!(unread(&app, &dm("carol")), 1, "unread counts as before");
    assert_eq!(unread(&app, &dm("bob")), 0);
    // Shown, a listed conversation loads its history.
    app.update(alt(KeyCode::Down));
    app.update(alt(KeyCode::Down));
    assert_eq!(shown(&app), dm("bob"));
}
