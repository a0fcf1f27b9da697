//! Creates `base_info`, one row per registered account.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Table and column names of `base_info`; later migrations use it for foreign keys.
#[derive(DeriveIden)]
pub(crate) enum BaseInfo {
    Table,
    Id,
    Name,
    NameKey,
    Password,
    Address,
    RegisterTime,
    Nickname,
    LastAddress,
    LastLoginTime,
    LoginCount,
    Flag,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                crate::create_table(manager, BaseInfo::Table)
                    // `big_pk_auto` emits `integer` on SQLite, so the column is the rowid
                    // alias that AUTOINCREMENT requires.
                    .col(big_pk_auto(BaseInfo::Id))
                    .col(string_len(BaseInfo::Name, 128))
                    // Binary, so no MySQL collation can make two distinct keys compare equal.
                    .col(var_binary_uniq(BaseInfo::NameKey, 255))
                    .col(string_len(BaseInfo::Password, 128))
                    .col(string_len(BaseInfo::Address, 64))
                    .col(big_integer(BaseInfo::RegisterTime))
                    .col(string_len_null(BaseInfo::Nickname, 128))
                    .col(string_len_null(BaseInfo::LastAddress, 64))
                    .col(big_integer_null(BaseInfo::LastLoginTime))
                    .col(big_integer(BaseInfo::LoginCount).default(0i64))
                    .col(small_integer(BaseInfo::Flag).default(0i16))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BaseInfo::Table).to_owned())
            .await
    }
}
