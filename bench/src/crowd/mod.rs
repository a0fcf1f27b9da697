//! Many connections at once, for the `idle`, `logins`, `reconnect` and
//! `presence` scenarios: raising this process's file-descriptor limit (a server the
//! benchmark starts inherits it), registering accounts in parallel, logging
//! connections in with as little parsing as possible, and holding them open:
//! whatever the server sends is read and dropped unparsed, and a `ping` goes
//! out every `ping_interval_ms`, so the server's keepalive never closes them.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;

use crate::percentiles::Samples;

mod conn;

pub use conn::{Conn, Held, LoginSeen, Parts};

/// Password of every account these scenarios create.
pub const PASSWORD: &str = "bench-crowd-password";

/// Longest one exchange (connect, hello, login, ...) may take.
pub const STEP_LIMIT: Duration = Duration::from_secs(60);

/// Descriptors kept for everything besides the held connections.
const SPARE_FDS: u64 = 256;

/// The file-descriptor limit this process (and a server it starts) has.
#[derive(Debug, Clone, Copy)]
pub struct FdLimit {
    /// The soft limit after trying to raise it.
    pub limit: u64,
    /// What the scenario needs: its connections plus some spare.
    pub needed: u64,
}

impl FdLimit {
    /// Whether the limit is high enough for every connection.
    pub fn enough(&self) -> bool {
        self.limit >= self.needed
    }

    /// A warning for the output when it is not.
    pub fn warning(&self) -> Option<String> {
        (!self.enough()).then(|| {
            format!(
                "the file-descriptor limit could only be raised to {} but {} are needed: \
                 connections beyond it fail (raise the hard limit, e.g. `ulimit -Hn`)",
                self.limit, self.needed
            )
        })
    }

    /// `{"limit", "needed", "enough"}`.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({"limit": self.limit, "needed": self.needed, "enough": self.enough()})
    }
}

/// Raise this process's soft limit on open files (up to the hard limit, and
/// the hard limit too where the process may: as root) for `connections` held
/// at once; a server started afterwards inherits it.
pub fn raise_fd_limit(connections: usize) -> FdLimit {
    let needed = connections as u64 + SPARE_FDS;
    if let Ok((soft, hard)) = rlimit::Resource::NOFILE.get()
        && hard < needed
    {
        // Refused without the privilege: the soft limit is raised below as far as it goes.
        let _ = rlimit::Resource::NOFILE.set(soft.max(needed), needed);
    }
    let limit = rlimit::increase_nofile_limit(needed)
        .or_else(|_| rlimit::Resource::NOFILE.get().map(|(soft, _)| soft))
        .unwrap_or(0);
    FdLimit { limit, needed }
}

/// Connect from the local address `source` ([`Conn::greet_from`]), say hello
/// and log in as `name`: the connection and its resume token.
pub async fn log_in_from(
    addr: SocketAddr,
    source: Option<IpAddr>,
    name: &str,
) -> anyhow::Result<(Conn, String)> {
    let mut conn = Conn::greet_from(addr, source).await?;
    let token = conn.login(name).await?;
    Ok((conn, token))
}

