//! The client against the real server, started in-process: shared files that
//! take several pages all reach the files pane, the app asking for each next
//! page through the network task as the pages say more follow.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chatroom_server::db::{accounts, files};
use chatroom_server::{Config, Server};
use chatroom_tui::app::{Action, App, Settings};
use chatroom_tui::event::AppEvent;
use chatroom_tui::net::{self, NetCommand};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How long to wait for anything that should come.
const WAIT: Duration = Duration::from_secs(60);
/// Files with long comments: a page holds about 240 of them.
const FILES: i64 = 600;

/// Record `FILES` files of an account "bob" straight in the database.
async fn share_files(url: &str) {
    let db = chatroom_server::db::connect(url).await.unwrap();
    chatroom_server::db::migrate(&db).await.unwrap();
    let bob = accounts::insert_account(
        &db,
        accounts::NewAccount {
            name: "bob",
            name_key: "bob",
            password_hash: "-",
            address: "127.0.0.1",
            now: 0,
        },
    )
    .await
    .unwrap();
    let comment = "c".repeat(4000);
    let sha = "ab".repeat(32);
    for i in 0..FILES {
        let name = format!("file-{i:04}.txt");
        let key = format!("k{i}");
        files::insert_file(
            &db,
            files::NewFile {
                name: &name,
                size: 1,
                sha256: &sha,
                uid: bob.id,
                comment: Some(&comment),
                now: 1_767_225_600_000,
                storage_key: &key,
            },
        )
        .await
        .unwrap();
    }
    db.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shared_file_reaches_the_files_pane_over_several_pages() {
    let dir = tempfile::tempdir().unwrap();
    let url = chatroom_server::db::sqlite_url_for(dir.path());
    share_files(&url).await;
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: Some(url),
        data_dir: dir.path().to_owned(),
        bcrypt_cost: 4,
        plain: true,
        ..Config::default()
    };
    let server = Server::start(TcpListener::bind("127.0.0.1:0").await.unwrap(), config)
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    let shutdown = server.shutdown_token();
    let running = tokio::spawn(server.run());

    let (tx, mut events) = mpsc::channel(1024);
    let handle = net::spawn(tx, net::Transport::plain());
    let mut app = App::new("", "", Settings::default(), 0);
    handle
        .send(NetCommand::Login {
            server: addr.to_string(),
            name: "alice".into(),
            password: "correct horse battery".into(),
            register: true,
        })
        .await;
    let mut asked = 0;
    let deadline = Instant::now() + WAIT;
    let listed = |app: &App| app.chat().map_or(0, |c| c.sharing.files.len());
    while listed(&app) < FILES as usize {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .unwrap_or_else(|_| panic!("{} of {FILES} files in time", listed(&app)))
            .expect("the network task runs");
        // What the main loop does: carry out the app's actions.
        for action in app.update(AppEvent::Net(event)) {
            if let Action::Net(cmd) = action {
                asked += usize::from(matches!(cmd, NetCommand::List(_)));
                handle.send(cmd).await;
            }
        }
    }
    let ids: Vec<i64> = app
        .chat()
        .unwrap()
        .sharing
        .files
        .iter()
        .map(|f| f.id)
        .collect();
    assert_eq!(
        ids,
        (1..=FILES).collect::<Vec<_>>(),
        "every file once, in order"
    );
    assert!(
        asked >= 2,
        "the app asked for the pages after the first: {asked}"
    );
    handle.send(NetCommand::Quit).await;
    shutdown.cancel();
    running.await.unwrap().unwrap();
}
