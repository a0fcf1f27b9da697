//! What the server's game messages do: views go into [`super::games::Games`],
//! and the news that comes back becomes notices (an invitation, the end of a
//! game with its summary), focus changes (a board that opens) and requests
//! (stop watching a game the board no longer shows, watch again after a
//! reconnect).

use chatroom_shared::message::{GameStatus, GameView, ServerMessage};
use chatroom_shared::tictactoe::Mark;

use super::chat::Focus;
use super::games::{News, Role, error_text, stats_text};
use super::keys::set_focus;
use super::{Action, App};
use crate::net::GameRequest;

impl App {
    /// The connection came back: a watched game's moves must be asked for
    /// again (once the list says it is still on).
    pub(super) fn games_resumed(&mut self) {
        if let Some(chat) = self.chat_view()
            && chat
                .games
                .board
                .as_ref()
                .is_some_and(|b| b.role == Role::Spectator && b.in_play())
        {
            chat.games.rewatch = true;
        }
    }

    /// A game message from the server; `None` when `msg` is about something
    /// else.
    pub(super) fn on_game_message(&mut self, msg: ServerMessage) -> Option<Vec<Action>> {
        let now = self.now;
        let chat = self.chat_view()?;
        let me = chat.me.clone();
        let news = match msg {
            ServerMessage::GameInvite(e) => chat.games.apply(e.game, &me, false),
            ServerMessage::GameUpdate(e) => chat.games.apply(e.game, &me, false),
            ServerMessage::GameState(r) => chat.games.apply(r.game, &me, true),
            ServerMessage::Stats(s) => {
                chat.notice(now, stats_text(&s));
                return Some(Vec::new());
            }
            ServerMessage::Error(e) => {
                let text = error_text(e.code)?;
                if let Some(board) = &mut chat.games.board {
                    board.awaiting = false;
                }
                chat.notice(now, text);
                return Some(Vec::new());
            }
            _ => return None,
        };
        Some(self.tell(news))
    }

    /// Every open invitation and game in play (all pages of `games`): they
    /// replace the list, and a game watched before a reconnect is watched again.
    pub(super) fn games_listed(&mut self, games: Vec<GameView>) -> Vec<Action> {
        let Some(chat) = self.chat_view() else {
            return Vec::new();
        };
        let me = chat.me.clone();
        let news = chat.games.list(games, &me);
        let mut rewatch = None;
        if std::mem::take(&mut chat.games.rewatch) {
            rewatch = chat
                .games
                .board
                .as_ref()
                .filter(|b| b.role == Role::Spectator && b.in_play())
                .map(|b| b.game.id);
        }
        let mut actions = self.tell(news);
        if let Some(game_id) = rewatch {
            actions.extend(self.send_game(GameRequest::Watch(game_id)));
        }
        actions
    }

    /// Turn game news into notices, focus changes and requests.
    fn tell(&mut self, news: Vec<News>) -> Vec<Action> {
        let mut actions = Vec::new();
        for item in news {
            match item {
                News::Invited { from, id } => self.game_notice(format!(
                    "{from} invites anyone to play tic-tac-toe (game {id}): \
                     /accept takes it, or Enter in the Games pane."
                )),
                News::InviteOpen(id) => self.game_notice(format!(
                    "You invite anyone to play (game {id}); the board opens when \
                     someone accepts. /cancel withdraws it."
                )),
                News::Started { mark, opponent } => {
                    let text = match mark {
                        Mark::X => format!("{opponent} accepted: you play X and move first."),
                        Mark::O => format!("You play O against {opponent}, who moves first."),
                    };
                    self.board_opened(text);
                }
                News::Watching { id, x, o } => {
                    self.board_opened(format!(
                        "Watching game {id}: {x} (X) vs {o} (O). q or /unwatch stops."
                    ));
                }
                News::StoppedWatching(game_id) => {
                    actions.extend(self.send_game(GameRequest::Unwatch(game_id)));
                }
                News::Ended(summary) => self.game_notice(summary),
                News::InviteEnded(GameStatus::Expired) => {
                    self.game_notice("Your invitation expired: nobody accepted it in time.");
                }
                News::InviteEnded(_) => self.game_notice("Your invitation is withdrawn."),
                News::Vanished(id) => {
                    self.game_notice(format!(
                        "Game {id} ended while you were away; /stats shows the records."
                    ));
                }
            }
        }
        if let Some(chat) = self.chat_view()
            && chat.focus == Focus::Board
            && chat.games.board.is_none()
        {
            set_focus(chat, Focus::Input);
        }
        actions
    }

    /// A board just opened: focus it unless the user is typing a message
    /// (keys meant for the message must not land on the board).
    fn board_opened(&mut self, text: String) {
        let now = self.now;
        let Some(chat) = self.chat_view() else { return };
        let typing = !chat.compose.is_empty() || chat.sharing.prompt.is_some();
        let playing = chat
            .games
            .board
            .as_ref()
            .is_some_and(|b| b.mark().is_some());
        let hint = match (typing, playing) {
            (true, true) => "F2 goes to the board (keys 1-9 place).",
            (true, false) => "F2 goes to the board.",
            (false, true) => "Keys 1-9 or arrows and Enter place; Esc returns to the chat.",
            (false, false) => "Esc returns to the chat.",
        };
        if !typing {
            set_focus(chat, Focus::Board);
        }
        chat.notice(now, format!("{text} {hint}"));
    }
}
