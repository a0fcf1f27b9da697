//! The game table of a cluster: one node owns it, the others forward to it.
//!
//! "The first accept wins" holds on one node because one task decides every
//! game request in turn. A cluster keeps that rule by having one such task for
//! everyone: the owner is the oldest live node (earliest start, then lowest
//! id), which every node works out alike from the heartbeats; a node that just
//! started waits two heartbeats to hear of the others before it decides. The
//! owner sends game events through its hub, which reaches every node, and
//! copies its table to every node after each change. If the owner dies, the
//! next oldest takes over from that copy: games in play go on, and whoever was
//! on the dead node has the reconnect grace to come back (docs/ARCHITECTURE.md).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chatroom_shared::ErrorCode;
use chatroom_shared::UnixMillis;
use chatroom_shared::message::GameView;
use tokio::sync::oneshot;
use tokio::time::Instant;
use tracing::debug;

use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use tracing::{info, warn};

use super::bus::Bus;
use super::wire::{Body, GameMessage};
use crate::games::desk::ListAnswer;
use crate::games::table::{Answer, Player, Snapshot};
use crate::games::{Games, Mirror, Request, Route};
use crate::hub::Hub;

/// How long a node waits for the owner's answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

/// Who this node last found owning the game table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// Not worked out yet.
    Unknown,
    /// This node.
    Me,
    /// Another node.
    Other(String),
}

/// What a change of owner asks of this node's own table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handover {
    /// Nothing.
    None,
    /// This node has become the owner after `0`: go on from its last copy.
    TakeOver(String),
    /// Another node owns the table now (after a partition, or news of an older
    /// node that came late): this node's own games are stale; drop them.
    GiveUp(String),
}

impl Owner {
    /// The owner is now `now` (`None`: this node); returns what that asks of
    /// this node's table, and remembers it.
    pub fn change(&mut self, now: Option<&str>) -> Handover {
        let next = now.map_or(Self::Me, |n| Self::Other(n.to_owned()));
        let handover = match (&*self, &next) {
            (Self::Other(before), Self::Me) => Handover::TakeOver(before.clone()),
            (Self::Me, Self::Other(after)) => Handover::GiveUp(after.clone()),
            _ => Handover::None,
        };
        *self = next;
        handover
    }
}

enum Waiting {
    Answer(oneshot::Sender<Answer>),
    List(oneshot::Sender<Vec<GameView>>),
}

/// This node's side of the cluster's game table: who owns it, and the questions
/// waiting for its answers.
pub struct Router {
    node: String,
    started: UnixMillis,
    /// No decision about the owner before this: the node must hear of the others first.
    settled_at: Instant,
    bus: Bus,
    hub: Hub,
    next_id: AtomicU64,
    waiting: Mutex<HashMap<u64, Waiting>>,
    /// Who this node last found owning the table. Held while working the owner
    /// out, so a takeover reaches the table before any request that follows it.
    last_owner: tokio::sync::Mutex<Owner>,
    /// The last table each owner sent.
    snapshots: Mutex<HashMap<String, Snapshot>>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router").field("node", &self.node).finish()
    }
}

fn unavailable() -> (ErrorCode, String) {
    (
        ErrorCode::ServerBusy,
        "the game service did not answer; try again".to_owned(),
    )
}

impl Router {
    /// A router for node `node`, started at `started`, hearing of the others within
    /// `heartbeat`.
    pub fn new(
        node: String,
        started: UnixMillis,
        heartbeat: Duration,
        bus: Bus,
        hub: Hub,
    ) -> Arc<Self> {
        Arc::new(Self {
            node,
            started,
            settled_at: Instant::now() + heartbeat * 2,
            bus,
            hub,
            next_id: AtomicU64::new(1),
            waiting: Mutex::new(HashMap::new()),
            last_owner: tokio::sync::Mutex::new(Owner::Unknown),
            snapshots: Mutex::new(HashMap::new()),
        })
    }

    /// The node that owns the game table now; `None` when it is this one.
    async fn current_owner(&self) -> Option<String> {
        tokio::time::sleep_until(self.settled_at).await;
        let nodes = self.hub.nodes().await.unwrap_or_default();
        let oldest = nodes
            .into_iter()
            .chain(std::iter::once((self.node.clone(), self.started)))
            .min_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)))?;
        (oldest.0 != self.node).then_some(oldest.0)
    }

    /// The owner now, after telling this node's table (`local`) when the
    /// table came to it or went from it. The last owner is held meanwhile,
    /// so a takeover reaches the table before any request that follows it.
    async fn owner_now(&self, local: &Games) -> Option<String> {
        let mut last = self.last_owner.lock().await;
        let owner = self.current_owner().await;
        match last.change(owner.as_deref()) {
            Handover::None => {}
            Handover::TakeOver(previous) => {
                let snapshot = self.snapshot_of(&previous);
                let online: HashMap<i64, u64> = self
                    .hub
                    .online()
                    .await
                    .unwrap_or_default()
                    .into_iter()
                    .map(|e| (e.uid, e.session))
                    .collect();
                info!(from = %previous, "taking over the cluster's game table");
                local.restore(snapshot, online).await;
            }
            Handover::GiveUp(to) => {
                warn!(owner = %to, "another node owns the game table now; this node's games are dropped");
                local.restore(None, HashMap::new()).await;
            }
        }
        drop(last);
        owner
    }

    /// The last table `node` sent while it owned the games.
    fn snapshot_of(&self, node: &str) -> Option<Snapshot> {
        self.snapshots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(node)
            .cloned()
    }

    /// The link to the other nodes.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    fn waiting(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Waiting>> {
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Ask the owner to carry out a request.
    async fn ask(&self, owner: String, who: Player, request: Request) -> Answer {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.waiting().insert(id, Waiting::Answer(tx));
        self.bus.try_send(Body::Game(GameMessage::Request {
            id,
            to: owner,
            who,
            request,
        }));
        let answer = tokio::time::timeout(ANSWER_TIMEOUT, rx).await;
        self.waiting().remove(&id);
        match answer {
            Ok(Ok(answer)) => answer,
            _ => Err(unavailable()),
        }
    }

    /// Ask the owner for a page of its games: up to `n` with ids above `after`.
    async fn ask_list(&self, owner: String, after: Option<i64>, n: usize) -> ListAnswer {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.waiting().insert(id, Waiting::List(tx));
        self.bus.try_send(Body::Game(GameMessage::List {
            id,
            to: owner,
            after,
            limit: Some(n),
        }));
        let games = tokio::time::timeout(ANSWER_TIMEOUT, rx).await;
        self.waiting().remove(&id);
        match games {
            // An owner from before paging sends every game: keep the page.
            Ok(Ok(games)) => Ok(games
                .into_iter()
                .filter(|g| after.is_none_or(|a| g.id > a))
                .take(n)
                .collect()),
            _ => Err(unavailable()),
        }
    }
}

