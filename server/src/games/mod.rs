//! The two-player game (tic-tac-toe): one task owns every game on the server.
//!
//! Sessions talk to it through a cloneable [`Games`] handle over a channel (the
//! actor pattern, like the hub). Because one task decides everything in turn,
//! "the first accept wins" holds without locks: ten accepts arriving together are
//! ten commands in a queue, and only the first finds the seat free. The task
//! keeps the game state in a pure [`table::Table`], sends the events it asks for
//! through the hub, stores finished games in `game_record`, and wakes for the
//! earliest deadline (invitation expiry, move timeout, reconnect grace).
//!
//! Sessions reach the games through a [`Desk`]: this node's table, or in a
//! cluster whichever node owns the cluster's table. The cluster plugs in
//! behind the two traits of [`desk`] ([`Route`] and [`Mirror`]); nothing here
//! knows how nodes talk.

pub mod desk;
pub mod table;

pub use desk::{Desk, Mirror, Route};

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chatroom_shared::ErrorCode;
use chatroom_shared::message::GameView;
use sea_orm::DatabaseConnection;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use crate::delivery::{Audience, Event};
use crate::hub::Hub;
use crate::outbox::encode_event;
use crate::time::now_ms;
use table::{Answer, Effect, Player, Snapshot, Table, Times};

/// Commands queued for the game task before senders wait.
const QUEUE: usize = 1024;

/// The most games a snapshot for the other nodes holds: a bigger one would not
/// fit in one NATS message (1 MiB by default) and is not sent.
const MAX_MIRRORED_GAMES: usize = 2000;

/// A game request from a session.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub enum Request {
    /// `game_invite`.
    Invite,
    /// `game_cancel`.
    Cancel(i64),
    /// `game_accept`.
    Accept(i64),
    /// `game_move`.
    Move(i64, u8),
    /// `game_resign`.
    Resign(i64),
    /// `game_watch`.
    Watch(i64),
    /// `game_unwatch`.
    Unwatch(i64),
}

enum Command {
    Request {
        who: Player,
        request: Request,
        reply: oneshot::Sender<Answer>,
    },
    List {
        after: Option<i64>,
        n: usize,
        reply: oneshot::Sender<Vec<GameView>>,
    },
    Online {
        uid: i64,
        session_id: u64,
    },
    Offline {
        uid: i64,
        session_id: u64,
    },
    /// This node takes over a cluster's games (see [`Table::restore`]).
    Restore {
        snapshot: Option<Snapshot>,
        online: HashMap<i64, u64>,
    },
}

/// Handle to this node's game task. Cheap to clone.
///
/// It always reaches this node's own table; a [`Desk`] decides whether a
/// request goes here or to the node that owns a cluster's table.
#[derive(Clone, Debug)]
pub struct Games {
    tx: mpsc::Sender<Command>,
}

/// The refusal sent when the game task has stopped (only during shutdown).
fn stopped() -> (ErrorCode, String) {
    (
        ErrorCode::ShuttingDown,
        "the server is shutting down".to_owned(),
    )
}

impl Games {
    /// Start the game task with these time limits; it sends events through `hub` and
    /// stores finished games in `db`. In a cluster, `mirror` copies the table to
    /// the other nodes after every change while this node owns it, so that the
    /// next owner goes on from there should this one die.
    pub fn start(
        invite_ttl: Duration,
        move_timeout: Duration,
        reconnect_grace: Duration,
        hub: Hub,
        db: DatabaseConnection,
        mirror: Option<Box<dyn Mirror>>,
    ) -> Self {
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4);
        let times = Times {
            invite_ttl: ms(invite_ttl),
            move_timeout: ms(move_timeout),
            reconnect_grace: ms(reconnect_grace),
        };
        let (tx, rx) = mpsc::channel(QUEUE);
        let task = GameTask {
            table: Table::new(times),
            hub,
            db: Arc::new(db),
            mirror,
            mirrored: Snapshot::default(),
        };
        tokio::spawn(task.run(rx));
        Self { tx }
    }

    /// Carry out a request of `who` on this node's table.
    pub async fn request(&self, who: Player, request: Request) -> Answer {
        let (reply, rx) = oneshot::channel();
        let cmd = Command::Request {
            who,
            request,
            reply,
        };
        self.tx.send(cmd).await.map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }

    /// Up to `n` open invitations and games in play with ids above `after`,
    /// oldest first (a page of `games`), from this node's table.
    pub async fn list(
        &self,
        after: Option<i64>,
        n: usize,
    ) -> Result<Vec<GameView>, (ErrorCode, String)> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::List { after, n, reply })
            .await
            .map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())
    }

    /// A session of `uid` logged in (before it joins the hub, so that a "left" of
    /// the session it replaces arrives later and is seen to be stale).
    pub async fn online(&self, uid: i64, session_id: u64) {
        let _ = self.tx.send(Command::Online { uid, session_id }).await;
    }

    /// Session `session_id` of `uid` ended. Usable from `Drop`: never waits.
    pub fn offline_soon(&self, uid: i64, session_id: u64) {
        let cmd = Command::Offline { uid, session_id };
        if let Err(mpsc::error::TrySendError::Full(cmd)) = self.tx.try_send(cmd)
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            let tx = self.tx.clone();
            rt.spawn(async move {
                let _ = tx.send(cmd).await;
            });
        }
    }

    /// This node takes over a cluster's games from `snapshot` (the last copy
    /// of the owner before it; `None` drops this node's own, stale games),
    /// with `online` the sessions now online (see [`Table::restore`]).
    pub async fn restore(&self, snapshot: Option<Snapshot>, online: HashMap<i64, u64>) {
        info!(
            games = snapshot.as_ref().map_or(0, Snapshot::games),
            "game table restored"
        );
        let _ = self.tx.send(Command::Restore { snapshot, online }).await;
    }
}

