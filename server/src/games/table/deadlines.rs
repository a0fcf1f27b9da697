//! The table's clock: the next deadline the game task waits for, and what ends
//! when deadlines pass (expired invitations, moves not made in time, players
//! who did not come back).

use chatroom_shared::UnixMillis;
use chatroom_shared::message::{EndReason, GameStatus};

use super::{Effect, Table};

impl Table {
    /// The earliest deadline of any game, for the task's timer.
    pub fn next_deadline(&self) -> Option<UnixMillis> {
        self.games.values().map(|g| g.deadline).min()
    }

    /// End what is due at `now`: expired invitations, and games whose player to
    /// move ran out of time or whose absent player did not come back.
    pub fn tick(&mut self, now: UnixMillis, fx: &mut Vec<Effect>) {
        let due: Vec<i64> = self
            .games
            .values()
            .filter(|g| g.deadline <= now)
            .map(|g| g.id)
            .collect();
        for id in due {
            let Some(game) = self.games.get(&id) else {
                continue;
            };
            match game.status {
                GameStatus::Open => {
                    self.close_open(id, GameStatus::Expired, None, fx);
                }
                GameStatus::Playing => {
                    let (loser, reason) = match game.away {
                        Some((away, _)) => (game.mark_of(away), EndReason::Forfeit),
                        None => (game.board.turn(), EndReason::Timeout),
                    };
                    if let Some(loser) = loser {
                        self.finish(id, Some(loser.other()), reason, now, None, fx);
                    }
                }
                GameStatus::Over | GameStatus::Cancelled | GameStatus::Expired => {
                    self.games.remove(&id);
                }
            }
        }
    }
}
