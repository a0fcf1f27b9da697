//! The online users pane: the number online in its title, the rows of the
//! list (or of what was found) around the selection, a "loading…" row where
//! a page is on its way, and what is being found on its bottom border.
//!
//! Only the rows on screen are built, whatever the number loaded. The row
//! arithmetic ([`first_row`], [`view`], [`user_at`]) is shared with the app,
//! so a click, the rows the app watches and the rows drawn always agree.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::side::{SideList, first_shown};
use super::theme;
use crate::app::online::{View, Window};
use crate::app::online_window::Place;
use crate::app::{ChatView, Focus};

/// What the row a page is coming in says.
pub const LOADING: &str = "loading…";

/// Where the rows of `window` are: 1 when a page is coming above the loaded
/// users (its row comes first), else 0; and the row count.
fn rows(window: &Window) -> (usize, usize) {
    let place = window.loading().map(|f| f.place);
    let above = usize::from(place == Some(Place::Above));
    let below = usize::from(place == Some(Place::Below));
    (above, above + window.len() + below)
}

/// The first row drawn in a pane with `height` rows inside: the selection
/// is on screen, and so is a "loading…" row right under it.
pub fn first_row(window: &Window, height: u16) -> usize {
    let (above, count) = rows(window);
    let selected = window.selected + above;
    let below = window.loading().is_some_and(|f| f.place == Place::Below);
    let anchor = if below && selected + 2 == count {
        selected + 1
    } else {
        selected
    };
    first_shown(height, anchor.min(count.saturating_sub(1)))
}

/// The loaded users on screen in a pane with `height` rows inside.
pub fn view(window: &Window, height: u16) -> View {
    let (above, _) = rows(window);
    let top = first_row(window, height).max(above);
    let bottom = (first_row(window, height) + usize::from(height)).min(above + window.len());
    View {
        first: top - above,
        rows: bottom.saturating_sub(top),
    }
}

/// The user drawn at screen row `y` of the pane `area` (borders included),
/// if any.
pub fn user_at(area: Rect, window: &Window, y: u16) -> Option<usize> {
    let height = area.height.saturating_sub(2);
    if y <= area.y || y > area.y + height {
        return None;
    }
    let (above, _) = rows(window);
    let row = first_row(window, height) + usize::from(y - area.y - 1);
    let i = row.checked_sub(above)?;
    (i < window.len()).then_some(i)
}

/// The online users pane.
pub struct OnlinePane<'a> {
    /// The main screen's state.
    pub chat: &'a ChatView,
}

impl Widget for OnlinePane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let chat = self.chat;
        let online = &chat.online;
        let window = online.shown();
        let height = area.height.saturating_sub(2);
        let (above, count) = rows(window);
        let first = first_row(window, height);
        let items: Vec<Line> = (first..count.min(first + usize::from(height)))
            .map(
                |row| match row.checked_sub(above).and_then(|i| window.users().get(i)) {
                    Some(u) => {
                        let mut spans = vec![Span::styled(
                            crate::text::truncate(&u.name, 22),
                            Style::new().fg(theme::user_color(&u.name)),
                        )];
                        if u.name == chat.me {
                            spans.push(" (you)".dim());
                        }
                        Line::from(spans)
                    }
                    None => Line::from(LOADING).dim().italic(),
                },
            )
            .collect();
        let selected = (window.selected + above).saturating_sub(first);
        let note = online.find.as_ref().map(|f| {
            let room = usize::from(area.width.saturating_sub(12));
            if f.text.is_empty() {
                Line::from(" find: type a name ").dim()
            } else {
                Line::from(vec![
                    Span::raw(" find: "),
                    Span::from(crate::text::truncate(&f.text, room)).bold(),
                    Span::raw(" "),
                ])
            }
        });
        let empty = if online.finding() {
            "No such name online."
        } else {
            "Nobody is online."
        };
        SideList {
            title: "Online",
            count: online.count(),
            items,
            selected,
            focused: chat.focus == Focus::Users,
            empty,
            note,
        }
        .render(area, buf);
    }
}
