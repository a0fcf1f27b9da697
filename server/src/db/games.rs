//! Finished games (`game_record`): storing one, and counting a user's wins, losses and
//! draws for `stats`.
//!
//! `uid` is the X player (the inviter), `opponent_uid` the O player. `result` says who won
//! and how, as `x_won:<reason>`, `o_won:<reason>` or `draw`; `moves` holds the cells played
//! in order, one digit each (`"40812"`). Counting uses only portable filters (`=`, `LIKE`),
//! so the same queries run on SQLite, PostgreSQL and MySQL/MariaDB.

use chatroom_shared::message::EndReason;
use chatroom_shared::tictactoe::Mark;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter,
};

use super::entity::game_record;

/// `level` of a game of tic-tac-toe between two users.
pub const LEVEL_TICTACTOE: i16 = 0;

/// A finished game, as the game task hands it over for storing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinishedGame {
    /// The X player (the inviter).
    pub x_uid: i64,
    /// The O player.
    pub o_uid: i64,
    /// The winner's mark; `None` for a draw.
    pub winner: Option<Mark>,
    /// How it was decided.
    pub reason: EndReason,
    /// The cells played, in order.
    pub moves: Vec<u8>,
    /// When the second player took the seat, unix milliseconds.
    pub start_time: i64,
    /// When it ended, unix milliseconds.
    pub end_time: i64,
}

/// A user's record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Record {
    /// Games won.
    pub wins: u64,
    /// Games lost.
    pub losses: u64,
    /// Games drawn.
    pub draws: u64,
}

fn reason_str(reason: EndReason) -> &'static str {
    match reason {
        EndReason::Line => "line",
        EndReason::Draw => "draw",
        EndReason::Resign => "resign",
        EndReason::Forfeit => "forfeit",
        EndReason::Timeout => "timeout",
    }
}

/// The `result` column for a game.
pub fn result_str(winner: Option<Mark>, reason: EndReason) -> String {
    match winner {
        Some(Mark::X) => format!("x_won:{}", reason_str(reason)),
        Some(Mark::O) => format!("o_won:{}", reason_str(reason)),
        None => "draw".to_owned(),
    }
}

/// Store a finished game; returns its record id.
pub async fn insert(db: &impl ConnectionTrait, game: &FinishedGame) -> Result<i64, DbErr> {
    let moves: String = game.moves.iter().map(|c| char::from(b'0' + c)).collect();
    let row = game_record::ActiveModel {
        result: Set(result_str(game.winner, game.reason)),
        start_time: Set(game.start_time),
        level: Set(LEVEL_TICTACTOE),
        uid: Set(game.x_uid),
        opponent_uid: Set(Some(game.o_uid)),
        moves: Set(Some(moves)),
        end_time: Set(Some(game.end_time)),
        ..Default::default()
    };
    Ok(game_record::Entity::insert(row)
        .exec(db)
        .await?
        .last_insert_id)
}

/// Count `uid`'s wins, losses and draws over every stored game.
pub async fn record(db: &impl ConnectionTrait, uid: i64) -> Result<Record, DbErr> {
    use game_record::Column;
    let as_x = || Column::Uid.eq(uid);
    let as_o = || Column::OpponentUid.eq(uid);
    let count = |cond: Condition| game_record::Entity::find().filter(cond).count(db);
    let wins = count(
        Condition::any()
            .add(
                Condition::all()
                    .add(as_x())
                    .add(Column::Result.starts_with("x_won")),
            )
            .add(
                Condition::all()
                    .add(as_o())
                    .add(Column::Result.starts_with("o_won")),
            ),
    )
    .await?;
    let losses = count(
        Condition::any()
            .add(
                Condition::all()
                    .add(as_x())
                    .add(Column::Result.starts_with("o_won")),
            )
            .add(
                Condition::all()
                    .add(as_o())
                    .add(Column::Result.starts_with("x_won")),
            ),
    )
    .await?;
    let draws = count(
        Condition::all()
            .add(Condition::any().add(as_x()).add(as_o()))
            .add(Column::Result.eq("draw")),
    )
    .await?;
    Ok(Record {
        wins,
        losses,
        draws,
    })
}
