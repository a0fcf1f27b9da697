//! Chat history (`chat_history`): storing messages in batches and reading the main room
//! back page by page.
//!
//! Message ids are assigned by the server (monotonic), so "newer" means "higher id"
//! everywhere here, and pages are keyset pages on `id`, served by the
//! `(target_kind, target_id, id)` index.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Select,
};

use super::entity::{base_info, chat_history};

/// `target_kind` of the main room (1 = group and 2 = direct message are reserved).
pub const TARGET_ROOM: i16 = 0;
/// `level` of a message written by a user.
pub const LEVEL_USER: i16 = 0;
/// `level` of an admin announcement (no `uid`).
pub const LEVEL_ADMIN: i16 = 1;

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
    /// [`LEVEL_USER`] or [`LEVEL_ADMIN`].
    pub level: i16,
    /// Sender's account id; `None` for admin announcements.
    pub uid: Option<i64>,
    /// Where it went, e.g. [`TARGET_ROOM`].
    pub target_kind: i16,
    /// Group or user id; 0 for the main room.
    pub target_id: i64,
    /// The client's own id for the message, to drop resent duplicates.
    pub client_msg_id: Option<String>,
}

/// A stored message as clients see it in history, with the sender's name resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// Message id.
    pub id: i64,
    /// Send time, unix milliseconds.
    pub send_time: i64,
    /// [`LEVEL_USER`] or [`LEVEL_ADMIN`].
    pub level: i16,
    /// Sender's account name; `None` for admin announcements.
    pub sender: Option<String>,
    /// The message text.
    pub text: String,
}

/// Which page of the room's history [`room_page`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    /// The newest messages.
    Latest,
    /// The newest messages with an id below this one (scrolling back).
    Before(i64),
    /// The oldest messages with an id above this one (catching up).
    After(i64),
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
            target_kind: Set(r.target_kind),
            target_id: Set(r.target_id),
            client_msg_id: Set(r.client_msg_id.clone()),
        });
        chat_history::Entity::insert_many(models)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
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

/// Main-room messages only.
fn room() -> Select<chat_history::Entity> {
    chat_history::Entity::find()
        .filter(chat_history::Column::TargetKind.eq(TARGET_ROOM))
        .filter(chat_history::Column::TargetId.eq(0i64))
}

/// One page of main-room history in ascending id order, and whether more messages exist
/// beyond the page in the direction of travel (older for `Latest`/`Before`, newer for
/// `After`).
pub async fn room_page(
    db: &impl ConnectionTrait,
    cursor: Cursor,
    limit: u64,
) -> Result<(Vec<StoredMessage>, bool), DbErr> {
    let query = room();
    let query = match cursor {
        Cursor::Latest => query.order_by_desc(chat_history::Column::Id),
        Cursor::Before(id) => query
            .filter(chat_history::Column::Id.lt(id))
            .order_by_desc(chat_history::Column::Id),
        Cursor::After(id) => query
            .filter(chat_history::Column::Id.gt(id))
            .order_by_asc(chat_history::Column::Id),
    };
    // One extra row tells whether there is more beyond the page.
    let rows: Vec<(i64, i64, i16, Option<String>, String)> = query
        .select_only()
        .column(chat_history::Column::Id)
        .column(chat_history::Column::SendTime)
        .column(chat_history::Column::Level)
        .column(base_info::Column::Name)
        .column(chat_history::Column::Comment)
        .left_join(base_info::Entity)
        .limit(limit.saturating_add(1))
        .into_tuple()
        .all(db)
        .await?;
    let has_more = rows.len() as u64 > limit;
    let mut page: Vec<StoredMessage> = rows
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(|(id, send_time, level, sender, text)| StoredMessage {
            id,
            send_time,
            level,
            sender,
            text,
        })
        .collect();
    if !matches!(cursor, Cursor::After(_)) {
        page.reverse();
    }
    Ok((page, has_more))
}

/// The newest messages that carry both a sender and a client message id, newest first, as
/// `(uid, client_msg_id, id, send_time)`, so the server can rebuild its duplicate filter
/// after a restart.
pub async fn recent_client_ids(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<(i64, String, i64, i64)>, DbErr> {
    chat_history::Entity::find()
        .select_only()
        .column(chat_history::Column::Uid)
        .column(chat_history::Column::ClientMsgId)
        .column(chat_history::Column::Id)
        .column(chat_history::Column::SendTime)
        .filter(chat_history::Column::Uid.is_not_null())
        .filter(chat_history::Column::ClientMsgId.is_not_null())
        .order_by_desc(chat_history::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await
}

/// Number of main-room messages, for tests and diagnostics.
pub async fn count_room(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    room().count(db).await
}
