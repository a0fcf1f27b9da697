//! The hub: who is online, and fan-out of events to them.
//!
//! One task owns the table of online sessions; everything else talks to it
//! through a cloneable [`Hub`] handle over a bounded channel (the actor
//! pattern). This is the one seam through which sessions reach each other, so
//! a later version can put fan-out on a message bus without touching sessions.
//!
//! In a cluster (`--nats-url`) the hub also keeps who is online on the other
//! nodes ([`crate::cluster::presence`]), tells them about its own joins and
//! leaves over the bus, forwards what it publishes, and delivers what they
//! publish to its own sessions.
//!
//! Each session has a bounded outbox. The hub never waits on one: a full outbox
//! means the client is not reading, and the hub disconnects it (drops its end
//! of the outbox) instead of letting it grow memory or slow anybody else.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chatroom_shared::UnixMillis;
use chatroom_shared::message::{
    Kicked, LeaveReason, OnlineUser, ServerMessage, SessionReplaced, UserJoined, UserLeft,
};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use crate::cluster::bus::Bus;
use crate::cluster::presence::{Assembly, Peers, Sequence, USERS_PER_PART, parts};
use crate::cluster::wire::{Body, RemoteUser, SessionKey, WireEvent};

pub use crate::outbox::Delivery;
use crate::outbox::{Batch, CloseReason, Outbound, Outbox, PushError, encode_event};
use crate::time::now_ms;
use crate::untrusted::untrusted;

/// Commands queued for the hub before senders wait.
const HUB_QUEUE: usize = 4096;

/// A logged-in session as the hub sees it.
#[derive(Debug)]
pub struct SessionEntry {
    /// Unique per connection, so a stale `leave` from a replaced session is ignored.
    pub session_id: u64,
    /// Account id.
    pub uid: i64,
    /// Display name.
    pub name: String,
    /// Peer address, for the admin's `/users`.
    pub addr: SocketAddr,
    /// When the session logged in.
    pub since: UnixMillis,
    /// Where the session's events go.
    pub outbox: Outbox,
}

/// An online user, for the admin console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnlineEntry {
    /// Account id.
    pub uid: i64,
    /// The connection's id (unique across a cluster).
    pub session: u64,
    /// Display name.
    pub name: String,
    /// Peer address.
    pub addr: SocketAddr,
    /// Login time.
    pub since: UnixMillis,
    /// The server node the user is connected to.
    pub node: String,
}

/// What another node said that concerns presence, handed to the hub.
#[derive(Debug)]
pub enum Remote {
    /// A user logged in there.
    Join {
        /// The node.
        node: String,
        /// Its presence version after the change.
        version: u64,
        /// Who.
        user: RemoteUser,
        /// The session the login takes over, if the node knew of one.
        replaces: Option<SessionKey>,
    },
    /// A session there ended.
    Leave {
        /// The node.
        node: String,
        /// Its presence version after the change.
        version: u64,
        /// Account id.
        uid: i64,
        /// Which connection.
        session: u64,
        /// Why.
        reason: LeaveReason,
    },
    /// The node is alive.
    Heartbeat {
        /// The node.
        node: String,
        /// Its presence version.
        version: u64,
        /// When it started.
        started: UnixMillis,
    },
    /// Some node asks `node` for its presence table.
    SnapshotRequest {
        /// The node asked.
        node: String,
    },
    /// One part of a node's whole presence table.
    Snapshot {
        /// The node.
        node: String,
        /// Which part, from 0.
        part: u32,
        /// Of how many.
        parts: u32,
        /// Its presence version.
        version: u64,
        /// When it started.
        started: UnixMillis,
        /// Its users.
        users: Vec<RemoteUser>,
    },
    /// The node is shutting down: its users leave now.
    Stopping {
        /// The node.
        node: String,
    },
    /// Disconnect this account if it is here (an administrator elsewhere asked).
    Kick {
        /// Account id.
        uid: i64,
        /// What the user is told.
        kicked: Kicked,
    },
}

/// How the hub takes part in a cluster.
#[derive(Debug, Clone)]
pub struct ClusterLink {
    /// The link to the other nodes.
    pub bus: Bus,
    /// How often to send a heartbeat.
    pub heartbeat: Duration,
    /// How long a silent node lives on.
    pub timeout: Duration,
    /// When this node started.
    pub started: UnixMillis,
}

