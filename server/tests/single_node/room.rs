//! The main room over real TCP: join notices, fan-out, acks after storage,
//! de-duplication of resent messages, the recent list at login, history
//! paging, leave notices.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chatroom_server::db::history::{self as db_history, Cursor, LEVEL_ADMIN, LEVEL_USER};
use chatroom_shared::ErrorCode;
use chatroom_shared::message::{
    ChatMessage, ClientMessage, History, LeaveReason, MessageKind, Say, SayOk, ServerMessage,
};
use testkit::client::{TestClient, error_code};
use testkit::db::db_test;
use testkit::server::TestServer;

fn say(id: &str, text: &str) -> ClientMessage {
    ClientMessage::Say(Say {
        id: id.into(),
        text: text.into(),
    })
}

/// Every `message` event until (and including) the one with `text`; other
/// events are skipped.
async fn messages_until(client: &mut TestClient, text: &str) -> Vec<ChatMessage> {
    let mut out = Vec::new();
    loop {
        if let ServerMessage::Message(m) = client.recv().await {
            let done = m.text == text;
            out.push(m);
            if done {
                return out;
            }
        }
    }
}

fn ids(messages: &[ChatMessage]) -> Vec<i64> {
    messages.iter().map(|m| m.id).collect()
}

db_test!(
    join_chat_and_leave_notices_reach_the_others,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut bob, bob_login) = TestClient::user(server.addr, "bob").await;
        assert_eq!(
            bob_login
                .online
                .iter()
                .map(|u| u.name.as_str())
                .collect::<Vec<_>>(),
            ["alice", "bob"]
        );
        let joined = alice
            .wait_for("bob joined", |m| matches!(m, ServerMessage::UserJoined(_)))
            .await;
        assert!(matches!(joined, ServerMessage::UserJoined(j) if j.name == "bob"));

        let ack = alice.say_ok("m1", "hello bob").await;
        let got = bob.next_message().await;
        assert_eq!(got.id, ack.message_id);
        assert_eq!(got.from, "alice");
        assert_eq!(got.text, "hello bob");
        assert_eq!(got.kind, MessageKind::Message);

        bob.quit().await;
        let left = alice
            .wait_for("bob left", |m| matches!(m, ServerMessage::UserLeft(_)))
            .await;
        assert!(
            matches!(left, ServerMessage::UserLeft(l) if l.name == "bob" && l.reason == LeaveReason::Quit)
        );
        server.stop().await;
    }
);

db_test!(
    chat_reaches_every_other_user_once_in_the_same_order,
    |tdb| async move {
        const USERS: usize = 5;
        const EACH: usize = 12;
        let server = TestServer::start(tdb.url()).await;
        let mut clients = Vec::new();
        for i in 0..USERS {
            let (c, _) = TestClient::user(server.addr, &format!("user{i}")).await;
            clients.push(c);
        }

        // Everyone sends at once, pipelined, so the senders interleave.
        let mut tasks = Vec::new();
        for (i, mut c) in clients.into_iter().enumerate() {
            tasks.push(tokio::spawn(async move {
                let me = format!("user{i}");
                for n in 0..EACH {
                    c.send(say(&format!("{me}-{n}"), &format!("{me} says {n}")))
                        .await;
                }
                let mut acks: Vec<SayOk> = Vec::new();
                let mut got: Vec<ChatMessage> = Vec::new();
                while acks.len() < EACH || got.len() < (USERS - 1) * EACH {
                    match c.recv().await {
                        ServerMessage::SayOk(ok) => acks.push(ok),
                        ServerMessage::Message(m) => {
                            assert_ne!(m.from, me, "{me} got its own message back: {m:?}");
                            got.push(m);
                        }
                        ServerMessage::UserJoined(_) => {}
                        other => panic!("{me}: unexpected {other:?}"),
                    }
                }
                (c, acks, got)
            }));
        }
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.unwrap());
        }

        // What was stored, by message id, from the acks.
        let mut sent: HashMap<i64, (String, String)> = HashMap::new();
        for (i, (_, acks, _)) in results.iter().enumerate() {
            let me = format!("user{i}");
            // Acks come in the order the messages were sent, with growing ids.
            let client_ids: Vec<_> = acks.iter().map(|a| a.id.clone()).collect();
            let expected: Vec<_> = (0..EACH).map(|n| format!("{me}-{n}")).collect();
            assert_eq!(client_ids, expected, "{me}'s acks");
            assert!(acks.windows(2).all(|w| w[0].message_id < w[1].message_id));
            for (n, a) in acks.iter().enumerate() {
                let old = sent.insert(a.message_id, (me.clone(), format!("{me} says {n}")));
                assert!(old.is_none(), "message id {} given twice", a.message_id);
            }
        }
        let mut all: Vec<i64> = sent.keys().copied().collect();
        all.sort_unstable();

        for (i, (_, _, got)) in results.iter().enumerate() {
            let me = format!("user{i}");
            // Exactly the others' messages, each once, all in id order: the
            // same order for everyone.
            let expected: Vec<i64> = all.iter().copied().filter(|id| sent[id].0 != me).collect();
            assert_eq!(ids(got), expected, "{me} received");
            for m in got {
                let (from, text) = &sent[&m.id];
                assert_eq!((&m.from, &m.text), (from, text));
                assert_eq!(m.kind, MessageKind::Message);
            }
        }

        // Nothing else is on the way: the next message everyone sees is a
        // fresh one (user0 cannot see its own, so it waits for user1's).
        let mut clients: Vec<TestClient> = results.into_iter().map(|(c, _, _)| c).collect();
        let end0 = clients[0].say_ok("end", "end from user0").await;
        for c in &mut clients[1..] {
            let m = c.next_message().await;
            assert_eq!(m.id, end0.message_id, "{m:?}");
        }
        let end1 = clients[1].say_ok("end", "end from user1").await;
        let m = clients[0].next_message().await;
        assert_eq!(m.id, end1.message_id, "{m:?}");
        server.stop().await;
    }
);

