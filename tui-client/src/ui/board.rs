//! The tic-tac-toe board: a widget of its own that draws one [`Board`] (the
//! players, the 3×3 grid with X and O, the cursor, the winning line, and whose
//! turn it is or how the game ended).
//!
//! The grid comes in three sizes, and the layout gives the board pane the
//! height of one of them, from the room it has ([`Size::pane_height`]):
//! large (framed cells of 5×3), medium (cells of 3×1 with rules between rows
//! and columns, as the game is drawn on paper) and small (rules between
//! columns only). Every size shows all nine cells: empty ones show their key
//! (1-9) while the user may move, a dot otherwise. [`geometry`] places the
//! grid, and [`cell_at`] maps a click back to a cell with the very same
//! arithmetic. Nothing is drawn outside the pane, whatever its size.
//!
//! The cursor cell is drawn in brackets and reversed while the board has the
//! focus, the winning line on a green background. While it is the user's
//! turn and the board does not have the focus, its border and title say so
//! (F2 goes there): a game never takes the focus by itself.

use chatroom_shared::UnixMillis;
use chatroom_shared::message::{EndReason, GameStatus};
use chatroom_shared::tictactoe::Mark;
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget};

use super::theme;
use crate::app::games::{Board, Role};
use crate::text::{str_width, truncate};

/// Rows above the grid inside the pane (the players).
const HEAD_ROWS: u16 = 1;
/// Rows below the grid inside the pane (whose turn, or the result).
const FOOT_ROWS: u16 = 1;

/// The sizes the grid is drawn in, largest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// Framed cells of 5×3.
    Large,
    /// Cells of 3×1, rules between rows and columns, no frame.
    Medium,
    /// Cells of 3×1, rules between columns only.
    Small,
}

impl Size {
    /// Every size, largest first.
    pub const ALL: [Self; 3] = [Self::Large, Self::Medium, Self::Small];

    /// Width and height of one cell.
    const fn cell(self) -> (u16, u16) {
        match self {
            Self::Large => (5, 3),
            Self::Medium | Self::Small => (3, 1),
        }
    }

    /// True when the grid has a frame round it.
    const fn framed(self) -> bool {
        matches!(self, Self::Large)
    }

    /// True when rules separate the rows.
    const fn row_rules(self) -> bool {
        !matches!(self, Self::Small)
    }

    /// Width and height of the whole grid.
    const fn grid(self) -> (u16, u16) {
        let (w, h) = self.cell();
        let frame = if self.framed() { 2 } else { 0 };
        let rules = if self.row_rules() { 2 } else { 0 };
        (3 * w + 2 + frame, 3 * h + rules + frame)
    }

    /// Height of a board pane showing this size, borders included.
    pub const fn pane_height(self) -> u16 {
        2 + HEAD_ROWS + self.grid().1 + FOOT_ROWS
    }

    /// Width of a board pane showing this size, borders included.
    pub const fn pane_width(self) -> u16 {
        2 + self.grid().0
    }
}

/// Where the grid is drawn inside a board pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// The grid's top-left corner.
    origin: Position,
    /// The size drawn.
    pub size: Size,
}

impl Geometry {
    /// The screen rectangle of `cell` (0 to 8) inside the rules.
    pub fn cell_rect(self, cell: u8) -> Rect {
        let (w, h) = self.size.cell();
        let (row, col) = (u16::from(cell / 3), u16::from(cell % 3));
        let frame = u16::from(self.size.framed());
        let rule = u16::from(self.size.row_rules());
        Rect {
            x: self.origin.x + frame + col * (w + 1),
            y: self.origin.y + frame + row * (h + rule),
            width: w,
            height: h,
        }
    }
}

/// Where the grid goes in the board pane `area` (borders included): the
/// largest size that fits, centred.
pub fn geometry(area: Rect) -> Geometry {
    let inner = Block::bordered().inner(area);
    let room = inner.height.saturating_sub(HEAD_ROWS + FOOT_ROWS);
    let size = Size::ALL
        .into_iter()
        .find(|s| {
            let (w, h) = s.grid();
            w <= inner.width && h <= room
        })
        .unwrap_or(Size::Small);
    let (w, _) = size.grid();
    Geometry {
        origin: Position {
            x: inner.x + inner.width.saturating_sub(w) / 2,
            y: inner.y + HEAD_ROWS,
        },
        size,
    }
}

/// The cell drawn at column `x`, row `y` of the board pane `area`, if any.
pub fn cell_at(area: Rect, x: u16, y: u16) -> Option<u8> {
    let g = geometry(area);
    (0..9).find(|&c| g.cell_rect(c).contains(Position { x, y }))
}

/// Draws one game: built afresh for every frame from the board's state.
pub struct BoardView<'a> {
    /// The game and the cursor.
    pub board: &'a Board,
    /// The user's name ("you" in texts).
    pub me: &'a str,
    /// Now, for the time left to move.
    pub now: UnixMillis,
    /// The board has the keyboard focus (the cursor is shown).
    pub focused: bool,
}

