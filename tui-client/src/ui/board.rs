//! The tic-tac-toe board: a widget of its own that draws one [`Board`] (the
//! players, the 3×3 grid with X and O, the cursor, the winning line, and whose
//! turn it is or how the game ended).
//!
//! The grid comes in three sizes and the largest that fits the pane is drawn:
//! large (cells 5×3), compact (cells 3×1) and mini (no rules between rows).
//! [`geometry`] decides, and [`cell_at`] maps a click back to a cell with the
//! very same arithmetic. Empty cells show their key (1-9) while the user may
//! move; the cursor cell is drawn in brackets and reversed (while the board
//! has the focus), the winning line on a green background.

use chatroom_shared::UnixMillis;
use chatroom_shared::message::{EndReason, GameStatus};
use chatroom_shared::tictactoe::Mark;
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget, Wrap};

use super::theme;
use crate::app::games::{Board, Role};
use crate::text::truncate;

/// Rows above the grid inside the pane (the players).
const HEAD_ROWS: u16 = 1;

/// The sizes the grid is drawn in, largest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Size {
    /// Cells of 5×3, ruled.
    Large,
    /// Cells of 3×1, ruled.
    Compact,
    /// Cells of 3×1, only `│` between columns.
    Mini,
}

impl Size {
    const ALL: [Self; 3] = [Self::Large, Self::Compact, Self::Mini];

    /// Width and height of one cell.
    fn cell(self) -> (u16, u16) {
        match self {
            Self::Large => (5, 3),
            Self::Compact | Self::Mini => (3, 1),
        }
    }

    /// True when the grid has a frame and rules between rows.
    fn ruled(self) -> bool {
        self != Self::Mini
    }

    /// Width and height of the whole grid.
    fn grid(self) -> (u16, u16) {
        let (w, h) = self.cell();
        if self.ruled() {
            (3 * w + 4, 3 * h + 4)
        } else {
            (3 * w + 2, 3 * h)
        }
    }

    /// Rows below the grid (whose turn, or the result).
    fn foot_rows(self) -> u16 {
        match self {
            Self::Large | Self::Compact => 2,
            Self::Mini => 1,
        }
    }

    /// Height of a board pane showing this size, borders included.
    fn pane_height(self) -> u16 {
        2 + HEAD_ROWS + self.grid().1 + self.foot_rows()
    }
}

/// The height to give the board pane when `room` rows are free: the largest
/// size that fits (the smallest one, clipped, when none does).
pub fn pane_height(room: u16) -> u16 {
    Size::ALL
        .into_iter()
        .map(Size::pane_height)
        .find(|h| *h <= room)
        .unwrap_or_else(|| Size::Mini.pane_height().min(room))
}

/// Where the grid is drawn inside a board pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// The grid's top-left corner.
    origin: Position,
    size: Size,
}

impl Geometry {
    /// The screen rectangle of `cell` (0 to 8) inside the rules.
    fn cell_rect(self, cell: u8) -> Rect {
        let (w, h) = self.size.cell();
        let (row, col) = (u16::from(cell / 3), u16::from(cell % 3));
        let ruled = u16::from(self.size.ruled());
        Rect {
            x: self.origin.x + ruled + col * (w + 1),
            y: self.origin.y + ruled + row * (h + ruled),
            width: w,
            height: h,
        }
    }

    /// Width and height of the grid.
    fn grid(self) -> (u16, u16) {
        self.size.grid()
    }
}

