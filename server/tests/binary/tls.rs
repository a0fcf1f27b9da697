//! TLS with the real server binary as it starts by default: it makes a
//! self-signed certificate in its data directory, logs its fingerprint, keeps
//! the same certificate across restarts, speaks the protocol inside TLS, and
//! answers a plain client with a plain `tls_required` frame and a close.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chatroom_shared::message::{ClientMessage, Hello, Register, Request, ServerMessage};
use chatroom_shared::{Decoded, ErrorCode, FrameCodec, MAX_SERVER_FRAME, PROTOCOL_VERSION};
use futures_util::StreamExt;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use testkit::binary::ServerProcess;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::codec::FramedRead;

const WAIT: Duration = Duration::from_secs(30);

fn frame(seq: u32, body: ClientMessage) -> Vec<u8> {
    chatroom_shared::encode_frame(&Request { seq, body })
        .unwrap()
        .to_vec()
}

fn hello() -> ClientMessage {
    ClientMessage::Hello(Hello {
        version: PROTOCOL_VERSION,
        client: "tls test".into(),
    })
}

/// The next message on `frames`, `None` at the end.
async fn next<R: AsyncRead + Unpin>(
    frames: &mut FramedRead<R, FrameCodec>,
) -> Option<ServerMessage> {
    loop {
        match tokio::time::timeout(WAIT, frames.next())
            .await
            .expect("a frame in time")
        {
            None | Some(Err(_)) => return None,
            Some(Ok(Decoded::FrameStarted)) => {}
            Some(Ok(Decoded::Frame(body))) => return Some(serde_json::from_slice(&body).unwrap()),
        }
    }
}

/// A TLS connection that trusts exactly the certificate in `cert_pem`.
async fn tls_connect(
    server: &ServerProcess,
    cert_pem: &Path,
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(cert_pem).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .expect("the handshake succeeds with the generated certificate")
}

fn logged_fingerprint(server: &ServerProcess) -> String {
    let log = server.log();
    let line = log
        .lines()
        .find(|l| l.contains("TLS on"))
        .unwrap_or_else(|| panic!("no TLS line in the log:\n{log}"));
    let at = line.find("SHA256:").expect("a fingerprint on the TLS line");
    line[at..]
        .split(|c: char| c.is_whitespace() || c == '"')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_the_server_speaks_tls_with_a_certificate_it_keeps() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::spawn_tls(dir.path(), &[]).await;
    let cert = dir.path().join("tls").join("cert.pem");
    let der = CertificateDer::from_pem_file(&cert).unwrap();
    let fingerprint = chatroom_shared::fingerprint(&der);
    assert_eq!(logged_fingerprint(&server), fingerprint);

    // Inside TLS: hello, register, a message to the room and its echo.
    let tls = tls_connect(&server, &cert).await;
    let (read, mut write) = tokio::io::split(tls);
    let mut frames = FramedRead::new(read, FrameCodec::new(MAX_SERVER_FRAME));
    write.write_all(&frame(1, hello())).await.unwrap();
    assert!(matches!(
        next(&mut frames).await,
        Some(ServerMessage::HelloOk(_))
    ));
    let register = ClientMessage::Register(Register {
        name: "alice".into(),
        password: "correct horse battery".into(),
    });
    write.write_all(&frame(2, register)).await.unwrap();
    assert!(
        matches!(next(&mut frames).await, Some(ServerMessage::RegisterOk(_))),
        "registered over TLS"
    );

    // A plain client is told, in a plain frame, and closed.
    let mut plain = TcpStream::connect(server.addr).await.unwrap();
    plain.write_all(&frame(1, hello())).await.unwrap();
    let mut bytes = Vec::new();
    tokio::time::timeout(WAIT, plain.read_to_end(&mut bytes))
        .await
        .expect("closed in time")
        .unwrap();
    let mut frames_plain = FramedRead::new(&bytes[..], FrameCodec::new(MAX_SERVER_FRAME));
    match next(&mut frames_plain).await {
        Some(ServerMessage::Error(e)) => {
            assert_eq!(e.code, ErrorCode::TlsRequired);
            assert!(e.message.contains("TLS"), "{}", e.message);
        }
        other => panic!("expected tls_required, got {other:?}"),
    }
    assert!(next(&mut frames_plain).await.is_none(), "then nothing more");

    // A restart presents the same certificate: pins made by clients still hold.
    server.terminate();
    server.wait_exit().await;
    let server = ServerProcess::spawn_tls(dir.path(), &[]).await;
    assert_eq!(logged_fingerprint(&server), fingerprint);
    let again = tls_connect(&server, &cert).await;
    let (read, mut write) = tokio::io::split(again);
    let mut frames = FramedRead::new(read, FrameCodec::new(MAX_SERVER_FRAME));
    write.write_all(&frame(1, hello())).await.unwrap();
    assert!(matches!(
        next(&mut frames).await,
        Some(ServerMessage::HelloOk(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_certificate_file_stops_the_start_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    std::fs::write(&cert, "not a certificate").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_chatroom-server"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&cert)
        .env_remove("CHATROOM_PLAIN")
        .output()
        .unwrap();
    // PROTOCOL §11: 1 when the server cannot start, with the reason on stderr.
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cert.pem"), "{err}");
}
