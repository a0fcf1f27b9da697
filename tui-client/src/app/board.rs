//! The one game on the board, as the app keeps it: the server's view of it,
//! who the user is in it, the cursor, and whether a move is on its way. Moves
//! are checked here with the shared rules before they go out.

use chatroom_shared::message::{GameStatus, GameView};
use chatroom_shared::tictactoe::{Mark, MoveError, TicTacToe};

/// The cell the cursor starts on: the centre.
pub const CENTRE: u8 = 4;

/// Who the user is in the game on the board.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// One of the two players, with this mark.
    Player(Mark),
    /// Watching someone else's game.
    Spectator,
}

/// The game on the board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Board {
    /// The game as the server last described it.
    pub game: GameView,
    /// Who the user is in it.
    pub role: Role,
    /// The cell the cursor is on, 0 to 8 (row by row from the top left).
    pub cursor: u8,
    /// A move went out and its answer has not come yet (a second one is held
    /// back rather than refused by the server).
    pub awaiting: bool,
    /// `r` was pressed on the board: the board asks "resign?" and `y`
    /// resigns (a stray `r` meant for the input must not give the game up).
    pub resign_asked: bool,
}

impl Board {
    /// The board for `game`, the cursor on the centre (or the first empty
    /// cell when the centre is taken).
    pub fn new(game: GameView, role: Role) -> Self {
        let cursor = if game.board.as_bytes().get(usize::from(CENTRE)) == Some(&b'.') {
            CENTRE
        } else {
            first_empty(&game).unwrap_or(CENTRE)
        };
        Self {
            game,
            role,
            cursor,
            awaiting: false,
            resign_asked: false,
        }
    }

    /// True while the game is in play.
    pub fn in_play(&self) -> bool {
        self.game.status == GameStatus::Playing
    }

    /// The user's mark, when playing.
    pub fn mark(&self) -> Option<Mark> {
        match self.role {
            Role::Player(m) => Some(m),
            Role::Spectator => None,
        }
    }

    /// The mark of the player to move (`None` once the game is over).
    pub fn turn_mark(&self) -> Option<Mark> {
        if !self.in_play() {
            return None;
        }
        let turn = self.game.turn.as_deref()?;
        if turn == self.game.x {
            Some(Mark::X)
        } else if self.game.o.as_deref() == Some(turn) {
            Some(Mark::O)
        } else {
            None
        }
    }

    /// True when the user may move now (ignoring a move on its way).
    pub fn my_turn(&self) -> bool {
        self.mark().is_some() && self.turn_mark() == self.mark()
    }

    /// The mark on `cell`, read from the view's board string.
    pub fn cell(&self, cell: u8) -> Option<Mark> {
        match self.game.board.as_bytes().get(usize::from(cell)) {
            Some(b'X') => Some(Mark::X),
            Some(b'O') => Some(Mark::O),
            _ => None,
        }
    }

    /// The winning line's cells, once a line decided the game.
    pub fn winning_line(&self) -> Option<[u8; 3]> {
        self.game.result.as_ref().and_then(|r| r.line)
    }

    /// The last move played, if any (drawn so the opponent's reply stands out).
    pub fn last_move(&self) -> Option<u8> {
        self.game.moves.last().copied()
    }

    /// Check a move on `cell` with the shared rules before sending it; the
    /// reason for people when it cannot be played.
    pub fn check_move(&self, cell: u8) -> Result<(), String> {
        let Some(mark) = self.mark() else {
            return Err(format!(
                "You are watching: only {} and {} play.",
                self.game.x,
                self.game.o.as_deref().unwrap_or("?")
            ));
        };
        if !self.in_play() {
            return Err("The game is over.".to_owned());
        }
        if self.awaiting {
            return Err("Your move is on its way; wait for it.".to_owned());
        }
        let mut rules = TicTacToe::from_moves(&self.game.moves)
            .map_err(|e| format!("This board cannot be played: {e}."))?;
        match rules.play(mark, cell) {
            Ok(_) => Ok(()),
            Err(MoveError::NotYourTurn(_)) => Err(format!(
                "It is {}'s turn: wait for their move.",
                self.game.turn.as_deref().unwrap_or("the other player")
            )),
            Err(MoveError::CellTaken(c)) => Err(format!(
                "Cell {} is taken: pick an empty one.",
                u16::from(c) + 1
            )),
            Err(MoveError::OffBoard(_)) => Err("Cells are 1 to 9.".to_owned()),
            Err(MoveError::GameOver) => Err("The game is over.".to_owned()),
        }
    }

    /// Move the cursor one cell (clamped at the edges).
    pub fn step_cursor(&mut self, d_row: i8, d_col: i8) {
        let row = (self.cursor / 3).saturating_add_signed(d_row).min(2);
        let col = (self.cursor % 3).saturating_add_signed(d_col).min(2);
        self.cursor = row * 3 + col;
    }
}

fn first_empty(game: &GameView) -> Option<u8> {
    (0u8..9).find(|&c| game.board.as_bytes().get(usize::from(c)) == Some(&b'.'))
}
