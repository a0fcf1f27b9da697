//! Invitations and seats: opening an invitation for anyone to accept,
//! withdrawing it, and taking the free seat (the first accept wins; accepting
//! withdraws one's own open invitation).

use std::collections::HashSet;

use chatroom_shared::message::{GameInvite, GameStatus, GameView, ServerMessage};
use chatroom_shared::tictactoe::TicTacToe;
use chatroom_shared::{ErrorCode, UnixMillis};

use super::game::{Game, closed_view, unreachable_game, update};
use super::{Answer, Effect, Player, Table, refuse};

impl Table {
    /// `game_invite`: open an invitation for anyone to accept.
    pub fn invite(&mut self, who: Player, now: UnixMillis, fx: &mut Vec<Effect>) -> Answer {
        if let Some(g) = self.engaged(who.uid) {
            let what = if g.status == GameStatus::Open {
                "you already have an open invitation; cancel it first"
            } else {
                "you are already playing a game"
            };
            return Err(refuse(ErrorCode::AlreadyInGame, what));
        }
        let id = self.next_id;
        self.next_id += 1;
        let uid = who.uid;
        let game = Game {
            id,
            x: who,
            o: None,
            board: TicTacToe::new(),
            status: GameStatus::Open,
            created: now,
            started: now,
            deadline: now + self.times.invite_ttl,
            away: None,
            spectators: HashSet::new(),
            result: None,
        };
        let view = game.view();
        fx.push(Effect::ToAll {
            msg: ServerMessage::GameInvite(GameInvite { game: view.clone() }),
            except: Some(uid),
        });
        self.games.insert(id, game);
        Ok(view)
    }

    /// `game_cancel`: the inviter withdraws an open invitation.
    pub fn cancel(&mut self, uid: i64, id: i64, fx: &mut Vec<Effect>) -> Answer {
        let game = self.get(id)?;
        if game.x.uid != uid {
            return Err(refuse(
                ErrorCode::NotAPlayer,
                "only the inviter can cancel an invitation",
            ));
        }
        if game.status != GameStatus::Open {
            return Err(refuse(
                ErrorCode::GameNotInPlay,
                "the game has started; resign instead",
            ));
        }
        Ok(self.close_open(id, GameStatus::Cancelled, Some(uid), fx))
    }

    /// End an open invitation (cancelled or expired) and tell everyone.
    pub(super) fn close_open(
        &mut self,
        id: i64,
        status: GameStatus,
        except: Option<i64>,
        fx: &mut Vec<Effect>,
    ) -> GameView {
        let Some(mut game) = self.games.remove(&id) else {
            unreachable_game(id);
            return closed_view(id);
        };
        game.status = status;
        let view = game.view();
        fx.push(Effect::ToAll {
            msg: update(&game),
            except,
        });
        view
    }

    /// `game_accept`: take the seat; the first accept wins.
    pub fn accept(
        &mut self,
        who: Player,
        id: i64,
        now: UnixMillis,
        fx: &mut Vec<Effect>,
    ) -> Answer {
        let move_timeout = self.times.move_timeout;
        let game = self.get(id)?;
        if game.x.uid == who.uid {
            return Err(refuse(
                ErrorCode::OwnGame,
                "you cannot accept your own invitation",
            ));
        }
        if game.status != GameStatus::Open {
            let o = game.o.as_ref().map_or("someone", |p| p.name.as_str());
            return Err(refuse(
                ErrorCode::GameTaken,
                format!("{o} accepted first; {} is playing {o}", game.x.name),
            ));
        }
        let own_open = match self.engaged(who.uid) {
            Some(g) if g.status == GameStatus::Playing => {
                return Err(refuse(
                    ErrorCode::AlreadyInGame,
                    "you are already playing a game",
                ));
            }
            Some(g) => Some(g.id),
            None => None,
        };
        if let Some(own) = own_open {
            self.close_open(own, GameStatus::Cancelled, None, fx);
        }
        let uid = who.uid;
        let game = self.get(id)?;
        game.o = Some(who);
        game.status = GameStatus::Playing;
        game.started = now;
        game.deadline = now + move_timeout;
        game.spectators.remove(&uid);
        fx.push(Effect::ToAll {
            msg: update(game),
            except: Some(uid),
        });
        Ok(game.view())
    }
}
