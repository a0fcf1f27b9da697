//! The real `chatroom-server` binary, run as a child process for one test.
//!
//! The binary reports its port only in its log, so [`ServerProcess::spawn`]
//! picks a free port first (bind port 0, read it, let it go) and passes it with
//! `--listen`; if another socket takes the port in between, the child fails to
//! bind and is started again on a new port. The child's standard error (the
//! log) goes to a file, shown when a test fails; standard input and output are
//! pipes, so a test can type console commands and read the answers. The binary
//! is this build's ([`server_binary`]).

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

pub use crate::process::UNLIMITED;
use crate::process::{free_port, server_binary, terminate};

/// How long the binary may take to start, or to stop after being told to.
pub const PROCESS_WAIT: Duration = Duration::from_secs(30);

/// The log line the binary writes once it listens.
const READY: &str = "chatroom server ready";

/// How the child's standard input is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stdin {
    /// A pipe the test can write console lines to.
    Piped,
    /// Closed from the start (like `nohup` or a service manager).
    Null,
}

/// A running `chatroom-server` child process; killed if dropped while running.
pub struct ServerProcess {
    /// Where it listens.
    pub addr: SocketAddr,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Lines<BufReader<ChildStdout>>,
    log: PathBuf,
    _log_dir: TempDir,
}

/// How to start the binary once.
#[derive(Clone, Copy)]
struct Spawn<'a> {
    data_dir: &'a Path,
    database_url: Option<&'a str>,
    stdin: Stdin,
    flags: &'a [&'a str],
    envs: &'a [(&'a str, &'a str)],
    /// The address to listen on; `None`: a free port.
    addr: Option<SocketAddr>,
}

impl<'a> Spawn<'a> {
    /// SQLite in `data_dir`, stdin closed, these flags and environment.
    fn plain_sqlite(
        data_dir: &'a Path,
        flags: &'a [&'a str],
        envs: &'a [(&'a str, &'a str)],
        addr: Option<SocketAddr>,
    ) -> Self {
        Self {
            data_dir,
            database_url: None,
            stdin: Stdin::Null,
            flags,
            envs,
            addr,
        }
    }
}

/// `--plain` (the test clients speak plain TCP) and then `flags`.
fn plain<'a>(flags: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["--plain"];
    all.extend_from_slice(flags);
    all
}

/// `binary` (a `chatroom-server`) as a command for one of its subcommands
/// (`admin`, `backup`, `copy-data`), with no settings from the test's
/// environment: only the arguments the test gives count.
pub fn subcommand(binary: &Path) -> Command {
    let mut cmd = Command::new(binary);
    without_settings(&mut cmd);
    cmd
}

/// Drop the server's settings (`CHATROOM_*`, `DATABASE_URL`, `RUST_LOG`)
/// that the test's own environment may hold from `cmd`'s environment.
fn without_settings(cmd: &mut Command) {
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if key.starts_with("CHATROOM_") || key == "DATABASE_URL" || key == "RUST_LOG" {
            cmd.env_remove(key);
        }
    }
}

impl ServerProcess {
    /// Start the binary with `--data-dir data_dir`, `--bcrypt-cost 4`, the given
    /// `--database-url` (none: the SQLite default in the data directory), and
    /// wait until it accepts connections.
    pub async fn spawn(data_dir: &Path, database_url: Option<&str>, stdin: Stdin) -> Self {
        Self::spawn_with(data_dir, database_url, stdin, &[]).await
    }

    /// Like [`ServerProcess::spawn`], with more flags after the usual ones.
    /// The server speaks plain TCP (`--plain`), as the test clients do.
    pub async fn spawn_with(
        data_dir: &Path,
        database_url: Option<&str>,
        stdin: Stdin,
        flags: &[&str],
    ) -> Self {
        Self::spawn_raw(data_dir, database_url, stdin, &plain(flags)).await
    }

    /// Start the binary with TLS as it is by default (a self-signed certificate
    /// made in the data directory, unless `flags` name one), SQLite in the data
    /// directory, and stdin closed.
    pub async fn spawn_tls(data_dir: &Path, flags: &[&str]) -> Self {
        Self::spawn_raw(data_dir, None, Stdin::Null, flags).await
    }

    /// Like [`ServerProcess::spawn_with`] (plain TCP, SQLite in `data_dir`, stdin
    /// closed), with these environment variables set for the child.
    pub async fn spawn_env(data_dir: &Path, flags: &[&str], envs: &[(&str, &str)]) -> Self {
        let all = plain(flags);
        Self::spawn_retrying(&Spawn::plain_sqlite(data_dir, &all, envs, None)).await
    }

    /// Like [`ServerProcess::spawn`] (plain TCP, the given database and stdin), with
    /// more flags after the usual ones and these environment variables set for the
    /// child (e.g. `RUST_LOG`).
    pub async fn spawn_db_env(
        data_dir: &Path,
        database_url: Option<&str>,
        stdin: Stdin,
        flags: &[&str],
        envs: &[(&str, &str)],
    ) -> Self {
        let all = plain(flags);
        let spawn = Spawn {
            data_dir,
            database_url,
            stdin,
            flags: &all,
            envs,
            addr: None,
        };
        Self::spawn_retrying(&spawn).await
    }

