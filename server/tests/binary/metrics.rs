//! Metrics and health (issue 19 §2): the real binary with `--metrics-listen`
//! is scraped over HTTP after known traffic, and its figures are those of the
//! traffic; `/health` says the database is reachable; the output passes
//! Prometheus's own `promtool check metrics`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::net::SocketAddr;

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{ClientMessage, Resume, Search};
use testkit::binary::{ServerProcess, Stdin};
use testkit::client::{TestClient, error_code};
use testkit::process::free_port;
use testkit::transfer::{content, download, download_ready, share};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `GET path` over HTTP/1.1; the status code and the body.
async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(request.as_bytes()).await.unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).await.unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP response");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_owned())
}

/// Each sample line of a scrape, `name{labels}` to its value.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (key, value) = l.rsplit_once(' ').unwrap();
            (key.to_owned(), value.parse().unwrap())
        })
        .collect()
}

fn value(s: &BTreeMap<String, f64>, key: &str) -> f64 {
    *s.get(key)
        .unwrap_or_else(|| panic!("{key} is not in the scrape: {s:#?}"))
}

async fn start() -> (tempfile::TempDir, ServerProcess, SocketAddr) {
    let dir = tempfile::tempdir().unwrap();
    let metrics: SocketAddr = ([127, 0, 0, 1], free_port().unwrap()).into();
    let server = ServerProcess::spawn_with(
        dir.path(),
        None,
        Stdin::Null,
        &["--metrics-listen", &metrics.to_string()],
    )
    .await;
    (dir, server, metrics)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_after_known_traffic_counts_that_traffic() {
    let (_dir, server, metrics) = start().await;
    let addr = server.addr;
    let (mut alice, _) = TestClient::user(addr, "alice").await;
    let (bob, _) = TestClient::user(addr, "bob").await;

    // Logins: one wrong password, one right; one unknown token, one good one.
    let mut c = TestClient::greeted(addr).await;
    assert_eq!(
        error_code(&c.login("bob", "wrong password").await),
        ErrorCode::WrongPassword
    );
    let (bob2, _) = TestClient::existing(addr, "bob").await;
    let reply = c
        .request(ClientMessage::Resume(Resume {
            token: "not-a-token".into(),
        }))
        .await;
    assert_eq!(error_code(&reply), ErrorCode::InvalidToken);
    let token = bob2.token.clone().unwrap();
    let mut bob3 = TestClient::greeted(addr).await;
    bob3.resume_ok(&token).await;
    drop((bob, bob2));

    // Five messages, one search, a file up and down.
    for i in 0..5 {
        alice
            .say_ok(&format!("m{i}"), &format!("counted {i}"))
            .await;
    }
    alice
        .request(ClientMessage::Search(Search {
            text: "counted".into(),
            ..Default::default()
        }))
        .await;
    let bytes = content(200 * 1024, 3);
    let file = share(&mut alice, addr, "counted.bin", &bytes).await;
    let ready = download_ready(&mut bob3, file.id, 0).await;
    assert_eq!(download(addr, &ready.ticket).await, bytes);

    let (status, text) = get(metrics, "/metrics").await;
    assert_eq!(status, 200, "{text}");
    let s = samples(&text);
    let login = |method: &str, result: &str| {
        value(
            &s,
            &format!("chatroom_logins_total{{method=\"{method}\",result=\"{result}\"}}"),
        )
    };
    // Registering logs in too: alice, bob, then bob again.
    assert_eq!(login("password", "ok"), 3.0);
    assert_eq!(login("password", "failed"), 1.0);
    assert_eq!(login("token", "ok"), 1.0);
    assert_eq!(login("token", "failed"), 1.0);
    assert_eq!(value(&s, "chatroom_messages_stored_total"), 5.0);
    assert_eq!(value(&s, "chatroom_message_store_seconds_count"), 5.0);
    assert!(value(&s, "chatroom_store_batch_records_count") >= 1.0);
    assert!(value(&s, "chatroom_store_commit_seconds_count") >= 1.0);
    assert_eq!(value(&s, "chatroom_search_seconds_count"), 1.0);
    assert_eq!(
        value(&s, "chatroom_transfer_bytes_total{direction=\"upload\"}"),
        bytes.len() as f64
    );
    assert_eq!(
        value(&s, "chatroom_transfer_bytes_total{direction=\"download\"}"),
        bytes.len() as f64
    );
    assert_eq!(
        value(&s, "chatroom_transfers_active{direction=\"upload\"}"),
        0.0
    );
    assert_eq!(value(&s, "chatroom_users_online"), 2.0, "alice and bob");
    assert_eq!(value(&s, "chatroom_database_up"), 1.0);
    assert_eq!(value(&s, "chatroom_store_queue_depth"), 0.0);
    // alice, bob's third connection and the greeted one that failed twice.
    assert!(value(&s, "chatroom_connections") >= 3.0, "{text}");
    assert!(
        text.contains("# HELP chatroom_messages_stored_total"),
        "{text}"
    );

    let (status, health) = get(metrics, "/health").await;
    assert_eq!(status, 200, "{health}");
    let health: serde_json::Value = serde_json::from_str(&health).unwrap();
    assert_eq!(
        health,
        serde_json::json!({"status": "ok", "database": "ok"})
    );
    assert_eq!(get(metrics, "/elsewhere").await.0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs promtool (Debian package prometheus)"]
async fn the_scrape_passes_promtool_check_metrics() {
    let (_dir, server, metrics) = start().await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    alice.say_ok("m", "one message").await;
    let (_, text) = get(metrics, "/metrics").await;
    let mut check = tokio::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run promtool: install the Debian package prometheus");
    check
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .await
        .unwrap();
    let out = check.wait_with_output().await.unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
