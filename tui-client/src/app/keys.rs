//! Keys, mouse and paste: what each does on each screen and pane.

use chatroom_shared::rules::{TextError, text::DEFAULT_MAX_TEXT_BYTES, validate_text};
use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

use super::chat::{ChatView, Focus, Pending};
use super::login::{FormAction, LoginField};
use super::{Action, App, Screen};
use crate::net::NetCommand;
use crate::ui::files::file_at;
use crate::ui::layout::{chat_regions, hit, login_regions};
use crate::ui::messages::max_scroll;

/// Lines the mouse wheel scrolls.
const WHEEL_LINES: usize = 3;

impl App {
    pub(super) fn on_key(&mut self, key: KeyEvent) -> Vec<Action> {
        if key.kind == KeyEventKind::Release {
            return Vec::new();
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && matches!(key.code, KeyCode::Char('c' | 'q')) {
            return self.quit();
        }
        if self.help_open {
            if matches!(
                key.code,
                KeyCode::Esc | KeyCode::F(1) | KeyCode::Char('?' | 'q') | KeyCode::Enter
            ) {
                self.help_open = false;
            }
            return Vec::new();
        }
        if key.code == KeyCode::F(1) {
            self.help_open = true;
            return Vec::new();
        }
        match &mut self.screen {
            Screen::Login(form) => {
                let action = form.on_key(key);
                self.form_action(action)
            }
            Screen::Chat(_) => self.on_chat_key(key),
        }
    }

    /// Carry out what the login form asked for.
    fn form_action(&mut self, action: Option<FormAction>) -> Vec<Action> {
        match action {
            Some(FormAction::Quit) => self.quit(),
            Some(FormAction::Submit {
                server,
                name,
                password,
                register,
            }) => {
                self.login_target = Some((server.clone(), name.clone()));
                vec![Action::Net(NetCommand::Login {
                    server,
                    name,
                    password,
                    register,
                })]
            }
            None => Vec::new(),
        }
    }

    fn quit(&mut self) -> Vec<Action> {
        vec![Action::Net(NetCommand::Quit), Action::Quit]
    }

    fn messages_page(&self) -> usize {
        let (lines, rows) = self.chat().map_or((1, 0), |c| {
            (c.compose.line_count(), c.sharing.transfer_rows())
        });
        let r = chat_regions(self.area, lines, rows);
        usize::from(r.messages.height.saturating_sub(3)).max(1)
    }

    fn max_scroll(&self) -> usize {
        let Some(chat) = self.chat() else { return 0 };
        let r = chat_regions(
            self.area,
            chat.compose.line_count(),
            chat.sharing.transfer_rows(),
        );
        max_scroll(
            &chat.entries,
            r.messages.width.saturating_sub(2),
            r.messages.height.saturating_sub(2),
            self.utc_offset_secs,
        )
    }

    /// Scroll up; at the top, ask the server for older messages.
    fn scroll_up(&mut self, lines: usize) -> Vec<Action> {
        let max = self.max_scroll();
        let Screen::Chat(chat) = &mut self.screen else {
            return Vec::new();
        };
        chat.scroll_up(lines, max);
        if chat.scroll >= max
            && !chat.loading_older
            && !chat.history_complete
            && let Some(before) = chat.first_id()
        {
            chat.loading_older = true;
            return vec![Action::Net(NetCommand::History { before })];
        }
        Vec::new()
    }

    fn on_chat_key(&mut self, key: KeyEvent) -> Vec<Action> {
        let page = self.messages_page();
        let now = self.now;
        let Screen::Chat(chat) = &mut self.screen else {
            return Vec::new();
        };
        if chat.sharing.prompt.is_some() {
            return self.on_prompt_key(key);
        }
        if chat.compose.confirm.is_some() {
            match key.code {
                KeyCode::Enter | KeyCode::Char('y') => {
                    chat.compose.confirm = None;
                    return self.send_now();
                }
                KeyCode::Esc | KeyCode::Char('n') => chat.compose.confirm = None,
                _ => {}
            }
            return Vec::new();
        }
        let alt_or_shift = key
            .modifiers
            .intersects(KeyModifiers::ALT | KeyModifiers::SHIFT);
        match key.code {
            KeyCode::PageUp => return self.scroll_up(page),
            KeyCode::PageDown => chat.scroll_down(page),
            KeyCode::Char('?') if chat.focus != Focus::Input || chat.compose.is_empty() => {
                self.help_open = true;
            }
            KeyCode::Tab => {
                let names: Vec<String> = chat.online.iter().map(|u| u.name.clone()).collect();
                if !(chat.focus == Focus::Input && chat.compose.complete(&names)) {
                    set_focus(chat, chat.focus.step(true));
                }
            }
            KeyCode::BackTab => set_focus(chat, chat.focus.step(false)),
            KeyCode::Esc if chat.focus != Focus::Input => set_focus(chat, Focus::Input),
            _ => match chat.focus {
                Focus::Input => match key.code {
                    KeyCode::Enter if alt_or_shift => chat.compose.newline(),
                    KeyCode::Enter => return self.send_input(),
                    KeyCode::Up if chat.compose.recall(true) => {}
                    KeyCode::Down if chat.compose.recall(false) => {}
                    _ => chat.compose.input(key),
                },
                Focus::Messages => match key.code {
                    KeyCode::Up | KeyCode::Char('k') => return self.scroll_up(1),
                    KeyCode::Home | KeyCode::Char('g') => return self.scroll_up(usize::MAX / 2),
                    KeyCode::Down | KeyCode::Char('j') => chat.scroll_down(1),
                    KeyCode::End | KeyCode::Char('G') => chat.scroll_down(usize::MAX),
                    _ => type_into_input(chat, key),
                },
                Focus::Users => match key.code {
                    KeyCode::Up => chat.selected_user = chat.selected_user.saturating_sub(1),
                    KeyCode::Down => {
                        chat.selected_user =
                            (chat.selected_user + 1).min(chat.online.len().saturating_sub(1));
                    }
                    KeyCode::Enter => {
                        if let Some(u) = chat.online.get(chat.selected_user) {
                            let mention = format!("@{} ", u.name);
                            chat.compose.paste(&mention);
                            set_focus(chat, Focus::Input);
                        }
                    }
                    _ => type_into_input(chat, key),
                },
                Focus::Files => {
                    if let Some(actions) = self.on_files_key(key) {
                        return actions;
                    }
                    if let Screen::Chat(chat) = &mut self.screen {
                        type_into_input(chat, key);
                    }
                }
                Focus::Invites => match key.code {
                    KeyCode::Enter => {
                        chat.notice(
                            now,
                            "Games are not available yet: this server has no game invitations.",
                        );
                    }
                    KeyCode::Up | KeyCode::Down => {}
                    _ => type_into_input(chat, key),
                },
            },
        }
        Vec::new()
    }

    /// Enter in the input: a slash command, or a message to send.
    fn send_input(&mut self) -> Vec<Action> {
        let confirm_lines = self.settings.confirm_lines;
        let Screen::Chat(chat) = &mut self.screen else {
            return Vec::new();
        };
        let text = chat.compose.text();
        if text.trim().is_empty() {
            return Vec::new();
        }
        if text.starts_with('/') && !text.starts_with("//") && !text.contains('\n') {
            let command = chat.compose.take();
            return self.run_command(command.trim());
        }
        if chat.compose.line_count() > confirm_lines {
            chat.compose.confirm = Some(text);
            return Vec::new();
        }
        self.send_now()
    }

    /// Send what is in the input box.
    fn send_now(&mut self) -> Vec<Action> {
        let now = self.now;
        let client_id = self.new_client_id();
        let Screen::Chat(chat) = &mut self.screen else {
            return Vec::new();
        };
        let raw = chat.compose.text();
        // "//text" sends "/text".
        let text = raw
            .strip_prefix('/')
            .filter(|t| t.starts_with('/'))
            .unwrap_or(&raw)
            .to_owned();
        if let Err(e) = validate_text(&text, DEFAULT_MAX_TEXT_BYTES) {
            let why = match e {
                TextError::TooLong { .. } => {
                    format!("Not sent: {e}. Shorten it and press Enter again.")
                }
                _ => format!("Not sent: {e}."),
            };
            chat.notice(now, why);
            return Vec::new();
        }
        chat.compose.take();
        chat.scroll_down(usize::MAX);
        chat.pending.push(Pending {
            client_id: client_id.clone(),
            text: text.clone(),
        });
        vec![Action::Net(NetCommand::Say { client_id, text })]
    }

    fn run_command(&mut self, command: &str) -> Vec<Action> {
        let now = self.now;
        let name = command.split_whitespace().next().unwrap_or("");
        match name {
            "/help" => {
                self.help_open = true;
                Vec::new()
            }
            "/quit" => self.quit(),
            "/upload" => self.upload_command(command.strip_prefix("/upload").unwrap_or("")),
            _ => {
                if let Screen::Chat(chat) = &mut self.screen {
                    chat.notice(
                        now,
                        format!("Unknown command {name}. /help lists the commands."),
                    );
                }
                Vec::new()
            }
        }
    }

    pub(super) fn on_mouse(&mut self, mouse: MouseEvent) -> Vec<Action> {
        let (x, y) = (mouse.column, mouse.row);
        if self.help_open {
            if matches!(mouse.kind, MouseEventKind::Down(_)) {
                self.help_open = false;
            }
            return Vec::new();
        }
        let area = self.area;
        match &mut self.screen {
            Screen::Login(form) => {
                if mouse.kind != MouseEventKind::Down(MouseButton::Left) {
                    return Vec::new();
                }
                let r = login_regions(area);
                let target = [
                    (r.server, LoginField::Server),
                    (r.user, LoginField::User),
                    (r.password, LoginField::Password),
                    (r.login, LoginField::Login),
                    (r.register, LoginField::Register),
                ]
                .into_iter()
                .find(|(rect, _)| hit(*rect, x, y))
                .map(|(_, f)| f);
                let action = target.and_then(|t| form.on_click(t));
                self.form_action(action)
            }
            Screen::Chat(chat) => {
                let r = chat_regions(
                    area,
                    chat.compose.line_count(),
                    chat.sharing.transfer_rows(),
                );
                match mouse.kind {
                    MouseEventKind::ScrollUp if hit(r.messages, x, y) => {
                        self.scroll_up(WHEEL_LINES)
                    }
                    MouseEventKind::ScrollDown if hit(r.messages, x, y) => {
                        chat.scroll_down(WHEEL_LINES);
                        Vec::new()
                    }
                    MouseEventKind::Down(MouseButton::Left) => {
                        let row =
                            |rect: ratatui::layout::Rect| usize::from(y.saturating_sub(rect.y + 1));
                        if hit(r.input, x, y) {
                            set_focus(chat, Focus::Input);
                        } else if hit(r.messages, x, y) {
                            set_focus(chat, Focus::Messages);
                        } else if let Some(users) = r.users.filter(|u| hit(*u, x, y)) {
                            set_focus(chat, Focus::Users);
                            if row(users) < chat.online.len() {
                                chat.selected_user = row(users);
                            }
                        } else if let Some(files) = r.files.filter(|f| hit(*f, x, y)) {
                            set_focus(chat, Focus::Files);
                            let count = chat.sharing.files.len();
                            if let Some(i) = file_at(files, chat.selected_file, count, y) {
                                self.open_save_prompt(i);
                            }
                        } else if r.invites.is_some_and(|i| hit(i, x, y)) {
                            set_focus(chat, Focus::Invites);
                        }
                        Vec::new()
                    }
                    _ => Vec::new(),
                }
            }
        }
    }

    pub(super) fn on_paste(&mut self, text: &str) -> Vec<Action> {
        if self.paste_into_prompt(text) {
            return Vec::new();
        }
        match &mut self.screen {
            Screen::Login(form) => form.on_paste(text),
            Screen::Chat(chat) => {
                set_focus(chat, Focus::Input);
                chat.compose.paste(text);
            }
        }
        Vec::new()
    }
}

/// Move the focus, showing the input's cursor only while it has the focus.
fn set_focus(chat: &mut ChatView, focus: Focus) {
    chat.focus = focus;
    chat.compose.show_cursor(focus == Focus::Input);
}

/// A printable key in a side pane: jump to the input and type it.
fn type_into_input(chat: &mut ChatView, key: KeyEvent) {
    let plain = !key
        .modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
    if matches!(key.code, KeyCode::Char(_)) && plain {
        set_focus(chat, Focus::Input);
        chat.compose.input(key);
    }
}
