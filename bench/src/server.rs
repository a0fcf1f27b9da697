//! Starting a server for a benchmark, or several server nodes sharing one
//! chat (a cluster: `--nodes 2 --nats-url ... --database-url postgres://...`),
//! or pointing at a running one; restarting a started single server (graceful
//! stop, then the same port and data directory); stopping the started servers
//! while keeping their database, for a phase that uses it without them.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use testkit::fresh_db::{Backend, FreshDatabase};
use testkit::process::{UNLIMITED, free_port, server_path, terminate};

use crate::cluster;
use crate::cpu_budget::CpuBudget;
use crate::proc_stats::{self, Memory};

/// Longest a started server may take to listen, or a stopped one to exit.
const START_LIMIT: Duration = Duration::from_secs(30);

/// Which server a scenario measures: a running one, or one it starts.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// A running server to measure (loopback only; start it with
    /// `--max-connections-per-address 0 --connection-rate-per-address 0 --request-rate 0 --plain`); without it one is started.
    #[arg(long)]
    pub addr: Option<SocketAddr>,
    /// The running server's process id, for its CPU and memory figures.
    #[arg(long)]
    pub pid: Option<u32>,
    /// The server binary to start (default: chatroom-server next to this binary).
    #[arg(long)]
    pub server_bin: Option<PathBuf>,
    /// Database for started servers (default: SQLite in a fresh directory). With a
    /// postgres:// or mysql:// URL a fresh database is created on that server for the
    /// run (the URL only serves to connect and create it) and dropped at the end.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Use the --database-url's own database as it is, instead of a fresh one.
    #[arg(long)]
    pub database_as_is: bool,
    /// Server nodes to start (`fanout` and `store`): 2 or more make a cluster sharing one
    /// chat through NATS (`--nats-url`) and the --database-url (PostgreSQL or MySQL);
    /// the clients spread over the nodes round-robin.
    #[arg(long, default_value_t = 1)]
    pub nodes: usize,
    /// NATS server of a cluster (with `--nodes` 2 or more), e.g. nats://127.0.0.1:4222.
    #[arg(long)]
    pub nats_url: Option<String>,
    /// Write each started server's log (its stderr) to DIR/<node>.log.
    #[arg(long)]
    pub server_logs: Option<PathBuf>,
    /// Hold each started server to this many cores (a cgroup CPU quota; needs
    /// root): nodes with a budget of their own, as on machines of their own,
    /// while the database and the load generator share the rest.
    #[arg(long)]
    pub node_cpus: Option<f64>,
}

impl ServerArgs {
    /// The running server, or one started as [`Target::spawn`] does (or a
    /// cluster of `--nodes`).
    pub async fn target(&self) -> anyhow::Result<Target> {
        self.target_with(&["--bcrypt-cost", "4"]).await
    }

    /// The running server, or servers started with these flags ([`Target::spawn_with`]).
    pub async fn target_with(&self, flags: &[&str]) -> anyhow::Result<Target> {
        anyhow::ensure!(self.nodes >= 1, "--nodes must be at least 1");
        if let Some(addr) = self.addr {
            anyhow::ensure!(self.nodes == 1, "--nodes starts servers: not with --addr");
            return Target::running(addr, self.pid);
        }
        let database = match &self.database_url {
            Some(url)
                if !self.database_as_is && Backend::of(url).is_some_and(Backend::is_server) =>
            {
                Some(FreshDatabase::create(url, "chatroom_bench").await?)
            }
            _ => None,
        };
        let url = database
            .as_ref()
            .map(FreshDatabase::url)
            .or(self.database_url.as_deref());
        let launch = Launch {
            binary: self.server_bin.clone(),
            database_url: url,
            extra: flags,
            logs: self.server_logs.as_deref(),
            node_cpus: self.node_cpus,
        };
        let mut target = if self.nodes == 1 {
            anyhow::ensure!(
                self.nats_url.is_none(),
                "--nats-url is for a cluster (--nodes 2 or more)"
            );
            Target::start(&launch, None)?
        } else {
            anyhow::ensure!(
                url.is_some_and(|u| Backend::of(u).is_some_and(Backend::is_server)),
                "a cluster needs --database-url postgres://... or mysql://..."
            );
            let nats = self
                .nats_url
                .as_deref()
                .context("a cluster needs --nats-url")?;
            let target = Target::start(&launch, Some((self.nodes, nats)))?;
            cluster::wait_until_joined(&target.addrs)
                .await
                .context("waiting for the nodes to see each other")?;
            target
        };
        if database.is_some() {
            target.database_kept = false;
        }
        target.database = database;
        Ok(target)
    }

