//! SeaORM entities, one file per table, matching the `migration` crate exactly.
//!
//! All timestamps are `i64` unix milliseconds (UTC); `BIGINT` columns are `i64`, `SMALLINT`
//! columns are `i16`, binary columns are `Vec<u8>`, and nullable columns are `Option`.

pub mod base_info;
pub mod chat_history;
pub mod conversation_clock;
pub mod direct_conversation;
pub mod file_put_record;
pub mod game_record;
pub mod group_info;
pub mod group_user_relation;
pub mod id_clock;
pub mod read_position;
pub mod session_token;
