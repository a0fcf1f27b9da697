//! The screen loop and the network task never wait on each other (issue 20).
//!
//! The network task hands events to the screen loop over a bounded channel
//! and waits when it is full; the screen loop hands commands over another.
//! Here the network task is first made to wait (the events channel full of a
//! flood from the room), and then one batch produces more commands than the
//! command queue holds. A screen loop that awaited room for each command
//! would now wait for ever (the test's timeout fails it); with the
//! [`Outbox`] it keeps reading events, the commands follow as room appears,
//! and every message and every reply arrives.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chatroom_server::{Config, Server};
use chatroom_shared::message::{ServerMessage, Target};
use chatroom_tui::net::{self, HistoryQuery, NetCommand, NetEvent};
use chatroom_tui::outbox::Outbox;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How long the whole exchange may take before the test calls it stuck.
const WAIT: Duration = Duration::from_secs(120);
/// The events channel of the real main loop.
const EVENTS: usize = 1024;
/// Messages the other user floods the room with: more than the events
/// channel holds.
const FLOOD: usize = 3 * EVENTS;
/// Commands produced by one batch: more than the command queue (64) holds.
const COMMANDS: usize = 300;
const PASSWORD: &str = "correct horse battery";

fn login(server: &str, name: &str) -> NetCommand {
    NetCommand::Login {
        server: server.into(),
        name: name.into(),
        password: PASSWORD.into(),
        register: true,
    }
}

/// Wait for an event matching `pred`, dropping the rest.
async fn wait_for(events: &mut mpsc::Receiver<NetEvent>, pred: impl Fn(&NetEvent) -> bool) {
    let deadline = Instant::now() + WAIT;
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("event in time")
            .expect("task running");
        if pred(&event) {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_commands_while_the_network_task_waits_to_deliver_does_not_freeze() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: Some(chatroom_server::db::sqlite_url_for(dir.path())),
        data_dir: dir.path().to_owned(),
        bcrypt_cost: 4,
        request_rate: 0,
        max_history_page: 20,
        plain: true,
        ..Config::default()
    };
    let server = Server::start(TcpListener::bind("127.0.0.1:0").await.unwrap(), config)
        .await
        .unwrap();
    let addr = server.local_addr().unwrap().to_string();
    let shutdown = server.shutdown_token();
    let running = tokio::spawn(server.run());

    // alice: the client under test, through the outbox as in the main loop.
    let (alice_tx, mut alice_rx) = mpsc::channel(EVENTS);
    let mut outbox = Outbox::new(net::spawn(alice_tx, net::Transport::plain()));
    outbox.push(login(&addr, "alice"));
    wait_for(&mut alice_rx, |e| matches!(e, NetEvent::LoggedIn { .. })).await;

    // bob floods the room; his own events are read by a task of their own.
    let (bob_tx, mut bob_rx) = mpsc::channel(EVENTS);
    let bob = net::spawn(bob_tx, net::Transport::plain());
    bob.send(login(&addr, "bob")).await;
    wait_for(&mut bob_rx, |e| matches!(e, NetEvent::LoggedIn { .. })).await;
    let acked = tokio::spawn(async move {
        let mut acks = 0;
        while acks < FLOOD {
            match bob_rx.recv().await {
                Some(NetEvent::Server(ServerMessage::SayOk(_))) => acks += 1,
                Some(_) => {}
                None => panic!("bob's network task stopped"),
            }
        }
    });
    for i in 0..FLOOD {
        bob.send(NetCommand::Say {
            client_id: format!("bob-{i}"),
            text: format!("flood {i}"),
        })
        .await;
    }
    tokio::time::timeout(WAIT, acked)
        .await
        .expect("bob's messages acknowledged in time")
        .unwrap();

    // alice's screen has read nothing meanwhile: her events channel fills,
    // and her network task waits for room in it.
    let deadline = Instant::now() + WAIT;
    while alice_rx.len() < EVENTS {
        assert!(Instant::now() < deadline, "alice's events never filled up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // One batch asks for more than the command queue holds.
    for _ in 0..COMMANDS {
        outbox.push(NetCommand::History(HistoryQuery::older(Target::Room, None)));
    }
    assert!(outbox.waiting() > 0, "the command queue took every command");

    // The screen loop goes on: events are read while the commands go out.
    let mut messages = 0;
    let mut pages = 0;
    let finished = tokio::time::timeout(WAIT, async {
        while messages < FLOOD || pages < COMMANDS {
            tokio::select! {
                event = alice_rx.recv() => match event.expect("alice's network task runs") {
                    NetEvent::Server(ServerMessage::Message(m)) if m.from == "bob" => messages += 1,
                    NetEvent::History { .. } => pages += 1,
                    _ => {}
                },
                () = outbox.drain() => {}
            }
        }
    })
    .await;
    assert!(
        finished.is_ok(),
        "stuck: {messages} of {FLOOD} messages and {pages} of {COMMANDS} pages, \
         {} commands still waiting",
        outbox.waiting()
    );
    assert_eq!(outbox.waiting(), 0);

    shutdown.cancel();
    tokio::time::timeout(WAIT, running)
        .await
        .expect("server stops")
        .unwrap()
        .unwrap();
}
