//! The `direct_conversation` entity: a user's direct-message conversation with
//! one peer and its newest message, so `conversations` pages by recency.

use sea_orm::entity::prelude::*;

/// One side of a direct-message conversation, as stored.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "direct_conversation")]
pub struct Model {
    /// Row id, assigned by the database.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Whose list it is in.
    pub uid: i64,
    /// The other user (`uid` itself for notes to self).
    pub peer: i64,
    /// The newest message between the two, sent either way.
    pub last_message_id: i64,
    /// Its send time, unix milliseconds.
    pub last_at: i64,
    /// The newest message `peer` sent to `uid` (0 when none): what offline
    /// delivery compares with `uid`'s read position.
    pub last_in_id: i64,
}

impl ActiveModelBehavior for ActiveModel {}
