//! One connection to the server, before it is split into a reader and a
//! writer task: connect, `hello`, and request/reply exchanges (register,
//! login, resume, the history pages of a catch-up).
//!
//! Frames use the shared codec with the server's frame limit
//! ([`MAX_SERVER_FRAME`]); messages of a type this client does not know are
//! skipped, as the protocol asks (§3.3).

use std::io;
use std::time::Duration;

use chatroom_shared::message::{ClientMessage, ErrorReply, Hello, Limits, Request, ServerMessage};
use chatroom_shared::{Decoded, FrameCodec, FrameError, MAX_SERVER_FRAME, PROTOCOL_VERSION};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio_util::codec::FramedRead;
use tracing::debug;

use super::dial::{DialError, ReadHalf, Transport, WriteHalf};

/// The client name sent in `hello`, for the server's log.
pub(crate) const CLIENT_NAME: &str = concat!("chatroom-tui ", env!("CARGO_PKG_VERSION"));

/// How long a TCP connect and TLS handshake may take before the server counts as
/// unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a reply to one handshake request (hello, register, login, resume,
/// a history page) may take. Generous: bcrypt on a busy server is slow, and the
/// server closes a connection whose login takes too long on its own anyway.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// The decoded side of a connection.
pub(crate) type Frames = FramedRead<ReadHalf, FrameCodec>;

