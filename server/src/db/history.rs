//! Chat history (`chat_history`): storing messages in batches and reading a conversation
//! (the main room, a group, two users' direct messages, or everything a user may read)
//! back page by page, narrowed by time, sender and words.
//!
//! Message ids are assigned by the server (monotonic), so "newer" means "higher id"
//! everywhere here, and pages are keyset pages on `id`, served by the
//! `(target_kind, target_id, id)` index.

use sea_orm::sea_query::{BinOper, Expr, ExprTrait, Func};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Select,
};

use super::entity::{base_info, chat_history};

/// Where a stored message went: the kind of conversation, stored as the
/// `chat_history.target_kind` (and `read_position.target_kind`) column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TargetKind {
    /// The main room (`target_id` 0).
    Room,
    /// A group (`target_id` is the group).
    Group,
    /// A direct message (`target_id` is the recipient).
    User,
}

impl TargetKind {
    /// The value in the database column.
    pub const fn code(self) -> i16 {
        match self {
            Self::Room => 0,
            Self::Group => 1,
            Self::User => 2,
        }
    }

    /// The kind a column value stands for; `None` for a value no server writes.
    pub const fn from_code(code: i16) -> Option<Self> {
        match code {
            0 => Some(Self::Room),
            1 => Some(Self::Group),
            2 => Some(Self::User),
            _ => None,
        }
    }
}
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
    /// Where it went.
    pub target_kind: TargetKind,
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
    /// Sender's account id; `None` for admin announcements.
    pub uid: Option<i64>,
    /// Where it went.
    pub target_kind: TargetKind,
    /// The group or recipient; 0 for the room.
    pub target_id: i64,
}

/// Which messages a query may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The main room.
    Room,
    /// One group; with a cut-off, only messages sent at or after it.
    Group {
        /// The group.
        id: i64,
        /// Earliest send time visible (a private group's join-time cut-off).
        since: Option<i64>,
    },
    /// The direct messages between two users.
    Direct {
        /// One of them.
        me: i64,
        /// The other.
        peer: i64,
    },
    /// The direct messages sent to one user (by anyone).
    Inbox {
        /// The recipient.
        me: i64,
    },
    /// Everything a user may read: the room, these groups (each with its cut-off), and
    /// the direct messages to or from `me`.
    Readable {
        /// The reader.
        me: i64,
        /// The groups, with their cut-offs.
        groups: Vec<(i64, Option<i64>)>,
    },
}

/// Narrowing of a history query beyond its scope and cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// Only messages sent before this time.
    pub before_ts: Option<i64>,
    /// Only messages sent after this time.
    pub after_ts: Option<i64>,
    /// Only messages from this account.
    pub from: Option<i64>,
    /// Only messages containing every one of these words (as `LOWER()` of the database
    /// lowers both: ASCII letters on SQLite, every letter of the locale elsewhere).
    pub words: Vec<String>,
}

fn group_condition(id: i64, since: Option<i64>) -> Condition {
    let mut c = Condition::all()
        .add(chat_history::Column::TargetKind.eq(TargetKind::Group.code()))
        .add(chat_history::Column::TargetId.eq(id));
    if let Some(since) = since {
        c = c.add(chat_history::Column::SendTime.gte(since));
    }
    c
}

fn room_condition() -> Condition {
    Condition::all()
        .add(chat_history::Column::TargetKind.eq(TargetKind::Room.code()))
        .add(chat_history::Column::TargetId.eq(0i64))
}

impl Scope {
    fn condition(&self) -> Condition {
        use chat_history::Column as C;
        match self {
            Self::Room => room_condition(),
            Self::Group { id, since } => group_condition(*id, *since),
            Self::Direct { .. } => self
                .parts()
                .into_iter()
                .fold(Condition::any(), |any, part| any.add(part)),
            Self::Inbox { me } => Condition::all()
                .add(C::TargetKind.eq(TargetKind::User.code()))
                .add(C::TargetId.eq(*me)),
            Self::Readable { me, groups } => {
                let mut any = Condition::any().add(room_condition()).add(
                    Condition::all()
                        .add(C::TargetKind.eq(TargetKind::User.code()))
                        .add(
                            Condition::any()
                                .add(C::Uid.eq(*me))
                                .add(C::TargetId.eq(*me)),
                        ),
                );
                for (id, since) in groups {
                    any = any.add(group_condition(*id, *since));
                }
                any
            }
        }
    }
}

impl Scope {
    /// The scope as conditions whose union it is, each one range of an index:
    /// a direct conversation is its two directions (each read on
    /// `idx_chat_history_pair`, so a page costs the same however many direct
    /// messages the history holds; as one condition with an OR the database
    /// read every direct message there is); any other scope is itself.
    fn parts(&self) -> Vec<Condition> {
        use chat_history::Column as C;
        let sent = |from: i64, to: i64| {
            Condition::all()
                .add(C::TargetKind.eq(TargetKind::User.code()))
                .add(C::TargetId.eq(to))
                .add(C::Uid.eq(from))
        };
        match *self {
            Self::Direct { me, peer } if me == peer => vec![sent(me, me)],
            Self::Direct { me, peer } => vec![sent(me, peer), sent(peer, me)],
            _ => vec![self.condition()],
        }
    }
}

