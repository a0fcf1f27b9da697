//! Groups (`group_info`) and memberships (`group_user_relation`).
//!
//! A group's name is unique for ever, by the same key as user names (case, width and
//! look-alikes ignored), enforced by the UNIQUE index on `name_key`. A user's standing
//! with a group is one relation row whose `flag` changes; `since` is when they last became
//! a member, the history cut-off of private groups.

use std::collections::HashMap;

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, SqlErr, TransactionTrait,
};

use super::entity::{base_info, group_info, group_user_relation};

/// `group_info.flag`: open.
pub const FLAG_OPEN: i16 = 0;
/// `group_info.flag`: closed by its creator (who left).
pub const FLAG_CLOSED: i16 = 1;
/// `group_info.flag`: closed by the administrator.
pub const FLAG_CLOSED_BY_ADMIN: i16 = 2;

/// `group_info.group_type`: anyone may join.
pub const TYPE_PUBLIC: i16 = 0;
/// `group_info.group_type`: joining needs the creator's approval.
pub const TYPE_PRIVATE: i16 = 1;

/// `group_user_relation.flag`: asked to join, waiting for the creator.
pub const REL_REQUESTED: i16 = 0;
/// `group_user_relation.flag`: a member.
pub const REL_MEMBER: i16 = 1;
/// `group_user_relation.flag`: removed by the creator, or the request was rejected.
pub const REL_REMOVED: i16 = 2;
/// `group_user_relation.flag`: left.
pub const REL_LEFT: i16 = 3;

/// A group with its creator's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Group id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Creator's account id.
    pub creator: i64,
    /// Creator's name.
    pub creator_name: String,
    /// Private (`TYPE_PRIVATE`) or not.
    pub private: bool,
    /// Comment.
    pub comment: Option<String>,
    /// Creation time.
    pub created: i64,
    /// [`FLAG_OPEN`], [`FLAG_CLOSED`] or [`FLAG_CLOSED_BY_ADMIN`].
    pub flag: i16,
    /// New members read the history from before they joined.
    pub full_history: bool,
}

impl Group {
    /// Whether the group is open.
    pub fn is_open(&self) -> bool {
        self.flag == FLAG_OPEN
    }
}

/// A user's relation row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relation {
    /// [`REL_REQUESTED`], [`REL_MEMBER`], [`REL_REMOVED`] or [`REL_LEFT`].
    pub flag: i16,
    /// When they last became a member (or asked).
    pub since: i64,
}

/// What a new group is made of.
#[derive(Debug, Clone, Copy)]
pub struct NewGroup<'a> {
    /// The creator.
    pub creator: i64,
    /// The name (already checked against the name rules).
    pub name: &'a str,
    /// Its uniqueness key.
    pub key: &'a str,
    /// Private or public.
    pub private: bool,
    /// Comment.
    pub comment: Option<&'a str>,
    /// New members read the whole history.
    pub full_history: bool,
    /// Now.
    pub now: i64,
}

