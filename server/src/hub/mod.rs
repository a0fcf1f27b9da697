//! The hub: who is online, and fan-out of events to them.
//!
//! One task owns the table of online sessions ([`sessions`]); everything else
//! talks to it through a cloneable [`Hub`] handle over a bounded channel (the
//! actor pattern). This is the one seam through which sessions reach each
//! other.
//!
//! In a cluster the hub also owns the other nodes' part ([`OtherNodes`]): it
//! tells them about the joins and leaves here, relays the events it delivers,
//! and hands them what the other nodes said. The hub itself knows nothing of
//! how nodes talk (see docs/ARCHITECTURE.md, "The cluster seam").
//!
//! Each session has a bounded outbox. The hub never waits on one: a full outbox
//! means the client is not reading, and the hub disconnects it (drops its end
//! of the outbox) instead of letting it grow memory or slow anybody else.

mod other_nodes;
pub mod presence;
pub mod recent;
pub mod sessions;

use std::any::Any;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chatroom_shared::UnixMillis;
use chatroom_shared::message::{Kicked, LeaveReason, OnlineUser};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info};

use crate::delivery::{Committed, Deliver, Delivering, Event, MAX_PUBLISH_BYTES, runs};
use crate::outbox::Outbox;
use crate::untrusted::untrusted;
pub use other_nodes::OtherNodes;
use presence::{Change, FIRST_PAGE, Pending, Window, joined, left, page_start};
use recent::Recent;
use sessions::Sessions;

/// Commands queued for the hub before senders wait.
const HUB_QUEUE: usize = 4096;

/// `--presence-broadcast-max` by default: at most this many online, everyone
/// is told of every join and leave at once.
pub const DEFAULT_BROADCAST_MAX: usize = 500;

/// Room messages a join copies, unless the server says (`--history-count`'s default).
pub const DEFAULT_RECENT: usize = 50;

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
    /// The window of the online list it watches (`watch_users`), if any.
    pub watching: Option<Window>,
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

/// What a join did.
#[derive(Debug)]
pub struct Joined {
    /// Who is online after the join, this user included: everyone in login
    /// order up to [`FIRST_PAGE`] of them, otherwise the first page by name.
    pub online: Vec<OnlineUser>,
    /// How many are online, on every node.
    pub online_count: u64,
    /// Set when `online` is the first page only: where the next one starts.
    pub online_next: Option<String>,
    /// True when an older session of the same account was replaced.
    pub replaced: bool,
    /// The room's newest messages delivered before the join, oldest first
    /// (none until the server has read the room's latest page at start).
    pub recent: Option<Vec<Arc<recent::Line>>>,
}

/// A page of the online list, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsersPage {
    /// Up to the page size of users, plus one when more follow.
    pub users: Vec<OnlineUser>,
    /// How many are online, on every node.
    pub online_count: u64,
}

