//! The `group_info` entity: one row per group.

use sea_orm::entity::prelude::*;

/// A group, as stored.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "group_info")]
pub struct Model {
    /// Group id, assigned by the database.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The creator's account id.
    pub creator: i64,
    /// The name as given (NFC).
    #[sea_orm(column_type = "String(StringLen::N(128))")]
    pub name: String,
    /// UTF-8 bytes of the name's uniqueness key (the rules of user names); UNIQUE.
    #[sea_orm(column_type = "VarBinary(StringLen::N(255))", unique)]
    pub name_key: Vec<u8>,
    /// Creation time, unix milliseconds.
    pub create_time: i64,
    /// 0 open, 1 closed by its creator, 2 closed by the administrator (see `db::groups`).
    #[sea_orm(default_value = 0)]
    pub flag: i16,
    /// 0 public, 1 private.
    #[sea_orm(default_value = 0)]
    pub group_type: i16,
    /// What the group is for.
    #[sea_orm(column_type = "Text", nullable)]
    pub comment: Option<String>,
    /// 1: new members of a private group read its history from before they joined.
    #[sea_orm(default_value = 0)]
    pub full_history: i16,
}

impl ActiveModelBehavior for ActiveModel {}
