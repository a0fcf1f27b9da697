//! Prepares `file_put_record` for stored files: a `storage_key` column naming the stored
//! content, and a UNIQUE index on `file_name` so one name can be recorded only once, even
//! when two uploads of it finish at the same moment (or on two nodes later).
//!
//! On MySQL/MariaDB the name column gets a binary collation first: the default utf8mb4
//! collations compare case-insensitively, which would make `A.txt` and `a.txt` collide
//! there but not on SQLite or PostgreSQL.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FilePutRecord {
    Table,
    FileName,
    StorageKey,
}

const NAME_INDEX: &str = "idx_file_put_record_file_name";

fn file_name_column(collation: Option<&str>) -> ColumnDef {
    let mut col = ColumnDef::new(FilePutRecord::FileName);
    match collation {
        // The character set and collation belong to the type, before NOT NULL.
        Some(c) => col.custom(Alias::new(format!(
            "VARCHAR(255) CHARACTER SET utf8mb4 COLLATE {c}"
        ))),
        None => col.string_len(255),
    };
    col.not_null();
    col
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::MySql {
            manager
                .alter_table(
                    Table::alter()
                        .table(FilePutRecord::Table)
                        .modify_column(file_name_column(Some("utf8mb4_bin")))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(FilePutRecord::Table)
                    .add_column(
                        ColumnDef::new(FilePutRecord::StorageKey)
                            .string_len(64)
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(NAME_INDEX)
                    .table(FilePutRecord::Table)
                    .col(FilePutRecord::FileName)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(NAME_INDEX)
                    .table(FilePutRecord::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(FilePutRecord::Table)
                    .drop_column(FilePutRecord::StorageKey)
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == DbBackend::MySql {
            manager
                .alter_table(
                    Table::alter()
                        .table(FilePutRecord::Table)
                        .modify_column(file_name_column(None))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
