//! Accounts over real TCP: registration and its name and password rules,
//! login, wrong-password and per-address limits, resume tokens, bans, the
//! connection state machine (hello → login) and the authentication deadline.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chatroom_server::db::accounts;
use chatroom_server::time::now_ms;
use chatroom_shared::message::{
    ClientMessage, ErrorReply, Hello, History, Login, Register, Resume, Say, ServerMessage,
    UserInfo,
};
use chatroom_shared::rules::name_key;
use chatroom_shared::{ErrorCode, MAX_PROTOCOL_VERSION, MIN_PROTOCOL_VERSION};
use testkit::client::{PASSWORD, TestClient, WAIT};
use testkit::db::{Backend, TestDb, db_test};
use testkit::server::TestServer;
use tokio::time::Instant;

/// The error inside a reply, or a panic naming what came instead.
fn error(m: ServerMessage) -> ErrorReply {
    match m {
        ServerMessage::Error(e) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

/// The new account of a `register_ok`, or a panic naming what came instead.
fn registered(m: ServerMessage) -> UserInfo {
    match m {
        ServerMessage::RegisterOk(ok) => ok.user,
        other => panic!("expected register_ok, got {other:?}"),
    }
}

/// Register `name` with [`PASSWORD`] on a connection of its own.
async fn register_account(server: &TestServer, name: &str) -> UserInfo {
    let mut c = TestClient::greeted(server.addr).await;
    registered(c.register(name, PASSWORD).await)
}

async fn resume(c: &mut TestClient, token: &str) -> ServerMessage {
    c.request(ClientMessage::Resume(Resume {
        token: token.into(),
    }))
    .await
}

fn hello(version: u32) -> ClientMessage {
    ClientMessage::Hello(Hello {
        version,
        client: "chatroom-tests".into(),
    })
}

fn say(id: &str, text: &str) -> ClientMessage {
    ClientMessage::Say(Say {
        id: id.into(),
        text: text.into(),
    })
}

fn latest_history() -> ClientMessage {
    ClientMessage::History(History::default())
}

// ----- registration and login -----

db_test!(
    register_then_login_opens_a_session_with_token_online_list_and_recent_messages,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let said = alice.say_ok("a1", "hello, whoever comes next").await;

        let mut bob = TestClient::greeted(server.addr).await;
        let bob_user = registered(bob.register("bob", PASSWORD).await);
        assert_eq!(bob_user.name, "bob");
        let ok = bob.login_ok("bob", PASSWORD).await;
        assert_eq!(ok.user, bob_user);
        assert!(!ok.token.is_empty(), "login_ok carries a resume token");
        assert!(
            ok.token_expires > said.ts,
            "the token expires in the future"
        );
        assert_eq!(
            ok.online
                .iter()
                .map(|u| u.name.as_str())
                .collect::<Vec<_>>(),
            ["alice", "bob"]
        );
        let last = ok.recent.last().expect("recent messages are sent on login");
        assert_eq!(last.id, said.message_id);
        assert_eq!(last.from, "alice");
        assert_eq!(last.text, "hello, whoever comes next");
        server.stop().await;
    }
);

db_test!(
    login_name_is_matched_ignoring_case_and_normalization,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let alice = register_account(&server, "Alice").await;
        let mut c = TestClient::greeted(server.addr).await;
        let ok = c.login_ok("ALICE", PASSWORD).await;
        assert_eq!(ok.user, alice, "logged in as the registered account");
        assert_eq!(ok.user.name, "Alice", "the name is shown as registered");
        let zoe = register_account(&server, "Zo\u{eb}").await;
        let mut c = TestClient::greeted(server.addr).await;
        let ok = c.login_ok("ZOE\u{0308}", PASSWORD).await;
        assert_eq!(ok.user, zoe, "NFD and NFC name the same account");
        server.stop().await;
    }
);

