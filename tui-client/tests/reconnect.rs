//! The network task against the real server, started in-process: messages
//! are neither lost nor doubled across dropped connections, a message said
//! while disconnected is delivered once, a kicked session ends without
//! reconnecting, a ban while away ends in a refused login, a server restart
//! is survived with the resume token, refused logins are reported as such,
//! and direct messages cross a cut both ways once (unread ones come again at
//! the next login and still show once).
//!
//! The client under test is driven only through `net::spawn`, `NetCommand`s
//! and the `NetEvent`s it reports. Its connection goes through a small TCP
//! proxy that the test can cut (both sockets dropped) and hold down. Other
//! users talk to the server directly with the raw protocol.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chatroom_tui::app::{Action, App, Settings};
use chatroom_tui::event::AppEvent;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chatroom_server::{Admin, Config, Server};
use chatroom_shared::message::{
    ChatMessage, ClientMessage, Hello, History, Login, Quit, Register, Request, Say, SayOk, Send,
    ServerMessage, Target,
};
use chatroom_shared::{Decoded, ErrorCode, FrameCodec, MAX_SERVER_FRAME, PROTOCOL_VERSION};
use chatroom_tui::net::{self, NetCommand, NetEvent, NetHandle};
use futures_util::StreamExt;
use tempfile::TempDir;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::codec::FramedRead;
use tokio_util::sync::CancellationToken;

/// How long to wait for anything that should come (generous: a loaded
/// 2-core machine runs these tests next to others).
const WAIT: Duration = Duration::from_secs(60);
const PASSWORD: &str = "correct horse battery";

// ----- the server -----

struct TestServer {
    addr: SocketAddr,
    admin: Admin,
    shutdown: CancellationToken,
    handle: JoinHandle<()>,
}

/// Small `recent` and history pages, so a gap takes several pages to fill.
fn config(dir: &TempDir) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: Some(chatroom_server::db::sqlite_url_for(dir.path())),
        // Shared files and the search index in the test's own directory, not
        // in `data/` of the working directory.
        data_dir: dir.path().to_owned(),
        bcrypt_cost: 4,
        history_count: 10,
        max_history_page: 20,
        // The talkers send far faster than a person; the limit has its own tests.
        request_rate: 0,
        plain: true,
        ..Config::default()
    }
}

impl TestServer {
    async fn start(dir: &TempDir) -> Self {
        Self::start_with(dir, |_| {}).await
    }

    async fn start_with(dir: &TempDir, adjust: impl FnOnce(&mut Config)) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut config = config(dir);
        adjust(&mut config);
        let server = Server::start(listener, config).await.unwrap();
        let addr = server.local_addr().unwrap();
        let admin = server.admin();
        let shutdown = server.shutdown_token();
        let handle = tokio::spawn(async move { server.run().await.unwrap() });
        Self {
            addr,
            admin,
            shutdown,
            handle,
        }
    }

    async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(WAIT, self.handle)
            .await
            .expect("server stops")
            .expect("server ran");
    }
}

// ----- the proxy the test can cut -----

