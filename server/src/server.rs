//! Starting, running and stopping the server.
//!
//! [`Server::start`] connects the database, applies migrations and starts the
//! hub and the store writer; [`Server::run`] accepts connections until the
//! shutdown token is cancelled and then shuts down gracefully:
//!
//! 1. stop accepting; every session stops reading and sends `server_shutdown`;
//! 2. once no session can submit anything more, the store writer stores all
//!    that is queued and sends the acks;
//! 3. sessions write what is still queued for them and close.
//!
//! So no message that was acknowledged, or accepted for storage, is lost.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chatroom_shared::message::{ErrorReply, Limits};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, error, info, warn};

use crate::admin::Admin;
use crate::config::Config;
use crate::conn_limit::{AddressSlots, Slot, connecting_too_fast, refuse, too_many_connections};
use crate::conn_rate::{Admission, ConnectionRate};
use crate::ctx::{Ctx, Handles};
use crate::files::Files;
use crate::hub::Hub;
use crate::password::PasswordHasher;
use crate::search::SearchIndex;
use crate::session::{self, Signals};
use crate::store::{self, Writer};
use crate::throttle::AddressThrottle;
use crate::tls::Tls;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The data directory could not be created.
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// The TLS certificate or key could not be loaded or made.
    #[error("TLS: {0}")]
    Tls(#[from] crate::tls::TlsError),
    /// The NATS link of a cluster node could not start.
    #[error("cluster: {0}")]
    Cluster(#[from] crate::cluster::JoinError),
    /// The configuration cannot work.
    #[error("{0}")]
    Config(String),
    /// Some other IO failure.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn limits(config: &Config) -> Limits {
    Limits {
        max_frame_bytes: u32::try_from(config.max_frame).unwrap_or(u32::MAX),
        max_text_bytes: u32::try_from(config.max_message_len).unwrap_or(u32::MAX),
        max_history_page: config.max_history_page,
        idle_timeout_ms: millis(config.keepalive),
        ping_interval_ms: millis(config.keepalive / 3).max(1),
        auth_timeout_ms: millis(config.auth_timeout),
        frame_timeout_ms: millis(config.frame_timeout),
        max_login_attempts: config.max_login_attempts,
        max_uploads_per_user: config.max_uploads_per_user,
        max_list_page: chatroom_shared::MAX_LIST_PAGE,
        max_list_page_bytes: chatroom_shared::MAX_LIST_PAGE_BYTES,
        request_rate: config.request_rate,
        request_burst: config.request_burst,
        rate_limit_strikes: config.rate_limit_strikes,
        max_connections_per_address: u32::try_from(config.max_connections_per_address)
            .unwrap_or(u32::MAX),
        connection_rate_per_address: config.connection_rate_per_address,
        connection_burst_per_address: config.connection_burst_per_address,
        outbound_queue: u32::try_from(config.outbound_queue).unwrap_or(u32::MAX),
        outbound_bytes: u64::try_from(config.outbound_bytes).unwrap_or(u64::MAX),
        write_timeout_ms: millis(config.write_timeout),
        request_timeout_ms: millis(config.request_timeout()),
        max_groups_per_user: u32::try_from(config.max_groups_per_user).unwrap_or(u32::MAX),
        max_search_words: u32::try_from(chatroom_shared::rules::search::MAX_SEARCH_WORDS)
            .unwrap_or(u32::MAX),
        max_search_word_chars: u32::try_from(chatroom_shared::rules::search::MAX_SEARCH_WORD_CHARS)
            .unwrap_or(u32::MAX),
        max_offline_delivery: config.max_offline_delivery,
        max_file_size: config.max_file_size,
        max_files_bytes_per_user: config.max_files_bytes_per_user,
        transfer_ticket_ttl_ms: millis(config.transfer_ticket_ttl),
        transfer_idle_timeout_ms: millis(config.transfer_idle_timeout),
        game_invite_ttl_ms: millis(config.game_invite_ttl),
        game_move_timeout_ms: millis(config.game_move_timeout),
        game_reconnect_grace_ms: millis(config.game_reconnect_grace),
    }
}

#[cfg(test)]
mod limits_tests {
    /// `Limits::default()` (what the protocol crate, its golden JSON and
    /// PROTOCOL.md show) is what a server with default flags sends.
    #[test]
    fn the_default_limits_are_a_default_servers() {
        let config = crate::Config::default();
        assert_eq!(
            super::limits(&config),
            chatroom_shared::message::Limits::default()
        );
    }
}

/// A started server, ready to [`run`](Server::run).
pub struct Server {
    listener: TcpListener,
    tls: Option<Tls>,
    ctx: Arc<Ctx>,
    writer: Writer,
    shutdown: CancellationToken,
    close_store: CancellationToken,
    /// In a cluster: the link to the other nodes, flushed at shutdown.
    bus: Option<crate::cluster::bus::Bus>,
    /// This server's node id (its default one on a single server).
    node: String,
}

impl Server {
    /// Bind `config.listen` and start.
    pub async fn bind(config: Config) -> Result<Self, StartError> {
        let listener = listen(config.listen).map_err(|source| StartError::Bind {
            addr: config.listen,
            source,
        })?;
        Self::start(listener, config).await
    }

    /// What every session of this server shares (for tests of a session alone).
    #[cfg(test)]
    pub(crate) fn ctx(&self) -> Arc<Ctx> {
        Arc::clone(&self.ctx)
    }

    /// Start on an already bound listener (tests bind port 0).
    pub async fn start(listener: TcpListener, config: Config) -> Result<Self, StartError> {
        // The data directory holds the shared files whatever the database is.
        let files = Files::open(
            &config.data_dir,
            config.transfer_ticket_ttl,
            config.max_uploads_per_user,
        )
        .map_err(|source| StartError::DataDir {
            path: config.data_dir.clone(),
            source,
        })?;
        let tls = Tls::from_config(&config)?;
        match &tls {
            Some(tls) => info!(fingerprint = tls.fingerprint(), "TLS on"),
            None => {
                warn!("plain TCP without TLS (--plain): passwords cross the network in clear text")
            }
        }
        let url = config.effective_database_url();
        if config.nats_url.is_some() && url.starts_with("sqlite:") {
            return Err(StartError::Config(
                "--nats-url needs a database all nodes share: give --database-url a \
                 postgres:// or mysql:// URL"
                    .into(),
            ));
        }
        let writers = if config.nats_url.is_some() {
            crate::db::Writers::Shared
        } else {
            crate::db::Writers::One
        };
        let db = crate::db::connect_with(&url, config.db_timeout, writers).await?;
        crate::db::migrate(&db).await?;
        let node = match &config.node_id {
            Some(id) => id.clone(),
            None => crate::cluster::default_node_id(listener.local_addr()?.port()),
        };
        let search = if config.search_index {
            let dir = crate::search::dir_for(
                &config.data_dir,
                config.nats_url.is_some().then_some(node.as_str()),
            );
            match SearchIndex::open(dir.clone(), db.clone(), config.nats_url.is_none()) {
                Ok(index) => Some(index),
                Err(e) => {
                    warn!(error = %e, dir = %dir.display(), "the search index cannot be opened; every search scans the history");
                    None
                }
            }
        } else {
            None
        };
        let started = crate::time::now_ms();
        let (hub, cluster) = match &config.nats_url {
            None => (
                Hub::start_node(
                    node.clone(),
                    None,
                    config.presence_broadcast_max,
                    usize::try_from(config.history_count).unwrap_or(usize::MAX),
                ),
                None,
            ),
            Some(url) => {
                let (hub, joining) = crate::cluster::Joining::connect(
                    url,
                    &config,
                    node.clone(),
                    started,
                    &db,
                    search.clone(),
                )
                .await?;
                (hub, Some(joining))
            }
        };
        let close_store = CancellationToken::new();
        let deliver: Arc<dyn crate::delivery::Deliver> = match &cluster {
            None => Arc::new(hub.clone()),
            Some(joining) => joining.deliver(),
        };
        let (store, writer) = store::start(
            db.clone(),
            hub.clone(),
            deliver,
            search.clone(),
            store::WriterConfig {
                queue: config.store_queue,
                batch: config.store_batch,
                spacing: store::BatchSpacing {
                    per_session: config.batch_spacing_per_session,
                    max: config.max_batch_spacing,
                },
                shared: cluster.is_some(),
                give_up: config.db_timeout,
            },
            close_store.clone(),
        )
        .await?;
        let shutdown = CancellationToken::new();
        let local_games = crate::games::Games::start(
            config.game_invite_ttl,
            config.game_move_timeout,
            config.game_reconnect_grace,
            hub.clone(),
            db.clone(),
            cluster.as_ref().map(crate::cluster::Joining::mirror),
        );
        let link = cluster.as_ref().map(crate::cluster::Joining::bus);
        let (games, ticket_claims, first_session) = match cluster {
            None => (crate::games::Desk::local(local_games), None, 1),
            Some(joining) => {
                let node = joining.start(
                    &config,
                    hub.clone(),
                    local_games,
                    files.tickets.clone(),
                    shutdown.clone(),
                );
                (node.games, Some(node.tickets), node.first_session)
            }
        };
        // Deliveries have begun (in a cluster, other nodes' too): the room's
        // latest page read now, merged with them, is what joins copy.
        let (rows, _) = crate::db::history::room_page(
            &db,
            crate::db::history::Cursor::Latest,
            u64::from(config.history_count),
        )
        .await?;
        let read = rows
            .into_iter()
            .map(|row| crate::hub::recent::Line::from_message(crate::history::to_chat_message(row)))
            .collect();
        if hub.prime(read).await.is_err() {
            warn!("the hub stopped before the start ended");
        }
        let limiters = crate::flood::UserLimiters::new(config.flood_limit());
        let ctx = Arc::new(Ctx::new(
            Handles {
                games,
                limiters,
                ticket_claims,
                search,
                hasher: PasswordHasher::new(config.bcrypt_cost, config.bcrypt_parallelism()),
                throttle: AddressThrottle::new(
                    config.address_failure_limit,
                    config.address_failure_window,
                ),
                limits: limits(&config),
                files,
                config,
                db,
                hub,
                store,
            },
            first_session,
        ));
        Ok(Self {
            listener,
            tls,
            ctx,
            writer,
            shutdown,
            close_store,
            bus: link,
            node,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The fingerprint of the TLS certificate the server presents; `None` with `--plain`.
    pub fn tls_fingerprint(&self) -> Option<&str> {
        self.tls.as_ref().map(Tls::fingerprint)
    }

    /// The administrator's interface (console commands, also used by tests).
    pub fn admin(&self) -> Admin {
        Admin::new(Arc::clone(&self.ctx), self.shutdown.clone())
    }

    /// The search index, if searches use one (tests and the benchmark wait
    /// until it is ready).
    pub fn search_index(&self) -> Option<SearchIndex> {
        self.ctx.search.clone()
    }

    /// What the metrics endpoint reads when it is scraped.
    pub fn metrics_sources(&self) -> crate::metrics_http::Sources {
        crate::metrics_http::Sources {
            db: self.ctx.db.clone(),
            hub: self.ctx.hub.clone(),
            store: self.ctx.store.clone(),
            node: self.node.clone(),
            nats: self.bus.clone().map(|bus| {
                let up: std::sync::Arc<dyn Fn() -> bool + Send + Sync> =
                    std::sync::Arc::new(move || bus.nats_connected());
                up
            }),
        }
    }

    /// Cancel this token to shut the server down gracefully.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serve until the shutdown token is cancelled, then shut down gracefully.
    pub async fn run(self) -> Result<(), StartError> {
        let Self {
            listener,
            tls,
            ctx,
            writer,
            shutdown,
            close_store,
            bus,
            node: _,
        } = self;
        let addr = listener.local_addr()?;
        info!(%addr, "listening");
        let sessions = TaskTracker::new();
        let readers = TaskTracker::new();
        let slots = AddressSlots::new(ctx.config.max_connections_per_address);
        let rate = ConnectionRate::new(
            ctx.config.connection_rate_per_address,
            ctx.config.connection_burst_per_address,
        );
        let flush = CancellationToken::new();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        if let Err(e) = stream.set_nodelay(true) {
                            warn!(error = %e, "set_nodelay failed");
                        }
                        let deadline = ctx.config.auth_timeout;
                        let tls = tls.clone();
                        let slot = match door(&rate, &slots, peer) {
                            Door::Open(slot) => slot,
                            Door::Refuse(reply) => {
                                sessions.spawn(async move {
                                    if let Ok(stream) = Tls::start(tls.as_ref(), stream, deadline).await {
                                        refuse(stream, reply).await;
                                    }
                                });
                                continue;
                            }
                            Door::Close => continue,
                        };
                        let signals = Signals {
                            shutdown: shutdown.clone(),
                            flush: flush.clone(),
                            reading: readers.token(),
                        };
                        let ctx = Arc::clone(&ctx);
                        sessions.spawn(async move {
                            let _slot = slot;
                            let _open = crate::metrics::Open::gauge(crate::metrics::CONNECTIONS, &[]);
                            match Tls::start(tls.as_ref(), stream, deadline).await {
                                Ok(stream) => session::serve(stream, peer, ctx, signals).await,
                                Err(e) => debug!(%peer, error = %e, "connection closed before its first frame"),
                            }
                        });
                    }
                    Err(e) => {
                        // Out of file descriptors and the like: wait, don't spin.
                        error!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
            }
        }
        drop(listener);
        info!("shutting down: no new connections");
        // In a cluster the other nodes drop this node's users now.
        ctx.hub.stopping().await;
        let grace = ctx.config.shutdown_grace;
        readers.close();
        if tokio::time::timeout(grace, readers.wait()).await.is_err() {
            warn!("some sessions did not stop reading in time");
        }
        close_store.cancel();
        writer.finished().await;
        info!("every queued record is stored");
        if let Some(search) = &ctx.search
            && tokio::time::timeout(grace, search.close()).await.is_err()
        {
            warn!("the search index did not commit in time; the next start reads back the rest");
        }
        flush.cancel();
        sessions.close();
        if tokio::time::timeout(grace, sessions.wait()).await.is_err() {
            warn!("some sessions did not close in time");
        }
        if let Some(bus) = bus {
            // The last batches and leaves reach the other nodes now, not at their timeout.
            if tokio::time::timeout(grace, bus.flush()).await.is_err() {
                warn!("NATS did not take the last messages in time");
            }
        }
        if let Err(e) = ctx.db.clone().close().await {
            warn!(error = %e, "closing the database pool failed");
        }
        info!("stopped");
        Ok(())
    }
}

/// Pending connections the kernel queues for `accept`. Large, because clients come back
/// all at once after a restart, while the server is still opening its database: with
/// tokio's default of 128, the rest of their SYNs are dropped and each waits a full
/// second for the kernel's retransmit. (The kernel caps it at `net.core.somaxconn`.)
const LISTEN_BACKLOG: u32 = 4096;

/// A listening socket on `addr` with [`LISTEN_BACKLOG`], reusable at once after a
/// restart (SO_REUSEADDR).
fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// What becomes of a new connection.
enum Door {
    /// Served, holding a slot of its address.
    Open(Slot),
    /// Told why it is refused (after the TLS handshake), then closed.
    Refuse(ErrorReply),
    /// Closed at once, with no handshake and no frame: its address opens connections
    /// too fast and was told so already.
    Close,
}

/// Judge a new connection from `peer`: first its address's rate, then its slots.
fn door(rate: &ConnectionRate, slots: &AddressSlots, peer: SocketAddr) -> Door {
    match rate.admit(peer.ip()) {
        Admission::Admit => match slots.take(peer.ip()) {
            Some(slot) => Door::Open(slot),
            None => Door::Refuse(too_many_connections(peer)),
        },
        Admission::Refuse { retry_after, tell } => {
            metrics::counter!(crate::metrics::RATE_LIMITED, "limit" => "connections").increment(1);
            if tell {
                Door::Refuse(connecting_too_fast(peer, retry_after))
            } else {
                Door::Close
            }
        }
    }
}

/// Start on `listener` and serve until `shutdown` completes: the library entry
/// point (`main` only parses flags, sets up logging and calls this).
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let server = Server::start(listener, config).await?;
    let token = server.shutdown_token();
    tokio::spawn(async move {
        shutdown.await;
        token.cancel();
    });
    server.run().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_default_server_announces_the_protocol_default_limits() {
        assert_eq!(limits(&Config::default()), Limits::default());
    }
}
