//! One benchmark connection that parses as little as it can: hello,
//! register, login and resume read only the reply's type, seq, token and error
//! code (and of `login_ok` its size and how much of the online list it holds),
//! and a held connection drops whatever the server sends unparsed while it
//! pings within the keepalive.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use chatroom_shared::codec::HEADER_LEN;
use chatroom_shared::message::{ClientMessage, Hello, Login, Ping, Register, Request, Resume};
use chatroom_shared::{Decoded, FrameCodec, MAX_SERVER_FRAME, PROTOCOL_VERSION};
use futures_util::StreamExt;
use serde::Deserialize;
use serde::de::IgnoredAny;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpSocket, TcpStream};
use tokio_util::codec::FramedRead;
use tokio_util::sync::CancellationToken;

use super::{PASSWORD, STEP_LIMIT};

/// Longest a connection is held open, whatever else happens.
const HOLD_LIMIT: Duration = Duration::from_secs(3600);

/// The few fields of a server message these scenarios look at. Everything
/// else (e.g. the `online` list of `login_ok`, which grows with every user
/// online) is skipped without being built.
#[derive(Debug, Deserialize)]
struct Reply {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    seq: Option<u32>,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    limits: Option<LimitsSeen>,
    /// `login_ok`: the users it lists, counted without being built.
    #[serde(default)]
    online: Option<Vec<IgnoredAny>>,
    #[serde(default)]
    online_count: Option<u64>,
    #[serde(default)]
    online_next: Option<String>,
}

/// What a `login_ok` looked like: its size and how much of the online list
/// it carried (the `presence` scenario checks that a login costs the same at
/// any number online).
#[derive(Debug, Clone, Copy, Default)]
pub struct LoginSeen {
    /// The frame as received: the 4-byte length and the JSON.
    pub bytes: usize,
    /// `online_count`: users online at the login, this one included.
    pub online_count: u64,
    /// Users listed in `online`.
    pub listed: usize,
    /// Whether `online_next` was set (the list is a first page).
    pub paged: bool,
}

/// A logged-in connection taken apart, for a scenario that reads and writes
/// on it itself.
pub struct Parts {
    /// Server frames.
    pub reader: FramedRead<OwnedReadHalf, FrameCodec>,
    /// Requests.
    pub writer: OwnedWriteHalf,
    /// The last request's seq.
    pub seq: u32,
    /// How often to ping (`ping_interval_ms` from `hello_ok`).
    pub ping_every: Duration,
}

#[derive(Debug, Deserialize)]
struct LimitsSeen {
    ping_interval_ms: u64,
    auth_timeout_ms: u64,
}

impl Reply {
    fn expect(self, kind: &str) -> anyhow::Result<Self> {
        if self.kind == kind {
            return Ok(self);
        }
        bail!(
            "expected {kind}, got {} {} {}",
            self.kind,
            self.code.as_deref().unwrap_or(""),
            self.message.as_deref().unwrap_or("")
        )
    }
}

/// A connection that has said hello.
pub struct Conn {
    reader: FramedRead<OwnedReadHalf, FrameCodec>,
    writer: OwnedWriteHalf,
    seq: u32,
    /// How often to ping (`ping_interval_ms` from `hello_ok`).
    ping_every: Duration,
    /// How long the server waits for a login (`auth_timeout_ms`).
    auth_timeout: Duration,
    /// The `login_ok` of [`Conn::login`].
    login_seen: Option<LoginSeen>,
}

impl Conn {
    /// Connect to `addr` and say hello.
    pub async fn greet(addr: SocketAddr) -> anyhow::Result<Self> {
        Self::greet_from(addr, None).await
    }

    /// Connect to `addr` from the local address `source` (any port; the
    /// system's choice when `None`) and say hello. Loopback has about 28,000
    /// ephemeral ports per source address: more connections than that need
    /// several sources (127.0.0.2, 127.0.0.3, ... all reach 127.0.0.1).
    pub async fn greet_from(addr: SocketAddr, source: Option<IpAddr>) -> anyhow::Result<Self> {
        let connect = async {
            match source {
                None => TcpStream::connect(addr).await,
                Some(ip) => {
                    let socket = if ip.is_ipv4() {
                        TcpSocket::new_v4()?
                    } else {
                        TcpSocket::new_v6()?
                    };
                    socket.bind(SocketAddr::new(ip, 0))?;
                    socket.connect(addr).await
                }
            }
        };
        let stream = tokio::time::timeout(STEP_LIMIT, connect)
            .await
            .map_err(|_| anyhow!("connecting to {addr} timed out"))?
            .with_context(|| format!("connecting to {addr} from {source:?}"))?;
        stream.set_nodelay(true)?;
        let (r, writer) = stream.into_split();
        let mut conn = Self {
            reader: FramedRead::new(r, FrameCodec::new(MAX_SERVER_FRAME)),
            writer,
            seq: 0,
            ping_every: Duration::from_secs(20),
            auth_timeout: Duration::from_secs(20),
            login_seen: None,
        };
        let hello = conn
            .request(ClientMessage::Hello(Hello {
                version: PROTOCOL_VERSION,
                client: "chatroom-bench".into(),
            }))
            .await?
            .expect("hello_ok")?;
        if let Some(limits) = hello.limits {
            conn.ping_every = Duration::from_millis(limits.ping_interval_ms.max(100));
            conn.auth_timeout = Duration::from_millis(limits.auth_timeout_ms);
        }
        Ok(conn)
    }

