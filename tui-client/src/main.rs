//! `chatroom`: the terminal client.
//!
//! This is the interim line-mode client: it logs in, prints the room as lines
//! ("[name] joined the chat room", "[name]: text", "Admin: text") and sends
//! every line typed on standard input. The full-screen client replaces it.
//! The network runs in its own tasks: one reads, one writes, so typing never
//! waits on the network.

use std::io::Write as _;
use std::time::Duration;

use anyhow::{Context, bail};
use chatroom_shared::message::{
    ChatMessage, ClientMessage, Hello, LeaveReason, Login, MessageKind, Ping, Quit, Register,
    Request, Say, ServerMessage,
};
use chatroom_shared::{Decoded, FrameCodec, MAX_SERVER_FRAME, PROTOCOL_VERSION};
use clap::Parser;
use futures_util::StreamExt;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::mpsc;
use tokio_util::codec::FramedRead;

/// Command-line flags.
#[derive(Debug, Parser)]
#[command(
    name = "chatroom",
    version,
    about = "Chat in a chatroom server from the terminal (line mode)."
)]
struct Args {
    /// Server address.
    #[arg(long, env = "CHATROOM_SERVER", default_value = "127.0.0.1:44302")]
    server: String,
    /// User name.
    #[arg(long, env = "CHATROOM_USER")]
    user: String,
    /// Create the account first.
    #[arg(long)]
    register: bool,
    /// Password (otherwise read from the first line of standard input).
    #[arg(long, env = "CHATROOM_PASSWORD", hide_env_values = true)]
    password: Option<String>,
}

type Frames = FramedRead<OwnedReadHalf, FrameCodec>;

struct Conn {
    frames: Frames,
    writer: OwnedWriteHalf,
    seq: u32,
}

impl Conn {
    async fn send(&mut self, body: ClientMessage) -> anyhow::Result<u32> {
        self.seq += 1;
        let frame = chatroom_shared::encode_frame(&Request {
            seq: self.seq,
            body,
        })?;
        self.writer.write_all(&frame).await?;
        Ok(self.seq)
    }

    async fn next(&mut self) -> anyhow::Result<ServerMessage> {
        read_message(&mut self.frames)
            .await?
            .context("the server closed the connection")
    }

    /// Send a request and wait for its reply, printing events that come first.
    async fn request(&mut self, body: ClientMessage) -> anyhow::Result<ServerMessage> {
        let seq = self.send(body).await?;
        loop {
            let m = self.next().await?;
            if m.seq() == Some(seq) {
                return Ok(m);
            }
            show(&m);
        }
    }
}

async fn read_message(frames: &mut Frames) -> anyhow::Result<Option<ServerMessage>> {
    loop {
        match frames.next().await {
            None => return Ok(None),
            Some(Err(e)) => return Err(e.into()),
            Some(Ok(Decoded::FrameStarted)) => {}
            Some(Ok(Decoded::Frame(body))) => match serde_json::from_slice(&body) {
                Ok(m) => return Ok(Some(m)),
                // A newer server may send types this client does not know: skip them.
                Err(_) => continue,
            },
        }
    }
}

fn time(ts: i64) -> String {
    let secs = ts.div_euclid(1000).rem_euclid(86_400);
    format!("{:02}:{:02}", secs / 3600, (secs / 60) % 60)
}

fn show_message(m: &ChatMessage) {
    match m.kind {
        MessageKind::Announcement => println!("{} Admin: {}", time(m.ts), m.text),
        MessageKind::Message => println!("{} [{}]: {}", time(m.ts), m.from, m.text),
    }
}