/// Forwards every connection to `target`; `cut` drops them all, `set_up`
/// (false) makes it close new connections at once.
struct Proxy {
    addr: SocketAddr,
    target: Arc<Mutex<SocketAddr>>,
    up: Arc<AtomicBool>,
    pipes: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let target = Arc::new(Mutex::new(target));
        let up = Arc::new(AtomicBool::new(true));
        let pipes = Arc::new(Mutex::new(Vec::new()));
        let accept = tokio::spawn({
            let (target, up, pipes) = (target.clone(), up.clone(), pipes.clone());
            async move {
                loop {
                    let Ok((mut inbound, _)) = listener.accept().await else {
                        continue;
                    };
                    if !up.load(Ordering::SeqCst) {
                        drop(inbound);
                        continue;
                    }
                    let to = *target.lock().unwrap();
                    let pipe = tokio::spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(to).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    pipes.lock().unwrap().push(pipe);
                }
            }
        });
        Self {
            addr,
            target,
            up,
            pipes,
            accept,
        }
    }

    /// Drop every forwarded connection (both sockets).
    fn cut(&self) {
        for pipe in self.pipes.lock().unwrap().drain(..) {
            pipe.abort();
        }
    }

    fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
    }

    fn retarget(&self, target: SocketAddr) {
        *self.target.lock().unwrap() = target;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

// ----- raw protocol users -----

struct Raw {
    frames: FramedRead<OwnedReadHalf, FrameCodec>,
    writer: OwnedWriteHalf,
    seq: u32,
}

async fn read(frames: &mut FramedRead<OwnedReadHalf, FrameCodec>) -> Option<ServerMessage> {
    loop {
        match frames.next().await? {
            Ok(Decoded::Frame(body)) => return Some(serde_json::from_slice(&body).unwrap()),
            Ok(Decoded::FrameStarted) => {}
            Err(_) => return None,
        }
    }
}

impl Raw {
    /// Connect, hello, register `name` (if asked) and log in.
    async fn user(addr: SocketAddr, name: &str, register: bool) -> Self {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let (r, writer) = stream.into_split();
        let mut raw = Self {
            frames: FramedRead::new(r, FrameCodec::new(MAX_SERVER_FRAME)),
            writer,
            seq: 0,
        };
        let hello = ClientMessage::Hello(Hello {
            version: PROTOCOL_VERSION,
            client: "reconnect test".into(),
        });
        assert!(matches!(
            raw.request(hello).await,
            ServerMessage::HelloOk(_)
        ));
        let (name, password) = (name.to_owned(), PASSWORD.to_owned());
        if register {
            let body = ClientMessage::Register(Register {
                name: name.clone(),
                password: password.clone(),
            });
            let reply = raw.request(body).await;
            assert!(matches!(reply, ServerMessage::RegisterOk(_)), "{reply:?}");
        }
        let reply = raw
            .request(ClientMessage::Login(Login { name, password }))
            .await;
        assert!(matches!(reply, ServerMessage::LoginOk(_)), "{reply:?}");
        raw
    }

    async fn send(&mut self, body: ClientMessage) {
        self.seq += 1;
        let frame = chatroom_shared::encode_frame(&Request {
            seq: self.seq,
            body,
        })
        .unwrap();
        self.writer.write_all(&frame).await.unwrap();
    }

    async fn request(&mut self, body: ClientMessage) -> ServerMessage {
        self.send(body).await;
        loop {
            let msg = tokio::time::timeout(WAIT, read(&mut self.frames))
                .await
                .expect("reply in time")
                .expect("connection open");
            if msg.seq() == Some(self.seq) {
                return msg;
            }
        }
    }

    /// Read every event from now on in a task; chat messages go to the channel.
    fn listen(self) -> (OwnedWriteHalf, u32, mpsc::UnboundedReceiver<ServerMessage>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut frames = self.frames;
        tokio::spawn(async move {
            while let Some(msg) = read(&mut frames).await {
                if tx.send(msg).is_err() {
                    return;
                }
            }
        });
        (self.writer, self.seq, rx)
    }
}

/// A user who keeps saying numbered messages until stopped.
struct Talker {
    stop: CancellationToken,
    sent: Arc<AtomicUsize>,
    handle: JoinHandle<Vec<i64>>,
}

impl Talker {
    async fn start(addr: SocketAddr, name: &str) -> Self {
        let raw = Raw::user(addr, name, true).await;
        let stop = CancellationToken::new();
        let sent_count = Arc::new(AtomicUsize::new(0));
        let name = name.to_owned();
        let handle = tokio::spawn({
            let (stop, sent_count) = (stop.clone(), sent_count.clone());
            async move {
                let (mut writer, mut seq, mut replies) = raw.listen();
                let mut acked = Vec::new();
                let mut sent = 0u32;
                let mut tick = tokio::time::interval(Duration::from_millis(10));
                while !stop.is_cancelled() {
                    tokio::select! {
                        _ = tick.tick() => {
                            seq += 1;
                            let body = ClientMessage::Say(Say {
                                id: format!("{name}-{sent}"),
                                text: format!("{name} says {sent}"),
                            });
                            let frame = chatroom_shared::encode_frame(&Request { seq, body }).unwrap();
                            writer.write_all(&frame).await.unwrap();
                            sent += 1;
                            sent_count.store(sent as usize, Ordering::SeqCst);
                        }
                        Some(msg) = replies.recv() => collect_ack(&mut acked, msg),
                        () = stop.cancelled() => {}
                    }
                }
                let deadline = Instant::now() + WAIT;
                while acked.len() < sent as usize {
                    let msg = tokio::time::timeout_at(deadline, replies.recv())
                        .await
                        .expect("every say acknowledged")
                        .expect("connection open");
                    collect_ack(&mut acked, msg);
                }
                acked
            }
        });
        Self {
            stop,
            sent: sent_count,
            handle,
        }
    }

    /// How many messages this talker has sent so far.
    fn sent(&self) -> usize {
        self.sent.load(Ordering::SeqCst)
    }

    /// Stop talking; the ids of every message this talker had stored.
    async fn finish(self) -> Vec<i64> {
        self.stop.cancel();
        self.handle.await.unwrap()
    }
}

fn collect_ack(acked: &mut Vec<i64>, msg: ServerMessage) {
    match msg {
        ServerMessage::SayOk(ok) => acked.push(ok.message_id),
        ServerMessage::Error(e) => panic!("talker refused: {e:?}"),
        _ => {}
    }
}

// ----- the client under test -----

/// The network task under test, and everything it reported.
struct Probe {
    handle: NetHandle,
    events: mpsc::Receiver<NetEvent>,
    /// Message ids shown to the app, in order: first-login `recent`,
    /// `message`/`announcement` events and `Missed`.
    ids: Vec<i64>,
    /// Every `say_ok` reported.
    acks: Vec<SayOk>,
    /// Every `Missed` reported.
    missed: Vec<Vec<ChatMessage>>,
    /// A short description of every event, for failure messages.
    log: Vec<String>,
    /// The client's state, fed every event: what the user would see.
    app: App,
}

impl Probe {
    fn start() -> Self {
        let (tx, events) = mpsc::channel(1024);
        Self {
            handle: net::spawn(tx, net::Transport::plain()),
            events,
            ids: Vec::new(),
            acks: Vec::new(),
            missed: Vec::new(),
            log: Vec::new(),
            app: App::new("", "", Settings::default(), 0),
        }
    }

    /// The stored message ids in the client's message list, top to bottom.
    fn shown_ids(&self) -> Vec<i64> {
        self.app
            .chat()
            .map(|c| c.log().entries().iter().filter_map(|e| e.id).collect())
            .unwrap_or_default()
    }

    async fn login(&mut self, server: SocketAddr, name: &str, password: &str, register: bool) {
        self.handle
            .send(NetCommand::Login {
                server: server.to_string(),
                name: name.into(),
                password: password.into(),
                register,
            })
            .await;
    }

    async fn say(&self, client_id: &str, text: &str) {
        self.handle
            .send(NetCommand::Say {
                client_id: client_id.into(),
                text: text.into(),
            })
            .await;
    }

    /// Type `text` into the client's input and press Enter; what the app asks
    /// the network task to do goes there, as in the real main loop.
    async fn type_and_send(&mut self, text: &str) {
        use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
        let mut actions = self.app.update(AppEvent::Paste(text.into()));
        let enter = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
        actions.extend(self.app.update(AppEvent::Key(enter)));
        let mut sent = false;
        for action in actions {
            if let Action::Net(cmd) = action {
                self.handle.send(cmd).await;
                sent = true;
            }
        }
        assert!(sent, "typing {text:?} and Enter sent nothing");
    }

    fn record(&mut self, event: &NetEvent) {
        self.app.update(AppEvent::Net(event.clone()));
        match event {
            NetEvent::LoggedIn { ok, resumed: false } => {
                self.ids.extend(ok.recent.iter().map(|m| m.id));
            }
            NetEvent::Server(ServerMessage::Message(m)) => self.ids.push(m.id),
            NetEvent::Server(ServerMessage::Announcement(a)) => self.ids.push(a.id),
            NetEvent::Server(ServerMessage::SayOk(ok)) => self.acks.push(ok.clone()),
            NetEvent::Missed(ms) => {
                self.ids.extend(ms.iter().map(|m| m.id));
                self.missed.push(ms.clone());
            }
            _ => {}
        }
        let short = match event {
            NetEvent::Server(ServerMessage::Message(m)) => format!("message {}", m.id),
            NetEvent::Missed(ms) => {
                format!("missed {:?}", ms.iter().map(|m| m.id).collect::<Vec<_>>())
            }
            NetEvent::LoggedIn { resumed, .. } => format!("logged in (resumed {resumed})"),
            other => format!("{other:?}").chars().take(160).collect(),
        };
        self.log.push(short);
    }

    /// The next event, recorded; `None` once the task has stopped.
    async fn next_until(&mut self, deadline: Instant) -> Option<Option<NetEvent>> {
        let event = tokio::time::timeout_at(deadline, self.events.recv())
            .await
            .ok()?;
        if let Some(e) = &event {
            self.record(e);
        }
        Some(event)
    }

    fn tail(&self) -> String {
        let from = self.log.len().saturating_sub(20);
        self.log[from..].join("\n  ")
    }

    /// Read events until one matches `pred`, and return it.
    async fn wait_for(&mut self, what: &str, pred: impl Fn(&NetEvent) -> bool) -> NetEvent {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.next_until(deadline).await {
                Some(Some(e)) if pred(&e) => return e,
                Some(Some(_)) => {}
                Some(None) => panic!(
                    "task stopped while waiting for {what}; last:\n  {}",
                    self.tail()
                ),
                None => panic!("no {what} in time; last events:\n  {}", self.tail()),
            }
        }
    }

    /// Read events until `cond` holds.
    async fn pump_until(&mut self, what: &str, cond: impl Fn(&Self) -> bool) {
        let deadline = Instant::now() + WAIT;
        while !cond(self) {
            match self.next_until(deadline).await {
                Some(Some(_)) => {}
                Some(None) => panic!(
                    "task stopped while waiting for {what}; last:\n  {}",
                    self.tail()
                ),
                None => panic!("no {what} in time; last events:\n  {}", self.tail()),
            }
        }
    }

    /// Read (and record) events for `d`; returns them.
    async fn pump_for(&mut self, d: Duration) -> Vec<NetEvent> {
        let deadline = Instant::now() + d;
        let mut seen = Vec::new();
        while let Some(Some(e)) = self.next_until(deadline).await {
            seen.push(e);
        }
        seen
    }
}

