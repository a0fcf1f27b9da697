//! The game requests the app asks the network task to send: exactly the
//! protocol's game requests, in a type the app's actions can compare.

use chatroom_shared::message::{ClientMessage, GameInviteRequest, GameMove, GameRef, StatsRequest};

/// One tic-tac-toe request (`game_*`, `stats`; the listing `games` is a page:
/// [`super::ListRequest`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GameRequest {
    /// `game_invite`: invite anyone online.
    Invite,
    /// `game_cancel`: withdraw the own open invitation.
    Cancel(i64),
    /// `game_accept`: take the seat of an open invitation.
    Accept(i64),
    /// `game_move`: place the own mark.
    Move {
        /// The game.
        game_id: i64,
        /// The cell, 0 to 8.
        cell: u8,
    },
    /// `game_resign`: give up a game in play.
    Resign(i64),
    /// `game_watch`: follow a game's moves.
    Watch(i64),
    /// `game_unwatch`: stop following them.
    Unwatch(i64),
    /// `stats`: a user's record (the own one without a name).
    Stats(Option<String>),
}

impl GameRequest {
    /// The request as it goes on the wire.
    pub fn into_message(self) -> ClientMessage {
        let game = |game_id| GameRef { game_id };
        match self {
            Self::Invite => ClientMessage::GameInvite(GameInviteRequest {}),
            Self::Cancel(id) => ClientMessage::GameCancel(game(id)),
            Self::Accept(id) => ClientMessage::GameAccept(game(id)),
            Self::Move { game_id, cell } => ClientMessage::GameMove(GameMove { game_id, cell }),
            Self::Resign(id) => ClientMessage::GameResign(game(id)),
            Self::Watch(id) => ClientMessage::GameWatch(game(id)),
            Self::Unwatch(id) => ClientMessage::GameUnwatch(game(id)),
            Self::Stats(name) => ClientMessage::Stats(StatsRequest { name }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_keep_their_ids_on_the_wire() {
        let wire = |r: GameRequest| serde_json::to_value(r.into_message()).unwrap();
        assert_eq!(wire(GameRequest::Invite)["type"], "game_invite");
        let m = wire(GameRequest::Move {
            game_id: 3,
            cell: 8,
        });
        assert_eq!(
            (
                m["type"].as_str(),
                m["game_id"].as_i64(),
                m["cell"].as_u64()
            ),
            (Some("game_move"), Some(3), Some(8))
        );
        assert_eq!(wire(GameRequest::Watch(5))["game_id"], 5);
        assert_eq!(wire(GameRequest::Unwatch(5))["type"], "game_unwatch");
        assert_eq!(wire(GameRequest::Stats(Some("bob".into())))["name"], "bob");
        assert!(wire(GameRequest::Stats(None)).get("name").is_none());
    }
}
