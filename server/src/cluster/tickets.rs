//! Transfer tickets across nodes: a data connection may reach any node.
//!
//! A ticket is issued by the node the client's session is on and kept in that
//! node's memory ([`crate::files::tickets`]). Behind a load balancer without
//! address affinity, the client's data connection may land on another node.
//! That node, not knowing the ticket, asks the others for it; the node that
//! holds it redeems it (once, as always) and hands its plan over, and the
//! asking node serves the transfer from the shared data directory.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;
use tracing::{debug, info};

use super::bus::Bus;
use super::wire::{Body, TicketMessage};
use crate::files::tickets::{Plan, Tickets};

/// How long a node waits for another to hand over a ticket it does not know.
/// Every node answers at once if it holds the ticket; one that does not stays
/// silent, so an unknown ticket costs this long before it is refused.
const CLAIM_TIMEOUT: Duration = Duration::from_secs(1);

/// This node's side: its claims waiting for an answer, and its own tickets to
/// hand over when another node claims them.
#[derive(Debug)]
pub struct Claims {
    node: String,
    bus: Bus,
    tickets: Tickets,
    next_id: AtomicU64,
    waiting: Mutex<HashMap<u64, oneshot::Sender<Plan>>>,
}

impl Claims {
    /// Claims of node `node`, whose own tickets are `tickets`.
    pub fn new(node: String, bus: Bus, tickets: Tickets) -> Arc<Self> {
        Arc::new(Self {
            node,
            bus,
            tickets,
            next_id: AtomicU64::new(1),
            waiting: Mutex::new(HashMap::new()),
        })
    }

    fn waiting(&self) -> std::sync::MutexGuard<'_, HashMap<u64, oneshot::Sender<Plan>>> {
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Ask the other nodes for a ticket this node does not hold: its plan if one
    /// of them held it (now redeemed there), `None` if none answered in time.
    pub async fn claim_plan(&self, ticket: &str) -> Option<Plan> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.waiting().insert(id, tx);
        self.bus.try_send(Body::Ticket(TicketMessage::Claim {
            id,
            ticket: ticket.to_owned(),
        }));
        let plan = tokio::time::timeout(CLAIM_TIMEOUT, rx).await;
        self.waiting().remove(&id);
        plan.ok()?.ok()
    }

    /// One message from node `from`.
    pub fn receive(&self, from: String, message: TicketMessage) {
        match message {
            TicketMessage::Claim { id, ticket } => {
                if let Some(plan) = self.tickets.hand_over(&ticket) {
                    info!(to = %from, "transfer ticket handed over to another node");
                    self.bus.try_send(Body::Ticket(TicketMessage::HandedOver {
                        id,
                        to: from,
                        plan,
                    }));
                }
            }
            TicketMessage::HandedOver { id, to, plan } if to == self.node => {
                match self.waiting().remove(&id) {
                    Some(tx) => {
                        let _ = tx.send(plan);
                    }
                    // The claim gave up waiting: the ticket is used up, as if
                    // the client had come too late.
                    None => debug!(id, "late ticket hand-over dropped"),
                }
            }
            // For another node.
            TicketMessage::HandedOver { .. } => {}
        }
    }
}

/// The files of this node claim unknown tickets through the other nodes.
impl crate::files::TicketsElsewhere for Claims {
    fn claim<'a>(
        &'a self,
        ticket: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<Plan>> + Send + 'a>> {
        Box::pin(self.claim_plan(ticket))
    }
}
