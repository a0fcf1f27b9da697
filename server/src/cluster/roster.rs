//! The hub's part in a cluster ([`crate::hub::OtherNodes`]): who is online on
//! the other nodes, kept in step over the bus, and the events this node
//! relays to them.
//!
//! Each node numbers its presence changes (its version) and announces its
//! joins and leaves; a change out of sequence, or a heartbeat with another
//! version, makes this node ask for a snapshot ([`super::presence`] keeps the
//! table without IO). A login here takes over the account's session on any
//! other node; a login elsewhere takes over the session here by the same rule
//! on every node ([`takes_over`]).

use std::any::Any;
use std::time::{Duration, Instant};

use chatroom_shared::UnixMillis;
use chatroom_shared::message::{Kicked, LeaveReason, OnlineUser};
use tracing::{info, warn};

use super::bus::Bus;
use super::presence::{Assembly, Peers, Sequence, parts};
use super::wire::{Body, RemoteUser, SessionKey, WireEvent};
use crate::delivery::Event;
use crate::hub::presence::{Change, joined, left};
use crate::hub::sessions::Sessions;
use crate::hub::{OnlineEntry, OtherNodes, SessionEntry};
use crate::untrusted::untrusted;

/// What another node said that concerns presence, handed to the hub (which
/// passes it on to [`Roster`] without looking inside).
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

/// How a node takes part in cluster presence.
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
    /// Users per part of a presence snapshot.
    pub snapshot_part_users: usize,
}

/// The other nodes and their users, as one node's hub sees them.
pub struct Roster {
    /// This node's id.
    node: String,
    link: ClusterLink,
    /// Number of presence changes this node announced.
    version: u64,
    peers: Peers,
    /// Snapshots of other nodes arriving in parts.
    assembly: Assembly,
    /// Shutting down: no heartbeats, snapshots or presence changes any more.
    stopping: bool,
}

impl Roster {
    /// The roster of node `node`, talking over `link`.
    pub fn new(node: String, link: ClusterLink) -> Self {
        Self {
            node,
            // Versions start from the start time, so the changes of a node
            // restarted under the same id never pass for old ones.
            version: u64::try_from(link.started)
                .unwrap_or(0)
                .saturating_mul(1000),
            link,
            peers: Peers::default(),
            assembly: Assembly::default(),
            stopping: false,
        }
    }

    /// Announce a presence change to the other nodes.
    fn announce(&mut self, change: impl FnOnce(u64) -> Body) {
        if !self.stopping {
            self.version += 1;
            self.link.bus.try_send(change(self.version));
        }
    }

    /// Check a presence change's version; asks for a snapshot when one was missed.
    /// False when the change was seen already.
    fn in_sequence(&mut self, node: &str, version: u64, now: Instant) -> bool {
        match self.peers.sequence(node, version, now) {
            Sequence::InOrder => true,
            Sequence::Missed => {
                self.link.bus.try_send(Body::SnapshotRequest {
                    node: node.to_owned(),
                });
                true
            }
            Sequence::Stale => false,
        }
    }

    /// What another node said about presence; returns notices for the sessions here.
    fn remote(&mut self, remote: Remote, here: &mut Sessions) -> Vec<Change> {
        let now = Instant::now();
        match remote {
            Remote::Join {
                node,
                version,
                user,
                replaces,
            } => {
                if !self.in_sequence(&node, version, now) {
                    return Vec::new();
                }
                self.remote_join(node, user, replaces, here)
            }
            Remote::Leave {
                node,
                version,
                uid,
                session,
                reason,
            } => {
                if !self.in_sequence(&node, version, now) {
                    return Vec::new();
                }
                self.peers
                    .remove_session(&node, uid, session)
                    .map(|u| left(u.name, reason))
                    .into_iter()
                    .collect()
            }
            Remote::Heartbeat {
                node,
                version,
                started,
            } => {
                let new = self.peers.heard(&node, Some(started), now);
                if new {
                    info!(%node, "node joined the cluster");
                }
                if new || !self.peers.in_step(&node, version) {
                    self.link.bus.try_send(Body::SnapshotRequest { node });
                }
                Vec::new()
            }
            Remote::SnapshotRequest { node } => {
                if node == self.node && !self.stopping {
                    let users = here.iter().map(remote_user).collect();
                    let split = parts(users, self.link.snapshot_part_users);
                    let count = u32::try_from(split.len()).unwrap_or(u32::MAX);
                    for (part, users) in (0..count).zip(split) {
                        self.link.bus.try_send(Body::Snapshot {
                            part,
                            parts: count,
                            version: self.version,
                            started: self.link.started,
                            users,
                        });
                    }
                }
                Vec::new()
            }
            Remote::Snapshot {
                node,
                part,
                parts,
                version,
                started,
                users,
            } => {
                let Some(users) = self.assembly.take(&node, version, part, parts, users) else {
                    return Vec::new();
                };
                let (came, went) = self.peers.replace(
                    &node,
                    version,
                    started,
                    users,
                    |uid| here.get(uid).is_some(),
                    now,
                );
                let mut notices: Vec<Change> = came
                    .into_iter()
                    .map(|u| joined(u.name, u.since, None))
                    .collect();
                notices.extend(
                    went.into_iter()
                        .map(|u| left(u.name, LeaveReason::Disconnected)),
                );
                notices
            }
            Remote::Stopping { node } => {
                let users = self.peers.forget(&node);
                self.assembly.forget(&node);
                info!(%node, users = users.len(), "node shutting down; its users are gone");
                users
                    .into_iter()
                    .map(|u| left(u.name, LeaveReason::Disconnected))
                    .collect()
            }
            Remote::Kick { uid, kicked } => {
                let reason = if kicked.banned {
                    LeaveReason::Banned
                } else {
                    LeaveReason::Kicked
                };
                match here.kick(uid, kicked) {
                    Some(s) => {
                        self.left(&s, reason);
                        vec![left(s.name, reason)]
                    }
                    None => Vec::new(),
                }
            }
        }
    }