    /// Fail unless this is one server: the scenarios other than `fanout`
    /// and `store` measure one.
    pub fn one_node(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.nodes == 1,
            "this scenario measures one server: --nodes is for fanout and store"
        );
        Ok(())
    }
}

/// How to start the servers of a [`Target`].
struct Launch<'a> {
    binary: Option<PathBuf>,
    database_url: Option<&'a str>,
    extra: &'a [&'a str],
    logs: Option<&'a Path>,
    /// Cores each server may use ([`CpuBudget`]); `None`: no limit.
    node_cpus: Option<f64>,
}

/// One started server process, and how it was launched (to launch it again
/// in [`Target::restart`]).
struct Node {
    child: Child,
    /// Its CPU budget, given up (after `child` exited) when the node drops.
    budget: Option<CpuBudget>,
    cores: Option<f64>,
    binary: PathBuf,
    args: Vec<OsString>,
    addr: SocketAddr,
    log: Option<PathBuf>,
    /// "server", or the node's id in a cluster.
    name: String,
}

/// The server under test: one process, or the nodes of a cluster.
pub struct Target {
    /// Where it listens (the first node of a cluster).
    pub addr: SocketAddr,
    /// Where every node listens (just `addr` for one server).
    pub addrs: Vec<SocketAddr>,
    /// Its process id, when known (the first node's in a cluster).
    pub pid: Option<u32>,
    /// Every node's process id, where known (for CPU and memory figures).
    pub pids: Vec<u32>,
    nodes: Vec<Node>,
    /// A database created for the run; dropped after the nodes stop.
    database: Option<FreshDatabase>,
    /// The URL the started servers' database is reached with (their SQLite
    /// file in `_dir` unless a URL was given); `None` for a running server.
    database_url: Option<String>,
    /// Whether that database outlives the run (a given URL used as it is);
    /// a fresh database and the SQLite file in `_dir` go with the run.
    database_kept: bool,
    _dir: Option<tempfile::TempDir>,
}