/// Why [`create`] failed.
#[derive(Debug, thiserror::Error)]
pub enum CreateGroupError {
    /// The creator already has this many open groups.
    #[error("already {0} open groups")]
    TooMany(u64),
    /// The name (or one that looks the same) is taken.
    #[error("the name is taken")]
    NameTaken,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

pub(super) type GroupRow = (i64, String, i64, String, i16, Option<String>, i64, i16, i16);

pub(super) fn groups() -> sea_orm::Select<group_info::Entity> {
    use group_info::Column as G;
    group_info::Entity::find()
        .select_only()
        .column(G::Id)
        .column(G::Name)
        .column(G::Creator)
        .column(base_info::Column::Name)
        .column(G::GroupType)
        .column(G::Comment)
        .column(G::CreateTime)
        .column(G::Flag)
        .column(G::FullHistory)
        .join(
            sea_orm::JoinType::InnerJoin,
            group_info::Entity::belongs_to(base_info::Entity)
                .from(G::Creator)
                .to(base_info::Column::Id)
                .into(),
        )
}

pub(super) fn to_group(r: GroupRow) -> Group {
    let (id, name, creator, creator_name, group_type, comment, created, flag, full) = r;
    Group {
        id,
        name,
        creator,
        creator_name,
        private: group_type == TYPE_PRIVATE,
        comment,
        created,
        flag,
        full_history: full != 0,
    }
}

/// Make a group and its creator's membership, refusing a sixth open group (`max_open`)
/// and a taken name.
pub async fn create(
    db: &sea_orm::DatabaseConnection,
    g: NewGroup<'_>,
    max_open: u64,
) -> Result<i64, CreateGroupError> {
    // Written first, counted after: a transaction that starts by writing takes SQLite's
    // write lock at once (waiting its turn), where one that reads first and then writes
    // can fail with "database is locked" beside the store's writer.
    let txn = db.begin().await?;
    let row = group_info::ActiveModel {
        creator: Set(g.creator),
        name: Set(g.name.to_owned()),
        name_key: Set(g.key.as_bytes().to_vec()),
        create_time: Set(g.now),
        flag: Set(FLAG_OPEN),
        group_type: Set(if g.private { TYPE_PRIVATE } else { TYPE_PUBLIC }),
        comment: Set(g.comment.map(str::to_owned)),
        full_history: Set(i16::from(g.full_history)),
        ..Default::default()
    };
    let id = group_info::Entity::insert(row)
        .exec(&txn)
        .await
        .map_err(|e| match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => CreateGroupError::NameTaken,
            _ => CreateGroupError::Db(e),
        })?
        .last_insert_id;
    let open = group_info::Entity::find()
        .filter(group_info::Column::Creator.eq(g.creator))
        .filter(group_info::Column::Flag.eq(FLAG_OPEN))
        .count(&txn)
        .await?;
    if open > max_open {
        txn.rollback().await?;
        return Err(CreateGroupError::TooMany(open - 1));
    }
    set_relation(&txn, id, g.creator, REL_MEMBER, g.now).await?;
    txn.commit().await?;
    Ok(id)
}

/// A group by its name key.
pub async fn find_by_key(db: &impl ConnectionTrait, key: &str) -> Result<Option<Group>, DbErr> {
    let row: Option<GroupRow> = groups()
        .filter(group_info::Column::NameKey.eq(key.as_bytes().to_vec()))
        .into_tuple()
        .one(db)
        .await?;
    Ok(row.map(to_group))
}

/// Groups by id (those that exist).
pub async fn find_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<HashMap<i64, Group>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<GroupRow> = groups()
        .filter(group_info::Column::Id.is_in(ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(to_group).map(|g| (g.id, g)).collect())
}

/// Every open group, and the closed ones `uid` was a member of when they closed, oldest
/// first (for the console and search; the `groups` request reads pages:
/// [`super::group_pages::page_for`]).
pub async fn list_for(db: &impl ConnectionTrait, uid: i64) -> Result<Vec<Group>, DbErr> {
    let mine = relations_of(db, uid).await?;
    let rows: Vec<GroupRow> = groups()
        .order_by_asc(group_info::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(to_group)
        .filter(|g| g.is_open() || mine.get(&g.id).is_some_and(|r| r.flag == REL_MEMBER))
        .collect())
}

/// `uid`'s relation with `group`, if any.
pub async fn relation(
    db: &impl ConnectionTrait,
    group: i64,
    uid: i64,
) -> Result<Option<Relation>, DbErr> {
    let row: Option<(i16, i64)> = group_user_relation::Entity::find()
        .select_only()
        .column(group_user_relation::Column::Flag)
        .column(group_user_relation::Column::Since)
        .filter(group_user_relation::Column::GroupId.eq(group))
        .filter(group_user_relation::Column::Uid.eq(uid))
        .into_tuple()
        .one(db)
        .await?;
    Ok(row.map(|(flag, since)| Relation { flag, since }))
}

/// Every relation of `uid`, by group id.
pub async fn relations_of(
    db: &impl ConnectionTrait,
    uid: i64,
) -> Result<HashMap<i64, Relation>, DbErr> {
    let rows: Vec<(i64, i16, i64)> = group_user_relation::Entity::find()
        .select_only()
        .column(group_user_relation::Column::GroupId)
        .column(group_user_relation::Column::Flag)
        .column(group_user_relation::Column::Since)
        .filter(group_user_relation::Column::Uid.eq(uid))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(g, flag, since)| (g, Relation { flag, since }))
        .collect())
}

