//! Brings back read positions set beyond the newest message. Before positions
//! were clamped (issue 15), a `read` with `upto` = 2^63−1 was stored as is, and
//! since positions never move back it silenced that conversation's offline
//! delivery for good. No position can rightly pass the highest message id, so
//! every one above it is set to it. Nothing to undo: `down` leaves them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, QueryResult};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ChatHistory {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ReadPosition {
    Table,
    Upto,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let newest = Query::select()
            .expr_as(Func::max(Expr::col(ChatHistory::Id)), Alias::new("newest"))
            .from(ChatHistory::Table)
            .to_owned();
        let row: Option<QueryResult> = db.query_one(&newest).await?;
        let newest: i64 = match row {
            Some(row) => row.try_get::<Option<i64>>("", "newest")?.unwrap_or(0),
            None => 0,
        };
        let clamp = Query::update()
            .table(ReadPosition::Table)
            .value(ReadPosition::Upto, newest)
            .and_where(Expr::col(ReadPosition::Upto).gt(newest))
            .to_owned();
        manager.exec_stmt(clamp).await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // A position past every message meant nothing: there is nothing to restore.
        Ok(())
    }
}