/// The database the started servers used, for a phase that writes to it
/// without them ([`Target::database`]).
#[derive(Debug, Clone)]
pub struct RunDatabase {
    /// A URL for `chatroom_server::db::connect`.
    pub url: String,
    /// Whether it outlives the run, so what a phase adds must be removed again.
    pub kept: bool,
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
        let launch = Launch {
            binary,
            database_url,
            extra,
            logs: None,
            node_cpus: None,
        };
        Self::start(&launch, None)
    }

    /// Start one server, or with `cluster` = (N, NATS URL) N nodes on free
    /// ports sharing the data directory and the database, one after the other
    /// (the first migrates the database), each with its own `--node-id` (n1, n2,
    /// ...) and all with one `--cluster-name` unique to this run.
    fn start(launch: &Launch<'_>, cluster: Option<(usize, &str)>) -> anyhow::Result<Self> {
        let binary = match &launch.binary {
            Some(b) => b.clone(),
            None => server_path().context("no directory for the benchmark binary")?,
        };
        let dir = tempfile::tempdir()?;
        let mut common: Vec<OsString> = vec![
            "--data-dir".into(),
            dir.path().into(),
            // The load generator speaks plain TCP.
            "--plain".into(),
        ];
        // Every client comes from 127.0.0.1 and sends far above any one person's
        // rate: no limit the scenario's own flags do not set.
        for pair in UNLIMITED.chunks(2) {
            if !launch.extra.contains(&pair[0]) {
                common.extend(pair.iter().map(OsString::from));
            }
        }
        common.extend(launch.extra.iter().map(OsString::from));
        if let Some(url) = launch.database_url {
            common.extend(["--database-url".into(), url.into()]);
        }
        let mut nodes = Vec::new();
        match cluster {
            None => nodes.push(Node::launch(
                &binary,
                common,
                launch.logs,
                launch.node_cpus,
                "server",
            )?),
            Some((n, nats)) => {
                let name = crate::load::name_prefix("bench");
                let name = name.trim_end_matches('-');
                for i in 1..=n {
                    let id = format!("n{i}");
                    let mut args = common.clone();
                    args.extend([
                        "--nats-url".into(),
                        nats.into(),
                        "--cluster-name".into(),
                        name.into(),
                        "--node-id".into(),
                        id.as_str().into(),
                    ]);
                    let node = Node::launch(&binary, args, launch.logs, launch.node_cpus, &id)?;
                    // A node listens before it has migrated the database: the
                    // next one must not start migrating beside it.
                    cluster::wait_until_serving(node.addr, START_LIMIT)
                        .with_context(|| format!("waiting for node {id} to serve"))?;
                    nodes.push(node);
                }
            }
        }
        let database_url = launch.database_url.map_or_else(
            || chatroom_server::db::sqlite_url_for(dir.path()),
            str::to_owned,
        );
        Ok(Self {
            addr: nodes[0].addr,
            addrs: nodes.iter().map(|n| n.addr).collect(),
            pid: Some(nodes[0].child.id()),
            pids: nodes.iter().map(|n| n.child.id()).collect(),
            nodes,
            database: None,
            database_url: Some(database_url),
            database_kept: launch.database_url.is_some(),
            _dir: Some(dir),
        })
    }

    /// The started servers that are no longer running, each as "n1: <exit
    /// status>" (a node falling over during a run must show in its report).
    pub fn exited(&mut self) -> Vec<String> {
        let mut gone = Vec::new();
        for node in &mut self.nodes {
            match node.child.try_wait() {
                Ok(Some(status)) => gone.push(format!("{}: {status}", node.name)),
                Ok(None) => {}
                Err(e) => gone.push(format!("{}: {e}", node.name)),
            }
        }
        gone
    }

    /// One reading of every node's memory: the total (each node's own peak
    /// summed, so not less than the peak of their sum), and each node's peak
    /// in node order; `None` unless every node's is known. One reading: two
    /// disagree while a node's memory grows.
    pub fn memory_reading(&self) -> (Option<Memory>, Option<Vec<u64>>) {
        let each = self.memory_per_node();
        (
            each.as_deref().map(Memory::sum),
            each.map(|m| m.iter().map(|m| m.peak_kib).collect()),
        )
    }

    /// Memory of each node, in node order; `None` unless every node's is known.
    pub fn memory_per_node(&self) -> Option<Vec<Memory>> {
        if self.pids.is_empty() {
            return None;
        }
        self.pids.iter().map(|&p| proc_stats::memory(p)).collect()
    }

    /// Stop the started server gracefully (SIGTERM, as an operator would) and
    /// start it again with the same flags: same port, same data directory. Blocks
    /// until the new one accepts connections. Fails for a running server that
    /// this benchmark did not start, and for a cluster.
    pub fn restart(&mut self) -> anyhow::Result<Restarted> {
        let [node] = &mut self.nodes[..] else {
            bail!("only a single server started by the benchmark can be restarted");
        };
        let start = Instant::now();
        terminate(node.child.id()).context("sending SIGTERM to the server")?;
        loop {
            if node.child.try_wait()?.is_some() {
                break;
            }
            if start.elapsed() > START_LIMIT {
                let _ = node.child.kill();
                let _ = node.child.wait();
                bail!("the server did not stop within {START_LIMIT:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let stopped = start.elapsed();
        let start = Instant::now();
        node.budget = None;
        node.child = launch(&node.binary, &node.args, node.addr, node.log.as_deref())?;
        let listening = start.elapsed();
        node.budget = node
            .cores
            .map(|c| CpuBudget::apply(node.child.id(), c))
            .transpose()?;
        self.pid = Some(node.child.id());
        self.pids = vec![node.child.id()];
        Ok(Restarted { stopped, listening })
    }

    /// The database the started servers use (a running server's is unknown).
    pub fn database(&self) -> Option<RunDatabase> {
        Some(RunDatabase {
            url: self.database_url.clone()?,
            kept: self.database_kept,
        })
    }

    /// Stop every started server gracefully (SIGTERM, then each one's exit,
    /// killed after [`START_LIMIT`]), keeping their data directory and
    /// database until this value is dropped. A running server is left alone.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        for node in &self.nodes {
            terminate(node.child.id()).context("sending SIGTERM to the server")?;
        }
        let start = Instant::now();
        for node in &mut self.nodes {
            while node.child.try_wait()?.is_none() {
                if start.elapsed() > START_LIMIT {
                    let _ = node.child.kill();
                    let _ = node.child.wait();
                    bail!(
                        "server {} did not stop within {START_LIMIT:?} of SIGTERM",
                        node.name
                    );
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        self.nodes.clear();
        self.pid = None;
        self.pids.clear();
        Ok(())
    }

    /// A running server (loopback only).
    pub fn running(addr: SocketAddr, pid: Option<u32>) -> anyhow::Result<Self> {
        if !addr.ip().is_loopback() {
            bail!("chatroom-bench only targets loopback addresses, not {addr}");
        }
        Ok(Self {
            addr,
            addrs: vec![addr],
            pid,
            pids: pid.into_iter().collect(),
            nodes: Vec::new(),
            database: None,
            database_url: None,
            database_kept: true,
            _dir: None,
        })
    }
}

impl Node {
    /// Start `binary` with `common` and `--listen` on a free loopback port,
    /// held to `cores` if given; its log goes to `<logs>/<name>.log` when
    /// `logs` is given.
    fn launch(
        binary: &Path,
        mut args: Vec<OsString>,
        logs: Option<&Path>,
        cores: Option<f64>,
        name: &str,
    ) -> anyhow::Result<Self> {
        let port = free_port()?;
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        args.splice(0..0, ["--listen".into(), addr.to_string().into()]);
        let log = logs.map(|d| d.join(format!("{name}.log")));
        let child = launch(binary, &args, addr, log.as_deref())?;
        let mut node = Self {
            child,
            budget: None,
            cores,
            binary: binary.to_owned(),
            args,
            addr,
            log,
            name: name.to_owned(),
        };
        // On failure the node drops, which stops its server.
        node.budget = cores
            .map(|c| CpuBudget::apply(node.child.id(), c))
            .transpose()?;
        Ok(node)
    }
}

/// Start `binary` with `args` and wait until it accepts connections on `addr`;
/// its stderr (the log) is appended to `log` if given, else discarded.
fn launch(
    binary: &Path,
    args: &[OsString],
    addr: SocketAddr,
    log: Option<&Path>,
) -> anyhow::Result<Child> {
    let stderr = match log {
        Some(path) => Stdio::from(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("opening {}", path.display()))?,
        ),
        None => Stdio::null(),
    };
    let mut child = Command::new(binary)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
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

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        // Also reached when a run failed: say if a server had died under it.
        for gone in self.exited() {
            eprintln!("chatroom-bench: a started server had exited before the end: {gone}");
        }
        self.nodes.clear();
        // Only now that no node uses it.
        self.database.take();
    }
}