/// Where the grid goes in the board pane `area` (borders included).
pub fn geometry(area: Rect) -> Geometry {
    let inner = Block::bordered().inner(area);
    let room = inner.height.saturating_sub(HEAD_ROWS);
    let size = Size::ALL
        .into_iter()
        .find(|s| {
            let (w, h) = s.grid();
            w <= inner.width && h + s.foot_rows() <= room
        })
        .unwrap_or(Size::Mini);
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
        let title = match self.board.role {
            Role::Player(_) => format!(" Tic-tac-toe · game {} ", game.id),
            Role::Spectator => format!(" Watching · game {} ", game.id),
        };
        let block = Block::bordered()
            .title(title)
            .border_style(super::border(self.focused));
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.is_empty() {
            return;
        }
        let g = geometry(area);
        let head = Rect {
            height: HEAD_ROWS.min(inner.height),
            ..inner
        };
        self.players().render(head, buf);
        self.draw_grid(g, buf);
        let (_, grid_h) = g.grid();
        let foot_y = g.origin.y + grid_h;
        if foot_y < inner.bottom() {
            let foot = Rect {
                y: foot_y,
                height: inner.bottom() - foot_y,
                ..inner
            };
            Paragraph::new(self.status())
                .centered()
                .wrap(Wrap { trim: true })
                .render(foot, buf);
        }
    }
}

