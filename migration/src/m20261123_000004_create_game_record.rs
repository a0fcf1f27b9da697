//! Creates `game_record`, one row per played game (used by the game feature).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_create_base_info::BaseInfo;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum GameRecord {
    Table,
    Id,
    Result,
    StartTime,
    Level,
    Uid,
    OpponentUid,
    Moves,
    EndTime,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                crate::create_table(manager, GameRecord::Table)
                    .col(big_pk_auto(GameRecord::Id))
                    .col(string_len(GameRecord::Result, 32))
                    .col(big_integer(GameRecord::StartTime))
                    .col(small_integer(GameRecord::Level).default(0i16))
                    .col(big_integer(GameRecord::Uid))
                    .col(big_integer_null(GameRecord::OpponentUid))
                    .col(string_len_null(GameRecord::Moves, 64))
                    .col(big_integer_null(GameRecord::EndTime))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_game_record_uid")
                            .from(GameRecord::Table, GameRecord::Uid)
                            .to(BaseInfo::Table, BaseInfo::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_game_record_opponent_uid")
                            .from(GameRecord::Table, GameRecord::OpponentUid)
                            .to(BaseInfo::Table, BaseInfo::Id),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(GameRecord::Table).to_owned())
            .await
    }
}