/// What a join did.
#[derive(Debug)]
pub struct Joined {
    /// Everyone online after the join, this user included, in login order.
    pub online: Vec<OnlineUser>,
    /// True when an older session of the same account was replaced.
    pub replaced: bool,
}

enum Command {
    Join {
        entry: SessionEntry,
        reply: oneshot::Sender<Joined>,
    },
    Leave {
        uid: i64,
        session_id: u64,
        reason: LeaveReason,
    },
    Publish(Vec<Delivery>),
    SendTo {
        uids: Vec<i64>,
        frame: bytes::Bytes,
    },
    Online {
        reply: oneshot::Sender<Vec<OnlineEntry>>,
    },
    Users {
        after: Option<String>,
        n: usize,
        reply: oneshot::Sender<Vec<OnlineUser>>,
    },
    Remove {
        uid: i64,
        kicked: Kicked,
        reply: oneshot::Sender<bool>,
    },
    Remote(Remote),
    Stopping,
    Nodes {
        reply: oneshot::Sender<Vec<(String, UnixMillis)>>,
    },
}

/// Handle to the hub task. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Hub {
    tx: mpsc::Sender<Command>,
    /// In a cluster: where events this node publishes go too.
    bus: Option<Bus>,
    /// Sessions in the table, kept by the hub task for readers that must not
    /// wait for it (the store writer spaces its batches by it).
    online: Arc<AtomicUsize>,
}

/// The hub task has stopped (only during shutdown).
#[derive(Debug, thiserror::Error)]
#[error("the hub has stopped")]
pub struct HubGone;

impl Hub {
    /// Start the hub task of a single server and return its handle.
    pub fn start() -> Self {
        Self::start_node("local".to_owned(), None)
    }

    /// Start the hub task of node `node`, in a cluster when `cluster` is given.
    pub fn start_node(node: String, cluster: Option<ClusterLink>) -> Self {
        let (tx, rx) = mpsc::channel(HUB_QUEUE);
        let online = Arc::new(AtomicUsize::new(0));
        let bus = cluster.as_ref().map(|c| c.bus.clone());
        let task = HubTask {
            online: Arc::clone(&online),
            node,
            cluster: cluster.map(|link| Cluster {
                // Versions start from the start time, so the changes of a node
                // restarted under the same id never pass for old ones.
                version: u64::try_from(link.started)
                    .unwrap_or(0)
                    .saturating_mul(1000),
                link,
                peers: Peers::default(),
                assembly: Assembly::default(),
                stopping: false,
            }),
            ..HubTask::default()
        };
        tokio::spawn(task.run(rx));
        Self { tx, bus, online }
    }

    /// How many sessions are online now, without asking the hub task.
    pub fn online_count(&self) -> usize {
        self.online.load(Ordering::Relaxed)
    }

    async fn send(&self, cmd: Command) -> Result<(), HubGone> {
        self.tx.send(cmd).await.map_err(|_| HubGone)
    }

