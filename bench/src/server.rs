//! Starting a server for a benchmark, or pointing at a running one; restarting
//! a started one (graceful stop, then the same port and data directory).

use std::ffi::OsString;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// Longest a started server may take to listen, or a stopped one to exit.
const START_LIMIT: Duration = Duration::from_secs(30);

/// Which server a scenario measures: a running one, or one it starts.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// A running server to measure (loopback only; start it with
    /// `--max-connections-per-address 0 --request-rate 0 --plain`); without it one is started.
    #[arg(long)]
    pub addr: Option<SocketAddr>,
    /// The running server's process id, for its CPU and memory figures.
    #[arg(long)]
    pub pid: Option<u32>,
    /// The server binary to start (default: chatroom-server next to this binary).
    #[arg(long)]
    pub server_bin: Option<PathBuf>,
    /// Database URL for a started server (default: SQLite in a fresh directory).
    #[arg(long)]
    pub database_url: Option<String>,
}

impl ServerArgs {
    /// The running server, or one started as [`Target::spawn`] does.
    pub fn target(&self) -> anyhow::Result<Target> {
        self.target_with(&["--bcrypt-cost", "4"])
    }

    /// The running server, or one started with these flags ([`Target::spawn_with`]).
    pub fn target_with(&self, flags: &[&str]) -> anyhow::Result<Target> {
        match self.addr {
            Some(addr) => Target::running(addr, self.pid),
            None => {
                Target::spawn_with(self.server_bin.clone(), self.database_url.as_deref(), flags)
            }
        }
    }
}

/// The server under test.
pub struct Target {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its process id, when known (for memory and CPU figures).
    pub pid: Option<u32>,
    child: Option<Child>,
    /// How the started server was launched, to launch it again in [`Target::restart`].
    launch: Option<(PathBuf, Vec<OsString>)>,
    _dir: Option<tempfile::TempDir>,
}

/// How long each half of a [`Target::restart`] took.
#[derive(Debug, Clone, Copy)]
pub struct Restarted {
    /// From SIGTERM until the old process exited (its graceful shutdown).
    pub stopped: Duration,
    /// From starting the new process until it accepted a TCP connection.
    pub listening: Duration,
}

impl Target {
    /// Start `chatroom-server` on a free loopback port with a fresh data
    /// directory (SQLite) or the given database URL, bcrypt cost 4 and no limit on
    /// connections per address (every benchmark client comes from 127.0.0.1).
    pub fn spawn(binary: Option<PathBuf>, database_url: Option<&str>) -> anyhow::Result<Self> {
        Self::spawn_with(binary, database_url, &["--bcrypt-cost", "4"])
    }

    /// Like [`Target::spawn`], but with these server flags instead of the cost-4
    /// default (without `--bcrypt-cost` the server's own default cost applies;
    /// without `--request-rate` the request limit is off).
    pub fn spawn_with(
        binary: Option<PathBuf>,
        database_url: Option<&str>,
        extra: &[&str],
    ) -> anyhow::Result<Self> {
        let binary = match binary {
            Some(b) => b,
            None => std::env::current_exe()?
                .parent()
                .context("no directory for the benchmark binary")?
                .join("chatroom-server"),
        };
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let dir = tempfile::tempdir()?;
        let mut args: Vec<OsString> = vec![
            "--listen".into(),
            format!("127.0.0.1:{port}").into(),
            "--data-dir".into(),
            dir.path().into(),
            "--max-connections-per-address".into(),
            "0".into(),
            // The load generator speaks plain TCP.
            "--plain".into(),
        ];
        if !extra.contains(&"--request-rate") {
            // Load generators send far above any one person's request rate.
            args.extend(["--request-rate".into(), "0".into()]);
        }
        args.extend(extra.iter().map(OsString::from));
        if let Some(url) = database_url {
            args.extend(["--database-url".into(), url.into()]);
        }
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let child = launch(&binary, &args, addr)?;
        Ok(Self {
            addr,
            pid: Some(child.id()),
            child: Some(child),
            launch: Some((binary, args)),
            _dir: Some(dir),
        })
    }

    /// Stop the started server gracefully (SIGTERM, as an operator would) and
    /// start it again with the same flags: same port, same data directory. Blocks
    /// until the new one accepts connections. Fails for a running server that
    /// this benchmark did not start.
    pub fn restart(&mut self) -> anyhow::Result<Restarted> {
        let (Some(child), Some((binary, args))) = (&mut self.child, &self.launch) else {
            bail!("only a server started by the benchmark can be restarted");
        };
        let start = Instant::now();
        terminate(child)?;
        loop {
            if child.try_wait()?.is_some() {
                break;
            }
            if start.elapsed() > START_LIMIT {
                let _ = child.kill();
                let _ = child.wait();
                bail!("the server did not stop within {START_LIMIT:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let stopped = start.elapsed();
        let start = Instant::now();
        let new = launch(binary, args, self.addr)?;
        let listening = start.elapsed();
        self.pid = Some(new.id());
        self.child = Some(new);
        Ok(Restarted { stopped, listening })
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
            launch: None,
            _dir: None,
        })
    }
}

/// Start `binary` with `args` and wait until it accepts connections on `addr`.
fn launch(binary: &PathBuf, args: &[OsString], addr: SocketAddr) -> anyhow::Result<Child> {
    let mut child = Command::new(binary)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let start = Instant::now();
    while std::net::TcpStream::connect(addr).is_err() {
        if let Some(status) = child.try_wait()? {
            bail!("the server exited ({status}) before listening on {addr}");
        }
        if start.elapsed() > START_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            bail!("the server did not start listening on {addr}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(child)
}

/// Ask the process to shut down gracefully (SIGTERM).
#[cfg(target_os = "linux")]
fn terminate(child: &Child) -> anyhow::Result<()> {
    use rustix::process::{Pid, Signal, kill_process};
    let pid = Pid::from_child(child);
    kill_process(pid, Signal::TERM).context("sending SIGTERM to the server")?;
    Ok(())
}

/// Ask the process to shut down gracefully (SIGTERM, through `kill(1)`).
#[cfg(not(target_os = "linux"))]
fn terminate(child: &Child) -> anyhow::Result<()> {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .context("running kill -TERM")?;
    if !status.success() {
        bail!("kill -TERM {} failed: {status}", child.id());
    }
    Ok(())
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
