//! Creates `chat_history`, every stored chat message and admin announcement.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_create_base_info::BaseInfo;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ChatHistory {
    Table,
    Id,
    Comment,
    SendTime,
    Level,
    Uid,
    TargetKind,
    TargetId,
    ClientMsgId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                crate::create_table(manager, ChatHistory::Table)
                    // Not auto-increment: the server assigns message ids itself.
                    .col(big_integer(ChatHistory::Id).primary_key())
                    .col(text(ChatHistory::Comment))
                    .col(big_integer(ChatHistory::SendTime))
                    .col(small_integer(ChatHistory::Level))
                    .col(big_integer_null(ChatHistory::Uid))
                    .col(small_integer(ChatHistory::TargetKind).default(0i16))
                    .col(big_integer(ChatHistory::TargetId).default(0i64))
                    .col(string_len_null(ChatHistory::ClientMsgId, 64))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_chat_history_uid")
                            .from(ChatHistory::Table, ChatHistory::Uid)
                            .to(BaseInfo::Table, BaseInfo::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_chat_history_target")
                    .table(ChatHistory::Table)
                    .col(ChatHistory::TargetKind)
                    .col(ChatHistory::TargetId)
                    .col(ChatHistory::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_chat_history_uid")
                    .table(ChatHistory::Table)
                    .col(ChatHistory::Uid)
                    .col(ChatHistory::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Dropping the table drops its indexes on every backend.
        manager
            .drop_table(Table::drop().table(ChatHistory::Table).to_owned())
            .await
    }
}