db_test!(
    say_ok_comes_only_after_the_message_is_stored,
    |tdb| async move {
        const COUNT: usize = 30;
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut bob, _) = TestClient::user(server.addr, "bob").await;
        let db = tdb.connect().await;

        // Pipelined, so the acks come from batches of several messages.
        for n in 0..COUNT {
            alice
                .send(say(&format!("s{n}"), &format!("stored {n}")))
                .await;
        }
        let mut acks = Vec::new();
        while acks.len() < COUNT {
            let ServerMessage::SayOk(ack) = alice.recv().await else {
                continue;
            };
            // Read on another connection right after the ack: already there.
            let (rows, _) = db_history::room_page(&db, Cursor::After(ack.message_id - 1), 1)
                .await
                .unwrap();
            let row = rows.first().unwrap_or_else(|| {
                panic!("message {} acknowledged but not stored", ack.message_id)
            });
            assert_eq!(row.id, ack.message_id);
            assert_eq!(row.text, format!("stored {}", acks.len()));
            assert_eq!(row.sender.as_deref(), Some("alice"));
            assert_eq!(row.level, LEVEL_USER);
            assert_eq!(row.send_time, ack.ts);
            acks.push(ack);
        }

        let page = bob.history(None, None, None).await;
        assert_eq!(
            ids(&page.messages),
            acks.iter().map(|a| a.message_id).collect::<Vec<_>>()
        );
        for (n, m) in page.messages.iter().enumerate() {
            assert_eq!(m.text, format!("stored {n}"));
            assert_eq!(m.from, "alice");
            assert_eq!(m.kind, MessageKind::Message);
            assert_eq!(m.ts, acks[n].ts);
        }
        assert!(!page.has_more);
        db.close().await.unwrap();
        server.stop().await;
    }
);

