//! Hostile and broken input over real TCP: every kind of bad frame gets its
//! error code and leaves the connection usable, unrecoverable framing errors
//! close only that connection, the chat rules are enforced, and none of it
//! disturbs the other users.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use chatroom_server::Config;
use chatroom_shared::message::{
    ClientMessage, ErrorReply, Hello, History, LeaveReason, Login, Ping, Register, Request, Say,
    ServerMessage,
};
use chatroom_shared::{ErrorCode, PROTOCOL_VERSION, encode_frame, encode_frame_into};
use testkit::client::{PASSWORD, TestClient, WAIT};
use testkit::db::{Backend, TestDb, db_test};
use testkit::server::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// A server on a fresh SQLite database, for tests where the database does not matter.
async fn sqlite_server(adjust: impl FnOnce(&mut Config)) -> (TestServer, TestDb) {
    let tdb = TestDb::create(Backend::Sqlite).await;
    let server = TestServer::start_with(tdb.url(), adjust).await;
    (server, tdb)
}

/// A length prefix announcing `len` bytes.
fn prefix(len: u32) -> [u8; 4] {
    len.to_be_bytes()
}

/// One broken frame and what the server must answer.
struct BadFrame {
    what: &'static str,
    body: Vec<u8>,
    code: ErrorCode,
    seq: Option<u32>,
}

fn bad(what: &'static str, body: &[u8], code: ErrorCode, seq: Option<u32>) -> BadFrame {
    BadFrame {
        what,
        body: body.to_vec(),
        code,
        seq,
    }
}

