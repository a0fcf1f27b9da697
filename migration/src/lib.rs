//! Database schema migrations for chatroom.
//!
//! Every schema change is one file named `mYYYYMMDD_HHMMSS_<what>.rs`, listed in
//! [`Migrator::migrations`] in order. Migrations are only ever added, never edited, and each
//! has a working `down`. They are written with sea-query only (no database-specific SQL), so
//! the same migrations run on SQLite, PostgreSQL and MySQL/MariaDB.
//!
//! All timestamps are `BIGINT` unix milliseconds (UTC), so no database's timezone or
//! timestamp-precision rules apply.

pub use sea_orm_migration::prelude::*;

use sea_orm_migration::sea_orm::DbBackend;

mod m20261123_000001_create_base_info;
mod m20261123_000002_create_chat_history;
mod m20261123_000003_create_file_put_record;
mod m20261123_000004_create_game_record;
mod m20261123_000005_create_session_token;
mod m20261123_000006_file_storage;
mod m20261123_000007_groups;
mod m20261204_000008_rekey_names;
mod m20261204_000009_store_lock;
mod m20261206_000010_clamp_read_positions;
mod m20261206_000011_member_order_index;
mod m20261207_000012_direct_conversation;
mod m20261207_000013_direct_pair_index;
mod m20261207_000014_conversation_clocks;
mod m20261207_000015_client_message_index;
mod m20261207_000016_direct_conversation_incoming;

/// The chatroom schema migrator: the server runs `Migrator::up` at start-up so the database
/// always has the schema this build expects.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_base_info::Migration),
            Box::new(m20261123_000002_create_chat_history::Migration),
            Box::new(m20261123_000003_create_file_put_record::Migration),
            Box::new(m20261123_000004_create_game_record::Migration),
            Box::new(m20261123_000005_create_session_token::Migration),
            Box::new(m20261123_000006_file_storage::Migration),
            Box::new(m20261123_000007_groups::Migration),
            Box::new(m20261204_000008_rekey_names::Migration),
            Box::new(m20261204_000009_store_lock::Migration),
            Box::new(m20261206_000010_clamp_read_positions::Migration),
            Box::new(m20261206_000011_member_order_index::Migration),
            Box::new(m20261207_000012_direct_conversation::Migration),
            Box::new(m20261207_000013_direct_pair_index::Migration),
            Box::new(m20261207_000014_conversation_clocks::Migration),
            Box::new(m20261207_000015_client_message_index::Migration),
            Box::new(m20261207_000016_direct_conversation_incoming::Migration),
        ]
    }
}

/// `CREATE TABLE name` with the options every chatroom table needs: on MySQL/MariaDB the
/// `utf8mb4` character set, so any Unicode text fits whatever the server's default is
/// (older MariaDB defaults to latin1). Other backends need no options.
fn create_table(manager: &SchemaManager, name: impl IntoIden) -> TableCreateStatement {
    let mut table = Table::create();
    table.table(name);
    if manager.get_database_backend() == DbBackend::MySql {
        table.character_set("utf8mb4");
    }
    table
}
