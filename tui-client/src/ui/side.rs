//! The side panes' list widget (the panes are in [`super::conversations`],
//! [`super::online`], [`super::files`] and [`super::games`]). [`row_at`]
//! maps a click back to a row with the list's own scrolling arithmetic.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Widget, Wrap};

/// A titled list with a selected row, or a note when it is empty.
pub struct SideList<'a> {
    /// Pane title (the count is added).
    pub title: &'a str,
    /// The count shown after the title (with thousands separated: the
    /// online pane counts to 10,000 and beyond).
    pub count: u64,
    /// The rows.
    pub items: Vec<Line<'a>>,
    /// The selected row.
    pub selected: usize,
    /// The pane has the focus.
    pub focused: bool,
    /// What to say when there are no rows.
    pub empty: &'a str,
    /// A note on the bottom border (what the online pane is finding).
    pub note: Option<Line<'a>>,
}

impl Widget for SideList<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let mut block = Block::bordered()
            .title(format!(" {} ({}) ", self.title, grouped(self.count)))
            .border_style(super::border(self.focused));
        if let Some(note) = self.note {
            block = block.title_bottom(note);
        }
        let inner = block.inner(area);
        block.render(area, buf);
        if self.items.is_empty() {
            Paragraph::new(Line::from(self.empty).dim().italic())
                .wrap(Wrap { trim: true })
                .render(inner, buf);
            return;
        }
        let first = first_shown(inner.height, self.selected);
        let height = usize::from(inner.height);
        let lines: Vec<Line> = self
            .items
            .into_iter()
            .enumerate()
            .skip(first)
            .take(height)
            .map(|(i, line)| {
                if self.focused && i == self.selected {
                    line.patch_style(Style::new().add_modifier(Modifier::REVERSED))
                } else {
                    line
                }
            })
            .collect();
        Paragraph::new(lines).render(inner, buf);
    }
}

/// `n` with its thousands separated by commas: "10,000".
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// The first row shown in a list of `height` rows, so the selected one is
/// visible.
pub(crate) fn first_shown(height: u16, selected: usize) -> usize {
    selected.saturating_sub(usize::from(height).saturating_sub(1))
}

/// The row drawn at screen row `y` of the list pane `area` (borders
/// included), if any.
pub fn row_at(area: Rect, selected: usize, count: usize, y: u16) -> Option<usize> {
    let inner_top = area.y + 1;
    let height = area.height.saturating_sub(2);
    if y < inner_top || y >= inner_top + height {
        return None;
    }
    let i = first_shown(height, selected) + usize::from(y - inner_top);
    (i < count).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clicks_map_to_the_row_drawn_there() {
        // 5 rows inside.
        let area = Rect::new(70, 10, 26, 7);
        assert_eq!(row_at(area, 0, 9, 10), None, "the border");
        assert_eq!(row_at(area, 0, 9, 11), Some(0));
        assert_eq!(row_at(area, 0, 2, 13), None, "below the last row");
        // Selected 7: rows 3..=7 are shown.
        assert_eq!(row_at(area, 7, 9, 11), Some(3));
        assert_eq!(row_at(area, 7, 9, 15), Some(7));
        assert_eq!(row_at(area, 7, 9, 16), None, "the border");
    }

    #[test]
    fn counts_show_their_thousands() {
        let shown: Vec<String> = [0, 7, 999, 1_000, 10_000, 1_234_567]
            .into_iter()
            .map(grouped)
            .collect();
        assert_eq!(shown, ["0", "7", "999", "1,000", "10,000", "1,234,567"]);
    }
}