fn logged_in(resumed: bool) -> impl Fn(&NetEvent) -> bool {
    move |e| matches!(e, NetEvent::LoggedIn { resumed: r, .. } if *r == resumed)
}

fn is_disconnected(e: &NetEvent) -> bool {
    matches!(e, NetEvent::Disconnected { .. })
}

fn is_missed(e: &NetEvent) -> bool {
    matches!(e, NetEvent::Missed(_))
}

// ----- the tests -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_arrives_once_in_order_across_cut_connections() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let proxy = Proxy::start(server.addr).await;
    let mut probe = Probe::start();
    probe.login(proxy.addr, "carol", PASSWORD, true).await;
    probe.wait_for("login", logged_in(false)).await;
    assert!(probe.ids.is_empty(), "the room starts empty");

    let talkers = [
        Talker::start(server.addr, "alice").await,
        Talker::start(server.addr, "bob").await,
    ];
    probe
        .pump_until("first messages", |p| p.ids.len() >= 10)
        .await;
    for round in 0..4 {
        // Every other cut keeps the proxy down for a while, so that more
        // messages are missed than `recent` and one history page hold.
        let outage = round % 2 == 1;
        proxy.set_up(!outage);
        proxy.cut();
        probe.wait_for("disconnected", is_disconnected).await;
        if outage {
            // Three pages' worth of messages at least, however slow the machine.
            let enough = talkers.iter().map(Talker::sent).sum::<usize>() + 60;
            probe.pump_for(Duration::from_secs(1)).await;
            while talkers.iter().map(Talker::sent).sum::<usize>() < enough {
                probe.pump_for(Duration::from_millis(100)).await;
            }
            proxy.set_up(true);
        }
        probe.wait_for("caught up", is_missed).await;
        let seen = probe.ids.len();
        probe
            .pump_until("live messages", |p| p.ids.len() >= seen + 10)
            .await;
    }

    let mut expected = Vec::new();
    for talker in talkers {
        expected.extend(talker.finish().await);
    }
    expected.sort_unstable();
    let newest = *expected.last().unwrap();
    probe
        .pump_until("every message", |p| p.ids.last() >= Some(&newest))
        .await;

    assert!(
        probe.missed.iter().any(|m| m.len() > 20),
        "an outage missed more than a page: {:?}",
        probe.missed.iter().map(Vec::len).collect::<Vec<_>>()
    );
    let increasing = probe.ids.windows(2).all(|w| w[0] < w[1]);
    assert!(increasing, "ids in order, each once: {:?}", probe.ids);
    assert_eq!(probe.ids, expected, "every message after login, no gaps");
    // And that is exactly what the client's message list shows.
    assert_eq!(probe.shown_ids(), expected, "shown once each, in order");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_refused_for_now_go_out_again_by_themselves_once_each() {
    let dir = tempfile::tempdir().unwrap();
    // A tight request rate, so a quick run of messages is refused in part
    // with `rate_limited` and a retry time.
    let server = TestServer::start_with(&dir, |c| {
        c.request_rate = 4;
        c.request_burst = 8;
    })
    .await;
    let mut probe = Probe::start();
    probe.login(server.addr, "carol", PASSWORD, true).await;
    probe.wait_for("login", logged_in(false)).await;
    const SAID: usize = 14;
    for i in 0..SAID {
        probe
            .say(&format!("quick-{i}"), &format!("quick {i}"))
            .await;
    }
    probe
        .pump_until("every message acknowledged", |p| p.acks.len() >= SAID)
        .await;
    let refused: Vec<&String> = probe
        .log
        .iter()
        .filter(|l| l.starts_with("SendRefused"))
        .collect();
    assert!(refused.is_empty(), "nothing refused for good: {refused:?}");
    // Sent again one at a time, as told: never so many refusals that the
    // server closes the connection.
    let dropped: Vec<&String> = probe
        .log
        .iter()
        .filter(|l| l.starts_with("Disconnected"))
        .collect();
    assert!(dropped.is_empty(), "{dropped:?}");
    let mut acked: Vec<String> = probe.acks.iter().map(|a| a.id.clone()).collect();
    acked.sort_unstable();
    acked.dedup();
    assert_eq!(acked.len(), SAID, "each acknowledged once");
    // Stored once each, as another user reads the history.
    let mut reader = Raw::user(server.addr, "dave", true).await;
    let page = reader
        .request(ClientMessage::History(History {
            limit: Some(200),
            ..Default::default()
        }))
        .await;
    let ServerMessage::HistoryPage(page) = page else {
        panic!("{page:?}")
    };
    let texts: Vec<String> = page.messages.into_iter().map(|m| m.text).collect();
    for i in 0..SAID {
        let n = texts.iter().filter(|t| **t == format!("quick {i}")).count();
        assert_eq!(n, 1, "quick {i} stored {n} times");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn say_while_disconnected_is_delivered_once_after_reconnect() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let proxy = Proxy::start(server.addr).await;
    let mut probe = Probe::start();
    probe.login(proxy.addr, "dave", PASSWORD, true).await;
    probe.wait_for("login", logged_in(false)).await;
    let (_writer, _, mut watcher) = Raw::user(server.addr, "erin", true).await.listen();

    // One message just before the cut (its say_ok may be lost), one while down.
    probe.say("dave-1", "before the cut").await;
    proxy.set_up(false);
    proxy.cut();
    probe.wait_for("disconnected", is_disconnected).await;
    probe.say("dave-2", "while down").await;
    probe.pump_for(Duration::from_millis(500)).await;
    proxy.set_up(true);
    probe.wait_for("caught up", is_missed).await;
    probe
        .pump_until("both acknowledged", |p| {
            ["dave-1", "dave-2"]
                .iter()
                .all(|id| p.acks.iter().any(|a| a.id == *id))
        })
        .await;
    probe.say("dave-3", "sentinel").await;
    probe
        .pump_until("sentinel acknowledged", |p| {
            p.acks.iter().any(|a| a.id == "dave-3")
        })
        .await;

    // Events arrive in id order, so duplicates would come before the sentinel.
    let mut texts = Vec::new();
    while texts.last().map(String::as_str) != Some("sentinel") {
        let msg = tokio::time::timeout(WAIT, watcher.recv())
            .await
            .expect("watcher gets the sentinel")
            .expect("watcher connected");
        if let ServerMessage::Message(m) = msg {
            assert_eq!(m.from, "dave");
            texts.push(m.text);
        }
    }
    assert_eq!(texts, ["before the cut", "while down", "sentinel"]);

    let mut acks: HashMap<&str, Vec<i64>> = HashMap::new();
    for ack in &probe.acks {
        acks.entry(ack.id.as_str())
            .or_default()
            .push(ack.message_id);
    }
    for id in ["dave-1", "dave-2", "dave-3"] {
        assert_eq!(acks[id].len(), 1, "{id} acknowledged once: {acks:?}");
    }
    let own: Vec<i64> = probe.acks.iter().map(|a| a.message_id).collect();
    assert!(
        probe.ids.iter().all(|id| !own.contains(id)),
        "own messages come as acknowledgements only: {:?}",
        probe.ids
    );
    server.stop().await;
}

/// The ids of the stored messages in the client's conversation with `user`.
fn dm_ids(probe: &Probe, user: &str) -> Vec<i64> {
    let to = Target::User { user: user.into() };
    let chat = probe.app.chat();
    chat.and_then(|c| c.convs.get(&to))
        .map(|c| c.log.entries().iter().filter_map(|e| e.id).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_messages_cross_a_cut_both_ways_once_and_unread_ones_come_again() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let proxy = Proxy::start(server.addr).await;
    let mut probe = Probe::start();
    probe.login(proxy.addr, "frank", PASSWORD, true).await;
    probe.wait_for("login", logged_in(false)).await;
    let mut erin = Raw::user(server.addr, "erin", true).await;

    proxy.set_up(false);
    proxy.cut();
    probe.wait_for("disconnected", is_disconnected).await;
    // frank writes erin while down: kept, and sent as `send` once back.
    let to_erin = Target::User {
        user: "erin".into(),
    };
    let send = |id: &str, text: &str| NetCommand::Send {
        client_id: id.into(),
        to: to_erin.clone(),
        text: text.into(),
    };
    probe.handle.send(send("frank-1", "while down")).await;
    // erin writes frank (delivered at his next login), then the room: the
    // room's gap fill moves past the direct message's id, which must not
    // make it look like a duplicate.
    let dm = ClientMessage::Send(Send {
        id: "erin-1".into(),
        to: Target::User {
            user: "frank".into(),
        },
        text: "are you there?".into(),
    });
    let ServerMessage::SayOk(dm_ok) = erin.request(dm).await else {
        panic!("erin's direct message refused");
    };
    let room = ClientMessage::Say(Say {
        id: "erin-2".into(),
        text: "room after".into(),
    });
    assert!(matches!(erin.request(room).await, ServerMessage::SayOk(_)));
    probe.pump_for(Duration::from_millis(300)).await;
    proxy.set_up(true);
    probe.wait_for("caught up", is_missed).await;
    // erin's message is shown (in the conversation with erin, though its id
    // is below the room's newest); frank's was acknowledged once. (This
    // probe sends past the app, so the app shows only what it received.)
    probe
        .pump_until("erin's message and frank's ack", |p| {
            !dm_ids(p, "erin").is_empty() && p.acks.iter().any(|a| a.id == "frank-1")
        })
        .await;
    assert_eq!(dm_ids(&probe, "erin"), [dm_ok.message_id]);
    assert!(
        probe.shown_ids().iter().any(|id| *id > dm_ok.message_id),
        "the room's gap went past it: {:?}",
        probe.shown_ids()
    );

    // erin got frank's message once: it comes before the sentinel, alone.
    probe.handle.send(send("frank-2", "sentinel")).await;
    let (_writer, _, mut erin_events) = erin.listen();
    let mut texts = Vec::new();
    while texts.last().map(String::as_str) != Some("sentinel") {
        let msg = tokio::time::timeout(WAIT, erin_events.recv())
            .await
            .expect("erin gets the sentinel")
            .expect("erin connected");
        if let ServerMessage::Message(m) = msg {
            assert_eq!(m.to, to_erin, "a direct message, not the room: {m:?}");
            texts.push(m.text);
        }
    }
    assert_eq!(texts, ["while down", "sentinel"]);

    // frank never showed erin's message (the room is on his screen), so no
    // read went out: the next login delivers it again, and it shows once.
    let before = probe.log.len();
    proxy.cut();
    probe.wait_for("disconnected", is_disconnected).await;
    probe.wait_for("caught up", is_missed).await;
    let again = |p: &Probe| {
        p.log[before..]
            .iter()
            .any(|l| l == &format!("message {}", dm_ok.message_id))
    };
    probe.pump_until("erin's message again", again).await;
    assert_eq!(dm_ids(&probe, "erin"), [dm_ok.message_id], "shown once");
    let acks = probe.acks.iter().filter(|a| a.id == "frank-1").count();
    assert_eq!(acks, 1, "frank's message was acknowledged once");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kicked_session_ends_without_reconnecting() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let mut probe = Probe::start();
    probe.login(server.addr, "frank", PASSWORD, true).await;
    probe.wait_for("login", logged_in(false)).await;

    server
        .admin
        .kick("frank", Some("enough".into()))
        .await
        .unwrap();
    probe
        .wait_for(
            "kicked",
            |e| matches!(e, NetEvent::Server(ServerMessage::Kicked(k)) if !k.banned),
        )
        .await;
    let ended = probe
        .wait_for("ended", |e| matches!(e, NetEvent::Ended { .. }))
        .await;
    let NetEvent::Ended { reason } = ended else {
        unreachable!()
    };
    assert_eq!(reason, "The administrator disconnected you (enough).");

    // Well past the first backoff: nothing more happens.
    let after = probe.pump_for(Duration::from_secs(2)).await;
    assert!(after.is_empty(), "no reconnect after a kick: {after:?}");
    let online = server.admin.users().await.unwrap();
    assert!(online.is_empty(), "frank stays offline");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ban_while_away_is_a_refused_login_without_retrying() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let proxy = Proxy::start(server.addr).await;
    let mut probe = Probe::start();
    probe.login(proxy.addr, "ivan", PASSWORD, true).await;
    probe.wait_for("login", logged_in(false)).await;

    proxy.set_up(false);
    proxy.cut();
    probe.wait_for("disconnected", is_disconnected).await;
    // Wait until the server has seen ivan leave, so the ban finds him offline.
    let deadline = Instant::now() + WAIT;
    while !server.admin.users().await.unwrap().is_empty() {
        assert!(Instant::now() < deadline, "ivan leaves the server");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !server.admin.ban("ivan").await.unwrap(),
        "banned while offline"
    );
    proxy.set_up(true);

    let failed = probe
        .wait_for("refused", |e| matches!(e, NetEvent::LoginFailed { .. }))
        .await;
    assert!(
        matches!(
            failed,
            NetEvent::LoginFailed {
                code: ErrorCode::AccountDisabled,
                ..
            }
        ),
        "{failed:?}"
    );
    let after = probe.pump_for(Duration::from_secs(2)).await;
    assert!(
        after.is_empty(),
        "no retry after a refused login: {after:?}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_restart_is_survived_with_the_resume_token() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let proxy = Proxy::start(server.addr).await;
    let mut probe = Probe::start();
    probe.login(proxy.addr, "gina", PASSWORD, true).await;
    probe.wait_for("login", logged_in(false)).await;

    server.stop().await;
    probe
        .wait_for("shutdown notice", |e| {
            matches!(e, NetEvent::Server(ServerMessage::ServerShutdown(_)))
        })
        .await;
    let dropped = probe.wait_for("disconnected", is_disconnected).await;
    assert!(
        format!("{dropped:?}").contains("shutting down"),
        "{dropped:?}"
    );

    // Announced before the proxy leads to the new server: the client can
    // only learn of it by filling the gap.
    let server = TestServer::start(&dir).await;
    let id = server.admin.announce("back again").await.unwrap();
    proxy.retarget(server.addr);
    probe.wait_for("resumed", logged_in(true)).await;
    probe.wait_for("caught up", is_missed).await;
    assert_eq!(probe.ids, [id], "the announcement made while away");
    probe.say("gina-1", "still here").await;
    probe
        .pump_until("say acknowledged", |p| {
            p.acks.iter().any(|a| a.id == "gina-1")
        })
        .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_logins_report_code_and_whether_the_connection_closed() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let mut raw = Raw::user(server.addr, "hank", true).await;
    raw.send(ClientMessage::Quit(Quit {})).await;
    let mut probe = Probe::start();

    let closed_port = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap()
    };
    probe.login(closed_port, "hank", PASSWORD, false).await;
    probe
        .wait_for("unreachable", |e| matches!(e, NetEvent::Unreachable { .. }))
        .await;

    probe.login(server.addr, "hank", PASSWORD, true).await;
    let taken = probe
        .wait_for("name taken", |e| matches!(e, NetEvent::LoginFailed { .. }))
        .await;
    assert!(
        matches!(
            taken,
            NetEvent::LoginFailed {
                code: ErrorCode::NameTaken,
                attempts_left: None,
                closed: false,
                ..
            }
        ),
        "{taken:?}"
    );
    for left in [2, 1, 0] {
        probe
            .login(server.addr, "hank", "wrong password!", false)
            .await;
        let failed = probe
            .wait_for("wrong password", |e| {
                matches!(e, NetEvent::LoginFailed { .. })
            })
            .await;
        let NetEvent::LoginFailed {
            code,
            attempts_left,
            closed,
            ..
        } = failed
        else {
            unreachable!()
        };
        assert_eq!(code, ErrorCode::WrongPassword);
        assert_eq!(attempts_left, Some(left));
        assert_eq!(closed, left == 0);
    }
    probe.login(server.addr, "hank", PASSWORD, false).await;
    probe.wait_for("login", logged_in(false)).await;

    probe.handle.send(NetCommand::Quit).await;
    let ended = probe
        .wait_for("ended", |e| matches!(e, NetEvent::Ended { .. }))
        .await;
    assert_eq!(
        ended,
        NetEvent::Ended {
            reason: "quit".into()
        }
    );
    let deadline = Instant::now() + WAIT;
    assert!(
        matches!(probe.next_until(deadline).await, Some(None)),
        "the task stops after quit"
    );
    server.stop().await;
}

/// A client started again in the same process (in a container it is PID 1 on
/// every run) must not use the message ids of its earlier run: the server
/// would take its new messages for retries of the old ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_started_again_with_the_same_process_id_delivers_every_message() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let mut bob = Raw::user(server.addr, "bob", true).await;

    for (run, text) in ["first run message", "second run message"]
        .iter()
        .enumerate()
    {
        let mut client = Probe::start();
        client.login(server.addr, "alice", PASSWORD, run == 0).await;
        client.wait_for("login", logged_in(false)).await;
        client.type_and_send(text).await;
        let ack = client
            .wait_for("say_ok", |e| {
                matches!(e, NetEvent::Server(ServerMessage::SayOk(_)))
            })
            .await;
        let NetEvent::Server(ServerMessage::SayOk(ack)) = ack else {
            unreachable!()
        };
        let got = loop {
            match tokio::time::timeout(WAIT, read(&mut bob.frames))
                .await
                .expect("bob gets the message in time")
                .expect("bob's connection open")
            {
                ServerMessage::Message(m) => break m,
                _ => continue,
            }
        };
        assert_eq!((got.id, got.text.as_str()), (ack.message_id, *text));
        client.handle.send(NetCommand::Quit).await;
    }
    let page = bob
        .request(ClientMessage::History(History {
            to: Target::Room,
            ..Default::default()
        }))
        .await;
    let ServerMessage::HistoryPage(page) = page else {
        panic!("{page:?}")
    };
    let texts: Vec<_> = page.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["first run message", "second run message"]);
    server.stop().await;
}
