//! The `conversation_clock` entity: per conversation, the id of its newest
//! message; the row a cluster node's writer locks while it commits to it.

use sea_orm::entity::prelude::*;

/// One conversation's clock.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conversation_clock")]
pub struct Model {
    /// 0 the room, 1 a group, 2 two users.
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: i16,
    /// The group, or the lower user id (0 for the room).
    #[sea_orm(primary_key, auto_increment = false)]
    pub a: i64,
    /// The higher user id (0 otherwise).
    #[sea_orm(primary_key, auto_increment = false)]
    pub b: i64,
    /// The newest message's id (kept by cluster nodes only).
    pub last_id: i64,
}

impl ActiveModelBehavior for ActiveModel {}
