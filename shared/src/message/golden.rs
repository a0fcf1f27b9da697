//! Golden-JSON tests: each message's wire form is frozen here, and each one
//! round-trips. docs/PROTOCOL.md shows these same examples.

use serde_json::{Value, json};

use super::*;
use crate::ErrorCode;

pub(super) fn assert_client(msg: Request, wire: Value) {
    assert_eq!(
        serde_json::to_value(&msg).unwrap(),
        wire,
        "serialize {msg:?}"
    );
    let back: Request = serde_json::from_value(wire).unwrap();
    assert_eq!(back, msg);
}

pub(super) fn assert_server(msg: ServerMessage, wire: Value) {
    assert_eq!(
        serde_json::to_value(&msg).unwrap(),
        wire,
        "serialize {msg:?}"
    );
    let back: ServerMessage = serde_json::from_value(wire).unwrap();
    assert_eq!(back, msg);
}

pub(super) fn req(seq: u32, body: ClientMessage) -> Request {
    Request { seq, body }
}

#[test]
fn client_requests_wire_form() {
    assert_client(
        req(
            1,
            ClientMessage::Hello(Hello {
                version: 1,
                client: "chatroom-tui 0.1.0".into(),
            }),
        ),
        json!({"type":"hello","seq":1,"version":1,"client":"chatroom-tui 0.1.0"}),
    );
    assert_client(
        req(
            2,
            ClientMessage::Register(Register {
                name: "alice".into(),
                password: "correct horse".into(),
            }),
        ),
        json!({"type":"register","seq":2,"name":"alice","password":"correct horse"}),
    );
    assert_client(
        req(
            3,
            ClientMessage::Login(Login {
                name: "alice".into(),
                password: "correct horse".into(),
            }),
        ),
        json!({"type":"login","seq":3,"name":"alice","password":"correct horse"}),
    );
    assert_client(
        req(
            4,
            ClientMessage::Resume(Resume {
                token: "3q2-7w".into(),
            }),
        ),
        json!({"type":"resume","seq":4,"token":"3q2-7w"}),
    );
    assert_client(
        req(
            5,
            ClientMessage::Say(Say {
                id: "c-1".into(),
                text: "hello\nworld".into(),
            }),
        ),
        json!({"type":"say","seq":5,"id":"c-1","text":"hello\nworld"}),
    );
    assert_client(
        req(
            6,
            ClientMessage::History(History {
                before: Some(120),
                after: None,
                limit: Some(50),
                ..Default::default()
            }),
        ),
        json!({"type":"history","seq":6,"before":120,"limit":50}),
    );
    assert_client(
        req(7, ClientMessage::History(History::default())),
        json!({"type":"history","seq":7}),
    );
    assert_client(
        req(8, ClientMessage::Ping(Ping {})),
        json!({"type":"ping","seq":8}),
    );
    assert_client(
        req(9, ClientMessage::Quit(Quit {})),
        json!({"type":"quit","seq":9}),
    );
}

#[test]
fn extra_fields_are_ignored_so_nobody_can_claim_a_sender() {
    let r: Request = serde_json::from_value(
        json!({"type":"say","seq":1,"id":"x","text":"hi","from":"bob","uid":2,"name":"bob"}),
    )
    .unwrap();
    assert_eq!(
        r,
        req(
            1,
            ClientMessage::Say(Say {
                id: "x".into(),
                text: "hi".into()
            })
        )
    );
}

#[test]
fn requests_without_seq_or_with_wrong_types_fail() {
    assert!(serde_json::from_value::<Request>(json!({"type":"ping"})).is_err());
    assert!(serde_json::from_value::<Request>(json!({"type":"ping","seq":"1"})).is_err());
    assert!(serde_json::from_value::<Request>(json!({"type":"ping","seq":-1})).is_err());
    assert!(serde_json::from_value::<Request>(json!({"type":"say","seq":1,"id":"x"})).is_err());
    assert!(
        serde_json::from_value::<Request>(json!({"type":"say","seq":1,"id":"x","text":5})).is_err()
    );
    assert!(serde_json::from_value::<Request>(json!({"type":"dance","seq":1})).is_err());
    assert!(serde_json::from_value::<Request>(json!({"seq":1})).is_err());
}