impl Widget for BoardView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let game = &self.board.game;
        let waiting_for_me = !self.focused && self.board.in_play() && self.board.my_turn();
        let title = match self.board.role {
            _ if waiting_for_me => " Your move: F2 ".to_owned(),
            Role::Player(_) => format!(" Tic-tac-toe · game {} ", game.id),
            Role::Spectator => format!(" Watching · game {} ", game.id),
        };
        let border = if waiting_for_me {
            theme::your_turn()
        } else {
            super::border(self.focused)
        };
        let block = Block::bordered().title(title).border_style(border);
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.is_empty() {
            return;
        }
        let width = usize::from(inner.width);
        let head = Rect {
            height: HEAD_ROWS.min(inner.height),
            ..inner
        };
        Paragraph::new(self.players(width)).render(head, buf);
        let g = geometry(area);
        self.draw_grid(g, inner, buf);
        let (_, grid_h) = g.size.grid();
        let foot_y = g.origin.y + grid_h;
        if foot_y < inner.bottom() {
            let foot = Rect {
                y: foot_y,
                height: FOOT_ROWS.min(inner.bottom() - foot_y),
                ..inner
            };
            Paragraph::new(self.status(width)).render(foot, buf);
        }
    }
}

/// The first of `lines` that fits in `width` columns (the last one, cut,
/// when none does), centred.
fn fitting(lines: Vec<Line<'static>>, width: usize) -> Line<'static> {
    let last = lines.len().saturating_sub(1);
    lines
        .into_iter()
        .enumerate()
        .find(|(i, l)| *i == last || l.width() <= width)
        .map(|(_, l)| l.centered())
        .unwrap_or_default()
}

impl BoardView<'_> {
    /// "X alice vs O bob", names cut to fit `width`.
    fn players(&self, width: usize) -> Line<'static> {
        let game = &self.board.game;
        let o = game.o.clone().unwrap_or_else(|| "?".into());
        let line = |room: usize| {
            let name = |n: &str| {
                let shown = if n == self.me { "you" } else { n };
                Span::styled(truncate(shown, room), Style::new().fg(theme::user_color(n)))
            };
            Line::from(vec![
                Span::styled("X ", theme::mark(Mark::X)),
                name(&game.x),
                Span::raw(" vs "),
                Span::styled("O ", theme::mark(Mark::O)),
                name(&o),
            ])
        };
        fitting(vec![line(10), line(7), line(4)], width)
    }

    /// Draw the rules and the cells, clipped to `inner` (the pane inside
    /// its border).
    fn draw_grid(&self, g: Geometry, inner: Rect, buf: &mut Buffer) {
        let (w, h) = g.size.cell();
        let rules = theme::board_rules();
        let mut put = |x: u16, y: u16, s: &str, style: Style| {
            if inner.contains(Position { x, y }) {
                buf.set_stringn(x, y, s, usize::from(inner.right() - x), style);
            }
        };
        let cells = |left: &str, mid: &str, right: &str, fill: &str| {
            let seg = fill.repeat(usize::from(w));
            format!("{left}{seg}{mid}{seg}{mid}{seg}{right}")
        };
        let (x0, y0) = (g.origin.x, g.origin.y);
        if g.size.framed() {
            put(x0, y0, &cells("┌", "┬", "┐", "─"), rules);
        }
        for row in 0..3u16 {
            let top = g.cell_rect(u8::try_from(row * 3).unwrap_or(0)).y;
            let (open, close) = if g.size.framed() {
                ("│", "│")
            } else {
                ("", "")
            };
            for dy in 0..h {
                put(x0, top + dy, &cells(open, "│", close, " "), rules);
            }
            let line = match (g.size.framed(), g.size.row_rules(), row) {
                (true, _, 2) => cells("└", "┴", "┘", "─"),
                (true, _, _) => cells("├", "┼", "┤", "─"),
                (false, true, 0 | 1) => cells("", "┼", "", "─"),
                _ => continue,
            };
            put(x0, top + h, &line, rules);
        }
        for cell in 0..9u8 {
            let r = g.cell_rect(cell);
            let style = self.cell_style(cell);
            for dy in 0..r.height {
                put(r.x, r.y + dy, &" ".repeat(usize::from(r.width)), style);
            }
            let mid_y = r.y + r.height / 2;
            let (text, text_style) = self.cell_text(cell);
            // The cell's background wins over the mark's colour (black on
            // the winning line's green).
            put(r.x + r.width / 2, mid_y, text, text_style.patch(style));
            if self.cursor_shown() && self.board.cursor == cell {
                put(r.x, mid_y, "[", style);
                put(r.x + r.width - 1, mid_y, "]", style);
            }
        }
    }

    fn cursor_shown(&self) -> bool {
        self.focused && self.board.in_play() && self.board.mark().is_some()
    }

    /// The background of a cell: the cursor, the winning line, or plain.
    fn cell_style(&self, cell: u8) -> Style {
        if self.board.winning_line().is_some_and(|l| l.contains(&cell)) {
            theme::winning_cell()
        } else if self.cursor_shown() && self.board.cursor == cell {
            theme::board_cursor()
        } else {
            Style::new()
        }
    }

    /// The character in the middle of a cell: a mark, the cell's key while
    /// the user may move, or a dot (so every cell shows, at every size).
    fn cell_text(&self, cell: u8) -> (&'static str, Style) {
        const KEYS: [&str; 9] = ["1", "2", "3", "4", "5", "6", "7", "8", "9"];
        match self.board.cell(cell) {
            Some(mark) => {
                let mut style = theme::mark(mark);
                if self.board.in_play() && self.board.last_move() == Some(cell) {
                    style = style.underlined();
                }
                let text = match mark {
                    Mark::X => "X",
                    Mark::O => "O",
                };
                (text, style)
            }
            None if self.board.my_turn() => (KEYS[usize::from(cell)], theme::cell_key()),
            None => ("·", theme::board_rules()),
        }
    }

    /// Whose turn it is (and the time left to move), the question before
    /// resigning, or how the game ended: the longest wording that fits
    /// `width`.
    fn status(&self, width: usize) -> Line<'static> {
        let board = self.board;
        let game = &board.game;
        let lines = match game.status {
            GameStatus::Playing if board.resign_asked => vec![
                Line::from("Resign? y: yes · n: no").bold(),
                Line::from("Resign? y/n").bold(),
            ],
            GameStatus::Playing if board.awaiting => {
                vec![Line::from("sending your move…").italic()]
            }
            GameStatus::Playing => {
                let left = game
                    .deadline
                    .map(|d| format!(" · {}", countdown(d, self.now)))
                    .unwrap_or_default();
                let mark = board.turn_mark().map_or('?', Mark::as_char);
                if board.my_turn() {
                    let turn = |t: String| Span::styled(t, theme::your_turn());
                    vec![
                        Line::from(vec![
                            turn(format!("your turn ({mark})")),
                            left.clone().into(),
                        ]),
                        Line::from(vec![turn("your turn".into()), left.clone().into()]),
                        Line::from(turn("your turn".into())),
                    ]
                } else {
                    let turn = game.turn.clone().unwrap_or_default();
                    let rest = format!("'s turn ({mark}){left}");
                    let room = width.saturating_sub(str_width(&rest)).max(3);
                    vec![
                        Line::from(format!("{}{rest}", truncate(&turn, room.min(12)))),
                        Line::from(format!("their turn{left}")),
                        Line::from("their turn"),
                    ]
                }
            }
            GameStatus::Over => {
                let (head, why) = result_parts(board, self.me);
                let mut lines = Vec::new();
                if let Some(why) = why {
                    lines.push(Line::from(format!("{head}: {why}")).bold());
                }
                lines.push(Line::from(head).bold());
                lines
            }
            GameStatus::Open => vec![
                Line::from("waiting for someone to accept").italic(),
                Line::from("waiting").italic(),
            ],
            GameStatus::Cancelled => vec![Line::from("cancelled").italic()],
            GameStatus::Expired => vec![
                Line::from("expired: nobody accepted").italic(),
                Line::from("expired").italic(),
            ],
        };
        fitting(lines, width)
    }
}

