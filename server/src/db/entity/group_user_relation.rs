//! The `group_user_relation` entity: where one user stands with one group.

use sea_orm::entity::prelude::*;

/// A (group, user) pair, as stored.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "group_user_relation")]
pub struct Model {
    /// Row id, assigned by the database.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The group.
    pub group_id: i64,
    /// The user.
    pub uid: i64,
    /// 0 requested, 1 member, 2 removed, 3 left (see `db::groups`).
    pub flag: i16,
    /// When the user last became a member (or asked), unix milliseconds.
    pub since: i64,
    /// When the row last changed, unix milliseconds.
    pub update_time: i64,
}

impl ActiveModelBehavior for ActiveModel {}
