//! The seam through which a cluster takes part in presence and fan-out.
//!
//! A single server has no other nodes and the hub runs without this. In a
//! cluster the hub owns one [`OtherNodes`] and calls it at a few points: a
//! login or a leave here (to tell the others), events delivered here that the
//! others must deliver too, a kick of someone who is not here, the heartbeat
//! tick, and whatever the other nodes said ([`OtherNodes::heard`], whose type
//! only the implementation knows). The hub knows nothing of how the nodes talk.

use std::any::Any;
use std::ops::Bound;
use std::time::Duration;

use chatroom_shared::UnixMillis;
use chatroom_shared::message::{Kicked, LeaveReason, OnlineUser};

use super::presence::Change;
use super::sessions::Sessions;
use super::{OnlineEntry, SessionEntry};
use crate::delivery::Event;

/// The other nodes of a cluster, as the hub sees them.
pub trait OtherNodes: Send + 'static {
    /// How often the hub calls [`OtherNodes::tick`].
    fn tick_every(&self) -> Duration;

    /// Periodic upkeep (heartbeats, nodes gone silent). Returns who went
    /// (users of a dead node left).
    fn tick(&mut self) -> Vec<Change>;

    /// A user logged in here; `session` is already in the table. Returns true
    /// when the login took over the account's session on another node.
    fn joined(&mut self, session: &SessionEntry) -> bool;

    /// A session here ended.
    fn left(&mut self, session: &SessionEntry, reason: LeaveReason);

    /// Events delivered here that the other nodes deliver to their sessions too.
    fn relay(&mut self, events: &[Event]);

    /// Disconnect `uid` where it is online elsewhere; false when it is not.
    fn kick(&mut self, uid: i64, kicked: Kicked) -> bool;

    /// This node is shutting down: tell the others, and stop taking part.
    fn stopping(&mut self);

    /// The other live nodes, with their start times.
    fn nodes(&self) -> Vec<(String, UnixMillis)>;

    /// The users online on the other nodes.
    fn online(&self) -> Vec<OnlineEntry>;

    /// How many users are online on the other nodes.
    fn count(&self) -> usize;

    /// Users online elsewhere whose names start at `from`, by name.
    fn users_from<'a>(&'a self, from: Bound<&'a str>) -> Box<dyn Iterator<Item = OnlineUser> + 'a>;

    /// Something another node said. It may take over or kick sessions here
    /// (telling the others itself); returns who came and went.
    fn heard(&mut self, news: Box<dyn Any + Send>, here: &mut Sessions) -> Vec<Change>;
}