/// `word` as a LIKE pattern matching it anywhere, with `!` escaping the pattern's own
/// special characters (an escape character that needs no escaping in any backend's
/// string literals). Its case is left to the database's `LOWER()`, which lowers the
/// text too (see [`Filters::condition`]).
fn contains_pattern(word: &str) -> String {
    let mut p = String::from("%");
    for ch in word.chars() {
        if matches!(ch, '%' | '_' | '!') {
            p.push('!');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

impl Filters {
    fn condition(&self) -> Condition {
        use chat_history::Column as C;
        let mut c = Condition::all();
        if let Some(t) = self.before_ts {
            c = c.add(C::SendTime.lt(t));
        }
        if let Some(t) = self.after_ts {
            c = c.add(C::SendTime.gt(t));
        }
        if let Some(uid) = self.from {
            c = c.add(C::Uid.eq(uid));
        }
        // `LOWER(text) LIKE LOWER(pattern)`: both sides lowered by the same function, so
        // a word is always found as typed. (Lowering the word in Rust instead made
        // `ÉCOLE` miss itself on SQLite, whose LOWER() only lowers ASCII letters.)
        for word in &self.words {
            let pattern = Expr::expr(Func::lower(Expr::val(contains_pattern(word))))
                .binary(BinOper::Escape, Expr::Constant('!'.into()));
            c = c.add(
                Expr::expr(Func::lower(Expr::col((chat_history::Entity, C::Comment))))
                    .binary(BinOper::Like, pattern),
            );
        }
        c
    }
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

/// The stored messages with ids `from..to`, in id order: a cluster node reads back a
/// batch of messages that did not reach it.
pub async fn id_range(
    db: &impl ConnectionTrait,
    from: i64,
    to: i64,
) -> Result<Vec<StoredMessage>, DbErr> {
    let query = chat_history::Entity::find()
        .filter(chat_history::Column::Id.gte(from))
        .filter(chat_history::Column::Id.lt(to))
        .order_by_asc(chat_history::Column::Id);
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

/// A stored message with a client message id, as the writer's duplicate filter
/// needs it: who sent what where, under which client id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMessage {
    /// Message id.
    pub id: i64,
    /// Send time, unix milliseconds.
    pub ts: i64,
    /// Sender's account id.
    pub uid: i64,
    /// The sender's client message id.
    pub client_id: String,
    /// Where it went.
    pub target_kind: TargetKind,
    /// Group or user id; 0 for the main room.
    pub target_id: i64,
    /// The text.
    pub text: String,
}

type ClientMessageRow = (i64, i64, Option<i64>, Option<String>, i16, i64, String);

fn client_messages() -> Select<chat_history::Entity> {
    use chat_history::Column as C;
    chat_history::Entity::find()
        .select_only()
        .column(C::Id)
        .column(C::SendTime)
        .column(C::Uid)
        .column(C::ClientMsgId)
        .column(C::TargetKind)
        .column(C::TargetId)
        .column(C::Comment)
        .filter(C::Uid.is_not_null())
        .filter(C::ClientMsgId.is_not_null())
}

fn to_client_message(row: ClientMessageRow) -> Option<ClientMessage> {
    let (id, ts, uid, client_id, target_kind, target_id, text) = row;
    Some(ClientMessage {
        id,
        ts,
        uid: uid?,
        client_id: client_id?,
        target_kind: TargetKind::from_code(target_kind)?,
        target_id,
        text,
    })
}

/// The newest messages stored with a client message id, below id `below` (all when
/// `None`), newest first, at most `limit`: the writer's duplicate filter is loaded
/// from them at start, a page at a time.
pub async fn recent_client_messages(
    db: &impl ConnectionTrait,
    below: Option<i64>,
    limit: u64,
) -> Result<Vec<ClientMessage>, DbErr> {
    let mut q = client_messages();
    if let Some(below) = below {
        q = q.filter(chat_history::Column::Id.lt(below));
    }
    let rows: Vec<ClientMessageRow> = q
        .order_by_desc(chat_history::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().filter_map(to_client_message).collect())
}

/// The messages stored under these (sender, client message id) pairs among the
/// messages with ids above `above`: a message retried through another node of a
/// cluster is recognised here (the `(uid, id)` index keeps the search to the senders'
/// recent messages).
pub async fn stored_client_messages(
    db: &impl ConnectionTrait,
    keys: &[(i64, String)],
    above: i64,
) -> Result<Vec<ClientMessage>, DbErr> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut uids: Vec<i64> = keys.iter().map(|(u, _)| *u).collect();
    uids.sort_unstable();
    uids.dedup();
    let rows: Vec<ClientMessageRow> = client_messages()
        .filter(chat_history::Column::Uid.is_in(uids))
        .filter(chat_history::Column::Id.gt(above))
        .filter(chat_history::Column::ClientMsgId.is_in(keys.iter().map(|(_, c)| c.clone())))
        .into_tuple()
        .all(db)
        .await?;
    let wanted: std::collections::HashSet<(i64, &str)> =
        keys.iter().map(|(u, c)| (*u, c.as_str())).collect();
    Ok(rows
        .into_iter()
        .filter_map(to_client_message)
        .filter(|m| wanted.contains(&(m.uid, m.client_id.as_str())))
        .collect())
}

/// Number of main-room messages, for tests and diagnostics.
pub async fn count_room(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    room().count(db).await
}

#[cfg(test)]
mod tests {
    use super::TargetKind;

    /// The codes are stored data: they never change, and every kind has one.
    #[test]
    fn target_kinds_keep_their_stored_codes() {
        let pinned = [
            (TargetKind::Room, 0),
            (TargetKind::Group, 1),
            (TargetKind::User, 2),
        ];
        for (kind, code) in pinned {
            assert_eq!(kind.code(), code);
            assert_eq!(TargetKind::from_code(code), Some(kind));
        }
        assert_eq!(TargetKind::from_code(3), None);
        assert_eq!(TargetKind::from_code(-1), None);
    }
}
