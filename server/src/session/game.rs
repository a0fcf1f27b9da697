//! The two-player game's requests: each is handed to the game task, which decides
//! it; the answer becomes a `game_state` reply or an error. (The listing, `games`,
//! is paged in `lists.rs`.)

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{GameState, ServerMessage, Stats, StatsRequest};
use chatroom_shared::rules::name_key;

use super::{Flow, Reject, Session};
use crate::db::{accounts, games};
use crate::games::Request;

impl Session {
    /// `game_invite`, `game_cancel`, `game_accept`, `game_move`, `game_resign`,
    /// `game_watch` and `game_unwatch`.
    pub(super) async fn game(&mut self, seq: u32, request: Request) -> Result<Flow, Reject> {
        let l = self.require_login()?;
        let (uid, name) = (l.uid, l.name.clone());
        let game = self
            .ctx
            .games
            .request(uid, &name, request)
            .await
            .map_err(|(code, message)| Reject::new(code, message))?;
        self.queue(&ServerMessage::GameState(GameState { seq, game }));
        Ok(Flow::Continue)
    }

    /// `stats`: a user's wins, losses and draws from the stored games.
    pub(super) async fn stats(&mut self, seq: u32, m: StatsRequest) -> Result<Flow, Reject> {
        let l = self.require_login()?;
        let (uid, name) = match m.name {
            None => (l.uid, l.name.to_string()),
            Some(name) => {
                match accounts::find_by_key(&self.ctx.db, &name_key(name.trim())).await? {
                    Some(account) => (account.id, account.name),
                    None => {
                        return Err(Reject::new(
                            ErrorCode::UserNotFound,
                            format!("no account is named {name:?}"),
                        ));
                    }
                }
            }
        };
        let record = games::record(&self.ctx.db, uid).await?;
        self.queue(&ServerMessage::Stats(Stats {
            seq,
            name,
            wins: record.wins,
            losses: record.losses,
            draws: record.draws,
        }));
        Ok(Flow::Continue)
    }
}
