//! The NATS link: one subject per cluster, `<cluster>.bus`, that every node
//! publishes to and subscribes to.
//!
//! One subject keeps each node's messages in the order it sent them (NATS
//! keeps a publisher's order per subject), which presence relies on. Sending
//! goes through a bounded queue to a publisher task, so the hub, which must
//! never wait, can hand over a message with [`Bus::try_send`]; so does
//! everything else, so that NATS being down never holds up a node's own chat.

use std::sync::Arc;

use tokio::sync::mpsc;
use tracing::{debug, warn};

use super::wire::{Body, Envelope};

/// Messages queued for NATS before senders wait (or, for `try_send`, drop).
const QUEUE: usize = 65_536;

/// Why the cluster link could not start.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// NATS could not be reached.
    #[error("cannot connect to NATS at {url}: {source}")]
    Connect {
        /// The URL.
        url: String,
        /// The cause.
        source: async_nats::ConnectError,
    },
    /// The subscription failed.
    #[error("cannot subscribe to {subject}: {source}")]
    Subscribe {
        /// The subject.
        subject: String,
        /// The cause.
        source: async_nats::SubscribeError,
    },
}

/// Handle for sending to the other nodes. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Bus {
    tx: mpsc::Sender<Out>,
    node: Arc<str>,
    /// The connection, for its state.
    client: async_nats::Client,
}

/// What the publisher task is handed.
#[derive(Debug)]
enum Out {
    /// Publish this.
    Body(Box<Body>),
    /// Tell when everything before has reached NATS.
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// The subject every node of `cluster` uses.
fn subject(cluster: &str) -> String {
    format!("{cluster}.bus")
}

impl Bus {
    /// Connect to NATS, subscribe to the cluster's subject and start publishing.
    /// Returns the handle and the incoming messages.
    pub async fn connect(
        url: &str,
        cluster: &str,
        node: &str,
    ) -> Result<(Self, async_nats::Subscriber), BusError> {
        let client = async_nats::ConnectOptions::new()
            .name(format!("chatroom-server {node}"))
            // Our own messages are never needed back.
            .no_echo()
            .connect(url)
            .await
            .map_err(|source| BusError::Connect {
                url: url.to_owned(),
                source,
            })?;
        let subject = subject(cluster);
        let incoming =
            client
                .subscribe(subject.clone())
                .await
                .map_err(|source| BusError::Subscribe {
                    subject: subject.clone(),
                    source,
                })?;
        let (tx, rx) = mpsc::channel(QUEUE);
        let node: Arc<str> = Arc::from(node);
        tokio::spawn(publish(client.clone(), subject, Arc::clone(&node), rx));
        Ok((Self { tx, node, client }, incoming))
    }

    /// Whether the connection to NATS is up now (for `/health`).
    pub fn nats_connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    /// This node's id.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Send to every other node, without ever waiting: a node whose NATS is gone
    /// keeps serving its own clients. A full queue (NATS unreachable for long) drops
    /// the message: the others notice from the presence version or the message ids
    /// and catch up from a snapshot or the database; an unanswered game request
    /// times out.
    pub fn try_send(&self, body: Body) {
        if let Err(mpsc::error::TrySendError::Full(_)) = self.tx.try_send(Out::Body(Box::new(body)))
        {
            warn!("cluster link queue full; a message to the other nodes was dropped");
        }
    }

    /// Wait until everything sent so far has reached the NATS server (at shutdown,
    /// so the others hear this node's last batches and leaves at once).
    pub async fn flush(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.tx.send(Out::Flush(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

/// The publisher task: encode each message once and hand it to NATS.
async fn publish(
    client: async_nats::Client,
    subject: String,
    node: Arc<str>,
    mut rx: mpsc::Receiver<Out>,
) {
    let subject = async_nats::Subject::from(subject);
    while let Some(out) = rx.recv().await {
        let body = match out {
            Out::Body(body) => *body,
            Out::Flush(done) => {
                if let Err(e) = client.flush().await {
                    warn!(error = %e, "cannot flush to NATS");
                }
                let _ = done.send(());
                continue;
            }
        };
        let envelope = Envelope {
            from: node.to_string(),
            body,
        };
        let payload = match serde_json::to_vec(&envelope) {
            Ok(p) => p,
            Err(e) => {
                warn!(error = %e, "cannot encode a message for the other nodes");
                continue;
            }
        };
        if let Err(e) = client.publish(subject.clone(), payload.into()).await {
            warn!(error = %e, "cannot publish to NATS");
        }
    }
    // Everything queued goes out before the server's process ends.
    let _ = client.flush().await;
    debug!("cluster publisher stopped");
}
