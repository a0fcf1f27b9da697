//! The hostile suite, connections: a member who never reads a room flooded by
//! several senders is dropped while every other reader gets every message; one
//! address over its connection limit does not keep another out; two thousand
//! connections coming and going leave only the users who stayed; two hundred
//! simultaneous logins while two users keep chatting. After each case two users
//! still chat and nothing is lost.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{LeaveReason, ServerMessage};
use testkit::client::{PASSWORD, TestClient, all_history};
use testkit::hostile::{
    Pair, frame, greeted_from_eventually, hello, lo, login, online_becomes, ping, received,
    refused_from, register_only, say, sqlite_server,
};

// ----- a member who never reads a flooded room -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_who_never_reads_a_flood_is_dropped_and_every_reader_gets_every_message() {
    const SENDERS: usize = 4;
    const WINDOW: usize = 4;
    const TEXT: usize = 4000;
    const LIMIT: usize = 5000;
    let (server, _tdb) = sqlite_server(|_| {}).await;
    let addr = server.addr;
    let mut pair = Pair::new(addr, lo(1), lo(1)).await;
    let (carol, _) = TestClient::user(addr, "carol").await;
    register_only(addr, "sloth").await;

    // The sloth logs in blind, in one write, and never reads a byte, not even
    // its login_ok; a small receive buffer keeps the kernel from taking much.
    let mut sloth = TestClient::connect_small_buffer(addr, 4096).await;
    let mut blind = frame(1, hello());
    blind.extend(frame(2, login("sloth")));
    sloth.send_raw(&blind).await;
    pair.bob
        .wait_for(
            "the sloth joins",
            |m| matches!(m, ServerMessage::UserJoined(j) if j.name == "sloth"),
        )
        .await;
    pair.still_chatting("the sloth joined").await;

    // bob and carol read everything, in their own tasks, until alice's last word.
    let sloth_gone = Arc::new(AtomicBool::new(false));
    let read_all = |mut c: TestClient, gone: Arc<AtomicBool>| {
        tokio::spawn(async move {
            let mut got = Vec::new();
            let mut sloth_left = None;
            loop {
                match c.recv().await {
                    ServerMessage::Message(m) if m.text == "the end" => break,
                    ServerMessage::Message(m) => got.push((m.id, m.from, m.text)),
                    ServerMessage::UserLeft(l) if l.name == "sloth" => {
                        sloth_left = Some(l.reason);
                        gone.store(true, Ordering::Relaxed);
                    }
                    ServerMessage::UserLeft(l) => panic!("{} left: {:?}", l.name, l.reason),
                    _ => {}
                }
            }
            (c, got, sloth_left)
        })
    };
    let bob_reads = read_all(pair.bob, Arc::clone(&sloth_gone));
    let carol_reads = read_all(carol, Arc::new(AtomicBool::new(false)));

    // Several senders flood the room, a few messages in flight each, until
    // the sloth is gone, and then a while longer.
    let sent_when_gone = Arc::new(AtomicUsize::new(0));
    let total = Arc::new(AtomicUsize::new(0));
    let mut senders = Vec::new();
    for s in 0..SENDERS {
        let (mut c, _) = TestClient::user(addr, &format!("flood{s}")).await;
        let gone = Arc::clone(&sloth_gone);
        let (total, sent_when_gone) = (Arc::clone(&total), Arc::clone(&sent_when_gone));
        senders.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            let mut in_flight = 0;
            let mut sent = 0;
            let mut after = 0;
            while after < 50 || in_flight > 0 {
                if after < 50 && in_flight < WINDOW {
                    assert!(
                        sent < LIMIT,
                        "the sloth was not dropped after {sent} messages"
                    );
                    let text = format!("{s}:{sent}:{}", "x".repeat(TEXT));
                    c.send(say(&format!("f{sent}"), &text)).await;
                    let n = total.fetch_add(1, Ordering::Relaxed) + 1;
                    if gone.load(Ordering::Relaxed) {
                        let _ = sent_when_gone.compare_exchange(
                            0,
                            n,
                            Ordering::Relaxed,
                            Ordering::Relaxed,
                        );
                        after += 1;
                    }
                    sent += 1;
                    in_flight += 1;
                    continue;
                }
                match c.recv().await {
                    ServerMessage::SayOk(ok) => {
                        acked.push(ok.message_id);
                        in_flight -= 1;
                    }
                    ServerMessage::Error(e) => panic!("flood{s} got {e:?}"),
                    _ => {}
                }
            }
            // Kept open: the readers take anyone else leaving for a failure.
            (c, acked)
        }));
    }
    let mut acked: Vec<i64> = Vec::new();
    let mut flooders = Vec::new();
    for s in senders {
        let (c, a) = s.await.unwrap();
        acked.extend(a);
        flooders.push(c);
    }
    acked.sort_unstable();
    let end = pair.alice.say_ok("the-end", "the end").await;
    assert!(end.message_id > *acked.last().unwrap());

    // Both readers got every flood message once, in the order stored, and the
    // sloth was dropped as too slow.
    let mut readers = Vec::new();
    for task in [bob_reads, carol_reads] {
        let (c, got, sloth_left) = task.await.unwrap();
        assert_eq!(sloth_left, Some(LeaveReason::TooSlow));
        let flood: Vec<i64> = got
            .iter()
            .filter(|(_, from, _)| from.starts_with("flood"))
            .map(|(id, _, _)| *id)
            .collect();
        assert_eq!(flood.len(), acked.len());
        assert_eq!(flood, acked, "every flood message once, in order");
        readers.push(c);
    }
    // Bounded: the sloth was dropped once its queue (by default 1024 items or
    // 8 MiB) and the socket buffers were full, not after the whole flood.
    let when = sent_when_gone.load(Ordering::Relaxed);
    assert!(
        when > 0 && when * TEXT < 32 * 1024 * 1024,
        "dropped after {when} messages of {TEXT} bytes"
    );
    online_becomes(
        &server,
        &[
            "alice", "bob", "carol", "flood0", "flood1", "flood2", "flood3",
        ],
    )
    .await;
    // What it can still read ends early: it missed the rest.
    let got = sloth.expect_closed().await;
    let seen = got
        .iter()
        .filter(|m| matches!(m, ServerMessage::Message(_)))
        .count();
    assert!(
        seen < acked.len(),
        "the sloth got {seen} of {}",
        acked.len()
    );

    let carol = readers.pop().unwrap();
    drop(carol);
    pair.bob = readers.pop().unwrap();
    pair.acked.push((end.message_id, "the end".into()));
    pair.still_chatting("the flood").await;
    pair.nothing_lost().await;
    server.stop().await;
}

