//! The table as the other nodes of a cluster hold it: the owner sends a
//! [`Snapshot`] after every change, and whoever takes the table over when the
//! owner dies goes on from the last one ([`Table::restore`]).

use std::collections::{HashMap, HashSet};

use chatroom_shared::UnixMillis;
use chatroom_shared::message::{GameResult, GameStatus};
use chatroom_shared::tictactoe::TicTacToe;

use super::game::Game;
use super::{Effect, Player, Table};

/// A game as it is copied to the other nodes of a cluster ([`Snapshot`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SavedGame {
    id: i64,
    x: Player,
    o: Option<Player>,
    /// The board, as the moves that made it.
    moves: Vec<u8>,
    status: GameStatus,
    created: UnixMillis,
    started: UnixMillis,
    deadline: UnixMillis,
    away: Option<(i64, i64)>,
    /// Sorted, so equal tables give equal snapshots.
    spectators: Vec<i64>,
    result: Option<GameResult>,
}

/// The whole table, as the node that owns a cluster's games sends it to the
/// others after every change: whoever takes the table over when that node dies
/// goes on from here ([`Table::restore`]), so the games in play survive it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Snapshot {
    next_id: i64,
    games: Vec<SavedGame>,
    /// The sessions of the online players and spectators, sorted.
    online: Vec<(i64, u64)>,
}

impl Snapshot {
    /// How many open invitations and games it holds.
    pub fn games(&self) -> usize {
        self.games.len()
    }
}

impl Table {
    /// The table as it stands, for the other nodes of a cluster.
    pub fn snapshot(&self) -> Snapshot {
        // Only the sessions of those in a game: whoever takes over learns who is
        // online from its hub, and needs these only to tell who left with the
        // dead node. (So a login elsewhere does not change the snapshot.)
        let involved: HashSet<i64> = self.games.values().flat_map(Game::audience).collect();
        let mut online: Vec<(i64, u64)> = involved
            .iter()
            .filter_map(|uid| self.online.get(uid).map(|&s| (*uid, s)))
            .collect();
        online.sort_unstable();
        let games = self
            .games
            .values()
            .map(|g| {
                let mut spectators: Vec<i64> = g.spectators.iter().copied().collect();
                spectators.sort_unstable();
                SavedGame {
                    id: g.id,
                    x: g.x.clone(),
                    o: g.o.clone(),
                    moves: g.board.moves().to_vec(),
                    status: g.status,
                    created: g.created,
                    started: g.started,
                    deadline: g.deadline,
                    away: g.away,
                    spectators,
                    result: g.result.clone(),
                }
            })
            .collect();
        Snapshot {
            next_id: self.next_id,
            games,
            online,
        }
    }

    /// Take over a cluster's games from the last snapshot of the node that
    /// owned them (`None`: it had sent none, so it held no games), given who is
    /// online now and with which session. Whoever the snapshot had online and
    /// is gone now left when that node died: their invitation ends and a game
    /// they play waits for them for the reconnect grace, as on any leave. Game
    /// ids go on from the higher of the two tables' next ids.
    pub fn restore(
        &mut self,
        snapshot: Option<Snapshot>,
        online_now: &HashMap<i64, u64>,
        now: UnixMillis,
        fx: &mut Vec<Effect>,
    ) {
        let snapshot = snapshot.unwrap_or_default();
        self.next_id = self.next_id.max(snapshot.next_id);
        self.games.clear();
        for g in snapshot.games {
            let Ok(board) = TicTacToe::from_moves(&g.moves) else {
                tracing::warn!(
                    id = g.id,
                    "a game in the snapshot has illegal moves; left out"
                );
                continue;
            };
            self.next_id = self.next_id.max(g.id + 1);
            self.games.insert(
                g.id,
                Game {
                    id: g.id,
                    x: g.x,
                    o: g.o,
                    board,
                    status: g.status,
                    created: g.created,
                    started: g.started,
                    deadline: g.deadline,
                    away: g.away,
                    spectators: g.spectators.into_iter().collect(),
                    result: g.result,
                },
            );
        }
        self.online = snapshot.online.into_iter().collect();
        let was: Vec<(i64, u64)> = self.online.iter().map(|(&u, &s)| (u, s)).collect();
        for (uid, session) in was {
            if !online_now.contains_key(&uid) {
                self.offline(uid, session, now, fx);
            }
        }
        for (&uid, &session) in online_now {
            if self.online.get(&uid) != Some(&session) {
                self.online(uid, session, now);
            }
        }
    }
}
