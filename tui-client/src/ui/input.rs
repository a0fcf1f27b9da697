//! The input box as drawn: its text wrapped at the box's width (a long
//! message shows whole, over several rows, not only its end), the box growing
//! to [`MAX_INPUT_LINES`](super::layout::MAX_INPUT_LINES) rows and then
//! scrolling to keep the cursor in view, and the terminal's own cursor placed
//! at the insertion point, where input methods for Chinese, Japanese or Korean
//! open their candidate window.
//!
//! tui-textarea edits the text; it draws one row per line and scrolls
//! sideways, so the drawing is done here from its lines and cursor. Rows are
//! cut between characters (each as wide as the terminal shows it: 2 columns
//! for CJK and emoji), so every typed character has exactly one place on
//! screen and the cursor maps to it.

use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::Widget;
use unicode_width::UnicodeWidthChar;

use crate::app::compose::Compose;

/// The input's text cut into rows of at most `width` columns, and where the
/// cursor falls among them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wrapped {
    /// The rows, top to bottom (at least one).
    pub rows: Vec<String>,
    /// The cursor's row.
    pub cursor_row: usize,
    /// The cursor's column within its row (display columns).
    pub cursor_col: usize,
}

/// How wide the terminal draws `c` (tabs as one space; other control
/// characters as nothing).
fn char_width(c: char) -> usize {
    if c == '\t' { 1 } else { c.width().unwrap_or(0) }
}

/// One character as placed: its index in its line, the character as drawn,
/// and its width.
#[derive(Clone, Copy)]
struct Cell {
    index: usize,
    shown: char,
    width: usize,
}

/// Cut `lines` into rows of at most `width` columns, breaking after a space
/// when a word would not fit (between characters when a word is longer than
/// a row); `cursor` is tui-textarea's (line, character index). The cursor
/// after the last character of a full row goes to the start of the next row,
/// so it is always drawn inside the box.
pub fn wrap(lines: &[String], cursor: (usize, usize), width: usize) -> Wrapped {
    let width = width.max(1);
    let mut rows = Vec::new();
    let (mut cursor_row, mut cursor_col) = (0, 0);
    for (i, line) in lines.iter().enumerate() {
        let mut line_rows: Vec<Vec<Cell>> = Vec::new();
        let mut row: Vec<Cell> = Vec::new();
        let mut used = 0;
        for (index, c) in line.chars().enumerate() {
            let cell = Cell {
                index,
                shown: if c == '\t' { ' ' } else { c },
                width: char_width(c),
            };
            if used + cell.width > width && !row.is_empty() {
                // Break after the row's last space, carrying the word begun
                // after it to the next row; without a space, between characters.
                let carried = match row.iter().rposition(|c| c.shown == ' ') {
                    Some(k) if k + 1 < row.len() => row.split_off(k + 1),
                    _ => Vec::new(),
                };
                line_rows.push(std::mem::replace(&mut row, carried));
                used = row.iter().map(|c| c.width).sum();
            }
            row.push(cell);
            used += cell.width;
        }
        let len = line.chars().count();
        if cursor.0 == i && cursor.1 >= len && used >= width {
            // The cursor after a full row starts the next one.
            line_rows.push(std::mem::take(&mut row));
        }
        line_rows.push(row);
        for cells in line_rows {
            if cursor.0 == i {
                let mut col = 0;
                for c in &cells {
                    if c.index == cursor.1 {
                        (cursor_row, cursor_col) = (rows.len(), col);
                    }
                    col += c.width;
                }
                let past_end = cells.last().map_or(0, |c| c.index + 1);
                if cursor.1 >= len && (cells.is_empty() || past_end == len) {
                    (cursor_row, cursor_col) = (rows.len(), col);
                }
            }
            rows.push(cells.iter().map(|c| c.shown).collect());
        }
    }
    if rows.is_empty() {
        rows.push(String::new());
    }
    Wrapped {
        rows,
        cursor_row,
        cursor_col,
    }
}

/// Rows the input needs at `width` columns (the box grows to show them).
pub fn rows_needed(compose: &Compose, width: u16) -> usize {
    let (row, col) = compose.textarea.cursor();
    wrap(compose.textarea.lines(), (row, col), usize::from(width))
        .rows
        .len()
}

/// The input box's text (inside its border).
pub struct InputText<'a> {
    /// What is typed.
    pub compose: &'a Compose,
    /// Whether the input has the focus (its cursor is shown).
    pub focused: bool,
    /// Why nothing can be sent to the conversation shown (a closed group):
    /// said in place of the empty input's hint. Commands can still be typed.
    pub read_only: Option<&'a str>,
}

impl InputText<'_> {
    /// The first row shown, so the cursor's row is in view.
    fn first_row(wrapped: &Wrapped, height: usize) -> usize {
        (wrapped.cursor_row + 1).saturating_sub(height.max(1))
    }

    /// Where the terminal's cursor goes when the input is drawn in `area`.
    pub fn cursor_position(&self, area: Rect) -> Option<Position> {
        if !self.focused || area.width == 0 || area.height == 0 {
            return None;
        }
        let (row, col) = self.compose.textarea.cursor();
        let wrapped = wrap(
            self.compose.textarea.lines(),
            (row, col),
            usize::from(area.width),
        );
        let first = Self::first_row(&wrapped, usize::from(area.height));
        let y = u16::try_from(wrapped.cursor_row - first).ok()?;
        let x = u16::try_from(wrapped.cursor_col).ok()?;
        Some(Position::new(area.x + x.min(area.width - 1), area.y + y))
    }
}

