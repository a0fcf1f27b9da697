//! A raw protocol client for tests: frames over real TCP, every reply and
//! event as a typed [`ServerMessage`]. Anything unexpected (a wrong reply, a
//! silence longer than [`WAIT`], a frame no server may send) fails the test.

#![allow(clippy::unwrap_used)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use chatroom_shared::message::*;
use chatroom_shared::{FrameCodec, FrameError};
use tokio::io::{AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio_util::codec::FramedRead;

use crate::wire::{self, WireError};

mod helpers;
pub use helpers::{
    all_history, error_code, gref, group, history_after, member_ref, members_of, message, user,
};

/// How long a test waits for something that should come.
pub const WAIT: Duration = Duration::from_secs(10);

/// One connection to the server.
pub struct TestClient {
    reader: FramedRead<ReadHalf<TcpStream>, FrameCodec>,
    writer: WriteHalf<TcpStream>,
    next_seq: u32,
    /// Events and replies read while waiting for something else.
    pending: VecDeque<ServerMessage>,
    /// The name this client logged in as, if any.
    pub name: Option<String>,
    /// The resume token from the last login.
    pub token: Option<String>,
    /// The longest frame body read so far (tests of paged lists reset it).
    pub largest_frame: usize,
}

/// A default password for test accounts.
pub const PASSWORD: &str = "correct horse battery";

impl TestClient {
    /// Open a TCP connection (no hello yet).
    pub async fn connect(addr: SocketAddr) -> Self {
        Self::from_stream(TcpStream::connect(addr).await.unwrap())
    }

    /// Connect and complete hello.
    pub async fn greeted(addr: SocketAddr) -> Self {
        let mut c = Self::connect(addr).await;
        c.hello().await;
        c
    }

    /// Connect, hello, register `name` with [`PASSWORD`], log in.
    pub async fn user(addr: SocketAddr, name: &str) -> (Self, LoginOk) {
        let mut c = Self::greeted(addr).await;
        let ok = c.register_and_login(name).await;
        (c, ok)
    }

    /// Register `name` with [`PASSWORD`] and log in, expecting both to succeed.
    async fn register_and_login(&mut self, name: &str) -> LoginOk {
        match self.register(name, PASSWORD).await {
            ServerMessage::RegisterOk(_) => {}
            other => panic!("register {name}: {other:?}"),
        }
        self.login_ok(name, PASSWORD).await
    }

    /// Connect, hello, log in an existing account.
    pub async fn existing(addr: SocketAddr, name: &str) -> (Self, LoginOk) {
        let mut c = Self::greeted(addr).await;
        let ok = c.login_ok(name, PASSWORD).await;
        (c, ok)
    }

    /// Write raw bytes to the socket.
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.unwrap();
    }

    /// Write a frame holding exactly `body`.
    pub async fn send_frame(&mut self, body: &[u8]) {
        let mut v = u32::try_from(body.len()).unwrap().to_be_bytes().to_vec();
        v.extend_from_slice(body);
        self.send_raw(&v).await;
    }

    /// Send a request with the next `seq`; returns that `seq`.
    pub async fn send(&mut self, body: ClientMessage) -> u32 {
        let seq = self.next_seq;
        self.next_seq += 1;
        let frame = wire::request_frame(seq, body).unwrap();
        self.send_raw(&frame).await;
        seq
    }

    /// The next message from the server (buffered first), failing the test after [`WAIT`].
    pub async fn recv(&mut self) -> ServerMessage {
        if let Some(m) = self.pending.pop_front() {
            return m;
        }
        self.read()
            .await
            .expect("connection closed while waiting for a message")
    }

    /// Read one message from the socket; `None` at end of stream or on reset.
    async fn read(&mut self) -> Option<ServerMessage> {
        let got = tokio::time::timeout(WAIT, wire::read_sized(&mut self.reader))
            .await
            .expect("timed out waiting for the server");
        self.received(got)
    }

    /// What a read gave: the message (its size noted in `largest_frame`), or
    /// `None` when the connection closed or broke. A frame over the limit or one
    /// that is no server message fails the test: no server may send it.
    fn received(
        &mut self,
        got: Result<(ServerMessage, usize), WireError>,
    ) -> Option<ServerMessage> {
        match got {
            Ok((m, size)) => {
                self.largest_frame = self.largest_frame.max(size);
                Some(m)
            }
            Err(WireError::Frame(FrameError::TooLarge { declared, max })) => {
                panic!("the server sent a frame of {declared} bytes, over the limit of {max}")
            }
            Err(e @ WireError::BadMessage { .. }) => panic!("{e}"),
            Err(_) => None,
        }
    }

    /// Send a request and wait for its reply (same `seq`), keeping other
    /// messages for later.
    pub async fn request(&mut self, body: ClientMessage) -> ServerMessage {
        let seq = self.send(body).await;
        self.reply_to(seq).await
    }

    /// Wait for the reply with this `seq`, keeping other messages for later.
    pub async fn reply_to(&mut self, seq: u32) -> ServerMessage {
        self.wait_for(&format!("the reply to seq {seq}"), |m| m.seq() == Some(seq))
            .await
    }

    /// Skip messages until one matches; fail after [`WAIT`].
    pub async fn wait_for(
        &mut self,
        what: &str,
        pred: impl Fn(&ServerMessage) -> bool,
    ) -> ServerMessage {
        if let Some(pos) = self.pending.iter().position(&pred) {
            return self.pending.remove(pos).unwrap();
        }
        loop {
            let m = self
                .read()
                .await
                .unwrap_or_else(|| panic!("connection closed while waiting for {what}"));
            if pred(&m) {
                return m;
            }
            self.pending.push_back(m);
        }
    }

    /// Every message that arrives within `d` (buffered ones included).
    pub async fn drain_for(&mut self, d: Duration) -> Vec<ServerMessage> {
        let mut out: Vec<_> = self.pending.drain(..).collect();
        let deadline = tokio::time::Instant::now() + d;
        while let Ok(got) =
            tokio::time::timeout_at(deadline, wire::read_sized(&mut self.reader)).await
        {
            match self.received(got) {
                Some(m) => out.push(m),
                None => break,
            }
        }
        out
    }

    /// Read until the server closes the connection; returns what came before.
    pub async fn expect_closed(&mut self) -> Vec<ServerMessage> {
        let mut out: Vec<_> = self.pending.drain(..).collect();
        while let Some(m) = self.read().await {
            out.push(m);
        }
        out
    }

    /// Send hello and expect `hello_ok`.
    pub async fn hello(&mut self) -> HelloOk {
        match self.request(wire::hello("chatroom-tests")).await {
            ServerMessage::HelloOk(ok) => ok,
            other => panic!("hello: {other:?}"),
        }
    }

    /// Send register; returns the reply.
    pub async fn register(&mut self, name: &str, password: &str) -> ServerMessage {
        self.request(wire::register(name, password)).await
    }

    /// Send login; returns the reply.
    pub async fn login(&mut self, name: &str, password: &str) -> ServerMessage {
        self.request(wire::login(name, password)).await
    }

    /// Log in and expect success.
    pub async fn login_ok(&mut self, name: &str, password: &str) -> LoginOk {
        match self.login(name, password).await {
            ServerMessage::LoginOk(ok) => {
                self.name = Some(ok.user.name.clone());
                self.token = Some(ok.token.clone());
                ok
            }
            other => panic!("login {name}: {other:?}"),
        }
    }

    /// Resume with a token from an earlier login and expect success (no password,
    /// so no bcrypt on the server).
    pub async fn resume_ok(&mut self, token: &str) -> LoginOk {
        match self
            .request(ClientMessage::Resume(Resume {
                token: token.into(),
            }))
            .await
        {
            ServerMessage::LoginOk(ok) => {
                self.name = Some(ok.user.name.clone());
                self.token = Some(ok.token.clone());
                ok
            }
            other => panic!("resume: {other:?}"),
        }
    }

    /// Send say; returns the reply.
    pub async fn say(&mut self, id: &str, text: &str) -> ServerMessage {
        self.request(ClientMessage::Say(Say {
            id: id.into(),
            text: text.into(),
        }))
        .await
    }

    /// Say and expect `say_ok`.
    pub async fn say_ok(&mut self, id: &str, text: &str) -> SayOk {
        match self.say(id, text).await {
            ServerMessage::SayOk(ok) => ok,
            other => panic!("say {text:?}: {other:?}"),
        }
    }

    /// Ask for a history page.
    pub async fn history(
        &mut self,
        before: Option<i64>,
        after: Option<i64>,
        limit: Option<u32>,
    ) -> HistoryPage {
        match self
            .request(ClientMessage::History(History {
                before,
                after,
                limit,
                ..Default::default()
            }))
            .await
        {
            ServerMessage::HistoryPage(p) => p,
            other => panic!("history: {other:?}"),
        }
    }

    /// Wait for the next chat message event.
    pub async fn next_message(&mut self) -> ChatMessage {
        match self
            .wait_for("a message", |m| matches!(m, ServerMessage::Message(_)))
            .await
        {
            ServerMessage::Message(m) => m,
            _ => unreachable!(),
        }
    }

    /// Send quit and expect `bye`.
    pub async fn quit(&mut self) {
        match self.request(ClientMessage::Quit(Quit {})).await {
            ServerMessage::Bye(_) => {}
            other => panic!("quit: {other:?}"),
        }
    }

    /// Split into a frame reader and the raw writer, for tests that must
    /// read and write at the same time. Nothing may be buffered yet.
    pub fn into_split(
        self,
    ) -> (
        FramedRead<ReadHalf<TcpStream>, FrameCodec>,
        WriteHalf<TcpStream>,
    ) {
        assert!(
            self.pending.is_empty(),
            "messages still buffered: {:?}",
            self.pending
        );
        (self.reader, self.writer)
    }

    /// Wrap an already connected stream, e.g. one made with [`tokio::net::TcpSocket`]
    /// to set socket options first.
    pub fn from_stream(stream: TcpStream) -> Self {
        stream.set_nodelay(true).unwrap();
        let (r, w) = tokio::io::split(stream);
        Self {
            reader: wire::reader(r),
            writer: w,
            next_seq: 1,
            pending: VecDeque::new(),
            name: None,
            token: None,
            largest_frame: 0,
        }
    }

    /// Open a TCP connection from the local address `ip` (no hello yet): any
    /// 127.x.y.z works on Linux's loopback, so a test can be "another address".
    pub async fn connect_from(addr: SocketAddr, ip: std::net::IpAddr) -> Self {
        let socket = if ip.is_ipv4() {
            tokio::net::TcpSocket::new_v4()
        } else {
            tokio::net::TcpSocket::new_v6()
        }
        .unwrap();
        socket.bind(SocketAddr::new(ip, 0)).unwrap();
        Self::from_stream(socket.connect(addr).await.unwrap())
    }

    /// Connect from `ip`, hello, register `name` with [`PASSWORD`], log in.
    pub async fn user_from(addr: SocketAddr, ip: std::net::IpAddr, name: &str) -> (Self, LoginOk) {
        let mut c = Self::connect_from(addr, ip).await;
        c.hello().await;
        let ok = c.register_and_login(name).await;
        (c, ok)
    }

    /// Connect with a receive buffer of about `bytes` (no hello yet), so that a
    /// client that stops reading fills up soon: left alone, the kernel grows the
    /// buffer to many megabytes.
    pub async fn connect_small_buffer(addr: SocketAddr, bytes: u32) -> Self {
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()
        } else {
            tokio::net::TcpSocket::new_v6()
        }
        .unwrap();
        socket.set_recv_buffer_size(bytes).unwrap();
        Self::from_stream(socket.connect(addr).await.unwrap())
    }

    /// Send a request with the next `seq`, returning the write error instead of
    /// failing the test when the server has closed the connection.
    pub async fn try_send(&mut self, body: ClientMessage) -> std::io::Result<u32> {
        let seq = self.next_seq;
        self.next_seq += 1;
        let frame = wire::request_frame(seq, body).unwrap();
        self.writer.write_all(&frame).await?;
        Ok(seq)
    }

    /// The next message (buffered first), or `None` once the server has closed
    /// the connection; fails the test after [`WAIT`] of silence.
    pub async fn try_recv(&mut self) -> Option<ServerMessage> {
        match self.pending.pop_front() {
            Some(m) => Some(m),
            None => self.read().await,
        }
    }

    /// Like [`TestClient::wait_for`], but sends `ping` every `interval` meanwhile,
    /// so a short keepalive does not close this connection. Pongs are dropped,
    /// other messages kept for later.
    pub async fn wait_for_pinging(
        &mut self,
        what: &str,
        interval: Duration,
        pred: impl Fn(&ServerMessage) -> bool,
    ) -> ServerMessage {
        if let Some(pos) = self.pending.iter().position(&pred) {
            return self.pending.remove(pos).unwrap();
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        let mut next_ping = tokio::time::Instant::now();
        loop {
            let now = tokio::time::Instant::now();
            assert!(now < deadline, "timed out waiting for {what}");
            if now >= next_ping {
                self.send(ClientMessage::Ping(Ping {})).await;
                next_ping = now + interval;
            }
            let read = wire::read_sized(&mut self.reader);
            let Ok(got) = tokio::time::timeout_at(next_ping.min(deadline), read).await else {
                continue;
            };
            let m = self
                .received(got)
                .unwrap_or_else(|| panic!("connection closed while waiting for {what}"));
            if pred(&m) {
                return m;
            }
            if !matches!(m, ServerMessage::Pong(_)) {
                self.pending.push_back(m);
            }
        }
    }

    /// Send `ping` every `interval` for `period`, failing the test if the
    /// connection closes; returns how many pongs came back. Other messages are
    /// kept for later.
    pub async fn keep_pinging(&mut self, period: Duration, interval: Duration) -> usize {
        let end = tokio::time::Instant::now() + period;
        let mut pongs = 0;
        let mut next_ping = tokio::time::Instant::now();
        while tokio::time::Instant::now() < end {
            if tokio::time::Instant::now() >= next_ping {
                self.send(ClientMessage::Ping(Ping {})).await;
                next_ping += interval;
            }
            let read = wire::read_sized(&mut self.reader);
            let Ok(got) = tokio::time::timeout_at(next_ping.min(end), read).await else {
                continue;
            };
            match self.received(got) {
                None => panic!(
                    "connection closed while pinging; before that: {:?}",
                    self.pending
                ),
                Some(ServerMessage::Pong(_)) => pongs += 1,
                Some(m) => self.pending.push_back(m),
            }
        }
        pongs
    }
}
