//! The side panes: online users and game invitations (shared files are in
//! [`super::files`]).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget, Wrap};

use super::theme;
use crate::app::{ChatView, Focus};

/// A titled list with a selected row, or a note when it is empty.
pub struct SideList<'a> {
    /// Pane title (the count is added).
    pub title: &'a str,
    /// The rows.
    pub items: Vec<Line<'a>>,
    /// The selected row.
    pub selected: usize,
    /// The pane has the focus.
    pub focused: bool,
    /// What to say when there are no rows.
    pub empty: &'a str,
}

impl Widget for SideList<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let block = Block::bordered()
            .title(format!(" {} ({}) ", self.title, self.items.len()))
            .border_style(super::border(self.focused));
        let inner = block.inner(area);
        block.render(area, buf);
        if self.items.is_empty() {
            Paragraph::new(Line::from(self.empty).dim().italic())
                .wrap(Wrap { trim: true })
                .render(inner, buf);
            return;
        }
        let height = usize::from(inner.height);
        let first = self.selected.saturating_sub(height.saturating_sub(1));
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

/// The online users pane.
pub fn users(chat: &ChatView) -> SideList<'_> {
    let items = chat
        .online
        .iter()
        .map(|u| {
            let mut spans = vec![Span::styled(
                crate::text::truncate(&u.name, 22),
                Style::new().fg(theme::user_color(&u.name)),
            )];
            if u.name == chat.me {
                spans.push(" (you)".dim());
            }
            Line::from(spans)
        })
        .collect();
    SideList {
        title: "Online",
        items,
        selected: chat.selected_user,
        focused: chat.focus == Focus::Users,
        empty: "Nobody is online.",
    }
}

/// The game invitations pane: the server has sent no invitations.
pub fn invites(chat: &ChatView) -> SideList<'_> {
    SideList {
        title: "Games",
        items: Vec::new(),
        selected: chat.selected_invite,
        focused: chat.focus == Focus::Invites,
        empty: "No game invitations. Games are not available on this server yet.",
    }
}
