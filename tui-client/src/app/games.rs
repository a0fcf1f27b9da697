//! Tic-tac-toe as the app keeps it: the invite board (open invitations and
//! games in play, from `game_list`, `game_invite`, `game_update` and
//! `game_state`), the one game shown on the board (played or watched; see
//! [`super::board`]), and the texts the server's game replies become.
//!
//! The server decides every game; this state only mirrors its [`GameView`]s.
//! [`Games::apply`] is the one way a view comes in, and it never lets an older
//! view replace a newer one (a reply and an event about the same move may
//! arrive in either order). What the user should hear about comes back as
//! [`News`], for the caller to turn into notices and focus changes.

use std::collections::HashSet;

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{GameStatus, GameView, Stats};
use chatroom_shared::tictactoe::Mark;

pub use super::board::{Board, Role};

/// Something about games the user should hear about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum News {
    /// Someone else invites anyone to play.
    Invited {
        /// The inviter.
        from: String,
        /// The game's id.
        id: i64,
    },
    /// The user's own invitation is out, waiting for someone to accept.
    InviteOpen(i64),
    /// A game the user plays started (or is going on after a reconnect): the
    /// board shows it now.
    Started {
        /// The user's mark.
        mark: Mark,
        /// The other player.
        opponent: String,
    },
    /// The board shows a game the user watches now.
    Watching {
        /// The game's id.
        id: i64,
        /// Who plays X.
        x: String,
        /// Who plays O.
        o: String,
    },
    /// The board no longer shows the game `id` the user was watching, which is
    /// still in play (the server should stop sending its moves).
    StoppedWatching(i64),
    /// A game ended; its summary for the message list (once per game).
    Ended(String),
    /// The user's own invitation ended without a game.
    InviteEnded(GameStatus),
    /// The game on the board ended while the connection was down: the list
    /// after the reconnect no longer has it.
    Vanished(i64),
}

/// The games side of the main screen.
#[derive(Debug, Clone, Default)]
pub struct Games {
    /// Open invitations and games in play, in id order (oldest first).
    pub listed: Vec<GameView>,
    /// The game on the board, if any.
    pub board: Option<Board>,
    /// Selected row of the games pane.
    pub selected: usize,
    /// A `game_watch` for this game is out: its reply opens the board.
    pub watch_requested: Option<i64>,
    /// The connection came back while watching: the next list says whether
    /// to ask for the game's moves again.
    pub rewatch: bool,
    /// Games known to have ended (their end is announced once), by
    /// [`identity`].
    finished: HashSet<(i64, i64)>,
}

impl Games {
    /// A game view from the server: `reply` when it answers the user's own
    /// request (`game_state`), false for events.
    pub fn apply(&mut self, view: GameView, me: &str, reply: bool) -> Vec<News> {
        let mut news = Vec::new();
        if self.finished.contains(&identity(&view)) {
            // Its end is known: anything later about it is a late copy.
            return news;
        }
        if let Some(known) = self.find(view.id)
            && identity(known) == identity(&view)
            && is_older(&view, known)
        {
            return news;
        }
        if let Some(board) = &self.board
            && identity(&board.game) == identity(&view)
            && is_older(&view, &board.game)
        {
            return news;
        }
        let was_listed = self.find(view.id).is_some();
        self.list_one(&view);
        let mine = view.x == me || view.o.as_deref() == Some(me);
        match view.status {
            GameStatus::Open if view.x == me && reply => news.push(News::InviteOpen(view.id)),
            GameStatus::Open if view.x != me && !was_listed && !reply => {
                news.push(News::Invited {
                    from: view.x.clone(),
                    id: view.id,
                });
            }
            GameStatus::Cancelled | GameStatus::Expired if view.x == me => {
                news.push(News::InviteEnded(view.status));
            }
            GameStatus::Over => {
                if let Some(result) = &view.result {
                    news.push(News::Ended(result.summary.clone()));
                }
            }
            _ => {}
        }
        if view.status.is_finished() {
            self.finished.insert(identity(&view));
        }
        let on_board = self
            .board
            .as_ref()
            .is_some_and(|b| identity(&b.game) == identity(&view));
        if on_board {
            if let Some(board) = &mut self.board {
                board.game = view;
                board.awaiting = false;
            }
        } else if mine && view.status == GameStatus::Playing {
            news.extend(self.open_as_player(view, me));
        } else if reply && !mine && self.watch_requested == Some(view.id) {
            self.watch_requested = None;
            news.push(News::Watching {
                id: view.id,
                x: view.x.clone(),
                o: view.o.clone().unwrap_or_default(),
            });
            let mut stopped = self.replace_board(Board::new(view, Role::Spectator));
            stopped.append(&mut news);
            news = stopped;
        }
        news
    }

