//! An index on `group_user_relation (group_id, flag, since, id)`: the order in
//! which a group's members (and waiting users) are listed, so a page of
//! `group_members` is read from where the page before ended, with no sort of
//! every member of the group.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum GroupUserRelation {
    Table,
    Id,
    GroupId,
    Flag,
    Since,
}

/// The index's name.
const NAME: &str = "idx_group_user_relation_order";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NAME)
                    .table(GroupUserRelation::Table)
                    .col(GroupUserRelation::GroupId)
                    .col(GroupUserRelation::Flag)
                    .col(GroupUserRelation::Since)
                    .col(GroupUserRelation::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(NAME)
                    .table(GroupUserRelation::Table)
                    .to_owned(),
            )
            .await
    }
}