struct GameTask {
    table: Table,
    hub: Hub,
    db: Arc<DatabaseConnection>,
    /// In a cluster: where the table is copied after every change.
    mirror: Option<Box<dyn Mirror>>,
    /// The copy sent last.
    mirrored: Snapshot,
}

impl GameTask {
    async fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        loop {
            let wait = self.table.next_deadline().map(|at| {
                let ms = u64::try_from((at - now_ms()).max(0)).unwrap_or(0);
                tokio::time::Instant::now() + Duration::from_millis(ms)
            });
            let cmd = tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(cmd) => Some(cmd),
                    None => break,
                },
                () = sleep_until(wait) => None,
            };
            let mut fx = Vec::new();
            let now = now_ms();
            let listing = matches!(cmd, Some(Command::List { .. }));
            let answer = match cmd {
                Some(cmd) => self.handle(cmd, now, &mut fx),
                None => {
                    self.table.tick(now, &mut fx);
                    None
                }
            };
            if !listing {
                self.copy_to_the_others();
            }
            if fx.iter().any(|e| matches!(e, Effect::Record(_))) {
                // A game ended: its record is stored before anyone hears of
                // it, so whoever asks for stats after the result sees it
                // counted. Beside the loop, so a slow database never holds a
                // move of another game.
                let (hub, db) = (self.hub.clone(), Arc::clone(&self.db));
                tokio::spawn(async move {
                    apply(&hub, &db, fx).await;
                    Reply::send(answer);
                });
            } else {
                Reply::send(answer);
                apply(&self.hub, &self.db, fx).await;
            }
        }
        debug!("game task stopped");
    }

    /// Carry out one command; a request's answer is returned, to be sent once
    /// its effects are carried out.
    fn handle(&mut self, cmd: Command, now: i64, fx: &mut Vec<Effect>) -> Option<Reply> {
        match cmd {
            Command::Request {
                who,
                request,
                reply,
            } => {
                let uid = who.uid;
                let t = &mut self.table;
                let answer = match request {
                    Request::Invite => t.invite(who, now, fx),
                    Request::Cancel(id) => t.cancel(uid, id, fx),
                    Request::Accept(id) => t.accept(who, id, now, fx),
                    Request::Move(id, cell) => t.play(uid, id, cell, now, fx),
                    Request::Resign(id) => t.resign(uid, id, now, fx),
                    Request::Watch(id) => t.watch(uid, id),
                    Request::Unwatch(id) => t.unwatch(uid, id),
                };
                return Some(Reply { to: reply, answer });
            }
            Command::List { after, n, reply } => {
                let _ = reply.send(self.table.list_page(after, n));
            }
            Command::Online { uid, session_id } => self.table.online(uid, session_id, now),
            Command::Offline { uid, session_id } => {
                self.table.offline(uid, session_id, now, fx);
            }
            Command::Restore { snapshot, online } => {
                self.table.restore(snapshot, &online, now, fx);
            }
        }
        None
    }

    /// In a cluster, send the table to the other nodes if it changed.
    fn copy_to_the_others(&mut self) {
        let Some(mirror) = &self.mirror else {
            return;
        };
        let snapshot = self.table.snapshot();
        if snapshot == self.mirrored {
            return;
        }
        if snapshot.games() > MAX_MIRRORED_GAMES {
            warn!(
                games = snapshot.games(),
                "too many games to copy to the other nodes; they would be lost with this node"
            );
            return;
        }
        self.mirrored = snapshot.clone();
        mirror.copy(snapshot);
    }
}

/// A request's answer, waiting to be sent.
struct Reply {
    to: oneshot::Sender<Answer>,
    answer: Answer,
}

impl Reply {
    /// Send the answer, if there is one (a request's; a tick has none).
    fn send(reply: Option<Self>) {
        if let Some(Self { to, answer }) = reply {
            let _ = to.send(answer);
        }
    }
}

/// Store the records and send the events an operation asked for, records
/// first (a record not stored is logged; the game has ended all the same).
async fn apply(hub: &Hub, db: &DatabaseConnection, fx: Vec<Effect>) {
    for effect in &fx {
        if let Effect::Record(game) = effect {
            match crate::db::games::insert(db, game).await {
                Ok(id) => info!(record = id, "game recorded"),
                Err(e) => warn!(error = %e, ?game, "cannot record a finished game"),
            }
        }
    }
    for effect in fx {
        match effect {
            Effect::ToAll { msg, except } => {
                let event = Event::new(encode_event(&msg), Audience::Everyone { except });
                if hub.deliver(vec![event]).await.is_err() {
                    debug!("the hub has stopped; game event dropped");
                }
            }
            Effect::ToUsers { msg, uids } => {
                let event = Event::new(encode_event(&msg), Audience::Only(uids));
                if hub.deliver(vec![event]).await.is_err() {
                    debug!("the hub has stopped; game event dropped");
                }
            }
            Effect::Record(_) => {}
        }
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
