//! The `id_clock` entity: the one counter of message ids that cluster nodes
//! take runs of ids from.

use sea_orm::entity::prelude::*;

/// The one row (id 1) of `id_clock`.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "id_clock")]
pub struct Model {
    /// Always 1.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    /// The highest id handed out.
    pub last: i64,
}

impl ActiveModelBehavior for ActiveModel {}
