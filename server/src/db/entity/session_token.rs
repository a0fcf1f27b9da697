//! The `session_token` entity: hashed resume tokens.

use sea_orm::entity::prelude::*;

/// One resume token, as stored (only its hash).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "session_token")]
pub struct Model {
    /// Token id, assigned by the database.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The account the token logs in as.
    pub uid: i64,
    /// SHA-256 of the token; the token itself is never stored.
    #[sea_orm(column_type = "VarBinary(StringLen::N(32))", unique)]
    pub token_hash: Vec<u8>,
    /// Creation time, unix milliseconds.
    pub created_time: i64,
    /// Last time the token was used, unix milliseconds.
    pub last_used_time: i64,
    /// Expiry time, unix milliseconds; the token is invalid from then on.
    pub expires_time: i64,
    /// The account.
    #[sea_orm(belongs_to, from = "uid", to = "id")]
    pub account: BelongsTo<super::base_info::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
