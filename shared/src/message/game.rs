//! Messages of the two-player game (tic-tac-toe): invitations, play, watching,
//! and statistics.
//!
//! One user invites (`game_invite`); every other online user gets a `game_invite`
//! event. The first `game_accept` takes the seat (decided by the server, one at a
//! time); everyone else gets `game_taken`. The inviter plays X and moves first.
//! Every change after that is a `game_update` event carrying the whole game as a
//! [`GameView`]: lifecycle changes (taken, over, cancelled, expired) go to
//! everyone online, moves to the two players and the game's spectators.

use serde::{Deserialize, Serialize};

use crate::UnixMillis;

/// `game_invite` (request): invite anyone online to a game.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GameInviteRequest {}

/// A request about one game: `game_cancel`, `game_accept`, `game_resign`,
/// `game_watch`, `game_unwatch`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GameRef {
    /// The game's id (from `game_invite` or `games`).
    pub game_id: i64,
}

/// `game_move`: place your mark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GameMove {
    /// The game's id.
    pub game_id: i64,
    /// The cell, 0 to 8, row by row from the top left.
    pub cell: u8,
}

/// `games`: one page of the open invitations and games in play, oldest
/// (lowest id) first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Games {
    /// Only games with a larger id: the `next` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<i64>,
    /// Page size; absent means `limits.max_list_page`, clamped to 1 ...
    /// `max_list_page`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// `stats`: wins, losses and draws of a user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsRequest {
    /// The user; yourself when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Where a game is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GameStatus {
    /// Waiting for someone to accept.
    Open,
    /// Two players are playing.
    Playing,
    /// Finished: see `result`.
    Over,
    /// The inviter cancelled it, or left, before anyone accepted.
    Cancelled,
    /// Nobody accepted in time.
    Expired,
}

impl GameStatus {
    /// True once the game can change no more.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Over | Self::Cancelled | Self::Expired)
    }
}

/// How a finished game was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The winner completed a line.
    Line,
    /// The board filled up with no line.
    Draw,
    /// The loser resigned.
    Resign,
    /// The loser left and did not come back within the grace period.
    Forfeit,
    /// The loser did not move in time.
    Timeout,
}

/// The result of a finished game.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GameResult {
    /// The winner's name; absent for a draw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub winner: Option<String>,
    /// The loser's name; absent for a draw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loser: Option<String>,
    /// How it was decided.
    pub reason: EndReason,
    /// The winning line's cells, when a line decided it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<[u8; 3]>,
    /// The announcement for people, e.g. "alice beat bob at tic-tac-toe".
    pub summary: String,
}

/// One game as everybody sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GameView {
    /// Server-assigned id.
    pub id: i64,
    /// Where the game is in its life.
    pub status: GameStatus,
    /// The inviter, who plays X and moves first.
    pub x: String,
    /// Who accepted and plays O; absent while the invitation is open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub o: Option<String>,
    /// The moves so far (cells, X first).
    pub moves: Vec<u8>,
    /// The board row by row: nine of `X`, `O` and `.`.
    pub board: String,
    /// Whose turn it is while the game is in play.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn: Option<String>,
    /// When the invitation expires (open) or the player to move forfeits by timeout
    /// (playing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<UnixMillis>,
    /// The result, once over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<GameResult>,
    /// When the invitation was made.
    pub created: UnixMillis,
}

/// Reply to `game_invite`, `game_cancel`, `game_accept`, `game_move`,
/// `game_resign` and `game_watch`: the game after the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GameState {
    /// The request's `seq`.
    pub seq: u32,
    /// The game.
    pub game: GameView,
}

/// Reply to `games`: one page of the open invitations and games in play,
/// oldest (lowest id) first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GameList {
    /// The request's `seq`.
    pub seq: u32,
    /// The page's games.
    pub games: Vec<GameView>,
    /// More games follow: ask again with `after` = `next`.
    #[serde(default)]
    pub has_more: bool,
    /// With `has_more`: the cursor for the next page (the last game's id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<i64>,
}

/// Reply to `stats`: a user's record, from the stored games.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// The request's `seq`.
    pub seq: u32,
    /// The user.
    pub name: String,
    /// Games won.
    pub wins: u64,
    /// Games lost.
    pub losses: u64,
    /// Games drawn.
    pub draws: u64,
}

/// Event `game_invite`: someone invites anyone to play.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GameInvite {
    /// The open game.
    pub game: GameView,
}

/// Event `game_update`: a game changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GameUpdate {
    /// The game after the change.
    pub game: GameView,
}
