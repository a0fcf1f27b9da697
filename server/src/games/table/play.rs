//! Playing a game to its end: moves, resignation, and the ending itself (the
//! result everyone is told and the record that is stored), which timeouts and
//! forfeits in [`super::deadlines`] reach too.

use chatroom_shared::message::{EndReason, GameResult, GameStatus, GameView};
use chatroom_shared::tictactoe::{Mark, MoveError, Outcome};
use chatroom_shared::{ErrorCode, UnixMillis};

use super::game::{Game, closed_view, unreachable_game, update};
use super::{Answer, Effect, Refusal, Table, refuse};
use crate::db::games::FinishedGame;

impl Table {
    /// `game_move`: place the mover's mark.
    pub fn play(
        &mut self,
        uid: i64,
        id: i64,
        cell: u8,
        now: UnixMillis,
        fx: &mut Vec<Effect>,
    ) -> Answer {
        let move_timeout = self.times.move_timeout;
        let (game, mark) = self.playing(uid, id)?;
        let outcome = game.board.play(mark, cell).map_err(|e| match e {
            MoveError::OffBoard(_) => refuse(ErrorCode::InvalidCell, e.to_string()),
            MoveError::CellTaken(_) => refuse(ErrorCode::CellTaken, e.to_string()),
            MoveError::NotYourTurn(_) => refuse(
                ErrorCode::NotYourTurn,
                "it is your opponent's turn; wait for their move",
            ),
            MoveError::GameOver => refuse(ErrorCode::GameNotInPlay, e.to_string()),
        })?;
        match outcome {
            Some(Outcome::Win { mark, .. }) => {
                Ok(self.finish(id, Some(mark), EndReason::Line, now, Some(uid), fx))
            }
            Some(Outcome::Draw) => Ok(self.finish(id, None, EndReason::Draw, now, Some(uid), fx)),
            None => {
                game.deadline = now + move_timeout;
                let audience: Vec<i64> =
                    game.audience().into_iter().filter(|&u| u != uid).collect();
                fx.push(Effect::ToUsers {
                    msg: update(game),
                    uids: audience,
                });
                Ok(game.view())
            }
        }
    }

    /// `game_resign`: the resigning player loses.
    pub fn resign(&mut self, uid: i64, id: i64, now: UnixMillis, fx: &mut Vec<Effect>) -> Answer {
        let (_, mark) = self.playing(uid, id)?;
        Ok(self.finish(
            id,
            Some(mark.other()),
            EndReason::Resign,
            now,
            Some(uid),
            fx,
        ))
    }

    /// A game in play that `uid` plays, and `uid`'s mark in it.
    fn playing(&mut self, uid: i64, id: i64) -> Result<(&mut Game, Mark), Refusal> {
        let game = self.get(id)?;
        let Some(mark) = game.mark_of(uid) else {
            return Err(refuse(
                ErrorCode::NotAPlayer,
                "you are not playing this game",
            ));
        };
        if game.status != GameStatus::Playing {
            return Err(refuse(
                ErrorCode::GameNotInPlay,
                "nobody has accepted the invitation yet",
            ));
        }
        Ok((game, mark))
    }

    /// End a game in play: everyone is told the result, the record is stored.
    pub(super) fn finish(
        &mut self,
        id: i64,
        winner: Option<Mark>,
        reason: EndReason,
        now: UnixMillis,
        except: Option<i64>,
        fx: &mut Vec<Effect>,
    ) -> GameView {
        let Some(mut game) = self.games.remove(&id) else {
            unreachable_game(id);
            return closed_view(id);
        };
        let x = game.x.name.clone();
        let o = game.o.as_ref().map_or_else(String::new, |p| p.name.clone());
        let line = match game.board.outcome() {
            Some(Outcome::Win { line, .. }) => Some(line),
            _ => None,
        };
        let (winner_name, loser_name) = match winner {
            Some(Mark::X) => (Some(x.clone()), Some(o.clone())),
            Some(Mark::O) => (Some(o.clone()), Some(x.clone())),
            None => (None, None),
        };
        let summary = match (&winner_name, &loser_name) {
            (Some(w), Some(l)) => {
                let how = match reason {
                    EndReason::Resign => format!(" ({l} resigned)"),
                    EndReason::Timeout => format!(" ({l} ran out of time)"),
                    EndReason::Forfeit => format!(" ({l} left)"),
                    EndReason::Line | EndReason::Draw => String::new(),
                };
                format!("{w} beat {l} at tic-tac-toe{how}")
            }
            _ => format!("{x} and {o} drew at tic-tac-toe"),
        };
        game.status = GameStatus::Over;
        game.result = Some(GameResult {
            winner: winner_name,
            loser: loser_name,
            reason,
            line,
            summary,
        });
        fx.push(Effect::ToAll {
            msg: update(&game),
            except,
        });
        if let Some(o) = &game.o {
            fx.push(Effect::Record(FinishedGame {
                x_uid: game.x.uid,
                o_uid: o.uid,
                winner,
                reason,
                moves: game.board.moves().to_vec(),
                start_time: game.started,
                end_time: now,
            }));
        }
        game.view()
    }
}
