//! The `game_record` entity: one row per played game.

use sea_orm::entity::prelude::*;

/// One game, as stored.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "game_record")]
pub struct Model {
    /// Record id, assigned by the database.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// How the game ended.
    #[sea_orm(column_type = "String(StringLen::N(32))")]
    pub result: String,
    /// Start time, unix milliseconds.
    pub start_time: i64,
    /// Record level (0 = normal game).
    #[sea_orm(default_value = 0)]
    pub level: i16,
    /// First player's account id.
    pub uid: i64,
    /// Second player's account id, if any.
    pub opponent_uid: Option<i64>,
    /// The game's moves, encoded.
    #[sea_orm(column_type = "String(StringLen::N(64))", nullable)]
    pub moves: Option<String>,
    /// End time, unix milliseconds, once the game is over.
    pub end_time: Option<i64>,
    /// The first player's account.
    #[sea_orm(belongs_to, from = "uid", to = "id")]
    pub player: BelongsTo<super::base_info::Entity>,
    /// The second player's account.
    #[sea_orm(
        belongs_to,
        relation_enum = "Opponent",
        from = "opponent_uid",
        to = "id"
    )]
    pub opponent: HasOne<super::base_info::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