db_test!(
    name_that_looks_like_a_taken_one_gets_name_taken,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let mut c = TestClient::greeted(server.addr).await;
        registered(c.register("alice", PASSWORD).await);
        // Registered in NFD, stored in NFC.
        let zoe = registered(c.register("Zoe\u{0308}", PASSWORD).await);
        assert_eq!(zoe.name, "Zo\u{eb}");
        for twin in [
            "alice",
            "Alice",
            "ALICE",
            "\u{ff41}\u{ff4c}\u{ff49}\u{ff43}\u{ff45}", // full-width ａｌｉｃｅ
            "\u{430}lice",                              // Cyrillic а
            "Zo\u{eb}",                                 // NFC of the NFD name above
            "Zoe\u{0308}",
        ] {
            let e = error(c.register(twin, PASSWORD).await);
            assert_eq!(e.code, ErrorCode::NameTaken, "{twin:?}: {e:?}");
        }
        // The connection is still usable, and a different name is free.
        registered(c.register("alicia", PASSWORD).await);
        server.stop().await;
    }
);

db_test!(names_outside_the_rules_get_invalid_name, |tdb| async move {
    let server = TestServer::start(tdb.url()).await;
    let mut c = TestClient::greeted(server.addr).await;
    let too_long = "a".repeat(33);
    for bad in [
        "",
        too_long.as_str(),
        "al ice",
        "alice ",
        "al\tice",
        "al\u{1b}ice",
        "al\u{200b}ice",
        "admin",
        "Admin",
    ] {
        let e = error(c.register(bad, PASSWORD).await);
        assert_eq!(e.code, ErrorCode::InvalidName, "{bad:?}: {e:?}");
    }
    let longest = "a".repeat(32);
    assert_eq!(
        registered(c.register(&longest, PASSWORD).await).name,
        longest
    );
    server.stop().await;
});

/// Register `name` and log in with it on a second connection.
async fn register_and_log_in(server: &TestServer, name: &str) {
    let mut c = TestClient::greeted(server.addr).await;
    match c.register(name, PASSWORD).await {
        ServerMessage::RegisterOk(ok) => assert_eq!(ok.user.name, name),
        other => panic!("register {name:?} ({} bytes): {other:?}", name.len()),
    }
    let mut other = TestClient::greeted(server.addr).await;
    assert_eq!(other.login_ok(name, PASSWORD).await.user.name, name);
}

db_test!(
    names_of_32_multibyte_characters_can_be_registered,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        // 96 and 128 bytes of UTF-8; the last one's name key is 128 bytes ("MHz" each).
        for name in ["字".repeat(32), "👍".repeat(32), "㎒".repeat(32)] {
            register_and_log_in(&server, &name).await;
        }
        server.stop().await;
    }
);

db_test!(
    name_whose_key_outgrows_the_key_column_gets_invalid_name,
    |tdb| async move {
        // U+FDFA is one character whose look-alike key is 30 bytes: nine of
        // them are a legal length but a key over the 255-byte column.
        let server = TestServer::start(tdb.url()).await;
        let mut c = TestClient::greeted(server.addr).await;
        let nine = "\u{fdfa}".repeat(9);
        assert!(name_key(&nine).len() > 255);
        assert_eq!(
            error(c.register(&nine, PASSWORD).await).code,
            ErrorCode::InvalidName
        );
        // Eight fit, and register and log in on every database.
        let eight = "\u{fdfa}".repeat(8);
        register_and_log_in(&server, &eight).await;
        server.stop().await;
    }
);

db_test!(
    passwords_outside_the_rules_get_invalid_password,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let mut c = TestClient::greeted(server.addr).await;
        let too_long = "p".repeat(1025);
        for (i, bad) in ["", "1234567", too_long.as_str()].into_iter().enumerate() {
            let e = error(c.register(&format!("user{i}"), bad).await);
            assert_eq!(
                e.code,
                ErrorCode::InvalidPassword,
                "{} bytes: {e:?}",
                bad.len()
            );
        }
        // The bounds themselves are fine.
        registered(c.register("shortest", "12345678").await);
        registered(c.register("longest", &"p".repeat(1024)).await);
        // Nothing was created by the refused attempts: the name is still free.
        registered(c.register("user0", "12345678").await);
        server.stop().await;
    }
);

