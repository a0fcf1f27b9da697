//! Batch spacing: under a steady stream of messages a crowded room shares
//! batches spaced in proportion to the sessions online, while a message that
//! finds the writer idle is stored at once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::client::TestClient;
use common::db::db_test;
use common::server::TestServer;

/// Spacing per session in these tests: with two users online, batches start
/// at least two seconds apart (far above any commit time, so it is what shows).
const PER_SESSION: Duration = Duration::from_secs(1);
const SPACING: Duration = Duration::from_secs(2);

db_test!(
    messages_during_the_spacing_wait_for_it_and_an_idle_writer_stores_at_once,
    |tdb| async move {
        let server = TestServer::start_with(tdb.url(), |c| {
            c.batch_spacing_per_session = PER_SESSION;
            c.max_batch_spacing = Duration::from_secs(60);
        })
        .await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut bob, _) = TestClient::user(server.addr, "bob").await;

        // The writer is idle: the first message is a batch of its own.
        let first_sent = Instant::now();
        alice.say_ok("m0", "first").await;
        // Sent right after that batch: it waits for the spacing to pass.
        alice.say_ok("m1", "second").await;
        let waited = first_sent.elapsed();
        assert!(
            waited >= SPACING,
            "the second batch started {waited:?} after the first, under the spacing {SPACING:?}"
        );
        assert_eq!(bob.next_message().await.text, "first");
        assert_eq!(bob.next_message().await.text, "second");

        // After a pause longer than the spacing, nothing is held back: the
        // ack comes well within one spacing (a commit takes milliseconds).
        tokio::time::sleep(SPACING + Duration::from_millis(500)).await;
        let idle_sent = Instant::now();
        alice.say_ok("m2", "after a pause").await;
        let took = idle_sent.elapsed();
        assert!(
            took < SPACING,
            "a message to an idle writer took {took:?}, as if it waited for the spacing"
        );
        assert_eq!(bob.next_message().await.text, "after a pause");
        server.stop().await;
    }
);

db_test!(spacing_off_stores_back_to_back, |tdb| async move {
    // The same sequence with spacing off: the second ack does not wait.
    let server = TestServer::start_with(tdb.url(), |c| {
        c.batch_spacing_per_session = Duration::ZERO;
    })
    .await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let (mut bob, _) = TestClient::user(server.addr, "bob").await;
    let first_sent = Instant::now();
    alice.say_ok("m0", "first").await;
    alice.say_ok("m1", "second").await;
    let took = first_sent.elapsed();
    assert!(took < SPACING, "two acks took {took:?} with spacing off");
    assert_eq!(bob.next_message().await.text, "first");
    assert_eq!(bob.next_message().await.text, "second");
    server.stop().await;
});
