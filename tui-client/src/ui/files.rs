//! The shared-files pane: every shared file on two lines (name; size,
//! uploader and time), the selected one highlighted while the pane has the
//! focus. [`file_at`] maps a click back to a file with the same arithmetic.

use chatroom_shared::message::human_size;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget, Wrap};

use super::theme;
use crate::app::{ChatView, Focus};
use crate::text::truncate;

/// Lines each file takes.
const LINES_PER_FILE: usize = 2;

/// The shared-files pane.
pub struct FilesPane<'a> {
    /// The main screen's state.
    pub chat: &'a ChatView,
    /// Local time offset, seconds east of UTC.
    pub utc_offset_secs: i32,
}

/// The first file shown in a list area of `height` rows, so that the
/// selected one is visible.
fn first_shown(height: u16, selected: usize) -> usize {
    let fit = (usize::from(height) / LINES_PER_FILE).max(1);
    selected.saturating_sub(fit - 1)
}

/// The file drawn at screen row `y` of the pane `area` (borders included).
pub fn file_at(area: Rect, selected: usize, count: usize, y: u16) -> Option<usize> {
    let inner_top = area.y + 1;
    let height = area.height.saturating_sub(2);
    if y < inner_top || y >= inner_top + height {
        return None;
    }
    let i = first_shown(height, selected) + usize::from(y - inner_top) / LINES_PER_FILE;
    (i < count).then_some(i)
}

impl Widget for FilesPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let chat = self.chat;
        let files = &chat.sharing.files;
        let focused = chat.focus == Focus::Files;
        let block = Block::bordered()
            .title(format!(" Files ({}) ", files.len()))
            .border_style(super::border(focused));
        let inner = block.inner(area);
        block.render(area, buf);
        if files.is_empty() {
            Paragraph::new(
                Line::from("No files shared yet. Press u here, or type /upload PATH.")
                    .dim()
                    .italic(),
            )
            .wrap(Wrap { trim: true })
            .render(inner, buf);
            return;
        }
        let width = usize::from(inner.width);
        let first = first_shown(inner.height, chat.selected_file);
        let mut lines = Vec::new();
        for (i, f) in files.iter().enumerate().skip(first) {
            let mut name = Line::from(truncate(&f.name, width)).bold();
            if focused && i == chat.selected_file {
                name = name.patch_style(Style::new().add_modifier(Modifier::REVERSED));
            }
            lines.push(name);
            let detail = format!(
                "{} · {} · {}",
                human_size(f.size),
                f.uploader,
                theme::clock(f.ts, self.utc_offset_secs)
            );
            lines.push(Line::from(Span::styled(
                format!(" {}", truncate(&detail, width.saturating_sub(1))),
                theme::timestamp(),
            )));
            if lines.len() >= usize::from(inner.height) {
                break;
            }
        }
        Paragraph::new(lines).render(inner, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clicks_map_to_the_file_drawn_there() {
        // A pane of 8 rows: 6 inside, 3 files fit.
        let area = Rect::new(70, 10, 26, 8);
        assert_eq!(file_at(area, 0, 5, 10), None, "the border");
        assert_eq!(file_at(area, 0, 5, 11), Some(0));
        assert_eq!(file_at(area, 0, 5, 12), Some(0));
        assert_eq!(file_at(area, 0, 5, 13), Some(1));
        assert_eq!(file_at(area, 0, 2, 15), None, "below the last file");
        // Selected 4: files 2..=4 are shown.
        assert_eq!(file_at(area, 4, 5, 11), Some(2));
        assert_eq!(file_at(area, 4, 5, 16), Some(4));
    }
}
