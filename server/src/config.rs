//! Server configuration: every flag, its environment variable and its default.
//!
//! `Config` is a clap parser so `chatroom-server --help` lists everything here;
//! tests build one with [`Config::default`] and adjust fields.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// Everything the server can be told at start.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "chatroom-server",
    version,
    about = "The chatroom server: accounts, the main room, presence and durable history over TCP.",
    long_about = "The chatroom server: accounts, the main room, presence and durable history over TCP.\n\n\
        Type on standard input to administer it: a plain line is an announcement to every user, \
        lines starting with / are commands (/help lists them); from another shell, \
        `chatroom-server --data-dir DIR admin COMMAND…` sends one over the data directory's control \
        socket. Durations accept units: 500ms, 20s, 5m."
)]
pub struct Config {
    /// Address and port to listen on.
    #[arg(long, env = "CHATROOM_LISTEN", default_value = "0.0.0.0:44302")]
    pub listen: SocketAddr,

    /// Directory for the embedded SQLite database and the shared files (under files/, also
    /// when the database is PostgreSQL or MySQL). Created if missing.
    #[arg(long, global = true, env = "CHATROOM_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Search through an index in the data directory (search-index/, each cluster node its
    /// own), built from the history at first start and kept up to date, instead of scanning
    /// the history for every search. `false`: every search scans.
    #[arg(long, env = "CHATROOM_SEARCH_INDEX", default_value_t = true, action = clap::ArgAction::Set)]
    pub search_index: bool,

    /// Database URL: sqlite://PATH?mode=rwc, postgres://USER@HOST/DB or mysql://USER@HOST/DB.
    /// Default: an SQLite file chatroom.db in the data directory.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,

    /// Speak plain TCP, without TLS. Only for a trusted local network: passwords then
    /// cross it in clear text.
    #[arg(long, env = "CHATROOM_PLAIN", conflicts_with_all = ["tls_cert", "tls_key"])]
    pub plain: bool,

    /// The server's TLS certificate chain (PEM). Without it (and without --plain) a
    /// self-signed certificate is made in DATA_DIR/tls/ on the first start and kept;
    /// clients pin it on first use.
    #[arg(long, env = "CHATROOM_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "CHATROOM_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Largest frame (bytes of JSON) accepted from a client; larger frames close the connection.
    #[arg(long, env = "CHATROOM_MAX_FRAME", default_value_t = chatroom_shared::DEFAULT_MAX_CLIENT_FRAME)]
    pub max_frame: usize,

    /// Longest chat message, in bytes of UTF-8.
    #[arg(long, env = "CHATROOM_MAX_MESSAGE_LEN", default_value_t = chatroom_shared::rules::text::DEFAULT_MAX_TEXT_BYTES)]
    pub max_message_len: usize,

    /// bcrypt cost for password hashes (4-31; each step doubles the work).
    #[arg(long, env = "CHATROOM_BCRYPT_COST", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(4..=31))]
    pub bcrypt_cost: u32,

    /// How many bcrypt hashes may run at once (default: one less than the number of CPUs,
    /// at least one, so a login storm always leaves a core to the chat).
    #[arg(long, env = "CHATROOM_BCRYPT_THREADS")]
    pub bcrypt_threads: Option<usize>,

    /// How many recent messages a user receives on login.
    #[arg(long, env = "CHATROOM_HISTORY_COUNT", default_value_t = 50)]
    pub history_count: u32,

    /// Above this many users online, joins and leaves go only to sessions that watch
    /// the online list (`watch_users`), gathered into `presence` events once a second;
    /// at or below it everyone is told of each at once (PROTOCOL §18).
    #[arg(long, env = "CHATROOM_PRESENCE_BROADCAST_MAX", default_value_t = crate::hub::DEFAULT_BROADCAST_MAX)]
    pub presence_broadcast_max: usize,

    /// Largest page a history request returns.
    #[arg(long, env = "CHATROOM_MAX_HISTORY_PAGE", default_value_t = 200)]
    pub max_history_page: u32,

    /// Close a connection that sends nothing for this long (clients ping at a third of it).
    #[arg(long, env = "CHATROOM_KEEPALIVE", default_value = "60s", value_parser = humantime::parse_duration)]
    pub keepalive: Duration,

    /// Hello and login must be done within this time after connecting.
    #[arg(long, env = "CHATROOM_AUTH_TIMEOUT", default_value = "20s", value_parser = humantime::parse_duration)]
    pub auth_timeout: Duration,

