//! One game at the table: its players, board, clock and spectators, and how it
//! looks to clients ([`GameView`], the `game_update` event). The table's
//! operations change games; this module only answers questions about one.

use std::collections::HashSet;

use chatroom_shared::UnixMillis;
use chatroom_shared::message::{GameResult, GameStatus, GameUpdate, GameView, ServerMessage};
use chatroom_shared::tictactoe::{Mark, TicTacToe};

use super::Player;

/// An open invitation or a game in play, as the table holds it.
#[derive(Debug)]
pub(super) struct Game {
    pub(super) id: i64,
    pub(super) x: Player,
    pub(super) o: Option<Player>,
    pub(super) board: TicTacToe,
    pub(super) status: GameStatus,
    pub(super) created: UnixMillis,
    pub(super) started: UnixMillis,
    /// Invitation expiry (open), move deadline or reconnect deadline (playing).
    pub(super) deadline: UnixMillis,
    /// The player who left during play, and the move time they had left.
    pub(super) away: Option<(i64, i64)>,
    pub(super) spectators: HashSet<i64>,
    pub(super) result: Option<GameResult>,
}

impl Game {
    /// The mark `uid` plays in this game; `None` if not a player.
    pub(super) fn mark_of(&self, uid: i64) -> Option<Mark> {
        if self.x.uid == uid {
            Some(Mark::X)
        } else if self.o.as_ref().is_some_and(|o| o.uid == uid) {
            Some(Mark::O)
        } else {
            None
        }
    }

    /// Who plays `mark`; `None` for O before anyone accepted.
    pub(super) fn player(&self, mark: Mark) -> Option<&Player> {
        match mark {
            Mark::X => Some(&self.x),
            Mark::O => self.o.as_ref(),
        }
    }

    /// The game as clients see it.
    pub(super) fn view(&self) -> GameView {
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
    pub(super) fn audience(&self) -> Vec<i64> {
        let mut uids: Vec<i64> = self.spectators.iter().copied().collect();
        uids.push(self.x.uid);
        uids.extend(self.o.as_ref().map(|p| p.uid));
        uids.sort_unstable();
        uids.dedup();
        uids
    }
}

/// The `game_update` event for `game` as it is now.
pub(super) fn update(game: &Game) -> ServerMessage {
    ServerMessage::GameUpdate(GameUpdate { game: game.view() })
}

/// A game id the table just found is gone: a bug, logged, never a panic.
pub(super) fn unreachable_game(id: i64) {
    tracing::error!(id, "a game vanished from the table");
}

/// What to answer about a game that vanished (see [`unreachable_game`]).
pub(super) fn closed_view(id: i64) -> GameView {
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
