//! Conversations in the app, driven only by events: messages routed to the
//! room, groups and direct messages (from both sides), unread counts,
//! repeated ids, read positions, the input's target, and the commands and
//! the requests they become (the pane, group events and replies, history and
//! search are in `groups_tests.rs`). The fixtures here serve both.

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{
    ChatMessage, ErrorReply, GroupChange, GroupInfo, GroupList, GroupStatus, GroupUpdate,
    Membership, MessageKind, ReadOk, SayOk, ServerMessage, Target,
};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::games_tests::{T0, chat, command, last_notice, server};
use super::tests::{key, logged_in, type_text};
use super::*;
use crate::net::{GroupRequest, HistoryQuery, ListRequest, NetEvent};

pub(super) fn team() -> Target {
    Target::Group {
        group: "team".into(),
    }
}

pub(super) fn dm(user: &str) -> Target {
    Target::User { user: user.into() }
}

pub(super) fn msg(id: i64, from: &str, to: Target, text: &str) -> ChatMessage {
    ChatMessage {
        id,
        ts: T0 + id * 1000,
        kind: MessageKind::Message,
        from: from.into(),
        text: text.into(),
        to,
    }
}

pub(super) fn info(name: &str, creator: &str, private: bool, me: Membership) -> GroupInfo {
    GroupInfo {
        id: 1,
        name: name.into(),
        creator: creator.into(),
        private,
        comment: None,
        created: T0,
        status: GroupStatus::Open,
        me,
        members: 2,
    }
}

pub(super) fn live(app: &mut App, m: ChatMessage) -> Vec<Action> {
    server(app, ServerMessage::Message(m))
}

pub(super) fn group_req(r: GroupRequest) -> Vec<Action> {
    vec![Action::Net(NetCommand::Group(r))]
}

pub(super) fn list_req(r: ListRequest) -> Vec<Action> {
    vec![Action::Net(NetCommand::List(r))]
}

pub(super) fn history(q: HistoryQuery) -> Action {
    Action::Net(NetCommand::History(q))
}

pub(super) fn ids(app: &App, target: &Target) -> Vec<i64> {
    let conv = chat(app).convs.get(target).expect("the conversation");
    conv.log.entries().iter().filter_map(|e| e.id).collect()
}

pub(super) fn unread(app: &App, target: &Target) -> usize {
    chat(app).convs.get(target).map_or(0, |c| c.unread)
}

pub(super) fn shown(app: &App) -> Target {
    chat(app).convs.shown().target.clone()
}

/// alice is a member of #team (from the login's group list).
pub(super) fn alice_in_team() -> App {
    let mut app = logged_in();
    server(
        &mut app,
        ServerMessage::GroupList(GroupList {
            seq: 4,
            groups: vec![info("team", "alice", true, Membership::Member)],
            has_more: false,
            next: None,
        }),
    );
    app
}

pub(super) fn alt(code: KeyCode) -> AppEvent {
    AppEvent::Key(KeyEvent::new(code, KeyModifiers::ALT))
}

#[test]
fn messages_are_filed_by_conversation_and_direct_messages_by_the_other_person() {
    let mut app = alice_in_team();
    live(&mut app, msg(2, "bob", team(), "in the group"));
    live(&mut app, msg(3, "bob", dm("alice"), "to alice"));
    // alice's own DM, sent from another session: filed under the recipient.
    live(&mut app, msg(4, "alice", dm("bob"), "from my phone"));
    live(&mut app, msg(5, "carol", Target::Room, "in the room"));
    assert_eq!(ids(&app, &Target::Room), [1, 5]);
    assert_eq!(ids(&app, &team()), [2]);
    assert_eq!(ids(&app, &dm("bob")), [3, 4]);
    let labels: Vec<String> = chat(&app).convs.all().iter().map(|c| c.label()).collect();
    assert_eq!(labels, ["Main room", "#team", "@bob"]);
}