fn show(m: &ServerMessage) {
    match m {
        ServerMessage::Message(c) => show_message(c),
        ServerMessage::Announcement(a) => println!("{} Admin: {}", time(a.ts), a.text),
        ServerMessage::UserJoined(j) => {
            println!("{} [{}] joined the chat room", time(j.ts), j.name)
        }
        ServerMessage::UserLeft(l) => {
            let why = match l.reason {
                LeaveReason::Quit => "",
                LeaveReason::Disconnected => " (disconnected)",
                LeaveReason::Timeout => " (timed out)",
                LeaveReason::TooSlow => " (too slow)",
                LeaveReason::Kicked => " (kicked)",
                LeaveReason::Banned => " (banned)",
            };
            println!("{} [{}] left the chat room{why}", time(l.ts), l.name);
        }
        ServerMessage::SessionReplaced(_) => {
            println!("* you logged in somewhere else; this session ends")
        }
        ServerMessage::Kicked(k) => {
            println!(
                "* you were removed by the administrator: {}",
                k.reason.as_deref().unwrap_or("no reason given")
            );
        }
        ServerMessage::ServerShutdown(s) => println!("* server: {}", s.message),
        ServerMessage::Error(e) => println!("! {}: {}", e.code, e.message),
        _ => {}
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    let password = match args.password.clone() {
        Some(p) => p,
        None => {
            print!("password: ");
            std::io::stdout().flush()?;
            stdin.next_line().await?.context("no password given")?
        }
    };

    let stream = TcpStream::connect(&args.server)
        .await
        .with_context(|| format!("cannot reach the server at {}", args.server))?;
    stream.set_nodelay(true)?;
    let (r, w) = stream.into_split();
    let mut conn = Conn {
        frames: FramedRead::new(r, FrameCodec::new(MAX_SERVER_FRAME)),
        writer: w,
        seq: 0,
    };
    let ping_every = match conn
        .request(ClientMessage::Hello(Hello {
            version: PROTOCOL_VERSION,
            client: concat!("chatroom-line ", env!("CARGO_PKG_VERSION")).into(),
        }))
        .await?
    {
        ServerMessage::HelloOk(ok) => Duration::from_millis(ok.limits.ping_interval_ms.max(100)),
        ServerMessage::Error(e) => bail!("{}: {}", e.code, e.message),
        other => bail!("unexpected reply {other:?}"),
    };
    if args.register {
        let reply = conn
            .request(ClientMessage::Register(Register {
                name: args.user.clone(),
                password: password.clone(),
            }))
            .await?;
        if let ServerMessage::Error(e) = reply {
            bail!("register: {}: {}", e.code, e.message);
        }
    }
    let login = conn
        .request(ClientMessage::Login(Login {
            name: args.user.clone(),
            password,
        }))
        .await?;
    let ok = match login {
        ServerMessage::LoginOk(ok) => ok,
        ServerMessage::Error(e) => bail!("login: {}: {}", e.code, e.message),
        other => bail!("unexpected reply {other:?}"),
    };
    for m in &ok.recent {
        show_message(m);
    }
    let names: Vec<_> = ok.online.iter().map(|u| u.name.as_str()).collect();
    println!(
        "* logged in as {}; online: {}. Type to chat, /quit to leave.",
        ok.user.name,
        names.join(", ")
    );

    let Conn {
        mut frames,
        mut writer,
        mut seq,
    } = conn;
    // Writer task: the only one that writes to the socket.
    let (tx, mut rx) = mpsc::channel::<ClientMessage>(64);
    let writer_task = tokio::spawn(async move {
        while let Some(body) = rx.recv().await {
            seq += 1;
            let Ok(frame) = chatroom_shared::encode_frame(&Request { seq, body }) else {
                continue;
            };
            if writer.write_all(&frame).await.is_err() {
                break;
            }
        }
    });
    // Reader task: prints everything the server sends.
    let reader_task = tokio::spawn(async move {
        while let Ok(Some(m)) = read_message(&mut frames).await {
            show(&m);
        }
        println!("* disconnected");
    });

    let mut counter = 0u64;
    let mut ping = tokio::time::interval(ping_every);
    loop {
        tokio::select! {
            line = stdin.next_line() => {
                let Some(line) = line? else { break };
                let text = line.trim_end();
                if text == "/quit" {
                    break;
                }
                if text.is_empty() {
                    continue;
                }
                counter += 1;
                let id = format!("{}-{}", std::process::id(), counter);
                if tx.send(ClientMessage::Say(Say { id, text: text.to_owned() })).await.is_err() {
                    break;
                }
            }
            _ = ping.tick() => {
                if tx.send(ClientMessage::Ping(Ping {})).await.is_err() {
                    break;
                }
            }
        }
        if reader_task.is_finished() {
            break;
        }
    }
    let _ = tx.send(ClientMessage::Quit(Quit {})).await;
    drop(tx);
    let _ = tokio::time::timeout(Duration::from_secs(2), writer_task).await;
    let _ = tokio::time::timeout(Duration::from_secs(2), reader_task).await;
    Ok(())
}
