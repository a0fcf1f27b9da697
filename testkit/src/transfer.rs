//! Data connections for tests: redeem a ticket, upload bytes from memory, download
//! into memory, and check what the files directory holds.

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use chatroom_shared::ErrorCode;
use chatroom_shared::message::*;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::client::{TestClient, WAIT};
use crate::wire;

/// Lowercase hex SHA-256 of `bytes`, as `upload_begin` announces it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// `bytes` in lowercase hex (a digest as the protocol writes it).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Deterministic test content of `len` bytes.
pub fn content(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ ((i >> 8) as u8))
        .collect()
}

/// The `upload_begin` request for `bytes` named `name`.
pub fn upload_request(name: &str, bytes: &[u8]) -> ClientMessage {
    ClientMessage::UploadBegin(UploadBegin {
        name: name.into(),
        size: bytes.len() as u64,
        sha256: sha256_hex(bytes),
        comment: None,
    })
}

/// Ask to upload; panics unless the answer is `upload_ready`.
pub async fn upload_ready(c: &mut TestClient, name: &str, bytes: &[u8]) -> UploadReady {
    match c.request(upload_request(name, bytes)).await {
        ServerMessage::UploadReady(r) => r,
        other => panic!("upload_begin {name}: {other:?}"),
    }
}

/// Ask to download; panics unless the answer is `download_ready`.
pub async fn download_ready(c: &mut TestClient, file_id: i64, offset: u64) -> DownloadReady {
    match c
        .request(ClientMessage::DownloadBegin(DownloadBegin {
            file_id,
            offset,
        }))
        .await
    {
        ServerMessage::DownloadReady(r) => r,
        other => panic!("download_begin {file_id}: {other:?}"),
    }
}

/// A data connection: raw frames and raw bytes, no framing library, so nothing is read
/// past a frame.
pub struct DataConn {
    /// The socket.
    pub stream: TcpStream,
}

impl DataConn {
    /// Connect and send `transfer{ticket}` with seq 1; returns the connection and the
    /// server's first reply.
    pub async fn open(addr: SocketAddr, ticket: &str) -> (Self, ServerMessage) {
        let mut c = Self {
            stream: TcpStream::connect(addr).await.unwrap(),
        };
        c.stream.set_nodelay(true).unwrap();
        c.send(ClientMessage::Transfer(Transfer {
            ticket: ticket.into(),
        }))
        .await;
        let reply = c.recv().await.expect("a reply to transfer");
        (c, reply)
    }

    /// Send one request with seq 1.
    pub async fn send(&mut self, body: ClientMessage) {
        wire::write(&mut self.stream, 1, body).await.unwrap();
    }

    /// Read one frame; `None` when the server closed the connection.
    pub async fn recv(&mut self) -> Option<ServerMessage> {
        let mut len = [0u8; 4];
        let read = tokio::time::timeout(WAIT, self.stream.read_exact(&mut len))
            .await
            .expect("timed out waiting for a frame");
        if read.is_err() {
            return None;
        }
        let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
        self.stream.read_exact(&mut body).await.ok()?;
        Some(serde_json::from_slice(&body).unwrap())
    }

    /// Read exactly `len` raw bytes.
    pub async fn read_bytes(&mut self, len: usize) -> Vec<u8> {
        let mut buf = vec![0u8; len];
        tokio::time::timeout(WAIT, self.stream.read_exact(&mut buf))
            .await
            .expect("timed out reading bytes")
            .unwrap();
        buf
    }

    /// True once the server has closed its side (after what was expected).
    pub async fn closed(&mut self) -> bool {
        let mut b = [0u8; 1];
        matches!(
            tokio::time::timeout(WAIT, self.stream.read(&mut b)).await,
            Ok(Ok(0)) | Ok(Err(_))
        )
    }
}

/// The `transfer_ready` in `m`, or a panic.
pub fn ready(m: ServerMessage) -> TransferReady {
    match m {
        ServerMessage::TransferReady(r) => r,
        other => panic!("expected transfer_ready: {other:?}"),
    }
}

/// Redeem an upload ticket and send `bytes` (the part from the offset on); returns
/// the server's final message (`transfer_done` or an error).
pub async fn upload(addr: SocketAddr, ticket: &str, bytes: &[u8]) -> ServerMessage {
    let (mut c, reply) = DataConn::open(addr, ticket).await;
    let r = ready(reply);
    assert_eq!(r.direction, Direction::Upload);
    let rest = &bytes[r.offset as usize..];
    assert_eq!(r.length, rest.len() as u64);
    c.stream.write_all(rest).await.unwrap();
    c.recv().await.expect("a reply after the upload")
}

/// Upload `bytes` as `name` from scratch through `client`; returns the shared file.
pub async fn share(
    client: &mut TestClient,
    addr: SocketAddr,
    name: &str,
    bytes: &[u8],
) -> FileInfo {
    let t = upload_ready(client, name, bytes).await;
    match upload(addr, &t.ticket, bytes).await {
        ServerMessage::TransferDone(d) => d.file,
        other => panic!("upload of {name}: {other:?}"),
    }
}

/// Redeem a download ticket and read the whole rest of the file.
pub async fn download(addr: SocketAddr, ticket: &str) -> Vec<u8> {
    let (mut c, reply) = DataConn::open(addr, ticket).await;
    let r = ready(reply);
    assert_eq!(r.direction, Direction::Download);
    let bytes = c.read_bytes(r.length as usize).await;
    assert!(c.closed().await, "the server closes after the bytes");
    bytes
}

/// The names of stored files (not partial uploads) in `<data>/files`.
pub fn stored_files(data_dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data_dir.join("files"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".partial")
        .collect();
    names.sort();
    names
}

/// The partial uploads in `<data>/files/.partial`.
pub fn partial_files(data_dir: &Path) -> Vec<String> {
    std::fs::read_dir(data_dir.join("files").join(".partial"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// Every file under `data_dir` is a stored file (32 hex digits) in `files/` or a
/// partial upload in `files/.partial/`: nothing was written anywhere else (but
/// the server's own search index, `chatroom_server::search::DIR`).
pub fn assert_only_storage(data_dir: &Path) {
    for entry in std::fs::read_dir(data_dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            name == "files" || name == "search-index",
            "unexpected entry in the data directory: {name}"
        );
    }
    for name in stored_files(data_dir) {
        assert!(
            name.len() == 32 && name.bytes().all(|b| b.is_ascii_hexdigit()),
            "unexpected file in files/: {name}"
        );
    }
    for name in partial_files(data_dir) {
        assert!(name.ends_with(".part"), "unexpected partial: {name}");
    }
}

/// `upload_begin` until the name is free again (the server notices a dropped data
/// connection a moment after the client drops it).
pub async fn upload_ready_eventually(c: &mut TestClient, name: &str, bytes: &[u8]) -> UploadReady {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match c.request(upload_request(name, bytes)).await {
            ServerMessage::UploadReady(r) => return r,
            ServerMessage::Error(e) if e.code == ErrorCode::FileExists => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "name never released"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            other => panic!("upload_begin {name}: {other:?}"),
        }
    }
}