#[test]
fn unread_counts_grow_while_hidden_and_clear_when_shown() {
    let mut app = alice_in_team();
    for id in 2..5 {
        live(&mut app, msg(id, "bob", team(), "x"));
    }
    live(&mut app, msg(5, "bob", dm("alice"), "psst"));
    assert_eq!((unread(&app, &team()), unread(&app, &dm("bob"))), (3, 1));
    assert_eq!(chat(&app).convs.unread_elsewhere(), 4);
    // Alt-↓ goes to the next conversation: #team.
    app.update(alt(KeyCode::Down));
    assert_eq!(shown(&app), team());
    assert_eq!(unread(&app, &team()), 0);
    live(&mut app, msg(6, "bob", Target::Room, "meanwhile"));
    assert_eq!(unread(&app, &Target::Room), 1);
}

#[test]
fn a_message_delivered_again_shows_once() {
    let mut app = alice_in_team();
    live(&mut app, msg(7, "bob", dm("alice"), "offline one"));
    live(&mut app, msg(7, "bob", dm("alice"), "offline one"));
    assert_eq!(ids(&app, &dm("bob")), [7]);
    assert_eq!(unread(&app, &dm("bob")), 1);
}

#[test]
fn read_positions_go_out_once_a_tick_for_what_was_shown_and_again_if_unconfirmed() {
    let mut app = alice_in_team();
    live(&mut app, msg(2, "bob", dm("alice"), "a"));
    live(&mut app, msg(3, "bob", dm("alice"), "b"));
    assert!(app.update(AppEvent::Tick(T0)).is_empty(), "not shown yet");
    command(&mut app, "/msg bob");
    live(&mut app, msg(4, "bob", dm("alice"), "c"));
    live(&mut app, msg(5, "bob", team(), "elsewhere"));
    let read = |to: Target, upto| group_req(GroupRequest::Read { to, upto });
    assert_eq!(app.update(AppEvent::Tick(T0 + 1)), read(dm("bob"), 4));
    assert!(app.update(AppEvent::Tick(T0 + 2)).is_empty(), "nothing new");
    // The connection drops before read_ok: sent again after the reconnect.
    app.update(AppEvent::Net(NetEvent::Disconnected {
        reason: "reset".into(),
        retry_in: std::time::Duration::from_secs(1),
        attempt: 1,
    }));
    assert!(app.update(AppEvent::Tick(T0 + 3)).is_empty(), "offline");
    let ok = super::tests::login_ok("alice", &["alice"], vec![]);
    app.update(AppEvent::Net(NetEvent::LoggedIn { ok, resumed: true }));
    assert_eq!(app.update(AppEvent::Tick(T0 + 4)), read(dm("bob"), 4));
    server(
        &mut app,
        ServerMessage::ReadOk(ReadOk {
            seq: 9,
            to: dm("bob"),
            upto: 4,
        }),
    );
    live(&mut app, msg(6, "bob", dm("alice"), "d"));
    // Quitting tells the last position first.
    let actions = app.update(AppEvent::Key(KeyEvent::new(
        KeyCode::Char('q'),
        KeyModifiers::CONTROL,
    )));
    assert_eq!(
        actions,
        [
            read(dm("bob"), 6).remove(0),
            Action::Net(NetCommand::Quit),
            Action::Quit
        ]
    );
}

#[test]
fn the_input_goes_to_the_conversation_on_screen_and_say_ok_settles_it_there() {
    let mut app = alice_in_team();
    type_text(&mut app, "hi room");
    assert!(matches!(
        &app.update(key(KeyCode::Enter))[..],
        [Action::Net(NetCommand::Say { text, .. })] if text == "hi room"
    ));
    app.update(alt(KeyCode::Down));
    type_text(&mut app, "hi team");
    assert_eq!(
        app.update(key(KeyCode::Enter)),
        [Action::Net(NetCommand::Send {
            client_id: "t-2".into(),
            to: team(),
            text: "hi team".into()
        })]
    );
    assert_eq!(chat(&app).log().pending.len(), 1);
    assert_eq!(chat(&app).convs.all()[0].log.pending.len(), 1, "the room's");
    server(
        &mut app,
        ServerMessage::SayOk(SayOk {
            seq: 5,
            id: "t-2".into(),
            message_id: 9,
            ts: T0,
        }),
    );
    assert!(chat(&app).log().pending.is_empty());
    assert_eq!(ids(&app, &team()), [9]);
    assert_eq!(ids(&app, &Target::Room), [1]);
}

