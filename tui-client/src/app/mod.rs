//! All client state, and the one function that changes it.
//!
//! [`App::update`] takes an [`AppEvent`] (key, mouse, paste, resize, network,
//! tick) and returns [`Action`]s for the main loop to carry out (send to the
//! network, ring the bell, remember the login, quit). Nothing here does IO, so
//! every behaviour is tested without a terminal or a socket.
//!
//! The main screen ([`ChatView`]) holds the conversations
//! ([`conversations`]: the room, groups, direct messages, each a
//! [`log::MessageLog`]); ticks send the read positions that moved. Who is
//! online is [`online`]; after every event the app watches the part of the
//! list on screen (or stops when the pane is not).

pub mod board;
pub mod chat;
pub mod compose;
pub mod conversation;
pub mod conversations;
pub mod entry;
pub mod files;
mod game_events;
pub mod games;
mod group_commands;
pub mod groups;
mod keys;
pub mod log;
pub mod login;
mod network;
pub mod online;
pub mod online_window;
pub mod paging;
pub mod paths;
mod play;
mod presence;
mod scrollback;
pub mod search;
mod search_keys;
pub mod sharing;
mod talk;

use std::path::PathBuf;

use chatroom_shared::UnixMillis;
use ratatui::layout::Rect;

use crate::event::AppEvent;
use crate::net::NetCommand;
pub use chat::{ChatView, Connection, Focus};
pub use files::{Prompt, Sharing, TransferView};
pub use login::{FormStatus, LoginField, LoginForm};

/// The item after (or before) `current` in `order`, wrapping around: Tab
/// order for the form's fields and the main screen's panes.
pub(crate) fn cycle<T: Copy + PartialEq>(order: &[T], current: T, forward: bool) -> T {
    let n = order.len();
    let i = order.iter().position(|x| *x == current).unwrap_or(0);
    order[if forward {
        (i + 1) % n
    } else {
        (i + n - 1) % n
    }]
}

/// User preferences that change behaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Ring the terminal bell when a message names the user.
    pub bell_on_mention: bool,
    /// Ask before sending a message longer than this many lines.
    pub confirm_lines: usize,
    /// Where the save prompt suggests putting downloads.
    pub download_dir: PathBuf,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            bell_on_mention: true,
            confirm_lines: 10,
            download_dir: PathBuf::from("."),
        }
    }
}

/// Which screen is shown.
#[derive(Debug, Clone)]
pub enum Screen {
    /// The login form.
    Login(Box<LoginForm>),
    /// The main screen.
    Chat(Box<ChatView>),
}

/// Something for the main loop to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send this to the network task.
    Net(NetCommand),
    /// Ring the terminal bell.
    Bell,
    /// Remember this server and user name for next time.
    Remember {
        /// `HOST:PORT`.
        server: String,
        /// User name.
        user: String,
    },
    /// Leave the program (after the network task said goodbye).
    Quit,
}

/// The whole client state.
#[derive(Debug, Clone)]
pub struct App {
    /// The current screen.
    pub screen: Screen,
    /// The terminal's size, for layout and mouse hits.
    pub area: Rect,
    /// The help overlay is open.
    pub help_open: bool,
    /// Lines of the help scrolled off its top (on short screens).
    pub help_scroll: u16,
    /// Preferences.
    pub settings: Settings,
    /// Local time offset for clocks, in seconds east of UTC.
    pub utc_offset_secs: i32,
    /// The latest time seen (ticks and events), Unix milliseconds.
    pub now: UnixMillis,
    /// The server and user of the login in progress.
    login_target: Option<(String, String)>,
    /// Connection notices (a certificate pinned on first use) that came before
    /// the chat screen; shown at its top once logged in.
    pending_notices: Vec<String>,
    next_client_id: u64,
    client_id_prefix: String,
    next_transfer_id: u64,
}

impl App {
    /// A new client showing the login form.
    pub fn new(server: &str, user: &str, settings: Settings, utc_offset_secs: i32) -> Self {
        Self {
            screen: Screen::Login(Box::new(LoginForm::new(server, user))),
            area: Rect::new(0, 0, 80, 24),
            help_open: false,
            help_scroll: 0,
            settings,
            utc_offset_secs,
            now: 0,
            login_target: None,
            pending_notices: Vec::new(),
            next_client_id: 1,
            client_id_prefix: new_client_id_prefix(),
            next_transfer_id: 0,
        }
    }

    /// Use this prefix for client message ids (tests make ids predictable).
    pub fn with_client_id_prefix(mut self, prefix: &str) -> Self {
        self.client_id_prefix = prefix.to_owned();
        self
    }

    /// The main screen, when logged in.
    pub fn chat(&self) -> Option<&ChatView> {
        match &self.screen {
            Screen::Chat(c) => Some(c),
            Screen::Login(_) => None,
        }
    }

    /// The login form, when shown.
    pub fn login(&self) -> Option<&LoginForm> {
        match &self.screen {
            Screen::Login(f) => Some(f),
            Screen::Chat(_) => None,
        }
    }

    /// The next client message id: this run's random prefix and a counter.
    fn new_client_id(&mut self) -> String {
        let id = format!("{}-{}", self.client_id_prefix, self.next_client_id);
        self.next_client_id += 1;
        id
    }

    /// Apply one event; returns what the main loop must do.
    pub fn update(&mut self, event: AppEvent) -> Vec<Action> {
        let mut actions = self.apply(event);
        keys::keep_focus_on_screen(self);
        self.lay_out_shown();
        actions.extend(self.sync_watch());
        actions
    }

    fn apply(&mut self, event: AppEvent) -> Vec<Action> {
        match event {
            AppEvent::Resize(w, h) => {
                self.area = Rect::new(0, 0, w, h);
                Vec::new()
            }
            AppEvent::Tick(now) => {
                self.now = now;
                self.flush_reads()
            }
            AppEvent::Clock(now) => {
                self.now = self.now.max(now);
                Vec::new()
            }
            AppEvent::Key(key) => self.on_key(key),
            AppEvent::Mouse(mouse) => self.on_mouse(mouse),
            AppEvent::Paste(text) => self.on_paste(&text),
            AppEvent::Net(ev) => self.on_net(ev),
        }
    }
}

/// 128 random bits, in hex: the prefix of every client message id of one run
/// of the client. The server takes a repeated id for a retry of the message
/// stored under it, so ids must never come round: not in a new process with
/// the same process id (a container's PID 1), not on another machine.
fn new_client_id_prefix() -> String {
    format!("{:032x}", rand::random::<u128>())
}

#[cfg(test)]
mod conversations_tests;
#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod focus_tests;
#[cfg(test)]
mod games_tests;
#[cfg(test)]
mod groups_tests;
#[cfg(test)]
mod online_tests;
#[cfg(test)]
mod online_window_tests;
#[cfg(test)]
mod paging_tests;
#[cfg(test)]
mod play_tests;
#[cfg(test)]
mod sharing_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod window_tests;
