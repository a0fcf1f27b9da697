//! Keys, clicks and commands of tic-tac-toe: the games pane (accept, watch,
//! invite, cancel), the board (cursor, place, resign after asking, close), `/game`,
//! `/accept`, `/cancel`, `/resign`, `/watch`, `/unwatch`, `/stats`, `/games`.
//! What the server's answers do is in `game_events.rs`.
//!
//! Moves are checked with the shared rules before they go out, so a move out
//! of turn or on a taken cell is refused here with a reason and never sent.
//! The server still decides: the board changes only when its answer comes.

use chatroom_shared::message::GameStatus;
use crossterm::event::{KeyCode, KeyEvent};

use super::chat::{ChatView, Connection, Focus};
use super::keys::set_focus;
use super::{Action, App, Screen};
use crate::net::{GameRequest, ListRequest, NetCommand};

impl App {
    pub(super) fn chat_view(&mut self) -> Option<&mut ChatView> {
        match &mut self.screen {
            Screen::Chat(c) => Some(c),
            Screen::Login(_) => None,
        }
    }

    /// Add a notice to the message list.
    pub(super) fn game_notice(&mut self, text: impl Into<String>) {
        let now = self.now;
        if let Some(chat) = self.chat_view() {
            chat.notice(now, text);
        }
    }

    /// Send a game request, or say why not (no connection right now).
    pub(super) fn send_game(&mut self, request: GameRequest) -> Vec<Action> {
        self.send_when_online(NetCommand::Game(request))
    }

    /// Send a request that needs the server now, or say why not (no connection right
    /// now): game and group requests are not queued across a reconnect.
    pub(super) fn send_when_online(&mut self, command: NetCommand) -> Vec<Action> {
        let online = self
            .chat()
            .is_some_and(|c| c.connection == Connection::Online);
        if !online {
            self.game_notice("Not connected: try again once the connection is back.");
            return Vec::new();
        }
        vec![Action::Net(command)]
    }

    /// A game command typed in the input; `None` when `name` is none.
    pub(super) fn game_command(&mut self, name: &str, args: &str) -> Option<Vec<Action>> {
        let args = args.trim();
        let where_ids = if self.on_screen(Focus::Invites) {
            "the number in the Games pane (#3)"
        } else {
            "the game's number (\"game 3\" in the invitation)"
        };
        Some(match name {
            "/game" => self.invite(),
            "/accept" if args.is_empty() => self.accept(None),
            "/accept" => match parse_id(args) {
                Some(id) => self.accept(Some(id)),
                None => self.usage(&format!("/accept [ID]: the ID is {where_ids}.")),
            },
            "/cancel" => self.cancel_invite(),
            "/resign" => self.resign(),
            "/watch" => match parse_id(args) {
                Some(id) => self.watch(id),
                None => self.usage(&format!("/watch ID: the ID is {where_ids}.")),
            },
            "/unwatch" => self.unwatch(),
            "/stats" => {
                let name = (!args.is_empty()).then(|| args.to_owned());
                self.send_game(GameRequest::Stats(name))
            }
            "/games" => {
                let games = ListRequest::Games { after: None };
                self.send_when_online(NetCommand::List(games))
            }
            _ => return None,
        })
    }

    /// Say how a command is used (or why it cannot be now); nothing is sent.
    pub(super) fn usage(&mut self, text: &str) -> Vec<Action> {
        self.game_notice(text);
        Vec::new()
    }

    /// `/game`, `n` in the games pane: invite anyone.
    fn invite(&mut self) -> Vec<Action> {
        let Some(chat) = self.chat() else {
            return Vec::new();
        };
        if let Some(own) = chat.games.own_open(&chat.me) {
            let text = format!(
                "You already invite (game {}): wait for someone, or /cancel it.",
                own.id
            );
            return self.usage(&text);
        }
        if chat.games.playing().is_some() {
            return self.usage("You are playing a game: finish it first (or /resign).");
        }
        self.send_game(GameRequest::Invite)
    }

