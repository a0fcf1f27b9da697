//! Batch spacing: under a steady stream of messages a crowded room shares
//! batches spaced in proportion to the sessions online, while a message that
//! finds the writer idle is stored at once, and a shutdown stores what a
//! spacing holds back without waiting for it.
//!
//! No test here times an answer against a ceiling. Where a message must not
//! be held back, the spacing is an hour: an answer that comes at all (within
//! the kit's `WAIT`) was not held. Where batches must be spaced, the burst's
//! last answer comes no earlier than one spacing after the first send: a
//! slow machine only makes that more true.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use chatroom_server::Config;
use chatroom_shared::message::{ClientMessage, Say, ServerMessage};
use testkit::client::TestClient;
use testkit::db::db_test;
use testkit::server::TestServer;

/// Spacing per session in the spaced-batches test: with two users online,
/// batches start at least two seconds apart (far above any commit time, so
/// it is what shows).
const PER_SESSION: Duration = Duration::from_secs(1);
const SPACING: Duration = Duration::from_secs(2);

/// A spacing no test waits for: a message it held back would fail the test.
const AN_HOUR: Duration = Duration::from_secs(3600);

/// Messages in one burst, and the most the writer takes in one batch: the
/// burst needs at least three batches, so when the first one commits, at
/// least two hundred messages are still to come, and the sender's session
/// reads them from its socket far faster than a commit takes.
const BURST: usize = 300;
const STORE_BATCH: usize = 100;

/// Every later batch of a steady stream waits an hour.
fn spaced_an_hour(c: &mut Config) {
    c.batch_spacing_per_session = AN_HOUR;
    c.max_batch_spacing = AN_HOUR;
    c.store_batch = STORE_BATCH;
}

/// Put `BURST` messages tagged `tag` on the wire back to back; returns their seqs.
async fn send_burst(client: &mut TestClient, tag: &str) -> Vec<u32> {
    let mut seqs = Vec::with_capacity(BURST);
    for i in 0..BURST {
        let say = ClientMessage::Say(Say {
            id: format!("{tag}{i}"),
            text: format!("{tag} {i}"),
        });
        seqs.push(client.send(say).await);
    }
    seqs
}

/// Wait for a `say_ok` to each of `seqs`, in order.
async fn acked(client: &mut TestClient, seqs: Vec<u32>) {
    for seq in seqs {
        match client.reply_to(seq).await {
            ServerMessage::SayOk(_) => {}
            other => panic!("expected say_ok, got {other:?}"),
        }
    }
}

db_test!(
    a_message_that_finds_the_writer_idle_is_stored_at_once,
    |tdb| async move {
        let server = TestServer::start_with(tdb.url(), spaced_an_hour).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (mut bob, _) = TestClient::user(server.addr, "bob").await;

        // Each message goes out once the one before is acknowledged: it finds
        // the writer idle, right after a batch that stored a message with two
        // online (the logins' batches stored none). Held back for the spacing,
        // its say_ok would not come for an hour.
        for i in 0..5 {
            let ack = alice
                .say_ok(&format!("one{i}"), &format!("one at a time {i}"))
                .await;
            let got = bob.next_message().await;
            assert_eq!(
                (got.id, got.text.as_str()),
                (ack.message_id, format!("one at a time {i}").as_str())
            );
        }
        server.stop().await;
    }
);

db_test!(a_steady_stream_shares_spaced_batches, |tdb| async move {
    let server = TestServer::start_with(tdb.url(), |c| {
        c.batch_spacing_per_session = PER_SESSION;
        c.max_batch_spacing = Duration::from_secs(60);
        c.store_batch = STORE_BATCH;
    })
    .await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let (mut bob, _) = TestClient::user(server.addr, "bob").await;

    // The first batch starts after the first send; messages come in while it
    // commits, so a later one starts at least one spacing after it.
    let sent = Instant::now();
    let seqs = send_burst(&mut alice, "a").await;
    acked(&mut alice, seqs).await;
    let last = sent.elapsed();
    assert!(
        last >= SPACING,
        "the whole burst was acknowledged after {last:?}: its batches were not spaced ({SPACING:?})"
    );
    for i in 0..BURST {
        assert_eq!(bob.next_message().await.text, format!("a {i}"));
    }
    server.stop().await;
});

db_test!(
    a_shutdown_stores_what_the_spacing_holds_back_without_waiting,
    |tdb| async move {
        let server = TestServer::start_with(tdb.url(), spaced_an_hour).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let (_bob, _) = TestClient::user(server.addr, "bob").await;

        // The first batch finds the writer idle and is answered at once; the
        // rest of the burst came in while it committed, so the next batch
        // waits an hour. A shutdown that waited for the spacing would leave
        // those say_oks unanswered past the test's wait; they come after
        // `server_shutdown`, once the writer stores what is queued. (That
        // batches are spaced at all is the test above's to show: without
        // spacing, a burst still committing when the shutdown begins has
        // answers after `server_shutdown` too.)
        let seqs = send_burst(&mut alice, "h").await;
        match alice.reply_to(seqs[0]).await {
            ServerMessage::SayOk(_) => {}
            other => panic!("expected say_ok, got {other:?}"),
        }
        // Its session takes requests in order: the pong means every say is
        // queued for the writer (one still unread when the shutdown begins
        // would never be taken, nor answered).
        let ping = alice
            .send(ClientMessage::Ping(chatroom_shared::message::Ping {}))
            .await;
        assert!(matches!(alice.reply_to(ping).await, ServerMessage::Pong(_)));
        let stopping = tokio::spawn(server.stop());
        let mut before = 1;
        let mut after = 0;
        let mut shut_down = false;
        while before + after < BURST {
            match alice.recv().await {
                ServerMessage::SayOk(ok) => {
                    assert!(seqs.contains(&ok.seq), "{ok:?}");
                    if shut_down {
                        after += 1;
                    } else {
                        before += 1;
                    }
                }
                ServerMessage::ServerShutdown(_) => shut_down = true,
                ServerMessage::Error(e) => panic!("a message was refused: {e:?}"),
                _ => {}
            }
        }
        assert!(
            after > 0,
            "all {before} answered before the shutdown: nothing was left for it to store"
        );
        stopping.await.unwrap();
    }
);

db_test!(spacing_off_stores_back_to_back, |tdb| async move {
    // The same burst with spacing off, under a cap of an hour: a batch held
    // back would leave its say_ok unanswered for the test's whole wait.
    let server = TestServer::start_with(tdb.url(), |c| {
        c.batch_spacing_per_session = Duration::ZERO;
        c.max_batch_spacing = AN_HOUR;
        c.store_batch = STORE_BATCH;
    })
    .await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let (mut bob, _) = TestClient::user(server.addr, "bob").await;
    let seqs = send_burst(&mut alice, "a").await;
    acked(&mut alice, seqs).await;
    for i in 0..BURST {
        assert_eq!(bob.next_message().await.text, format!("a {i}"));
    }
    server.stop().await;
});