    /// Put a freshly logged-in session in the main room. Replaces (and closes)
    /// an older session of the same account without a leave/join notice;
    /// otherwise everyone else gets `user_joined`.
    pub async fn join(&self, entry: SessionEntry) -> Result<Joined, HubGone> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Join { entry, reply }).await?;
        rx.await.map_err(|_| HubGone)
    }

    /// A session ended. Ignored if that session was already replaced or removed.
    pub async fn leave(&self, uid: i64, session_id: u64, reason: LeaveReason) {
        let _ = self
            .send(Command::Leave {
                uid,
                session_id,
                reason,
            })
            .await;
    }

    /// Like [`Hub::leave`] but usable from `Drop`: never waits.
    pub fn leave_soon(&self, uid: i64, session_id: u64, reason: LeaveReason) {
        let cmd = Command::Leave {
            uid,
            session_id,
            reason,
        };
        if let Err(mpsc::error::TrySendError::Full(cmd)) = self.tx.try_send(cmd) {
            // Only while a runtime is still running; at runtime teardown the
            // hub is going away too.
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                let tx = self.tx.clone();
                rt.spawn(async move {
                    let _ = tx.send(cmd).await;
                });
            }
        }
    }

    /// Deliver events to everyone online, in order (in a cluster: on every node).
    pub async fn publish(&self, deliveries: Vec<Delivery>) -> Result<(), HubGone> {
        if deliveries.is_empty() {
            return Ok(());
        }
        if let Some(bus) = &self.bus {
            let events = deliveries
                .iter()
                .filter_map(|d| WireEvent::from_delivery(d, None))
                .collect();
            bus.try_send(Body::Publish(events));
        }
        self.publish_local(deliveries).await
    }

    /// Deliver events to the sessions of this node only (what another node published,
    /// or stored messages in their turn).
    pub async fn publish_local(&self, deliveries: Vec<Delivery>) -> Result<(), HubGone> {
        if deliveries.is_empty() {
            return Ok(());
        }
        self.send(Command::Publish(deliveries)).await
    }

    /// Send one event to these accounts only (those online, on any node), e.g. a
    /// game's moves to its players and spectators.
    pub async fn send_to(&self, uids: Vec<i64>, frame: bytes::Bytes) -> Result<(), HubGone> {
        if let Some(bus) = &self.bus
            && let Some(raw) = crate::cluster::wire::raw(&frame)
        {
            bus.try_send(Body::SendTo {
                uids: uids.clone(),
                frame: raw,
            });
        }
        self.send_to_local(uids, frame).await
    }

    /// Send one event to those of these accounts online on this node.
    pub async fn send_to_local(&self, uids: Vec<i64>, frame: bytes::Bytes) -> Result<(), HubGone> {
        self.send(Command::SendTo { uids, frame }).await
    }

    /// Hand over what another node said about presence.
    pub async fn remote(&self, remote: Remote) -> Result<(), HubGone> {
        self.send(Command::Remote(remote)).await
    }

    /// This node is shutting down: the other nodes drop its users at once (instead
    /// of at their node timeout), and it stops taking part in presence.
    pub async fn stopping(&self) {
        let _ = self.send(Command::Stopping).await;
    }

    /// The other live nodes with their start times (empty for a single server).
    pub async fn nodes(&self) -> Result<Vec<(String, UnixMillis)>, HubGone> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Nodes { reply }).await?;
        rx.await.map_err(|_| HubGone)
    }

    /// Who is online now, on every node.
    pub async fn online(&self) -> Result<Vec<OnlineEntry>, HubGone> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Online { reply }).await?;
        rx.await.map_err(|_| HubGone)
    }

    /// A page of `users`: up to `n` of the users online now (on every node) whose
    /// names come after `after`, by name. Ranges of ordered maps, so its cost does
    /// not grow with the number online.
    pub async fn users(&self, after: Option<String>, n: usize) -> Result<Vec<OnlineUser>, HubGone> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Users { after, n, reply }).await?;
        rx.await.map_err(|_| HubGone)
    }

    /// Disconnect an account (kick or ban), on whichever node it is: it gets
    /// `kicked`, everyone else `user_left`. Returns false when it was not online.
    pub async fn remove(&self, uid: i64, kicked: Kicked) -> Result<bool, HubGone> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Remove { uid, kicked, reply }).await?;
        rx.await.map_err(|_| HubGone)
    }
}

#[derive(Default)]
struct HubTask {
    sessions: HashMap<i64, SessionEntry>,
    /// Login order, for a stable online list.
    order: Vec<i64>,
    /// This node's sessions by name, for pages of `users`.
    by_name: BTreeMap<String, i64>,
    /// `sessions.len()`, shared with [`Hub::online_count`].
    online: Arc<AtomicUsize>,
    /// This node's id.
    node: String,
    /// In a cluster: the link and the other nodes' users.
    cluster: Option<Cluster>,
}

/// The hub's part in a cluster.
struct Cluster {
    link: ClusterLink,
    /// Number of presence changes this node announced.
    version: u64,
    peers: Peers,
    /// Snapshots of other nodes arriving in parts.
    assembly: Assembly,
    /// Shutting down: no heartbeats, snapshots or presence changes any more.
    stopping: bool,
}

/// Whether a login somewhere (`incoming`) takes over the session `existing`:
/// when it names that session as the one it replaces (it was made knowing of
/// it), or else when it is the later one (logins at two nodes at once: both
/// nodes and every other one decide alike).
fn takes_over(
    incoming: (&SessionKey, UnixMillis),
    replaces: Option<&SessionKey>,
    existing: (&SessionKey, UnixMillis),
) -> bool {
    replaces == Some(existing.0)
        || (incoming.1, &incoming.0.node, incoming.0.session)
            > (existing.1, &existing.0.node, existing.0.session)
}

