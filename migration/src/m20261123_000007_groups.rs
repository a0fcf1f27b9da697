//! Groups and read positions.
//!
//! - `group_info`: one row per group (TWTTALK): creator, name, a unique name key (the name
//!   rules of user names: case, width and look-alikes ignored), create time, `flag` (0 open,
//!   1 closed by its creator, 2 closed by the administrator), `group_type` (0 public,
//!   1 private), comment, and `full_history` (1: new members of a private group read its
//!   history from before they joined).
//! - `group_user_relation`: one row per (group, user), its `flag` (0 requested, 1 member,
//!   2 removed, 3 left) and `since` (when the user last became a member: the history
//!   cut-off of private groups).
//! - `read_position`: per user and conversation (`target_kind`, `target_id` as in
//!   `chat_history`; for a direct message the other user), the newest message id the user's
//!   client has acknowledged; offline delivery and unread counts start after it.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_create_base_info::BaseInfo;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum GroupInfo {
    Table,
    Id,
    Creator,
    Name,
    NameKey,
    CreateTime,
    Flag,
    GroupType,
    Comment,
    FullHistory,
}

#[derive(DeriveIden)]
enum GroupUserRelation {
    Table,
    Id,
    GroupId,
    Uid,
    Flag,
    Since,
    UpdateTime,
}

#[derive(DeriveIden)]
enum ReadPosition {
    Table,
    Id,
    Uid,
    TargetKind,
    TargetId,
    Upto,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                crate::create_table(manager, GroupInfo::Table)
                    .col(big_pk_auto(GroupInfo::Id))
                    .col(big_integer(GroupInfo::Creator))
                    .col(string_len(GroupInfo::Name, 128))
                    .col(var_binary_uniq(GroupInfo::NameKey, 255))
                    .col(big_integer(GroupInfo::CreateTime))
                    .col(small_integer(GroupInfo::Flag).default(0i16))
                    .col(small_integer(GroupInfo::GroupType).default(0i16))
                    .col(text_null(GroupInfo::Comment))
                    .col(small_integer(GroupInfo::FullHistory).default(0i16))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_group_info_creator")
                            .from(GroupInfo::Table, GroupInfo::Creator)
                            .to(BaseInfo::Table, BaseInfo::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                crate::create_table(manager, GroupUserRelation::Table)
                    .col(big_pk_auto(GroupUserRelation::Id))
                    .col(big_integer(GroupUserRelation::GroupId))
                    .col(big_integer(GroupUserRelation::Uid))
                    .col(small_integer(GroupUserRelation::Flag))
                    .col(big_integer(GroupUserRelation::Since))
                    .col(big_integer(GroupUserRelation::UpdateTime))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_group_user_relation_group")
                            .from(GroupUserRelation::Table, GroupUserRelation::GroupId)
                            .to(GroupInfo::Table, GroupInfo::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_group_user_relation_uid")
                            .from(GroupUserRelation::Table, GroupUserRelation::Uid)
                            .to(BaseInfo::Table, BaseInfo::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_group_user_relation_pair")
                    .table(GroupUserRelation::Table)
                    .col(GroupUserRelation::GroupId)
                    .col(GroupUserRelation::Uid)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_group_user_relation_uid")
                    .table(GroupUserRelation::Table)
                    .col(GroupUserRelation::Uid)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                crate::create_table(manager, ReadPosition::Table)
                    .col(big_pk_auto(ReadPosition::Id))
                    .col(big_integer(ReadPosition::Uid))
                    .col(small_integer(ReadPosition::TargetKind))
                    .col(big_integer(ReadPosition::TargetId))
                    .col(big_integer(ReadPosition::Upto))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_read_position_uid")
                            .from(ReadPosition::Table, ReadPosition::Uid)
                            .to(BaseInfo::Table, BaseInfo::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_read_position_key")
                    .table(ReadPosition::Table)
                    .col(ReadPosition::Uid)
                    .col(ReadPosition::TargetKind)
                    .col(ReadPosition::TargetId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ReadPosition::Table.into_iden(),
            GroupUserRelation::Table.into_iden(),
            GroupInfo::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