    /// A frame that has started must be complete within this time.
    #[arg(long, env = "CHATROOM_FRAME_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub frame_timeout: Duration,

    /// A client that does not take our bytes for this long is disconnected.
    #[arg(long, env = "CHATROOM_WRITE_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub write_timeout: Duration,

    /// Wrong passwords allowed on one connection; the last one closes it.
    #[arg(long, env = "CHATROOM_MAX_LOGIN_ATTEMPTS", default_value_t = 3)]
    pub max_login_attempts: u32,

    /// Failed logins from one address within --address-failure-window before that
    /// address is refused until the window passes.
    #[arg(long, env = "CHATROOM_ADDRESS_FAILURE_LIMIT", default_value_t = 20)]
    pub address_failure_limit: u32,

    /// The window of --address-failure-limit.
    #[arg(long, env = "CHATROOM_ADDRESS_FAILURE_WINDOW", default_value = "5m", value_parser = humantime::parse_duration)]
    pub address_failure_window: Duration,

    /// Items (replies, or batches of events) queued for one client before it
    /// counts as too slow and is disconnected.
    #[arg(long, env = "CHATROOM_OUTBOUND_QUEUE", default_value_t = 1024)]
    pub outbound_queue: usize,

    /// Bytes queued for one client and not yet written before it counts as
    /// too slow and is disconnected.
    #[arg(long, env = "CHATROOM_OUTBOUND_BYTES", default_value_t = 8 * 1024 * 1024)]
    pub outbound_bytes: usize,

    /// Records waiting to be stored (write-behind queue size). When it is full (the
    /// database is slow or unavailable) a chat message gets `server_busy`.
    #[arg(long, env = "CHATROOM_STORE_QUEUE", default_value_t = 16384)]
    pub store_queue: usize,

    /// How long the server waits for the database: for a pooled connection, for
    /// a read a request needs (then the request gets `internal`), and for a batch
    /// of messages to be stored (tries with backoff; then its senders get
    /// `storage_unavailable`, and new messages are refused at once until the
    /// next try). So every request is answered within about twice this, even
    /// with the disk full or the database down.
    #[arg(long, env = "CHATROOM_DB_TIMEOUT", default_value = "5s", value_parser = humantime::parse_duration)]
    pub db_timeout: Duration,

    /// Most records stored in one transaction (group commit).
    #[arg(long, env = "CHATROOM_STORE_BATCH", default_value_t = 2048)]
    pub store_batch: usize,

    /// Least time between the starts of two store batches per online session
    /// (0 turns spacing off): each batch wakes every session, so under a steady
    /// stream of messages a crowded room shares fewer, larger batches. A quiet
    /// room is unaffected (an idle writer stores at once).
    #[arg(long, env = "CHATROOM_BATCH_SPACING_PER_SESSION", default_value = "8us", value_parser = humantime::parse_duration)]
    pub batch_spacing_per_session: Duration,

    /// The most the batch spacing grows to, however many are online.
    #[arg(long, env = "CHATROOM_MAX_BATCH_SPACING", default_value = "20ms", value_parser = humantime::parse_duration)]
    pub max_batch_spacing: Duration,

    /// Requests a second one connection may send on average (0: no limit).
    /// Beyond it a request gets `rate_limited` with the time to wait.
    #[arg(long, env = "CHATROOM_REQUEST_RATE", default_value_t = 20)]
    pub request_rate: u32,

    /// Requests one connection may send at once after a quiet spell.
    #[arg(long, env = "CHATROOM_REQUEST_BURST", default_value_t = 100)]
    pub request_burst: u32,

    /// Requests refused as `rate_limited` in a row (each within 5 s of the last; an
    /// accepted request ends the row) before the connection is closed.
    #[arg(long, env = "CHATROOM_RATE_LIMIT_STRIKES", default_value_t = 20)]
    pub rate_limit_strikes: u32,

    /// How long a resume token stays valid.
    #[arg(long, env = "CHATROOM_TOKEN_TTL", default_value = "30days", value_parser = humantime::parse_duration)]
    pub token_ttl: Duration,

    /// Largest file a user may share, in bytes.
    #[arg(long, env = "CHATROOM_MAX_FILE_SIZE", default_value_t = 1024 * 1024 * 1024)]
    pub max_file_size: u64,

    /// Bytes of the data directory's file system kept free: an upload that would eat
    /// into them is refused with storage_full.
    #[arg(long, env = "CHATROOM_MIN_FREE_SPACE", default_value_t = 256 * 1024 * 1024)]
    pub min_free_space: u64,

