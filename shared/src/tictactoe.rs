//! Tic-tac-toe rules: the board, legal moves, turn order, and win and draw
//! detection, as pure code.
//!
//! The server decides every game with these rules and the client draws its board
//! with the very same code, so the two can never disagree. Cells are numbered 0 to
//! 8 row by row from the top left (the wire form); X always moves first.

use serde::{Deserialize, Serialize};

/// Number of cells on the board.
pub const CELLS: u8 = 9;

/// The eight lines that win: three rows, three columns, two diagonals.
pub const LINES: [[u8; 3]; 8] = [
    [0, 1, 2],
    [3, 4, 5],
    [6, 7, 8],
    [0, 3, 6],
    [1, 4, 7],
    [2, 5, 8],
    [0, 4, 8],
    [2, 4, 6],
];

/// A player's mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Mark {
    /// The first player (the inviter).
    X,
    /// The second player (who accepted).
    O,
}

impl Mark {
    /// The other player's mark.
    pub fn other(self) -> Self {
        match self {
            Self::X => Self::O,
            Self::O => Self::X,
        }
    }

    /// The mark as one character, as in [`TicTacToe::board_string`].
    pub fn as_char(self) -> char {
        match self {
            Self::X => 'X',
            Self::O => 'O',
        }
    }
}

/// How a finished board ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `mark` completed `line`.
    Win {
        /// The winner.
        mark: Mark,
        /// The three cells of the winning line, ascending.
        line: [u8; 3],
    },
    /// All nine cells are full and nobody has a line.
    Draw,
}

/// Why a move is illegal. An illegal move changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoveError {
    /// The cell number is not 0 to 8.
    #[error("cell {0} is off the board (cells are 0 to 8)")]
    OffBoard(u8),
    /// The cell already holds a mark.
    #[error("cell {0} is already taken")]
    CellTaken(u8),
    /// It is the other player's turn.
    #[error("it is not {0:?}'s turn")]
    NotYourTurn(Mark),
    /// The game has already ended.
    #[error("the game is over")]
    GameOver,
}

/// One game's state: the moves so far and what they add up to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicTacToe {
    cells: [Option<Mark>; CELLS as usize],
    moves: Vec<u8>,
    outcome: Option<Outcome>,
}

impl TicTacToe {
    /// An empty board, X to move.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replay `moves` (cells, X first) from an empty board.
    pub fn from_moves(moves: &[u8]) -> Result<Self, MoveError> {
        let mut game = Self::new();
        for &cell in moves {
            let mark = game.turn().ok_or(MoveError::GameOver)?;
            game.play(mark, cell)?;
        }
        Ok(game)
    }

    /// Whose turn it is; `None` once the game is over.
    pub fn turn(&self) -> Option<Mark> {
        if self.outcome.is_some() {
            return None;
        }
        Some(if self.moves.len().is_multiple_of(2) {
            Mark::X
        } else {
            Mark::O
        })
    }

    /// Place `mark` on `cell`. Returns the outcome if this move ended the game.
    pub fn play(&mut self, mark: Mark, cell: u8) -> Result<Option<Outcome>, MoveError> {
        let turn = self.turn().ok_or(MoveError::GameOver)?;
        if cell >= CELLS {
            return Err(MoveError::OffBoard(cell));
        }
        if mark != turn {
            return Err(MoveError::NotYourTurn(mark));
        }
        let slot = &mut self.cells[usize::from(cell)];
        if slot.is_some() {
            return Err(MoveError::CellTaken(cell));
        }
        *slot = Some(mark);
        self.moves.push(cell);
        self.outcome = self.judge();
        Ok(self.outcome)
    }

    fn judge(&self) -> Option<Outcome> {
        for line in LINES {
            let [a, b, c] = line.map(|i| self.cells[usize::from(i)]);
            if let Some(mark) = a
                && b == a
                && c == a
            {
                return Some(Outcome::Win { mark, line });
            }
        }
        self.moves
            .len()
            .eq(&usize::from(CELLS))
            .then_some(Outcome::Draw)
    }

    /// The mark on `cell` (`None` when empty or off the board).
    pub fn cell(&self, cell: u8) -> Option<Mark> {
        self.cells.get(usize::from(cell)).copied().flatten()
    }

    /// The moves so far, in order (X's first).
    pub fn moves(&self) -> &[u8] {
        &self.moves
    }