impl Widget for InputText<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.width == 0 || area.height == 0 {
            return;
        }
        let textarea = &self.compose.textarea;
        if self.compose.is_empty() {
            // After the cursor's cell, as tui-textarea drew it.
            let room = area.width.saturating_sub(1);
            let (hint, style) = match self.read_only {
                Some(why) => (why, Style::new().yellow().italic()),
                None => (textarea.placeholder_text(), Style::new().dark_gray()),
            };
            Line::from(crate::text::truncate(hint, usize::from(room)))
                .style(style)
                .render(Rect::new(area.x + 1, area.y, room, 1), buf);
            return;
        }
        let wrapped = wrap(textarea.lines(), textarea.cursor(), usize::from(area.width));
        let first = Self::first_row(&wrapped, usize::from(area.height));
        for (y, row) in wrapped
            .rows
            .iter()
            .skip(first)
            .take(usize::from(area.height))
            .enumerate()
        {
            let Ok(y) = u16::try_from(y) else { break };
            buf.set_stringn(
                area.x,
                area.y + y,
                row,
                usize::from(area.width),
                Style::new(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.split('\n').map(str::to_owned).collect()
    }

    #[test]
    fn words_move_to_the_next_row_whole() {
        let w = wrap(&lines("the quick brown fox"), (0, 19), 10);
        assert_eq!(w.rows, ["the quick ", "brown fox"]);
        assert_eq!((w.cursor_row, w.cursor_col), (1, 9));
        // The cursor inside a carried word follows it.
        let w = wrap(&lines("the quick brown fox"), (0, 12), 10);
        assert_eq!((w.cursor_row, w.cursor_col), (1, 2));
    }

    #[test]
    fn a_long_line_wraps_and_the_cursor_follows_it() {
        let w = wrap(&lines("abcdefghij"), (0, 10), 4);
        assert_eq!(w.rows, ["abcd", "efgh", "ij"]);
        assert_eq!((w.cursor_row, w.cursor_col), (2, 2));
        let w = wrap(&lines("abcdefghij"), (0, 5), 4);
        assert_eq!((w.cursor_row, w.cursor_col), (1, 1));
    }

    #[test]
    fn a_cursor_after_a_full_row_starts_the_next_one() {
        let w = wrap(&lines("abcd"), (0, 4), 4);
        assert_eq!(w.rows, ["abcd", ""]);
        assert_eq!((w.cursor_row, w.cursor_col), (1, 0));
    }

    #[test]
    fn wide_characters_take_two_columns_and_are_never_split() {
        // 5 columns: two CJK characters (4), then the third goes below.
        let w = wrap(&lines("数据库好"), (0, 3), 5);
        assert_eq!(w.rows, ["数据", "库好"]);
        assert_eq!((w.cursor_row, w.cursor_col), (1, 2));
    }

    #[test]
    fn lines_stay_lines_and_empty_lines_count() {
        let w = wrap(&lines("one\n\nthree"), (1, 0), 10);
        assert_eq!(w.rows, ["one", "", "three"]);
        assert_eq!((w.cursor_row, w.cursor_col), (1, 0));
    }

    fn drawn(compose: &Compose, width: u16, height: u16) -> (Vec<String>, Option<Position>) {
        let area = Rect::new(0, 0, width, height);
        let mut buf = Buffer::empty(area);
        let input = InputText {
            compose,
            focused: true,
            read_only: None,
        };
        let cursor = input.cursor_position(area);
        input.render(area, &mut buf);
        let rows = (0..height)
            .map(|y| {
                (0..width)
                    .map(|x| buf[(x, y)].symbol().to_owned())
                    .collect::<String>()
                    .trim_end()
                    .to_owned()
            })
            .collect();
        (rows, cursor)
    }

    #[test]
    fn the_whole_message_shows_and_the_terminal_cursor_sits_at_the_insertion_point() {
        let mut compose = Compose::new();
        compose.set_text("the quick brown fox jumps");
        let (rows, cursor) = drawn(&compose, 10, 3);
        assert_eq!(
            rows,
            ["the quick ", "brown fox ", "jumps"].map(str::trim_end)
        );
        assert_eq!(cursor, Some(Position::new(5, 2)));
    }

    #[test]
    fn a_message_filling_its_last_row_shows_the_cursor_on_the_next() {
        let mut compose = Compose::new();
        compose.set_text("the quick brown fox jumps over");
        let (rows, cursor) = drawn(&compose, 10, 4);
        assert_eq!(rows, ["the quick", "brown fox", "jumps over", ""]);
        assert_eq!(cursor, Some(Position::new(0, 3)));
        // Three rows high: the first scrolls away, the cursor's row stays.
        let (rows, cursor) = drawn(&compose, 10, 3);
        assert_eq!(rows, ["brown fox", "jumps over", ""]);
        assert_eq!(cursor, Some(Position::new(0, 2)));
    }

    #[test]
    fn past_its_height_the_box_keeps_the_cursor_row_in_view() {
        let mut compose = Compose::new();
        compose.set_text(&"x".repeat(50));
        let (rows, cursor) = drawn(&compose, 10, 2);
        // 50 columns: 5 full rows and the cursor's empty row; the last two show.
        assert_eq!(rows, ["xxxxxxxxxx", ""]);
        assert_eq!(cursor, Some(Position::new(0, 1)));
    }

    #[test]
    fn an_empty_input_shows_its_hint_and_no_cursor_without_focus() {
        let compose = Compose::new();
        let area = Rect::new(0, 0, 30, 1);
        let input = InputText {
            compose: &compose,
            focused: false,
            read_only: None,
        };
        assert_eq!(input.cursor_position(area), None);
        let mut buf = Buffer::empty(area);
        input.render(area, &mut buf);
        let row: String = (0..30).map(|x| buf[(x, 0)].symbol().to_owned()).collect();
        assert!(row.starts_with(" Type a message"), "{row}");
    }
}