    /// Bytes of shared files one user may have stored, counting their uploads in
    /// progress: an upload that would go over is refused with quota_exceeded, so one
    /// account cannot fill the disk for everybody. 0: no limit.
    #[arg(long, env = "CHATROOM_MAX_FILES_BYTES_PER_USER", default_value_t = 10 * 1024 * 1024 * 1024)]
    pub max_files_bytes_per_user: u64,

    /// Uploads one user may have at once, counting tickets handed out and not yet used
    /// and data connections receiving: one more upload_begin is refused with
    /// too_many_uploads until one ends. 0: no limit.
    #[arg(long, env = "CHATROOM_MAX_UPLOADS_PER_USER", default_value_t = 4)]
    pub max_uploads_per_user: u32,

    /// How long a transfer ticket (from upload_ready / download_ready) stays valid.
    #[arg(long, env = "CHATROOM_TRANSFER_TICKET_TTL", default_value = "60s", value_parser = humantime::parse_duration)]
    pub transfer_ticket_ttl: Duration,

    /// A data connection that moves no byte for this long is closed (an upload keeps its
    /// partial data for resuming).
    #[arg(long, env = "CHATROOM_TRANSFER_IDLE_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub transfer_idle_timeout: Duration,

    /// Open groups one user may have created at a time.
    #[arg(long, env = "CHATROOM_MAX_GROUPS_PER_USER", default_value_t = 5)]
    pub max_groups_per_user: u64,

    /// Connections allowed at once from one client address (one more is refused with
    /// too_many_connections); 0 for no limit.
    #[arg(
        long,
        env = "CHATROOM_MAX_CONNECTIONS_PER_ADDRESS",
        default_value_t = 32
    )]
    pub max_connections_per_address: usize,

    /// New connections one client address may open a second on average (0: no limit):
    /// beyond it (after a burst of --connection-burst-per-address) a connection gets
    /// connection_rate_limited with the time to wait, and is closed. Generous enough for
    /// the users behind one NAT coming back at once after a restart.
    #[arg(
        long,
        env = "CHATROOM_CONNECTION_RATE_PER_ADDRESS",
        default_value_t = 20
    )]
    pub connection_rate_per_address: u32,

    /// New connections one client address may open at once after a quiet spell.
    #[arg(
        long,
        env = "CHATROOM_CONNECTION_BURST_PER_ADDRESS",
        default_value_t = 200
    )]
    pub connection_burst_per_address: u32,

    /// Messages delivered at login from the conversations a user missed (private groups
    /// and direct messages); older unread ones stay in the history.
    #[arg(long, env = "CHATROOM_MAX_OFFLINE_DELIVERY", default_value_t = 10_000)]
    pub max_offline_delivery: u64,

    /// An open game invitation nobody accepts ends after this long.
    #[arg(long, env = "CHATROOM_GAME_INVITE_TTL", default_value = "5m", value_parser = humantime::parse_duration)]
    pub game_invite_ttl: Duration,

    /// A player who does not move for this long loses the game by timeout.
    #[arg(long, env = "CHATROOM_GAME_MOVE_TIMEOUT", default_value = "60s", value_parser = humantime::parse_duration)]
    pub game_move_timeout: Duration,

    /// A player who leaves during a game loses it unless they are back within this time;
    /// the game's clock stops meanwhile.
    #[arg(long, env = "CHATROOM_GAME_RECONNECT_GRACE", default_value = "30s", value_parser = humantime::parse_duration)]
    pub game_reconnect_grace: Duration,

    /// NATS server that carries events between server nodes (e.g. nats://127.0.0.1:4222).
    /// Without it the server is a single node (the default). With it, several nodes share
    /// one chat: they must share one PostgreSQL or MySQL database (and, for files, one data
    /// directory); see docs/ARCHITECTURE.md.
    #[arg(long, env = "CHATROOM_NATS_URL")]
    pub nats_url: Option<String>,

    /// This node's name in the cluster (in logs and the admin's /users). Default: the host
    /// name and the listening port, e.g. chat1:44302. Must differ between nodes.
    #[arg(long, global = true, env = "CHATROOM_NODE_ID")]
    pub node_id: Option<String>,

    /// The cluster's name: the prefix of its NATS subjects, so several clusters (or test
    /// runs) can share one NATS server. Every node of one cluster uses the same name.
    #[arg(long, env = "CHATROOM_CLUSTER_NAME", default_value = "chatroom")]
    pub cluster_name: String,

    /// How often a node tells the others it is alive.
    #[arg(long, env = "CHATROOM_NODE_HEARTBEAT", default_value = "1s", value_parser = humantime::parse_duration)]
    pub node_heartbeat: Duration,

    /// A node not heard from for this long is taken for dead: its users leave everyone
    /// else's online list.
    #[arg(long, env = "CHATROOM_NODE_TIMEOUT", default_value = "5s", value_parser = humantime::parse_duration)]
    pub node_timeout: Duration,

    /// How long a graceful shutdown may take before remaining connections are cut.
    #[arg(long, env = "CHATROOM_SHUTDOWN_GRACE", default_value = "10s", value_parser = humantime::parse_duration)]
    pub shutdown_grace: Duration,

    /// Serve Prometheus metrics (`/metrics`) and a health check (`/health`)
    /// over HTTP on this address, e.g. 127.0.0.1:9464. Off by default; keep it
    /// off the public network (it needs no password).
    #[arg(long, env = "CHATROOM_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// How log lines are written to standard error: `text` for a person at a
    /// terminal, `json` (one object per line) for a log collector.
    #[arg(long, env = "CHATROOM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Instead of starting a server, talk to a running one.
    #[command(subcommand)]
    pub command: Option<ServerCommand>,

    /// Faults injected for tests (debug builds only; hidden flags).
    #[command(flatten)]
    pub faults: crate::fault::Faults,
}

