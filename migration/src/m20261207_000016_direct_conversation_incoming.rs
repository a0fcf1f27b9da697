//! `direct_conversation.last_in_id`: per user and peer, the newest message the
//! peer sent to the user (0 when none). Offline delivery at login reads only
//! the conversations where it lies after the user's read position; the
//! newest message either way (`last_message_id`) is often the user's own
//! reply, which tells nothing about what they have to read.
//!
//! The column is filled from the stored direct messages: for each row, the
//! newest of the peer's messages to the user, one probe of
//! `idx_chat_history_pair` each.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DirectConversation {
    Table,
    Uid,
    Peer,
    LastInId,
}

#[derive(DeriveIden)]
enum ChatHistory {
    Table,
    Id,
    Uid,
    TargetKind,
    TargetId,
}

/// `chat_history.target_kind` of a direct message.
const TARGET_USER: i16 = 2;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(DirectConversation::Table)
                    .add_column(big_integer(DirectConversation::LastInId).default(0))
                    .to_owned(),
            )
            .await?;
        // The peer's newest message to the user, correlated with each row.
        let newest_in = Query::select()
            .expr(Func::max(Expr::col((ChatHistory::Table, ChatHistory::Id))))
            .from(ChatHistory::Table)
            .and_where(Expr::col((ChatHistory::Table, ChatHistory::TargetKind)).eq(TARGET_USER))
            .and_where(
                Expr::col((ChatHistory::Table, ChatHistory::TargetId))
                    .equals((DirectConversation::Table, DirectConversation::Uid)),
            )
            .and_where(
                Expr::col((ChatHistory::Table, ChatHistory::Uid))
                    .equals((DirectConversation::Table, DirectConversation::Peer)),
            )
            .to_owned();
        let fill = Query::update()
            .table(DirectConversation::Table)
            .value(
                DirectConversation::LastInId,
                Func::coalesce([
                    SimpleExpr::SubQuery(None, Box::new(newest_in.into_sub_query_statement())),
                    Expr::val(0i64),
                ]),
            )
            .and_where(
                Expr::col((DirectConversation::Table, DirectConversation::Uid)).ne(Expr::col((
                    DirectConversation::Table,
                    DirectConversation::Peer,
                ))),
            )
            .to_owned();
        manager.exec_stmt(fill).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(DirectConversation::Table)
                    .drop_column(DirectConversation::LastInId)
                    .to_owned(),
            )
            .await
    }
}
