//! Golden-JSON tests of paged lists (PROTOCOL §3.4): the `users` and
//! `conversations` requests and their replies, and what a client reads from a
//! server of the time before paging.
//! The examples are those of docs/PROTOCOL.md.

use serde_json::json;

use super::golden::{assert_client, assert_server, file_info, file_json, req};
use super::*;

#[test]
fn users_wire_form() {
    assert_client(
        req(14, ClientMessage::Users(Users::default())),
        json!({"type":"users","seq":14}),
    );
    assert_client(
        req(
            15,
            ClientMessage::Users(Users {
                after: Some("alice".into()),
                limit: Some(2),
                prefix: None,
            }),
        ),
        json!({"type":"users","seq":15,"after":"alice","limit":2}),
    );
    assert_server(
        ServerMessage::UserList(UserList {
            seq: 15,
            users: vec![
                OnlineUser {
                    name: "bob".into(),
                    since: 1_767_225_600_000,
                },
                OnlineUser {
                    name: "carol".into(),
                    since: 1_767_225_660_000,
                },
            ],
            has_more: true,
            next: Some("carol".into()),
            online_count: 12_034,
        }),
        json!({"type":"user_list","seq":15,"users":[{"name":"bob","since":1_767_225_600_000_i64},
               {"name":"carol","since":1_767_225_660_000_i64}],"has_more":true,"next":"carol",
               "online_count":12_034}),
    );
    assert_client(
        req(
            16,
            ClientMessage::Users(Users {
                prefix: Some("bo".into()),
                limit: Some(20),
                after: None,
            }),
        ),
        json!({"type":"users","seq":16,"limit":20,"prefix":"bo"}),
    );
}

#[test]
fn presence_wire_form() {
    assert_client(
        req(
            20,
            ClientMessage::WatchUsers(WatchUsers {
                after: None,
                limit: Some(100),
            }),
        ),
        json!({"type":"watch_users","seq":20,"limit":100}),
    );
    assert_client(
        req(21, ClientMessage::UnwatchUsers(UnwatchUsers {})),
        json!({"type":"unwatch_users","seq":21}),
    );
    assert_server(
        ServerMessage::UnwatchOk(UnwatchOk { seq: 21 }),
        json!({"type":"unwatch_ok","seq":21}),
    );
    assert_server(
        ServerMessage::Presence(Presence {
            online_count: 12_035,
            joined: vec![OnlineUser {
                name: "bob".into(),
                since: 1_767_225_600_000,
            }],
            left: vec![PresenceLeft {
                name: "carol".into(),
                reason: LeaveReason::Quit,
            }],
            ts: 1_767_225_600_250,
        }),
        json!({"type":"presence","online_count":12_035,
               "joined":[{"name":"bob","since":1_767_225_600_000_i64}],
               "left":[{"name":"carol","reason":"quit"}],"ts":1_767_225_600_250_i64}),
    );
    // A login_ok whose online list is only the first page says where the rest starts.
    let paged: ServerMessage = serde_json::from_value(json!({"type":"login_ok","seq":3,
        "user":{"id":1,"name":"alice"},"token":"tok","token_expires":1,
        "online":[{"name":"aaron","since":5}],"online_count":12_034,"online_next":"aaron",
        "recent":[]}))
    .unwrap();
    assert!(
        matches!(&paged, ServerMessage::LoginOk(m) if m.online_count == 12_034
            && m.online_next.as_deref() == Some("aaron")),
        "{paged:?}"
    );
}

#[test]
fn presence_fields_of_servers_before_presence_paging_default() {
    // login_ok and user_list without the count: zero, and the list is whole.
    let old: ServerMessage = serde_json::from_value(json!({"type":"login_ok","seq":3,
        "user":{"id":1,"name":"alice"},"token":"tok","token_expires":1,
        "online":[{"name":"alice","since":5}],"recent":[]}))
    .unwrap();
    assert!(
        matches!(&old, ServerMessage::LoginOk(m) if m.online_count == 0 && m.online_next.is_none()),
        "{old:?}"
    );
    let old: ServerMessage =
        serde_json::from_value(json!({"type":"user_list","seq":1,"users":[]})).unwrap();
    assert!(matches!(&old, ServerMessage::UserList(m) if m.online_count == 0 && !m.has_more));
}

#[test]
fn replies_and_limits_of_servers_before_paging_still_parse() {
    // A server before paging sent whole lists without `has_more`.
    let old: ServerMessage =
        serde_json::from_value(json!({"type":"file_list","seq":10,"files":[file_json()]})).unwrap();
    assert_eq!(
        old,
        ServerMessage::FileList(FileList {
            seq: 10,
            files: vec![file_info()],
            has_more: false,
            next: None,
        })
    );
    let old: ServerMessage = serde_json::from_value(
        json!({"type":"member_list","seq":2,"group":"g","members":["a"],"requests":[]}),
    )
    .unwrap();
    assert!(matches!(old, ServerMessage::MemberList(m) if !m.has_more && m.next.is_none()));
    // ... and no page limits in `hello_ok`: the defaults hold.
    let old: Limits = serde_json::from_value(json!({"max_frame_bytes":65536,"max_text_bytes":4096,
        "max_history_page":200,"idle_timeout_ms":60000,"ping_interval_ms":20000,
        "auth_timeout_ms":20000,"frame_timeout_ms":10000,"max_login_attempts":3}))
    .unwrap();
    assert_eq!(old.max_list_page, crate::MAX_LIST_PAGE);
    assert_eq!(old.max_list_page_bytes, crate::MAX_LIST_PAGE_BYTES);
}

#[test]
fn conversations_wire_form() {
    assert_client(
        req(16, ClientMessage::Conversations(Conversations::default())),
        json!({"type":"conversations","seq":16}),
    );
    assert_client(
        req(
            17,
            ClientMessage::Conversations(Conversations {
                after: Some(5013),
                limit: Some(2),
            }),
        ),
        json!({"type":"conversations","seq":17,"after":5013,"limit":2}),
    );
    assert_server(
        ServerMessage::ConversationList(ConversationList {
            seq: 17,
            conversations: vec![
                DirectConversation {
                    user: "bob".into(),
                    last_message_id: 5013,
                    last_at: 1_767_225_601_000,
                },
                DirectConversation {
                    user: "carol".into(),
                    last_message_id: 4990,
                    last_at: 1_767_225_500_000,
                },
            ],
            has_more: true,
            next: Some(4990),
        }),
        json!({"type":"conversation_list","seq":17,"conversations":[
               {"user":"bob","last_message_id":5013,"last_at":1_767_225_601_000_i64},
               {"user":"carol","last_message_id":4990,"last_at":1_767_225_500_000_i64}],
               "has_more":true,"next":4990}),
    );
    // The last page: no `next`.
    assert_server(
        ServerMessage::ConversationList(ConversationList {
            seq: 18,
            conversations: vec![],
            has_more: false,
            next: None,
        }),
        json!({"type":"conversation_list","seq":18,"conversations":[],"has_more":false}),
    );
}
