//! Floods: a client sending far faster than the request rate limit gets
//! `rate_limited` with the time to wait, nothing it was refused is stored, it
//! is disconnected if it keeps on, and the others chat on undisturbed. (The
//! limiter's arithmetic is tested on a paused clock in `flood.rs`'s unit tests.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use bytes::BytesMut;
use chatroom_server::Config;
use chatroom_shared::message::{ClientMessage, LeaveReason, Ping, Request, Say, ServerMessage};
use chatroom_shared::{ErrorCode, encode_frame_into};
use testkit::client::{TestClient, all_history};
use testkit::db::{Backend, TestDb};
use testkit::server::TestServer;

const RATE: u32 = 20;
const BURST: u32 = 50;
const STRIKES: u32 = 20;

fn limited(c: &mut Config) {
    c.request_rate = RATE;
    c.request_burst = BURST;
    c.rate_limit_strikes = STRIKES;
}

async fn sqlite_server(adjust: impl FnOnce(&mut Config)) -> (TestServer, TestDb) {
    let tdb = TestDb::create(Backend::Sqlite).await;
    let server = TestServer::start_with(tdb.url(), adjust).await;
    (server, tdb)
}

/// `n` say requests with seqs from `first_seq`, in one buffer.
fn says(n: u32, first_seq: u32, tag: &str) -> BytesMut {
    let mut buf = BytesMut::new();
    for i in 0..n {
        let req = Request {
            seq: first_seq + i,
            body: ClientMessage::Say(Say {
                id: format!("{tag}{i}"),
                text: format!("{tag} {i}"),
            }),
        };
        encode_frame_into(&mut buf, &req).unwrap();
    }
    buf
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_client_is_refused_then_disconnected_and_the_others_chat_on() {
    let (server, _tdb) = sqlite_server(limited).await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let (mut bob, _) = TestClient::user(server.addr, "bob").await;
    let (mut mallory, _) = TestClient::user(server.addr, "mallory").await;

    // A thousand messages in one write: far over the burst.
    mallory.send_raw(&says(1000, 1000, "flood")).await;
    let replies = mallory.expect_closed().await;
    let mut acked = 0;
    let mut refusals = Vec::new();
    for m in &replies {
        match m {
            ServerMessage::SayOk(_) => acked += 1,
            ServerMessage::Error(e) => {
                assert_eq!(e.code, ErrorCode::RateLimited, "{e:?}");
                assert!(e.seq.is_some_and(|s| s >= 1000), "{e:?}");
                assert!(e.retry_after_ms.is_some_and(|ms| ms > 0), "{e:?}");
                refusals.push(e.clone());
            }
            _ => {}
        }
    }
    // The rest past the burst is refused until the strikes run out, and the
    // connection closes (possibly before the accepted ones' acks arrive: they
    // wait for the store, the refusals do not).
    // On a loaded machine the bucket may refill mid-flood and accept one, which
    // ends a row; the row that closes the connection is the last STRIKES
    // refusals, one request after another.
    let strikes = STRIKES as usize;
    assert!(refusals.len() >= strikes, "{refusals:?}");
    let row = &refusals[refusals.len() - strikes..];
    assert!(
        row.windows(2).all(|w| w[1].seq == w[0].seq.map(|s| s + 1)),
        "the last {strikes} refusals are not in a row: {refusals:?}"
    );
    assert!(
        refusals.last().unwrap().message.contains("closing"),
        "{:?}",
        refusals.last()
    );

    // Alice and Bob chat on, and see Mallory leave.
    let ok = alice.say_ok("a1", "still here").await;
    let m = bob
        .wait_for(
            "alice's message",
            |m| matches!(m, ServerMessage::Message(c) if c.text == "still here"),
        )
        .await;
    assert!(matches!(m, ServerMessage::Message(c) if c.id == ok.message_id));
    let left = bob
        .wait_for(
            "mallory leaves",
            |m| matches!(m, ServerMessage::UserLeft(u) if u.name == "mallory"),
        )
        .await;
    assert!(matches!(left, ServerMessage::UserLeft(u) if u.reason == LeaveReason::Disconnected));

    // The burst (and what the rate refilled meanwhile) was stored, the refused
    // ones were not: stored, refused and never read add up to the thousand.
    // (Alice's message was stored after Mallory's: the store keeps order.)
    let history = all_history(&mut bob).await;
    let stored = history.iter().filter(|m| m.from == "mallory").count();
    // (Its hello and login took three of the burst.)
    assert!(stored >= BURST as usize - 3, "{stored} stored");
    assert!(stored >= acked, "{acked} acknowledged, {stored} stored");
    assert!(
        stored + refusals.len() <= 1000,
        "{stored} stored and {} refused of 1000",
        refusals.len()
    );
    let refused_seqs: Vec<u32> = refusals.iter().filter_map(|e| e.seq).collect();
    for m in history.iter().filter(|m| m.from == "mallory") {
        let n: u32 = m.text.trim_start_matches("flood ").parse().unwrap();
        assert!(
            !refused_seqs.contains(&(1000 + n)),
            "refused {n} was stored"
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooder_who_logs_in_again_gets_no_fresh_burst() {
    let (server, _tdb) = sqlite_server(limited).await;
    let (mut mallory, _) = TestClient::user(server.addr, "mallory").await;
    mallory.send_raw(&says(1000, 1000, "flood")).await;
    mallory.expect_closed().await;
    let token = mallory.token.clone().unwrap();

    // Straight back in by token (no bcrypt): the bucket is as the flood left
    // it, so a second burst is refused almost whole.
    let mut again = TestClient::greeted(server.addr).await;
    again.resume_ok(&token).await;
    again.send_raw(&says(BURST, 5000, "again")).await;
    let (mut accepted, mut refused) = (0, 0);
    let mut seen = Vec::new();
    while accepted + refused < BURST && refused < STRIKES {
        let Some(m) = again.try_recv().await else {
            panic!("closed after {accepted} accepted, {refused} refused; saw {seen:?}");
        };
        match &m {
            ServerMessage::SayOk(_) => accepted += 1,
            ServerMessage::Error(e) if e.code == ErrorCode::RateLimited => refused += 1,
            _ => {}
        }
        seen.push(format!("{m:?}").chars().take(120).collect::<String>());
    }
    assert!(
        refused >= STRIKES.min(BURST / 2),
        "{accepted} accepted, {refused} refused"
    );
    assert!(accepted < BURST / 2, "{accepted} accepted: a fresh burst");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_waits_as_told_goes_on() {
    let (server, _tdb) = sqlite_server(|c| {
        c.request_rate = 10;
        c.request_burst = 5;
        c.rate_limit_strikes = 3;
    })
    .await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    // The login's requests used some of the burst: wait for it to refill.
    tokio::time::sleep(Duration::from_secs(1)).await;
    alice.send_raw(&says(6, 100, "b")).await;
    let mut retry = None;
    for seq in 100..106 {
        match alice.reply_to(seq).await {
            ServerMessage::SayOk(_) => {}
            ServerMessage::Error(e) if e.code == ErrorCode::RateLimited => {
                retry = e.retry_after_ms;
            }
            other => panic!("{other:?}"),
        }
    }
    let retry = retry.expect("the sixth at once is refused");
    tokio::time::sleep(Duration::from_millis(retry)).await;
    // Refused twice (of three strikes), each time waiting as told: never closed.
    for round in 0..5 {
        alice
            .say_ok(&format!("later{round}"), "after waiting")
            .await;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_before_login_is_limited_too() {
    let (server, _tdb) = sqlite_server(limited).await;
    let mut c = TestClient::connect(server.addr).await;
    let mut buf = BytesMut::new();
    for seq in 1..=500 {
        let ping = Request {
            seq,
            body: ClientMessage::Ping(Ping {}),
        };
        encode_frame_into(&mut buf, &ping).unwrap();
    }
    c.send_raw(&buf).await;
    let replies = c.expect_closed().await;
    let pongs = replies
        .iter()
        .filter(|m| matches!(m, ServerMessage::Pong(_)))
        .count();
    let refused = replies
        .iter()
        .filter(|m| matches!(m, ServerMessage::Error(e) if e.code == ErrorCode::RateLimited))
        .count();
    assert!(pongs >= BURST as usize && pongs < 500, "{pongs} pongs");
    assert_eq!(refused, STRIKES as usize);
    server.stop().await;
}
