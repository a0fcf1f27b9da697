//! The hostile suite: frames trickled in a byte at a time. A frame that is
//! not complete within the partial-frame deadline gets `frame_timeout` and a
//! close however steadily its bytes come, the session and its address's slot
//! are given back, and an oversized length prefix is refused however its four
//! bytes arrive. After each case two users still chat and nothing is lost.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chatroom_server::Config;
use chatroom_shared::message::{LeaveReason, ServerMessage};
use chatroom_shared::{Decoded, ErrorCode};
use futures_util::StreamExt;
use testkit::client::{TestClient, WAIT, all_history};
use testkit::hostile::{
    Pair, frame, greeted_from_eventually, hello, lo, login, online, online_becomes, ping,
    refused_from, say, sqlite_server,
};
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

/// What happened to a connection that sent `bytes` one at a time.
struct Dripped {
    /// Everything the server sent until it closed the connection.
    got: Vec<ServerMessage>,
    /// Bytes written before the server closed.
    sent: usize,
    /// From the first byte to the close.
    lasted: Duration,
}

/// Write `bytes` one at a time, `every` apart, reading all the while, until the
/// server closes the connection (failing after [`WAIT`]).
async fn drip(client: TestClient, bytes: &[u8], every: Duration) -> Dripped {
    let (mut reader, mut writer) = client.into_split();
    let start = Instant::now();
    let mut next = start;
    let mut sent = 0;
    let mut writable = true;
    let mut got = Vec::new();
    loop {
        tokio::select! {
            frame = reader.next() => match frame {
                Some(Ok(Decoded::Frame(body))) => got.push(serde_json::from_slice(&body).unwrap()),
                Some(Ok(Decoded::FrameStarted)) => {}
                None | Some(Err(_)) => break,
            },
            () = tokio::time::sleep_until(next), if writable && sent < bytes.len() => {
                match writer.write_all(&bytes[sent..=sent]).await {
                    Ok(()) => sent += 1,
                    // Closed by the server: what it said is still to be read.
                    Err(_) => writable = false,
                }
                next += every;
            }
            () = tokio::time::sleep_until(start + WAIT) => {
                panic!("still open after {WAIT:?}, {sent} bytes dripped; got {got:?}")
            }
        }
    }
    Dripped {
        got,
        sent,
        lasted: start.elapsed(),
    }
}

/// Assert that `d` ended with exactly one `seq`-less error `code`.
fn closed_with(d: &Dripped, code: ErrorCode) {
    match d.got.as_slice() {
        [ServerMessage::Error(e)] => assert_eq!((e.code, e.seq), (code, None), "{e:?}"),
        other => panic!("expected one {code} error and a close, got {other:?}"),
    }
}

const FRAME_DEADLINE: Duration = Duration::from_secs(1);
/// One byte every DRIP: a 200-byte frame would take 50 s, fifty deadlines.
const DRIP: Duration = Duration::from_millis(250);

