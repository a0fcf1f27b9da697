//! The `read_position` entity: how far a user has read one conversation.

use sea_orm::entity::prelude::*;

/// A user's read position in one conversation, as stored.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "read_position")]
pub struct Model {
    /// Row id, assigned by the database.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The reader.
    pub uid: i64,
    /// As `chat_history.target_kind`: 0 room, 1 group, 2 direct message.
    pub target_kind: i16,
    /// The group, or for a direct message the other user.
    pub target_id: i64,
    /// The newest message id acknowledged.
    pub upto: i64,
}

impl ActiveModelBehavior for ActiveModel {}
