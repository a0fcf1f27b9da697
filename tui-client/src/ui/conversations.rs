//! The conversations pane: the main room, the user's groups (🔒 marks a
//! private one, a closed one is greyed), direct-message conversations, each
//! with its unread count, the one on screen marked with ▸; then the join
//! requests waiting for the user ("bob asks to join #team ✓ ✗"), whose ✓ and
//! ✗ approve and reject with a click. [`row_at`] and [`request_button_at`]
//! map a click back with the same arithmetic.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::side::SideList;
use crate::app::conversations::{Conversation, JoinRequest};
use crate::app::{ChatView, Focus};
use crate::text::{str_width, truncate};

/// The private-group mark.
const PRIVATE: &str = "🔒";
/// Said under the room while there is no other conversation.
const HINT: [&str; 3] = ["", "/msg NAME talks to one;", "/join, /create: groups."];
/// The approve and reject marks at the end of a join request's row.
const BUTTONS: &str = "✓ ✗";

/// The conversations pane.
pub struct ConversationsPane<'a> {
    /// The main screen's state.
    pub chat: &'a ChatView,
}

impl Widget for ConversationsPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let chat = self.chat;
        let width = usize::from(area.width.saturating_sub(2));
        let shown = &chat.convs.shown().target;
        let mut items: Vec<Line> = chat
            .convs
            .all()
            .iter()
            .map(|c| conversation_row(c, &c.target == shown, width))
            .collect();
        items.extend(chat.convs.requests.iter().map(|r| request_row(r, width)));
        if items.len() == 1 {
            // Only the room: say how more conversations come.
            items.extend(HINT.iter().map(|h| Line::from(*h).dim().italic()));
        }
        SideList {
            title: "Conversations",
            count: chat.convs.all().len() as u64,
            items,
            selected: chat.convs.selected,
            focused: chat.focus == Focus::Conversations,
            empty: "",
            note: None,
        }
        .render(area, buf);
    }
}

/// "▸#team 🔒        3": the on-screen mark, the name, the private mark,
/// and the unread count at the right edge.
fn conversation_row(c: &Conversation, shown: bool, width: usize) -> Line<'static> {
    let mark = if shown { "▸" } else { " " };
    let count = match c.unread {
        0 => String::new(),
        n if n > 99 => " 99+".to_owned(),
        n => format!(" {n}"),
    };
    let private = if c.is_private() {
        format!(" {PRIVATE}")
    } else {
        String::new()
    };
    let closed = if c.is_closed() { " (closed)" } else { "" };
    let room = width.saturating_sub(1 + str_width(&count) + str_width(&private) + closed.len());
    let name = truncate(&c.label(), room);
    let used = 1 + str_width(&name) + str_width(&private) + closed.len();
    let pad = " ".repeat(width.saturating_sub(used + str_width(&count)));
    let mut name_style = Style::new();
    if shown {
        name_style = name_style.add_modifier(Modifier::BOLD);
    }
    if c.unread > 0 {
        name_style = name_style.add_modifier(Modifier::BOLD);
    }
    let mut spans = vec![
        Span::styled(mark, Style::new().fg(Color::Cyan)),
        Span::styled(name, name_style),
        Span::raw(private),
        Span::raw(closed),
        Span::raw(pad),
        Span::styled(
            count,
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        ),
    ];
    if c.is_closed() {
        spans = spans.into_iter().map(|s| s.dim()).collect();
    }
    Line::from(spans)
}

/// "bob asks to join #team ✓ ✗" (shorter wordings when that does not fit,
/// cut as a last resort), the marks at the right edge.
fn request_row(r: &JoinRequest, width: usize) -> Line<'static> {
    let buttons = str_width(BUTTONS);
    let room = width.saturating_sub(buttons + 1);
    let wordings = [
        format!("{} asks to join #{}", r.user, r.group),
        format!("{} asks for #{}", r.user, r.group),
        format!("{} → #{}", r.user, r.group),
    ];
    let text = wordings
        .iter()
        .find(|t| str_width(t) <= room)
        .map_or_else(|| truncate(&wordings[2], room), Clone::clone);
    let pad = " ".repeat(width.saturating_sub(str_width(&text) + buttons));
    Line::from(vec![
        Span::styled(text, Style::new().fg(Color::Yellow)),
        Span::raw(pad),
        Span::styled(
            "✓",
            Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
        ),
        Span::raw(" "),
        Span::styled(
            "✗",
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        ),
    ])
}

/// The row drawn at screen row `y` of the pane `area` (borders included).
pub fn row_at(area: Rect, selected: usize, count: usize, y: u16) -> Option<usize> {
    super::side::row_at(area, selected, count, y)
}

/// Which join-request mark is at column `x` of the pane `area`: `Some(true)`
/// for ✓ (approve), `Some(false)` for ✗ (reject).
pub fn request_button_at(area: Rect, x: u16) -> Option<bool> {
    let reject = area.right().checked_sub(2)?;
    if x == reject {
        Some(false)
    } else if x + 2 == reject {
        Some(true)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use chatroom_shared::message::{GroupInfo, GroupStatus, Membership, Target};

    use super::*;

    fn text(line: &Line) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    fn team(private: bool, status: GroupStatus) -> Conversation {
        let mut c = Conversation::new(Target::Group {
            group: "team".into(),
        });
        c.group = Some(GroupInfo {
            id: 1,
            name: "team".into(),
            creator: "alice".into(),
            private,
            comment: None,
            created: 0,
            status,
            me: Membership::Member,
            members: 2,
        });
        c
    }

    #[test]
    fn rows_show_the_mark_the_name_and_the_unread_count_at_the_edge() {
        let mut room = Conversation::new(Target::Room);
        assert_eq!(text(&conversation_row(&room, true, 16)), "▸Main room      ");
        room.unread = 3;
        assert_eq!(
            text(&conversation_row(&room, false, 16)),
            " Main room     3"
        );
        let mut private = team(true, GroupStatus::Open);
        private.unread = 120;
        assert_eq!(
            text(&conversation_row(&private, false, 16)),
            " #team 🔒    99+"
        );
        let closed = team(false, GroupStatus::Closed);
        assert_eq!(
            text(&conversation_row(&closed, false, 20)),
            " #team (closed)     "
        );
        let dm = Conversation::new(Target::User {
            user: "maximilian_the_great".into(),
        });
        let cut = text(&conversation_row(&dm, false, 12));
        assert_eq!(str_width(&cut), 12, "{cut}");
    }

    #[test]
    fn request_rows_end_with_the_marks_and_clicks_find_them() {
        let r = JoinRequest {
            group: "team".into(),
            user: "bob".into(),
        };
        assert_eq!(text(&request_row(&r, 28)), "bob asks to join #team   ✓ ✗");
        assert_eq!(text(&request_row(&r, 24)), "bob asks for #team   ✓ ✗");
        assert_eq!(text(&request_row(&r, 16)), "bob → #team  ✓ ✗");
        let cut = text(&request_row(&r, 12));
        assert!(cut.ends_with(" ✓ ✗") && str_width(&cut) == 12, "{cut}");
        // A pane at x 70, 26 wide: inside 71..=94; ✗ at 94, ✓ at 92.
        let area = Rect::new(70, 0, 26, 8);
        assert_eq!(request_button_at(area, 94), Some(false));
        assert_eq!(request_button_at(area, 92), Some(true));
        assert_eq!(request_button_at(area, 93), None);
        assert_eq!(request_button_at(area, 80), None);
    }
}
