//! Keys, mouse and paste: what each does on each screen and pane.

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

use super::chat::{ChatView, Focus};
use super::login::{FormAction, LoginField};
use super::{Action, App, Screen};
use crate::net::NetCommand;
use crate::ui::board::cell_at;
use crate::ui::conversations::{request_button_at, row_at as conversation_row_at};
use crate::ui::files::file_at;
use crate::ui::help;
use crate::ui::layout::{for_chat, hit, login_regions};
use crate::ui::side::row_at;

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
            match key.code {
                KeyCode::Esc | KeyCode::F(1) | KeyCode::Char('?' | 'q') | KeyCode::Enter => {
                    self.help_open = false;
                }
                KeyCode::Up => self.scroll_help(-1),
                KeyCode::Down => self.scroll_help(1),
                KeyCode::PageUp => self.scroll_help(-10),
                KeyCode::PageDown => self.scroll_help(10),
                _ => {}
            }
            return Vec::new();
        }
        if key.code == KeyCode::F(1) {
            self.open_help();
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

    /// Leave: what was read is told first, so it is not delivered again.
    fn quit(&mut self) -> Vec<Action> {
        let mut actions = self.flush_reads();
        actions.extend([Action::Net(NetCommand::Quit), Action::Quit]);
        actions
    }

    /// True when the pane `focus` names is on screen now: hints in notices
    /// name only what the user can see.
    pub(super) fn on_screen(&self, focus: Focus) -> bool {
        self.chat()
            .is_some_and(|chat| for_chat(self.area, chat).shows(focus))
    }

    fn open_help(&mut self) {
        self.help_open = true;
        self.help_scroll = 0;
    }

    /// Scroll the help overlay by `lines` (negative: up), within its text.
    fn scroll_help(&mut self, lines: i32) {
        let max = i32::from(help::max_scroll(help::overlay_rect(self.area)));
        let next = (i32::from(self.help_scroll) + lines).clamp(0, max);
        self.help_scroll = u16::try_from(next).unwrap_or(0);
    }

    fn messages_page(&self) -> usize {
        let Some(chat) = self.chat() else { return 1 };
        let r = for_chat(self.area, chat);
        usize::from(r.messages.height.saturating_sub(3)).max(1)
    }

    fn on_chat_key(&mut self, key: KeyEvent) -> Vec<Action> {
        let page = self.messages_page();
        let area = self.area;
        let Screen::Chat(chat) = &mut self.screen else {
            return Vec::new();
        };
        chat.tab_found_nothing = false;
        let regions = for_chat(area, chat);
        if chat.sharing.prompt.is_some() {
            return self.on_prompt_key(key);
        }
        if chat.search.is_some() {
            return self.on_search_key(key);
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
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        // The online pane pages with PageUp / PageDown, and while it finds,
        // Esc and `?` are the find's.
        let users = chat.focus == Focus::Users;
        let finding = users && chat.online.find.is_some();
        match key.code {
            KeyCode::Up if alt => return self.step_conversation(false),
            KeyCode::Down if alt => return self.step_conversation(true),
            KeyCode::PageUp | KeyCode::PageDown if users => {
                return self.pane_key(key, Self::on_online_key);
            }
            KeyCode::Esc if finding => return self.pane_key(key, Self::on_online_key),
            KeyCode::PageUp => return self.scroll_up(page),
            KeyCode::PageDown => return self.scroll_down(page),
            KeyCode::Char('?')
                if !finding && (chat.focus != Focus::Input || chat.compose.is_empty()) =>
            {
                self.open_help();
            }
            KeyCode::F(2) => self.toggle_board_focus(),
            // Tab in a draft completes, or stays (saying there was nothing to
            // complete): the focus never leaves what is being typed unseen.
            KeyCode::Tab if chat.focus == Focus::Input && !chat.compose.is_empty() => {
                let names: Vec<String> = chat.online.names().map(str::to_owned).collect();
                chat.tab_found_nothing = !chat.compose.complete(&names);
            }
            KeyCode::Tab => set_focus(chat, chat.step_focus(true, |f| regions.shows(f))),
            KeyCode::BackTab => set_focus(chat, chat.step_focus(false, |f| regions.shows(f))),
            KeyCode::Esc if chat.focus == Focus::Board && resign_asked(chat) => {
                return self.pane_key(key, Self::on_board_key);
            }
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
                    KeyCode::Down | KeyCode::Char('j') => return self.scroll_down(1),
                    KeyCode::End | KeyCode::Char('G') => return self.scroll_down(usize::MAX),
                    _ => type_into_input(chat, key),
                },
                Focus::Conversations => return self.pane_key(key, Self::on_conversations_key),
                Focus::Users => return self.pane_key(key, Self::on_online_key),
                Focus::Files => return self.pane_key(key, Self::on_files_key),
                Focus::Invites => return self.pane_key(key, Self::on_invites_key),
                Focus::Board => return self.pane_key(key, Self::on_board_key),
            },
        }
        Vec::new()
    }

    /// A key for a side pane's own handler; a printable key the pane does
    /// not use goes to the input.
    fn pane_key(
        &mut self,
        key: KeyEvent,
        handler: fn(&mut Self, KeyEvent) -> Option<Vec<Action>>,
    ) -> Vec<Action> {
        if let Some(actions) = handler(self, key) {
            return actions;
        }
        if let Screen::Chat(chat) = &mut self.screen {
            type_into_input(chat, key);
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

    /// Send what is in the input box to the conversation on screen.
    fn send_now(&mut self) -> Vec<Action> {
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
        self.send_to_shown(client_id, text)
    }

    fn run_command(&mut self, command: &str) -> Vec<Action> {
        let now = self.now;
        let name = command.split_whitespace().next().unwrap_or("");
        let args = command.strip_prefix(name).unwrap_or("");
        if let Some(actions) = self.game_command(name, args) {
            return actions;
        }
        if let Some(actions) = self.talk_command(name, args) {
            return actions;
        }
        match name {
            "/help" => {
                self.open_help();
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
            match mouse.kind {
                MouseEventKind::Down(_) => self.help_open = false,
                MouseEventKind::ScrollUp => self.scroll_help(-3),
                MouseEventKind::ScrollDown => self.scroll_help(3),
                _ => {}
            }
            return Vec::new();
        }
        let area = self.area;
        match &mut self.screen {
            Screen::Login(form) => {
                if mouse.kind != MouseEventKind::Down(MouseButton::Left) {
                    return Vec::new();
                }
                let r = login_regions(area, crate::ui::login::status_lines(form, area));
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
                let r = for_chat(area, chat);
                match mouse.kind {
                    MouseEventKind::ScrollUp if hit(r.messages, x, y) => {
                        self.scroll_up(WHEEL_LINES)
                    }
                    MouseEventKind::ScrollDown if hit(r.messages, x, y) => {
                        self.scroll_down(WHEEL_LINES)
                    }
                    MouseEventKind::ScrollUp | MouseEventKind::ScrollDown
                        if r.users.is_some_and(|u| hit(u, x, y)) =>
                    {
                        self.on_online_wheel(mouse.kind == MouseEventKind::ScrollDown)
                    }
                    MouseEventKind::Down(MouseButton::Left) if chat.search.is_some() => {
                        self.on_search_click(area, y)
                    }
                    MouseEventKind::Down(MouseButton::Left) => {
                        if hit(r.input, x, y) {
                            set_focus(chat, Focus::Input);
                        } else if hit(r.messages, x, y) {
                            set_focus(chat, Focus::Messages);
                        } else if let Some(pane) = r.conversations.filter(|c| hit(*c, x, y)) {
                            let convs = &chat.convs;
                            let count = convs.all().len() + convs.requests.len();
                            let row = conversation_row_at(pane, convs.selected, count, y);
                            let button = request_button_at(pane, x);
                            return self.on_conversations_click(row, button);
                        } else if r.users.is_some_and(|u| hit(u, x, y)) {
                            self.on_online_click(y);
                        } else if let Some(files) = r.files.filter(|f| hit(*f, x, y)) {
                            set_focus(chat, Focus::Files);
                            let count = chat.sharing.files.len();
                            if let Some(i) = file_at(files, chat.selected_file, count, y) {
                                self.open_save_prompt(i);
                            }
                        } else if let Some(invites) = r.invites.filter(|i| hit(*i, x, y)) {
                            let count = chat.games.listed.len();
                            let row = row_at(invites, chat.games.selected, count, y);
                            self.on_invites_click(row);
                        } else if let Some(board) = r.board.filter(|b| hit(*b, x, y)) {
                            return self.on_board_click(cell_at(board, x, y));
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

/// Move the focus, showing the input's cursor only while it has the focus
/// (and dropping the board's "resign?" once it has not).
pub(super) fn set_focus(chat: &mut ChatView, focus: Focus) {
    chat.focus = focus;
    chat.compose.show_cursor(focus == Focus::Input);
    if focus != Focus::Board
        && let Some(board) = &mut chat.games.board
    {
        board.resign_asked = false;
    }
}

/// True while the board asks whether to resign.
fn resign_asked(chat: &ChatView) -> bool {
    chat.games.board.as_ref().is_some_and(|b| b.resign_asked)
}

/// A key for typing (a printable key, Backspace, Delete) in a pane that does
/// not use it: the focus goes to the input, and the key edits it there.
fn type_into_input(chat: &mut ChatView, key: KeyEvent) {
    let plain = !key
        .modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
    let typing = matches!(
        key.code,
        KeyCode::Char(_) | KeyCode::Backspace | KeyCode::Delete
    );
    if typing && plain {
        set_focus(chat, Focus::Input);
        chat.compose.input(key);
    }
}

/// Put the focus back on the input when the pane that has it is no longer
/// on screen (the terminal shrank, the board closed or took the room), so
/// keys always go where the focus is shown.
pub(super) fn keep_focus_on_screen(app: &mut App) {
    let area = app.area;
    if let Screen::Chat(chat) = &mut app.screen
        && !for_chat(area, chat).shows(chat.focus)
    {
        set_focus(chat, Focus::Input);
    }
}