/// "m:ss" left until `deadline` (0:00 once passed).
pub fn countdown(deadline: UnixMillis, now: UnixMillis) -> String {
    let secs = ((deadline - now).max(0) + 999) / 1000;
    format!("{}:{:02}", secs / 60, secs % 60)
}

/// How a finished game ended, from the user's side, short enough for the
/// side column: "You won: 3 in a row", "You lost: you resigned", "alice won:
/// bob ran out of time", "Draw: nobody won".
pub fn result_text(board: &Board, me: &str) -> String {
    match result_parts(board, me) {
        (head, Some(why)) => format!("{head}: {why}"),
        (head, None) => head,
    }
}

/// The result's head ("You won", "alice won", "Draw") and why, when known.
fn result_parts(board: &Board, me: &str) -> (String, Option<String>) {
    let Some(r) = &board.game.result else {
        return ("Game over".to_owned(), None);
    };
    let who = |n: &str| {
        if n == me {
            "you".to_owned()
        } else {
            n.to_owned()
        }
    };
    let winner = r.winner.as_deref().unwrap_or("?");
    let loser = r.loser.as_deref().unwrap_or("?");
    let head = if r.reason == EndReason::Draw {
        return ("Draw".to_owned(), Some("nobody won".to_owned()));
    } else if winner == me {
        "You won".to_owned()
    } else if loser == me {
        "You lost".to_owned()
    } else {
        format!("{winner} won")
    };
    let why = match r.reason {
        EndReason::Line | EndReason::Draw => "3 in a row".to_owned(),
        EndReason::Resign => format!("{} resigned", who(loser)),
        EndReason::Forfeit => format!("{} left", who(loser)),
        EndReason::Timeout => format!("{} ran out of time", who(loser)),
    };
    (head, Some(why))
}

#[cfg(test)]
#[path = "board_tests.rs"]
mod tests;
