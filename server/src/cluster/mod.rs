//! Several server nodes sharing one chat (`--nats-url`).
//!
//! The database is the source of truth: every node stores into the same
//! PostgreSQL or MySQL database; their writers take turns per conversation
//! (its clock, see [`crate::db::clocks`]), so batches for different
//! conversations commit at the same time. NATS carries what the nodes tell
//! each other ([`wire`]) over one subject per cluster ([`bus`]): committed
//! batches, which every node delivers in each conversation's id order
//! ([`sequencer`]); events that are not stored (file shares, game events,
//! group notices); and presence: joins, leaves, heartbeats and snapshots, from
//! which each hub knows who is online elsewhere ([`roster`], the hub's
//! [`crate::hub::OtherNodes`], over the table kept in [`presence`]). The game table
//! lives on one node, the oldest alive, and the others forward game requests
//! to it ([`games`]). A data connection may reach a node other than the one
//! that issued its ticket ([`tickets`]). docs/ARCHITECTURE.md tells the whole
//! design.

pub mod bus;
pub mod games;
pub mod presence;
pub mod roster;
pub mod sequencer;
pub mod tickets;
pub mod wire;

use std::sync::Arc;

use chatroom_shared::UnixMillis;
use futures_util::StreamExt;
use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::config::Config;
use crate::delivery::Deliver;
use crate::files::TicketsElsewhere;
use crate::files::tickets::Tickets;
use crate::games::{Desk, Games, Mirror};
use crate::hub::Hub;
use crate::search::SearchIndex;
use bus::{Bus, BusError};
use roster::{ClusterLink, Remote, Roster};
use sequencer::{Sequencer, SequencerConfig};
use wire::{Body, Envelope};

/// A node joining a cluster, between its two steps: [`Joining::connect`]
/// (before the store starts: the hub with the other nodes' part, and the
/// sequencer the store delivers through) and [`Joining::start`] (once the
/// local games run: routing, ticket claims, and the receiver).
pub struct Joining {
    node: String,
    started: UnixMillis,
    bus: Bus,
    incoming: async_nats::Subscriber,
    sequencer: Sequencer,
}

/// What the core gets from a node that joined: the parts it plugs in.
pub struct Joined {
    /// Game requests, to the table's owner wherever it runs.
    pub games: Desk,
    /// Tickets issued by other nodes, claimed from them.
    pub tickets: Arc<dyn TicketsElsewhere>,
    /// The first connection id here (ids are unique across the cluster).
    pub first_session: u64,
}

impl Joining {
    /// Connect to NATS and start this node's hub with the cluster's roster,
    /// and the sequencer that delivers stored batches in order from the next
    /// id stored.
    pub async fn connect(
        url: &str,
        config: &Config,
        node: String,
        started: UnixMillis,
        db: &DatabaseConnection,
        search: Option<SearchIndex>,
    ) -> Result<(Hub, Self), JoinError> {
        let (bus, incoming) = Bus::connect(url, &config.cluster_name, &node).await?;
        info!(%node, cluster = %config.cluster_name, nats = %url, "joining the cluster");
        let roster = Roster::new(
            node.clone(),
            ClusterLink {
                bus: bus.clone(),
                heartbeat: config.node_heartbeat,
                timeout: config.node_timeout,
                started,
                snapshot_part_users: config.faults.presence_part_users(presence::USERS_PER_PART),
            },
        );
        let hub = Hub::start_node(
            node.clone(),
            Some(Box::new(roster)),
            config.presence_broadcast_max,
            usize::try_from(config.history_count).unwrap_or(usize::MAX),
        );
        let floor = crate::db::history::max_id(db).await?;
        // A single server may have stored messages without the id counter.
        crate::db::clocks::raise_ids(db, floor).await?;
        let sequencer = Sequencer::start(
            db.clone(),
            hub.clone(),
            bus.clone(),
            search,
            SequencerConfig {
                floor,
                started,
                heartbeat: config.node_heartbeat,
                timeout: config.node_timeout,
                unpublished: config.faults.unpublished_batches(),
            },
        );
        let joining = Self {
            node,
            started,
            bus,
            incoming,
            sequencer,
        };
        Ok((hub, joining))
    }

    /// Where the store hands its committed batches.
    pub fn deliver(&self) -> Arc<dyn Deliver> {
        Arc::new(self.sequencer.clone())
    }

    /// Where the game table's changes are copied (to the other nodes).
    pub fn mirror(&self) -> Box<dyn Mirror> {
        Box::new(games::TableCopies(self.bus.clone()))
    }

