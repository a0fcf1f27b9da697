//! Creates `store_lock`: one row that the writers of a cluster's nodes lock in
//! turn (an `UPDATE` of it, held until commit), so batches of messages commit one
//! at a time across the cluster and message ids stay contiguous and in commit
//! order. A single server never touches it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

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
                crate::create_table(manager, StoreLock::Table)
                    .col(integer(StoreLock::Id).primary_key())
                    // How many batches took the lock: its update is what locks the row.
                    .col(big_integer(StoreLock::Turns).default(0))
                    .to_owned(),
            )
            .await?;
        let insert = Query::insert()
            .into_table(StoreLock::Table)
            .columns([StoreLock::Id, StoreLock::Turns])
            .values_panic([1.into(), 0i64.into()])
            .to_owned();
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(StoreLock::Table).to_owned())
            .await
    }
}