    /// A `game_list`: open invitations and games in play replace the list.
    pub fn list(&mut self, games: Vec<GameView>, me: &str) -> Vec<News> {
        self.listed.clear();
        let mut news = Vec::new();
        for view in &games {
            self.list_one(view);
        }
        let board_game = self
            .board
            .as_ref()
            .filter(|b| !b.game.status.is_finished())
            .map(|b| identity(&b.game));
        if let Some(key) = board_game {
            match games.iter().find(|g| identity(g) == key) {
                Some(g) => {
                    if let Some(board) = &mut self.board {
                        board.game = g.clone();
                        board.awaiting = false;
                    }
                }
                None => {
                    self.board = None;
                    news.push(News::Vanished(key.0));
                }
            }
        }
        let playing = games
            .into_iter()
            .find(|g| g.status == GameStatus::Playing && (g.x == me || g.o.as_deref() == Some(me)));
        if let Some(game) = playing
            && self
                .board
                .as_ref()
                .is_none_or(|b| identity(&b.game) != identity(&game))
        {
            news.extend(self.open_as_player(game, me));
        }
        self.clamp_selection();
        news
    }

    fn open_as_player(&mut self, view: GameView, me: &str) -> Vec<News> {
        let (mark, opponent) = if view.x == me {
            (Mark::X, view.o.clone().unwrap_or_default())
        } else {
            (Mark::O, view.x.clone())
        };
        let mut news = self.replace_board(Board::new(view, Role::Player(mark)));
        news.push(News::Started { mark, opponent });
        news
    }

    /// Show `board`, telling the server when a watched game leaves the board.
    fn replace_board(&mut self, board: Board) -> Vec<News> {
        let old = self.board.replace(board);
        match old {
            Some(b) if b.role == Role::Spectator && b.in_play() => {
                vec![News::StoppedWatching(b.game.id)]
            }
            _ => Vec::new(),
        }
    }

    /// Keep `view` in the list while it is open or in play; drop it after.
    fn list_one(&mut self, view: &GameView) {
        let listed = matches!(view.status, GameStatus::Open | GameStatus::Playing);
        match self.listed.iter().position(|g| g.id == view.id) {
            Some(i) if listed => self.listed[i] = view.clone(),
            Some(i) => {
                self.listed.remove(i);
            }
            None if listed => {
                let at = self.listed.partition_point(|g| g.id < view.id);
                self.listed.insert(at, view.clone());
            }
            None => {}
        }
        self.clamp_selection();
    }

    fn clamp_selection(&mut self) {
        self.selected = self.selected.min(self.listed.len().saturating_sub(1));
    }

    fn find(&self, id: i64) -> Option<&GameView> {
        self.listed.iter().find(|g| g.id == id)
    }

    /// The listed game with this id.
    pub fn get(&self, id: i64) -> Option<&GameView> {
        self.find(id)
    }

    /// The selected row's game.
    pub fn selected_game(&self) -> Option<&GameView> {
        self.listed.get(self.selected)
    }

    /// The newest open invitation from someone else (what `/accept` takes).
    pub fn newest_open(&self, me: &str) -> Option<&GameView> {
        self.listed
            .iter()
            .rev()
            .find(|g| g.status == GameStatus::Open && g.x != me)
    }

    /// The user's own open invitation.
    pub fn own_open(&self, me: &str) -> Option<&GameView> {
        self.listed
            .iter()
            .find(|g| g.status == GameStatus::Open && g.x == me)
    }

    /// The game the user plays now, as shown on the board.
    pub fn playing(&self) -> Option<&Board> {
        self.board
            .as_ref()
            .filter(|b| b.in_play() && b.mark().is_some())
    }

    /// Forget the board (closing a finished or watched game).
    pub fn close_board(&mut self) -> Option<Board> {
        self.board.take()
    }
}

/// What tells games apart: the id, and when it was made (ids are unique only
/// while the server runs; after a restart a new game may get an old id).
fn identity(g: &GameView) -> (i64, i64) {
    (g.id, g.created)
}

/// True when `new` describes an earlier moment of the game than `known`.
fn is_older(new: &GameView, known: &GameView) -> bool {
    let rank = |s: GameStatus| match s {
        GameStatus::Open => 0,
        GameStatus::Playing => 1,
        GameStatus::Over | GameStatus::Cancelled | GameStatus::Expired => 2,
    };
    rank(new.status) < rank(known.status)
        || (rank(new.status) == rank(known.status) && new.moves.len() < known.moves.len())
}

/// What an error about a game means, for people; `None` for other codes.
pub fn error_text(code: ErrorCode) -> Option<&'static str> {
    Some(match code {
        ErrorCode::GameNotFound => "That game is gone: it has ended or was withdrawn.",
        ErrorCode::GameTaken => "Too late: someone else accepted that invitation first.",
        ErrorCode::OwnGame => "That is your own invitation: wait for someone to accept it.",
        ErrorCode::AlreadyInGame => {
            "You already have an open invitation or a game in play (/cancel withdraws an invitation)."
        }
        ErrorCode::NotAPlayer => "Only the two players can do that.",
        ErrorCode::NotYourTurn => "It is not your turn: wait for the other player's move.",
        ErrorCode::CellTaken => "That cell is taken: pick an empty one.",
        ErrorCode::InvalidCell => "Cells are 1 to 9.",
        ErrorCode::GameNotInPlay => "That game is not in play (still open, or over).",
        _ => return None,
    })
}

/// "alice: 3 wins, 1 loss, 2 draws": a `stats` reply as a line.
pub fn stats_text(s: &Stats) -> String {
    let count = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    format!(
        "{}: {}, {}, {}",
        s.name,
        count(s.wins, "win", "wins"),
        count(s.losses, "loss", "losses"),
        count(s.draws, "draw", "draws")
    )
}
