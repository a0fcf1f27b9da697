//! New connections per address and second (`--connection-rate-per-address`, bursts of
//! `--connection-burst-per-address`): one over the burst is refused with
//! `connection_rate_limited` and the time to wait, then closed; the connections
//! already in and other addresses notice nothing; after waiting as told, the address
//! gets in again.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chatroom_shared::ErrorCode;
use chatroom_shared::message::ServerMessage;
use testkit::client::TestClient;
use testkit::hostile::{Pair, lo, ping, sqlite_server};

const BURST: u32 = 5;

/// A connection from `ip` is refused: what came before the close.
async fn refusal_from(addr: std::net::SocketAddr, ip: std::net::IpAddr) -> Vec<ServerMessage> {
    TestClient::connect_from(addr, ip)
        .await
        .expect_closed()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_connection_over_the_burst_is_refused_with_the_time_to_wait() {
    let (server, _tdb) = sqlite_server(|c| {
        c.connection_rate_per_address = 1;
        c.connection_burst_per_address = BURST;
    })
    .await;
    let addr = server.addr;
    let mut pair = Pair::new(addr, lo(1), lo(1)).await;
    // 127.0.0.2 opens its burst at once: every one gets in.
    let mut held = Vec::new();
    for _ in 0..BURST {
        let mut c = TestClient::connect_from(addr, lo(2)).await;
        c.hello().await;
        held.push(c);
    }
    // The next is told why and how long to wait, then closed.
    let got = refusal_from(addr, lo(2)).await;
    let retry = match got.as_slice() {
        [ServerMessage::Error(e)] => {
            assert_eq!((e.code, e.seq), (ErrorCode::ConnectionRateLimited, None));
            e.retry_after_ms.expect("retry_after_ms")
        }
        other => panic!("expected connection_rate_limited and a close, got {other:?}"),
    };
    assert!(retry > 0, "{retry}");
    // One more at once, before that time, is closed without a word.
    assert_eq!(refusal_from(addr, lo(2)).await, Vec::new());

    // Nobody else notices: another address gets in, the ones in chat on.
    let (_carol, _) = TestClient::user_from(addr, lo(3), "carol").await;
    for c in &mut held {
        assert!(matches!(c.request(ping()).await, ServerMessage::Pong(_)));
    }
    pair.still_chatting("connections refused").await;

    // Waiting as told is enough for one more.
    tokio::time::sleep(Duration::from_millis(retry)).await;
    TestClient::connect_from(addr, lo(2)).await.hello().await;
    pair.nothing_lost().await;
    server.stop().await;
}
