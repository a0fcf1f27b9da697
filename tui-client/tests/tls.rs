//! TLS between the client's network task and the real server (in-process): a
//! self-signed certificate is trusted on first use and pinned in the known-servers
//! file, then accepted silently; a changed certificate is refused with a warning
//! before any password is sent, both at the first login and when reconnecting (the
//! session ends instead of retrying); a CA-signed certificate (a test CA made here)
//! is trusted without pinning; and mixing plain and TLS gives a clear error on both
//! sides.
//!
//! The client is driven only through `net::spawn`, `NetCommand`s and `NetEvent`s.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chatroom_server::{Config, Server};
use chatroom_shared::ErrorCode;
use chatroom_tui::net::{self, NetCommand, NetEvent, NetHandle, Transport};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(60);

/// A server running in this process.
struct Running {
    addr: SocketAddr,
    fingerprint: Option<String>,
    shutdown: CancellationToken,
    handle: JoinHandle<()>,
}

fn config(data: &Path) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data.to_path_buf(),
        bcrypt_cost: 4,
        ..Config::default()
    }
}

impl Running {
    async fn start(config: Config) -> Self {
        let listener = TcpListener::bind(config.listen).await.unwrap();
        let server = Server::start(listener, config).await.unwrap();
        let addr = server.local_addr().unwrap();
        let fingerprint = server.tls_fingerprint().map(str::to_owned);
        let shutdown = server.shutdown_token();
        let handle = tokio::spawn(async move { server.run().await.unwrap() });
        Self {
            addr,
            fingerprint,
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

/// The client's network task and what it reported.
struct Client {
    handle: NetHandle,
    events: mpsc::Receiver<NetEvent>,
    seen: Vec<String>,
}

impl Client {
    fn start(transport: Transport) -> Self {
        let (tx, events) = mpsc::channel(1024);
        Self {
            handle: net::spawn(tx, transport),
            events,
            seen: Vec::new(),
        }
    }

    async fn login(&self, server: &str, name: &str, register: bool) {
        self.handle
            .send(NetCommand::Login {
                server: server.to_owned(),
                name: name.to_owned(),
                password: "correct horse battery".to_owned(),
                register,
            })
            .await;
    }

    /// Events until one matches `pred` (returned); every event is kept in `seen`.
    async fn wait_for(&mut self, what: &str, pred: impl Fn(&NetEvent) -> bool) -> NetEvent {
        let deadline = Instant::now() + WAIT;
        loop {
            let event = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .unwrap_or_else(|_| panic!("no {what} in time; seen: {:#?}", self.seen))
                .unwrap_or_else(|| panic!("task stopped before {what}; seen: {:#?}", self.seen));
            self.seen
                .push(format!("{event:?}").chars().take(300).collect());
            if pred(&event) {
                return event;
            }
        }
    }

    fn notices(&self) -> Vec<&String> {
        self.seen
            .iter()
            .filter(|e| e.starts_with("Notice"))
            .collect()
    }
}

fn logged_in(e: &NetEvent) -> bool {
    matches!(e, NetEvent::LoggedIn { .. })
}

fn tls(known: &Path) -> Transport {
    Transport::tls(Some(known.to_path_buf()), None).unwrap()
}

fn known_path(dir: &TempDir) -> PathBuf {
    dir.path().join("config").join("known_servers")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_signed_certificate_is_pinned_on_first_use_then_trusted_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(config(&dir.path().join("data"))).await;
    let fingerprint = server.fingerprint.clone().expect("TLS is on by default");
    let known = known_path(&dir);

    let mut alice = Client::start(tls(&known));
    alice.login(&server.addr.to_string(), "alice", true).await;
    let notice = alice
        .wait_for("the first-use notice", |e| matches!(e, NetEvent::Notice(_)))
        .await;
    let NetEvent::Notice(text) = notice else {
        unreachable!()
    };
    assert!(text.contains("First connection"), "{text}");
    assert!(text.contains(&fingerprint), "{text}");
    alice.wait_for("alice's login", logged_in).await;
    let pinned = std::fs::read_to_string(&known).unwrap();
    assert!(
        pinned.contains(&format!("{} {fingerprint}", server.addr)),
        "{pinned}"
    );

    // The next client (a new run) finds the pin and says nothing.
    let mut bob = Client::start(tls(&known));
    bob.login(&server.addr.to_string(), "bob", true).await;
    bob.wait_for("bob's login", logged_in).await;
    assert!(bob.notices().is_empty(), "{:#?}", bob.seen);
    assert_eq!(std::fs::read_to_string(&known).unwrap(), pinned);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_certificate_is_refused_before_the_password_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(config(&dir.path().join("data"))).await;
    let known = known_path(&dir);
    std::fs::create_dir_all(known.parent().unwrap()).unwrap();
    let old = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    std::fs::write(&known, format!("{} {old}\n", server.addr)).unwrap();

    let mut alice = Client::start(tls(&known));
    alice.login(&server.addr.to_string(), "alice", true).await;
    let refused = alice
        .wait_for("the refusal", |e| {
            matches!(
                e,
                NetEvent::Untrusted { .. }
                    | NetEvent::Unreachable { .. }
                    | NetEvent::LoggedIn { .. }
            )
        })
        .await;
    let NetEvent::Untrusted { warning: error, .. } = refused else {
        panic!("not refused as untrusted despite a changed certificate: {refused:?}");
    };
    assert!(error.contains("CHANGED"), "{error}");
    assert!(error.contains(old), "{error}");
    assert!(
        error.contains(server.fingerprint.as_deref().unwrap()),
        "{error}"
    );
    assert!(error.contains(&known.display().to_string()), "{error}");
    // The pin stays, and no account was made: the register request never left
    // (logging in as alice with her password fails).
    assert_eq!(
        std::fs::read_to_string(&known).unwrap(),
        format!("{} {old}\n", server.addr)
    );
    let mut check = Client::start(Transport::tls(Some(dir.path().join("other")), None).unwrap());
    check.login(&server.addr.to_string(), "alice", false).await;
    let answer = check
        .wait_for("a login answer", |e| {
            matches!(e, NetEvent::LoginFailed { .. } | NetEvent::LoggedIn { .. })
        })
        .await;
    assert!(
        matches!(
            answer,
            NetEvent::LoginFailed {
                code: ErrorCode::WrongPassword,
                ..
            }
        ),
        "{answer:?}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_changed_while_away_ends_the_session_instead_of_reconnecting() {
    let dir = tempfile::tempdir().unwrap();
    let first = Running::start(config(&dir.path().join("first"))).await;
    let addr = first.addr;
    let known = known_path(&dir);
    let mut alice = Client::start(tls(&known));
    alice.login(&addr.to_string(), "alice", true).await;
    alice.wait_for("alice's login", logged_in).await;

    // Another server, with another certificate, takes over the address.
    first.stop().await;
    let second = Running::start(Config {
        listen: addr,
        ..config(&dir.path().join("second"))
    })
    .await;
    let ended = alice
        .wait_for("the end of the session", |e| {
            matches!(e, NetEvent::Ended { .. } | NetEvent::LoggedIn { .. })
        })
        .await;
    let NetEvent::Ended { reason } = ended else {
        panic!("reconnected to a server with another certificate: {ended:?}");
    };
    assert!(reason.contains("CHANGED"), "{reason}");
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_from_a_trusted_authority_needs_no_pin() {
    let dir = tempfile::tempdir().unwrap();
    // A test certificate authority, and a certificate it signs for localhost.
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "chatroom test CA");
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let files = dir.path();
    std::fs::write(files.join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(files.join("cert.pem"), leaf.pem()).unwrap();
    std::fs::write(files.join("key.pem"), leaf_key.serialize_pem()).unwrap();

    let server = Running::start(Config {
        tls_cert: Some(files.join("cert.pem")),
        tls_key: Some(files.join("key.pem")),
        ..config(&files.join("data"))
    })
    .await;
    assert_eq!(
        server.fingerprint.as_deref(),
        Some(chatroom_shared::fingerprint(leaf.der()).as_str())
    );
    assert!(
        !files.join("data").join("tls").exists(),
        "nothing generated"
    );
    let host = format!("localhost:{}", server.addr.port());
    let known = known_path(&dir);

    let transport = Transport::tls(Some(known.clone()), Some(&files.join("ca.pem"))).unwrap();
    let mut alice = Client::start(transport);
    alice.login(&host, "alice", true).await;
    alice.wait_for("alice's login", logged_in).await;
    assert!(alice.notices().is_empty(), "{:#?}", alice.seen);
    assert!(
        !known.exists(),
        "nothing pinned for a CA-signed certificate"
    );

    // Without the CA the same certificate is only trusted on first use.
    let mut bob = Client::start(tls(&known));
    bob.login(&host, "bob", true).await;
    bob.wait_for("bob's login", logged_in).await;
    assert_eq!(bob.notices().len(), 1, "{:#?}", bob.seen);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_and_tls_do_not_mix_and_each_side_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let tls_server = Running::start(config(&dir.path().join("tls"))).await;
    let plain_server = Running::start(Config {
        plain: true,
        ..config(&dir.path().join("plain"))
    })
    .await;
    assert_eq!(plain_server.fingerprint, None);

    // A plain client at a TLS server: the server says so in a plain frame.
    let mut plain = Client::start(Transport::plain());
    plain
        .login(&tls_server.addr.to_string(), "alice", true)
        .await;
    let refused = plain
        .wait_for("the refusal", |e| {
            matches!(
                e,
                NetEvent::LoginFailed { .. }
                    | NetEvent::LoggedIn { .. }
                    | NetEvent::Unreachable { .. }
            )
        })
        .await;
    assert!(
        matches!(
            refused,
            NetEvent::LoginFailed {
                code: ErrorCode::TlsRequired,
                ..
            }
        ),
        "{refused:?}"
    );

    // A TLS client at a plain server: the client tells its user what to do.
    let mut secure = Client::start(tls(&known_path(&dir)));
    secure
        .login(&plain_server.addr.to_string(), "alice", true)
        .await;
    let refused = secure
        .wait_for("the failure", |e| {
            matches!(e, NetEvent::Unreachable { .. } | NetEvent::LoggedIn { .. })
        })
        .await;
    let NetEvent::Unreachable { error, .. } = refused else {
        panic!("logged in over plain TCP: {refused:?}");
    };
    assert!(error.contains("did not answer in TLS"), "{error}");
    assert!(error.contains("--plain"), "{error}");
    tls_server.stop().await;
    plain_server.stop().await;
}
