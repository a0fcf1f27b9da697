//! The status bar: connection state, who and where, and key hints for what
//! has the focus.
//!
//! The hints are whole items ("↑↓ select", "Enter open"), most needed first;
//! the bar shows as many as fit its width and never cuts one in half. When
//! fewer than four fit, the server's address (also in the message list's
//! title) makes way for them.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::app::conversations::Row;
use crate::app::{ChatView, Connection, Focus};
use crate::text::str_width;

/// The one-line bar at the bottom of the main screen.
pub struct StatusBar<'a> {
    /// The main screen's state.
    pub chat: &'a ChatView,
    /// The help overlay is open: the hints are its keys.
    pub help_open: bool,
}

/// Between two hints.
const SEPARATOR: &str = " · ";
/// The server's address stays while this many hints fit beside it.
const KEEP_SERVER_WITH: usize = 4;

/// The key hints for what has the focus, most needed first.
pub fn hints(chat: &ChatView, help_open: bool) -> Vec<&'static str> {
    if help_open {
        return vec!["↑↓ PgUp/PgDn scroll", "Esc close the help"];
    }
    if chat.sharing.prompt.is_some() {
        return vec!["Enter confirm", "Tab complete the path", "Esc cancel"];
    }
    if chat.search.is_some() {
        return vec![
            "↑↓ choose",
            "Enter go to the message",
            "Esc close the results",
        ];
    }
    let board = chat.games.board.as_ref();
    let my_move = board.is_some_and(|b| b.in_play() && b.my_turn());
    let mut hints = Vec::new();
    if my_move && chat.focus != Focus::Board {
        hints.push("F2 your move");
    }
    hints.extend(match chat.focus {
        Focus::Input if chat.convs.shown().is_closed() => vec![
            "read-only: Enter runs /commands",
            "F1 help",
            "Alt-↑/↓ conversations",
            "PgUp/PgDn scroll",
            "Ctrl-Q quit",
        ],
        Focus::Input => vec![
            "Enter send",
            "F1 help",
            "Tab complete/panes",
            "Alt-Enter newline",
            "PgUp/PgDn scroll",
            "Ctrl-Q quit",
        ],
        Focus::Messages => vec![
            "↑↓ scroll",
            "Home/End",
            "Esc input",
            "Tab next pane",
            "F1 help",
            "Ctrl-Q quit",
        ],
        Focus::Conversations => match chat.convs.selected_row() {
            Some(Row::Request(_)) => vec![
                "↑↓ select",
                "a approve",
                "r reject",
                "Enter show the group",
                "Esc input",
            ],
            _ => vec![
                "↑↓ select",
                "Enter open",
                "Esc input",
                "Alt-↑↓ anywhere",
                "Tab next pane",
            ],
        },
        Focus::Users if chat.online.find.is_some() => vec![
            "type a name",
            "↑↓ select",
            "Enter mention",
            "Esc stop finding",
        ],
        Focus::Users => vec![
            "↑↓ select",
            "/ find",
            "Enter mention",
            "PgUp/PgDn Home/End",
            "Esc input",
            "Tab next pane",
        ],
        Focus::Files => vec![
            "↑↓ select",
            "Enter/d download",
            "u upload",
            "x cancel",
            "Esc input",
            "Tab next pane",
        ],
        Focus::Invites => vec![
            "↑↓ select",
            "Enter accept/watch",
            "n invite",
            "c cancel",
            "Esc input",
            "Tab next pane",
        ],
        Focus::Board => match board {
            Some(b) if b.in_play() && b.resign_asked => vec!["y resign", "n keep playing"],
            Some(b) if b.in_play() && b.mark().is_some() => vec![
                "1-9 place",
                "←↑↓→ move",
                "Enter/Space place",
                "r resign",
                "Esc chat",
                "F1 help",
            ],
            Some(b) if b.in_play() => vec!["q stop watching", "Esc chat", "F1 help"],
            _ => vec!["q close the board", "Esc chat", "F1 help"],
        },
    });
    hints
}

/// As many of `hints` as fit in `width` columns, joined.
fn fitting(hints: &[&str], width: usize) -> (String, usize) {
    let mut text = String::new();
    let mut count = 0;
    for hint in hints {
        let sep = if text.is_empty() { "" } else { SEPARATOR };
        if str_width(&text) + str_width(sep) + str_width(hint) > width {
            break;
        }
        text.push_str(sep);
        text.push_str(hint);
        count += 1;
    }
    (text, count)
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
        let hints = hints(chat, self.help_open);
        let width = usize::from(area.width);
        let used = state.width() + 1 + str_width(&chat.me) + 2;
        let at_server = format!(" @ {}", chat.server);
        let with_server = width.saturating_sub(used + str_width(&at_server));
        let (mut keys, count) = fitting(&hints, with_server);
        let mut server = at_server;
        if count < hints.len().min(KEEP_SERVER_WITH) {
            let (without, more) = fitting(&hints, width.saturating_sub(used));
            if more > count {
                keys = without;
                server = String::new();
            }
        }
        let line = Line::from(vec![
            state,
            Span::raw(" "),
            Span::from(chat.me.as_str()).bold(),
            Span::raw(server),
            Span::raw("  "),
            Span::from(keys).dim(),
        ]);
        Paragraph::new(line).render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::ChatView;

    fn bar(chat: &ChatView, width: u16) -> String {
        let area = Rect::new(0, 0, width, 1);
        let mut buf = Buffer::empty(area);
        StatusBar {
            chat,
            help_open: false,
        }
        .render(area, &mut buf);
        (0..width)
            .map(|x| buf[(x, 0)].symbol())
            .collect::<String>()
            .trim_end()
            .to_owned()
    }

    #[test]
    fn hints_are_whole_and_the_server_makes_way_first() {
        let mut chat = ChatView::new(
            "alice",
            "chat.example:44302",
            crate::app::online::Online::from_login(vec![], 0, None),
        );
        chat.focus = Focus::Conversations;
        let wide = bar(&chat, 120);
        assert!(wide.contains("alice @ chat.example:44302"), "{wide}");
        assert!(wide.ends_with("Alt-↑↓ anywhere · Tab next pane"), "{wide}");
        for width in [48, 60, 72, 80] {
            let text = bar(&chat, width);
            let keys = text.rsplit("  ").next().unwrap_or_default();
            assert!(
                keys.split(SEPARATOR)
                    .all(|k| hints(&chat, false).contains(&k)),
                "{width}: a hint is cut: {text:?}"
            );
            assert!(!text.ends_with('·'), "{width}: {text:?}");
        }
        let mut area_buf = Buffer::empty(Rect::new(0, 0, 60, 1));
        StatusBar {
            chat: &chat,
            help_open: true,
        }
        .render(area_buf.area, &mut area_buf);
        let with_help: String = (0..60).map(|x| area_buf[(x, 0)].symbol()).collect();
        assert!(with_help.contains("Esc close the help"), "{with_help}");
        assert!(!with_help.contains("Tab next pane"), "{with_help}");
        let narrow = bar(&chat, 60);
        assert!(!narrow.contains("chat.example"), "{narrow}");
        assert!(
            narrow.contains("↑↓ select · Enter open · Esc input"),
            "{narrow}"
        );
    }
}
