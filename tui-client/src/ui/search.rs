//! The search results overlay: one match per row, "01-01 09:05  #team
//! [bob]: the text", newest first, the chosen one highlighted, and a last
//! line saying how many there are (or that the search is under way).
//! [`overlay_rect`] and [`row_at`] let the app map a click back to a match.

use chatroom_shared::message::ChatMessage;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Widget};

use super::{layout, theme};
use crate::app::conversations::{conversation_of, label};
use crate::app::search::SearchView;
use crate::text::{sanitize_line, str_width, truncate};

/// Widest the overlay gets.
const MAX_WIDTH: u16 = 100;
/// Tallest the overlay gets.
const MAX_HEIGHT: u16 = 22;
/// Columns of the place ("#team", "@bob", "Main room").
const PLACE_COLUMNS: usize = 12;

/// Where the overlay goes on a screen of `area`.
pub fn overlay_rect(area: Rect) -> Rect {
    layout::overlay(
        area,
        MAX_WIDTH.min(area.width.saturating_sub(4)),
        MAX_HEIGHT.min(area.height.saturating_sub(4)),
    )
}

/// Rows of matches inside an overlay of `rect` (the last inner row says
/// how many there are).
fn match_rows(rect: Rect) -> usize {
    usize::from(rect.height.saturating_sub(3)).max(1)
}

/// The first match shown, so that the selected one is visible.
fn first_shown(rows: usize, selected: usize) -> usize {
    selected.saturating_sub(rows.saturating_sub(1))
}

/// The match drawn at screen row `y` of the overlay `rect`, if any.
pub fn row_at(rect: Rect, selected: usize, count: usize, y: u16) -> Option<usize> {
    let top = rect.y + 1;
    let rows = match_rows(rect);
    if y < top || usize::from(y - top) >= rows {
        return None;
    }
    let i = first_shown(rows, selected) + usize::from(y - top);
    (i < count).then_some(i)
}

/// The overlay.
pub struct SearchOverlay<'a> {
    /// The results.
    pub search: &'a SearchView,
    /// The user (to name direct-message conversations by the other person).
    pub me: &'a str,
    /// Local time offset, seconds east of UTC.
    pub utc_offset_secs: i32,
}

impl Widget for SearchOverlay<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let title = format!(" Search: {} ", truncate(&self.search.text, 40));
        let block = Block::bordered()
            .border_type(BorderType::Double)
            .title(Line::from(title).bold())
            .title_bottom(Line::from(" ↑↓ choose · Enter go there · Esc close ").right_aligned())
            .border_style(Color::Cyan);
        let inner = block.inner(area);
        block.render(area, buf);
        let rows = match_rows(area);
        let width = usize::from(inner.width);
        let s = self.search;
        let first = first_shown(rows, s.selected);
        let mut lines: Vec<Line> = s
            .results
            .iter()
            .enumerate()
            .skip(first)
            .take(rows)
            .map(|(i, m)| {
                let line = self.row(m, width);
                if i == s.selected {
                    line.patch_style(Style::new().add_modifier(Modifier::REVERSED))
                } else {
                    line
                }
            })
            .collect();
        lines.resize(rows.min(usize::from(inner.height)), Line::from(""));
        let status = if s.loading && s.results.is_empty() {
            "Searching…".to_owned()
        } else if s.results.is_empty() {
            format!("Nothing matches “{}”.", s.text)
        } else {
            let more = if s.loading {
                " · loading more…"
            } else if s.has_more {
                " · more below"
            } else {
                ""
            };
            let noun = if s.results.len() == 1 {
                "match"
            } else {
                "matches"
            };
            format!("{} of {} {noun}{more}", s.selected + 1, s.results.len())
        };
        lines.push(Line::from(status).dim().italic());
        Paragraph::new(lines).render(inner, buf);
    }
}

impl SearchOverlay<'_> {
    /// One match: when, where, who, what (on one line, cut to fit).
    fn row(&self, m: &ChatMessage, width: usize) -> Line<'static> {
        let when = theme::day_and_clock(m.ts, self.utc_offset_secs);
        let place = truncate(&label(&conversation_of(m, self.me)), PLACE_COLUMNS);
        let place = format!("{place:<PLACE_COLUMNS$}");
        let name = format!("[{}]", truncate(&sanitize_line(&m.from), 16));
        let flat = m.text.replace(['\n', '\t'], " ");
        let used = str_width(&when) + 2 + str_width(&place) + 1 + str_width(&name) + 2;
        let text = truncate(&sanitize_line(&flat), width.saturating_sub(used));
        Line::from(vec![
            Span::styled(when, theme::timestamp()),
            Span::raw("  "),
            Span::styled(place, Style::new().fg(Color::Cyan)),
            Span::raw(" "),
            Span::styled(name, theme::name(&m.from, m.from == self.me)),
            Span::raw(": "),
            Span::raw(text),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clicks_map_to_the_match_drawn_there() {
        // 10 rows high: 7 rows of matches (border, status line, border).
        let rect = Rect::new(5, 3, 60, 10);
        assert_eq!(row_at(rect, 0, 20, 3), None, "the border");
        assert_eq!(row_at(rect, 0, 20, 4), Some(0));
        assert_eq!(row_at(rect, 0, 20, 10), Some(6));
        assert_eq!(row_at(rect, 0, 20, 11), None, "the status line");
        assert_eq!(row_at(rect, 0, 2, 6), None, "below the last match");
        assert_eq!(row_at(rect, 9, 20, 4), Some(3), "scrolled to show 9");
    }
}