db_test!(
    resent_message_id_is_stored_and_delivered_once,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut bob, _) = TestClient::user(server.addr, "bob").await;

        let first = alice.say_ok("same-id", "only once").await;
        let again = alice.say_ok("same-id", "only once").await;
        assert_eq!(again.message_id, first.message_id);
        assert_eq!(again.ts, first.ts);
        assert_eq!(again.id, "same-id");

        // Pipelined duplicates land in one batch: still one message.
        let s1 = alice.send(say("twin", "twice in a row")).await;
        let s2 = alice.send(say("twin", "twice in a row")).await;
        let (r1, r2) = (alice.reply_to(s1).await, alice.reply_to(s2).await);
        match (r1, r2) {
            (ServerMessage::SayOk(a), ServerMessage::SayOk(b)) => {
                assert_eq!(a.message_id, b.message_id);
            }
            other => panic!("twins: {other:?}"),
        }
        alice.say_ok("twin-after", "after the twins").await;

        // After a reconnect (the client never saw its ack), the retry is
        // acknowledged with the original id too.
        drop(alice);
        let (mut alice, _) = TestClient::existing(server.addr, "alice").await;
        let retry = alice.say_ok("same-id", "only once").await;
        assert_eq!(retry.message_id, first.message_id);
        // The same client id from another user is a different message.
        let bobs = bob.say_ok("same-id", "bob's own").await;
        assert_ne!(bobs.message_id, first.message_id);
        alice.say_ok("marker", "marker").await;

        let got = messages_until(&mut bob, "marker").await;
        let texts: Vec<&str> = got.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(
            texts,
            ["only once", "twice in a row", "after the twins", "marker"]
        );

        let page = bob.history(None, None, None).await;
        let texts: Vec<&str> = page.messages.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "only once",
                "twice in a row",
                "after the twins",
                "bob's own",
                "marker"
            ]
        );
        server.stop().await;
    }
);

db_test!(
    login_ok_recent_holds_the_latest_messages_oldest_first,
    |tdb| async move {
        let server = TestServer::start_with(tdb.url(), |c| c.history_count = 5).await;
        let (mut alice, first_login) = TestClient::user(server.addr, "alice").await;
        assert!(first_login.recent.is_empty());
        let mut acks = Vec::new();
        for n in 0..8 {
            acks.push(alice.say_ok(&format!("r{n}"), &format!("recent {n}")).await);
        }
        let (_bob, login) = TestClient::user(server.addr, "bob").await;
        assert_eq!(
            ids(&login.recent),
            acks[3..].iter().map(|a| a.message_id).collect::<Vec<_>>()
        );
        for (m, n) in login.recent.iter().zip(3..) {
            assert_eq!(m.text, format!("recent {n}"));
            assert_eq!(m.from, "alice");
            assert_eq!(m.kind, MessageKind::Message);
        }
        server.stop().await;
    }
);

// The hub keeps the room's newest messages as it delivers them, so a login
// copies `recent` from memory; a restarted server reads them from the
// database once at start. Both give what the history gives, announcements
// included.
db_test!(
    login_ok_recent_from_memory_is_the_history_and_survives_a_restart,
    |tdb| async move {
        let history_count = 5;
        let server = TestServer::start_with(tdb.url(), |c| c.history_count = history_count).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        for n in 0..4 {
            alice.say_ok(&format!("a{n}"), &format!("before {n}")).await;
        }
        server.admin.announce("maintenance at 20:00").await.unwrap();
        for n in 4..6 {
            alice.say_ok(&format!("a{n}"), &format!("after {n}")).await;
        }
        let page = alice.history(None, None, Some(history_count)).await;
        assert_eq!(page.messages.len(), 5);
        assert!(
            page.messages
                .iter()
                .any(|m| m.kind == MessageKind::Announcement && m.from == "Admin")
        );
        let (_bob, login) = TestClient::user(server.addr, "bob").await;
        assert_eq!(login.recent, page.messages, "from memory");
        alice.quit().await;
        server.stop().await;

        let server = TestServer::start_with(tdb.url(), |c| c.history_count = history_count).await;
        let (mut carol, login) = TestClient::user(server.addr, "carol").await;
        assert_eq!(login.recent, page.messages, "read once at start");
        let newest = carol.say_ok("c1", "after the restart").await;
        let (_dave, login) = TestClient::user(server.addr, "dave").await;
        assert_eq!(ids(&login.recent)[..4], ids(&page.messages)[1..]);
        assert_eq!(login.recent[4].id, newest.message_id);
        assert_eq!(login.recent[4].text, "after the restart");
        server.stop().await;
    }
);

/// Send pipelined messages, `window` in flight, until `stop` is set; returns
/// how many were sent.
async fn talk_until(mut c: TestClient, me: String, window: usize, stop: Arc<AtomicBool>) -> usize {
    let mut in_flight = 0;
    let mut n = 0;
    loop {
        if !stop.load(Ordering::Relaxed) && in_flight < window {
            c.send(say(&format!("s{n}"), &format!("{me} streams {n}")))
                .await;
            n += 1;
            in_flight += 1;
            continue;
        }
        if in_flight == 0 {
            return n;
        }
        if let ServerMessage::SayOk(_) = c.recv().await {
            in_flight -= 1;
        }
    }
}

