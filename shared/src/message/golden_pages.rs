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
        }),
        json!({"type":"user_list","seq":15,"users":[{"name":"bob","since":1_767_225_600_000_i64},
               {"name":"carol","since":1_767_225_660_000_i64}],"has_more":true,"next":"carol"}),
    );
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
