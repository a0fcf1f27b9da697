//! Who is at the table: sessions logging in and out (a player who leaves
//! during a game gets the reconnect grace to come back) and spectators
//! following a game's moves.

use chatroom_shared::UnixMillis;
use chatroom_shared::message::GameStatus;

use super::{Answer, Effect, Table};

impl Table {
    /// `game_watch`: follow a game's moves.
    pub fn watch(&mut self, uid: i64, id: i64) -> Answer {
        let game = self.get(id)?;
        if game.mark_of(uid).is_none() {
            game.spectators.insert(uid);
        }
        Ok(game.view())
    }

    /// `game_unwatch`: stop following a game.
    pub fn unwatch(&mut self, uid: i64, id: i64) -> Answer {
        let game = self.get(id)?;
        game.spectators.remove(&uid);
        Ok(game.view())
    }

    /// A session of `uid` logged in. A player who left during a game is back:
    /// the game's clock runs again with the time they had left.
    pub fn online(&mut self, uid: i64, session_id: u64, now: UnixMillis) {
        self.online.insert(uid, session_id);
        for game in self.games.values_mut() {
            if let Some((away, left)) = game.away
                && away == uid
            {
                game.away = None;
                game.deadline = now + left;
            }
        }
    }

    /// Session `session_id` of `uid` ended (ignored if a newer one replaced it):
    /// their open invitation ends, they stop watching, and a game they play waits
    /// for them for the reconnect grace period.
    pub fn offline(&mut self, uid: i64, session_id: u64, now: UnixMillis, fx: &mut Vec<Effect>) {
        if self.online.get(&uid) != Some(&session_id) {
            return;
        }
        self.online.remove(&uid);
        let open: Vec<i64> = self
            .games
            .values()
            .filter(|g| g.status == GameStatus::Open && g.x.uid == uid)
            .map(|g| g.id)
            .collect();
        for id in open {
            self.close_open(id, GameStatus::Cancelled, None, fx);
        }
        let grace = self.times.reconnect_grace;
        for game in self.games.values_mut() {
            game.spectators.remove(&uid);
            if game.status == GameStatus::Playing
                && game.mark_of(uid).is_some()
                && game.away.is_none()
            {
                game.away = Some((uid, (game.deadline - now).max(0)));
                game.deadline = now + grace;
            }
        }
    }
}
