//! The `base_info` entity: one row per registered account.

use sea_orm::entity::prelude::*;

/// A registered account, as stored.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "base_info")]
pub struct Model {
    /// Account id, assigned by the database.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Display name as registered (NFC).
    #[sea_orm(column_type = "String(StringLen::N(128))")]
    pub name: String,
    /// UTF-8 bytes of the name's uniqueness key; the UNIQUE constraint on it is what stops
    /// two accounts from sharing a name.
    #[sea_orm(column_type = "VarBinary(StringLen::N(255))", unique)]
    pub name_key: Vec<u8>,
    /// bcrypt hash of the password.
    #[sea_orm(column_type = "String(StringLen::N(128))")]
    pub password: String,
    /// IP address the account registered from.
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub address: String,
    /// Registration time, unix milliseconds.
    pub register_time: i64,
    /// Optional nickname.
    #[sea_orm(column_type = "String(StringLen::N(128))", nullable)]
    pub nickname: Option<String>,
    /// IP address of the last successful login.
    #[sea_orm(column_type = "String(StringLen::N(64))", nullable)]
    pub last_address: Option<String>,
    /// Time of the last successful login, unix milliseconds.
    pub last_login_time: Option<i64>,
    /// Number of successful logins.
    #[sea_orm(default_value = 0)]
    pub login_count: i64,
    /// Account state: `FLAG_NORMAL` (0) or `FLAG_DISABLED` (1), see `db::accounts`.
    #[sea_orm(default_value = 0)]
    pub flag: i16,
}

impl ActiveModelBehavior for ActiveModel {}