#[test]
fn a_closed_group_keeps_the_text_in_the_input_and_says_why() {
    let mut app = alice_in_team();
    let mut closed = info("team", "alice", true, Membership::Member);
    closed.status = GroupStatus::ClosedByAdmin;
    server(
        &mut app,
        ServerMessage::GroupUpdate(GroupUpdate {
            group: closed,
            change: GroupChange::Closed,
            user: None,
        }),
    );
    app.update(alt(KeyCode::Down));
    assert!(last_notice(&app).contains("The administrator closed #team"));
    // Still listed and shown; the input says it is read-only.
    assert_eq!(shown(&app), team());
    assert_eq!(
        chat(&app).convs.shown().read_only_notice().as_deref(),
        Some("#team is closed: its history stays readable (commands still work)")
    );
    type_text(&mut app, "anyone?");
    assert!(app.update(key(KeyCode::Enter)).is_empty());
    assert_eq!(
        last_notice(&app),
        "#team is closed: nothing more can be sent to it; its history stays readable."
    );
    assert_eq!(chat(&app).compose.text(), "anyone?");
}

#[test]
fn msg_shows_the_conversation_and_sends_a_direct_message() {
    let mut app = logged_in();
    let actions = command(&mut app, "/msg @bob see you at 5");
    assert_eq!(shown(&app), dm("bob"));
    assert!(actions.contains(&Action::Net(NetCommand::Send {
        client_id: "t-1".into(),
        to: dm("bob"),
        text: "see you at 5".into()
    })));
    assert!(actions.contains(&history(HistoryQuery::older(dm("bob"), None))));
    assert!(command(&mut app, "/msg").is_empty());
    assert!(last_notice(&app).starts_with("/msg NAME text"));
    // Spelled differently, bob is still one conversation.
    app.update(alt(KeyCode::Up));
    command(&mut app, "/msg BOB again");
    assert_eq!(shown(&app), dm("bob"));
    assert_eq!(chat(&app).convs.all().len(), 2);
}

/// Every notice of every conversation, in order.
fn all_notices(app: &App) -> Vec<String> {
    chat(app)
        .convs
        .all()
        .iter()
        .flat_map(|c| c.log.entries().iter())
        .filter(|e| e.kind == super::entry::EntryKind::Notice)
        .map(|e| e.text.clone())
        .collect()
}

#[test]
fn a_direct_message_to_nobody_says_so_once_and_leaves_no_conversation() {
    let mut app = logged_in();
    let before = all_notices(&app);
    let actions = command(&mut app, "/msg nobody hello?");
    assert!(actions.contains(&history(HistoryQuery::older(dm("nobody"), None))));
    // The server refuses the history of the conversation, then the message.
    let refusal = ErrorReply::new(Some(4), ErrorCode::UserNotFound, "no account is named");
    app.update(AppEvent::Net(NetEvent::History {
        query: HistoryQuery::older(dm("nobody"), None),
        page: Err(refusal.clone()),
    }));
    app.update(AppEvent::Net(NetEvent::SendRefused {
        client_id: "t-1".into(),
        error: refusal.clone(),
    }));
    assert!(
        chat(&app).convs.get(&dm("nobody")).is_none(),
        "no dead @nobody"
    );
    assert_eq!(shown(&app), Target::Room);
    let new: Vec<String> = all_notices(&app).into_iter().skip(before.len()).collect();
    assert_eq!(new, ["No user named nobody. “hello?” was not sent."]);
    // Without a message: the history's refusal alone says it.
    command(&mut app, "/msg nobody");
    app.update(AppEvent::Net(NetEvent::History {
        query: HistoryQuery::older(dm("nobody"), None),
        page: Err(refusal),
    }));
    assert!(chat(&app).convs.get(&dm("nobody")).is_none());
    assert_eq!(last_notice(&app), "No user named nobody.");
}