db_test!(
    passwords_differing_after_byte_72_are_distinct,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let long = format!("{}Z", "p".repeat(72));
        assert_eq!(long.len(), 73);
        let mut c = TestClient::greeted(server.addr).await;
        registered(c.register("carol", &long).await);
        let e = error(c.login("carol", &long[..72]).await);
        assert_eq!(
            e.code,
            ErrorCode::WrongPassword,
            "the first 72 bytes are not enough"
        );
        let e = error(c.login("carol", &format!("{}Y", &long[..72])).await);
        assert_eq!(e.code, ErrorCode::WrongPassword, "byte 73 matters");
        c.login_ok("carol", &long).await;
        server.stop().await;
    }
);

db_test!(password_with_a_nul_byte_works_in_full, |tdb| async move {
    let server = TestServer::start(tdb.url()).await;
    let password = "abc\0defgh";
    let mut c = TestClient::greeted(server.addr).await;
    registered(c.register("dave", password).await);
    let e = error(c.login("dave", "abc").await);
    assert_eq!(e.code, ErrorCode::WrongPassword, "not cut at the NUL");
    let e = error(c.login("dave", "abc\0defgX").await);
    assert_eq!(
        e.code,
        ErrorCode::WrongPassword,
        "bytes after the NUL matter"
    );
    c.login_ok("dave", password).await;
    server.stop().await;
});

db_test!(
    fifty_simultaneous_registrations_of_one_name_give_exactly_one_account,
    |tdb| async move {
        const N: usize = 50;
        let server = TestServer::start(tdb.url()).await;
        let mut clients = Vec::with_capacity(N);
        for _ in 0..N {
            clients.push(TestClient::greeted(server.addr).await);
        }
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(N));
        let tasks: Vec<_> = clients
            .into_iter()
            .map(|mut c| {
                let start = start.clone();
                tokio::spawn(async move {
                    start.wait().await;
                    c.register("rush", PASSWORD).await
                })
            })
            .collect();
        let mut ok = Vec::new();
        let mut taken = 0;
        for task in tasks {
            match task.await.unwrap() {
                ServerMessage::RegisterOk(r) => ok.push(r.user),
                ServerMessage::Error(e) if e.code == ErrorCode::NameTaken => taken += 1,
                other => panic!("unexpected reply to a racing register: {other:?}"),
            }
        }
        assert_eq!(ok.len(), 1, "exactly one registration wins: {ok:?}");
        assert_eq!(taken, N - 1);
        let mut c = TestClient::greeted(server.addr).await;
        assert_eq!(c.login_ok("rush", PASSWORD).await.user, ok[0]);
        server.stop().await;
    }
);

// An unknown name gets exactly the reply a wrong password gets (same code,
// message and attempts left, counted alike), so replies do not tell which
// names exist; the server runs bcrypt for both (password::verify_unknown).
db_test!(
    an_unknown_name_is_answered_exactly_like_a_wrong_password,
    |tdb| async move {
        let server = TestServer::start_with(tdb.url(), |c| c.max_login_attempts = 4).await;
        register_account(&server, "alice").await;
        let mut c = TestClient::greeted(server.addr).await;
        let unknown = error(c.login("nobody", PASSWORD).await);
        let wrong = error(c.login("alice", "not the password").await);
        assert_eq!(unknown.code, ErrorCode::WrongPassword);
        assert_eq!(
            (unknown.attempts_left, wrong.attempts_left),
            (Some(3), Some(2))
        );
        assert_eq!(
            unknown.message.replace('3', "N"),
            wrong.message.replace('2', "N"),
            "the same words"
        );
        let unknown_again = error(c.login("nobody", PASSWORD).await);
        assert_eq!(unknown_again.attempts_left, Some(1));
        // The same JSON apart from seq and the count.
        let mut a = serde_json::to_value(&unknown).unwrap();
        let mut b = serde_json::to_value(&wrong).unwrap();
        for v in [&mut a, &mut b] {
            let o = v.as_object_mut().unwrap();
            o.remove("seq");
            o.remove("attempts_left");
            o.remove("message");
        }
        assert_eq!(a, b);
        // The connection stays open for another try.
        c.login_ok("alice", PASSWORD).await;
        server.stop().await;
    }
);

