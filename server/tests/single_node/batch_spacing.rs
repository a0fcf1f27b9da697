//! Batch spacing: under a steady stream of messages a crowded room shares
//! batches spaced in proportion to the sessions online, while a message that
//! finds the writer idle is stored at once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use chatroom_shared::message::{ClientMessage, Say, ServerMessage};
use testkit::client::TestClient;
use testkit::db::db_test;
use testkit::server::TestServer;

/// Spacing per session in these tests: with two users online, batches start
/// at least two seconds apart (far above any commit time, so it is what shows).
const PER_SESSION: Duration = Duration::from_secs(1);
const SPACING: Duration = Duration::from_secs(2);

/// Messages in one burst, and the most the writer takes in one batch: the
/// burst needs at least three batches whatever the timing, so records are
/// always waiting when a batch ends (on a fast database, messages sent a
/// millisecond apart could each find the writer idle and never be spaced).
const BURST: usize = 300;
const STORE_BATCH: usize = 100;

/// Send `BURST` messages back to back and wait for every ack; returns when
/// the first and the last ack arrived, counted from the first send.
async fn burst(client: &mut TestClient, tag: &str) -> (Duration, Duration) {
    let mut seqs = Vec::with_capacity(BURST);
    let sent = Instant::now();
    for i in 0..BURST {
        let say = ClientMessage::Say(Say {
            id: format!("{tag}{i}"),
            text: format!("{tag} {i}"),
        });
        seqs.push(client.send(say).await);
    }
    let mut first = None;
    for seq in seqs {
        match client.reply_to(seq).await {
            ServerMessage::SayOk(_) => {
                first.get_or_insert_with(|| sent.elapsed());
            }
            other => panic!("expected say_ok, got {other:?}"),
        }
    }
    (first.unwrap(), sent.elapsed())
}

db_test!(
    a_steady_stream_shares_spaced_batches_and_an_idle_writer_stores_at_once,
    |tdb| async move {
        let server = TestServer::start_with(tdb.url(), |c| {
            c.batch_spacing_per_session = PER_SESSION;
            c.max_batch_spacing = Duration::from_secs(60);
            c.store_batch = STORE_BATCH;
        })
        .await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut bob, _) = TestClient::user(server.addr, "bob").await;

        // Logging in stores records (login time, resume token); a burst that
        // began while they were being written would find the writer busy. One message and a pause
        // longer than the spacing leave it idle.
        alice.say_ok("warm", "warm up").await;
        assert_eq!(bob.next_message().await.text, "warm up");
        tokio::time::sleep(SPACING + Duration::from_millis(500)).await;

        // The writer starts on the first message at once; the rest come in
        // while it writes, so the next batch waits for the spacing.
        let (first, last) = burst(&mut alice, "a").await;
        assert!(
            first < SPACING,
            "the first message waited {first:?}, as if the idle writer held it back"
        );
        assert!(
            last >= SPACING,
            "the whole burst was acknowledged after {last:?}: its batches were not spaced ({SPACING:?})"
        );
        for i in 0..BURST {
            assert_eq!(bob.next_message().await.text, format!("a {i}"));
        }

        // After a pause longer than the spacing, a lone message is not held
        // back: its ack comes well within one spacing (a commit takes milliseconds).
        tokio::time::sleep(SPACING + Duration::from_millis(500)).await;
        let idle_sent = Instant::now();
        alice.say_ok("lone", "after a pause").await;
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
    // The same burst with spacing off: nothing waits.
    let server = TestServer::start_with(tdb.url(), |c| {
        c.batch_spacing_per_session = Duration::ZERO;
        c.store_batch = STORE_BATCH;
    })
    .await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let (mut bob, _) = TestClient::user(server.addr, "bob").await;
    let (_, last) = burst(&mut alice, "a").await;
    assert!(last < SPACING, "the burst took {last:?} with spacing off");
    for i in 0..BURST {
        assert_eq!(bob.next_message().await.text, format!("a {i}"));
    }
    server.stop().await;
});