fn short_frame_deadline(c: &mut Config) {
    c.frame_timeout = FRAME_DEADLINE;
    // One connection per address: the dripper's slot is visibly given back.
    c.max_connections_per_address = 1;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drip_before_login_is_closed_by_the_frame_deadline_and_gives_its_slot_back() {
    let (server, _tdb) = sqlite_server(short_frame_deadline).await;
    let mut pair = Pair::new(server.addr, lo(1), lo(3)).await;

    // A frame that trickles in, but within the deadline, is served: the
    // deadline is per frame, not per byte.
    let mut drip_client = TestClient::connect_from(server.addr, lo(2)).await;
    let hello_frame = frame(1, hello());
    for piece in hello_frame.chunks(hello_frame.len().div_ceil(4)) {
        drip_client.send_raw(piece).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(matches!(
        drip_client.recv().await,
        ServerMessage::HelloOk(_)
    ));
    pair.still_chatting("a frame in four pieces").await;

    // Then a login one byte at a time: every byte arrives well within the
    // deadline, but the frame does not, and the deadline does not move.
    let slow = frame(2, login(&"m".repeat(200)));
    let d = drip(drip_client, &slow, DRIP).await;
    closed_with(&d, ErrorCode::FrameTimeout);
    // Closed before the last byte: the bytes did not move the deadline (the
    // whole drip takes fifty deadlines, so this needs no clock of its own).
    assert!(d.sent < slow.len(), "the whole frame went out");
    assert!(d.lasted >= FRAME_DEADLINE, "closed after {:?}", d.lasted);

    // The others chat on; the address's one slot is free again.
    pair.still_chatting("a drip before login").await;
    let mut again = greeted_from_eventually(server.addr, lo(2)).await;
    again.request(ping()).await;
    refused_from(server.addr, lo(2)).await;
    pair.nothing_lost().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drip_after_login_is_closed_by_the_frame_deadline_and_the_user_leaves() {
    let (server, _tdb) = sqlite_server(short_frame_deadline).await;
    let mut pair = Pair::new(server.addr, lo(1), lo(3)).await;
    let (mallory, _) = TestClient::user_from(server.addr, lo(2), "mallory").await;
    pair.alice
        .wait_for(
            "mallory joins",
            |m| matches!(m, ServerMessage::UserJoined(j) if j.name == "mallory"),
        )
        .await;
    assert_eq!(online(&server).await, ["alice", "bob", "mallory"]);

    let slow = frame(10, say("drip", &format!("dripped {}", "x".repeat(200))));
    let d = drip(mallory, &slow, DRIP).await;
    closed_with(&d, ErrorCode::FrameTimeout);
    // Closed before the last byte (fifty deadlines away): the deadline held.
    assert!(d.sent < slow.len(), "the whole frame went out");
    assert!(d.lasted >= FRAME_DEADLINE, "closed after {:?}", d.lasted);

    // The others see her leave, timed out; the server forgets her session and
    // gives her address's slot back; half a say was never stored.
    match pair
        .alice
        .wait_for(
            "mallory leaves",
            |m| matches!(m, ServerMessage::UserLeft(l) if l.name == "mallory"),
        )
        .await
    {
        ServerMessage::UserLeft(l) => assert_eq!(l.reason, LeaveReason::Timeout),
        _ => unreachable!(),
    }
    online_becomes(&server, &["alice", "bob"]).await;
    pair.still_chatting("a drip after login").await;
    greeted_from_eventually(server.addr, lo(2)).await;
    let history = all_history(&mut pair.bob).await;
    assert!(history.iter().all(|m| m.from != "mallory"), "{history:?}");
    pair.nothing_lost().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_length_prefix_dripped_byte_by_byte_gets_frame_too_large() {
    let (server, _tdb) = sqlite_server(|_| {}).await;
    let mut pair = Pair::new(server.addr, lo(1), lo(1)).await;
    // The limit is checked once the fourth byte of the prefix is in, however
    // the four arrived: in one read or in four.
    for prefix in [u32::MAX, 65_537] {
        let c = TestClient::greeted(server.addr).await;
        let d = drip(c, &prefix.to_be_bytes(), Duration::from_millis(30)).await;
        closed_with(&d, ErrorCode::FrameTooLarge);
        assert_eq!(d.sent, 4);
        pair.still_chatting(&format!("a prefix of {prefix} in four pieces"))
            .await;
    }
    // A prefix of exactly the limit, in four pieces too, is accepted: the
    // frame it announces (a ping padded to 64 KiB) is answered.
    let mut c = TestClient::greeted(server.addr).await;
    let head = r#"{"type":"ping","seq":10001,"pad":""#;
    let body = format!("{head}{}\"}}", "x".repeat(65_536 - head.len() - 2));
    assert_eq!(body.len(), 65_536);
    for byte in 65_536u32.to_be_bytes() {
        c.send_raw(&[byte]).await;
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    c.send_raw(body.as_bytes()).await;
    assert!(matches!(c.recv().await, ServerMessage::Pong(p) if p.seq == 10001));
    pair.still_chatting("a maximal frame's prefix in four pieces")
        .await;
    pair.nothing_lost().await;
    server.stop().await;
}