impl BoardView<'_> {
    /// "X alice vs O bob", names cut to fit.
    fn players(&self) -> Line<'static> {
        let game = &self.board.game;
        let o = game.o.clone().unwrap_or_else(|| "?".into());
        let name = |n: &str| {
            let shown = if n == self.me { "you" } else { n };
            Span::styled(truncate(shown, 9), Style::new().fg(theme::user_color(n)))
        };
        Line::from(vec![
            Span::styled("X ", theme::mark(Mark::X)),
            name(&game.x),
            Span::raw(" vs "),
            Span::styled("O ", theme::mark(Mark::O)),
            name(&o),
        ])
        .centered()
    }

    fn draw_grid(&self, g: Geometry, buf: &mut Buffer) {
        let (w, h) = g.size.cell();
        let rules = theme::board_rules();
        let clip = buf.area;
        let mut put = |x: u16, y: u16, s: &str, style: Style| {
            if y < clip.bottom() && x < clip.right() {
                buf.set_stringn(x, y, s, usize::from(clip.right() - x), style);
            }
        };
        let cells = |left: &str, mid: &str, right: &str, fill: &str| {
            let seg = fill.repeat(usize::from(w));
            format!("{left}{seg}{mid}{seg}{mid}{seg}{right}")
        };
        let (x0, y0) = (g.origin.x, g.origin.y);
        let (_, grid_h) = g.grid();
        if g.size.ruled() {
            put(x0, y0, &cells("┌", "┬", "┐", "─"), rules);
            for row in 0..3u16 {
                let top = y0 + 1 + row * (h + 1);
                for dy in 0..h {
                    put(x0, top + dy, &cells("│", "│", "│", " "), rules);
                }
                let line = if row == 2 {
                    cells("└", "┴", "┘", "─")
                } else {
                    cells("├", "┼", "┤", "─")
                };
                put(x0, top + h, &line, rules);
            }
        } else {
            let seg = " ".repeat(usize::from(w));
            for dy in 0..grid_h {
                put(x0, y0 + dy, &format!("{seg}│{seg}│{seg}"), rules);
            }
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
            put(r.x + r.width / 2, mid_y, &text, text_style.patch(style));
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

    /// The character in the middle of a cell: a mark, or the cell's key
    /// while the user may move.
    fn cell_text(&self, cell: u8) -> (String, Style) {
        match self.board.cell(cell) {
            Some(mark) => {
                let mut style = theme::mark(mark);
                if self.board.in_play() && self.board.last_move() == Some(cell) {
                    style = style.underlined();
                }
                (mark.as_char().to_string(), style)
            }
            None if self.board.my_turn() => ((cell + 1).to_string(), theme::cell_key()),
            None => (" ".to_owned(), Style::new()),
        }
    }

    /// Whose turn it is (and the time left to move), or how the game ended.
    fn status(&self) -> Line<'static> {
        let board = self.board;
        let game = &board.game;
        match game.status {
            GameStatus::Playing => {
                let left = game
                    .deadline
                    .map(|d| format!(" · {}", countdown(d, self.now)))
                    .unwrap_or_default();
                if board.awaiting {
                    return Line::from("sending your move…").italic();
                }
                let turn = game.turn.clone().unwrap_or_default();
                let mark = board.turn_mark().map_or('?', Mark::as_char);
                if board.my_turn() {
                    Line::from(vec![
                        Span::styled(format!("your turn ({mark})"), theme::your_turn()),
                        Span::raw(left),
                    ])
                } else {
                    Line::from(format!("{}'s turn ({mark}){left}", truncate(&turn, 10)))
                }
            }
            GameStatus::Over => Line::from(result_text(board, self.me)).bold(),
            GameStatus::Open => Line::from("waiting for someone to accept").italic(),
            GameStatus::Cancelled => Line::from("cancelled").italic(),
            GameStatus::Expired => Line::from("expired: nobody accepted").italic(),
        }
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
    let Some(r) = &board.game.result else {
        return "Game over".to_owned();
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
        return "Draw: nobody won".to_owned();
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
    format!("{head}: {why}")
}

#[cfg(test)]
mod tests {
    use chatroom_shared::message::{GameResult, GameView};
    use ratatui::style::{Color, Modifier};

    use super::*;

    /// 2026-01-01 09:00 UTC.
    const T0: i64 = 1_767_258_000_000;

    fn view(moves: &[u8], status: GameStatus) -> GameView {
        let rules = chatroom_shared::tictactoe::TicTacToe::from_moves(moves).unwrap();
        let turn = match rules.turn() {
            Some(Mark::X) => Some("alice".to_owned()),
            Some(Mark::O) => Some("bob".to_owned()),
            None => None,
        };
        GameView {
            id: 7,
            status,
            x: "alice".into(),
            o: Some("bob".into()),
            moves: moves.to_vec(),
            board: rules.board_string(),
            turn: turn.filter(|_| status == GameStatus::Playing),
            deadline: (status == GameStatus::Playing).then_some(T0 + 42_000),
            result: None,
            created: T0 - 60_000,
        }
    }

    fn board(game: GameView, cursor: u8) -> Board {
        Board {
            game,
            role: Role::Player(Mark::X),
            cursor,
            awaiting: false,
        }
    }

    /// The pane's text, then the same rows with `#` where a cell has a
    /// background (the winning line) and `^` where it is reversed (the cursor).
    fn render(board: &Board, w: u16, h: u16, focused: bool) -> String {
        let area = Rect::new(0, 0, w, h);
        let mut buf = Buffer::empty(area);
        BoardView {
            board,
            me: "alice",
            now: T0,
            focused,
        }
        .render(area, &mut buf);
        let mut out = String::new();
        for y in 0..h {
            for x in 0..w {
                out.push_str(buf[(x, y)].symbol());
            }
            out.push('\n');
        }
        out.push_str("-- highlights --\n");
        for y in 0..h {
            let row: String = (0..w)
                .map(|x| {
                    let c = &buf[(x, y)];
                    if c.bg != Color::Reset {
                        '#'
                    } else if c.modifier.contains(Modifier::REVERSED) {
                        '^'
                    } else {
                        '.'
                    }
                })
                .collect();
            out.push_str(row.trim_end_matches('.'));
            out.push('\n');
        }
        out
    }

    #[test]
    fn snapshot_empty_board_your_turn() {
        let b = board(view(&[], GameStatus::Playing), 4);
        insta::assert_snapshot!(render(&b, 26, 18, true));
    }

    #[test]
    fn snapshot_mid_game_with_the_cursor() {
        // X centre, O top left, X top right, O bottom left: X (alice, the
        // user) to move, the cursor on 6.
        let mine = board(view(&[4, 0, 2, 6], GameStatus::Playing), 5);
        insta::assert_snapshot!(render(&mine, 26, 12, true));
        // One move earlier: bob's turn; no keys in the empty cells.
        let theirs = board(view(&[4, 0, 2], GameStatus::Playing), 5);
        insta::assert_snapshot!("compact_bobs_turn", render(&theirs, 26, 12, true));
    }

    #[test]
    fn snapshot_a_win_with_the_line_highlighted() {
        // X takes the diagonal 2-4-6.
        let mut game = view(&[4, 0, 2, 1, 6], GameStatus::Over);
        game.result = Some(GameResult {
            winner: Some("alice".into()),
            loser: Some("bob".into()),
            reason: EndReason::Line,
            line: Some([2, 4, 6]),
            summary: "alice beat bob at tic-tac-toe".into(),
        });
        let b = board(game, 4);
        insta::assert_snapshot!(render(&b, 26, 18, true));
    }

    #[test]
    fn snapshot_mini_board_when_the_pane_is_short() {
        let b = board(view(&[4, 0], GameStatus::Playing), 8);
        insta::assert_snapshot!(render(&b, 24, 7, true));
    }

    #[test]
    fn clicks_map_to_the_cell_drawn_there_in_every_size() {
        for (w, h) in [(26, 18), (26, 12), (24, 7), (60, 40)] {
            let area = Rect::new(3, 5, w, h);
            let g = geometry(area);
            for cell in 0..9 {
                let r = g.cell_rect(cell);
                assert_eq!(cell_at(area, r.x, r.y), Some(cell), "{w}x{h}");
                assert_eq!(cell_at(area, r.right() - 1, r.bottom() - 1), Some(cell));
                assert!(area.contains(r.as_position()), "{w}x{h}: {r:?}");
            }
            // The rules and the borders are no cell.
            assert_eq!(cell_at(area, area.x, area.y), None);
            if g.size.ruled() {
                assert_eq!(cell_at(area, g.origin.x, g.origin.y + 1), None);
            }
        }
    }

    #[test]
    fn the_largest_size_that_fits_is_chosen() {
        assert_eq!(geometry(Rect::new(0, 0, 26, 18)).size, Size::Large);
        assert_eq!(geometry(Rect::new(0, 0, 26, 17)).size, Size::Compact);
        assert_eq!(geometry(Rect::new(0, 0, 20, 18)).size, Size::Compact);
        assert_eq!(geometry(Rect::new(0, 0, 26, 11)).size, Size::Mini);
        assert_eq!(pane_height(100), 18);
        assert_eq!(pane_height(17), 12);
        assert_eq!(pane_height(8), 7);
        assert_eq!(pane_height(3), 3);
    }

    #[test]
    fn countdown_rounds_up_and_stops_at_zero() {
        assert_eq!(countdown(T0 + 42_000, T0), "0:42");
        assert_eq!(countdown(T0 + 41_001, T0), "0:42");
        assert_eq!(countdown(T0 + 300_000, T0), "5:00");
        assert_eq!(countdown(T0 - 5, T0), "0:00");
    }

    #[test]
    fn results_read_from_the_users_side() {
        let mut b = board(view(&[0, 3, 1, 4, 2], GameStatus::Over), 4);
        let result = |winner: &str, loser: &str, reason| GameResult {
            winner: Some(winner.into()),
            loser: Some(loser.into()),
            reason,
            line: None,
            summary: String::new(),
        };
        b.game.result = Some(result("alice", "bob", EndReason::Line));
        assert_eq!(result_text(&b, "alice"), "You won: 3 in a row");
        assert_eq!(result_text(&b, "bob"), "You lost: 3 in a row");
        b.game.result = Some(result("bob", "alice", EndReason::Resign));
        assert_eq!(result_text(&b, "alice"), "You lost: you resigned");
        assert_eq!(result_text(&b, "carol"), "bob won: alice resigned");
        b.game.result = Some(result("bob", "alice", EndReason::Timeout));
        assert_eq!(result_text(&b, "bob"), "You won: alice ran out of time");
        b.game.result = Some(GameResult {
            winner: None,
            loser: None,
            reason: EndReason::Draw,
            line: None,
            summary: String::new(),
        });
        assert_eq!(result_text(&b, "alice"), "Draw: nobody won");
    }
}
