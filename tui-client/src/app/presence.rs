//! The online pane at work: who is online as the server tells it (the
//! login, `user_joined` / `user_left`, `presence` events, pages of `users`),
//! the pane's keys and clicks, and watching the rows on screen (PROTOCOL
//! §18). The state is in `online.rs`; this is where events reach it.

use chatroom_shared::message::{
    ErrorReply, LoginOk, OnlineUser, Presence, UserJoined, UserLeft, UserList,
};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::chat::{Connection, Focus};
use super::entry::{Entry, EntryKind};
use super::keys::set_focus;
use super::online::{LOG_PRESENCE_MAX, Online};
use super::{Action, App, Screen};
use crate::net::{NetCommand, UsersRequest};
use crate::ui::layout::for_chat;
use crate::ui::online::{user_at, view};

/// Rows the mouse wheel moves the online list.
const WHEEL_ROWS: isize = 3;

fn ask(request: Option<UsersRequest>) -> Vec<Action> {
    request
        .map(|r| Action::Net(NetCommand::Users(r)))
        .into_iter()
        .collect()
}

/// Who is online as `login_ok` says.
pub(super) fn online_at_login(ok: &LoginOk) -> Online {
    Online::from_login(ok.online.clone(), ok.online_count, ok.online_next.clone())
}

impl App {
    /// The rows inside the online pane, when it is on screen.
    fn online_rows(&self) -> Option<u16> {
        let chat = self.chat()?;
        let pane = for_chat(self.area, chat).users?;
        Some(pane.height.saturating_sub(2))
    }

    /// After every event: watch the rows of the list on screen (again when
    /// they left the watched window), or stop watching when the pane is not
    /// on screen.
    pub(super) fn sync_watch(&mut self) -> Vec<Action> {
        let rows = self.online_rows();
        let Some(chat) = self.chat_view() else {
            return Vec::new();
        };
        if chat.connection != Connection::Online {
            // Requests are dropped meanwhile; the next login starts afresh.
            return Vec::new();
        }
        let shown = rows.map(|h| view(&chat.online.list, h));
        ask(chat.online.sync_watch(shown))
    }

    /// A page of the online list came (or was refused).
    pub(super) fn on_users(
        &mut self,
        request: &UsersRequest,
        page: Result<UserList, ErrorReply>,
    ) -> Vec<Action> {
        let Some(chat) = self.chat_view() else {
            return Vec::new();
        };
        ask(chat.online.page_came(request, page))
    }

    /// `user_joined`: into the list, and a line in the main room (not for
    /// someone coming back after a reconnect).
    pub(super) fn on_user_joined(&mut self, j: UserJoined) {
        let now = self.now;
        let Screen::Chat(chat) = &mut self.screen else {
            return;
        };
        chat.online.joined(OnlineUser {
            name: j.name.clone(),
            since: j.ts,
        });
        if chat.join_is_news(&j.name, now) {
            chat.push_room(Entry {
                id: None,
                ts: j.ts,
                kind: EntryKind::Joined(j.name),
                text: String::new(),
            });
        }
    }

    /// `user_left`: out of the list, and a line in the main room.
    pub(super) fn on_user_left(&mut self, l: UserLeft) {
        let Screen::Chat(chat) = &mut self.screen else {
            return;
        };
        chat.user_left(&l.name);
        chat.push_room(Entry {
            id: None,
            ts: l.ts,
            kind: EntryKind::Left(l.name, l.reason),
            text: String::new(),
        });
    }

    /// A `presence` event: the list and the count follow it. While at most
    /// [`LOG_PRESENCE_MAX`] are online its joins and leaves are also lines
    /// in the main room, as `user_joined` / `user_left` are; above that
    /// they are not (see there why). Only changes to the list are told: a
    /// new session of someone listed is no join, a leave of someone not
    /// listed (who came and went between two events) no leave, and this
    /// user's own login no news.
    pub(super) fn on_presence(&mut self, p: Presence) {
        let now = self.now;
        let Screen::Chat(chat) = &mut self.screen else {
            return;
        };
        let (count, ts) = (p.online_count, p.ts);
        let changes = chat.online.presence(p);
        for gone in &changes.left {
            chat.returning.names.retain(|n| *n != gone.name);
        }
        if count > LOG_PRESENCE_MAX {
            return;
        }
        for gone in changes.left {
            chat.push_room(Entry {
                id: None,
                ts,
                kind: EntryKind::Left(gone.name, gone.reason),
                text: String::new(),
            });
        }
        for user in changes.joined {
            if user.name != chat.me && chat.join_is_news(&user.name, now) {
                chat.push_room(Entry {
                    id: None,
                    ts,
                    kind: EntryKind::Joined(user.name),
                    text: String::new(),
                });
            }
        }
    }

    /// A key for the online pane: moving through the list (a page beyond
    /// what is loaded is asked for), `/` to find by typing, Enter to
    /// mention. `None` for a key the pane does not use (it goes to the
    /// input).
    pub(super) fn on_online_key(&mut self, key: KeyEvent) -> Option<Vec<Action>> {
        let page = self
            .online_rows()
            .map_or(1, |h| isize::try_from(h).unwrap_or(1).max(2) - 1);
        let chat = self.chat_view()?;
        let online = &mut chat.online;
        let plain = !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        let finding = online.find.is_some();
        let request = match key.code {
            KeyCode::Up => online.move_by(-1),
            KeyCode::Down => online.move_by(1),
            KeyCode::PageUp => online.move_by(-page),
            KeyCode::PageDown => online.move_by(page),
            KeyCode::Home => online.home(),
            KeyCode::End => online.end(),
            KeyCode::Enter => {
                if let Some(u) = online.shown().selected_user() {
                    let mention = format!("@{} ", u.name);
                    online.clear_find();
                    chat.compose.paste(&mention);
                    set_focus(chat, Focus::Input);
                }
                None
            }
            KeyCode::Esc if finding => {
                online.clear_find();
                None
            }
            KeyCode::Backspace if finding => {
                if online.find.as_ref().is_some_and(|f| f.text.is_empty()) {
                    online.clear_find();
                    None
                } else {
                    online.find_pop()
                }
            }
            KeyCode::Char(c) if finding && plain => online.find_push(c),
            KeyCode::Char('/') if plain => {
                online.start_find();
                None
            }
            _ => return None,
        };
        Some(ask(request))
    }

    /// A click on the online pane at screen row `y`: the focus, and the user
    /// on that row.
    pub(super) fn on_online_click(&mut self, y: u16) {
        let area = self.area;
        let Screen::Chat(chat) = &mut self.screen else {
            return;
        };
        set_focus(chat, Focus::Users);
        let Some(pane) = for_chat(area, chat).users else {
            return;
        };
        if let Some(i) = user_at(pane, chat.online.shown(), y) {
            chat.online.select(i);
        }
    }

    /// The wheel over the online pane moves its selection.
    pub(super) fn on_online_wheel(&mut self, down: bool) -> Vec<Action> {
        let Some(chat) = self.chat_view() else {
            return Vec::new();
        };
        ask(chat
            .online
            .move_by(if down { WHEEL_ROWS } else { -WHEEL_ROWS }))
    }
}