impl HubTask {
    async fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        let beat = self
            .cluster
            .as_ref()
            .map_or(Duration::from_secs(3600), |c| c.link.heartbeat);
        let mut heartbeat = tokio::time::interval(beat);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let cmd = tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(cmd) => cmd,
                    None => break,
                },
                _ = heartbeat.tick(), if self.cluster.is_some() => {
                    self.beat();
                    continue;
                }
            };
            match cmd {
                Command::Join { entry, reply } => {
                    let joined = self.join(entry);
                    let _ = reply.send(joined);
                }
                Command::Leave {
                    uid,
                    session_id,
                    reason,
                } => {
                    if self
                        .sessions
                        .get(&uid)
                        .is_some_and(|s| s.session_id == session_id)
                    {
                        self.drop_session(uid, reason);
                    }
                }
                Command::Publish(deliveries) => self.publish(deliveries),
                Command::SendTo { uids, frame } => self.send_to(&uids, &frame),
                Command::Online { reply } => {
                    let _ = reply.send(self.online_entries());
                }
                Command::Users { after, n, reply } => {
                    let _ = reply.send(self.users_page(after.as_deref(), n));
                }
                Command::Remove { uid, kicked, reply } => {
                    let mut found = self.kick(uid, kicked.clone());
                    if !found
                        && let Some(c) = &self.cluster
                        && c.peers.find(uid).is_some()
                    {
                        // Its node disconnects it and tells everyone it left.
                        c.link.bus.try_send(Body::Kick { uid, kicked });
                        found = true;
                    }
                    let _ = reply.send(found);
                }
                Command::Remote(remote) => self.remote(remote),
                Command::Stopping => {
                    if let Some(c) = &mut self.cluster
                        && !c.stopping
                    {
                        c.stopping = true;
                        c.link.bus.try_send(Body::Stopping);
                    }
                }
                Command::Nodes { reply } => {
                    let nodes = self.cluster.as_ref().map_or_else(Vec::new, |c| {
                        c.peers.nodes().map(|(n, s)| (n.to_owned(), s)).collect()
                    });
                    let _ = reply.send(nodes);
                }
            }
        }
        debug!("hub stopped");
    }

    /// Disconnect a local session (kick or ban); false when it is not here.
    fn kick(&mut self, uid: i64, kicked: Kicked) -> bool {
        let reason = if kicked.banned {
            LeaveReason::Banned
        } else {
            LeaveReason::Kicked
        };
        let Some(s) = self.sessions.get(&uid) else {
            return false;
        };
        let frame = encode_event(&ServerMessage::Kicked(kicked));
        let _ = s.outbox.push(Outbound::Frames(frame));
        let _ = s.outbox.push(Outbound::Close(CloseReason::Kicked));
        self.drop_session(uid, reason);
        true
    }

    /// Everyone online here and on the other nodes, in login order.
    fn online_entries(&self) -> Vec<OnlineEntry> {
        let mut list: Vec<OnlineEntry> = self
            .order
            .iter()
            .filter_map(|uid| self.sessions.get(uid))
            .map(|s| OnlineEntry {
                uid: s.uid,
                session: s.session_id,
                name: s.name.clone(),
                addr: s.addr,
                since: s.since,
                node: self.node.clone(),
            })
            .collect();
        if let Some(c) = &self.cluster {
            list.extend(c.peers.users().map(|(node, u)| OnlineEntry {
                uid: u.uid,
                session: u.session,
                name: u.name.clone(),
                addr: u.addr,
                since: u.since,
                node: node.to_owned(),
            }));
            // Stable: this node's own users keep their order among equal times.
            list.sort_by_key(|e| e.since);
        }
        list
    }

    /// Up to `n` users online here and on the other nodes whose names come after
    /// `after`, by name: the two ordered maps' ranges merged.
    fn users_page(&self, after: Option<&str>, n: usize) -> Vec<OnlineUser> {
        use std::ops::Bound::{Excluded, Unbounded};
        let from = after.map_or(Unbounded, Excluded);
        let local = self
            .by_name
            .range::<str, _>((from, Unbounded))
            .filter_map(|(_, uid)| self.sessions.get(uid))
            .map(|s| OnlineUser {
                name: s.name.clone(),
                since: s.since,
            });
        let mut page: Vec<OnlineUser> = match &self.cluster {
            None => local.take(n).collect(),
            Some(c) => {
                let remote = c.peers.users_after(after).map(|u| OnlineUser {
                    name: u.name.clone(),
                    since: u.since,
                });
                crate::paging::merge_by(local, remote, |u| u.name.clone(), n)
            }
        };
        page.truncate(n);
        page
    }

    /// Announce a presence change to the other nodes.
    fn announce(&mut self, change: impl FnOnce(u64) -> Body) {
        if let Some(c) = &mut self.cluster
            && !c.stopping
        {
            c.version += 1;
            c.link.bus.try_send(change(c.version));
        }
    }

    /// Heartbeat: tell the others this node lives; forget the nodes that went silent.
    fn beat(&mut self) {
        let Some(c) = &mut self.cluster else {
            return;
        };
        if !c.stopping {
            c.link.bus.try_send(Body::Heartbeat {
                version: c.version,
                started: c.link.started,
            });
        }
        let gone = c.peers.expire(Instant::now(), c.link.timeout);
        let mut notices = Vec::new();
        for (node, users) in gone {
            warn!(%node, users = users.len(), "node silent too long; its users are gone");
            c.assembly.forget(&node);
            notices.extend(
                users
                    .into_iter()
                    .map(|u| left(u.name, LeaveReason::Disconnected)),
            );
        }
        if !notices.is_empty() {
            self.publish(notices);
        }
    }

    /// What another node said about presence.
    fn remote(&mut self, remote: Remote) {
        let Some(c) = &mut self.cluster else {
            return;
        };
        let now = Instant::now();
        match remote {
            Remote::Join {
                node,
                version,
                user,
                replaces,
            } => {
                if !self.in_sequence(&node, version, now) {
                    return;
                }
                self.remote_join(node, user, replaces);
            }
            Remote::Leave {
                node,
                version,
                uid,
                session,
                reason,
            } => {
                if !self.in_sequence(&node, version, now) {
                    return;
                }
                let Some(c) = &mut self.cluster else {
                    return;
                };
                if let Some(u) = c.peers.remove_session(&node, uid, session) {
                    self.publish(vec![left(u.name, reason)]);
                }
            }
            Remote::Heartbeat {
                node,
                version,
                started,
            } => {
                let new = c.peers.heard(&node, Some(started), now);
                if new {
                    info!(%node, "node joined the cluster");
                }
                if new || !c.peers.in_step(&node, version) {
                    c.link.bus.try_send(Body::SnapshotRequest { node });
                }
            }
            Remote::SnapshotRequest { node } => {
                if node == self.node && !c.stopping {
                    let users = self.sessions.values().map(remote_user).collect();
                    let split = parts(users, crate::fault::presence_part_users(USERS_PER_PART));
                    let count = u32::try_from(split.len()).unwrap_or(u32::MAX);
                    for (part, users) in (0..count).zip(split) {
                        c.link.bus.try_send(Body::Snapshot {
                            part,
                            parts: count,
                            version: c.version,
                            started: c.link.started,
                            users,
                        });
                    }
                }
            }
            Remote::Snapshot {
                node,
                part,
                parts,
                version,
                started,
                users,
            } => {
                let Some(users) = c.assembly.take(&node, version, part, parts, users) else {
                    return;
                };
                let sessions = &self.sessions;
                let (came, went) = c.peers.replace(
                    &node,
                    version,
                    started,
                    users,
                    |uid| sessions.contains_key(&uid),
                    now,
                );
                let mut notices: Vec<Delivery> = came
                    .into_iter()
                    .map(|u| joined(u.name, u.since, None))
                    .collect();
                notices.extend(
                    went.into_iter()
                        .map(|u| left(u.name, LeaveReason::Disconnected)),
                );
                if !notices.is_empty() {
                    self.publish(notices);
                }
            }
            Remote::Stopping { node } => {
                let users = c.peers.forget(&node);
                c.assembly.forget(&node);
                info!(%node, users = users.len(), "node shutting down; its users are gone");
                let notices: Vec<Delivery> = users
                    .into_iter()
                    .map(|u| left(u.name, LeaveReason::Disconnected))
                    .collect();
                if !notices.is_empty() {
                    self.publish(notices);
                }
            }
            Remote::Kick { uid, kicked } => {
                self.kick(uid, kicked);
            }
        }
    }

    /// Check a presence change's version; asks for a snapshot when one was missed.
    /// False when the change was seen already.
    fn in_sequence(&mut self, node: &str, version: u64, now: Instant) -> bool {
        let Some(c) = &mut self.cluster else {
            return false;
        };
        match c.peers.sequence(node, version, now) {
            Sequence::InOrder => true,
            Sequence::Missed => {
                c.link.bus.try_send(Body::SnapshotRequest {
                    node: node.to_owned(),
                });
                true
            }
            Sequence::Stale => false,
        }
    }

    /// A user logged in on another node.
    fn remote_join(&mut self, node: String, user: RemoteUser, replaces: Option<SessionKey>) {
        let incoming = SessionKey {
            node: node.clone(),
            session: user.session,
        };
        let uid = user.uid;
        if let Some(local) = self.sessions.get(&uid) {
            let existing = SessionKey {
                node: self.node.clone(),
                session: local.session_id,
            };
            if !takes_over(
                (&incoming, user.since),
                replaces.as_ref(),
                (&existing, local.since),
            ) {
                // Ours is the later login: that node closes its session when it hears of ours.
                return;
            }
            info!(user = %untrusted(&user.name), %node, "session taken over by a login on another node");
            if let Some(old) = self.sessions.remove(&uid) {
                self.by_name.remove(&old.name);
                let frame = encode_event(&ServerMessage::SessionReplaced(SessionReplaced {}));
                let _ = old.outbox.push(Outbound::Frames(frame));
                let _ = old.outbox.push(Outbound::Close(CloseReason::Replaced));
            }
            self.order.retain(|&u| u != uid);
            self.online.store(self.sessions.len(), Ordering::Relaxed);
            if let Some(c) = &mut self.cluster {
                c.peers.insert(&node, user);
            }
            return;
        }
        let Some(c) = &mut self.cluster else {
            return;
        };
        if let Some((other, current)) = c.peers.find(uid) {
            let existing = SessionKey {
                node: other.to_owned(),
                session: current.session,
            };
            if !takes_over(
                (&incoming, user.since),
                replaces.as_ref(),
                (&existing, current.since),
            ) {
                return;
            }
            // Moved: no notice, as for a login that replaces one on the same node.
            c.peers.insert(&node, user);
            return;
        }
        let notice = joined(user.name.clone(), user.since, None);
        c.peers.insert(&node, user);
        self.publish(vec![notice]);
    }

    fn join(&mut self, entry: SessionEntry) -> Joined {
        let uid = entry.uid;
        let name = entry.name.clone();
        let since = entry.since;
        let user = remote_user(&entry);
        // Online on another node: this login takes that session over.
        let taken_over = self
            .cluster
            .as_mut()
            .and_then(|c| c.peers.remove_uid(uid))
            .map(|(node, u)| SessionKey {
                node,
                session: u.session,
            });
        self.by_name.insert(name.clone(), uid);
        let replaced = match self.sessions.insert(uid, entry) {
            Some(old) => {
                info!(user = %untrusted(&name), "session replaced by a new login");
                let frame = encode_event(&ServerMessage::SessionReplaced(SessionReplaced {}));
                let _ = old.outbox.push(Outbound::Frames(frame));
                let _ = old.outbox.push(Outbound::Close(CloseReason::Replaced));
                true
            }
            None => {
                self.order.push(uid);
                false
            }
        };
        self.online.store(self.sessions.len(), Ordering::Relaxed);
        let replaced = replaced || taken_over.is_some();
        self.announce(|version| Body::Join {
            version,
            user,
            replaces: taken_over,
        });
        if !replaced {
            self.publish(vec![joined(name, since, Some(uid))]);
        }
        let online = self
            .online_entries()
            .into_iter()
            .map(|e| OnlineUser {
                name: e.name,
                since: e.since,
            })
            .collect();
        Joined { online, replaced }
    }

    /// Remove a session from the table and tell everyone else it left.
    fn drop_session(&mut self, uid: i64, reason: LeaveReason) {
        if let Some(notice) = self.remove_session(uid, reason) {
            self.publish(vec![notice]);
        }
    }

    /// Remove a session from the table; returns the `user_left` notice for
    /// the others. Dropping the entry drops the hub's end of the session's
    /// outbox, so the session drains what is queued and then closes.
    fn remove_session(&mut self, uid: i64, reason: LeaveReason) -> Option<Delivery> {
        let entry = self.sessions.remove(&uid)?;
        self.order.retain(|&u| u != uid);
        self.by_name.remove(&entry.name);
        self.online.store(self.sessions.len(), Ordering::Relaxed);
        self.announce(|version| Body::Leave {
            version,
            uid,
            session: entry.session_id,
            reason,
        });
        Some(left(entry.name, reason))
    }

    /// Queue one frame for some sessions; disconnect those that cannot keep up.
    /// (Accounts not online here are skipped: in a cluster they may be elsewhere.)
    fn send_to(&mut self, uids: &[i64], frame: &bytes::Bytes) {
        let mut notices = Vec::new();
        for uid in uids {
            let Some(session) = self.sessions.get(uid) else {
                continue;
            };
            if let Err(PushError::Full) = session.outbox.push(Outbound::Frames(frame.clone())) {
                let (items, bytes) = session.outbox.queued();
                warn!(uid, items, bytes, "client too slow; disconnecting");
                notices.extend(self.remove_session(*uid, LeaveReason::TooSlow));
            }
        }
        if !notices.is_empty() {
            self.publish(notices);
        }
    }

    /// Queue deliveries for every session, as one shared batch; disconnect
    /// the sessions that cannot keep up.
    fn publish(&mut self, deliveries: Vec<Delivery>) {
        let mut batch = Some(Batch::new(deliveries));
        while let Some(current) = batch.take() {
            let mut too_slow = Vec::new();
            for (uid, session) in &self.sessions {
                // Charged only for what it will write: not its own messages.
                let bytes = current.bytes_for(*uid);
                if bytes == 0 {
                    continue;
                }
                let item = Outbound::Batch {
                    batch: current.clone(),
                    bytes,
                };
                if let Err(PushError::Full) = session.outbox.push(item) {
                    let (items, bytes) = session.outbox.queued();
                    warn!(uid, items, bytes, "client too slow; disconnecting");
                    too_slow.push(*uid);
                }
                // PushError::Closed: the session is ending; its own leave follows.
            }
            // Tell the others about the sessions dropped here, in one more batch.
            let mut notices = Vec::new();
            for uid in too_slow {
                if let Some(d) = self.remove_session(uid, LeaveReason::TooSlow) {
                    notices.push(d);
                }
            }
            if !notices.is_empty() {
                batch = Some(Batch::new(notices));
            }
        }
    }
}