/// Register every name, `workers` connections at a time, each registering its
/// share one after another (registration does not log in, and runs bcrypt on
/// the server). A worker opens a new connection before the server's
/// authentication deadline would close the one it has.
pub async fn register_all(
    addr: SocketAddr,
    names: &[String],
    workers: usize,
) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let share = names.len().div_ceil(workers.max(1)).max(1);
    let mut tasks = Vec::new();
    for chunk in names.chunks(share) {
        let chunk = chunk.to_vec();
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::greet(addr).await?;
            let mut opened = Instant::now();
            for name in &chunk {
                if opened.elapsed() > conn.auth_timeout() / 2 {
                    conn = Conn::greet(addr).await?;
                    opened = Instant::now();
                }
                conn.register(name).await?;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(start.elapsed())
}

/// What logging many connections in gave.
pub struct Crowd<T> {
    /// Connections that got `login_ok`.
    pub logged_in: usize,
    /// Connections that did not (or not within the time limit).
    pub failed: usize,
    /// Why the first failure failed.
    pub first_error: Option<String>,
    /// From the start until the last `login_ok` or failure.
    pub took: Duration,
    /// Each login's time, from its connect to its `login_ok`.
    pub login_times: Samples,
    /// One task per connection; those that logged in run `then`.
    pub tasks: Vec<JoinHandle<Option<T>>>,
}

/// Log every name in, at most `parallel` at a time (each connects, says hello,
/// logs in), and hand each logged-in connection with its token to `then`,
/// which runs on in its own task. Returns once every login has succeeded or
/// failed, or after `limit` (the rest count as failed).
pub async fn log_in_all<F, Fut>(
    addr: SocketAddr,
    names: Vec<String>,
    parallel: usize,
    limit: Duration,
    then: F,
) -> Crowd<Fut::Output>
where
    F: Fn(Conn, String) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    log_in_all_from(addr, &[], names, parallel, limit, then).await
}

/// [`log_in_all`], the connections taking their local address from `sources`
/// in turn (the system's choice when it is empty): more connections than one
/// address has ephemeral ports.
pub async fn log_in_all_from<F, Fut>(
    addr: SocketAddr,
    sources: &[IpAddr],
    names: Vec<String>,
    parallel: usize,
    limit: Duration,
    then: F,
) -> Crowd<Fut::Output>
where
    F: Fn(Conn, String) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    let total = names.len();
    let gate = Arc::new(Semaphore::new(parallel.max(1)));
    let (tx, mut rx) = mpsc::channel::<Result<Duration, String>>(total.max(1));
    let then = Arc::new(then);
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for (i, name) in names.into_iter().enumerate() {
        let (gate, tx, then) = (Arc::clone(&gate), tx.clone(), Arc::clone(&then));
        let source = (!sources.is_empty()).then(|| sources[i % sources.len()]);
        tasks.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await.ok()?;
            let began = Instant::now();
            let result = log_in_from(addr, source, &name).await;
            drop(permit);
            match result {
                Ok((conn, token)) => {
                    let _ = tx.send(Ok(began.elapsed())).await;
                    Some(then(conn, token).await)
                }
                Err(e) => {
                    let _ = tx.send(Err(format!("{name}: {e:#}"))).await;
                    None
                }
            }
        }));
    }
    drop(tx);
    let mut crowd = Crowd {
        logged_in: 0,
        failed: 0,
        first_error: None,
        took: Duration::ZERO,
        login_times: Samples::default(),
        tasks,
    };
    let deadline = tokio::time::sleep(limit);
    tokio::pin!(deadline);
    while crowd.logged_in + crowd.failed < total {
        tokio::select! {
            () = &mut deadline => break,
            outcome = rx.recv() => match outcome {
                Some(Ok(took)) => {
                    crowd.logged_in += 1;
                    crowd.login_times.push(took);
                }
                Some(Err(e)) => {
                    crowd.failed += 1;
                    crowd.first_error.get_or_insert(e);
                }
                None => break,
            },
        }
    }
    crowd.took = start.elapsed();
    let missing = total - crowd.logged_in - crowd.failed;
    if missing > 0 {
        crowd.failed += missing;
        crowd
            .first_error
            .get_or_insert(format!("{missing} login(s) unfinished after {limit:?}"));
    }
    crowd
}

/// Wait (at most `limit` in all) for tasks that finish on their own or were
/// told to stop; what has not finished by then is aborted and left out.
pub async fn join_all<T>(tasks: Vec<JoinHandle<Option<T>>>, limit: Duration) -> Vec<T> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut out = Vec::with_capacity(tasks.len());
    for task in tasks {
        let abort = task.abort_handle();
        match tokio::time::timeout_at(deadline, task).await {
            Ok(Ok(Some(v))) => out.push(v),
            Ok(_) => {}
            Err(_) => abort.abort(),
        }
    }
    out
}