/// Why a connection could not be used (any of these ends it).
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnError {
    /// The connection could not be opened (TCP, TLS, or an untrusted certificate).
    #[error(transparent)]
    Dial(#[from] DialError),
    /// Waiting for a reply took too long.
    #[error("the server did not answer in time")]
    Timeout,
    /// The server closed the connection.
    #[error("the server closed the connection")]
    Closed,
    /// Reading frames failed (transport error or a broken frame).
    #[error("reading failed: {0}")]
    Read(#[from] FrameError),
    /// Writing to the socket failed.
    #[error("writing failed: {0}")]
    Write(#[source] io::Error),
    /// A request could not be encoded (should never happen).
    #[error("could not encode a request: {0}")]
    Encode(#[from] chatroom_shared::EncodeError),
    /// The server refused a request the connection cannot go on without
    /// (`hello`: version or a throttled address; a `history` page of a catch-up).
    #[error("the server refused: {}: {}", .0.code, .0.message)]
    Refused(ErrorReply),
    /// The server answered with something that makes no sense here.
    #[error("unexpected reply from the server: {0}")]
    Unexpected(String),
}

impl ConnError {
    /// What went wrong, in words a user understands (a short phrase, no
    /// library text); the details go to the log where the error is met.
    pub(crate) fn for_user(&self) -> String {
        match self {
            Self::Dial(DialError::Connect(e)) if e.kind() == io::ErrorKind::ConnectionRefused => {
                "nothing answers at that address (is the server running?)".to_owned()
            }
            Self::Dial(DialError::Connect(_)) => "the network cannot reach it".to_owned(),
            Self::Dial(DialError::Timeout) | Self::Timeout => {
                "the server did not answer in time".to_owned()
            }
            Self::Dial(DialError::Tls(why) | DialError::Untrusted(why)) => why.clone(),
            Self::Closed => "the server closed the connection".to_owned(),
            Self::Read(_) | Self::Write(_) => "the connection was lost".to_owned(),
            Self::Encode(_) | Self::Unexpected(_) => {
                "the server answered something this client does not understand".to_owned()
            }
            Self::Refused(e) => refusal(e),
        }
    }
}

/// A refusal that ends a connection attempt, as a short phrase.
pub(crate) fn refusal(e: &ErrorReply) -> String {
    match e.code {
        chatroom_shared::ErrorCode::ServerBusy | chatroom_shared::ErrorCode::RateLimited => {
            "the server is busy".to_owned()
        }
        chatroom_shared::ErrorCode::ShuttingDown => "the server is shutting down".to_owned(),
        chatroom_shared::ErrorCode::StorageUnavailable => {
            "the server cannot store anything right now".to_owned()
        }
        chatroom_shared::ErrorCode::Internal => "the server had a problem".to_owned(),
        _ => e.message.trim_end_matches('.').to_owned(),
    }
}

/// One open connection that has completed `hello`.
#[derive(Debug)]
pub(crate) struct Conn {
    frames: Frames,
    writer: WriteHalf,
    next_seq: u32,
    limits: Limits,
    replies: u64,
    /// What the user should be told about trusting the server (a certificate
    /// pinned on first use), until it is taken.
    notice: Option<String>,
}

impl Conn {
    /// Connect to `server` (`HOST:PORT`) over `transport` and say `hello`.
    pub(crate) async fn open(server: &str, transport: &Transport) -> Result<Self, ConnError> {
        let dialed = transport.dial(server, CONNECT_TIMEOUT).await?;
        let (read, writer) = tokio::io::split(dialed.stream);
        let mut conn = Self {
            frames: FramedRead::new(read, FrameCodec::new(MAX_SERVER_FRAME)),
            writer,
            next_seq: 1,
            // The protocol defaults until `hello_ok` brings the real ones.
            limits: Limits::default(),
            replies: 0,
            notice: dialed.notice,
        };
        let hello = ClientMessage::Hello(Hello {
            version: PROTOCOL_VERSION,
            client: CLIENT_NAME.to_owned(),
        });
        // A server that turns the connection away (too many from this
        // address) may say why without a `seq` and close: that is a refusal,
        // not an unreachable server.
        let mut refusal = None;
        let reply = conn
            .request(hello, |msg| {
                if let ServerMessage::Error(e) = msg {
                    refusal = Some(e);
                }
            })
            .await;
        let reply = match (reply, refusal) {
            (Ok(reply), _) => reply,
            (Err(_), Some(e)) => return Err(ConnError::Refused(e)),
            (Err(e), None) => return Err(e),
        };
        match reply {
            ServerMessage::HelloOk(ok) => {
                debug!(server = %ok.server, version = ok.version, "hello accepted");
                conn.limits = ok.limits;
                Ok(conn)
            }
            ServerMessage::Error(e) => Err(ConnError::Refused(e)),
            other => Err(unexpected(&other)),
        }
    }

    /// The limits the server announced in `hello_ok`.
    pub(crate) fn limits(&self) -> &Limits {
        &self.limits
    }

    /// What the user should be told about trusting the server, once.
    pub(crate) fn take_notice(&mut self) -> Option<String> {
        self.notice.take()
    }

    /// How many replies (messages with our `seq`) this connection has read:
    /// tells whether a failed exchange got anywhere.
    pub(crate) fn replies(&self) -> u64 {
        self.replies
    }

    /// Send one request; returns its `seq`.
    pub(crate) async fn send(&mut self, body: ClientMessage) -> Result<u32, ConnError> {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        let frame = chatroom_shared::encode_frame(&Request { seq, body })?;
        self.writer
            .write_all(&frame)
            .await
            .map_err(ConnError::Write)?;
        Ok(seq)
    }

    /// The next message from the server, waiting at most the reply timeout.
    pub(crate) async fn next(&mut self) -> Result<ServerMessage, ConnError> {
        let msg = tokio::time::timeout(REPLY_TIMEOUT, read_message(&mut self.frames))
            .await
            .map_err(|_| ConnError::Timeout)??
            .ok_or(ConnError::Closed)?;
        if msg.seq().is_some() {
            self.replies += 1;
        }
        Ok(msg)
    }

    /// Send a request and wait for its reply; every other message read
    /// meanwhile goes to `other`.
    pub(crate) async fn request(
        &mut self,
        body: ClientMessage,
        mut other: impl FnMut(ServerMessage),
    ) -> Result<ServerMessage, ConnError> {
        let seq = self.send(body).await?;
        loop {
            let msg = self.next().await?;
            if msg.seq() == Some(seq) {
                return Ok(msg);
            }
            other(msg);
        }
    }

    /// Hand the halves to the reader and writer tasks, with the next `seq`.
    pub(crate) fn into_parts(self) -> (Frames, WriteHalf, u32) {
        (self.frames, self.writer, self.next_seq)
    }
}

/// Read the next message; `Ok(None)` at end of stream. Frames that do not
/// parse (a newer server's message types) are skipped.
pub(crate) async fn read_message(frames: &mut Frames) -> Result<Option<ServerMessage>, FrameError> {
    loop {
        match frames.next().await {
            None => return Ok(None),
            Some(Err(e)) => return Err(e),
            Some(Ok(Decoded::FrameStarted)) => {}
            Some(Ok(Decoded::Frame(body))) => match serde_json::from_slice(&body) {
                Ok(msg) => return Ok(Some(msg)),
                Err(e) => debug!(error = %e, "skipping a frame this client does not understand"),
            },
        }
    }
}

/// The error for a reply that does not fit the request.
pub(crate) fn unexpected(msg: &ServerMessage) -> ConnError {
    ConnError::Unexpected(format!("{msg:?}").chars().take(200).collect())
}
