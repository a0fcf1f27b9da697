//! A minimal protocol client for benchmarks: control connections (hello,
//! register, login, requests) and data connections (upload, download). The
//! framing is the test kit's ([`testkit::wire`]); this adds the benchmark's
//! accounts, anyhow errors, and file bytes moved without copies.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::bail;
use bytes::BytesMut;
use chatroom_shared::message::{ClientMessage, FileInfo, LoginOk, ServerMessage, Transfer};
use sha2::{Digest, Sha256};
use testkit::wire::{self, Reader, open};
use tokio::io::AsyncReadExt;
#[cfg(not(target_os = "linux"))]
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;

/// Size of the buffers used to move file bytes.
const CHUNK: usize = 1 << 20;
/// Password of every benchmark account.
pub const PASSWORD: &str = "bench-password";

/// Read the next server message ([`wire::read`], its error as the scenarios carry it).
pub async fn read(reader: &mut Reader) -> anyhow::Result<ServerMessage> {
    Ok(wire::read(reader).await?)
}

/// Write one request ([`wire::write`], its error as the scenarios carry it).
pub async fn write(
    writer: &mut OwnedWriteHalf,
    seq: u32,
    body: ClientMessage,
) -> anyhow::Result<()> {
    Ok(wire::write(writer, seq, body).await?)
}

/// A logged-in control connection.
pub struct Control {
    /// Server messages.
    pub reader: Reader,
    /// Requests.
    pub writer: OwnedWriteHalf,
    seq: u32,
}

impl Control {
    /// Connect, register `name` and log in.
    pub async fn user(addr: SocketAddr, name: &str) -> anyhow::Result<Self> {
        Ok(Self::login(addr, name).await?.0)
    }

    /// Like [`Control::user`], also returning the `login_ok` (its online list
    /// tells whether the nodes of a cluster see each other's users).
    pub async fn login(addr: SocketAddr, name: &str) -> anyhow::Result<(Self, LoginOk)> {
        let (reader, writer) = open(addr).await?;
        let mut c = Self {
            reader,
            writer,
            seq: 0,
        };
        c.request(wire::hello("chatroom-bench")).await?;
        c.request(wire::register(name, PASSWORD)).await?;
        match c.request(wire::login(name, PASSWORD)).await? {
            ServerMessage::LoginOk(ok) => Ok((c, ok)),
            other => bail!("login {name}: {other:?}"),
        }
    }

    /// Send a request; returns its seq.
    pub async fn send(&mut self, body: ClientMessage) -> anyhow::Result<u32> {
        self.seq += 1;
        write(&mut self.writer, self.seq, body).await?;
        Ok(self.seq)
    }

    /// Send a request and wait for its reply (events before it are skipped).
    pub async fn request(&mut self, body: ClientMessage) -> anyhow::Result<ServerMessage> {
        let seq = self.send(body).await?;
        loop {
            let m = read(&mut self.reader).await?;
            if m.seq() == Some(seq) {
                return Ok(m);
            }
        }
    }
}

/// Upload `path` (from `offset`) over a data connection with `ticket`.
/// Returns the time from the first byte to the server's confirmation.
pub async fn upload(
    addr: SocketAddr,
    ticket: &str,
    path: &Path,
) -> anyhow::Result<(Duration, FileInfo)> {
    let (mut reader, mut writer) = open(addr).await?;
    write(
        &mut writer,
        1,
        ClientMessage::Transfer(Transfer {
            ticket: ticket.into(),
        }),
    )
    .await?;
    let (offset, length) = match read(&mut reader).await? {
        ServerMessage::TransferReady(r) => (r.offset, r.length),
        other => bail!("transfer: {other:?}"),
    };
    let start = Instant::now();
    send_range(path, offset, length, &mut writer).await?;
    match read(&mut reader).await? {
        ServerMessage::TransferDone(done) => Ok((start.elapsed(), done.file)),
        other => bail!("upload: {other:?}"),
    }
}