/// Log users in while several others talk without pause (so the store commits
/// big batches) and return, per login, the message ids it saw: its
/// `login_ok.recent`, then the next 100 or so `message` events.
async fn logins_during_a_stream(url: &str, recent: u32, logins: usize) -> Vec<Vec<i64>> {
    const TALKERS: usize = 3;
    const WINDOW: usize = 20;
    let server = TestServer::start_with(url, |c| c.history_count = recent).await;
    let stop = Arc::new(AtomicBool::new(false));
    let mut talkers = Vec::new();
    for i in 0..TALKERS {
        let me = format!("talker{i}");
        let (mut c, _) = TestClient::user(server.addr, &me).await;
        for n in 0..recent {
            c.say_ok(&format!("pre{n}"), "before the stream").await;
        }
        talkers.push(tokio::spawn(talk_until(c, me, WINDOW, Arc::clone(&stop))));
    }
    let mut seen_by = Vec::new();
    for i in 0..logins {
        let (mut c, login) = TestClient::user(server.addr, &format!("late{i}")).await;
        assert_eq!(login.recent.len(), recent as usize);
        let mut seen = ids(&login.recent);
        let until = seen.last().unwrap() + 100;
        while *seen.last().unwrap() < until {
            if let ServerMessage::Message(m) = c.recv().await {
                seen.push(m.id);
            }
        }
        seen_by.push(seen);
    }
    stop.store(true, Ordering::Relaxed);
    for t in talkers {
        assert!(t.await.unwrap() > 0);
    }
    server.stop().await;
    seen_by
}

db_test!(
    login_during_a_stream_gets_no_duplicate_of_its_recent_messages,
    |tdb| async move {
        for seen in logins_during_a_stream(tdb.url(), 3, 10).await {
            assert!(
                seen.windows(2).all(|w| w[0] < w[1]),
                "a message came twice or out of order: {seen:?}"
            );
        }
    }
);

// Logins while three users talk non-stop, with a recent list of 3: the ids a
// newcomer sees (the recent list, then events) must have no hole: a message
// stored while the login ran is in one or the other, never in neither.
db_test!(login_during_a_stream_misses_no_message, |tdb| async move {
    for seen in logins_during_a_stream(tdb.url(), 3, 40).await {
        let contiguous: Vec<i64> = (seen[0]..seen[0] + seen.len() as i64).collect();
        assert_eq!(seen, contiguous, "recent list, then events");
    }
});

db_test!(
    history_pages_backwards_and_forwards_in_ascending_order,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        // 10 messages and 2 announcements: 12 records.
        let mut expected: Vec<(i64, MessageKind, String, String)> = Vec::new();
        for n in 0..10 {
            let ack = alice.say_ok(&format!("h{n}"), &format!("text {n}")).await;
            expected.push((
                ack.message_id,
                MessageKind::Message,
                "alice".into(),
                format!("text {n}"),
            ));
            if n == 3 || n == 7 {
                let text = format!("notice after {n}");
                let id = server.admin.announce(&text).await.unwrap();
                expected.push((id, MessageKind::Announcement, "Admin".into(), text));
            }
        }
        let all: Vec<i64> = expected.iter().map(|e| e.0).collect();
        assert!(all.windows(2).all(|w| w[0] < w[1]));

        let page = alice.history(None, None, Some(50)).await;
        assert!(!page.has_more);
        let got: Vec<_> = page
            .messages
            .iter()
            .map(|m| (m.id, m.kind, m.from.clone(), m.text.clone()))
            .collect();
        assert_eq!(got, expected);

        // Backwards from the newest: 5, 5, 2.
        let p = alice.history(None, None, Some(5)).await;
        assert_eq!((ids(&p.messages), p.has_more), (all[7..].to_vec(), true));
        let p = alice.history(Some(all[7]), None, Some(5)).await;
        assert_eq!((ids(&p.messages), p.has_more), (all[2..7].to_vec(), true));
        let p = alice.history(Some(all[2]), None, Some(5)).await;
        assert_eq!((ids(&p.messages), p.has_more), (all[..2].to_vec(), false));
        let p = alice.history(Some(all[0]), None, Some(5)).await;
        assert_eq!((ids(&p.messages), p.has_more), (vec![], false));

        // Forwards from the start: 5, 5, 2.
        let p = alice.history(None, Some(0), Some(5)).await;
        assert_eq!((ids(&p.messages), p.has_more), (all[..5].to_vec(), true));
        let p = alice.history(None, Some(all[4]), Some(5)).await;
        assert_eq!((ids(&p.messages), p.has_more), (all[5..10].to_vec(), true));
        let p = alice.history(None, Some(all[9]), Some(5)).await;
        assert_eq!((ids(&p.messages), p.has_more), (all[10..].to_vec(), false));
        let p = alice.history(None, Some(all[11]), Some(5)).await;
        assert_eq!((ids(&p.messages), p.has_more), (vec![], false));

        // A page that ends exactly at the last record has nothing more.
        let p = alice.history(None, Some(all[6]), Some(5)).await;
        assert_eq!((ids(&p.messages), p.has_more), (all[7..].to_vec(), false));

        // Announcements as stored rows: admin level, no sender.
        let db = tdb.connect().await;
        let (rows, _) = db_history::room_page(&db, Cursor::Latest, 50)
            .await
            .unwrap();
        let notices: Vec<_> = rows.iter().filter(|r| r.level == LEVEL_ADMIN).collect();
        assert_eq!(notices.len(), 2);
        assert!(notices.iter().all(|r| r.sender.is_none()));
        db.close().await.unwrap();
        server.stop().await;
    }
);