// ----- wrong passwords and throttling -----

db_test!(third_wrong_password_closes_connection, |tdb| async move {
    let server = TestServer::start(tdb.url()).await;
    register_account(&server, "alice").await;
    let mut c = TestClient::greeted(server.addr).await;
    for left in [2, 1] {
        let e = error(c.login("alice", "wrong password").await);
        assert_eq!(e.code, ErrorCode::WrongPassword);
        assert_eq!(e.attempts_left, Some(left));
    }
    let e = error(c.login("alice", "wrong password").await);
    assert_eq!(e.code, ErrorCode::WrongPassword);
    assert_eq!(e.attempts_left, Some(0));
    let rest = c.expect_closed().await;
    assert!(rest.is_empty(), "nothing after the last error: {rest:?}");
    // The limit is per connection: a new one may log in.
    let mut again = TestClient::greeted(server.addr).await;
    again.login_ok("alice", PASSWORD).await;
    server.stop().await;
});

db_test!(
    correct_password_after_a_wrong_one_logs_in,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let alice = register_account(&server, "alice").await;
        let mut c = TestClient::greeted(server.addr).await;
        let e = error(c.login("alice", "wrong password").await);
        assert_eq!(e.code, ErrorCode::WrongPassword);
        assert_eq!(e.attempts_left, Some(2));
        assert_eq!(c.login_ok("alice", PASSWORD).await.user, alice);
        c.say_ok("m1", "in after all").await;
        server.stop().await;
    }
);

db_test!(
    address_over_its_failure_limit_is_refused_even_with_the_right_password,
    |tdb| async move {
        let server = TestServer::start_with(tdb.url(), |c| c.address_failure_limit = 3).await;
        register_account(&server, "alice").await;
        // Greeted before the address goes over its limit.
        let mut waiting = TestClient::greeted(server.addr).await;
        let mut failing = Vec::new();
        for _ in 0..3 {
            let mut c = TestClient::greeted(server.addr).await;
            let e = error(c.login("alice", "wrong password").await);
            assert_eq!(e.code, ErrorCode::WrongPassword);
            failing.push(c);
        }

        let e = error(waiting.login("alice", PASSWORD).await);
        assert_eq!(e.code, ErrorCode::TooManyAttempts, "{e:?}");
        let retry = e
            .retry_after_ms
            .expect("too_many_attempts says when to retry");
        assert!(
            retry > 0 && retry <= 5 * 60 * 1000,
            "retry_after_ms {retry}"
        );
        // The same holds on a connection that failed itself.
        let e = error(failing[2].login("alice", PASSWORD).await);
        assert_eq!(e.code, ErrorCode::TooManyAttempts);

        let mut fresh = TestClient::connect(server.addr).await;
        let e = error(
            fresh
                .request(hello(chatroom_shared::PROTOCOL_VERSION))
                .await,
        );
        assert_eq!(e.code, ErrorCode::AddressRefused, "{e:?}");
        assert!(e.retry_after_ms.is_some_and(|ms| ms > 0));
        fresh.expect_closed().await;
        server.stop().await;
    }
);

// ----- resume tokens and bans -----

db_test!(resume_token_logs_in_as_the_same_user, |tdb| async move {
    let server = TestServer::start(tdb.url()).await;
    let (alice, first) = TestClient::user(server.addr, "alice").await;
    drop(alice);

    let mut c = TestClient::greeted(server.addr).await;
    match resume(&mut c, &first.token).await {
        ServerMessage::LoginOk(ok) => {
            assert_eq!(ok.user, first.user);
            assert_eq!(ok.token, first.token);
            assert!(ok.online.iter().any(|u| u.name == "alice"));
        }
        other => panic!("resume: {other:?}"),
    }
    c.say_ok("r1", "back again").await;
    server.stop().await;
});