    /// `/accept [ID]`, Enter or `a` on an invitation: take the seat.
    fn accept(&mut self, id: Option<i64>) -> Vec<Action> {
        let Some(chat) = self.chat() else {
            return Vec::new();
        };
        let me = chat.me.as_str();
        let games = &chat.games;
        let id = match id.or_else(|| games.newest_open(me).map(|g| g.id)) {
            Some(id) => id,
            None => return self.usage("No open invitation to accept. /game invites others."),
        };
        if games.playing().is_some() {
            return self.usage("You are playing a game already: finish it first.");
        }
        let refusal = games.get(id).and_then(|g| {
            if g.x == me {
                Some("That is your own invitation: wait for someone to accept it.".to_owned())
            } else if g.status == GameStatus::Playing {
                Some(format!(
                    "Game {id} is taken: {} plays {}. /watch {id} watches it.",
                    g.x,
                    g.o.as_deref().unwrap_or("?")
                ))
            } else {
                None
            }
        });
        if let Some(text) = refusal {
            return self.usage(&text);
        }
        self.send_game(GameRequest::Accept(id))
    }

    /// `/cancel`, `c` in the games pane: withdraw the own invitation.
    fn cancel_invite(&mut self) -> Vec<Action> {
        let own = self
            .chat()
            .and_then(|c| c.games.own_open(&c.me).map(|g| g.id));
        match own {
            Some(id) => self.send_game(GameRequest::Cancel(id)),
            None => self.usage("You have no open invitation to cancel."),
        }
    }

    /// `/resign`, `r` then `y` on the board.
    fn resign(&mut self) -> Vec<Action> {
        let playing = self
            .chat()
            .and_then(|c| c.games.playing().map(|b| b.game.id));
        match playing {
            Some(id) => self.send_game(GameRequest::Resign(id)),
            None => self.usage("You are not playing a game."),
        }
    }

    /// `/watch ID`, Enter or `w` on a game in play: follow its moves.
    fn watch(&mut self, id: i64) -> Vec<Action> {
        let Some(chat) = self.chat() else {
            return Vec::new();
        };
        if chat.games.playing().is_some() {
            return self.usage("You are playing: finish your game before watching another.");
        }
        if let Some(g) = chat.games.get(id) {
            if g.x == chat.me || g.o.as_deref() == Some(&chat.me) {
                return self.usage("That is your own game.");
            }
            if g.status == GameStatus::Open {
                let text = format!("Game {id} has not started: /accept {id} plays it.");
                return self.usage(&text);
            }
        }
        let actions = self.send_game(GameRequest::Watch(id));
        if !actions.is_empty()
            && let Some(chat) = self.chat_view()
        {
            chat.games.watch_requested = Some(id);
        }
        actions
    }

    /// `/unwatch`, `q` on the board: close a watched or finished game.
    fn unwatch(&mut self) -> Vec<Action> {
        let Some(chat) = self.chat_view() else {
            return Vec::new();
        };
        let Some(board) = &chat.games.board else {
            return self.usage("No game is on the board.");
        };
        if board.in_play() && board.mark().is_some() {
            return self.usage("You are playing this game: r or /resign gives it up.");
        }
        let still_on = board.in_play().then_some(board.game.id);
        chat.games.close_board();
        if chat.focus == Focus::Board {
            set_focus(chat, Focus::Input);
        }
        match still_on {
            Some(id) => self.send_game(GameRequest::Unwatch(id)),
            None => Vec::new(),
        }
    }

    /// Place the user's mark on `cell`, if the rules allow it now.
    fn place(&mut self, cell: u8) -> Vec<Action> {
        let Some(chat) = self.chat_view() else {
            return Vec::new();
        };
        let Some(board) = &mut chat.games.board else {
            return Vec::new();
        };
        board.cursor = cell;
        if let Err(why) = board.check_move(cell) {
            return self.usage(&why);
        }
        let game_id = board.game.id;
        let actions = self.send_game(GameRequest::Move { game_id, cell });
        if !actions.is_empty()
            && let Some(board) = self.chat_view().and_then(|c| c.games.board.as_mut())
        {
            board.awaiting = true;
        }
        actions
    }

    /// A key in the games pane; `None` when the pane does not use it.
    pub(super) fn on_invites_key(&mut self, key: KeyEvent) -> Option<Vec<Action>> {
        let chat = self.chat_view()?;
        let games = &mut chat.games;
        match key.code {
            KeyCode::Up => games.selected = games.selected.saturating_sub(1),
            KeyCode::Down => {
                games.selected = (games.selected + 1).min(games.listed.len().saturating_sub(1));
            }
            KeyCode::Enter => return Some(self.open_selected()),
            KeyCode::Char('a') => {
                let id = games.selected_game().map(|g| g.id);
                return Some(match id {
                    Some(id) => self.accept(Some(id)),
                    None => self.usage("No invitation selected."),
                });
            }
            KeyCode::Char('w') => {
                let id = games.selected_game().map(|g| g.id);
                return Some(match id {
                    Some(id) => self.watch(id),
                    None => self.usage("No game selected."),
                });
            }
            KeyCode::Char('n') => return Some(self.invite()),
            KeyCode::Char('c') => return Some(self.cancel_invite()),
            _ => return None,
        }
        Some(Vec::new())
    }