/// A session as the other nodes see it.
fn remote_user(s: &SessionEntry) -> RemoteUser {
    RemoteUser {
        uid: s.uid,
        name: s.name.clone(),
        addr: s.addr,
        since: s.since,
        session: s.session_id,
    }
}

/// The `user_joined` notice, for everyone but `except`.
fn joined(name: String, ts: UnixMillis, except: Option<i64>) -> Delivery {
    Delivery {
        frame: encode_event(&ServerMessage::UserJoined(UserJoined { name, ts })),
        message_id: None,
        except,
    }
}

/// The `user_left` notice, for everyone.
fn left(name: String, reason: LeaveReason) -> Delivery {
    Delivery {
        frame: encode_event(&ServerMessage::UserLeft(UserLeft {
            name,
            reason,
            ts: now_ms(),
        })),
        message_id: None,
        except: None,
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::outbox::outbox;

    fn entry(uid: i64, outbox: Outbox) -> SessionEntry {
        SessionEntry {
            session_id: u64::try_from(uid).unwrap(),
            uid,
            name: format!("user{uid}"),
            addr: "127.0.0.1:1".parse().unwrap(),
            since: 0,
            outbox,
        }
    }

    fn delivery(n: usize, except: Option<i64>) -> Delivery {
        Delivery {
            frame: Bytes::from(vec![b'x'; n]),
            message_id: None,
            except,
        }
    }

    #[test]
    fn a_login_named_as_the_replacement_wins_and_otherwise_the_later_one() {
        let key = |node: &str, session| SessionKey {
            node: node.into(),
            session,
        };
        let (a, b) = (key("a", 1), key("b", 7));
        // Made knowing of the other session: wins even with an earlier clock.
        assert!(takes_over((&b, 100), Some(&a), (&a, 200)));
        // Two logins at once: the later wins, on every node alike.
        assert!(takes_over((&b, 300), None, (&a, 200)));
        assert!(!takes_over((&a, 200), None, (&b, 300)));
        // Same time: the higher node id wins, whichever way round it is asked.
        assert!(takes_over((&b, 200), None, (&a, 200)));
        assert!(!takes_over((&a, 200), None, (&b, 200)));
    }

    #[tokio::test]
    async fn the_online_count_follows_joins_replacements_and_leaves() {
        let hub = Hub::start();
        assert_eq!(hub.online_count(), 0);
        let (a, _a_rx) = outbox(16, 1_000_000);
        let (b, _b_rx) = outbox(16, 1_000_000);
        let (b_again, _b_again_rx) = outbox(16, 1_000_000);
        hub.join(entry(1, a)).await.unwrap();
        hub.join(entry(2, b)).await.unwrap();
        assert_eq!(hub.online_count(), 2);
        // A second login of the same account replaces the first: still two.
        let mut again = entry(2, b_again);
        again.session_id = 20;
        assert!(hub.join(again).await.unwrap().replaced);
        assert_eq!(hub.online_count(), 2);
        hub.leave(1, 1, LeaveReason::Quit).await;
        // The hub handles commands in order: once it answers, the leave is done.
        assert_eq!(hub.online().await.unwrap().len(), 1);
        assert_eq!(hub.online_count(), 1);
    }

    #[tokio::test]
    async fn a_sender_is_not_charged_for_its_own_messages() {
        let hub = Hub::start();
        // A budget of 1000 bytes, and a batch of 5000 bytes of its own messages.
        let (tx, mut rx) = outbox(16, 1000);
        hub.join(entry(1, tx)).await.unwrap();
        let mut batch: Vec<_> = (0..10).map(|_| delivery(500, Some(1))).collect();
        batch.push(delivery(20, None));
        hub.publish(batch).await.unwrap();
        assert_eq!(hub.online().await.unwrap().len(), 1, "still online");
        match rx.recv().await {
            Some(Outbound::Batch { bytes, .. }) => assert_eq!(bytes, 20),
            other => panic!("expected a batch, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_session_over_its_budget_is_dropped_and_the_others_told() {
        let hub = Hub::start();
        let (slow_tx, _slow_rx) = outbox(16, 1000);
        let (ok_tx, mut ok_rx) = outbox(16, 1_000_000);
        hub.join(entry(1, slow_tx)).await.unwrap();
        hub.join(entry(2, ok_tx)).await.unwrap();
        hub.publish(vec![delivery(1500, None)]).await.unwrap();
        let online = hub.online().await.unwrap();
        let names: Vec<_> = online.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["user2"]);
        // user2's last frame tells it user1 left as too slow.
        let mut frames = Vec::new();
        while let Ok(Some(item)) = ok_rx.try_recv() {
            if let Outbound::Batch { batch, .. } = item {
                frames.extend(batch.deliveries.iter().map(|d| d.frame.clone()));
            }
        }
        let left = frames.last().unwrap();
        let msg: ServerMessage = serde_json::from_slice(&left[4..]).unwrap();
        assert!(
            matches!(&msg, ServerMessage::UserLeft(l) if l.name == "user1" && l.reason == LeaveReason::TooSlow),
            "{msg:?}"
        );
    }

    #[tokio::test]
    async fn pages_of_users_go_by_name_and_forget_who_left() {
        let hub = Hub::start();
        let mut keep = Vec::new();
        for uid in [3, 1, 12, 2] {
            let (tx, rx) = outbox(16, 1_000_000);
            keep.push(rx);
            hub.join(entry(uid, tx)).await.unwrap();
        }
        let names = |page: Vec<OnlineUser>| page.into_iter().map(|u| u.name).collect::<Vec<_>>();
        assert_eq!(
            names(hub.users(None, 3).await.unwrap()),
            ["user1", "user12", "user2"]
        );
        assert_eq!(
            names(hub.users(Some("user12".into()), 3).await.unwrap()),
            ["user2", "user3"]
        );
        hub.leave(2, 2, LeaveReason::Quit).await;
        assert_eq!(
            names(hub.users(Some("user12".into()), 3).await.unwrap()),
            ["user3"]
        );
    }
}