db_test!(garbage_resume_token_gets_invalid_token, |tdb| async move {
    let server = TestServer::start(tdb.url()).await;
    let (_alice, login) = TestClient::user(server.addr, "alice").await;
    let mut c = TestClient::greeted(server.addr).await;
    for garbage in [
        "not-a-token",
        "",
        format!("{}x", login.token).as_str(),
        "A".repeat(4000).as_str(),
    ] {
        let e = error(resume(&mut c, garbage).await);
        assert_eq!(e.code, ErrorCode::InvalidToken, "{garbage:?}");
    }
    // Still usable: the real token works on the same connection.
    match resume(&mut c, &login.token).await {
        ServerMessage::LoginOk(ok) => assert_eq!(ok.user, login.user),
        other => panic!("resume: {other:?}"),
    }
    server.stop().await;
});

db_test!(
    ban_revokes_tokens_and_disables_password_login_until_unban,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, login) = TestClient::user(server.addr, "alice").await;

        assert!(server.admin.ban("alice").await.unwrap(), "alice was online");
        let kicked = alice.expect_closed().await;
        assert!(
            kicked
                .iter()
                .any(|m| matches!(m, ServerMessage::Kicked(k) if k.banned)),
            "{kicked:?}"
        );

        let mut c = TestClient::greeted(server.addr).await;
        let e = error(resume(&mut c, &login.token).await);
        assert_eq!(e.code, ErrorCode::InvalidToken, "the token was revoked");
        let e = error(c.login("alice", PASSWORD).await);
        assert_eq!(e.code, ErrorCode::AccountDisabled);

        server.admin.unban("alice").await.unwrap();
        let ok = c.login_ok("alice", PASSWORD).await;
        assert_eq!(ok.user, login.user);
        assert_ne!(ok.token, login.token, "a new token is issued");

        let mut other = TestClient::greeted(server.addr).await;
        let e = error(resume(&mut other, &login.token).await);
        assert_eq!(
            e.code,
            ErrorCode::InvalidToken,
            "unban does not revive old tokens"
        );
        server.stop().await;
    }
);

// ----- the connection state machine -----

db_test!(requests_before_hello_get_hello_required, |tdb| async move {
    let server = TestServer::start(tdb.url()).await;
    register_account(&server, "alice").await;
    let mut c = TestClient::connect(server.addr).await;
    let requests = [
        ClientMessage::Register(Register {
            name: "bob".into(),
            password: PASSWORD.into(),
        }),
        ClientMessage::Login(Login {
            name: "alice".into(),
            password: PASSWORD.into(),
        }),
        ClientMessage::Resume(Resume {
            token: "whatever".into(),
        }),
        say("m1", "hi"),
        latest_history(),
    ];
    for request in requests {
        let kind = request.type_name();
        let e = error(c.request(request).await);
        assert_eq!(e.code, ErrorCode::HelloRequired, "{kind}");
    }
    // Hello still works afterwards, and nothing was registered before it.
    c.hello().await;
    registered(c.register("bob", PASSWORD).await);
    c.login_ok("alice", PASSWORD).await;
    server.stop().await;
});

db_test!(chat_before_login_gets_login_required, |tdb| async move {
    let server = TestServer::start(tdb.url()).await;
    let mut c = TestClient::greeted(server.addr).await;
    let e = error(c.request(say("m1", "hi")).await);
    assert_eq!(e.code, ErrorCode::LoginRequired);
    let e = error(c.request(latest_history()).await);
    assert_eq!(e.code, ErrorCode::LoginRequired);
    // Registering does not log in.
    registered(c.register("alice", PASSWORD).await);
    let e = error(c.request(say("m1", "hi")).await);
    assert_eq!(e.code, ErrorCode::LoginRequired);
    c.login_ok("alice", PASSWORD).await;
    c.say_ok("m1", "hi").await;
    server.stop().await;
});

db_test!(second_hello_gets_already_hello, |tdb| async move {
    let server = TestServer::start(tdb.url()).await;
    let mut c = TestClient::greeted(server.addr).await;
    let e = error(c.request(hello(chatroom_shared::PROTOCOL_VERSION)).await);
    assert_eq!(e.code, ErrorCode::AlreadyHello);
    registered(c.register("alice", PASSWORD).await);
    c.login_ok("alice", PASSWORD).await;
    let e = error(c.request(hello(chatroom_shared::PROTOCOL_VERSION)).await);
    assert_eq!(e.code, ErrorCode::AlreadyHello);
    c.say_ok("m1", "still here").await;
    server.stop().await;
});

