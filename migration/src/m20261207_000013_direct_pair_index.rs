//! An index on `chat_history (target_kind, target_id, uid, id)`: one direction
//! of a direct conversation (what `uid` sent to `target_id`), newest first, as
//! one range. A page of two users' history is read as its two directions,
//! so it costs the same however many direct messages the history holds.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ChatHistory {
    Table,
    Id,
    TargetKind,
    TargetId,
    Uid,
}

/// The index's name.
const NAME: &str = "idx_chat_history_pair";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NAME)
                    .table(ChatHistory::Table)
                    .col(ChatHistory::TargetKind)
                    .col(ChatHistory::TargetId)
                    .col(ChatHistory::Uid)
                    .col(ChatHistory::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(NAME)
                    .table(ChatHistory::Table)
                    .to_owned(),
            )
            .await
    }
}