/// Every kind of broken frame that the server answers without closing.
/// Their `seq`s are far above any the test client uses itself.
fn bad_frames() -> Vec<BadFrame> {
    use ErrorCode::*;
    vec![
        bad("not JSON", b"{not json", Malformed, None),
        bad("plain text", b"hello server", Malformed, None),
        bad(
            "truncated JSON",
            br#"{"type":"ping","seq":1"#,
            Malformed,
            None,
        ),
        bad(
            "a JSON array",
            br#"[{"type":"ping","seq":1}]"#,
            Malformed,
            None,
        ),
        bad("a JSON number", b"42", Malformed, None),
        bad("JSON null", b"null", Malformed, None),
        bad("a zero-length frame", b"", Malformed, None),
        bad(
            "invalid UTF-8 inside a JSON string",
            b"{\"type\":\"say\",\"seq\":10001,\"id\":\"u1\",\"text\":\"caf\xe9 \xff\"}",
            InvalidUtf8,
            None,
        ),
        bad("no type", br#"{"seq":10002}"#, MissingType, Some(10002)),
        bad(
            "a type that is not a string",
            br#"{"type":7,"seq":10003}"#,
            MissingType,
            Some(10003),
        ),
        bad(
            "an unknown type",
            br#"{"type":"dance","seq":10004}"#,
            UnknownType,
            Some(10004),
        ),
        bad(
            "a missing field",
            br#"{"type":"say","seq":10005,"id":"x1"}"#,
            InvalidField,
            Some(10005),
        ),
        bad(
            "a wrongly typed field",
            br#"{"type":"say","seq":10006,"id":"x2","text":1}"#,
            InvalidField,
            Some(10006),
        ),
        bad(
            "a null field",
            br#"{"type":"login","seq":10007,"name":null,"password":"x"}"#,
            InvalidField,
            Some(10007),
        ),
        bad("no seq", br#"{"type":"ping"}"#, InvalidField, None),
        bad(
            "a string seq",
            br#"{"type":"ping","seq":"1"}"#,
            InvalidField,
            None,
        ),
        bad(
            "a negative seq",
            br#"{"type":"ping","seq":-1}"#,
            InvalidField,
            None,
        ),
        bad(
            "a seq beyond u32",
            br#"{"type":"ping","seq":4294967296}"#,
            InvalidField,
            None,
        ),
    ]
}

/// Send one frame holding `body`, then a ping; return the one error that came
/// before the pong (events in between are skipped). The pong proves the
/// connection is still usable.
async fn error_for_frame(c: &mut TestClient, body: &[u8]) -> ErrorReply {
    c.send_frame(body).await;
    error_before_pong(c).await
}

/// Send a ping and return the one error that arrives before its pong.
async fn error_before_pong(c: &mut TestClient) -> ErrorReply {
    let ping = c.send(ClientMessage::Ping(Ping {})).await;
    let mut errors = Vec::new();
    loop {
        match c.recv().await {
            ServerMessage::Pong(p) if p.seq == ping => break,
            ServerMessage::Error(e) => errors.push(e),
            _event => {}
        }
    }
    assert_eq!(errors.len(), 1, "exactly one error: {errors:?}");
    errors.pop().unwrap()
}

fn check(f: &BadFrame, e: &ErrorReply) {
    assert_eq!(e.code, f.code, "{}: {e:?}", f.what);
    assert_eq!(e.seq, f.seq, "{}: {e:?}", f.what);
}

fn say(id: &str, text: &str) -> ClientMessage {
    ClientMessage::Say(Say {
        id: id.into(),
        text: text.into(),
    })
}

/// The error a request got, or a panic naming what came instead.
async fn refused(c: &mut TestClient, request: ClientMessage) -> ErrorReply {
    match c.request(request).await {
        ServerMessage::Error(e) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

/// `from` says something and `to` receives exactly that, from `from`.
async fn delivered(from: &mut TestClient, to: &mut TestClient, id: &str, text: &str) {
    let ack = from.say_ok(id, text).await;
    let got = to.next_message().await;
    assert_eq!(got.id, ack.message_id);
    assert_eq!(Some(&got.from), from.name.as_ref());
    assert_eq!(got.text, text);
}

/// alice and bob still talk both ways; `after` names what just happened.
async fn still_chatting(alice: &mut TestClient, bob: &mut TestClient, after: &str) {
    static ROUND: AtomicU32 = AtomicU32::new(0);
    let round = ROUND.fetch_add(1, Ordering::Relaxed);
    let text = format!("alice after {after}");
    delivered(alice, bob, &format!("a-{round}"), &text).await;
    let text = format!("bob after {after}");
    delivered(bob, alice, &format!("b-{round}"), &text).await;
}

/// A raw connection that registers and logs in `name` in one write, then
/// sends the first half of a frame and ends its side of the stream.
/// Returns once the server has closed the connection.
async fn log_in_then_half_a_frame_then_eof(addr: SocketAddr, name: &str) {
    let mut bytes = BytesMut::new();
    for (seq, body) in [
        ClientMessage::Hello(Hello {
            version: PROTOCOL_VERSION,
            client: "half-frame".into(),
        }),
        ClientMessage::Register(Register {
            name: name.into(),
            password: PASSWORD.into(),
        }),
        ClientMessage::Login(Login {
            name: name.into(),
            password: PASSWORD.into(),
        }),
    ]
    .into_iter()
    .enumerate()
    {
        let seq = u32::try_from(seq).unwrap() + 1;
        encode_frame_into(&mut bytes, &Request { seq, body }).unwrap();
    }
    bytes.extend_from_slice(&prefix(100));
    bytes.extend_from_slice(br#"{"type":"say","#);
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(&bytes).await.unwrap();
    stream.shutdown().await.unwrap();
    let mut replies = Vec::new();
    let read = tokio::time::timeout(WAIT, stream.read_to_end(&mut replies))
        .await
        .expect("the server closes a connection that ends inside a frame");
    read.unwrap();
}

// ----- bad frames the connection survives -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_kind_of_bad_frame_gets_its_code_and_the_connection_stays_usable() {
    let (server, _tdb) = sqlite_server(|_| {}).await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    for f in bad_frames() {
        let e = error_for_frame(&mut alice, &f.body).await;
        check(&f, &e);
    }
    alice.say_ok("m1", "after all that").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_frames_before_hello_leave_the_connection_usable() {
    let (server, _tdb) = sqlite_server(|_| {}).await;
    let mut c = TestClient::connect(server.addr).await;
    for f in bad_frames() {
        let e = error_for_frame(&mut c, &f.body).await;
        check(&f, &e);
    }
    c.hello().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_nested_100000_deep_gets_malformed_and_the_server_survives() {
    let (server, _tdb) = sqlite_server(|c| c.max_frame = 1024 * 1024).await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let depth = 100_000;
    let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let e = error_for_frame(&mut alice, arrays.as_bytes()).await;
    assert_eq!(e.code, ErrorCode::Malformed, "{e:?}");
    let in_a_request = format!(r#"{{"type":"ping","seq":10001,"x":{arrays}}}"#);
    let e = error_for_frame(&mut alice, in_a_request.as_bytes()).await;
    assert_eq!(e.code, ErrorCode::Malformed, "{e:?}");
    let objects = format!("{}{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
    let e = error_for_frame(&mut alice, objects.as_bytes()).await;
    assert_eq!(e.code, ErrorCode::Malformed, "{e:?}");
    let unclosed = "[".repeat(depth);
    let e = error_for_frame(&mut alice, unclosed.as_bytes()).await;
    assert_eq!(e.code, ErrorCode::Malformed, "{e:?}");

    let (mut bob, _) = TestClient::user(server.addr, "bob").await;
    still_chatting(&mut alice, &mut bob, "deep nesting").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_pings_in_one_write_get_their_pongs_in_order() {
    let (server, _tdb) = sqlite_server(|_| {}).await;
    let mut c = TestClient::greeted(server.addr).await;
    let seqs = 100..2_100u32;
    let mut bytes = BytesMut::new();
    for seq in seqs.clone() {
        let ping = Request {
            seq,
            body: ClientMessage::Ping(Ping {}),
        };
        encode_frame_into(&mut bytes, &ping).unwrap();
    }
    c.send_raw(&bytes).await;
    for seq in seqs {
        match c.recv().await {
            ServerMessage::Pong(p) => assert_eq!(p.seq, seq),
            other => panic!("expected the pong for {seq}, got {other:?}"),
        }
    }
    // Nothing else was queued in between: the next reply is the next pong.
    let last = c.send(ClientMessage::Ping(Ping {})).await;
    assert!(matches!(c.recv().await, ServerMessage::Pong(p) if p.seq == last));
    server.stop().await;
}

// ----- framing errors that close the connection -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn length_prefix_of_4_gib_gets_frame_too_large_and_closes() {
    let (server, _tdb) = sqlite_server(|_| {}).await;
    let mut c = TestClient::greeted(server.addr).await;
    c.send_raw(&prefix(u32::MAX)).await;
    let closing = c.expect_closed().await;
    match closing.as_slice() {
        [ServerMessage::Error(e)] => {
            assert_eq!(e.code, ErrorCode::FrameTooLarge);
            assert_eq!(e.seq, None);
        }
        other => panic!("expected one frame_too_large error, got {other:?}"),
    }
    // The server itself is fine.
    TestClient::greeted(server.addr).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frame_one_byte_over_the_limit_gets_frame_too_large_and_closes() {
    let max = 1024;
    let (server, _tdb) = sqlite_server(|c| c.max_frame = max).await;
    let mut c = TestClient::greeted(server.addr).await;
    c.send_frame(&vec![b' '; max + 1]).await;
    let closing = c.expect_closed().await;
    match closing.as_slice() {
        [ServerMessage::Error(e)] => {
            assert_eq!(e.code, ErrorCode::FrameTooLarge);
            assert_eq!(e.seq, None);
        }
        other => panic!("expected one frame_too_large error, got {other:?}"),
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frame_of_exactly_the_limit_is_accepted() {
    let max = 1024;
    let (server, _tdb) = sqlite_server(|c| c.max_frame = max).await;
    let mut c = TestClient::connect(server.addr).await;
    let ok = c.hello().await;
    assert_eq!(ok.limits.max_frame_bytes, 1024);
    // Unknown fields are ignored, so padding makes a valid ping of any size.
    let head = r#"{"type":"ping","seq":10001,"pad":""#;
    let tail = r#""}"#;
    let body = format!("{head}{}{tail}", "x".repeat(max - head.len() - tail.len()));
    assert_eq!(body.len(), max);
    c.send_frame(body.as_bytes()).await;
    match c.recv().await {
        ServerMessage::Pong(p) => assert_eq!(p.seq, 10001),
        other => panic!("expected a pong, got {other:?}"),
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_a_frame_then_silence_gets_frame_timeout_and_closes() {
    let deadline = Duration::from_secs(1);
    let (server, _tdb) = sqlite_server(|c| c.frame_timeout = deadline).await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let started = Instant::now();
    let mut half = prefix(100).to_vec();
    half.extend_from_slice(br#"{"type":"say","#);
    alice.send_raw(&half).await;
    let closing = alice.expect_closed().await;
    let waited = started.elapsed();
    match closing.as_slice() {
        [ServerMessage::Error(e)] => {
            assert_eq!(e.code, ErrorCode::FrameTimeout);
            assert_eq!(e.seq, None);
        }
        other => panic!("expected one frame_timeout error, got {other:?}"),
    }
    assert!(
        waited >= deadline,
        "closed after {waited:?}, before the deadline"
    );
    server.stop().await;
}

db_test!(
    half_a_frame_then_eof_closes_only_that_connection,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut bob, _) = TestClient::user(server.addr, "bob").await;
        log_in_then_half_a_frame_then_eof(server.addr, "mallory").await;
        let left = alice
            .wait_for(
                "mallory left",
                |m| matches!(m, ServerMessage::UserLeft(l) if l.name == "mallory"),
            )
            .await;
        assert!(
            matches!(&left, ServerMessage::UserLeft(l) if l.reason == LeaveReason::Disconnected),
            "{left:?}"
        );
        still_chatting(&mut alice, &mut bob, "half a frame").await;
        server.stop().await;
    }
);

// ----- chat rules -----

db_test!(
    say_with_bad_text_gets_invalid_text_or_text_too_long,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut bob, _) = TestClient::user(server.addr, "bob").await;
        let too_long = "x".repeat(4097);
        for (i, (text, code)) in [
            ("", ErrorCode::InvalidText),
            ("   ", ErrorCode::InvalidText),
            (" \n\t\n ", ErrorCode::InvalidText),
            ("red \u{1b}[31malert", ErrorCode::InvalidText),
            ("line\r\nbreak", ErrorCode::InvalidText),
            ("nul \0 here", ErrorCode::InvalidText),
            (too_long.as_str(), ErrorCode::TextTooLong),
        ]
        .into_iter()
        .enumerate()
        {
            let e = refused(&mut alice, say(&format!("bad-{i}"), text)).await;
            assert_eq!(e.code, code, "{text:?}: {e:?}");
        }
        // None of them was stored or delivered.
        delivered(&mut alice, &mut bob, "good", "only this one").await;
        let page = bob.history(None, None, None).await;
        assert_eq!(
            page.messages
                .iter()
                .map(|m| m.text.as_str())
                .collect::<Vec<_>>(),
            ["only this one"]
        );
        server.stop().await;
    }
);

db_test!(
    text_of_exactly_the_limit_and_multiline_text_arrive_intact,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut bob, _) = TestClient::user(server.addr, "bob").await;
        // 4096 bytes, multi-byte characters included.
        let longest = format!("{}{}", "é".repeat(1000), "y".repeat(2096));
        assert_eq!(longest.len(), 4096);
        delivered(&mut alice, &mut bob, "long", &longest).await;
        let multiline = "first line\n\tindented with a tab\n\n  last line, 你好 👋";
        delivered(&mut alice, &mut bob, "multi", multiline).await;
        let page = bob.history(None, None, None).await;
        assert_eq!(
            page.messages
                .iter()
                .map(|m| m.text.as_str())
                .collect::<Vec<_>>(),
            [longest.as_str(), multiline]
        );
        server.stop().await;
    }
);

db_test!(
    bad_client_message_ids_get_invalid_message_id,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let too_long = "i".repeat(65);
        for id in ["", too_long.as_str(), "new\nline"] {
            let e = refused(&mut alice, say(id, "hello")).await;
            assert_eq!(e.code, ErrorCode::InvalidMessageId, "{id:?}: {e:?}");
        }
        alice
            .say_ok(&"i".repeat(64), "the longest id is fine")
            .await;
        server.stop().await;
    }
);

db_test!(
    history_with_before_and_after_gets_invalid_cursor,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let ack = alice.say_ok("m1", "something to page through").await;
        let e = refused(
            &mut alice,
            ClientMessage::History(History {
                before: Some(ack.message_id + 1),
                after: Some(0),
                limit: None,
                ..Default::default()
            }),
        )
        .await;
        assert_eq!(e.code, ErrorCode::InvalidCursor);
        assert!(e.seq.is_some());
        assert_eq!(alice.history(None, Some(0), None).await.messages.len(), 1);
        server.stop().await;
    }
);

db_test!(
    huge_history_limit_is_clamped_to_max_history_page,
    |tdb| async move {
        let server = TestServer::start_with(tdb.url(), |c| c.max_history_page = 5).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let mut ids = Vec::new();
        for i in 0..8 {
            ids.push(
                alice
                    .say_ok(&format!("m{i}"), &format!("message {i}"))
                    .await
                    .message_id,
            );
        }
        let page = alice.history(None, None, Some(u32::MAX)).await;
        assert_eq!(
            page.messages.iter().map(|m| m.id).collect::<Vec<_>>(),
            ids[3..],
            "the newest five"
        );
        assert!(page.has_more);
        let page = alice.history(None, Some(0), Some(u32::MAX)).await;
        assert_eq!(
            page.messages.iter().map(|m| m.id).collect::<Vec<_>>(),
            ids[..5],
            "the oldest five"
        );
        assert!(page.has_more);
        server.stop().await;
    }
);

// ----- the others are unaffected -----

db_test!(
    bad_input_from_one_user_leaves_the_others_chatting,
    |tdb| async move {
        let server = TestServer::start_with(tdb.url(), |c| c.max_frame = 512 * 1024).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut bob, _) = TestClient::user(server.addr, "bob").await;
        let (mut mallory, _) = TestClient::user(server.addr, "mallory").await;
        still_chatting(&mut alice, &mut bob, "mallory joined").await;

        for f in bad_frames() {
            let e = error_for_frame(&mut mallory, &f.body).await;
            check(&f, &e);
            still_chatting(&mut alice, &mut bob, f.what).await;
        }
        let depth = 100_000;
        let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let e = error_for_frame(&mut mallory, deep.as_bytes()).await;
        assert_eq!(e.code, ErrorCode::Malformed);
        still_chatting(&mut alice, &mut bob, "deep nesting").await;

        let too_long = "x".repeat(4097);
        let long_id = "i".repeat(65);
        let requests = [
            (say("e1", ""), ErrorCode::InvalidText),
            (say("e2", "\u{1b}[2J"), ErrorCode::InvalidText),
            (say("e3", &too_long), ErrorCode::TextTooLong),
            (say("", "no id"), ErrorCode::InvalidMessageId),
            (say(&long_id, "long id"), ErrorCode::InvalidMessageId),
            (
                ClientMessage::History(History {
                    before: Some(10),
                    after: Some(1),
                    limit: None,
                    ..Default::default()
                }),
                ErrorCode::InvalidCursor,
            ),
        ];
        for (request, code) in requests {
            let e = refused(&mut mallory, request).await;
            assert_eq!(e.code, code, "{e:?}");
            still_chatting(&mut alice, &mut bob, code.as_str()).await;
        }
        // None of mallory's attempts reached anyone.
        let page = alice.history(None, None, None).await;
        assert!(
            page.messages.iter().all(|m| m.from != "mallory"),
            "{page:?}"
        );

        // Connections that must be closed take nobody else with them.
        let mut huge = TestClient::greeted(server.addr).await;
        huge.send_raw(&prefix(u32::MAX)).await;
        huge.expect_closed().await;
        still_chatting(&mut alice, &mut bob, "a 4 GiB frame").await;
        log_in_then_half_a_frame_then_eof(server.addr, "eve").await;
        still_chatting(&mut alice, &mut bob, "half a frame and EOF").await;
        drop(mallory);
        still_chatting(&mut alice, &mut bob, "mallory dropped").await;
        server.stop().await;
    }
);

db_test!(
    say_claiming_another_sender_is_delivered_as_from_the_real_sender,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, alice_login) = TestClient::user(server.addr, "alice").await;
        let (mut bob, bob_login) = TestClient::user(server.addr, "bob").await;
        let spoof = serde_json::json!({
            "type": "say",
            "seq": 10001,
            "id": "spoof-1",
            "text": "I am bob, honest",
            "from": "bob",
            "name": "bob",
            "uid": bob_login.user.id,
            "user": {"id": bob_login.user.id, "name": "bob"},
        });
        let frame = encode_frame(&spoof).unwrap();
        alice.send_raw(&frame).await;
        let ack = match alice.reply_to(10001).await {
            ServerMessage::SayOk(ok) => ok,
            other => panic!("expected say_ok, got {other:?}"),
        };
        let got = bob.next_message().await;
        assert_eq!(got.id, ack.message_id);
        assert_eq!(got.from, "alice");
        assert_eq!(got.text, "I am bob, honest");
        let page = bob.history(None, None, None).await;
        let stored = page
            .messages
            .iter()
            .find(|m| m.id == ack.message_id)
            .unwrap();
        assert_eq!(stored.from, alice_login.user.name);
        server.stop().await;
    }
);