/// Send `length` bytes of `path` from `offset` with `sendfile(2)`, as an efficient
/// client would: the benchmark machine's CPU goes to the server, not to copying.
#[cfg(target_os = "linux")]
async fn send_range(
    path: &Path,
    offset: u64,
    length: u64,
    writer: &mut OwnedWriteHalf,
) -> anyhow::Result<()> {
    use tokio::io::Interest;
    let file = std::fs::File::open(path)?;
    let socket: &TcpStream = writer.as_ref();
    let (mut pos, end) = (offset, offset + length);
    while pos < end {
        let want = usize::try_from((end - pos).min(CHUNK as u64 * 4))?;
        socket.writable().await?;
        match socket.try_io(Interest::WRITABLE, || {
            rustix::fs::sendfile(socket, &file, Some(&mut pos), want).map_err(Into::into)
        }) {
            Ok(0) => bail!("the file is shorter than announced"),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Send `length` bytes of `path` from `offset` in reads and writes.
#[cfg(not(target_os = "linux"))]
async fn send_range(
    path: &Path,
    offset: u64,
    length: u64,
    writer: &mut OwnedWriteHalf,
) -> anyhow::Result<()> {
    use tokio::io::AsyncSeekExt;
    let mut file = tokio::fs::File::open(path).await?;
    file.seek(std::io::SeekFrom::Start(offset)).await?;
    let mut buf = vec![0u8; CHUNK];
    let mut left = length;
    while left > 0 {
        let want = usize::try_from(left.min(CHUNK as u64))?;
        let n = file.read(&mut buf[..want]).await?;
        if n == 0 {
            bail!("the file is shorter than announced");
        }
        writer.write_all(&buf[..n]).await?;
        left -= n as u64;
    }
    Ok(())
}

/// How long a download took.
#[derive(Debug, Clone, Copy)]
pub struct DownloadTimes {
    /// From the request to the last byte received.
    pub received: Duration,
    /// From the request to the SHA-256 of every byte being known.
    pub verified: Duration,
}

/// Download over a data connection with `ticket`, hashing the bytes as a client
/// does to verify them, on a thread of its own beside the receiving (the bytes
/// themselves are not kept). Returns the times and the SHA-256 (hex).
pub async fn download(addr: SocketAddr, ticket: &str) -> anyhow::Result<(DownloadTimes, String)> {
    let (mut reader, mut writer) = open(addr).await?;
    let start = Instant::now();
    write(
        &mut writer,
        1,
        ClientMessage::Transfer(Transfer {
            ticket: ticket.into(),
        }),
    )
    .await?;
    let length = match read(&mut reader).await? {
        ServerMessage::TransferReady(r) => r.length,
        other => bail!("transfer: {other:?}"),
    };
    let parts = reader.into_parts();
    let (to_hash, mut hash_rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(8);
    let hashing = tokio::task::spawn_blocking(move || {
        let mut hasher = Sha256::new();
        while let Some(chunk) = hash_rx.blocking_recv() {
            hasher.update(&chunk);
        }
        hasher.finalize()
    });
    let hashing_stopped = || anyhow::anyhow!("the hashing thread stopped");
    let mut buf: BytesMut = parts.read_buf;
    let mut got = buf.len() as u64;
    let mut io = parts.io;
    while got < length {
        if buf.len() >= CHUNK / 2 {
            to_hash
                .send(buf.split().freeze())
                .await
                .map_err(|_| hashing_stopped())?;
        }
        buf.reserve(CHUNK);
        let n = io.read_buf(&mut buf).await?;
        if n == 0 {
            bail!("the download ended after {got} of {length} bytes");
        }
        got += n as u64;
    }
    let received = start.elapsed();
    to_hash
        .send(buf.freeze())
        .await
        .map_err(|_| hashing_stopped())?;
    drop(to_hash);
    let digest = testkit::transfer::hex(&hashing.await?);
    let times = DownloadTimes {
        received,
        verified: start.elapsed(),
    };
    Ok((times, digest))
}
