//! Creates `file_put_record`, one row per uploaded file (used by the file-transfer feature).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_create_base_info::BaseInfo;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FilePutRecord {
    Table,
    Id,
    FileName,
    SendTime,
    Level,
    Uid,
    FileComment,
    Size,
    Sha256,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                crate::create_table(manager, FilePutRecord::Table)
                    .col(big_pk_auto(FilePutRecord::Id))
                    .col(string_len(FilePutRecord::FileName, 255))
                    .col(big_integer(FilePutRecord::SendTime))
                    .col(small_integer(FilePutRecord::Level).default(0i16))
                    .col(big_integer(FilePutRecord::Uid))
                    .col(text_null(FilePutRecord::FileComment))
                    .col(big_integer_null(FilePutRecord::Size))
                    .col(string_len_null(FilePutRecord::Sha256, 64))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_file_put_record_uid")
                            .from(FilePutRecord::Table, FilePutRecord::Uid)
                            .to(BaseInfo::Table, BaseInfo::Id),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(FilePutRecord::Table).to_owned())
            .await
    }
}
