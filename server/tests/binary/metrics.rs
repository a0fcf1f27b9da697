//! Metrics and health (issue 19 §2): the real binary with `--metrics-listen`
//! is scraped over HTTP after known traffic, and its figures are those of the
//! traffic; `/health` says the database is reachable; the output passes
//! Prometheus's own `promtool check metrics`; a cluster node reports NATS and
//! the nodes it hears, and a node that died as down.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::net::SocketAddr;

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{ClientMessage, Resume, Search};
use testkit::binary::{ServerProcess, Stdin};
use testkit::client::{TestClient, WAIT, error_code};
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

/// Scrape until `pred` holds for the samples, or fail after [`WAIT`].
async fn scrape_until(
    metrics: SocketAddr,
    what: &str,
    pred: impl Fn(&BTreeMap<String, f64>) -> bool,
) -> BTreeMap<String, f64> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (_, text) = get(metrics, "/metrics").await;
        let s = samples(&text);
        if pred(&s) {
            return s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} never showed; the last scrape:\n{text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs TEST_POSTGRES_URL and TEST_NATS_URL"]
async fn a_cluster_node_reports_nats_and_the_nodes_it_hears() {
    let admin = testkit::services::required(testkit::services::POSTGRES_ENV);
    let nats = testkit::services::required(testkit::services::NATS_ENV);
    let db = testkit::fresh_db::FreshDatabase::create(&admin, "chatroom_metrics")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cluster = testkit::cluster::unique_cluster_name("metrics");
    let metrics: SocketAddr = ([127, 0, 0, 1], free_port().unwrap()).into();
    let flags = |id: &str, extra: &[String]| -> Vec<String> {
        let mut flags: Vec<String> = [
            "--nats-url",
            nats.as_str(),
            "--cluster-name",
            cluster.as_str(),
            "--node-id",
            id,
            "--node-heartbeat",
            "100ms",
            "--node-timeout",
            "1s",
        ]
        .map(str::to_owned)
        .to_vec();
        flags.extend_from_slice(extra);
        flags
    };
    let n1_flags = flags("n1", &["--metrics-listen".to_owned(), metrics.to_string()]);
    let n1_flags: Vec<&str> = n1_flags.iter().map(String::as_str).collect();
    let n1 =
        ServerProcess::spawn_db_env(dir.path(), Some(db.url()), Stdin::Null, &n1_flags, &[]).await;
    let n2_flags = flags("n2", &[]);
    let n2_flags: Vec<&str> = n2_flags.iter().map(String::as_str).collect();
    let mut n2 =
        ServerProcess::spawn_db_env(dir.path(), Some(db.url()), Stdin::Null, &n2_flags, &[]).await;

    let up = |node: &str| format!("chatroom_cluster_node_up{{node=\"{node}\"}}");
    let s = scrape_until(metrics, "both nodes up", |s| {
        s.get(&up("n1")) == Some(&1.0) && s.get(&up("n2")) == Some(&1.0)
    })
    .await;
    assert_eq!(value(&s, "chatroom_nats_up"), 1.0);
    let (status, health) = get(metrics, "/health").await;
    assert_eq!(status, 200, "{health}");
    let health: serde_json::Value = serde_json::from_str(&health).unwrap();
    assert_eq!(
        health,
        serde_json::json!({"status": "ok", "database": "ok", "nats": "ok"})
    );

    // n2 dies: once n1 takes it for dead it reads 0, and n1 itself stays 1.
    n2.kill().await;
    let s = scrape_until(metrics, "n2 down", |s| s.get(&up("n2")) == Some(&0.0)).await;
    assert_eq!(value(&s, &up("n1")), 1.0);
    drop(n1);
    db.drop_db().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs TEST_POSTGRES_URL"]
async fn health_says_503_while_the_database_is_down_and_200_once_it_is_back() {
    use testkit::db_proxy::{DbProxy, Mode};
    let admin = testkit::services::required(testkit::services::POSTGRES_ENV);
    let db = testkit::fresh_db::FreshDatabase::create(&admin, "chatroom_health")
        .await
        .unwrap();
    let proxy = DbProxy::start(db.url()).await;
    let dir = tempfile::tempdir().unwrap();
    let metrics: SocketAddr = ([127, 0, 0, 1], free_port().unwrap()).into();
    let metrics_flag = metrics.to_string();
    let server = ServerProcess::spawn_db_env(
        dir.path(),
        Some(&proxy.url_for(db.url())),
        Stdin::Null,
        &["--metrics-listen", &metrics_flag, "--db-timeout", "1s"],
        &[],
    )
    .await;
    assert_eq!(get(metrics, "/health").await.0, 200);

    proxy.set(Mode::Down);
    let (status, body) = get(metrics, "/health").await;
    assert_eq!(status, 503, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["status"], "unavailable");
    assert!(
        body["database"]
            .as_str()
            .unwrap()
            .starts_with("unreachable: "),
        "{body}"
    );
    let s = samples(&get(metrics, "/metrics").await.1);
    assert_eq!(value(&s, "chatroom_database_up"), 0.0);

    proxy.set(Mode::Up);
    let deadline = tokio::time::Instant::now() + WAIT;
    while get(metrics, "/health").await.0 != 200 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the database never came back"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    drop(server);
    drop(proxy);
    db.drop_db().await.unwrap();
}