db_test!(
    login_while_logged_in_gets_already_logged_in,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        register_account(&server, "bob").await;
        let (mut alice, login) = TestClient::user(server.addr, "alice").await;
        let e = error(alice.login("bob", PASSWORD).await);
        assert_eq!(e.code, ErrorCode::AlreadyLoggedIn);
        let e = error(alice.login("alice", PASSWORD).await);
        assert_eq!(e.code, ErrorCode::AlreadyLoggedIn);
        let e = error(resume(&mut alice, &login.token).await);
        assert_eq!(e.code, ErrorCode::AlreadyLoggedIn);
        let e = error(alice.register("carol", PASSWORD).await);
        assert_eq!(e.code, ErrorCode::AlreadyLoggedIn);
        // Still alice, still chatting.
        let ack = alice.say_ok("m1", "who am I").await;
        let page = alice.history(None, None, None).await;
        let mine = page
            .messages
            .iter()
            .find(|m| m.id == ack.message_id)
            .unwrap();
        assert_eq!(mine.from, "alice");
        server.stop().await;
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_version_gets_the_version_range_and_closes() {
    let tdb = TestDb::create(Backend::Sqlite).await;
    let server = TestServer::start(tdb.url()).await;
    for version in [0, MAX_PROTOCOL_VERSION + 1, u32::MAX] {
        let mut c = TestClient::connect(server.addr).await;
        let e = error(c.request(hello(version)).await);
        assert_eq!(e.code, ErrorCode::VersionUnsupported, "version {version}");
        assert_eq!(e.min_version, Some(MIN_PROTOCOL_VERSION));
        assert_eq!(e.max_version, Some(MAX_PROTOCOL_VERSION));
        let rest = c.expect_closed().await;
        assert!(rest.is_empty(), "{rest:?}");
    }
    server.stop().await;
}

db_test!(
    connection_that_never_logs_in_is_closed_at_the_auth_deadline,
    |tdb| async move {
        let deadline = Duration::from_secs(1);
        let server = TestServer::start_with(tdb.url(), |c| c.auth_timeout = deadline).await;
        register_account(&server, "alice").await;
        // Logs in in time, so the deadline no longer applies to it.
        let mut prompt = TestClient::greeted(server.addr).await;
        prompt.login_ok("alice", PASSWORD).await;

        let started = Instant::now();
        let mut idle = TestClient::greeted(server.addr).await;
        let closing = idle.expect_closed().await;
        let waited = started.elapsed();
        match closing.as_slice() {
            [ServerMessage::Error(e)] => {
                assert_eq!(e.code, ErrorCode::AuthTimeout);
                assert_eq!(e.seq, None);
            }
            other => panic!("expected one auth_timeout error, got {other:?}"),
        }
        // Closed at all proves the deadline acts (each read gives up after
        // `WAIT`); only its lower bound is a time a slow machine cannot break.
        assert!(
            waited >= deadline,
            "closed after {waited:?}, before the deadline"
        );

        // Past its own auth deadline, the logged-in connection is still served.
        prompt.say_ok("m1", "still here").await;
        server.stop().await;
    }
);

// ----- login bookkeeping -----

db_test!(
    two_logins_are_counted_in_the_account_table,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let (mut first, login) = TestClient::user(server.addr, "erin").await;
        first.quit().await;
        let before_second = now_ms();
        let (_second, _) = TestClient::existing(server.addr, "erin").await;

        // Login statistics go through the write-behind queue: poll until stored.
        let db = tdb.connect().await;
        let key = name_key("erin");
        let give_up = Instant::now() + WAIT;
        let account = loop {
            let account = accounts::find_by_key(&db, &key).await.unwrap().unwrap();
            if account.login_count >= 2 || Instant::now() > give_up {
                break account;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(account.id, login.user.id);
        assert_eq!(account.login_count, 2);
        assert_eq!(account.last_address.as_deref(), Some("127.0.0.1"));
        let last = account.last_login_time.expect("last login time is stored");
        assert!(last >= before_second, "the last login is the second one");
        server.stop().await;
    }
);