/// Set `uid`'s relation with `group` to `flag`. Becoming a member (or asking) from any
/// other state moves `since` to `now`.
pub async fn set_relation(
    db: &impl ConnectionTrait,
    group: i64,
    uid: i64,
    flag: i16,
    now: i64,
) -> Result<(), DbErr> {
    use group_user_relation::Column as R;
    let existing = relation(db, group, uid).await?;
    match existing {
        Some(old) => {
            let since = if flag != old.flag && (flag == REL_MEMBER || flag == REL_REQUESTED) {
                now
            } else {
                old.since
            };
            group_user_relation::Entity::update_many()
                .col_expr(R::Flag, sea_orm::sea_query::Expr::value(flag))
                .col_expr(R::Since, sea_orm::sea_query::Expr::value(since))
                .col_expr(R::UpdateTime, sea_orm::sea_query::Expr::value(now))
                .filter(R::GroupId.eq(group))
                .filter(R::Uid.eq(uid))
                .exec(db)
                .await?;
        }
        None => {
            let row = group_user_relation::ActiveModel {
                group_id: Set(group),
                uid: Set(uid),
                flag: Set(flag),
                since: Set(now),
                update_time: Set(now),
                ..Default::default()
            };
            group_user_relation::Entity::insert(row).exec(db).await?;
        }
    }
    Ok(())
}

/// The users with relation `flag` to `group`, as (id, name), in the order they got it.
pub async fn users_with(
    db: &impl ConnectionTrait,
    group: i64,
    flag: i16,
) -> Result<Vec<(i64, String)>, DbErr> {
    use group_user_relation::Column as R;
    group_user_relation::Entity::find()
        .select_only()
        .column(R::Uid)
        .column(base_info::Column::Name)
        .join(
            sea_orm::JoinType::InnerJoin,
            group_user_relation::Entity::belongs_to(base_info::Entity)
                .from(R::Uid)
                .to(base_info::Column::Id)
                .into(),
        )
        .filter(R::GroupId.eq(group))
        .filter(R::Flag.eq(flag))
        .order_by_asc(R::Since)
        .order_by_asc(R::Id)
        .into_tuple()
        .all(db)
        .await
}

/// How many members `group` has, counted by the database.
pub async fn member_count(db: &impl ConnectionTrait, group: i64) -> Result<u32, DbErr> {
    Ok(member_counts(db, &[group])
        .await?
        .get(&group)
        .copied()
        .unwrap_or(0))
}

/// Member counts of these groups.
pub async fn member_counts(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<HashMap<i64, u32>, DbErr> {
    use group_user_relation::Column as R;
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, i64)> = group_user_relation::Entity::find()
        .select_only()
        .column(R::GroupId)
        .column_as(R::Id.count(), "n")
        .filter(R::GroupId.is_in(ids.iter().copied()))
        .filter(R::Flag.eq(REL_MEMBER))
        .group_by(R::GroupId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(g, n)| (g, u32::try_from(n).unwrap_or(u32::MAX)))
        .collect())
}

/// Close a group with `flag` ([`FLAG_CLOSED`] or [`FLAG_CLOSED_BY_ADMIN`]). Returns false
/// if it was not open.
pub async fn close(db: &impl ConnectionTrait, group: i64, flag: i16) -> Result<bool, DbErr> {
    let res = group_info::Entity::update_many()
        .col_expr(
            group_info::Column::Flag,
            sea_orm::sea_query::Expr::value(flag),
        )
        .filter(group_info::Column::Id.eq(group))
        .filter(group_info::Column::Flag.eq(FLAG_OPEN))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// Open groups created by `uid` with users waiting for approval: (group, requester names).
pub async fn pending_for_creator(
    db: &impl ConnectionTrait,
    uid: i64,
) -> Result<Vec<(Group, Vec<String>)>, DbErr> {
    let rows: Vec<GroupRow> = groups()
        .filter(group_info::Column::Creator.eq(uid))
        .filter(group_info::Column::Flag.eq(FLAG_OPEN))
        .filter(group_info::Column::GroupType.eq(TYPE_PRIVATE))
        .order_by_asc(group_info::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let mut out = Vec::new();
    for g in rows.into_iter().map(to_group) {
        let waiting = users_with(db, g.id, REL_REQUESTED).await?;
        if !waiting.is_empty() {
            out.push((g, waiting.into_iter().map(|(_, n)| n).collect()));
        }
    }
    Ok(out)
}