/// Which page of the online list: names after `after`, starting with `prefix`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageOf {
    /// Names after this one.
    pub after: Option<String>,
    /// Names starting with this.
    pub prefix: Option<String>,
    /// How many names at most.
    pub n: usize,
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
    Deliver {
        events: Vec<Event>,
        /// Whether the other nodes deliver them too.
        relay: bool,
    },
    Online {
        reply: oneshot::Sender<Vec<OnlineEntry>>,
    },
    Users {
        page: PageOf,
        reply: oneshot::Sender<UsersPage>,
    },
    Watch {
        uid: i64,
        session_id: u64,
        /// The page to watch; none to stop watching.
        page: Option<PageOf>,
        reply: oneshot::Sender<UsersPage>,
    },
    Remove {
        uid: i64,
        kicked: Kicked,
        reply: oneshot::Sender<bool>,
    },
    Heard(Box<dyn Any + Send>),
    Prime(Vec<Arc<recent::Line>>),
    Stopping,
    Nodes {
        reply: oneshot::Sender<Vec<(String, UnixMillis)>>,
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
    /// Start the hub task of a single server and return its handle.
    pub fn start() -> Self {
        Self::start_node(
            "local".to_owned(),
            None,
            DEFAULT_BROADCAST_MAX,
            DEFAULT_RECENT,
        )
    }

    /// Start the hub task of node `node`, with the other nodes' part in a
    /// cluster. Above `broadcast_max` users online, joins and leaves go only
    /// to sessions that watch the online list. A join gets the newest
    /// `recent` room messages (`--history-count`) once [`Hub::prime`]d.
    pub fn start_node(
        node: String,
        others: Option<Box<dyn OtherNodes>>,
        broadcast_max: usize,
        recent: usize,
    ) -> Self {
        let (tx, rx) = mpsc::channel(HUB_QUEUE);
        let online = Arc::new(AtomicUsize::new(0));
        let task = HubTask {
            sessions: Sessions::new(Arc::clone(&online)),
            node,
            others,
            pending: Pending::default(),
            broadcast_max,
            recent: Recent::new(recent),
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

    /// Deliver events that are not stored messages (file shares, game events,
    /// group notices) to their audience, in order, wherever it is online (in
    /// a cluster: on every node).
    pub async fn deliver(&self, events: Vec<Event>) -> Result<(), HubGone> {
        self.deliver_runs(events, true).await
    }

    /// Deliver events to their audience on this node only: stored messages in
    /// their turn, or what another node delivers on its side too.
    pub async fn deliver_here(&self, events: Vec<Event>) -> Result<(), HubGone> {
        self.deliver_runs(events, false).await
    }

    /// Hand events over in runs of about [`MAX_PUBLISH_BYTES`], so one large
    /// batch never fills a reader's outbox budget by itself.
    async fn deliver_runs(&self, events: Vec<Event>, relay: bool) -> Result<(), HubGone> {
        for events in runs(events, MAX_PUBLISH_BYTES) {
            self.send(Command::Deliver { events, relay }).await?;
        }
        Ok(())
    }

    /// The room's latest page, read from the database once at start after
    /// the deliveries began: from now on a join copies the room's newest
    /// messages from memory ([`recent`]).
    pub async fn prime(&self, read: Vec<Arc<recent::Line>>) -> Result<(), HubGone> {
        self.send(Command::Prime(read)).await
    }

    /// Hand over what another node said, for the other nodes' part (opaque to the hub).
    pub async fn heard(&self, news: Box<dyn Any + Send>) -> Result<(), HubGone> {
        self.send(Command::Heard(news)).await
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

    /// A page of `users`: up to `page.n` of the users online now (on every
    /// node), by name, with the number online. Ranges of ordered maps, so its
    /// cost does not grow with the number online.
    pub async fn users(&self, page: PageOf) -> Result<UsersPage, HubGone> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Users { page, reply }).await?;
        rx.await.map_err(|_| HubGone)
    }

    /// Watch a page of the online list from session `session_id` of `uid`
    /// (`None`: stop watching): from now on it gets `presence` events for
    /// that window instead of `user_joined` / `user_left`. `page.n` is the
    /// page size plus one, as for [`Hub::users`]; the window is what
    /// [`Window::of_page`] makes of the page found, which is returned.
    pub async fn watch(
        &self,
        uid: i64,
        session_id: u64,
        page: Option<PageOf>,
    ) -> Result<UsersPage, HubGone> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Watch {
            uid,
            session_id,
            page,
            reply,
        })
        .await?;
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

/// On a single node the hub delivers the store's committed batches itself.
impl Deliver for Hub {
    fn deliver(&self, batch: Committed) -> Delivering<'_> {
        Box::pin(async move {
            if self.deliver_here(batch.events).await.is_err() {
                debug!("hub stopped; deliveries dropped during shutdown");
            }
        })
    }
}

struct HubTask {
    sessions: Sessions,
    /// This node's id.
    node: String,
    /// In a cluster: the other nodes' part.
    others: Option<Box<dyn OtherNodes>>,
    /// Joins and leaves not told yet.
    pending: Pending,
    /// Above this many online, joins and leaves go to watchers only, per tick.
    broadcast_max: usize,
    /// The room's newest messages delivered here.
    recent: Recent,
}