    /// Start the binary again on the same address after it exited (plain TCP,
    /// SQLite in `data_dir`, stdin closed): clients find it where it was.
    pub async fn restart_at(addr: SocketAddr, data_dir: &Path, flags: &[&str]) -> Self {
        let all = plain(flags);
        let spawn = Spawn::plain_sqlite(data_dir, &all, &[], Some(addr));
        Self::try_spawn(&spawn).await.unwrap_or_else(|log| {
            panic!(
                "chatroom-server did not start again; its log:
{log}"
            )
        })
    }

    /// Start the binary (plain TCP, SQLite in `data_dir`, stdin closed, these
    /// flags) expecting it to refuse to start; returns its log. Panics if it
    /// starts.
    pub async fn refused(data_dir: &Path, flags: &[&str]) -> String {
        let all = plain(flags);
        match Self::try_spawn(&Spawn::plain_sqlite(data_dir, &all, &[], None)).await {
            Ok(process) => panic!(
                "chatroom-server started on {}, but should have refused",
                process.addr
            ),
            Err(log) => log,
        }
    }

    /// Start with exactly the usual flags and `flags`, retrying on a taken port.
    async fn spawn_raw(
        data_dir: &Path,
        database_url: Option<&str>,
        stdin: Stdin,
        flags: &[&str],
    ) -> Self {
        let spawn = Spawn {
            data_dir,
            database_url,
            stdin,
            flags,
            envs: &[],
            addr: None,
        };
        Self::spawn_retrying(&spawn).await
    }

    /// Start as `spawn` says, on a new free port each try.
    async fn spawn_retrying(spawn: &Spawn<'_>) -> Self {
        for _ in 0..5 {
            match Self::try_spawn(spawn).await {
                Ok(process) => return process,
                Err(log) if log.contains("cannot listen") => continue,
                Err(log) => panic!("chatroom-server exited while starting; its log:\n{log}"),
            }
        }
        panic!("chatroom-server found no free port in 5 tries");
    }

    /// One start; `Err(log)` if the child exits before it is ready.
    async fn try_spawn(spawn: &Spawn<'_>) -> Result<Self, String> {
        let Spawn {
            data_dir,
            database_url,
            stdin,
            flags,
            envs,
            addr,
        } = *spawn;
        let addr: SocketAddr = addr
            .unwrap_or_else(|| ([127, 0, 0, 1], free_port().expect("bind a probe port")).into());
        let log_dir = tempfile::tempdir().expect("create a log dir");
        let log = log_dir.path().join("server.log");
        let log_file = std::fs::File::create(&log).expect("create the log file");

        let mut cmd = Command::new(server_binary());
        cmd.arg("--listen")
            .arg(addr.to_string())
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--bcrypt-cost", "4"]);
        if let Some(url) = database_url {
            cmd.arg("--database-url").arg(url);
        }
        cmd.args(flags);
        // Only the flags above count: no settings from the test environment.
        without_settings(&mut cmd);
        cmd.envs(envs.iter().copied());
        cmd.stdin(match stdin {
            Stdin::Piped => Stdio::piped(),
            Stdin::Null => Stdio::null(),
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log_file))
        .kill_on_drop(true);
        let mut child = cmd.spawn().expect("spawn chatroom-server");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("stdout is piped")).lines();

        let deadline = tokio::time::Instant::now() + PROCESS_WAIT;
        loop {
            if child.try_wait().expect("poll the child").is_some() {
                return Err(std::fs::read_to_string(&log).unwrap_or_default());
            }
            let ready = std::fs::read_to_string(&log).is_ok_and(|l| l.contains(READY));
            if ready && tokio::net::TcpStream::connect(addr).await.is_ok() {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "chatroom-server did not start in time; its log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(Self {
            addr,
            child,
            stdin,
            stdout,
            log,
            _log_dir: log_dir,
        })
    }

    /// The process id, for its memory figures in /proc.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("the child is still running")
    }

    /// Everything the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Type one line on the server's console.
    pub async fn type_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is piped and open");
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
        stdin.flush().await.unwrap();
    }

    /// The console's next line of output; `None` once standard output closed.
    pub async fn console_line(&mut self) -> Option<String> {
        tokio::time::timeout(PROCESS_WAIT, self.stdout.next_line())
            .await
            .unwrap_or_else(|_| panic!("no console output in time; log:\n{}", self.log()))
            .unwrap()
    }

    /// True while the process runs.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("poll the child").is_none()
    }

    /// Send SIGTERM, as a service manager does to stop it.
    pub fn terminate(&self) {
        let pid = self.child.id().expect("the child is still running");
        terminate(pid).unwrap_or_else(|e| panic!("SIGTERM to {pid}: {e}"));
    }

    /// Kill it with SIGKILL, as a crash or the out-of-memory killer would, and
    /// wait until it is gone.
    pub async fn kill(&mut self) {
        self.child.kill().await.expect("SIGKILL chatroom-server");
    }

    /// Wait for the process to exit by itself.
    pub async fn wait_exit(&mut self) -> ExitStatus {
        match tokio::time::timeout(PROCESS_WAIT, self.child.wait()).await {
            Ok(status) => status.unwrap(),
            Err(_) => panic!("chatroom-server did not exit in time; log:\n{}", self.log()),
        }
    }
}
