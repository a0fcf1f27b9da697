//! The black-box hostile suite: the real server binary, started in a fresh
//! directory on a free port, under input a hostile internet sends; after each
//! case the server still serves everyone else.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chatroom_shared::DEFAULT_MAX_CLIENT_FRAME;
use testkit::binary::{ServerProcess, Stdin};
use testkit::client::TestClient;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The server's resident memory, in KiB, from /proc.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status")
}

/// Everything the server sends on `stream` until it closes it.
async fn read_until_closed(mut stream: TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut out));
    // A reset after the last frame is a close too.
    let _ = read
        .await
        .expect("the server did not close the connection in time");
    out
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_connections_sending_only_a_maximal_header_stay_bounded_and_are_closed() {
    const CONNECTIONS: usize = 1000;
    // Room for them on both ends (the server inherits this process's limit).
    let fds = rlimit::increase_nofile_limit(4 * CONNECTIONS as u64).unwrap();
    assert!(fds > 2 * CONNECTIONS as u64, "only {fds} file descriptors");
    let dir = tempfile::tempdir().unwrap();
    let flags = [
        "--max-connections-per-address",
        "0",
        "--connection-rate-per-address",
        "0",
        "--frame-timeout",
        "3s",
    ];
    let server = ServerProcess::spawn_with(dir.path(), None, Stdin::Null, &flags).await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let before = rss_kib(server.pid());

    // Each announces the largest frame it may send, and sends nothing more.
    let header = u32::try_from(DEFAULT_MAX_CLIENT_FRAME)
        .unwrap()
        .to_be_bytes();
    let mut hostile = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        let mut s = TcpStream::connect(server.addr).await.unwrap();
        s.write_all(&header).await.unwrap();
        hostile.push(s);
    }
    // In sync with the server (no sleeping): a registered user still chats
    // while all of them hang, and only then is the memory read.
    let (mut bob, _) = TestClient::user(server.addr, "bob").await;
    alice.say_ok("m1", "still here").await;
    assert_eq!(bob.next_message().await.text, "still here");
    let during = rss_kib(server.pid());

    // Bounded, and far below the announced 64 KiB each: nothing is held for
    // bytes that never came (measured: about 9 KiB per connection, its task,
    // socket and read buffer).
    let per_connection = 32;
    let grew = during.saturating_sub(before);
    assert!(
        grew <= CONNECTIONS as u64 * per_connection,
        "{CONNECTIONS} half-open frames grew the server by {grew} KiB"
    );

    eprintln!("{CONNECTIONS} maximal headers: server RSS {before} -> {during} KiB");

    // The partial-frame deadline closes every one of them, with frame_timeout.
    let closings = futures_util::future::join_all(hostile.into_iter().map(read_until_closed)).await;
    for bytes in &closings {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            text.contains("frame_timeout"),
            "closed without frame_timeout: {text:?}"
        );
    }

    // And the server serves everyone else as before.
    alice.say_ok("m2", "after the flood").await;
    assert_eq!(bob.next_message().await.text, "after the flood");
    let (mut carol, _) = TestClient::user(server.addr, "carol").await;
    carol.say_ok("m3", "new here").await;
    assert_eq!(bob.next_message().await.text, "new here");
}

/// What the server sends back to `bytes` sent as if they were frames, until
/// it closes the connection.
async fn answer_to(addr: std::net::SocketAddr, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    // The server may close before reading everything: a failed write is fine.
    let _ = s.write_all(bytes).await;
    String::from_utf8_lossy(&read_until_closed(s).await).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_a_tls_client_hello_and_random_bytes_are_refused_and_closed() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::spawn(dir.path(), None, Stdin::Null).await;
    let (mut alice, _) = TestClient::user(server.addr, "alice").await;
    let (mut bob, _) = TestClient::user(server.addr, "bob").await;

    // "GET " read as a length prefix announces about 1.2 GB: over the limit.
    let http = b"GET / HTTP/1.1\r\nHost: chat.example\r\nUser-Agent: curl/8\r\n\r\n";
    // A TLS 1.2 ClientHello record header and the start of its body: 0x16030100...
    let mut client_hello = vec![
        0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00, 0x00, 0xc4, 0x03, 0x03,
    ];
    client_hello.extend(std::iter::repeat_n(0xab_u8, 200));
    let cases: Vec<(&str, Vec<u8>)> = vec![("HTTP", http.to_vec()), ("TLS", client_hello)];
    for (what, bytes) in &cases {
        let answer = answer_to(server.addr, bytes).await;
        assert!(
            answer.contains("frame_too_large"),
            "{what}: expected frame_too_large and a close, got {answer:?}"
        );
    }
    // Random bytes: whatever their first four say, the server answers with an
    // error or closes, and never stops serving the others.
    for round in 0..20 {
        let bytes: Vec<u8> = (0..512).map(|_| rand::random::<u8>()).collect();
        let answer = answer_to(server.addr, &bytes).await;
        assert!(
            answer.is_empty() || answer.contains("\"type\":\"error\""),
            "random bytes, round {round}: {answer:?}"
        );
        alice
            .say_ok(&format!("r{round}"), &format!("round {round}"))
            .await;
        assert_eq!(bob.next_message().await.text, format!("round {round}"));
    }
}