#[test]
fn group_commands_become_exactly_their_requests() {
    let mut app = alice_in_team();
    let create = GroupRequest::Create {
        name: "rust".into(),
        private: true,
        comment: Some("all things crab".into()),
        full_history: false,
    };
    assert_eq!(
        command(&mut app, "/create --private rust all things crab"),
        group_req(create)
    );
    assert_eq!(
        command(&mut app, "/create pub"),
        group_req(GroupRequest::Create {
            name: "pub".into(),
            private: false,
            comment: None,
            full_history: false,
        })
    );
    assert_eq!(
        command(&mut app, "/create --full-history -p #club"),
        group_req(GroupRequest::Create {
            name: "club".into(),
            private: true,
            comment: None,
            full_history: true,
        })
    );
    assert!(command(&mut app, "/create --private").is_empty());
    assert!(last_notice(&app).starts_with("/create [--private] [--full-history] NAME"));
    assert!(command(&mut app, "/create admin").is_empty());
    assert!(last_notice(&app).contains("reserved"));
    assert_eq!(
        command(&mut app, "/join #rust"),
        group_req(GroupRequest::Join("rust".into()))
    );
    assert!(
        command(&mut app, "/leave").is_empty(),
        "the room is on screen"
    );
    assert!(last_notice(&app).contains("switch to the group first"));
    assert_eq!(
        command(&mut app, "/groups"),
        list_req(ListRequest::Groups { after: None })
    );
    assert!(command(&mut app, "/search").is_empty());
    app.update(alt(KeyCode::Down));
    assert_eq!(
        command(&mut app, "/leave"),
        group_req(GroupRequest::Leave("team".into()))
    );
    assert_eq!(
        command(&mut app, "/members"),
        list_req(ListRequest::Members {
            group: "team".into(),
            after: None
        })
    );
    assert_eq!(
        command(&mut app, "/remove carol"),
        group_req(GroupRequest::Remove {
            group: "team".into(),
            user: "carol".into()
        })
    );
    assert_eq!(
        command(&mut app, "/approve bob"),
        group_req(GroupRequest::Approve {
            group: "team".into(),
            user: "bob".into()
        })
    );
    assert_eq!(
        command(&mut app, "/reject bob"),
        group_req(GroupRequest::Reject {
            group: "team".into(),
            user: "bob".into()
        })
    );
    // /stats and the game commands still work.
    assert!(matches!(
        &command(&mut app, "/stats")[..],
        [Action::Net(NetCommand::Game(_))]
    ));
}

#[test]
fn a_reused_message_id_is_taken_back_in_words() {
    let mut app = logged_in();
    type_text(&mut app, "hello");
    app.update(key(KeyCode::Enter));
    app.update(AppEvent::Net(NetEvent::SendRefused {
        client_id: "t-1".into(),
        error: ErrorReply::new(Some(4), ErrorCode::MessageIdReused, "message_id_reused"),
    }));
    assert!(chat(&app).log().pending.is_empty());
    assert_eq!(
        last_notice(&app),
        "Not sent to Main room (“hello”): the server had a message of yours under the same id \
         (a client fault). Send it again: it gets a new id."
    );
}

#[test]
fn messages_waiting_for_storage_are_explained_once_and_stay_pending() {
    let mut app = logged_in();
    type_text(&mut app, "hello");
    app.update(key(KeyCode::Enter));
    let mut full = ErrorReply::new(Some(4), ErrorCode::StorageUnavailable, "disk full");
    full.retry_after_ms = Some(2500);
    app.update(AppEvent::Net(NetEvent::SendDelayed {
        error: full.clone(),
    }));
    let expected = "The server cannot store messages right now (its disk or database is \
                    failing). What you send waits and goes out again by itself in 3 s.";
    assert_eq!(last_notice(&app), expected);
    assert_eq!(chat(&app).log().pending.len(), 1, "still waiting to go out");
    // The retries refused again do not repeat it.
    let notices = chat(&app).log().entries().len();
    app.update(AppEvent::Net(NetEvent::SendDelayed { error: full }));
    assert_eq!(chat(&app).log().entries().len(), notices);
}
