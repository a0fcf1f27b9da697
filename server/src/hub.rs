//! The hub: who is online, and fan-out of events to them.
//!
//! One task owns the table of online sessions; everything else talks to it
//! through a cloneable [`Hub`] handle over a bounded channel (the actor
//! pattern). This is the one seam through which sessions reach each other, so
//! a later version can put fan-out on a message bus without touching sessions.
//!
//! Each session has a bounded outbox. The hub never waits on one: a full outbox
//! means the client is not reading, and the hub disconnects it (drops its end
//! of the outbox) instead of letting it grow memory or slow anybody else.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chatroom_shared::UnixMillis;
use chatroom_shared::message::{
    Kicked, LeaveReason, OnlineUser, ServerMessage, SessionReplaced, UserJoined, UserLeft,
};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

pub use crate::outbox::Delivery;
use crate::outbox::{Batch, CloseReason, Outbound, Outbox, PushError, encode_event};
use crate::time::now_ms;

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
    /// Display name.
    pub name: String,
    /// Peer address.
    pub addr: SocketAddr,
    /// Login time.
    pub since: UnixMillis,
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
    Remove {
        uid: i64,
        kicked: Kicked,
        reply: oneshot::Sender<bool>,
    },
}

/// Handle to the hub task. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Hub {
    tx: mpsc::Sender<Command>,
    /// Sessions in the table, kept by the hub task for readers that must not
    /// wait for it (the store writer spaces its batches by it).
    online: Arc<AtomicUsize>,
}

/// The hub task has stopped (only during shutdown).
#[derive(Debug, thiserror::Error)]
#[error("the hub has stopped")]
pub struct HubGone;

impl Hub {
    /// Start the hub task and return its handle.
    pub fn start() -> Self {
        let (tx, rx) = mpsc::channel(HUB_QUEUE);
        let online = Arc::new(AtomicUsize::new(0));
        let task = HubTask {
            online: Arc::clone(&online),
            ..HubTask::default()
        };
        tokio::spawn(task.run(rx));
        Self { tx, online }
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

    /// Deliver events to everyone online, in order.
    pub async fn publish(&self, deliveries: Vec<Delivery>) -> Result<(), HubGone> {
        if deliveries.is_empty() {
            return Ok(());
        }
        self.send(Command::Publish(deliveries)).await
    }

    /// Send one event to these accounts only (those online), e.g. a game's moves to
    /// its players and spectators.
    pub async fn send_to(&self, uids: Vec<i64>, frame: bytes::Bytes) -> Result<(), HubGone> {
        self.send(Command::SendTo { uids, frame }).await
    }

    /// Who is online now.
    pub async fn online(&self) -> Result<Vec<OnlineEntry>, HubGone> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Online { reply }).await?;
        rx.await.map_err(|_| HubGone)
    }

    /// Disconnect an account (kick or ban): it gets `kicked`, everyone else
    /// `user_left`. Returns false when the account was not online.
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
    /// `sessions.len()`, shared with [`Hub::online_count`].
    online: Arc<AtomicUsize>,
}

impl HubTask {
    async fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        while let Some(cmd) = rx.recv().await {
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
                    let list = self
                        .order
                        .iter()
                        .filter_map(|uid| self.sessions.get(uid))
                        .map(|s| OnlineEntry {
                            name: s.name.clone(),
                            addr: s.addr,
                            since: s.since,
                        })
                        .collect();
                    let _ = reply.send(list);
                }
                Command::Remove { uid, kicked, reply } => {
                    let reason = if kicked.banned {
                        LeaveReason::Banned
                    } else {
                        LeaveReason::Kicked
                    };
                    let found = match self.sessions.get(&uid) {
                        Some(s) => {
                            let frame = encode_event(&ServerMessage::Kicked(kicked));
                            let _ = s.outbox.push(Outbound::Frames(frame));
                            let _ = s.outbox.push(Outbound::Close(CloseReason::Kicked));
                            true
                        }
                        None => false,
                    };
                    if found {
                        self.drop_session(uid, reason);
                    }
                    let _ = reply.send(found);
                }
            }
        }
        debug!("hub stopped");
    }

    fn join(&mut self, entry: SessionEntry) -> Joined {
        let uid = entry.uid;
        let name = entry.name.clone();
        let since = entry.since;
        let replaced = match self.sessions.insert(uid, entry) {
            Some(old) => {
                info!(user = %name, "session replaced by a new login");
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
        if !replaced {
            let frame = encode_event(&ServerMessage::UserJoined(UserJoined { name, ts: since }));
            self.publish(vec![Delivery {
                frame,
                message_id: None,
                except: Some(uid),
            }]);
        }
        let online = self
            .order
            .iter()
            .filter_map(|uid| self.sessions.get(uid))
            .map(|s| OnlineUser {
                name: s.name.clone(),
                since: s.since,
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
        self.online.store(self.sessions.len(), Ordering::Relaxed);
        let frame = encode_event(&ServerMessage::UserLeft(UserLeft {
            name: entry.name,
            reason,
            ts: now_ms(),
        }));
        Some(Delivery {
            frame,
            message_id: None,
            except: None,
        })
    }

    /// Queue one frame for some sessions; disconnect those that cannot keep up.
    fn send_to(&mut self, uids: &[i64], frame: &bytes::Bytes) {
        let mut notices = Vec::new();
        for uid in uids {
            let Some(session) = self.sessions.get(uid) else {
                continue;
            };
            if let Err(PushError::Full) = session.outbox.push(Outbound::Frames(frame.clone())) {
                warn!(uid, "client too slow; disconnecting");
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
                    too_slow.push(*uid);
                }
                // PushError::Closed: the session is ending; its own leave follows.
            }
            // Tell the others about the sessions dropped here, in one more batch.
            let mut notices = Vec::new();
            for uid in too_slow {
                warn!(uid, "client too slow; disconnecting");
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
}