    /// The link to the other nodes, flushed at shutdown.
    pub fn bus(&self) -> Bus {
        self.bus.clone()
    }

    /// Start routing games and tickets and receiving from the other nodes.
    pub fn start(
        self,
        config: &Config,
        hub: Hub,
        local_games: Games,
        tickets: Tickets,
        shutdown: CancellationToken,
    ) -> Joined {
        let router = games::Router::new(
            self.node.clone(),
            self.started,
            config.node_heartbeat,
            self.bus.clone(),
            hub.clone(),
        );
        let inbox = games::Inbox::new(Arc::clone(&router), local_games.clone());
        let claims = tickets::Claims::new(self.node.clone(), self.bus.clone(), tickets);
        let desk = Desk::routed(local_games, router);
        let watcher = desk.clone();
        let every = config.node_heartbeat;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = tick.tick() => watcher.check_owner().await,
                    () = shutdown.cancelled() => break,
                }
            }
        });
        spawn_receiver(
            self.incoming,
            self.node,
            Receivers {
                hub,
                sequencer: self.sequencer,
                games: inbox,
                tickets: Arc::clone(&claims),
            },
        );
        Joined {
            games: desk,
            tickets: claims,
            first_session: (u64::from(rand::random::<u32>()) << 32) | 1,
        }
    }
}

/// Why a node could not join its cluster.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    /// NATS could not be reached.
    #[error(transparent)]
    Bus(#[from] BusError),
    /// The database could not be read.
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
}

/// The default node id: this host's name and the listening port.
pub fn default_node_id(port: u16) -> String {
    let host = gethostname::gethostname();
    format!("{}:{port}", host.to_string_lossy())
}

/// Where the receiver hands what the other nodes say.
pub struct Receivers {
    /// Presence and events for this node's sessions.
    pub hub: Hub,
    /// Stored batches, to deliver in order.
    pub sequencer: Sequencer,
    /// Game requests forwarded to this node, and their answers.
    pub games: games::Inbox,
    /// Transfer tickets claimed by or handed over to this node.
    pub tickets: std::sync::Arc<tickets::Claims>,
}

/// Start the task that receives from the other nodes.
pub fn spawn_receiver(mut incoming: async_nats::Subscriber, node: String, to: Receivers) {
    tokio::spawn(async move {
        while let Some(msg) = incoming.next().await {
            let env: Envelope = match serde_json::from_slice(&msg.payload) {
                Ok(env) => env,
                Err(e) => {
                    warn!(error = %e, "unreadable message from the cluster; ignored");
                    continue;
                }
            };
            if env.from == node {
                continue;
            }
            if dispatch(env, &to).await.is_err() {
                break;
            }
        }
        debug!("cluster receiver stopped");
    });
}

/// Hand one message to the task it concerns; an error means the hub stopped.
async fn dispatch(env: Envelope, to: &Receivers) -> Result<(), crate::hub::HubGone> {
    let from = env.from;
    let remote = match env.body {
        Body::Stored(batch) => {
            to.sequencer.remote(from, batch).await;
            return Ok(());
        }
        Body::Tail(tail) => {
            to.sequencer.tail(from, tail).await;
            return Ok(());
        }
        Body::Publish(events) => {
            let events = events
                .into_iter()
                .map(wire::WireEvent::into_event)
                .collect();
            return to.hub.deliver_here(events).await;
        }
        Body::Game(message) => {
            to.games.receive(from, message).await;
            return Ok(());
        }
        Body::Ticket(message) => {
            to.tickets.receive(from, message);
            return Ok(());
        }
        Body::Join {
            version,
            user,
            replaces,
        } => Remote::Join {
            node: from,
            version,
            user,
            replaces,
        },
        Body::Leave {
            version,
            uid,
            session,
            reason,
        } => Remote::Leave {
            node: from,
            version,
            uid,
            session,
            reason,
        },
        Body::Heartbeat { version, started } => Remote::Heartbeat {
            node: from,
            version,
            started,
        },
        Body::SnapshotRequest { node } => Remote::SnapshotRequest { node },
        Body::Snapshot {
            part,
            parts,
            version,
            started,
            users,
        } => Remote::Snapshot {
            node: from,
            part,
            parts,
            version,
            started,
            users,
        },
        Body::Kick { uid, kicked } => Remote::Kick { uid, kicked },
        Body::Stopping => Remote::Stopping { node: from },
    };
    to.hub.heard(Box::new(remote)).await
}