/// A node id as part of a file name in the shared data directory (the search
/// index's folder, the lock, the control socket): anything but letters,
/// digits, `-` and `.` becomes `_`.
pub fn node_file_part(node: &str) -> String {
    node.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// What `chatroom-server` does instead of serving.
#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum ServerCommand {
    /// Run one console command on the server running on --data-dir.
    ///
    /// It goes over the data directory's control socket (for a cluster node,
    /// also give its --node-id), and the answer is printed: `admin announce
    /// TEXT…`, `admin users`, `admin kick
    /// NAME [REASON]`, `admin ban NAME`, `admin unban NAME`, `admin groups`,
    /// `admin close-group NAME`, `admin search-index`, `admin quit`,
    /// `admin help`.
    Admin {
        /// The command and its arguments.
        #[arg(trailing_var_arg = true)]
        words: Vec<String>,
    },
    /// Copy the SQLite database of the server running on --data-dir to PATH.
    ///
    /// The copy is consistent though the server keeps running (SQLite's
    /// `VACUUM INTO`); PATH.files lists the shared files its records name, one
    /// path a line, to copy with it. PATH must not exist. For PostgreSQL and
    /// MariaDB use their own tools (see the README).
    Backup {
        /// Where the copy goes.
        path: std::path::PathBuf,
    },
    /// Copy every table of one database into another, freshly created and
    /// empty one, with ids kept: how a chat moves from SQLite to PostgreSQL
    /// or MariaDB.
    ///
    /// Stop the server first. The target is migrated, filled in one
    /// transaction, batch by batch, and each table's row count and checksum
    /// are compared with the source's before it is committed. A target with
    /// rows, or the source itself, is refused. Progress goes to standard error.
    CopyData {
        /// The database to copy: `sqlite://…`, `postgres://…` or `mysql://…`.
        #[arg(long)]
        from: String,
        /// The empty database to fill: `postgres://…`, `mysql://…` or `sqlite://…`.
        #[arg(long)]
        to: String,
        /// Rows read and written at a time.
        #[arg(long, default_value_t = crate::copy_data::DEFAULT_BATCH,
              value_parser = clap::value_parser!(u64).range(1..=100_000))]
        batch: u64,
    },
}

/// The shape of the log lines (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// One line of text per event, for a person reading a terminal or a file.
    #[default]
    Text,
    /// One JSON object per line (time, level, target, message and fields),
    /// for log collectors; every string in it, a client's included, is a JSON
    /// string, escaped as JSON escapes it.
    Json,
}

impl Default for Config {
    /// The defaults of every flag, as `chatroom-server` with no arguments would use.
    fn default() -> Self {
        Self::parse_from(["chatroom-server"])
    }
}