impl HubTask {
    async fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        let beat = self
            .others
            .as_ref()
            .map_or(Duration::from_secs(3600), |o| o.tick_every());
        let mut tick = tokio::time::interval(beat);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut presence_tick = tokio::time::interval(presence::TICK);
        presence_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let cmd = tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(cmd) => cmd,
                    None => break,
                },
                _ = tick.tick(), if self.others.is_some() => {
                    if let Some(o) = &mut self.others {
                        let changes = o.tick();
                        self.changed(changes);
                    }
                    continue;
                }
                _ = presence_tick.tick(), if !self.pending.is_empty() => {
                    self.tell();
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
                        .get(uid)
                        .is_some_and(|s| s.session_id == session_id)
                        && let Some(entry) = self.sessions.remove(uid)
                    {
                        self.gone(vec![entry], reason);
                    }
                }
                Command::Deliver { events, relay } => {
                    if relay && let Some(o) = &mut self.others {
                        o.relay(&events);
                    }
                    self.deliver(events);
                }
                Command::Online { reply } => {
                    let _ = reply.send(self.online_entries());
                }
                Command::Users { page, reply } => {
                    let _ = reply.send(self.users_page(&page));
                }
                Command::Watch {
                    uid,
                    session_id,
                    page,
                    reply,
                } => {
                    let found = match &page {
                        Some(page) => self.users_page(page),
                        None => UsersPage {
                            users: Vec::new(),
                            online_count: self.online_count(),
                        },
                    };
                    let window = page.map(|p| Window::of_page(p.after, &found.users, p.n));
                    self.sessions.watch(uid, session_id, window);
                    let _ = reply.send(found);
                }
                Command::Remove { uid, kicked, reply } => {
                    let found = match self.sessions.kick(uid, kicked.clone()) {
                        Some(entry) => {
                            let reason = if kicked.banned {
                                LeaveReason::Banned
                            } else {
                                LeaveReason::Kicked
                            };
                            self.gone(vec![entry], reason);
                            true
                        }
                        // Its node disconnects it and tells everyone it left.
                        None => self.others.as_mut().is_some_and(|o| o.kick(uid, kicked)),
                    };
                    let _ = reply.send(found);
                }
                Command::Heard(news) => {
                    if let Some(o) = &mut self.others {
                        let changes = o.heard(news, &mut self.sessions);
                        self.changed(changes);
                    }
                }
                Command::Prime(read) => self.recent.prime(read),
                Command::Stopping => {
                    if let Some(o) = &mut self.others {
                        o.stopping();
                    }
                }
                Command::Nodes { reply } => {
                    let nodes = self.others.as_ref().map_or_else(Vec::new, |o| o.nodes());
                    let _ = reply.send(nodes);
                }
            }
        }
        debug!("hub stopped");
    }

    /// Deliver events to the sessions here; the sessions too slow to take
    /// them are dropped and everyone is told, until nobody more is dropped.
    fn deliver(&mut self, events: Vec<Event>) {
        if events.is_empty() {
            return;
        }
        self.recent.delivered(&events);
        let dropped = self.sessions.deliver(events);
        self.gone(dropped, LeaveReason::TooSlow);
    }

    /// Sessions removed from the table: tell the other nodes, and everyone
    /// here that they left.
    fn gone(&mut self, sessions: Vec<SessionEntry>, reason: LeaveReason) {
        let changes = self.ended(sessions, reason);
        self.changed(changes);
    }

    /// Tell the other nodes these sessions ended; their leaves, to gather.
    fn ended(&mut self, sessions: Vec<SessionEntry>, reason: LeaveReason) -> Vec<Change> {
        sessions
            .into_iter()
            .map(|s| {
                if let Some(o) = &mut self.others {
                    o.left(&s, reason);
                }
                left(s.name, reason)
            })
            .collect()
    }

    /// Users came or went: gather the changes, and tell them at once while
    /// few are online (the rest wait for the presence tick).
    fn changed(&mut self, changes: Vec<Change>) {
        if changes.is_empty() {
            return;
        }
        self.pending.add(changes);
        if self.online_count() <= self.broadcast_max as u64 {
            self.tell();
        }
    }

    /// Tell the sessions here what was gathered; those too slow to take it
    /// are dropped, which gathers their leaves, until nobody more is dropped.
    fn tell(&mut self) {
        while !self.pending.is_empty() {
            let count = self.online_count();
            let told = self.pending.take(count);
            let dropped = self
                .sessions
                .tell(&told, count <= self.broadcast_max as u64);
            if dropped.is_empty() {
                break;
            }
            let mut changes = Vec::with_capacity(dropped.len());
            for s in dropped {
                if let Some(o) = &mut self.others {
                    o.left(&s, LeaveReason::TooSlow);
                }
                changes.push(left(s.name, LeaveReason::TooSlow));
            }
            self.pending.add(changes);
        }
    }

    /// How many users are online here and on the other nodes.
    fn online_count(&self) -> u64 {
        let others = self.others.as_ref().map_or(0, |o| o.count());
        (self.sessions.len() + others) as u64
    }

    /// Everyone online here and on the other nodes, in login order.
    fn online_entries(&self) -> Vec<OnlineEntry> {
        let mut list: Vec<OnlineEntry> = self
            .sessions
            .in_login_order()
            .map(|s| OnlineEntry {
                uid: s.uid,
                session: s.session_id,
                name: s.name.clone(),
                addr: s.addr,
                since: s.since,
                node: self.node.clone(),
            })
            .collect();
        if let Some(o) = &self.others {
            list.extend(o.online());
            // Stable: this node's own users keep their order among equal times.
            list.sort_by_key(|e| e.since);
        }
        list
    }

    /// Up to `page.n` users online here and on the other nodes, by name: the
    /// ordered ranges merged.
    fn users_page(&self, page: &PageOf) -> UsersPage {
        let n = page.n;
        let from = page_start(page.after.as_deref(), page.prefix.as_deref());
        let prefix = page.prefix.as_deref().unwrap_or("");
        let local = self.sessions.users_from(from);
        let mut users: Vec<OnlineUser> = match &self.others {
            None => local
                .take_while(|u| u.name.starts_with(prefix))
                .take(n)
                .collect(),
            Some(o) => crate::paging::merge_by(local, o.users_from(from), |u| u.name.clone(), n)
                .into_iter()
                .take_while(|u| u.name.starts_with(prefix))
                .collect(),
        };
        users.truncate(n);
        UsersPage {
            users,
            online_count: self.online_count(),
        }
    }

    fn join(&mut self, entry: SessionEntry) -> Joined {
        let uid = entry.uid;
        let name = entry.name.clone();
        let since = entry.since;
        let replaced_here = self.sessions.insert(entry);
        if replaced_here {
            info!(user = %untrusted(&name), "session replaced by a new login");
        }
        let taken_over = match (&mut self.others, self.sessions.get(uid)) {
            (Some(o), Some(session)) => o.joined(session),
            _ => false,
        };
        let replaced = replaced_here || taken_over;
        if !replaced {
            self.changed(vec![joined(name, since, Some(uid))]);
        }
        let online_count = self.online_count();
        if online_count <= FIRST_PAGE as u64 {
            let online = self
                .online_entries()
                .into_iter()
                .map(|e| OnlineUser {
                    name: e.name,
                    since: e.since,
                })
                .collect();
            return Joined {
                online,
                online_count,
                online_next: None,
                replaced,
                recent: self.recent.copy(),
            };
        }
        let mut page = self.users_page(&PageOf {
            n: FIRST_PAGE + 1,
            ..PageOf::default()
        });
        let more = page.users.len() > FIRST_PAGE;
        page.users.truncate(FIRST_PAGE);
        Joined {
            online_next: more
                .then(|| page.users.last().map(|u| u.name.clone()))
                .flatten(),
            online: page.users,
            online_count,
            replaced,
            recent: self.recent.copy(),
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use chatroom_shared::message::ServerMessage;

    use super::*;
    use crate::outbox::{Outbound, outbox};

    fn entry(uid: i64, outbox: Outbox) -> SessionEntry {
        SessionEntry {
            session_id: u64::try_from(uid).unwrap(),
            uid,
            name: format!("user{uid}"),
            addr: "127.0.0.1:1".parse().unwrap(),
            since: 0,
            outbox,
            watching: None,
        }
    }

    fn event(n: usize, except: Option<i64>) -> Event {
        Event::new(
            Bytes::from(vec![b'x'; n]),
            crate::delivery::Audience::Everyone { except },
        )
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
        let mut batch: Vec<_> = (0..10).map(|_| event(500, Some(1))).collect();
        batch.push(event(20, None));
        hub.deliver(batch).await.unwrap();
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
        hub.deliver(vec![event(1500, None)]).await.unwrap();
        let online = hub.online().await.unwrap();
        let names: Vec<_> = online.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["user2"]);
        // user2's last frame tells it user1 left as too slow.
        let mut frames = Vec::new();
        while let Ok(Some(item)) = ok_rx.try_recv() {
            if let Outbound::Batch { batch, .. } = item {
                frames.extend(batch.events.iter().map(|d| d.frame.clone()));
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
        let names = |page: UsersPage| page.users.into_iter().map(|u| u.name).collect::<Vec<_>>();
        let page = |after: Option<&str>, prefix: Option<&str>| PageOf {
            after: after.map(str::to_owned),
            prefix: prefix.map(str::to_owned),
            n: 3,
        };
        assert_eq!(
            names(hub.users(page(None, None)).await.unwrap()),
            ["user1", "user12", "user2"]
        );
        assert_eq!(
            names(hub.users(page(Some("user12"), None)).await.unwrap()),
            ["user2", "user3"]
        );
        // By the start of the name: from the prefix itself, and no further.
        assert_eq!(
            names(hub.users(page(None, Some("user1"))).await.unwrap()),
            ["user1", "user12"]
        );
        assert_eq!(
            names(hub.users(page(Some("user1"), Some("user1"))).await.unwrap()),
            ["user12"]
        );
        hub.leave(2, 2, LeaveReason::Quit).await;
        let after = hub.users(page(Some("user12"), None)).await.unwrap();
        assert_eq!(after.online_count, 3);
        assert_eq!(names(after), ["user3"]);
    }
}