    /// A user logged in on another node; returns notices for the sessions here.
    fn remote_join(
        &mut self,
        node: String,
        user: RemoteUser,
        replaces: Option<SessionKey>,
        here: &mut Sessions,
    ) -> Vec<Change> {
        let incoming = SessionKey {
            node: node.clone(),
            session: user.session,
        };
        let uid = user.uid;
        if let Some(local) = here.get(uid) {
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
                return Vec::new();
            }
            info!(user = %untrusted(&user.name), %node, "session taken over by a login on another node");
            here.take_over(uid);
            self.peers.insert(&node, user);
            return Vec::new();
        }
        if let Some((other, current)) = self.peers.find(uid) {
            let existing = SessionKey {
                node: other.to_owned(),
                session: current.session,
            };
            if takes_over(
                (&incoming, user.since),
                replaces.as_ref(),
                (&existing, current.since),
            ) {
                // Moved: no notice, as for a login that replaces one on the same node.
                self.peers.insert(&node, user);
            }
            return Vec::new();
        }
        let notice = joined(user.name.clone(), user.since, None);
        self.peers.insert(&node, user);
        vec![notice]
    }
}

impl OtherNodes for Roster {
    fn tick_every(&self) -> Duration {
        self.link.heartbeat
    }

    /// Heartbeat: tell the others this node lives; forget the nodes that went silent.
    fn tick(&mut self) -> Vec<Change> {
        if !self.stopping {
            self.link.bus.try_send(Body::Heartbeat {
                version: self.version,
                started: self.link.started,
            });
        }
        let gone = self.peers.expire(Instant::now(), self.link.timeout);
        let mut notices = Vec::new();
        for (node, users) in gone {
            warn!(%node, users = users.len(), "node silent too long; its users are gone");
            self.assembly.forget(&node);
            notices.extend(
                users
                    .into_iter()
                    .map(|u| left(u.name, LeaveReason::Disconnected)),
            );
        }
        notices
    }

    fn joined(&mut self, session: &SessionEntry) -> bool {
        // Online on another node: this login takes that session over.
        let taken_over = self
            .peers
            .remove_uid(session.uid)
            .map(|(node, u)| SessionKey {
                node,
                session: u.session,
            });
        let took = taken_over.is_some();
        let user = remote_user(session);
        self.announce(|version| Body::Join {
            version,
            user,
            replaces: taken_over,
        });
        took
    }

    fn left(&mut self, session: &SessionEntry, reason: LeaveReason) {
        let (uid, session) = (session.uid, session.session_id);
        self.announce(|version| Body::Leave {
            version,
            uid,
            session,
            reason,
        });
    }

    fn relay(&mut self, events: &[Event]) {
        let wire: Vec<WireEvent> = events.iter().filter_map(WireEvent::from_event).collect();
        if !wire.is_empty() {
            self.link.bus.try_send(Body::Publish(wire));
        }
    }

    fn kick(&mut self, uid: i64, kicked: Kicked) -> bool {
        if self.peers.find(uid).is_none() {
            return false;
        }
        // Its node disconnects it and tells everyone it left.
        self.link.bus.try_send(Body::Kick { uid, kicked });
        true
    }

    fn stopping(&mut self) {
        if !self.stopping {
            self.stopping = true;
            self.link.bus.try_send(Body::Stopping);
        }
    }

    fn nodes(&self) -> Vec<(String, UnixMillis)> {
        self.peers.nodes().map(|(n, s)| (n.to_owned(), s)).collect()
    }

    fn online(&self) -> Vec<OnlineEntry> {
        self.peers
            .users()
            .map(|(node, u)| OnlineEntry {
                uid: u.uid,
                session: u.session,
                name: u.name.clone(),
                addr: u.addr,
                since: u.since,
                node: node.to_owned(),
            })
            .collect()
    }

    fn count(&self) -> usize {
        self.peers.count()
    }

    fn users_from<'a>(
        &'a self,
        from: std::ops::Bound<&'a str>,
    ) -> Box<dyn Iterator<Item = OnlineUser> + 'a> {
        Box::new(self.peers.users_from(from).map(|u| OnlineUser {
            name: u.name.clone(),
            since: u.since,
        }))
    }

    fn heard(&mut self, news: Box<dyn Any + Send>, here: &mut Sessions) -> Vec<Change> {
        match news.downcast::<Remote>() {
            Ok(remote) => self.remote(*remote, here),
            Err(_) => {
                warn!("the hub was handed news that is not about presence; ignored");
                Vec::new()
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
