//! What the server's game messages do: views go into [`super::games::Games`],
//! and the news that comes back becomes notices (an invitation, a board that
//! opens, the end of a game with its summary) and requests (stop watching a
//! game the board no longer shows, watch again after a reconnect).
//!
//! None of it moves the focus: a game that starts or a move that arrives
//! while the user types must not turn their next keys into moves or a
//! resignation. The board says when it is the user's move, and F2 (or a
//! click) goes there.

use chatroom_shared::message::{GameStatus, GameView, ServerMessage};
use chatroom_shared::tictactoe::Mark;

use super::chat::Focus;
use super::games::{News, Role, error_text, stats_text};
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

    /// Turn game news into notices and requests.
    fn tell(&mut self, news: Vec<News>) -> Vec<Action> {
        let mut actions = Vec::new();
        let games_pane = self.on_screen(Focus::Invites);
        for item in news {
            match item {
                News::Invited { from, id } => {
                    let or_pane = if games_pane {
                        ", or Enter in the Games pane"
                    } else {
                        ""
                    };
                    self.game_notice(format!(
                        "{from} invites anyone to play tic-tac-toe (game {id}): \
                         /accept takes it{or_pane}."
                    ));
                }
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
                    self.board_opened(format!("Watching game {id}: {x} (X) vs {o} (O)."));
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
        actions
    }

    /// A board just opened: say so, and how to get to it (the focus stays
    /// where the user put it).
    fn board_opened(&mut self, text: String) {
        let now = self.now;
        let Some(chat) = self.chat_view() else { return };
        let playing = chat
            .games
            .board
            .as_ref()
            .is_some_and(|b| b.mark().is_some());
        let hint = if playing {
            "F2 (or a click) goes to the board."
        } else {
            "F2 goes to the board; q there (or /unwatch) stops watching."
        };
        chat.notice(now, format!("{text} {hint}"));
    }
}
