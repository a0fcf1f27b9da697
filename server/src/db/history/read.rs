//! The read side of the history: a conversation page by page (keyset pages
//! on `id`), the newest id of a conversation, where the messages of an id
//! range went (for a cluster node's read-back), and the room's count.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

use super::{Filters, Scope, TargetKind};
use crate::db::entity::{base_info, chat_history};

/// A stored message as clients see it in history, with the sender's name resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// Message id.
    pub id: i64,
    /// Send time, unix milliseconds.
    pub send_time: i64,
    /// [`LEVEL_USER`](super::LEVEL_USER) or [`LEVEL_ADMIN`](super::LEVEL_ADMIN).
    pub level: i16,
    /// Sender's account name; `None` for admin announcements.
    pub sender: Option<String>,
    /// The message text.
    pub text: String,
    /// Sender's account id; `None` for admin announcements.
    pub uid: Option<i64>,
    /// Where it went.
    pub target_kind: TargetKind,
    /// The group or recipient; 0 for the room.
    pub target_id: i64,
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

/// Main-room messages only.
fn room() -> Select<chat_history::Entity> {
    chat_history::Entity::find()
        .filter(chat_history::Column::TargetKind.eq(TargetKind::Room.code()))
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
    page(db, &Scope::Room, &Filters::default(), cursor, limit).await
}

/// One page of the messages in `scope` that pass `filters`, in ascending id order, and
/// whether more exist beyond the page in the direction of travel (older for
/// `Latest`/`Before`, newer for `After`).
pub async fn page(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filters: &Filters,
    cursor: Cursor,
    limit: u64,
) -> Result<(Vec<StoredMessage>, bool), DbErr> {
    // One extra row tells whether there is more beyond the page. Each part
    // gives its first rows in the direction of travel; the page is the first
    // of them all.
    let mut page = Vec::new();
    for part in scope.parts() {
        let query = chat_history::Entity::find()
            .filter(part)
            .filter(filters.condition());
        let query = match cursor {
            Cursor::Latest => query.order_by_desc(chat_history::Column::Id),
            Cursor::Before(id) => query
                .filter(chat_history::Column::Id.lt(id))
                .order_by_desc(chat_history::Column::Id),
            Cursor::After(id) => query
                .filter(chat_history::Column::Id.gt(id))
                .order_by_asc(chat_history::Column::Id),
        };
        page.extend(stored(db, query.limit(limit.saturating_add(1))).await?);
    }
    if matches!(cursor, Cursor::After(_)) {
        page.sort_unstable_by_key(|m| m.id);
    } else {
        page.sort_unstable_by_key(|m| std::cmp::Reverse(m.id));
    }
    let has_more = page.len() as u64 > limit;
    page.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    if !matches!(cursor, Cursor::After(_)) {
        page.reverse();
    }
    Ok((page, has_more))
}

/// The id of the newest message in `scope` (0 when it holds none): where a read position
/// in that conversation may go at most. One indexed query, the newest row of the scope.
pub async fn newest_id(db: &impl ConnectionTrait, scope: &Scope) -> Result<i64, DbErr> {
    let mut newest = 0;
    for part in scope.parts() {
        let id: Option<i64> = chat_history::Entity::find()
            .select_only()
            .column(chat_history::Column::Id)
            .filter(part)
            .order_by_desc(chat_history::Column::Id)
            .limit(1)
            .into_tuple()
            .one(db)
            .await?;
        newest = Ord::max(newest, id.unwrap_or(0));
    }
    Ok(newest)
}

/// Where a stored message went, without its text: a cluster node finds which
/// conversations hold ids it may have missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    /// Message id.
    pub id: i64,
    /// Its kind of conversation.
    pub target_kind: TargetKind,
    /// The group or recipient; 0 for the room.
    pub target_id: i64,
    /// Sender; `None` for announcements.
    pub uid: Option<i64>,
}

