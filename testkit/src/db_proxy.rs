//! A TCP proxy in front of a test's database server, to make the database
//! "down" for one test without touching the machine's shared server: it can
//! refuse and cut every connection (a stopped server), or keep accepting and
//! never answer (a hung one).

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the proxy does with connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forward to the database.
    Up,
    /// Close new connections at once and cut the open ones: a stopped server.
    Down,
    /// Accept, read nothing and answer nothing, and stall the open ones: a
    /// server that hangs (stopped with SIGSTOP, or a network partition).
    Hung,
}

/// The proxy; stops when dropped.
pub struct DbProxy {
    /// Where to connect instead of the database.
    pub addr: SocketAddr,
    mode: watch::Sender<Mode>,
    accept: JoinHandle<()>,
    held: Arc<Mutex<Vec<TcpStream>>>,
}

impl DbProxy {
    /// Start a proxy to the database server of `url` (host and port).
    pub async fn start(url: &str) -> Self {
        let target = host_port(url);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (mode, _) = watch::channel(Mode::Up);
        let held = Arc::new(Mutex::new(Vec::new()));
        let accept = {
            let mode = mode.clone();
            let held = Arc::clone(&held);
            tokio::spawn(async move {
                loop {
                    let Ok((client, _)) = listener.accept().await else {
                        return;
                    };
                    match *mode.borrow() {
                        Mode::Up => {}
                        Mode::Down => continue, // dropped: closed at once
                        Mode::Hung => {
                            held.lock().unwrap().push(client);
                            continue;
                        }
                    }
                    let mut rx = mode.subscribe();
                    let target = target.clone();
                    let held = Arc::clone(&held);
                    tokio::spawn(async move {
                        let Ok(mut server) = TcpStream::connect(&target).await else {
                            return;
                        };
                        let mut client = client;
                        tokio::select! {
                            _ = copy_bidirectional(&mut client, &mut server) => {}
                            changed = async { rx.wait_for(|m| *m != Mode::Up).await.map(|m| *m) } => {
                                if matches!(changed, Ok(Mode::Hung)) {
                                    // Stall: nothing more goes either way.
                                    held.lock().unwrap().push(client);
                                    held.lock().unwrap().push(server);
                                }
                            }
                        }
                    });
                }
            })
        };
        Self {
            addr,
            mode,
            accept,
            held,
        }
    }

    /// Change what the proxy does; open connections follow at once.
    pub fn set(&self, mode: Mode) {
        if mode != Mode::Hung {
            self.held.lock().unwrap().clear();
        }
        self.mode.send_replace(mode);
    }

    /// `url` with its host and port replaced by the proxy's.
    pub fn url_for(&self, url: &str) -> String {
        let old = host_port(url);
        url.replacen(&old, &self.addr.to_string(), 1)
    }
}

impl Drop for DbProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// The `host:port` of a database URL (`scheme://user@host:port/db`).
fn host_port(url: &str) -> String {
    let rest = &url[url.find("://").map_or(0, |i| i + 3)..];
    let rest = &rest[rest.find('@').map_or(0, |i| i + 1)..];
    rest[..rest.find('/').unwrap_or(rest.len())].to_owned()
}
