//! A client connection's byte stream, plain TCP or TLS, split into the halves a
//! session reads and writes on its own.
//!
//! Plain TCP keeps tokio's owned halves (no lock between reader and writer, and a data
//! connection can still `sendfile(2)` straight to the socket); TLS goes through
//! `tokio::io::split`, since both directions share one TLS state.

use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio_util::either::Either;

/// A TLS connection accepted by the server.
pub type TlsStream = tokio_rustls::server::TlsStream<TcpStream>;

/// The reading half of a client connection.
pub type ReadHalf = Either<OwnedReadHalf, tokio::io::ReadHalf<TlsStream>>;

/// The writing half of a client connection.
pub type WriteHalf = Either<OwnedWriteHalf, tokio::io::WriteHalf<TlsStream>>;

/// A client connection after the TLS handshake (if any).
pub enum Stream {
    /// Plain TCP (`--plain`).
    Plain(TcpStream),
    /// TLS over TCP.
    Tls(Box<TlsStream>),
}

impl Stream {
    /// Split into halves that a reader and a writer can own.
    pub fn into_split(self) -> (ReadHalf, WriteHalf) {
        match self {
            Self::Plain(tcp) => {
                let (read, write) = tcp.into_split();
                (Either::Left(read), Either::Left(write))
            }
            Self::Tls(tls) => {
                let (read, write) = tokio::io::split(*tls);
                (Either::Right(read), Either::Right(write))
            }
        }
    }
}

/// The socket under a plain write half, for `sendfile(2)`; `None` under TLS, whose
/// bytes must be encrypted on their way.
pub fn plain_socket(write: &WriteHalf) -> Option<&TcpStream> {
    match write {
        Either::Left(w) => Some(w.as_ref()),
        Either::Right(_) => None,
    }
}