/// Up to `limit` stored messages with ids above `after` and at most `upto`
/// (`None`: any), in id order, by where they went: one range of the primary key.
pub async fn placed(
    db: &impl ConnectionTrait,
    after: i64,
    upto: Option<i64>,
    limit: u64,
) -> Result<Vec<Placed>, DbErr> {
    use chat_history::Column as C;
    let mut query = chat_history::Entity::find()
        .select_only()
        .columns([C::Id, C::TargetKind, C::TargetId, C::Uid])
        .filter(C::Id.gt(after));
    if let Some(upto) = upto {
        query = query.filter(C::Id.lte(upto));
    }
    let rows: Vec<(i64, i16, i64, Option<i64>)> = query
        .order_by_asc(C::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, kind, target_id, uid)| {
            Some(Placed {
                id,
                target_kind: TargetKind::from_code(kind)?,
                target_id,
                uid,
            })
        })
        .collect())
}

/// A stored message as the search index takes it: where it went and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indexable {
    /// Message id.
    pub id: i64,
    /// Send time, unix milliseconds.
    pub send_time: i64,
    /// Sender; `None` for announcements.
    pub uid: Option<i64>,
    /// The sender's account name; `None` for announcements.
    pub sender: Option<String>,
    /// Its kind of conversation.
    pub target_kind: TargetKind,
    /// The group or recipient; 0 for the room.
    pub target_id: i64,
    /// The text.
    pub text: String,
}

/// Up to `limit` stored messages with ids above `after` (and, with
/// `sent_since`, sent at or after that time), in id order: one range of the
/// primary key, for (re)building the search index page by page.
pub async fn indexable(
    db: &impl ConnectionTrait,
    after: i64,
    sent_since: Option<i64>,
    limit: u64,
) -> Result<Vec<Indexable>, DbErr> {
    use chat_history::Column as C;
    let mut query = chat_history::Entity::find()
        .select_only()
        .columns([C::Id, C::SendTime, C::Uid])
        .column(base_info::Column::Name)
        .columns([C::TargetKind, C::TargetId, C::Comment])
        .left_join(base_info::Entity)
        .filter(C::Id.gt(after));
    if let Some(since) = sent_since {
        query = query.filter(C::SendTime.gte(since));
    }
    type Row = (i64, i64, Option<i64>, Option<String>, i16, i64, String);
    let rows: Vec<Row> = query
        .order_by_asc(C::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, send_time, uid, sender, kind, target_id, text)| {
            Some(Indexable {
                id,
                send_time,
                uid,
                sender,
                target_kind: TargetKind::from_code(kind)?,
                target_id,
                text,
            })
        })
        .collect())
}

/// The stored messages with these ids (those that exist), with their
/// senders' names, in no particular order: a search's candidates.
pub async fn by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<StoredMessage>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let query = chat_history::Entity::find().filter(chat_history::Column::Id.is_in(ids.to_vec()));
    stored(db, query).await
}

/// The rows `query` selects, with their senders' names.
async fn stored(
    db: &impl ConnectionTrait,
    query: Select<chat_history::Entity>,
) -> Result<Vec<StoredMessage>, DbErr> {
    type Row = (i64, i64, i16, Option<String>, String, Option<i64>, i16, i64);
    let rows: Vec<Row> = query
        .select_only()
        .column(chat_history::Column::Id)
        .column(chat_history::Column::SendTime)
        .column(chat_history::Column::Level)
        .column(base_info::Column::Name)
        .column(chat_history::Column::Comment)
        .column(chat_history::Column::Uid)
        .column(chat_history::Column::TargetKind)
        .column(chat_history::Column::TargetId)
        .left_join(base_info::Entity)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(
            |(id, send_time, level, sender, text, uid, target_kind, target_id)| {
                Some(StoredMessage {
                    id,
                    send_time,
                    level,
                    sender,
                    text,
                    uid,
                    target_kind: TargetKind::from_code(target_kind)?,
                    target_id,
                })
            },
        )
        .collect())
}

/// Number of main-room messages, for tests and diagnostics.
pub async fn count_room(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    room().count(db).await
}