    /// Enter on a row of the games pane: accept an invitation, go to the
    /// board of one's own game, or watch someone else's.
    fn open_selected(&mut self) -> Vec<Action> {
        let Some(chat) = self.chat_view() else {
            return Vec::new();
        };
        let Some(g) = chat.games.selected_game() else {
            return self.usage("No game invitations yet: press n to invite anyone.");
        };
        let (id, status) = (g.id, g.status);
        let mine = g.x == chat.me || g.o.as_deref() == Some(&chat.me);
        match status {
            GameStatus::Open if g.x == chat.me => {
                self.usage("That is your invitation: c withdraws it.")
            }
            GameStatus::Open => self.accept(Some(id)),
            _ if mine && chat.games.board.as_ref().is_some_and(|b| b.game.id == id) => {
                set_focus(chat, Focus::Board);
                Vec::new()
            }
            _ => self.watch(id),
        }
    }

    /// A key while the board has the focus; `None` when the board does not
    /// use it.
    pub(super) fn on_board_key(&mut self, key: KeyEvent) -> Option<Vec<Action>> {
        let chat = self.chat_view()?;
        let Some(board) = &mut chat.games.board else {
            set_focus(chat, Focus::Input);
            return None;
        };
        if std::mem::take(&mut board.resign_asked) && board.in_play() {
            match key.code {
                KeyCode::Char('y') => return Some(self.resign()),
                KeyCode::Char('n') | KeyCode::Esc => return Some(Vec::new()),
                // Any other key keeps playing, and does its own job.
                _ => {}
            }
        }
        match key.code {
            KeyCode::Up => board.step_cursor(-1, 0),
            KeyCode::Down => board.step_cursor(1, 0),
            KeyCode::Left => board.step_cursor(0, -1),
            KeyCode::Right => board.step_cursor(0, 1),
            KeyCode::Enter | KeyCode::Char(' ') => {
                let cell = board.cursor;
                return Some(self.place(cell));
            }
            KeyCode::Char(c @ '1'..='9') => {
                let cell = u8::try_from(c as u32 - '1' as u32).unwrap_or(0);
                return Some(self.place(cell));
            }
            KeyCode::Char('r') if board.in_play() && board.mark().is_some() => {
                board.resign_asked = true;
            }
            KeyCode::Char('r') => return Some(self.resign()),
            KeyCode::Char('q') => return Some(self.unwatch()),
            _ => return None,
        }
        Some(Vec::new())
    }

    /// F2: to the board and back.
    pub(super) fn toggle_board_focus(&mut self) {
        let now = self.now;
        let Some(chat) = self.chat_view() else { return };
        if chat.focus == Focus::Board {
            set_focus(chat, Focus::Input);
        } else if chat.games.board.is_some() {
            set_focus(chat, Focus::Board);
        } else {
            chat.notice(now, "No game is on the board: /game invites anyone.");
        }
    }

    /// A click on the board: focus it; on a cell while playing, place there.
    pub(super) fn on_board_click(&mut self, cell: Option<u8>) -> Vec<Action> {
        let Some(chat) = self.chat_view() else {
            return Vec::new();
        };
        set_focus(chat, Focus::Board);
        let Some(board) = &mut chat.games.board else {
            return Vec::new();
        };
        let Some(cell) = cell else {
            return Vec::new();
        };
        board.cursor = cell;
        if board.in_play() && board.mark().is_some() {
            return self.place(cell);
        }
        Vec::new()
    }

    /// A click on row `row` of the games pane.
    pub(super) fn on_invites_click(&mut self, row: Option<usize>) {
        if let Some(chat) = self.chat_view() {
            set_focus(chat, Focus::Invites);
            if let Some(row) = row {
                chat.games.selected = row;
            }
        }
    }
}

/// A game id as typed: "3" or "#3".
fn parse_id(args: &str) -> Option<i64> {
    args.trim().trim_start_matches('#').parse().ok()
}