#[test]
fn a_numeric_type_is_not_taken_as_a_variant_index() {
    for t in 0..10 {
        let frame = format!(r#"{{"type":{t},"seq":1}}"#);
        assert!(serde_json::from_str::<Request>(&frame).is_err(), "{frame}");
    }
    assert!(serde_json::from_str::<Request>(r#"{"type":["quit"],"seq":1}"#).is_err());
}

fn chat(id: i64, from: &str, text: &str) -> ChatMessage {
    ChatMessage {
        id,
        ts: 1_767_225_600_000,
        kind: MessageKind::Message,
        from: from.into(),
        text: text.into(),
        to: Default::default(),
    }
}

#[test]
fn server_replies_wire_form() {
    assert_server(
        ServerMessage::HelloOk(HelloOk {
            seq: 1,
            server: "chatroom-server 0.1.0".into(),
            version: 1,
            min_version: 1,
            max_version: 1,
            // The limits of a server with default flags (a server test checks
            // that this is what it sends), frozen in the JSON below.
            limits: Limits::default(),
        }),
        json!({"type":"hello_ok","seq":1,"server":"chatroom-server 0.1.0","version":1,
               "min_version":1,"max_version":1,
               "limits":{"max_frame_bytes":65536,"max_text_bytes":4096,"max_history_page":200,
                         "idle_timeout_ms":60000,"ping_interval_ms":20000,"auth_timeout_ms":20000,
                         "frame_timeout_ms":10000,"max_login_attempts":3,
                         "max_uploads_per_user":4,"max_list_page":500,"max_list_page_bytes":1_048_576,
                         "request_rate":20,"request_burst":100,"rate_limit_strikes":20,
                         "max_connections_per_address":32,"connection_rate_per_address":20,
                         "connection_burst_per_address":200,"outbound_queue":1024,
                         "outbound_bytes":8_388_608,"write_timeout_ms":10000,"request_timeout_ms":11000,
                         "max_groups_per_user":5,"max_search_words":8,"max_search_word_chars":64,
                         "max_offline_delivery":10000,"max_file_size":1_073_741_824,
                         "max_files_bytes_per_user":10_737_418_240_u64,"transfer_ticket_ttl_ms":60000,
                         "transfer_idle_timeout_ms":30000,"game_invite_ttl_ms":300_000,
                         "game_move_timeout_ms":60000,"game_reconnect_grace_ms":30000}}),
    );
    assert_server(
        ServerMessage::RegisterOk(RegisterOk {
            seq: 2,
            user: UserInfo {
                id: 1,
                name: "alice".into(),
            },
        }),
        json!({"type":"register_ok","seq":2,"user":{"id":1,"name":"alice"}}),
    );
    assert_server(
        ServerMessage::LoginOk(LoginOk {
            seq: 3,
            user: UserInfo {
                id: 1,
                name: "alice".into(),
            },
            token: "tok".into(),
            token_expires: 1_769_817_600_000,
            online: vec![OnlineUser {
                name: "alice".into(),
                since: 1_767_225_600_000,
            }],
            online_count: 1,
            online_next: None,
            recent: vec![chat(41, "bob", "hi all")],
        }),
        json!({"type":"login_ok","seq":3,"user":{"id":1,"name":"alice"},"token":"tok",
               "token_expires":1_769_817_600_000_i64,
               "online":[{"name":"alice","since":1_767_225_600_000_i64}],"online_count":1,
               "recent":[{"id":41,"ts":1_767_225_600_000_i64,"kind":"message","from":"bob","text":"hi all"}]}),
    );
    assert_server(
        ServerMessage::SayOk(SayOk {
            seq: 5,
            id: "c-1".into(),
            message_id: 42,
            ts: 1_767_225_600_000,
        }),
        json!({"type":"say_ok","seq":5,"id":"c-1","message_id":42,"ts":1_767_225_600_000_i64}),
    );
    assert_server(
        ServerMessage::HistoryPage(HistoryPage {
            seq: 6,
            messages: vec![chat(41, "bob", "hi all")],
            has_more: true,
        }),
        json!({"type":"history_page","seq":6,"has_more":true,
               "messages":[{"id":41,"ts":1_767_225_600_000_i64,"kind":"message","from":"bob","text":"hi all"}]}),
    );
    assert_server(
        ServerMessage::Pong(Pong {
            seq: 8,
            ts: 1_767_225_600_000,
        }),
        json!({"type":"pong","seq":8,"ts":1_767_225_600_000_i64}),
    );
    assert_server(
        ServerMessage::Bye(Bye { seq: 9 }),
        json!({"type":"bye","seq":9}),
    );
}

#[test]
fn hello_ok_from_a_server_without_the_upload_limit_still_parses() {
    let old = json!({"type":"hello_ok","seq":1,"server":"chatroom-server 0.0.9","version":1,
                     "min_version":1,"max_version":1,
                     "limits":{"max_frame_bytes":65536,"max_text_bytes":4096,"max_history_page":200,
                               "idle_timeout_ms":60000,"ping_interval_ms":20000,"auth_timeout_ms":20000,
                               "frame_timeout_ms":10000,"max_login_attempts":3}});
    let ServerMessage::HelloOk(ok) = serde_json::from_value(old).unwrap() else {
        panic!("not hello_ok");
    };
    assert_eq!(
        ok.limits.max_uploads_per_user, 0,
        "0: no limit, as it had none"
    );
}

#[test]
fn error_wire_form() {
    let mut e = ErrorReply::new(Some(3), ErrorCode::WrongPassword, "wrong password");
    e.attempts_left = Some(2);
    assert_server(
        ServerMessage::Error(e),
        json!({"type":"error","seq":3,"code":"wrong_password","message":"wrong password","attempts_left":2}),
    );
    let mut e = ErrorReply::new(
        Some(1),
        ErrorCode::VersionUnsupported,
        "version 9 is not supported",
    );
    e.min_version = Some(1);
    e.max_version = Some(1);
    e.server = Some("chatroom-server 0.1.0".into());
    assert_server(
        ServerMessage::Error(e),
        json!({"type":"error","seq":1,"code":"version_unsupported","message":"version 9 is not supported",
               "min_version":1,"max_version":1,"server":"chatroom-server 0.1.0"}),
    );
    assert_server(
        ServerMessage::Error(ErrorReply::new(None, ErrorCode::FrameTooLarge, "too large")),
        json!({"type":"error","code":"frame_too_large","message":"too large"}),
    );
    // PROTOCOL §10.2: an id used for another message, and a disk that is full.
    assert_server(
        ServerMessage::Error(ErrorReply::new(
            Some(7),
            ErrorCode::MessageIdReused,
            "the message id \"c-1\" was used before for another message; nothing was stored: send it again with a new id",
        )),
        json!({"type":"error","seq":7,"code":"message_id_reused","message":"the message id \"c-1\" was used before for another message; nothing was stored: send it again with a new id"}),
    );
    let mut e = ErrorReply::new(
        Some(8),
        ErrorCode::StorageUnavailable,
        "the server cannot store messages right now; nothing was stored: send it again (with the same id) after retry_after_ms",
    );
    e.retry_after_ms = Some(1600);
    assert_server(
        ServerMessage::Error(e),
        json!({"type":"error","seq":8,"code":"storage_unavailable","message":"the server cannot store messages right now; nothing was stored: send it again (with the same id) after retry_after_ms","retry_after_ms":1600}),
    );
}

#[test]
fn server_events_wire_form() {
    let ts = 1_767_225_600_000_i64;
    assert_server(
        ServerMessage::UserJoined(UserJoined {
            name: "bob".into(),
            ts,
        }),
        json!({"type":"user_joined","name":"bob","ts":ts}),
    );
    assert_server(
        ServerMessage::UserLeft(UserLeft {
            name: "bob".into(),
            reason: LeaveReason::Quit,
            ts,
        }),
        json!({"type":"user_left","name":"bob","reason":"quit","ts":ts}),
    );
    assert_server(
        ServerMessage::Message(chat(42, "bob", "hi")),
        json!({"type":"message","id":42,"ts":ts,"kind":"message","from":"bob","text":"hi"}),
    );
    assert_server(
        ServerMessage::Announcement(Announcement {
            id: 43,
            ts,
            text: "maintenance at noon".into(),
        }),
        json!({"type":"announcement","id":43,"ts":ts,"text":"maintenance at noon"}),
    );
    assert_server(
        ServerMessage::SessionReplaced(SessionReplaced {}),
        json!({"type":"session_replaced"}),
    );
    assert_server(
        ServerMessage::Kicked(Kicked {
            reason: Some("spam".into()),
            banned: false,
        }),
        json!({"type":"kicked","reason":"spam","banned":false}),
    );
    assert_server(
        ServerMessage::ServerShutdown(ServerShutdown {
            message: "bye".into(),
        }),
        json!({"type":"server_shutdown","message":"bye"}),
    );
}

#[test]
fn seq_is_reported_for_replies_only() {
    assert_eq!(ServerMessage::Bye(Bye { seq: 4 }).seq(), Some(4));
    assert_eq!(
        ServerMessage::SessionReplaced(SessionReplaced {}).seq(),
        None
    );
}

pub(super) fn file_info() -> FileInfo {
    FileInfo {
        id: 7,
        name: "report.pdf".into(),
        size: 12_897_484,
        sha256: "ab".repeat(32),
        uploader: "alice".into(),
        comment: Some("Q3 numbers".into()),
        ts: 1_767_225_600_000,
    }
}

pub(super) fn file_json() -> Value {
    json!({"id":7,"name":"report.pdf","size":12_897_484,"sha256":"ab".repeat(32),
           "uploader":"alice","comment":"Q3 numbers","ts":1_767_225_600_000_i64})
}

#[test]
fn file_requests_wire_form() {
    assert_client(
        req(10, ClientMessage::Files(Files::default())),
        json!({"type":"files","seq":10}),
    );
    assert_client(
        req(
            13,
            ClientMessage::Files(Files {
                after: Some(7),
                limit: Some(100),
            }),
        ),
        json!({"type":"files","seq":13,"after":7,"limit":100}),
    );
    assert_client(
        req(
            11,
            ClientMessage::UploadBegin(UploadBegin {
                name: "report.pdf".into(),
                size: 12_897_484,
                sha256: "ab".repeat(32),
                comment: Some("Q3 numbers".into()),
            }),
        ),
        json!({"type":"upload_begin","seq":11,"name":"report.pdf","size":12_897_484,
               "sha256":"ab".repeat(32),"comment":"Q3 numbers"}),
    );
    assert_client(
        req(
            12,
            ClientMessage::DownloadBegin(DownloadBegin {
                file_id: 7,
                offset: 1024,
            }),
        ),
        json!({"type":"download_begin","seq":12,"file_id":7,"offset":1024}),
    );
    let r: Request =
        serde_json::from_value(json!({"type":"download_begin","seq":12,"file_id":7})).unwrap();
    assert_eq!(
        r.body,
        ClientMessage::DownloadBegin(DownloadBegin {
            file_id: 7,
            offset: 0
        })
    );
    assert_client(
        req(
            1,
            ClientMessage::Transfer(Transfer {
                ticket: "mnlIMLkyiExS_W2_yZX3GEGM4wZlzEHOki6ZLqVtEtM".into(),
            }),
        ),
        json!({"type":"transfer","seq":1,"ticket":"mnlIMLkyiExS_W2_yZX3GEGM4wZlzEHOki6ZLqVtEtM"}),
    );
}

#[test]
fn file_replies_and_events_wire_form() {
    assert_server(
        ServerMessage::FileList(FileList {
            seq: 10,
            files: vec![file_info()],
            has_more: false,
            next: None,
        }),
        json!({"type":"file_list","seq":10,"files":[file_json()],"has_more":false}),
    );
    assert_server(
        ServerMessage::FileList(FileList {
            seq: 13,
            files: vec![],
            has_more: false,
            next: None,
        }),
        json!({"type":"file_list","seq":13,"files":[],"has_more":false}),
    );
    assert_server(
        ServerMessage::UploadReady(UploadReady {
            seq: 11,
            ticket: "mnlIMLkyiExS_W2_yZX3GEGM4wZlzEHOki6ZLqVtEtM".into(),
            offset: 0,
            expires: 1_767_225_660_000,
        }),
        json!({"type":"upload_ready","seq":11,"ticket":"mnlIMLkyiExS_W2_yZX3GEGM4wZlzEHOki6ZLqVtEtM","offset":0,"expires":1_767_225_660_000_i64}),
    );
    assert_server(
        ServerMessage::DownloadReady(DownloadReady {
            seq: 12,
            file: file_info(),
            ticket: "mnlIMLkyiExS_W2_yZX3GEGM4wZlzEHOki6ZLqVtEtM".into(),
            offset: 1024,
            expires: 1_767_225_660_000,
        }),
        json!({"type":"download_ready","seq":12,"file":file_json(),"ticket":"mnlIMLkyiExS_W2_yZX3GEGM4wZlzEHOki6ZLqVtEtM","offset":1024,"expires":1_767_225_660_000_i64}),
    );
    assert_server(
        ServerMessage::TransferReady(TransferReady {
            seq: 1,
            direction: Direction::Download,
            offset: 1024,
            length: 12_896_460,
        }),
        json!({"type":"transfer_ready","seq":1,"direction":"download","offset":1024,"length":12_896_460}),
    );
    assert_server(
        ServerMessage::TransferDone(TransferDone {
            seq: 1,
            file: file_info(),
        }),
        json!({"type":"transfer_done","seq":1,"file":file_json()}),
    );
    assert_server(
        ServerMessage::FileShared(FileShared { file: file_info() }),
        json!({"type":"file_shared","file":file_json()}),
    );
}

fn open_game() -> GameView {
    GameView {
        id: 1,
        status: GameStatus::Open,
        x: "alice".into(),
        o: None,
        moves: vec![],
        board: ".........".into(),
        turn: None,
        deadline: Some(1_767_225_900_000),
        result: None,
        created: 1_767_225_600_000,
    }
}

#[test]
fn game_requests_wire_form() {
    assert_client(
        req(20, ClientMessage::GameInvite(GameInviteRequest {})),
        json!({"type":"game_invite","seq":20}),
    );
    let one = GameRef { game_id: 1 };
    for (body, name) in [
        (ClientMessage::GameCancel(one.clone()), "game_cancel"),
        (ClientMessage::GameAccept(one.clone()), "game_accept"),
        (ClientMessage::GameResign(one.clone()), "game_resign"),
        (ClientMessage::GameWatch(one.clone()), "game_watch"),
        (ClientMessage::GameUnwatch(one.clone()), "game_unwatch"),
    ] {
        assert_eq!(body.type_name(), name);
        assert_client(req(7, body), json!({"type":name,"seq":7,"game_id":1}));
    }
    assert_client(
        req(
            21,
            ClientMessage::GameMove(GameMove {
                game_id: 1,
                cell: 4,
            }),
        ),
        json!({"type":"game_move","seq":21,"game_id":1,"cell":4}),
    );
    assert_client(
        req(2, ClientMessage::Games(Games::default())),
        json!({"type":"games","seq":2}),
    );
    assert_client(
        req(
            3,
            ClientMessage::Games(Games {
                after: None,
                limit: Some(1),
            }),
        ),
        json!({"type":"games","seq":3,"limit":1}),
    );
    assert_client(
        req(
            4,
            ClientMessage::Games(Games {
                after: Some(1),
                limit: None,
            }),
        ),
        json!({"type":"games","seq":4,"after":1}),
    );
    assert_client(
        req(
            10,
            ClientMessage::Stats(StatsRequest {
                name: Some("alice".into()),
            }),
        ),
        json!({"type":"stats","seq":10,"name":"alice"}),
    );
    assert_client(
        req(11, ClientMessage::Stats(StatsRequest { name: None })),
        json!({"type":"stats","seq":11}),
    );
}

#[test]
fn game_replies_and_events_wire_form() {
    let open = json!({"id":1,"status":"open","x":"alice","moves":[],"board":".........","deadline":1_767_225_900_000_i64,"created":1_767_225_600_000_i64});
    assert_server(
        ServerMessage::GameState(GameState {
            seq: 20,
            game: open_game(),
        }),
        json!({"type":"game_state","seq":20,"game":open}),
    );
    assert_server(
        ServerMessage::GameInvite(GameInvite { game: open_game() }),
        json!({"type":"game_invite","game":open}),
    );
    assert_server(
        ServerMessage::GameList(GameList {
            seq: 2,
            games: vec![open_game()],
            has_more: false,
            next: None,
        }),
        json!({"type":"game_list","seq":2,"games":[open],"has_more":false}),
    );
    assert_server(
        ServerMessage::GameList(GameList {
            seq: 3,
            games: vec![open_game()],
            has_more: true,
            next: Some(1),
        }),
        json!({"type":"game_list","seq":3,"games":[open],"has_more":true,"next":1}),
    );
    let over = GameView {
        status: GameStatus::Over,
        o: Some("bob".into()),
        moves: vec![4, 1, 0, 2, 8],
        board: "XOO.X...X".into(),
        deadline: None,
        result: Some(GameResult {
            winner: Some("alice".into()),
            loser: Some("bob".into()),
            reason: EndReason::Line,
            line: Some([0, 4, 8]),
            summary: "alice beat bob at tic-tac-toe".into(),
        }),
        ..open_game()
    };
    assert_server(
        ServerMessage::GameUpdate(GameUpdate { game: over }),
        json!({"type":"game_update","game":{"id":1,"status":"over","x":"alice","o":"bob","moves":[4,1,0,2,8],"board":"XOO.X...X","result":{"winner":"alice","loser":"bob","reason":"line","line":[0,4,8],"summary":"alice beat bob at tic-tac-toe"},"created":1_767_225_600_000_i64}}),
    );
    assert_server(
        ServerMessage::Stats(Stats {
            seq: 10,
            name: "alice".into(),
            wins: 1,
            losses: 0,
            draws: 0,
        }),
        json!({"type":"stats","seq":10,"name":"alice","wins":1,"losses":0,"draws":0}),
    );
}

fn secret() -> GroupInfo {
    GroupInfo {
        id: 2,
        name: "secret".into(),
        creator: "alice".into(),
        private: true,
        comment: Some("plans".into()),
        created: 1_767_225_600_000,
        status: GroupStatus::Open,
        me: Membership::Requested,
        members: 1,
    }
}

#[test]
fn group_requests_wire_form() {
    let rust = Target::Group {
        group: "rust".into(),
    };
    assert_client(
        req(
            12,
            ClientMessage::Send(Send {
                id: "c-17".into(),
                to: rust.clone(),
                text: "hello rustaceans".into(),
            }),
        ),
        json!({"type":"send","seq":12,"id":"c-17","to":{"kind":"group","group":"rust"},"text":"hello rustaceans"}),
    );
    assert_client(
        req(
            13,
            ClientMessage::Send(Send {
                id: "c-18".into(),
                to: Target::User { user: "bob".into() },
                text: "lunch?".into(),
            }),
        ),
        json!({"type":"send","seq":13,"id":"c-18","to":{"kind":"user","user":"bob"},"text":"lunch?"}),
    );
    assert_client(
        req(
            3,
            ClientMessage::GroupCreate(GroupCreate {
                name: "secret".into(),
                private: true,
                comment: Some("plans".into()),
                full_history: false,
            }),
        ),
        json!({"type":"group_create","seq":3,"name":"secret","private":true,"comment":"plans"}),
    );
    let g = GroupRef {
        group: "secret".into(),
    };
    for (body, name) in [
        (ClientMessage::GroupJoin(g.clone()), "group_join"),
        (ClientMessage::GroupLeave(g.clone()), "group_leave"),
        (
            ClientMessage::GroupMembers(GroupMembers {
                group: "secret".into(),
                ..Default::default()
            }),
            "group_members",
        ),
    ] {
        assert_eq!(body.type_name(), name);
        assert_client(req(9, body), json!({"type":name,"seq":9,"group":"secret"}));
    }
    let m = GroupMemberRef {
        group: "secret".into(),
        user: "bob".into(),
    };
    for (body, name) in [
        (ClientMessage::GroupApprove(m.clone()), "group_approve"),
        (ClientMessage::GroupReject(m.clone()), "group_reject"),
        (ClientMessage::GroupRemove(m.clone()), "group_remove"),
    ] {
        assert_eq!(body.type_name(), name);
        assert_client(
            req(4, body),
            json!({"type":name,"seq":4,"group":"secret","user":"bob"}),
        );
    }
    assert_client(
        req(
            10,
            ClientMessage::GroupMembers(GroupMembers {
                group: "secret".into(),
                after: None,
                limit: Some(1),
            }),
        ),
        json!({"type":"group_members","seq":10,"group":"secret","limit":1}),
    );
    assert_client(
        req(
            11,
            ClientMessage::GroupMembers(GroupMembers {
                group: "secret".into(),
                after: Some("alice".into()),
                limit: None,
            }),
        ),
        json!({"type":"group_members","seq":11,"group":"secret","after":"alice"}),
    );
    assert_client(
        req(5, ClientMessage::Groups(Groups::default())),
        json!({"type":"groups","seq":5}),
    );
    assert_client(
        req(
            6,
            ClientMessage::Groups(Groups {
                after: Some(2),
                limit: Some(100),
            }),
        ),
        json!({"type":"groups","seq":6,"after":2,"limit":100}),
    );
    assert_client(
        req(
            3,
            ClientMessage::Read(Read {
                to: Target::User {
                    user: "alice".into(),
                },
                upto: 5013,
            }),
        ),
        json!({"type":"read","seq":3,"to":{"kind":"user","user":"alice"},"upto":5013}),
    );
    assert_client(
        req(
            9,
            ClientMessage::Search(Search {
                text: "rocket launch".into(),
                before: None,
                limit: Some(20),
            }),
        ),
        json!({"type":"search","seq":9,"text":"rocket launch","limit":20}),
    );
    assert_client(
        req(
            8,
            ClientMessage::History(History {
                to: rust,
                from: Some("alice".into()),
                text: Some("release".into()),
                limit: Some(20),
                ..Default::default()
            }),
        ),
        json!({"type":"history","seq":8,"to":{"kind":"group","group":"rust"},"from":"alice","text":"release","limit":20}),
    );
}

#[test]
fn group_replies_and_events_wire_form() {
    let info = json!({"id":2,"name":"secret","creator":"alice","private":true,"comment":"plans","created":1_767_225_600_000_i64,"status":"open","me":"requested","members":1});
    assert_server(
        ServerMessage::GroupState(GroupState {
            seq: 9,
            group: secret(),
        }),
        json!({"type":"group_state","seq":9,"group":info}),
    );
    assert_server(
        ServerMessage::GroupList(GroupList {
            seq: 5,
            groups: vec![secret()],
            has_more: true,
            next: Some(2),
        }),
        json!({"type":"group_list","seq":5,"groups":[info],"has_more":true,"next":2}),
    );
    assert_server(
        ServerMessage::GroupList(GroupList {
            seq: 6,
            groups: vec![],
            has_more: false,
            next: None,
        }),
        json!({"type":"group_list","seq":6,"groups":[],"has_more":false}),
    );
    assert_server(
        ServerMessage::GroupUpdate(GroupUpdate {
            group: secret(),
            change: GroupChange::Requested,
            user: Some("bob".into()),
        }),
        json!({"type":"group_update","group":info,"change":"requested","user":"bob"}),
    );
    assert_server(
        ServerMessage::MemberList(MemberList {
            seq: 2,
            group: "secret".into(),
            members: vec!["alice".into()],
            requests: vec!["bob".into()],
            has_more: false,
            next: None,
        }),
        json!({"type":"member_list","seq":2,"group":"secret","members":["alice"],"requests":["bob"],"has_more":false}),
    );
    assert_server(
        ServerMessage::MemberList(MemberList {
            seq: 10,
            group: "secret".into(),
            members: vec!["alice".into()],
            requests: vec![],
            has_more: true,
            next: Some("alice".into()),
        }),
        json!({"type":"member_list","seq":10,"group":"secret","members":["alice"],"requests":[],"has_more":true,"next":"alice"}),
    );
    assert_server(
        ServerMessage::MemberList(MemberList {
            seq: 11,
            group: "secret".into(),
            members: vec![],
            requests: vec!["bob".into()],
            has_more: false,
            next: None,
        }),
        json!({"type":"member_list","seq":11,"group":"secret","members":[],"requests":["bob"],"has_more":false}),
    );
    assert_server(
        ServerMessage::ReadOk(ReadOk {
            seq: 3,
            to: Target::User {
                user: "alice".into(),
            },
            upto: 5013,
        }),
        json!({"type":"read_ok","seq":3,"to":{"kind":"user","user":"alice"},"upto":5013}),
    );
    let dm = ChatMessage {
        id: 5013,
        ts: 1_767_225_601_000,
        kind: MessageKind::Message,
        from: "alice".into(),
        text: "lunch?".into(),
        to: Target::User { user: "bob".into() },
    };
    assert_server(
        ServerMessage::Message(dm.clone()),
        json!({"type":"message","id":5013,"ts":1_767_225_601_000_i64,"kind":"message","from":"alice","text":"lunch?","to":{"kind":"user","user":"bob"}}),
    );
    assert_server(
        ServerMessage::SearchResults(SearchResults {
            seq: 9,
            messages: vec![dm],
            has_more: false,
        }),
        json!({"type":"search_results","seq":9,"messages":[{"id":5013,"ts":1_767_225_601_000_i64,"kind":"message","from":"alice","text":"lunch?","to":{"kind":"user","user":"bob"}}],"has_more":false}),
    );
    // A room message leaves `to` out, as version-1 clients expect.
    let room = serde_json::to_value(ChatMessage {
        id: 1,
        ts: 2,
        kind: MessageKind::Message,
        from: "a".into(),
        text: "b".into(),
        to: Target::Room,
    })
    .unwrap();
    assert!(room.get("to").is_none(), "{room}");
}
