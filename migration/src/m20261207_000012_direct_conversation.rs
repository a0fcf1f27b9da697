//! `direct_conversation`: per user and direct-message peer, the newest message
//! between the two (its id and send time), so `conversations` lists a user's
//! direct-message conversations newest first a page at a time, without
//! reading their history.
//!
//! The store's writer keeps it up to date in the transaction that stores each
//! direct message (one row for each side). This migration makes the table and
//! fills it from the direct messages already stored.

use std::collections::HashMap;

use sea_orm_migration::sea_orm::{ConnectionTrait, FromQueryResult};
use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_create_base_info::BaseInfo;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DirectConversation {
    Table,
    Id,
    Uid,
    Peer,
    LastMessageId,
    LastAt,
}

#[derive(DeriveIden)]
enum ChatHistory {
    Table,
    Id,
    Uid,
    TargetKind,
    TargetId,
    SendTime,
}

/// `chat_history.target_kind` of a direct message.
const TARGET_USER: i16 = 2;
/// Rows per statement when filling the table (5 columns: 2500 parameters).
const CHUNK: usize = 500;

#[derive(Debug, FromQueryResult)]
struct Pair {
    uid: i64,
    target_id: i64,
    last: i64,
}

#[derive(Debug, FromQueryResult)]
struct Sent {
    id: i64,
    send_time: i64,
}

/// Fill the table from the stored direct messages: for each pair of users, the
/// newest message sent either way, on both sides.
async fn back_fill(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = db.get_database_backend();
    let newest = Query::select()
        .column(ChatHistory::Uid)
        .column(ChatHistory::TargetId)
        .expr_as(Func::max(Expr::col(ChatHistory::Id)), Alias::new("last"))
        .from(ChatHistory::Table)
        .and_where(Expr::col(ChatHistory::TargetKind).eq(TARGET_USER))
        .and_where(Expr::col(ChatHistory::Uid).is_not_null())
        .group_by_col(ChatHistory::Uid)
        .group_by_col(ChatHistory::TargetId)
        .to_owned();
    let pairs = Pair::find_by_statement(backend.build(&newest))
        .all(db)
        .await?;
    // Both directions of a pair are one conversation.
    let mut last: HashMap<(i64, i64), i64> = HashMap::new();
    for p in pairs {
        let key = (Ord::min(p.uid, p.target_id), Ord::max(p.uid, p.target_id));
        let entry = last.entry(key).or_insert(p.last);
        *entry = Ord::max(*entry, p.last);
    }
    let mut pairs: Vec<((i64, i64), i64)> = last.into_iter().collect();
    pairs.sort_unstable();
    for chunk in pairs.chunks(CHUNK) {
        let ids: Vec<i64> = chunk.iter().map(|(_, id)| *id).collect();
        let times = Query::select()
            .column(ChatHistory::Id)
            .column(ChatHistory::SendTime)
            .from(ChatHistory::Table)
            .and_where(Expr::col(ChatHistory::Id).is_in(ids))
            .to_owned();
        let times: HashMap<i64, i64> = Sent::find_by_statement(backend.build(&times))
            .all(db)
            .await?
            .into_iter()
            .map(|s| (s.id, s.send_time))
            .collect();
        let mut insert = Query::insert();
        insert.into_table(DirectConversation::Table).columns([
            DirectConversation::Uid,
            DirectConversation::Peer,
            DirectConversation::LastMessageId,
            DirectConversation::LastAt,
        ]);
        for &((a, b), id) in chunk {
            let at = times.get(&id).copied().unwrap_or(0);
            insert.values_panic([a.into(), b.into(), id.into(), at.into()]);
            if a != b {
                insert.values_panic([b.into(), a.into(), id.into(), at.into()]);
            }
        }
        manager.exec_stmt(insert).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                crate::create_table(manager, DirectConversation::Table)
                    .col(big_pk_auto(DirectConversation::Id))
                    .col(big_integer(DirectConversation::Uid))
                    .col(big_integer(DirectConversation::Peer))
                    .col(big_integer(DirectConversation::LastMessageId))
                    .col(big_integer(DirectConversation::LastAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_direct_conversation_uid")
                            .from(DirectConversation::Table, DirectConversation::Uid)
                            .to(BaseInfo::Table, BaseInfo::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_direct_conversation_peer")
                            .from(DirectConversation::Table, DirectConversation::Peer)
                            .to(BaseInfo::Table, BaseInfo::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_direct_conversation_pair")
                    .table(DirectConversation::Table)
                    .col(DirectConversation::Uid)
                    .col(DirectConversation::Peer)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The order of a user's `conversations` pages.
        manager
            .create_index(
                Index::create()
                    .name("idx_direct_conversation_recent")
                    .table(DirectConversation::Table)
                    .col(DirectConversation::Uid)
                    .col(DirectConversation::LastMessageId)
                    .to_owned(),
            )
            .await?;
        back_fill(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Dropping the table drops its indexes on every backend.
        manager
            .drop_table(Table::drop().table(DirectConversation::Table).to_owned())
            .await
    }
}