// ----- one address over its limit, another still gets in -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_over_its_connection_limit_is_refused_while_another_gets_in() {
    const LIMIT: usize = 3;
    let (server, _tdb) = sqlite_server(|c| c.max_connections_per_address = LIMIT).await;
    let addr = server.addr;
    // 127.0.0.2 takes all its slots: a logged-in user and two greeted connections.
    let (mut mallory, _) = TestClient::user_from(addr, lo(2), "mallory").await;
    let mut held = Vec::new();
    for _ in 1..LIMIT {
        let mut c = TestClient::connect_from(addr, lo(2)).await;
        c.hello().await;
        held.push(c);
    }
    // Fifty more from it are each refused at once.
    for _ in 0..50 {
        refused_from(addr, lo(2)).await;
    }
    // Meanwhile 127.0.0.1 fills its own slots and chats, and 127.0.0.3 gets in too.
    let mut pair = Pair::new(addr, lo(1), lo(1)).await;
    let mut third = TestClient::connect_from(addr, lo(1)).await;
    third.hello().await;
    refused_from(addr, lo(1)).await;
    let (mut carol, _) = TestClient::user_from(addr, lo(3), "carol").await;
    pair.still_chatting("fifty refusals").await;
    // The connections already in are undisturbed.
    let ack = mallory.say_ok("m1", "still in").await;
    received(&mut carol, ack.message_id, "mallory", "still in").await;
    for c in &mut held {
        assert!(matches!(c.request(ping()).await, ServerMessage::Pong(_)));
    }
    // The refusals took no slot: one closed connection lets exactly one in.
    drop(held.pop());
    let _back = greeted_from_eventually(addr, lo(2)).await;
    refused_from(addr, lo(2)).await;
    pair.still_chatting("a slot given back").await;
    pair.nothing_lost().await;
    server.stop().await;
}

