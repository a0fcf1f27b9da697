//! Every game on this server and the rules of their lives, as pure state: each
//! operation takes the time as an argument and returns the reply plus the
//! [`Effect`]s to carry out (events to send, a record to store). The game task
//! ([`super`]) owns one table and does the IO, so everything here is tested
//! without sockets or clocks.

use std::collections::{BTreeMap, HashMap, HashSet};

use chatroom_shared::message::{
    EndReason, GameInvite, GameResult, GameStatus, GameUpdate, GameView, ServerMessage,
};
use chatroom_shared::tictactoe::{Mark, MoveError, Outcome, TicTacToe};
use chatroom_shared::{ErrorCode, UnixMillis};

use crate::db::games::FinishedGame;

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

#[derive(Debug)]
struct Game {
    id: i64,
    x: Player,
    o: Option<Player>,
    board: TicTacToe,
    status: GameStatus,
    created: UnixMillis,
    started: UnixMillis,
    /// Invitation expiry (open), move deadline or reconnect deadline (playing).
    deadline: UnixMillis,
    /// The player who left during play, and the move time they had left.
    away: Option<(i64, i64)>,
    spectators: HashSet<i64>,
    result: Option<GameResult>,
}

impl Game {
    fn mark_of(&self, uid: i64) -> Option<Mark> {
        if self.x.uid == uid {
            Some(Mark::X)
        } else if self.o.as_ref().is_some_and(|o| o.uid == uid) {
            Some(Mark::O)
        } else {
            None
        }
    }

    fn player(&self, mark: Mark) -> Option<&Player> {
        match mark {
            Mark::X => Some(&self.x),
            Mark::O => self.o.as_ref(),
        }
    }

    fn view(&self) -> GameView {
        let turn = match self.status {
            GameStatus::Playing => self
                .board
                .turn()
                .and_then(|m| self.player(m))
                .map(|p| p.name.clone()),
            _ => None,
        };
        let deadline =
            matches!(self.status, GameStatus::Open | GameStatus::Playing).then_some(self.deadline);
        GameView {
            id: self.id,
            status: self.status,
            x: self.x.name.clone(),
            o: self.o.as_ref().map(|p| p.name.clone()),
            moves: self.board.moves().to_vec(),
            board: self.board.board_string(),
            turn,
            deadline,
            result: self.result.clone(),
            created: self.created,
        }
    }

    /// The players and spectators: who follows the moves.
    fn audience(&self) -> Vec<i64> {
        let mut uids: Vec<i64> = self.spectators.iter().copied().collect();
        uids.push(self.x.uid);
        uids.extend(self.o.as_ref().map(|p| p.uid));
        uids.sort_unstable();
        uids.dedup();
        uids
    }
}

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