impl Config {
    /// The database URL to use: the configured one, or SQLite in the data directory.
    pub fn effective_database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| crate::db::sqlite_url_for(&self.data_dir))
    }

    /// The longest a request may take before it is answered `internal`:
    /// a batch of messages is tried for `db_timeout`, and its last try may take
    /// that long again (plus a second's grace).
    pub fn request_timeout(&self) -> Duration {
        self.db_timeout * 2 + Duration::from_secs(1)
    }

    /// The request rate limit of one connection or user.
    pub fn flood_limit(&self) -> crate::flood::FloodLimit {
        crate::flood::FloodLimit {
            rate: self.request_rate,
            burst: self.request_burst,
            strikes: self.rate_limit_strikes,
        }
    }

    /// Number of concurrent bcrypt computations.
    pub fn bcrypt_parallelism(&self) -> usize {
        self.bcrypt_threads
            .unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1))
            })
            .max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documented_values() {
        let c = Config::default();
        assert_eq!(c.listen.port(), 44302);
        assert_eq!(c.max_frame, 64 * 1024);
        assert_eq!(c.max_message_len, 4096);
        assert!(c.bcrypt_cost >= 10);
        assert_eq!(c.history_count, 50);
        assert_eq!(c.keepalive, Duration::from_secs(60));
        assert_eq!(c.auth_timeout, Duration::from_secs(20));
        assert_eq!(c.max_login_attempts, 3);
        assert_eq!(c.max_file_size, 1 << 30);
        assert_eq!(c.min_free_space, 256 << 20);
        assert_eq!(c.max_files_bytes_per_user, 10 << 30);
        assert_eq!(c.max_uploads_per_user, 4);
        assert_eq!(c.transfer_ticket_ttl, Duration::from_secs(60));
        assert_eq!(c.batch_spacing_per_session, Duration::from_micros(8));
        assert_eq!(
            (c.request_rate, c.request_burst, c.rate_limit_strikes),
            (20, 100, 20)
        );
        assert_eq!(c.max_batch_spacing, Duration::from_millis(20));
        assert_eq!(c.db_timeout, Duration::from_secs(5));
        assert_eq!(c.transfer_idle_timeout, Duration::from_secs(30));
        assert_eq!(c.game_invite_ttl, Duration::from_secs(300));
        assert_eq!(c.max_groups_per_user, 5);
        assert_eq!(c.max_connections_per_address, 32);
        assert_eq!(
            (
                c.connection_rate_per_address,
                c.connection_burst_per_address
            ),
            (20, 200)
        );
        assert_eq!(c.nats_url, None);
        assert_eq!(c.cluster_name, "chatroom");
        assert_eq!(
            (c.node_heartbeat, c.node_timeout),
            (Duration::from_secs(1), Duration::from_secs(5))
        );
        assert_eq!(c.max_offline_delivery, 10_000);
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(c.bcrypt_parallelism(), cpus.saturating_sub(1).max(1));
        assert_eq!(c.game_move_timeout, Duration::from_secs(60));
        assert_eq!(c.game_reconnect_grace, Duration::from_secs(30));
        assert!(!c.plain, "TLS is on unless asked otherwise");
        assert_eq!((c.tls_cert, c.tls_key), (None, None));
    }

    #[test]
    fn bcrypt_cost_below_four_is_refused() {
        assert!(Config::try_parse_from(["x", "--bcrypt-cost", "3"]).is_err());
    }

    #[test]
    fn durations_take_units() {
        let c = Config::try_parse_from(["x", "--keepalive", "1500ms"]).unwrap();
        assert_eq!(c.keepalive, Duration::from_millis(1500));
    }
}

#[cfg(test)]
mod asset_tests {
    use clap::CommandFactory;

    use super::Config;

    /// `assets/chatroom-server.env` documents every environment variable, and
    /// names no variable the server does not read (the hidden fault switches
    /// for tests are left out).
    #[test]
    fn default_env_file_lists_exactly_the_server_variables() {
        let file = include_str!("../../assets/chatroom-server.env");
        let listed: std::collections::BTreeSet<&str> = file
            .lines()
            .filter_map(|l| l.trim_start_matches('#').split_once('='))
            .map(|(k, _)| k.trim())
            .filter(|k| k.chars().all(|c| c.is_ascii_uppercase() || c == '_') && !k.is_empty())
            .filter(|k| *k != "RUST_LOG")
            .collect();
        let cmd = Config::command();
        let known: std::collections::BTreeSet<String> = cmd
            .get_arguments()
            .filter(|a| !a.is_hide_set())
            .filter_map(|a| a.get_env())
            .map(|e| e.to_string_lossy().into_owned())
            .collect();
        let known: std::collections::BTreeSet<&str> = known.iter().map(String::as_str).collect();
        assert_eq!(listed, known);
    }
}
