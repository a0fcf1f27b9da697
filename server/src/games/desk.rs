//! Where sessions take their game requests: the seam between the game table
//! and a cluster.
//!
//! On one node the [`Desk`] hands every request to this node's [`Games`]. In
//! a cluster one node owns the table for everyone (so "the first accept wins"
//! still holds), and the cluster gives the desk a [`Route`] to that node; the
//! game task copies its table to the other nodes through a [`Mirror`]. Both
//! traits are implemented in `crate::cluster::games`; nothing in `games/`
//! knows how nodes talk.

use std::sync::Arc;

use chatroom_shared::ErrorCode;
use chatroom_shared::message::GameView;
use futures_util::future::BoxFuture;

use super::table::{Answer, Player, Snapshot};
use super::{Games, Request};

/// A page of games, or why there is none.
pub type ListAnswer = Result<Vec<GameView>, (ErrorCode, String)>;

/// The way to the node that owns a cluster's game table.
pub trait Route: Send + Sync + std::fmt::Debug {
    /// The node that decides game requests now; `None` when it is this one.
    /// When the table has just come to this node (its owner died) or gone
    /// from it, this first tells `local` (with [`Games::restore`]), before
    /// any request reaches it.
    fn owner<'a>(&'a self, local: &'a Games) -> BoxFuture<'a, Option<String>>;

    /// Ask `owner` to carry out a request; `server_busy` when it does not
    /// answer in time.
    fn request(&self, owner: String, who: Player, request: Request) -> BoxFuture<'_, Answer>;

    /// Ask `owner` for a page of its games: up to `n` with ids above `after`.
    fn list(&self, owner: String, after: Option<i64>, n: usize) -> BoxFuture<'_, ListAnswer>;

    /// Tell `owner` that a session logged in (`online`) or ended. Never waits.
    fn presence(&self, owner: String, uid: i64, session: u64, online: bool);
}

/// Where the owner's table is copied after every change, for whoever takes
/// it over.
pub trait Mirror: Send + Sync {
    /// Copy `snapshot` to the other nodes. Never waits.
    fn copy(&self, snapshot: Snapshot);
}

/// The sessions' handle to the games: this node's table, or the cluster's
/// owner of the table through a [`Route`]. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Desk {
    local: Games,
    route: Option<Arc<dyn Route>>,
}

impl Desk {
    /// Every request goes to this node's `local` table.
    pub fn local(local: Games) -> Self {
        Self { local, route: None }
    }

    /// Requests go to the node `route` names, which may be this one.
    pub fn routed(local: Games, route: Arc<dyn Route>) -> Self {
        Self {
            local,
            route: Some(route),
        }
    }

    /// The node that decides, when it is not this one.
    async fn owner(&self) -> Option<(&dyn Route, String)> {
        let route = self.route.as_deref()?;
        let owner = route.owner(&self.local).await?;
        Some((route, owner))
    }

    /// Work out the owner of a cluster's game table now, taking it over if it
    /// has come to this node; run every heartbeat, so games go on (and their
    /// clocks run) after their owner dies even if nobody asks anything.
    pub async fn check_owner(&self) {
        let _ = self.owner().await;
    }

    /// Carry out a game request for `uid` (named `name`); the answer is the game
    /// after it, for the `game_state` reply.
    pub async fn request(&self, uid: i64, name: &str, request: Request) -> Answer {
        let who = Player {
            uid,
            name: name.to_owned(),
        };
        let Some((route, owner)) = self.owner().await else {
            return self.local.request(who, request).await;
        };
        let answer = route.request(owner.clone(), who.clone(), request).await;
        if !matches!(&answer, Err((ErrorCode::ServerBusy, _))) {
            return answer;
        }
        // No answer. If meanwhile its node was found dead (the request went out
        // during the node timeout), it never decided it: ask the new owner.
        match self.owner().await {
            Some((route, now)) if now != owner => route.request(now, who, request).await,
            None => self.local.request(who, request).await,
            Some(_) => answer,
        }
    }

    /// Up to `n` open invitations and games in play with ids above `after`,
    /// oldest first (a page of `games`).
    pub async fn list(&self, after: Option<i64>, n: usize) -> ListAnswer {
        match self.owner().await {
            Some((route, owner)) => route.list(owner, after, n).await,
            None => self.local.list(after, n).await,
        }
    }

    /// A session of `uid` logged in (before it joins the hub, so that a "left" of
    /// the session it replaces arrives later and is seen to be stale).
    pub async fn online(&self, uid: i64, session_id: u64) {
        match self.owner().await {
            Some((route, owner)) => route.presence(owner, uid, session_id, true),
            None => self.local.online(uid, session_id).await,
        }
    }

    /// Session `session_id` of `uid` ended. Usable from `Drop`: never waits.
    pub fn offline_soon(&self, uid: i64, session_id: u64) {
        if self.route.is_some()
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            let desk = self.clone();
            rt.spawn(async move {
                match desk.owner().await {
                    Some((route, owner)) => route.presence(owner, uid, session_id, false),
                    None => desk.local.offline_soon(uid, session_id),
                }
            });
            return;
        }
        self.local.offline_soon(uid, session_id);
    }
}
