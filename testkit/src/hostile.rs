//! Helpers of the hostile suite (`hostile_*.rs`): client addresses on the
//! loopback, request frames, two users whose chat proves the server still serves
//! everyone, and waiting for a closed connection's slot and session to go.

#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use chatroom_server::Config;
use chatroom_shared::ErrorCode;
use chatroom_shared::message::{ClientMessage, Ping, Say, ServerMessage};
use tokio::time::Instant;

use crate::client::{PASSWORD, TestClient, WAIT, all_history, error_code};
use crate::db::{Backend, TestDb};
use crate::server::TestServer;
use crate::wire;

/// 127.0.0.`n`. Linux routes all of 127.0.0.0/8 to the loopback, so each is a
/// different client address to a server listening on 127.0.0.1.
pub fn lo(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, n))
}

/// A server on a fresh SQLite database, for cases where the database does not matter.
pub async fn sqlite_server(adjust: impl FnOnce(&mut Config)) -> (TestServer, TestDb) {
    let tdb = TestDb::create(Backend::Sqlite).await;
    let server = TestServer::start_with(tdb.url(), adjust).await;
    (server, tdb)
}

/// One request as a complete frame.
pub fn frame(seq: u32, body: ClientMessage) -> Vec<u8> {
    wire::request_frame(seq, body).unwrap().to_vec()
}

/// `hello` from a client naming itself "hostile-input".
pub fn hello() -> ClientMessage {
    wire::hello("hostile-input")
}

/// `register` for `name` with [`PASSWORD`].
pub fn register(name: &str) -> ClientMessage {
    wire::register(name, PASSWORD)
}

/// `login` as `name` with [`PASSWORD`].
pub fn login(name: &str) -> ClientMessage {
    wire::login(name, PASSWORD)
}

/// `say` in the main room.
pub fn say(id: &str, text: &str) -> ClientMessage {
    ClientMessage::Say(Say {
        id: id.into(),
        text: text.into(),
    })
}

/// `ping`.
pub fn ping() -> ClientMessage {
    ClientMessage::Ping(Ping {})
}

/// Create the account `name` (password [`PASSWORD`]) without logging in.
pub async fn register_only(addr: SocketAddr, name: &str) {
    let mut c = TestClient::greeted(addr).await;
    match c.register(name, PASSWORD).await {
        ServerMessage::RegisterOk(_) => {}
        other => panic!("register {name}: {other:?}"),
    }
}

/// Two users who chat, and every message the server acknowledged to them.
pub struct Pair {
    /// alice.
    pub alice: TestClient,
    /// bob.
    pub bob: TestClient,
    /// What the server acknowledged to them, in order: (message id, text).
    pub acked: Vec<(i64, String)>,
    round: u32,
}

impl Pair {
    /// alice connects from `alice_ip`, bob from `bob_ip`.
    pub async fn new(addr: SocketAddr, alice_ip: IpAddr, bob_ip: IpAddr) -> Self {
        let (alice, _) = TestClient::user_from(addr, alice_ip, "alice").await;
        let (bob, _) = TestClient::user_from(addr, bob_ip, "bob").await;
        Self {
            alice,
            bob,
            acked: Vec::new(),
            round: 0,
        }
    }

    /// alice and bob each say something and the other receives it; `after`
    /// names what just happened.
    pub async fn still_chatting(&mut self, after: &str) {
        self.round += 1;
        let text = format!("alice, after {after}");
        let ack = self.alice.say_ok(&format!("a-{}", self.round), &text).await;
        received(&mut self.bob, ack.message_id, "alice", &text).await;
        self.acked.push((ack.message_id, text));
        let text = format!("bob, after {after}");
        let ack = self.bob.say_ok(&format!("b-{}", self.round), &text).await;
        received(&mut self.alice, ack.message_id, "bob", &text).await;
        self.acked.push((ack.message_id, text));
    }

    /// The room's history holds every acknowledged message of alice and bob,
    /// once each, in order, and nothing else of theirs.
    pub async fn nothing_lost(&mut self) {
        let stored: Vec<(i64, String)> = all_history(&mut self.alice)
            .await
            .into_iter()
            .filter(|m| m.from == "alice" || m.from == "bob")
            .map(|m| (m.id, m.text))
            .collect();
        assert_eq!(stored, self.acked);
    }
}

/// Wait for the `message` event with this id, and check who sent what.
pub async fn received(c: &mut TestClient, id: i64, from: &str, text: &str) {
    match c
        .wait_for(
            &format!("message {id}"),
            |m| matches!(m, ServerMessage::Message(x) if x.id == id),
        )
        .await
    {
        ServerMessage::Message(m) => assert_eq!((m.from.as_str(), m.text.as_str()), (from, text)),
        _ => unreachable!(),
    }
}

/// A connection from `ip` that gets `hello_ok`. A closed connection gives its
/// address's slot back when its task ends, a moment after the client sees the
/// close, and nothing tells the client when: so while the address is still
/// full (`too_many_connections`, or a reset), try again shortly, up to [`WAIT`].
pub async fn greeted_from_eventually(addr: SocketAddr, ip: IpAddr) -> TestClient {
    let deadline = Instant::now() + WAIT;
    loop {
        let mut c = TestClient::connect_from(addr, ip).await;
        // The write fails if the server already refused and closed.
        let _ = c.try_send(hello()).await;
        match c.try_recv().await {
            Some(ServerMessage::HelloOk(_)) => return c,
            None => {}
            Some(ServerMessage::Error(e)) if e.code == ErrorCode::TooManyConnections => {}
            Some(other) => panic!("expected hello_ok or too_many_connections, got {other:?}"),
        }
        assert!(
            Instant::now() < deadline,
            "{ip} never got its slot back within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A connection from `ip` is refused at once with `too_many_connections`.
pub async fn refused_from(addr: SocketAddr, ip: IpAddr) {
    let mut c = TestClient::connect_from(addr, ip).await;
    let got = c.expect_closed().await;
    match got.as_slice() {
        [ServerMessage::Error(e)] => {
            assert_eq!((e.code, e.seq), (ErrorCode::TooManyConnections, None));
        }
        other => panic!("expected too_many_connections and a close, got {other:?}"),
    }
}

/// The names the server lists as online.
pub async fn online(server: &TestServer) -> Vec<String> {
    let mut names: Vec<String> = server
        .admin
        .users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    names.sort();
    names
}

/// Wait (polling: a leave reaches the hub a moment after the connection ends)
/// until exactly `want` are online.
pub async fn online_becomes(server: &TestServer, want: &[&str]) {
    let deadline = Instant::now() + WAIT;
    loop {
        let now = online(server).await;
        if now == want {
            return;
        }
        assert!(Instant::now() < deadline, "online: {now:?}, want {want:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The error code of a request's reply; panics on success.
pub async fn code_of(c: &mut TestClient, req: ClientMessage) -> ErrorCode {
    error_code(&c.request(req).await)
}
