//! Durability: a graceful shutdown under load loses no acknowledged message,
//! and stored messages, their ids and the duplicate filter survive a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chatroom_server::db::history as db_history;
use chatroom_shared::ErrorCode;
use chatroom_shared::message::{
    ChatMessage, ClientMessage, MessageKind, Say, ServerMessage, Target,
};
use testkit::client::{TestClient, all_history};
use testkit::db::db_test;
use testkit::server::TestServer;

fn say(id: &str, text: &str) -> ClientMessage {
    ClientMessage::Say(Say {
        id: id.into(),
        text: text.into(),
    })
}

/// What one sender saw before its connection closed.
struct SenderReport {
    name: String,
    /// (client message id, text, message id) of every `say_ok`.
    acked: Vec<(String, String, i64)>,
    sent: usize,
    got_shutdown: bool,
    errors: Vec<ServerMessage>,
}

/// Send continuously, `window` messages in flight, until the server says it
/// is shutting down; then read until the connection closes.
async fn send_until_closed(
    mut c: TestClient,
    name: String,
    window: usize,
    acked_count: Arc<AtomicUsize>,
) -> SenderReport {
    let mut waiting: HashMap<u32, (String, String)> = HashMap::new();
    let mut report = SenderReport {
        name: name.clone(),
        acked: Vec::new(),
        sent: 0,
        got_shutdown: false,
        errors: Vec::new(),
    };
    let mut can_send = true;
    loop {
        if can_send && waiting.len() < window {
            let n = report.sent;
            let (id, text) = (format!("{name}-{n}"), format!("{name} message {n}"));
            match c.try_send(say(&id, &text)).await {
                Ok(seq) => {
                    waiting.insert(seq, (id, text));
                    report.sent += 1;
                }
                // The server closed; what it sent before is still readable.
                Err(_) => can_send = false,
            }
            continue;
        }
        match c.try_recv().await {
            None => return report,
            Some(ServerMessage::SayOk(ok)) => {
                let (id, text) = waiting.remove(&ok.seq).expect("an ack for a sent message");
                assert_eq!(ok.id, id);
                report.acked.push((id, text, ok.message_id));
                acked_count.fetch_add(1, Ordering::Relaxed);
            }
            Some(ServerMessage::ServerShutdown(_)) => {
                report.got_shutdown = true;
                can_send = false;
            }
            Some(
                ServerMessage::Message(_)
                | ServerMessage::UserJoined(_)
                | ServerMessage::UserLeft(_),
            ) => {}
            Some(other) => report.errors.push(other),
        }
    }
}

db_test!(
    graceful_shutdown_under_load_loses_no_acknowledged_message,
    |tdb| async move {
        const SENDERS: usize = 5;
        const WINDOW: usize = 20;
        let server = TestServer::start(tdb.url()).await;
        let mut clients = Vec::new();
        for i in 0..SENDERS {
            let name = format!("sender{i}");
            let (c, _) = TestClient::user(server.addr, &name).await;
            clients.push((c, name));
        }
        let mut tasks = Vec::new();
        let mut counters = Vec::new();
        for (c, name) in clients {
            let acked = Arc::new(AtomicUsize::new(0));
            counters.push(Arc::clone(&acked));
            tasks.push(tokio::spawn(send_until_closed(c, name, WINDOW, acked)));
        }

        // Stop while the messages are flowing from everyone.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while counters.iter().any(|c| c.load(Ordering::Relaxed) < 50) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "messages do not flow"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        server.stop().await;

        let mut reports = Vec::new();
        for t in tasks {
            reports.push(t.await.unwrap());
        }
        for r in &reports {
            assert!(r.got_shutdown, "{} got no server_shutdown", r.name);
            assert!(r.errors.is_empty(), "{}: {:?}", r.name, r.errors);
            assert!(!r.acked.is_empty(), "{} got no ack", r.name);
        }

        // A new server on the same database has every acknowledged message,
        // once, with its text and sender.
        let server = TestServer::start(tdb.url()).await;
        let (mut reader, _) = TestClient::user(server.addr, "reader").await;
        let history = all_history(&mut reader).await;
        assert!(history.windows(2).all(|w| w[0].id < w[1].id));
        let mut by_text: HashMap<&str, Vec<&ChatMessage>> = HashMap::new();
        for m in &history {
            by_text.entry(m.text.as_str()).or_default().push(m);
        }
        let duplicated: Vec<_> = by_text.iter().filter(|(_, v)| v.len() > 1).collect();
        assert!(duplicated.is_empty(), "stored twice: {duplicated:?}");
        let mut acked = 0;
        for r in &reports {
            for (id, text, message_id) in &r.acked {
                let found = by_text.get(text.as_str()).unwrap_or_else(|| {
                    panic!("acknowledged {id} (message {message_id}) is not in the history")
                });
                assert_eq!(found[0].id, *message_id, "{id}");
                assert_eq!(found[0].from, r.name);
                acked += 1;
            }
        }
        let db = tdb.connect().await;
        let stored = db_history::count_room(&db).await.unwrap();
        db.close().await.unwrap();
        assert_eq!(stored, history.len() as u64);
        assert!(stored >= acked, "{stored} stored, {acked} acknowledged");
        let sent: usize = reports.iter().map(|r| r.sent).sum();
        assert!(stored <= sent as u64, "{stored} stored, {sent} sent");
        server.stop().await;
    }
);