    /// How long the server gives a connection to log in (`auth_timeout_ms`).
    pub fn auth_timeout(&self) -> Duration {
        self.auth_timeout
    }

    async fn send(&mut self, body: ClientMessage) -> anyhow::Result<u32> {
        self.seq += 1;
        let frame = chatroom_shared::encode_frame(&Request {
            seq: self.seq,
            body,
        })?;
        self.writer.write_all(&frame).await?;
        Ok(self.seq)
    }

    /// Send a request and wait (at most [`STEP_LIMIT`]) for its reply.
    async fn request(&mut self, body: ClientMessage) -> anyhow::Result<Reply> {
        Ok(self.request_sized(body).await?.0)
    }

    /// [`Conn::request`], also giving the reply's frame size (length and JSON).
    async fn request_sized(&mut self, body: ClientMessage) -> anyhow::Result<(Reply, usize)> {
        let seq = self.send(body).await?;
        let wait = async {
            loop {
                match self.reader.next().await {
                    Some(Ok(Decoded::Frame(body))) => {
                        let reply: Reply = serde_json::from_slice(&body)?;
                        if reply.seq == Some(seq) {
                            return Ok((reply, HEADER_LEN + body.len()));
                        }
                        if reply.kind == "error" && reply.seq.is_none() {
                            bail!(
                                "the server is closing the connection: {}",
                                reply.code.unwrap_or_default()
                            );
                        }
                    }
                    Some(Ok(Decoded::FrameStarted)) => {}
                    Some(Err(e)) => return Err(e.into()),
                    None => bail!("the server closed the connection"),
                }
            }
        };
        tokio::time::timeout(STEP_LIMIT, wait)
            .await
            .map_err(|_| anyhow!("no reply within {STEP_LIMIT:?}"))?
    }

    /// Register `name` (with [`PASSWORD`]); the connection stays greeted.
    pub async fn register(&mut self, name: &str) -> anyhow::Result<()> {
        self.request(ClientMessage::Register(Register {
            name: name.into(),
            password: PASSWORD.into(),
        }))
        .await?
        .expect("register_ok")
        .with_context(|| format!("registering {name}"))?;
        Ok(())
    }

    /// Log in as `name`; returns the resume token from `login_ok`.
    pub async fn login(&mut self, name: &str) -> anyhow::Result<String> {
        let (ok, bytes) = self
            .request_sized(ClientMessage::Login(Login {
                name: name.into(),
                password: PASSWORD.into(),
            }))
            .await?;
        let ok = ok
            .expect("login_ok")
            .with_context(|| format!("logging in {name}"))?;
        self.login_seen = Some(LoginSeen {
            bytes,
            online_count: ok.online_count.unwrap_or(0),
            listed: ok.online.as_ref().map_or(0, Vec::len),
            paged: ok.online_next.is_some(),
        });
        ok.token.context("login_ok without a token")
    }

    /// The `login_ok` of [`Conn::login`], once logged in.
    pub fn login_seen(&self) -> Option<LoginSeen> {
        self.login_seen
    }

    /// Take the connection apart, to read and write on it directly.
    pub fn into_parts(self) -> Parts {
        Parts {
            reader: self.reader,
            writer: self.writer,
            seq: self.seq,
            ping_every: self.ping_every,
        }
    }

    /// Log in with a resume token.
    pub async fn resume(&mut self, token: &str) -> anyhow::Result<()> {
        self.request(ClientMessage::Resume(Resume {
            token: token.into(),
        }))
        .await?
        .expect("login_ok")
        .context("resuming")?;
        Ok(())
    }

    /// Keep the connection open until `stop` (or [`HOLD_LIMIT`]): read and drop
    /// whatever the server sends, and ping every `ping_interval_ms`.
    pub async fn hold(self, stop: CancellationToken) -> Held {
        let Self {
            reader,
            mut writer,
            mut seq,
            ping_every,
            ..
        } = self;
        let mut read = reader.into_parts().io;
        let mut buf = vec![0u8; 4096];
        let start = tokio::time::Instant::now();
        let mut ping = tokio::time::interval_at(start + ping_every, ping_every);
        let limit = tokio::time::sleep_until(start + HOLD_LIMIT);
        tokio::pin!(limit);
        loop {
            tokio::select! {
                () = stop.cancelled() => return Held::open(read, writer),
                () = &mut limit => return Held::open(read, writer),
                n = read.read(&mut buf) => {
                    if !matches!(n, Ok(n) if n > 0) {
                        return Held::Closed;
                    }
                }
                _ = ping.tick() => {
                    seq = seq.wrapping_add(1);
                    let Ok(frame) = chatroom_shared::encode_frame(&Request {
                        seq,
                        body: ClientMessage::Ping(Ping {}),
                    }) else {
                        return Held::Closed;
                    };
                    if writer.write_all(&frame).await.is_err() {
                        return Held::Closed;
                    }
                }
            }
        }
    }
}

/// The two halves of a held connection; dropping it closes the connection.
pub struct Socket {
    _read: OwnedReadHalf,
    _write: OwnedWriteHalf,
}

/// How holding a connection ended.
pub enum Held {
    /// Told to stop while the connection was still open; dropping it closes
    /// the connection.
    Open {
        /// The connection.
        _socket: Socket,
    },
    /// The server closed the connection (or it failed) first.
    Closed,
}

impl Held {
    fn open(read: OwnedReadHalf, write: OwnedWriteHalf) -> Self {
        Self::Open {
            _socket: Socket {
                _read: read,
                _write: write,
            },
        }
    }
}
