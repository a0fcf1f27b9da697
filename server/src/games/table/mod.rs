//! Every game on this server and the rules of their lives, as pure state: each
//! operation takes the time as an argument and returns the reply plus the
//! [`Effect`]s to carry out (events to send, a record to store). The game task
//! ([`super`]) owns one table and does the IO, so everything here is tested
//! without sockets or clocks.
//!
//! The table's jobs, one module each:
//! - this module: the vocabulary ([`Times`], [`Player`], [`Effect`], [`Answer`]),
//!   the [`Table`] itself and its lookups and listings;
//! - `game`: one game's state and how it looks to clients;
//! - `invites`: opening, cancelling and accepting invitations;
//! - `play`: moves, resignation, and how a game ends;
//! - `presence`: sessions coming and going, and spectators;
//! - `deadlines`: the timer: what ends when a deadline passes;
//! - `snapshot`: the table copied to the other nodes of a cluster, and taken over.

mod deadlines;
mod game;
mod invites;
mod play;
mod presence;
mod snapshot;
#[cfg(test)]
mod tests;

pub use snapshot::{SavedGame, Snapshot};

use std::collections::{BTreeMap, HashMap};

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{GameView, ServerMessage};

use crate::db::games::FinishedGame;
use game::Game;

/// The table's time limits, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Times {
    /// An open invitation ends after this long.
    pub invite_ttl: i64,
    /// The player to move loses after this long.
    pub move_timeout: i64,
    /// A player who left loses unless back within this long.
    pub reconnect_grace: i64,
}

/// A user as the table knows them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Player {
    /// Account id.
    pub uid: i64,
    /// Display name.
    pub name: String,
}

/// Something the game task must do after an operation.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Send to everyone online, except one account (who got the reply instead).
    ToAll {
        /// The event.
        msg: ServerMessage,
        /// Left out.
        except: Option<i64>,
    },
    /// Send to these accounts, if online.
    ToUsers {
        /// The event.
        msg: ServerMessage,
        /// The recipients.
        uids: Vec<i64>,
    },
    /// Store a finished game.
    Record(FinishedGame),
}

/// A refused request: the code and the message for people.
pub type Refusal = (ErrorCode, String);

/// What an operation answers: the game after it (for `game_state`), or why not.
pub type Answer = Result<GameView, Refusal>;

/// Every open invitation and game in play, and who is online.
#[derive(Debug)]
pub struct Table {
    times: Times,
    games: BTreeMap<i64, Game>,
    next_id: i64,
    /// Online accounts and their current session, so a stale "left" from a
    /// replaced session is ignored.
    online: HashMap<i64, u64>,
}

fn refuse(code: ErrorCode, message: impl Into<String>) -> Refusal {
    (code, message.into())
}

impl Table {
    /// An empty table with these time limits.
    pub fn new(times: Times) -> Self {
        Self {
            times,
            games: BTreeMap::new(),
            next_id: 1,
            online: HashMap::new(),
        }
    }

    /// The game `uid` plays in or has open, if any.
    fn engaged(&self, uid: i64) -> Option<&Game> {
        self.games.values().find(|g| g.mark_of(uid).is_some())
    }

    fn get(&mut self, id: i64) -> Result<&mut Game, Refusal> {
        self.games.get_mut(&id).ok_or_else(|| {
            refuse(
                ErrorCode::GameNotFound,
                format!("no open invitation or game in play has id {id}"),
            )
        })
    }

    /// Every open invitation and game in play, oldest first.
    pub fn list(&self) -> Vec<GameView> {
        self.list_page(None, usize::MAX)
    }

    /// A page of `games`: up to `n` open invitations and games in play with ids
    /// above `after`, oldest first; a range of the ordered table, so its cost does
    /// not grow with the number of games.
    pub fn list_page(&self, after: Option<i64>, n: usize) -> Vec<GameView> {
        use std::ops::Bound::{Excluded, Unbounded};
        let from = after.map_or(Unbounded, Excluded);
        self.games
            .range((from, Unbounded))
            .take(n)
            .map(|(_, g)| g.view())
            .collect()
    }
}
