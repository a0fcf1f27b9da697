//! Keys and clicks of the search results overlay: ↑ ↓ and the page keys
//! move through the matches (past the last one the next page is asked
//! for), Enter or a click jumps to the chosen match in its conversation, Esc
//! closes.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;

use super::search::PAGE;
use super::{Action, App};
use crate::net::GroupRequest;
use crate::ui::search::{overlay_rect, row_at};

impl App {
    /// A key while the search results are open (they take every key).
    pub(super) fn on_search_key(&mut self, key: KeyEvent) -> Vec<Action> {
        let Some(chat) = self.chat_view() else {
            return Vec::new();
        };
        let Some(search) = &mut chat.search else {
            return Vec::new();
        };
        let delta = match key.code {
            KeyCode::Esc | KeyCode::Char('q') => {
                chat.search = None;
                return Vec::new();
            }
            KeyCode::Enter => {
                let chosen = search.chosen().cloned();
                return match chosen {
                    Some(m) => self.jump_to(&m),
                    None => Vec::new(),
                };
            }
            KeyCode::Up => -1,
            KeyCode::Down => 1,
            KeyCode::PageUp => -(PAGE as isize),
            KeyCode::PageDown => PAGE as isize,
            KeyCode::Home => isize::MIN / 2,
            KeyCode::End => isize::MAX / 2,
            _ => return Vec::new(),
        };
        let text = search.text.clone();
        match search.step(delta) {
            Some(before) => self.send_group(GroupRequest::Search {
                text,
                before: Some(before),
            }),
            None => Vec::new(),
        }
    }

    /// A click while the search results are open: on a match, jump to it;
    /// outside the overlay, close it.
    pub(super) fn on_search_click(&mut self, area: Rect, y: u16) -> Vec<Action> {
        let Some(chat) = self.chat_view() else {
            return Vec::new();
        };
        let Some(search) = &mut chat.search else {
            return Vec::new();
        };
        let rect = overlay_rect(area);
        if y < rect.y || y >= rect.bottom() {
            chat.search = None;
            return Vec::new();
        }
        let Some(row) = row_at(rect, search.selected, search.results.len(), y) else {
            return Vec::new();
        };
        search.selected = row;
        let chosen = search.chosen().cloned();
        match chosen {
            Some(m) => self.jump_to(&m),
            None => Vec::new(),
        }
    }
}
