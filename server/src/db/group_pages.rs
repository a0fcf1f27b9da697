//! Groups and their members read a page at a time, for the `groups` and
//! `group_members` listings (PROTOCOL §3.4): each page from where the one before
//! ended, by an index, so its cost does not grow with the number of groups or
//! members.

use sea_orm::sea_query::{Expr, ExprTrait, IntoCondition};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, JoinType, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::entity::{base_info, group_info, group_user_relation};
use super::groups::{FLAG_OPEN, Group, REL_MEMBER, Relation, groups, to_group};

/// Where a user stands in a group's lists: the relation row, whose `since` and id
/// order the lists of members and of waiting users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// One of the `REL_*` flags of [`super::groups`].
    pub flag: i16,
    /// When they last became a member (or asked).
    pub since: i64,
    /// The row's id: the order among equal `since`.
    pub id: i64,
}

type SeenRow = (
    i64,
    String,
    i64,
    String,
    i16,
    Option<String>,
    i64,
    i16,
    i16,
    Option<i16>,
    Option<i64>,
);

/// Up to `n` of the groups `uid` lists (every open group, and the closed ones `uid`
/// was a member of when they closed) with ids above `after`, oldest (lowest id)
/// first, each with `uid`'s relation to it: a page of the `groups` request.
///
/// One query walking the primary key from `after`, `uid`'s relation joined on the
/// unique (group, user) index, so a page costs the same however many groups there
/// are (closed groups `uid` was never in are skipped on the way).
pub async fn page_for(
    db: &impl ConnectionTrait,
    uid: i64,
    after: Option<i64>,
    n: usize,
) -> Result<Vec<(Group, Option<Relation>)>, DbErr> {
    use group_info::Column as G;
    use group_user_relation::Column as R;
    let mine = group_info::Entity::belongs_to(group_user_relation::Entity)
        .from(G::Id)
        .to(R::GroupId)
        .on_condition(move |_group, relation| {
            Expr::col((relation, R::Uid)).eq(uid).into_condition()
        })
        .into();
    let mut query = groups()
        .column(R::Flag)
        .column(R::Since)
        .join(JoinType::LeftJoin, mine)
        .filter(
            Condition::any()
                .add(G::Flag.eq(FLAG_OPEN))
                .add(R::Flag.eq(REL_MEMBER)),
        );
    if let Some(after) = after {
        query = query.filter(G::Id.gt(after));
    }
    let rows: Vec<SeenRow> = query
        .order_by_asc(G::Id)
        .limit(u64::try_from(n).unwrap_or(u64::MAX))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(
                id,
                name,
                creator,
                creator_name,
                group_type,
                comment,
                created,
                flag,
                full,
                rel,
                since,
            )| {
                let group = to_group((
                    id,
                    name,
                    creator,
                    creator_name,
                    group_type,
                    comment,
                    created,
                    flag,
                    full,
                ));
                let relation = rel.map(|flag| Relation {
                    flag,
                    since: since.unwrap_or(0),
                });
                (group, relation)
            },
        )
        .collect())
}

/// `uid`'s place in `group`'s lists, if they have a relation with it.
pub async fn place(
    db: &impl ConnectionTrait,
    group: i64,
    uid: i64,
) -> Result<Option<Place>, DbErr> {
    use group_user_relation::Column as R;
    let row: Option<(i16, i64, i64)> = group_user_relation::Entity::find()
        .select_only()
        .column(R::Flag)
        .column(R::Since)
        .column(R::Id)
        .filter(R::GroupId.eq(group))
        .filter(R::Uid.eq(uid))
        .into_tuple()
        .one(db)
        .await?;
    Ok(row.map(|(flag, since, id)| Place { flag, since, id }))
}

/// Up to `n` users with relation `flag` to `group`, as (id, name), in the order they
/// got it (`since`, then the row id), after the place `after` (`since`, row id) in
/// that order: a page of `group_members`, read through the index on
/// (group, flag, since, id) from where the page before ended.
pub async fn users_page(
    db: &impl ConnectionTrait,
    group: i64,
    flag: i16,
    after: Option<(i64, i64)>,
    n: usize,
) -> Result<Vec<(i64, String)>, DbErr> {
    use group_user_relation::Column as R;
    let mut query = group_user_relation::Entity::find()
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
        .filter(R::Flag.eq(flag));
    if let Some((since, id)) = after {
        query = query.filter(
            Condition::any()
                .add(R::Since.gt(since))
                .add(Condition::all().add(R::Since.eq(since)).add(R::Id.gt(id))),
        );
    }
    query
        .order_by_asc(R::Since)
        .order_by_asc(R::Id)
        .limit(u64::try_from(n).unwrap_or(u64::MAX))
        .into_tuple()
        .all(db)
        .await
}
