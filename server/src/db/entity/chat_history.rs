//! The `chat_history` entity: every stored chat message and admin announcement.

use sea_orm::entity::prelude::*;

/// One stored message, as stored.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "chat_history")]
pub struct Model {
    /// Message id, assigned by the server (not by the database).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    /// The message text.
    #[sea_orm(column_type = "Text")]
    pub comment: String,
    /// Send time, unix milliseconds.
    pub send_time: i64,
    /// `LEVEL_USER` (0) or `LEVEL_ADMIN` (1), see `db::history`.
    pub level: i16,
    /// Sender's account id; `None` for admin announcements.
    pub uid: Option<i64>,
    /// Where the message went: 0 = main room, 1 = group, 2 = direct message.
    #[sea_orm(default_value = 0)]
    pub target_kind: i16,
    /// Group or user id for groups and direct messages; 0 for the main room.
    #[sea_orm(default_value = 0)]
    pub target_id: i64,
    /// The client's own id for the message, used to drop resent duplicates.
    #[sea_orm(column_type = "String(StringLen::N(64))", nullable)]
    pub client_msg_id: Option<String>,
    /// The sender's account.
    #[sea_orm(belongs_to, from = "uid", to = "id")]
    pub sender: HasOne<super::base_info::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