/// The cluster's side of the games' seam: requests go to the owner of the
/// table, over NATS when it is another node.
impl Route for Router {
    fn owner<'a>(&'a self, local: &'a Games) -> BoxFuture<'a, Option<String>> {
        self.owner_now(local).boxed()
    }

    fn request(&self, owner: String, who: Player, request: Request) -> BoxFuture<'_, Answer> {
        self.ask(owner, who, request).boxed()
    }

    fn list(&self, owner: String, after: Option<i64>, n: usize) -> BoxFuture<'_, ListAnswer> {
        self.ask_list(owner, after, n).boxed()
    }

    fn presence(&self, owner: String, uid: i64, session: u64, online: bool) {
        self.bus.try_send(Body::Game(GameMessage::Presence {
            to: owner,
            uid,
            session,
            online,
        }));
    }
}

/// Copies the owner's table to every node after each change.
pub struct TableCopies(pub Bus);

impl Mirror for TableCopies {
    fn copy(&self, snapshot: Snapshot) {
        self.0.try_send(Body::Game(GameMessage::Table { snapshot }));
    }
}

/// Where game traffic from the other nodes arrives.
#[derive(Clone, Debug)]
pub struct Inbox {
    router: Arc<Router>,
    /// This node's own game table.
    local: Games,
}

impl Inbox {
    /// The inbox of `router`'s node, whose own table is `local`.
    pub fn new(router: Arc<Router>, local: Games) -> Self {
        Self { router, local }
    }

    /// One message from node `from`.
    pub async fn receive(&self, from: String, message: GameMessage) {
        let node = &self.router.node;
        match message {
            GameMessage::Request {
                id,
                to,
                who,
                request,
            } if &to == node => {
                let local = self.local.clone();
                let bus = self.router.bus.clone();
                // Answered beside the receiver, which must not wait for the game task.
                tokio::spawn(async move {
                    let answer = local.request(who, request).await;
                    bus.try_send(Body::Game(GameMessage::Answer {
                        id,
                        to: from,
                        answer,
                    }));
                });
            }
            GameMessage::List {
                id,
                to,
                after,
                limit,
            } if &to == node => {
                let local = self.local.clone();
                let bus = self.router.bus.clone();
                tokio::spawn(async move {
                    let n = limit.unwrap_or(usize::MAX);
                    let games = local.list(after, n).await.unwrap_or_default();
                    bus.try_send(Body::Game(GameMessage::Listed {
                        id,
                        to: from,
                        games,
                    }));
                });
            }
            GameMessage::Presence {
                to,
                uid,
                session,
                online,
            } if &to == node => {
                if online {
                    self.local.online(uid, session).await;
                } else {
                    self.local.offline_soon(uid, session);
                }
            }
            GameMessage::Answer { id, to, answer } if &to == node => {
                match self.router.waiting().remove(&id) {
                    Some(Waiting::Answer(tx)) => {
                        let _ = tx.send(answer);
                    }
                    _ => debug!(id, "late game answer dropped"),
                }
            }
            GameMessage::Listed { id, to, games } if &to == node => {
                match self.router.waiting().remove(&id) {
                    Some(Waiting::List(tx)) => {
                        let _ = tx.send(games);
                    }
                    _ => debug!(id, "late game list dropped"),
                }
            }
            GameMessage::Table { snapshot } => {
                self.router
                    .snapshots
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(from, snapshot);
            }
            // Addressed to another node (every node hears everything).
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_takes_the_table_over_only_from_another_and_gives_up_a_stale_one() {
        let mut o = Owner::Unknown;
        // Starting as the owner, or finding another at first: nothing to do.
        assert_eq!(o.change(Some("n1")), Handover::None);
        assert_eq!(o.change(Some("n1")), Handover::None);
        // n1 died: this node goes on from n1's copy.
        assert_eq!(o.change(None), Handover::TakeOver("n1".into()));
        assert_eq!(o.change(None), Handover::None);
        // An older node turns up after all: this node's games are stale.
        assert_eq!(o.change(Some("n0")), Handover::GiveUp("n0".into()));
        // Owners changing elsewhere ask nothing of this node.
        assert_eq!(o.change(Some("n2")), Handover::None);
        let mut fresh = Owner::Unknown;
        assert_eq!(fresh.change(None), Handover::None);
    }
}
