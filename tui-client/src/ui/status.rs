//! The status bar: connection state, who and where, and key hints.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::app::conversations::Row;
use crate::app::{ChatView, Connection, Focus};

/// The one-line bar at the bottom of the main screen.
pub struct StatusBar<'a> {
    /// The main screen's state.
    pub chat: &'a ChatView,
}

impl Widget for StatusBar<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let chat = self.chat;
        let state = match &chat.connection {
            Connection::Online => {
                Span::styled(" ● online ", Style::new().fg(Color::Black).bg(Color::Green))
            }
            Connection::Reconnecting(n) => Span::styled(
                format!(" ◌ reconnecting (try {n}) "),
                Style::new().fg(Color::Black).bg(Color::Yellow),
            ),
        };
        let keys = match chat.focus {
            Focus::Input => {
                "Enter send · Alt-Enter newline · Tab panes/complete · PgUp/PgDn scroll · F1 help · Ctrl-Q quit"
            }
            Focus::Messages => {
                "↑↓ scroll · Home/End · Tab next pane · Esc input · F1 help · Ctrl-Q quit"
            }
            Focus::Conversations => match chat.convs.selected_row() {
                Some(Row::Request(_)) => {
                    "↑↓ select · a approve · r reject · Enter show the group · Esc input"
                }
                _ => "↑↓ select · Enter open · Alt-↑↓ anywhere · Tab next pane · Esc input",
            },
            Focus::Users => "↑↓ select · Enter mention · Tab next pane · Esc input · F1 help",
            Focus::Files => {
                "↑↓ select · Enter/d download · u upload · x cancel · Tab next pane · Esc input"
            }
            Focus::Invites => {
                "↑↓ select · Enter accept/watch · n invite · c cancel · Tab next pane · Esc input"
            }
            Focus::Board => match chat.games.board.as_ref() {
                Some(b) if b.in_play() && b.mark().is_some() => {
                    "←↑↓→ move · Enter/Space/1-9 place · r resign · Esc chat · F1 help"
                }
                Some(b) if b.in_play() => "q stop watching · Esc chat · F1 help",
                _ => "q close the board · Esc chat · F1 help",
            },
        };
        let keys = if chat.sharing.prompt.is_some() {
            "Enter confirm · Tab complete the path · Esc cancel"
        } else if chat.search.is_some() {
            "↑↓ choose · Enter go to the message · Esc close the results"
        } else {
            keys
        };
        let line = Line::from(vec![
            state,
            Span::raw(" "),
            Span::from(chat.me.as_str()).bold(),
            Span::raw(" @ "),
            Span::raw(chat.server.as_str()),
            Span::raw("  "),
            Span::from(keys).dim(),
        ]);
        Paragraph::new(line).render(area, buf);
    }
}
