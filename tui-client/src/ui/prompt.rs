//! The prompt overlay: "Save to: <dir>" before a download, "Upload: <path>"
//! before an upload, with its keys.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Block, BorderType, Widget};

use crate::app::Prompt;

/// The open prompt, drawn over the main screen.
pub struct PromptOverlay<'a> {
    /// The prompt.
    pub prompt: &'a Prompt,
}

impl Widget for PromptOverlay<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let block = Block::bordered()
            .border_type(BorderType::Double)
            .title(Line::from(self.prompt.title()).bold())
            .border_style(Color::Cyan);
        let inner = block.inner(area);
        block.render(area, buf);
        let [field, _, keys] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(inner);
        let label = self.prompt.label();
        let width = u16::try_from(label.len()).unwrap_or(0);
        let [label_area, input_area] =
            Layout::horizontal([Constraint::Length(width), Constraint::Min(1)]).areas(field);
        Line::from(label.bold()).render(label_area, buf);
        self.prompt.input().render(input_area, buf);
        Line::from("Enter confirm · Tab complete the path · Esc cancel".dim()).render(keys, buf);
    }
}
