//! Several server nodes sharing one chat (`--nats-url`).
//!
//! The database is the source of truth: every node stores into the same
//! PostgreSQL or MySQL database, and their writers take turns (the store lock,
//! see [`crate::store`]) so message ids are contiguous across the cluster. NATS
//! carries what the nodes tell each other ([`wire`]) over one subject per
//! cluster ([`bus`]): committed batches, which every node delivers in id order
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

use futures_util::StreamExt;
use tracing::{debug, warn};

use crate::hub::Hub;
use roster::Remote;
use sequencer::Sequencer;
use wire::{Body, Envelope};

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
            to.sequencer.remote(batch).await;
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