    /// How the game ended, once it has.
    pub fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }

    /// The board as nine characters row by row: `X`, `O` or `.` (the wire form
    /// of a board, easy to read in any language).
    pub fn board_string(&self) -> String {
        self.cells
            .iter()
            .map(|c| c.map_or('.', Mark::as_char))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Moves that make `mark` complete `line` while the other player plays
    /// cells outside it (never completing one of their own first).
    fn win_along(line: [u8; 3], mark: Mark) -> Vec<u8> {
        // The other player's cells: outside the line, and not three in a row.
        let others: Vec<u8> = (0..CELLS).filter(|c| !line.contains(c)).collect();
        let mut picks = Vec::new();
        'search: for a in 0..others.len() {
            for b in a + 1..others.len() {
                for c in b + 1..others.len() {
                    let trio = [others[a], others[b], others[c]];
                    let mut sorted = trio;
                    sorted.sort_unstable();
                    if !LINES.contains(&sorted) {
                        picks = trio.to_vec();
                        break 'search;
                    }
                }
            }
        }
        let mut moves = Vec::new();
        if mark == Mark::O {
            moves.push(picks.pop().unwrap());
        }
        for (i, &cell) in line.iter().enumerate() {
            moves.push(cell);
            if i < 2 {
                moves.push(picks[i]);
            }
        }
        moves
    }

    #[test]
    fn every_line_wins_for_either_mark() {
        for line in LINES {
            for mark in [Mark::X, Mark::O] {
                let moves = win_along(line, mark);
                let game = TicTacToe::from_moves(&moves).unwrap();
                assert_eq!(
                    game.outcome(),
                    Some(Outcome::Win { mark, line }),
                    "{moves:?}"
                );
                assert_eq!(game.turn(), None);
            }
        }
    }

    #[test]
    fn a_full_board_without_a_line_is_a_draw() {
        // X O X / X O O / O X X
        let game = TicTacToe::from_moves(&[0, 1, 2, 4, 3, 5, 7, 6, 8]).unwrap();
        assert_eq!(game.outcome(), Some(Outcome::Draw));
        assert_eq!(game.board_string(), "XOXXOOOXX");
        assert_eq!(game.turn(), None);
    }

    #[test]
    fn a_win_on_the_last_cell_is_a_win_not_a_draw() {
        // X O X / O X O / O X X: X completes 0-4-8 with the ninth move.
        let game = TicTacToe::from_moves(&[0, 1, 2, 3, 4, 5, 7, 6, 8]).unwrap();
        assert_eq!(
            game.outcome(),
            Some(Outcome::Win {
                mark: Mark::X,
                line: [0, 4, 8]
            })
        );
    }

    #[test]
    fn turns_alternate_starting_with_x() {
        let mut game = TicTacToe::new();
        assert_eq!(game.turn(), Some(Mark::X));
        assert_eq!(game.play(Mark::O, 0), Err(MoveError::NotYourTurn(Mark::O)));
        game.play(Mark::X, 4).unwrap();
        assert_eq!(game.turn(), Some(Mark::O));
        assert_eq!(game.play(Mark::X, 0), Err(MoveError::NotYourTurn(Mark::X)));
        game.play(Mark::O, 0).unwrap();
        assert_eq!(game.turn(), Some(Mark::X));
        assert_eq!(game.moves(), &[4, 0]);
    }

    #[test]
    fn illegal_moves_change_nothing() {
        let mut game = TicTacToe::from_moves(&[4]).unwrap();
        let before = game.clone();
        assert_eq!(game.play(Mark::O, 4), Err(MoveError::CellTaken(4)));
        assert_eq!(game.play(Mark::O, 9), Err(MoveError::OffBoard(9)));
        assert_eq!(game.play(Mark::O, 255), Err(MoveError::OffBoard(255)));
        assert_eq!(game, before);
        let mut won = TicTacToe::from_moves(&[0, 3, 1, 4, 2]).unwrap();
        let ended = won.clone();
        assert_eq!(won.play(Mark::O, 8), Err(MoveError::GameOver));
        assert_eq!(won, ended);
        assert_eq!(
            TicTacToe::from_moves(&[0, 3, 1, 4, 2, 8]),
            Err(MoveError::GameOver)
        );
    }

    /// Every reachable game (all 255,168 of them) from the empty board: the rules
    /// hold in each position, and the totals match the known counts.
    #[test]
    fn exhaustive_game_tree() {
        #[derive(Default)]
        struct Count {
            x: u32,
            o: u32,
            draw: u32,
        }
        fn walk(game: &TicTacToe, count: &mut Count) {
            let Some(mark) = game.turn() else {
                match game.outcome() {
                    Some(Outcome::Win { mark: Mark::X, .. }) => count.x += 1,
                    Some(Outcome::Win { mark: Mark::O, .. }) => count.o += 1,
                    Some(Outcome::Draw) => count.draw += 1,
                    None => panic!("no turn and no outcome"),
                }
                return;
            };
            assert!(game.play_clone(mark.other(), 0).is_err());
            for cell in 0..CELLS {
                let mut next = game.clone();
                match next.play(mark, cell) {
                    Ok(_) => {
                        assert_eq!(next.cell(cell), Some(mark));
                        assert_eq!(next.moves().len(), game.moves().len() + 1);
                        assert_eq!(TicTacToe::from_moves(next.moves()).unwrap(), next);
                        walk(&next, count);
                    }
                    Err(e) => {
                        assert_eq!(e, MoveError::CellTaken(cell));
                        assert!(game.cell(cell).is_some());
                        assert_eq!(&next, game);
                    }
                }
            }
        }
        let mut count = Count::default();
        walk(&TicTacToe::new(), &mut count);
        assert_eq!((count.x, count.o, count.draw), (131_184, 77_904, 46_080));
    }

    impl TicTacToe {
        fn play_clone(&self, mark: Mark, cell: u8) -> Result<Option<Outcome>, MoveError> {
            self.clone().play(mark, cell)
        }
    }
}