db_test!(
    messages_survive_a_restart_and_ids_continue,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let mut before = Vec::new();
        for n in 0..3 {
            let ack = alice.say_ok(&format!("m{n}"), &format!("before {n}")).await;
            before.push((ack.message_id, MessageKind::Message, format!("before {n}")));
        }
        let id = server
            .admin
            .announce("see you after the restart")
            .await
            .unwrap();
        before.push((
            id,
            MessageKind::Announcement,
            "see you after the restart".into(),
        ));
        server.stop().await;
        drop(alice);

        let server = TestServer::start(tdb.url()).await;
        let (mut alice, login) = TestClient::existing(server.addr, "alice").await;
        let recent: Vec<_> = login
            .recent
            .iter()
            .map(|m| (m.id, m.kind, m.text.clone()))
            .collect();
        assert_eq!(recent, before);
        let history: Vec<_> = all_history(&mut alice)
            .await
            .into_iter()
            .map(|m| (m.id, m.kind, m.text))
            .collect();
        assert_eq!(history, before);

        let max_old = before.iter().map(|b| b.0).max().unwrap();
        let ack = alice.say_ok("m3", "after the restart").await;
        assert!(
            ack.message_id > max_old,
            "{} after {max_old}",
            ack.message_id
        );
        let id = server.admin.announce("back").await.unwrap();
        assert!(id > ack.message_id);
        server.stop().await;
    }
);

db_test!(
    resent_message_after_a_restart_keeps_its_original_id,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let original = alice.say_ok("retry-me", "sent before the restart").await;
        server.stop().await;
        drop(alice);

        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::existing(server.addr, "alice").await;
        let (mut bob, _) = TestClient::user(server.addr, "bob").await;
        let retry = alice.say_ok("retry-me", "sent before the restart").await;
        assert_eq!(retry.message_id, original.message_id);
        assert_eq!(retry.ts, original.ts);
        let marker = alice.say_ok("marker", "marker").await;
        let got = bob.next_message().await;
        assert_eq!(
            got.id, marker.message_id,
            "the retry was delivered again: {got:?}"
        );
        let texts: Vec<_> = all_history(&mut bob)
            .await
            .into_iter()
            .map(|m| m.text)
            .collect();
        assert_eq!(texts, ["sent before the restart", "marker"]);
        server.stop().await;
    }
);

/// The `error` answering request `seq` (events read meanwhile are kept).
async fn error_for(c: &mut TestClient, seq: u32) -> chatroom_shared::message::ErrorReply {
    match c.reply_to(seq).await {
        ServerMessage::Error(e) => e,
        other => panic!("expected an error for seq {seq}, got {other:?}"),
    }
}

// A client id already used for another text is not a retry: acknowledging it
// would tell the sender a message is stored that nobody will ever see.
db_test!(
    reused_message_id_with_other_text_is_refused_and_nothing_stored,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut bob, _) = TestClient::user(server.addr, "bob").await;
        let first = alice.say_ok("1-1", "first run message").await;
        assert_eq!(bob.next_message().await.id, first.message_id);

        // Same id, other text: refused, nothing stored or delivered.
        let seq = alice.send(say("1-1", "second run message")).await;
        let e = error_for(&mut alice, seq).await;
        assert_eq!(e.code, ErrorCode::MessageIdReused, "{e:?}");
        // Same id, same text, other conversation: refused too.
        let seq = alice
            .send(ClientMessage::Send(chatroom_shared::message::Send {
                id: "1-1".into(),
                to: Target::User { user: "bob".into() },
                text: "first run message".into(),
            }))
            .await;
        let e = error_for(&mut alice, seq).await;
        assert_eq!(e.code, ErrorCode::MessageIdReused, "{e:?}");
        // A real retry (same id, same text, same place) is still acknowledged
        // with the original id.
        let retry = alice.say_ok("1-1", "first run message").await;
        assert_eq!(retry.message_id, first.message_id);

        let marker = alice.say_ok("1-2", "marker").await;
        let got = bob.next_message().await;
        assert_eq!(got.id, marker.message_id, "something else came: {got:?}");
        let texts: Vec<_> = all_history(&mut bob)
            .await
            .into_iter()
            .map(|m| m.text)
            .collect();
        assert_eq!(texts, ["first run message", "marker"]);
        server.stop().await;
    }
);

// The client restarted (a new process that happens to reuse an id of the old
// one) against a restarted server: the id is known only from the database.
db_test!(
    reused_message_id_after_a_restart_is_refused,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let first = alice.say_ok("1-1", "first run message").await;
        server.stop().await;
        drop(alice);

        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::existing(server.addr, "alice").await;
        let seq = alice.send(say("1-1", "second run message")).await;
        let e = error_for(&mut alice, seq).await;
        assert_eq!(e.code, ErrorCode::MessageIdReused, "{e:?}");
        let retry = alice.say_ok("1-1", "first run message").await;
        assert_eq!(retry.message_id, first.message_id);
        let texts: Vec<_> = all_history(&mut alice)
            .await
            .into_iter()
            .map(|m| m.text)
            .collect();
        assert_eq!(texts, ["first run message"]);
        server.stop().await;
    }
);

// Both in one batch: the second, with other text, is refused; the first stored.
db_test!(
    reused_message_id_within_one_batch_is_refused,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        // Pipelined: the writer takes them together whenever it can.
        let a = alice.send(say("x-1", "one")).await;
        let b = alice.send(say("x-1", "two")).await;
        let c = alice.send(say("x-1", "one")).await;
        let first = match alice.reply_to(a).await {
            ServerMessage::SayOk(ok) => ok,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            error_for(&mut alice, b).await.code,
            ErrorCode::MessageIdReused
        );
        match alice.reply_to(c).await {
            ServerMessage::SayOk(ok) => assert_eq!(ok.message_id, first.message_id),
            other => panic!("{other:?}"),
        }
        let texts: Vec<_> = all_history(&mut alice)
            .await
            .into_iter()
            .map(|m| m.text)
            .collect();
        assert_eq!(texts, ["one"]);
        server.stop().await;
    }
);