// ----- connection churn -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_connections_coming_and_going_leave_only_the_chatting_users() {
    const TASKS: usize = 4;
    const CYCLES: usize = 500;
    const LOGINS: usize = 25;
    const LIMIT: usize = 16;
    let (server, _tdb) = sqlite_server(|c| c.max_connections_per_address = LIMIT).await;
    let addr = server.addr;
    let mut pair = Pair::new(addr, lo(1), lo(1)).await;
    for t in 0..TASKS {
        register_only(addr, &format!("churn{t}")).await;
    }

    let done = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let done = Arc::clone(&done);
        tasks.push(tokio::spawn(async move {
            let mut refused = 0;
            let mut cycle = 0;
            while cycle < CYCLES {
                assert!(
                    refused < CYCLES,
                    "{refused} refusals: slots are not given back"
                );
                // A connection that is refused while the address's slots of
                // connections just closed are not yet given back does not count.
                let mut c = TestClient::connect_from(addr, lo(2)).await;
                if c.try_send(hello()).await.is_err() {
                    refused += 1;
                    continue;
                }
                match c.try_recv().await {
                    Some(ServerMessage::HelloOk(_)) => {}
                    None => {
                        refused += 1;
                        continue;
                    }
                    Some(ServerMessage::Error(e)) if e.code == ErrorCode::TooManyConnections => {
                        refused += 1;
                        continue;
                    }
                    Some(other) => panic!("hello: {other:?}"),
                }
                // Ways to leave: drop, quit, drop mid-frame; and now and then
                // a login first, and a quit or a plain drop.
                match cycle % 5 {
                    0 => c.quit().await,
                    1 => c.send_raw(&[0, 0, 1]).await,
                    _ => {}
                }
                if cycle % (CYCLES / LOGINS) == 3 {
                    c.login_ok(&format!("churn{t}"), PASSWORD).await;
                    c.say_ok(&format!("churn{t}-{cycle}"), "passing through")
                        .await;
                    if (cycle / (CYCLES / LOGINS)).is_multiple_of(2) {
                        c.quit().await;
                    }
                }
                drop(c);
                cycle += 1;
            }
            done.fetch_add(1, Ordering::Relaxed);
            refused
        }));
    }
    // alice and bob chat all the while.
    let mut rounds = 0;
    while done.load(Ordering::Relaxed) < TASKS {
        pair.still_chatting(&format!("churn round {rounds}")).await;
        rounds += 1;
    }
    let mut refused = 0;
    for task in tasks {
        refused += task.await.unwrap();
    }
    eprintln!(
        "{} cycles, {refused} refused while slots came back, {rounds} chat rounds",
        TASKS * CYCLES
    );
    assert!(rounds > 0);

    // Only alice and bob are online; a newcomer sees just them; every slot of
    // the churning address is free again.
    online_becomes(&server, &["alice", "bob"]).await;
    let (mut newbie, login) = TestClient::user(addr, "newbie").await;
    let names: Vec<&str> = login.online.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["alice", "bob", "newbie"]);
    let mut slots = Vec::new();
    for _ in 0..LIMIT {
        slots.push(greeted_from_eventually(addr, lo(2)).await);
    }
    refused_from(addr, lo(2)).await;
    drop(slots);
    // The churners' messages are all stored, and the chat goes on.
    let stored = all_history(&mut newbie)
        .await
        .iter()
        .filter(|m| m.from.starts_with("churn"))
        .count();
    assert_eq!(stored, TASKS * LOGINS);
    pair.still_chatting("the churn").await;
    pair.nothing_lost().await;
    server.stop().await;
}

// ----- two hundred simultaneous logins -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_simultaneous_logins_while_two_users_keep_chatting() {
    const LOGINS: usize = 200;
    let (server, _tdb) = sqlite_server(|_| {}).await;
    let addr = server.addr;
    let mut pair = Pair::new(addr, lo(1), lo(1)).await;
    for i in 0..LOGINS {
        register_only(addr, &format!("crowd{i}")).await;
    }
    // Everyone logs in at once (each from its own connection), while alice and
    // bob go on talking round after round.
    let done = Arc::new(AtomicUsize::new(0));
    let mut logins = Vec::new();
    for i in 0..LOGINS {
        let done = Arc::clone(&done);
        logins.push(tokio::spawn(async move {
            let (client, ok) = TestClient::existing(addr, &format!("crowd{i}")).await;
            done.fetch_add(1, Ordering::SeqCst);
            (client, ok)
        }));
    }
    let mut rounds = 0;
    while done.load(Ordering::SeqCst) < LOGINS {
        rounds += 1;
        pair.still_chatting(&format!("login round {rounds}")).await;
    }
    let mut crowd = Vec::new();
    for t in logins {
        let (client, ok) = t.await.unwrap();
        assert_eq!(ok.user.name, client.name.clone().unwrap());
        crowd.push(client);
    }
    pair.still_chatting("the logins").await;
    pair.nothing_lost().await;
    assert!(rounds >= 1, "the chat went on during the logins");
    // Everyone is online at once (the admin's list, as on the console).
    let online = testkit::hostile::online(&server).await;
    assert_eq!(online.len(), LOGINS + 2, "{online:?}");
    drop(crowd);
}
