//! Replaces the cluster's one `store_lock` row with a clock per conversation and
//! one id counter, so batches for different conversations commit at the same
//! time on every node of a cluster (a single server touches neither table).
//!
//! - `conversation_clock`: one row per conversation (the room, a group, a pair
//!   of users), holding the id of its newest message. A cluster node's writer
//!   locks the rows of the conversations in its batch (an upsert, in key
//!   order) for its transaction, so each conversation's messages commit one
//!   batch at a time, in id order, and each batch knows the id before it.
//! - `id_clock`: one row counting the message ids handed out. Writers take a
//!   run of ids from it in a short transaction of its own, after locking their
//!   conversations, so ids are unique and grow within every conversation.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ConversationClock {
    Table,
    Kind,
    A,
    B,
    LastId,
}

#[derive(DeriveIden)]
enum IdClock {
    Table,
    Id,
    Last,
}

#[derive(DeriveIden)]
enum StoreLock {
    Table,
    Id,
    Turns,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                crate::create_table(manager, ConversationClock::Table)
                    // 0 the room, 1 a group (`a`), 2 two users (`a` < `b`, or a note to oneself).
                    .col(small_integer(ConversationClock::Kind))
                    .col(big_integer(ConversationClock::A))
                    .col(big_integer(ConversationClock::B))
                    .col(big_integer(ConversationClock::LastId).default(0))
                    .primary_key(
                        Index::create()
                            .col(ConversationClock::Kind)
                            .col(ConversationClock::A)
                            .col(ConversationClock::B),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                crate::create_table(manager, IdClock::Table)
                    .col(integer(IdClock::Id).primary_key())
                    .col(big_integer(IdClock::Last).default(0))
                    .to_owned(),
            )
            .await?;
        // Cluster nodes raise it to the highest stored id when they start.
        let insert = Query::insert()
            .into_table(IdClock::Table)
            .columns([IdClock::Id, IdClock::Last])
            .values_panic([1.into(), 0i64.into()])
            .to_owned();
        manager.exec_stmt(insert).await?;
        manager
            .drop_table(Table::drop().table(StoreLock::Table).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                crate::create_table(manager, StoreLock::Table)
                    .col(integer(StoreLock::Id).primary_key())
                    .col(big_integer(StoreLock::Turns).default(0))
                    .to_owned(),
            )
            .await?;
        let insert = Query::insert()
            .into_table(StoreLock::Table)
            .columns([StoreLock::Id, StoreLock::Turns])
            .values_panic([1.into(), 0i64.into()])
            .to_owned();
        manager.exec_stmt(insert).await?;
        manager
            .drop_table(Table::drop().table(IdClock::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ConversationClock::Table).to_owned())
            .await
    }
}
