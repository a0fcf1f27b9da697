//! Starting a server for a benchmark, or pointing at a running one.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// The server under test.
pub struct Target {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its process id, when known (for memory and CPU figures).
    pub pid: Option<u32>,
    child: Option<Child>,
    _dir: Option<tempfile::TempDir>,
}

impl Target {
    /// Start `chatroom-server` on a free loopback port with a fresh data
    /// directory (SQLite) or the given database URL.
    pub fn spawn(binary: Option<PathBuf>, database_url: Option<&str>) -> anyhow::Result<Self> {
        let binary = match binary {
            Some(b) => b,
            None => std::env::current_exe()?
                .parent()
                .context("no directory for the benchmark binary")?
                .join("chatroom-server"),
        };
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let dir = tempfile::tempdir()?;
        let mut cmd = Command::new(&binary);
        cmd.arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(dir.path())
            .arg("--bcrypt-cost")
            .arg("4")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(url) = database_url {
            cmd.arg("--database-url").arg(url);
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let start = Instant::now();
        while std::net::TcpStream::connect(addr).is_err() {
            if start.elapsed() > Duration::from_secs(30) {
                bail!("the server did not start listening on {addr}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Self {
            addr,
            pid: Some(child.id()),
            child: Some(child),
            _dir: Some(dir),
        })
    }

    /// A running server (loopback only).
    pub fn running(addr: SocketAddr, pid: Option<u32>) -> anyhow::Result<Self> {
        if !addr.ip().is_loopback() {
            bail!("chatroom-bench only targets loopback addresses, not {addr}");
        }
        Ok(Self {
            addr,
            pid,
            child: None,
            _dir: None,
        })
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