fn update(game: &Game) -> ServerMessage {
    ServerMessage::GameUpdate(GameUpdate { game: game.view() })
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
    fn close_open(
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
    fn finish(
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

/// A game id the table just found is gone: a bug, logged, never a panic.
fn unreachable_game(id: i64) {
    tracing::error!(id, "a game vanished from the table");
}

/// What to answer about a game that vanished (see [`unreachable_game`]).
fn closed_view(id: i64) -> GameView {
    GameView {
        id,
        status: GameStatus::Cancelled,
        x: String::new(),
        o: None,
        moves: Vec::new(),
        board: TicTacToe::new().board_string(),
        turn: None,
        deadline: None,
        result: None,
        created: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMES: Times = Times {
        invite_ttl: 300_000,
        move_timeout: 60_000,
        reconnect_grace: 30_000,
    };

    fn p(uid: i64, name: &str) -> Player {
        Player {
            uid,
            name: name.into(),
        }
    }

    /// A table with alice (1) and bob (2) online and playing game 1, alice X.
    fn playing() -> (Table, i64) {
        let mut t = Table::new(TIMES);
        t.online(1, 10, 0);
        t.online(2, 20, 0);
        let mut fx = Vec::new();
        let id = t.invite(p(1, "alice"), 0, &mut fx).unwrap().id;
        t.accept(p(2, "bob"), id, 0, &mut fx).unwrap();
        (t, id)
    }

    fn code(r: Answer) -> ErrorCode {
        r.unwrap_err().0
    }

    #[test]
    fn invite_tells_everyone_else_and_the_first_accept_wins() {
        let mut t = Table::new(TIMES);
        let mut fx = Vec::new();
        let g = t.invite(p(1, "alice"), 5, &mut fx).unwrap();
        assert_eq!(g.status, GameStatus::Open);
        assert_eq!(g.deadline, Some(5 + TIMES.invite_ttl));
        assert!(matches!(
            &fx[0],
            Effect::ToAll {
                msg: ServerMessage::GameInvite(_),
                except: Some(1)
            }
        ));
        assert_eq!(
            code(t.accept(p(1, "alice"), g.id, 6, &mut fx)),
            ErrorCode::OwnGame
        );
        let taken = t.accept(p(2, "bob"), g.id, 6, &mut fx).unwrap();
        assert_eq!(taken.status, GameStatus::Playing);
        assert_eq!(taken.turn.as_deref(), Some("alice"));
        let (c, msg) = t.accept(p(3, "carol"), g.id, 7, &mut fx).unwrap_err();
        assert_eq!(c, ErrorCode::GameTaken);
        assert!(msg.contains("bob"), "{msg}");
        assert_eq!(
            code(t.invite(p(2, "bob"), 8, &mut fx)),
            ErrorCode::AlreadyInGame
        );
        assert_eq!(
            code(t.invite(p(1, "alice"), 8, &mut fx)),
            ErrorCode::AlreadyInGame
        );
    }

    #[test]
    fn a_game_to_a_win_is_announced_and_recorded() {
        let (mut t, id) = playing();
        let mut fx = Vec::new();
        for (uid, cell) in [(1, 0), (2, 3), (1, 1), (2, 4)] {
            t.play(uid, id, cell, 1, &mut fx).unwrap();
        }
        // Moves go to the other player (and spectators), not to everyone.
        assert!(matches!(&fx[0], Effect::ToUsers { uids, .. } if uids == &vec![2]));
        fx.clear();
        let end = t.play(1, id, 2, 9, &mut fx).unwrap();
        let result = end.result.unwrap();
        assert_eq!(end.status, GameStatus::Over);
        assert_eq!(result.summary, "alice beat bob at tic-tac-toe");
        assert_eq!(result.line, Some([0, 1, 2]));
        assert!(matches!(
            &fx[0],
            Effect::ToAll {
                except: Some(1),
                ..
            }
        ));
        assert_eq!(
            fx[1],
            Effect::Record(FinishedGame {
                x_uid: 1,
                o_uid: 2,
                winner: Some(Mark::X),
                reason: EndReason::Line,
                moves: vec![0, 3, 1, 4, 2],
                start_time: 0,
                end_time: 9,
            })
        );
        assert!(t.list().is_empty());
        assert_eq!(code(t.play(2, id, 5, 10, &mut fx)), ErrorCode::GameNotFound);
    }

    #[test]
    fn illegal_moves_are_refused_and_change_nothing() {
        let (mut t, id) = playing();
        let mut fx = Vec::new();
        assert_eq!(code(t.play(2, id, 0, 1, &mut fx)), ErrorCode::NotYourTurn);
        assert_eq!(code(t.play(3, id, 0, 1, &mut fx)), ErrorCode::NotAPlayer);
        assert_eq!(code(t.play(1, id, 9, 1, &mut fx)), ErrorCode::InvalidCell);
        assert_eq!(code(t.play(1, 99, 0, 1, &mut fx)), ErrorCode::GameNotFound);
        t.play(1, id, 4, 1, &mut fx).unwrap();
        assert_eq!(code(t.play(2, id, 4, 1, &mut fx)), ErrorCode::CellTaken);
        assert_eq!(t.list()[0].moves, vec![4]);
        let open = t.invite(p(3, "carol"), 1, &mut fx).unwrap().id;
        assert_eq!(
            code(t.play(3, open, 0, 1, &mut fx)),
            ErrorCode::GameNotInPlay
        );
    }

    #[test]
    fn a_draw_and_a_resignation() {
        let (mut t, id) = playing();
        let mut fx = Vec::new();
        let moves = [0, 1, 2, 4, 3, 5, 7, 6, 8];
        let mut last = None;
        for (i, cell) in moves.into_iter().enumerate() {
            last = Some(
                t.play(if i % 2 == 0 { 1 } else { 2 }, id, cell, 1, &mut fx)
                    .unwrap(),
            );
        }
        let r = last.unwrap().result.unwrap();
        assert_eq!((r.reason, r.winner), (EndReason::Draw, None));
        assert_eq!(r.summary, "alice and bob drew at tic-tac-toe");

        let (mut t, id) = playing();
        let end = t.resign(1, id, 2, &mut fx).unwrap().result.unwrap();
        assert_eq!(
            end.summary,
            "bob beat alice at tic-tac-toe (alice resigned)"
        );
    }

    #[test]
    fn the_player_to_move_loses_on_timeout() {
        let (mut t, id) = playing();
        let mut fx = Vec::new();
        t.play(1, id, 4, 1_000, &mut fx).unwrap();
        assert_eq!(t.next_deadline(), Some(1_000 + TIMES.move_timeout));
        t.tick(1_000 + TIMES.move_timeout - 1, &mut fx);
        assert_eq!(t.list().len(), 1);
        fx.clear();
        t.tick(1_000 + TIMES.move_timeout, &mut fx);
        assert!(t.list().is_empty());
        let Effect::ToAll {
            msg: ServerMessage::GameUpdate(u),
            ..
        } = &fx[0]
        else {
            panic!("{fx:?}")
        };
        let r = u.game.result.clone().unwrap();
        assert_eq!(
            (r.reason, r.winner.as_deref()),
            (EndReason::Timeout, Some("alice"))
        );
    }

    /// alice and bob playing game 1 (one move each), carol watching it, dave's
    /// invitation open; everyone online.
    fn busy_table() -> (Table, i64, i64) {
        let (mut t, game) = playing();
        let mut fx = Vec::new();
        t.online(3, 30, 0);
        t.online(4, 40, 0);
        t.play(1, game, 4, 1_000, &mut fx).unwrap();
        t.play(2, game, 0, 2_000, &mut fx).unwrap();
        t.watch(3, game).unwrap();
        let open = t.invite(p(4, "dave"), 3_000, &mut fx).unwrap().id;
        (t, game, open)
    }

    fn online_map(pairs: &[(i64, u64)]) -> HashMap<i64, u64> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn a_restored_snapshot_is_the_same_table_and_play_goes_on() {
        let (t, game, open) = busy_table();
        let snapshot = t.snapshot();
        assert_eq!(snapshot.games(), 2);
        // Through the wire format, as it crosses between nodes.
        let json = serde_json::to_string(&snapshot).unwrap();
        let mut taken = Table::new(TIMES);
        let mut fx = Vec::new();
        let everyone = online_map(&[(1, 10), (2, 20), (3, 30), (4, 40)]);
        taken.restore(
            Some(serde_json::from_str(&json).unwrap()),
            &everyone,
            4_000,
            &mut fx,
        );
        assert!(fx.is_empty(), "nobody left, nothing to tell: {fx:?}");
        assert_eq!(taken.list(), t.list());
        assert_eq!(taken.snapshot(), snapshot);
        // The game goes on where it was: alice's move, then bob's; carol follows.
        fx.clear();
        let g = taken.play(1, game, 8, 5_000, &mut fx).unwrap();
        assert_eq!(g.moves, vec![4, 0, 8]);
        assert!(
            fx.iter()
                .any(|e| matches!(e, Effect::ToUsers { uids, .. } if uids.contains(&3)))
        );
        assert_eq!(
            code(taken.play(1, game, 1, 5_100, &mut fx)),
            ErrorCode::NotYourTurn
        );
        // dave's invitation is still open; new ids follow the old ones.
        taken.accept(p(3, "carol"), open, 6_000, &mut fx).unwrap();
        let next = taken.invite(p(5, "erin"), 6_000, &mut fx).unwrap().id;
        assert!(next > open, "{next} reuses an id");
    }

    #[test]
    fn logins_of_people_not_in_a_game_leave_the_snapshot_as_it_was() {
        let (mut t, _, _) = busy_table();
        let before = t.snapshot();
        t.online(9, 90, 5_000);
        let mut fx = Vec::new();
        t.offline(9, 90, 6_000, &mut fx);
        t.online(8, 80, 7_000);
        assert_eq!(t.snapshot(), before);
        // A player's new session does change it.
        t.online(1, 11, 8_000);
        assert_ne!(t.snapshot(), before);
    }

    #[test]
    fn who_was_on_the_dead_node_leaves_when_the_table_is_taken_over() {
        let (t, game, open) = busy_table();
        // bob and dave were on the node that died; alice and carol are here,
        // and carol has logged in again since (a new session).
        let here = online_map(&[(1, 10), (3, 31)]);
        let mut taken = Table::new(TIMES);
        let mut fx = Vec::new();
        taken.restore(Some(t.snapshot()), &here, 10_000, &mut fx);
        // dave's invitation ends, as when an inviter leaves.
        let cancelled = fx.iter().any(|e| {
            matches!(e, Effect::ToAll { msg: ServerMessage::GameUpdate(u), .. }
                if u.game.id == open && u.game.status == GameStatus::Cancelled)
        });
        assert!(cancelled, "{fx:?}");
        // bob has the reconnect grace to come back; he does not, and forfeits.
        assert_eq!(taken.next_deadline(), Some(10_000 + TIMES.reconnect_grace));
        fx.clear();
        taken.tick(10_000 + TIMES.reconnect_grace, &mut fx);
        let over = fx.iter().find_map(|e| match e {
            Effect::ToAll {
                msg: ServerMessage::GameUpdate(u),
                ..
            } if u.game.id == game => u.game.result.clone(),
            _ => None,
        });
        let result = over.expect("the game ended");
        assert_eq!(result.reason, EndReason::Forfeit);
        assert_eq!(result.winner.as_deref(), Some("alice"));
        assert!(fx.iter().any(|e| matches!(e, Effect::Record(_))));
    }

    #[test]
    fn a_player_back_on_another_node_plays_on_after_a_takeover() {
        let (t, game, _) = busy_table();
        // bob was away (his node died) and logged in again elsewhere, session 21.
        let here = online_map(&[(1, 10), (2, 21), (3, 30), (4, 40)]);
        let mut taken = Table::new(TIMES);
        let mut fx = Vec::new();
        taken.restore(Some(t.snapshot()), &here, 10_000, &mut fx);
        taken.play(1, game, 8, 11_000, &mut fx).unwrap();
        taken.play(2, game, 2, 12_000, &mut fx).unwrap();
        // His old session's "left" arrives late and changes nothing.
        taken.offline(2, 20, 13_000, &mut fx);
        assert_eq!(taken.next_deadline(), Some(12_000 + TIMES.move_timeout));
    }

    #[test]
    fn taking_over_from_a_node_that_sent_no_snapshot_leaves_no_stale_games() {
        let (mut t, _, open) = busy_table();
        let mut fx = Vec::new();
        t.restore(None, &online_map(&[(1, 10)]), 10_000, &mut fx);
        assert!(t.list().is_empty());
        assert!(fx.is_empty(), "{fx:?}");
        let next = t.invite(p(1, "alice"), 10_000, &mut fx).unwrap().id;
        assert!(next > open);
    }

    #[test]
    fn leaving_forfeits_after_the_grace_period_unless_back_in_time() {
        let (mut t, id) = playing();
        let mut fx = Vec::new();
        t.play(1, id, 4, 1_000, &mut fx).unwrap();
        // bob leaves at 2s with 59s on his clock; back at 20s: 59s again.
        t.offline(2, 20, 2_000, &mut fx);
        assert_eq!(t.next_deadline(), Some(2_000 + TIMES.reconnect_grace));
        t.online(2, 21, 20_000);
        assert_eq!(t.next_deadline(), Some(20_000 + 59_000));
        t.play(2, id, 0, 21_000, &mut fx).unwrap();
        // A stale "left" from the replaced session changes nothing.
        t.offline(2, 20, 22_000, &mut fx);
        assert_eq!(t.next_deadline(), Some(21_000 + TIMES.move_timeout));
        // alice leaves for good: she forfeits when the grace period ends.
        t.offline(1, 10, 23_000, &mut fx);
        fx.clear();
        t.tick(23_000 + TIMES.reconnect_grace, &mut fx);
        let Effect::ToAll {
            msg: ServerMessage::GameUpdate(u),
            ..
        } = &fx[0]
        else {
            panic!("{fx:?}")
        };
        let r = u.game.result.clone().unwrap();
        assert_eq!(r.reason, EndReason::Forfeit);
        assert_eq!(r.summary, "bob beat alice at tic-tac-toe (alice left)");
    }

    #[test]
    fn invitations_end_when_cancelled_expired_the_inviter_leaves_or_accepts_another() {
        let mut t = Table::new(TIMES);
        let mut fx = Vec::new();
        t.online(1, 10, 0);
        let a = t.invite(p(1, "alice"), 0, &mut fx).unwrap().id;
        assert_eq!(code(t.cancel(2, a, &mut fx)), ErrorCode::NotAPlayer);
        assert_eq!(
            t.cancel(1, a, &mut fx).unwrap().status,
            GameStatus::Cancelled
        );
        let b = t.invite(p(1, "alice"), 0, &mut fx).unwrap().id;
        t.tick(TIMES.invite_ttl, &mut fx);
        assert!(t.list().is_empty(), "invitation {b} did not expire");
        t.invite(p(1, "alice"), 0, &mut fx).unwrap();
        t.offline(1, 10, 1, &mut fx);
        assert!(t.list().is_empty());
        // Accepting someone else's invitation withdraws your own.
        let own = t.invite(p(1, "alice"), 0, &mut fx).unwrap().id;
        let other = t.invite(p(2, "bob"), 0, &mut fx).unwrap().id;
        t.accept(p(1, "alice"), other, 1, &mut fx).unwrap();
        let ids: Vec<i64> = t.list().iter().map(|g| g.id).collect();
        assert_eq!(ids, vec![other], "own invitation {own} still open");
    }

    #[test]
    fn a_page_of_games_is_a_range_of_ids() {
        let mut t = Table::new(TIMES);
        let mut fx = Vec::new();
        let ids: Vec<i64> = (1..=5)
            .map(|uid| t.invite(p(uid, "x"), 0, &mut fx).unwrap().id)
            .collect();
        let page = |after, n| -> Vec<i64> { t.list_page(after, n).iter().map(|g| g.id).collect() };
        assert_eq!(page(None, 2), ids[..2]);
        assert_eq!(page(Some(ids[1]), 2), ids[2..4]);
        assert_eq!(page(Some(ids[3]), 9), ids[4..]);
        assert!(page(Some(ids[4]), 9).is_empty());
        assert_eq!(page(Some(0), 9), ids, "a cursor need not be a game");
    }

    #[test]
    fn spectators_follow_moves_until_they_stop_or_leave() {
        let (mut t, id) = playing();
        let mut fx = Vec::new();
        t.online(3, 30, 0);
        assert_eq!(t.watch(3, id).unwrap().id, id);
        t.play(1, id, 4, 1, &mut fx).unwrap();
        assert!(matches!(&fx[0], Effect::ToUsers { uids, .. } if uids == &vec![2, 3]));
        t.unwatch(3, id).unwrap();
        fx.clear();
        t.play(2, id, 0, 1, &mut fx).unwrap();
        assert!(matches!(&fx[0], Effect::ToUsers { uids, .. } if uids == &vec![1]));
        t.watch(3, id).unwrap();
        t.offline(3, 30, 2, &mut fx);
        fx.clear();
        t.play(1, id, 1, 3, &mut fx).unwrap();
        assert!(matches!(&fx[0], Effect::ToUsers { uids, .. } if uids == &vec![2]));
    }
}
