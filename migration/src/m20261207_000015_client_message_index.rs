//! An index on `chat_history (uid, client_msg_id)`: a cluster node's writer
//! looks up, for every batch, whether the messages it is about to store were
//! stored before through another node (same sender and client id). Through
//! this index that is one probe per message; through `(uid, id)` it read
//! every recent message of the batch's senders, so each batch cost more the
//! more they had sent.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ChatHistory {
    Table,
    Uid,
    ClientMsgId,
}

/// The index's name.
const NAME: &str = "idx_chat_history_client";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NAME)
                    .table(ChatHistory::Table)
                    .col(ChatHistory::Uid)
                    .col(ChatHistory::ClientMsgId)
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
