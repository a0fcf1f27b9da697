//! The `store_lock` entity: the row a cluster's writers lock in turn.

use sea_orm::entity::prelude::*;

/// The one row (id 1) of `store_lock`.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "store_lock")]
pub struct Model {
    /// Always 1.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    /// How many batches took the lock.
    pub turns: i64,
}

impl ActiveModelBehavior for ActiveModel {}
