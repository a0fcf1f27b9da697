//! Creates `session_token`, the hashed resume tokens that let a client log in again
//! without its password.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_create_base_info::BaseInfo;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SessionToken {
    Table,
    Id,
    Uid,
    TokenHash,
    CreatedTime,
    LastUsedTime,
    ExpiresTime,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                crate::create_table(manager, SessionToken::Table)
                    .col(big_pk_auto(SessionToken::Id))
                    .col(big_integer(SessionToken::Uid))
                    // SHA-256 of the token: the token itself is never stored.
                    .col(var_binary_uniq(SessionToken::TokenHash, 32))
                    .col(big_integer(SessionToken::CreatedTime))
                    .col(big_integer(SessionToken::LastUsedTime))
                    .col(big_integer(SessionToken::ExpiresTime))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_session_token_uid")
                            .from(SessionToken::Table, SessionToken::Uid)
                            .to(BaseInfo::Table, BaseInfo::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_session_token_uid")
                    .table(SessionToken::Table)
                    .col(SessionToken::Uid)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SessionToken::Table).to_owned())
            .await
    }
}