db_test!(
    history_limit_is_clamped_and_both_cursors_are_refused,
    |tdb| async move {
        let server = TestServer::start_with(tdb.url(), |c| c.max_history_page = 4).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let mut all = Vec::new();
        for n in 0..6 {
            all.push(alice.say_ok(&format!("c{n}"), "x").await.message_id);
        }
        let p = alice.history(None, None, Some(100)).await;
        assert_eq!((ids(&p.messages), p.has_more), (all[2..].to_vec(), true));
        let p = alice.history(None, None, None).await;
        assert_eq!(ids(&p.messages), all[2..].to_vec());
        let p = alice.history(None, None, Some(0)).await;
        assert_eq!((ids(&p.messages), p.has_more), (all[5..].to_vec(), true));

        let reply = alice
            .request(ClientMessage::History(History {
                before: Some(all[5]),
                after: Some(all[0]),
                limit: None,
                ..Default::default()
            }))
            .await;
        assert_eq!(error_code(&reply), ErrorCode::InvalidCursor);
        server.stop().await;
    }
);

db_test!(
    dropped_connection_tells_the_others_disconnected,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (bob, _) = TestClient::user(server.addr, "bob").await;
        drop(bob);
        let left = alice
            .wait_for("bob left", |m| matches!(m, ServerMessage::UserLeft(_)))
            .await;
        let ServerMessage::UserLeft(left) = left else {
            unreachable!()
        };
        assert_eq!(left.name, "bob");
        assert_eq!(left.reason, LeaveReason::Disconnected);
        // bob is gone from the online list.
        let (_carol, login) = TestClient::user(server.addr, "carol").await;
        let online: Vec<_> = login.online.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(online, ["alice", "carol"]);
        server.stop().await;
    }
);

db_test!(
    quit_answers_bye_closes_and_tells_the_others,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut bob, _) = TestClient::user(server.addr, "bob").await;
        bob.quit().await;
        let after = bob.expect_closed().await;
        assert!(after.is_empty(), "after bye: {after:?}");
        let left = alice
            .wait_for("bob left", |m| matches!(m, ServerMessage::UserLeft(_)))
            .await;
        assert!(
            matches!(&left, ServerMessage::UserLeft(l) if l.name == "bob" && l.reason == LeaveReason::Quit),
            "{left:?}"
        );
        // Nobody else left, and alice chats on. The server tells presence
        // changes in the order they happen: carol logs in after bob quit, so
        // another leave would reach alice before carol's join.
        let (_carol, _) = TestClient::user(server.addr, "carol").await;
        let mut rest = Vec::new();
        loop {
            let m = alice.recv().await;
            if matches!(&m, ServerMessage::UserJoined(j) if j.name == "carol") {
                break;
            }
            rest.push(m);
        }
        assert!(
            !rest.iter().any(|m| matches!(m, ServerMessage::UserLeft(_))),
            "{rest:?}"
        );
        alice.say_ok("still", "still here").await;
        server.stop().await;
    }
);
