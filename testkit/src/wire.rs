//! The protocol on a socket, as both the tests' [`crate::client::TestClient`] and the
//! benchmark's load clients speak it: a frame reader with the client's limit, a
//! request written as one frame, the next server message read, and the requests
//! every session starts with.
//!
//! Errors are values here ([`WireError`]): the benchmark counts a failed client
//! and carries on, where a test client turns the same error into a panic.

use std::net::SocketAddr;

use bytes::Bytes;
use chatroom_shared::message::{ClientMessage, Hello, Login, Register, Request, ServerMessage};
use chatroom_shared::{
    Decoded, EncodeError, FrameCodec, FrameError, MAX_SERVER_FRAME, PROTOCOL_VERSION,
};
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio_util::codec::FramedRead;

/// Reads server frames from `R` (by default a TCP stream's owned read half).
pub type Reader<R = OwnedReadHalf> = FramedRead<R, FrameCodec>;

/// Why a message could not be sent or read.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The TCP connection could not be opened.
    #[error("connecting to {addr}: {source}")]
    Connect {
        /// Where to.
        addr: SocketAddr,
        /// Why not.
        source: std::io::Error,
    },
    /// The server closed the connection (end of stream between frames).
    #[error("the server closed the connection")]
    Closed,
    /// The frame layer failed: a frame over the limit, or the socket.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// A frame whose body is not a server message.
    #[error("bad frame from server: {source}: {body}")]
    BadMessage {
        /// What serde said.
        source: serde_json::Error,
        /// The body, lossily as text.
        body: String,
    },
    /// A request could not be encoded (larger than a frame may be).
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// Writing to the socket failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// A frame reader over `read` with the client's limit ([`MAX_SERVER_FRAME`]).
pub fn reader<R: AsyncRead>(read: R) -> Reader<R> {
    FramedRead::new(read, FrameCodec::new(MAX_SERVER_FRAME))
}

/// Connect to `addr` with Nagle off (requests go out at once) and split the
/// stream into a frame reader and the writer.
pub async fn open(addr: SocketAddr) -> Result<(Reader, OwnedWriteHalf), WireError> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|source| WireError::Connect { addr, source })?;
    stream.set_nodelay(true)?;
    let (r, w) = stream.into_split();
    Ok((reader(r), w))
}

/// One request as a complete frame.
pub fn request_frame(seq: u32, body: ClientMessage) -> Result<Bytes, EncodeError> {
    chatroom_shared::encode_frame(&Request { seq, body })
}

/// Write one request as a frame.
pub async fn write<W: AsyncWrite + Unpin>(
    writer: &mut W,
    seq: u32,
    body: ClientMessage,
) -> Result<(), WireError> {
    writer.write_all(&request_frame(seq, body)?).await?;
    Ok(())
}

/// Read the next server message. Cancel-safe: a frame half read when the future is
/// dropped stays in the reader's buffer.
pub async fn read<R: AsyncRead + Unpin>(
    reader: &mut Reader<R>,
) -> Result<ServerMessage, WireError> {
    Ok(read_sized(reader).await?.0)
}

/// [`read`], also giving the size of the frame's body (tests of paged lists check
/// that no reply outgrows its budget).
pub async fn read_sized<R: AsyncRead + Unpin>(
    reader: &mut Reader<R>,
) -> Result<(ServerMessage, usize), WireError> {
    loop {
        match reader.next().await {
            None => return Err(WireError::Closed),
            Some(Err(e)) => return Err(e.into()),
            Some(Ok(Decoded::FrameStarted)) => {}
            Some(Ok(Decoded::Frame(body))) => {
                return match serde_json::from_slice(&body) {
                    Ok(message) => Ok((message, body.len())),
                    Err(source) => Err(WireError::BadMessage {
                        source,
                        body: String::from_utf8_lossy(&body).into_owned(),
                    }),
                };
            }
        }
    }
}

/// `hello` with this protocol's version; `client` names the program in the server's log.
pub fn hello(client: &str) -> ClientMessage {
    ClientMessage::Hello(Hello {
        version: PROTOCOL_VERSION,
        client: client.into(),
    })
}

/// `register` for `name` with `password`.
pub fn register(name: &str, password: &str) -> ClientMessage {
    ClientMessage::Register(Register {
        name: name.into(),
        password: password.into(),
    })
}

/// `login` as `name` with `password`.
pub fn login(name: &str, password: &str) -> ClientMessage {
    ClientMessage::Login(Login {
        name: name.into(),
        password: password.into(),
    })
}
