//! The write side of the history: the rows the writer stores, the batched
//! INSERTs that store them, and the highest id stored, where numbering goes on
//! after a restart.

use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QuerySelect};

use super::TargetKind;
use crate::db::entity::chat_history;

/// Rows per INSERT statement: 500 rows x 8 columns = 4000 bind parameters, well under the
/// limits of SQLite (32766), PostgreSQL (65535) and MySQL (65535).
const ROWS_PER_INSERT: usize = 500;

/// One message to store; the server has already assigned its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChatRow {
    /// Server-assigned message id.
    pub id: i64,
    /// The message text.
    pub text: String,
    /// Send time, unix milliseconds.
    pub send_time: i64,
    /// [`LEVEL_USER`](super::LEVEL_USER) or [`LEVEL_ADMIN`](super::LEVEL_ADMIN).
    pub level: i16,
    /// Sender's account id; `None` for admin announcements.
    pub uid: Option<i64>,
    /// Where it went.
    pub target_kind: TargetKind,
    /// Group or user id; 0 for the main room.
    pub target_id: i64,
    /// The client's own id for the message, to drop resent duplicates.
    pub client_msg_id: Option<String>,
}

/// Stores a batch of messages with multi-row INSERTs of at most [`ROWS_PER_INSERT`] rows,
/// so any batch stays under every backend's bind-parameter limit. Not atomic by itself:
/// the caller runs it in a transaction.
pub async fn insert_rows(db: &impl ConnectionTrait, rows: &[NewChatRow]) -> Result<(), DbErr> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let models = chunk.iter().map(|r| chat_history::ActiveModel {
            id: Set(r.id),
            comment: Set(r.text.clone()),
            send_time: Set(r.send_time),
            level: Set(r.level),
            uid: Set(r.uid),
            target_kind: Set(r.target_kind.code()),
            target_id: Set(r.target_id),
            client_msg_id: Set(r.client_msg_id.clone()),
        });
        chat_history::Entity::insert_many(models)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Whether `rows` go into the database with one statement of [`insert_rows`], which is
/// atomic by itself and needs no transaction around it.
pub fn fits_one_insert(rows: &[NewChatRow]) -> bool {
    rows.len() <= ROWS_PER_INSERT
}

/// The highest stored message id (0 when there are none), so the server can continue
/// numbering after a restart.
pub async fn max_id(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let max: Option<Option<i64>> = chat_history::Entity::find()
        .select_only()
        .expr(chat_history::Column::Id.max())
        .into_tuple()
        .one(db)
        .await?;
    Ok(max.flatten().unwrap_or(0))
}
