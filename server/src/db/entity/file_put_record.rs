//! The `file_put_record` entity: one row per uploaded file; `file_name` is unique.

use sea_orm::entity::prelude::*;

/// One uploaded file, as stored.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "file_put_record")]
pub struct Model {
    /// Record id, assigned by the database.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The file's name as uploaded.
    #[sea_orm(column_type = "String(StringLen::N(255))")]
    pub file_name: String,
    /// Upload time, unix milliseconds.
    pub send_time: i64,
    /// Record level (0 = user upload).
    #[sea_orm(default_value = 0)]
    pub level: i16,
    /// Uploader's account id.
    pub uid: i64,
    /// Optional description from the uploader.
    #[sea_orm(column_type = "Text", nullable)]
    pub file_comment: Option<String>,
    /// Size in bytes.
    pub size: Option<i64>,
    /// Lowercase hex SHA-256 of the content.
    #[sea_orm(column_type = "String(StringLen::N(64))", nullable)]
    pub sha256: Option<String>,
    /// Where the content is stored (see `crate::files::store`); `None` for a record
    /// whose content this server does not hold.
    #[sea_orm(column_type = "String(StringLen::N(64))", nullable)]
    pub storage_key: Option<String>,
    /// The uploader's account.
    #[sea_orm(belongs_to, from = "uid", to = "id")]
    pub uploader: BelongsTo<super::base_info::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
